//! Sortable keys: the byte layout of keys in an ordered key-value store (sled), built by
//! [`SortKey`] and read back by [`SortKeyReader`].
//!
//! The canonical codec ([`crate::codec`]) is little endian, which does not sort: as bytes,
//! seq 256 (`00 01 …`) would come before seq 1 (`01 00 …`). A store key must sort in its
//! logical order so that a range scan is an ordered walk, so keys have their own layout
//! (FORMAT.md "Sortable keys"): integers are big endian and fixed width, strings carry a
//! big-endian length before them, ids are their raw 32 bytes. The parts follow one another
//! without separators; the reader must know the sequence of parts, as the writer did.
//!
//! Because a string's length comes first, keys that differ first in a string sort by that
//! string's length, then by its bytes: all keys of one author are contiguous and ordered by
//! what follows, which is what range scans need; the order *between* authors is only stable.

/// Bytes of an id part (a SHA-256 digest or an ed25519 public key).
pub const ID_BYTES: usize = 32;
/// Longest string of a [`SortKey::short_str`] part: its length is one byte.
pub const SHORT_STR_BYTES_MAX: usize = u8::MAX as usize;
/// Longest string of a [`SortKey::text`] part: its length is two bytes.
pub const TEXT_BYTES_MAX: usize = u16::MAX as usize;

/// Why a key could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SortKeyError {
    /// A string is longer than its length prefix can say.
    #[error("a key string of {bytes} bytes is longer than {max}")]
    TooLong {
        /// The string's length.
        bytes: usize,
        /// The most its prefix allows.
        max: usize,
    },
    /// The key ended inside a part.
    #[error("the key ended inside a part: {needed} byte(s) needed, {remaining} left")]
    Truncated {
        /// Bytes the part needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A string part is not UTF-8.
    #[error("a key string is not UTF-8")]
    NotUtf8,
    /// Bytes were left after the last part.
    #[error("{trailing} byte(s) after the key's last part")]
    TrailingBytes {
        /// How many.
        trailing: usize,
    },
}

/// Builds a sortable key part by part (see the module documentation for the layout).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SortKey(Vec<u8>);

impl SortKey {
    /// An empty key.
    pub fn new() -> SortKey {
        SortKey(Vec::new())
    }

    /// A key that starts with a one-byte tag naming its kind (as the explorer's index keys do).
    pub fn tagged(tag: u8) -> SortKey {
        SortKey(vec![tag])
    }

    /// Continues a key built earlier (a prefix kept as bytes).
    pub fn extend(prefix: impl Into<Vec<u8>>) -> SortKey {
        SortKey(prefix.into())
    }

    /// One byte.
    pub fn u8(mut self, value: u8) -> SortKey {
        self.0.push(value);
        self
    }

    /// Two bytes, big endian.
    pub fn u16(self, value: u16) -> SortKey {
        self.raw(&value.to_be_bytes())
    }

    /// Four bytes, big endian.
    pub fn u32(self, value: u32) -> SortKey {
        self.raw(&value.to_be_bytes())
    }

    /// Eight bytes, big endian.
    pub fn u64(self, value: u64) -> SortKey {
        self.raw(&value.to_be_bytes())
    }

    /// A 32-byte id, raw.
    pub fn id(self, id: &[u8; ID_BYTES]) -> SortKey {
        self.raw(id)
    }

    /// A string of at most [`SHORT_STR_BYTES_MAX`] bytes after a one-byte length (the store's
    /// author names). A longer string is refused, not cut: two authors must never share a key.
    pub fn short_str(mut self, text: &str) -> Result<SortKey, SortKeyError> {
        let length = u8::try_from(text.len()).map_err(|_| SortKeyError::TooLong {
            bytes: text.len(),
            max: SHORT_STR_BYTES_MAX,
        })?;
        self.0.push(length);
        self.0.extend_from_slice(text.as_bytes());
        Ok(self)
    }

    /// A string after a two-byte big-endian length (the explorer's index texts). A text longer
    /// than [`TEXT_BYTES_MAX`] is cut there, at a character boundary: index keys only group
    /// entries, and a record's texts are far shorter anyway (`SHORT_TEXT_BYTES_MAX`, with the
    /// whole record under `RECORD_SIZE_BYTES_MAX`), so the cut never merges real entries.
    pub fn text(self, text: &str) -> SortKey {
        let mut end = text.len().min(TEXT_BYTES_MAX);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let bytes = &text.as_bytes()[..end];
        // `end` ≤ TEXT_BYTES_MAX = u16::MAX, so the conversion cannot saturate.
        let length = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        self.u16(length).raw(bytes)
    }

    /// Bytes after an eight-byte big-endian length: a part with no bound of its own (the IATI
    /// import key's fields, FORMAT.md §21, whose input is hashed rather than stored).
    pub fn long_bytes(self, bytes: &[u8]) -> SortKey {
        // usize is at most 64 bits on every target Rust supports, so this never saturates.
        let length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.u64(length).raw(bytes)
    }

    /// Bytes with no length before them: only as the key's last part (or a part whose length
    /// the reader knows), since nothing marks where they end.
    pub fn raw(mut self, bytes: &[u8]) -> SortKey {
        self.0.extend_from_slice(bytes);
        self
    }

    /// The key so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The finished key.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl From<SortKey> for Vec<u8> {
    fn from(key: SortKey) -> Vec<u8> {
        key.0
    }
}

impl AsRef<[u8]> for SortKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Reads the parts of a sortable key back, in the order they were written.
#[derive(Clone, Debug)]
pub struct SortKeyReader<'a> {
    rest: &'a [u8],
}

impl<'a> SortKeyReader<'a> {
    /// A reader at the start of `key`.
    pub fn new(key: &'a [u8]) -> SortKeyReader<'a> {
        SortKeyReader { rest: key }
    }

    /// The next `count` bytes, raw.
    pub fn take(&mut self, count: usize) -> Result<&'a [u8], SortKeyError> {
        let Some((taken, rest)) = self.rest.split_at_checked(count) else {
            return Err(SortKeyError::Truncated {
                needed: count,
                remaining: self.rest.len(),
            });
        };
        self.rest = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SortKeyError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, SortKeyError> {
        Ok(self.array::<1>()?[0])
    }

    /// Two bytes, big endian.
    pub fn u16(&mut self) -> Result<u16, SortKeyError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Four bytes, big endian.
    pub fn u32(&mut self) -> Result<u32, SortKeyError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Eight bytes, big endian.
    pub fn u64(&mut self) -> Result<u64, SortKeyError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A 32-byte id.
    pub fn id(&mut self) -> Result<[u8; ID_BYTES], SortKeyError> {
        self.array()
    }

    /// A string after a one-byte length.
    pub fn short_str(&mut self) -> Result<&'a str, SortKeyError> {
        let length = usize::from(self.u8()?);
        let bytes = self.take(length)?;
        std::str::from_utf8(bytes).map_err(|_| SortKeyError::NotUtf8)
    }

    /// A string after a two-byte big-endian length.
    pub fn text(&mut self) -> Result<&'a str, SortKeyError> {
        let length = usize::from(self.u16()?);
        let bytes = self.take(length)?;
        std::str::from_utf8(bytes).map_err(|_| SortKeyError::NotUtf8)
    }

    /// Bytes after an eight-byte big-endian length.
    pub fn long_bytes(&mut self) -> Result<&'a [u8], SortKeyError> {
        let length = self.u64()?;
        match usize::try_from(length) {
            Ok(length) => self.take(length),
            Err(_) => Err(SortKeyError::Truncated {
                needed: usize::MAX,
                remaining: self.rest.len(),
            }),
        }
    }

    /// Every byte not read yet (a final raw part).
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// How many bytes are not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Checks that the whole key was read.
    pub fn finish(self) -> Result<(), SortKeyError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(SortKeyError::TrailingBytes {
                trailing: self.rest.len(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One part of a key, for the round-trip property.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Part {
        U8(u8),
        U16(u16),
        U32(u32),
        U64(u64),
        Id([u8; ID_BYTES]),
        Short(String),
        Text(String),
        Long(Vec<u8>),
    }

    fn part() -> impl Strategy<Value = Part> {
        prop_oneof![
            any::<u8>().prop_map(Part::U8),
            any::<u16>().prop_map(Part::U16),
            any::<u32>().prop_map(Part::U32),
            any::<u64>().prop_map(Part::U64),
            any::<[u8; ID_BYTES]>().prop_map(Part::Id),
            "\\PC{0,60}".prop_map(Part::Short),
            "\\PC{0,300}".prop_map(Part::Text),
            proptest::collection::vec(any::<u8>(), 0..100).prop_map(Part::Long),
        ]
    }

    fn build(parts: &[Part]) -> Vec<u8> {
        let mut key = SortKey::new();
        for part in parts {
            key = match part {
                Part::U8(value) => key.u8(*value),
                Part::U16(value) => key.u16(*value),
                Part::U32(value) => key.u32(*value),
                Part::U64(value) => key.u64(*value),
                Part::Id(id) => key.id(id),
                Part::Short(text) => key.short_str(text).unwrap(),
                Part::Text(text) => key.text(text),
                Part::Long(bytes) => key.long_bytes(bytes),
            };
        }
        key.into_bytes()
    }

    fn read(shape: &[Part], key: &[u8]) -> Result<Vec<Part>, SortKeyError> {
        let mut reader = SortKeyReader::new(key);
        let mut parts = Vec::new();
        for part in shape {
            parts.push(match part {
                Part::U8(_) => Part::U8(reader.u8()?),
                Part::U16(_) => Part::U16(reader.u16()?),
                Part::U32(_) => Part::U32(reader.u32()?),
                Part::U64(_) => Part::U64(reader.u64()?),
                Part::Id(_) => Part::Id(reader.id()?),
                Part::Short(_) => Part::Short(reader.short_str()?.to_owned()),
                Part::Text(_) => Part::Text(reader.text()?.to_owned()),
                Part::Long(_) => Part::Long(reader.long_bytes()?.to_vec()),
            });
        }
        reader.finish()?;
        Ok(parts)
    }

    proptest! {
        #[test]
        fn parts_round_trip(parts in proptest::collection::vec(part(), 0..8)) {
            let key = build(&parts);
            prop_assert_eq!(read(&parts, &key)?, parts);
        }

        #[test]
        fn a_cut_key_is_refused_not_misread(
            parts in proptest::collection::vec(part(), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let key = build(&parts);
            prop_assume!(!key.is_empty());
            let cut = cut.index(key.len());
            prop_assert!(read(&parts, &key[..cut]).is_err());
        }

        /// Within one author, byte order is seq order: a range scan walks a chain in order.
        #[test]
        fn byte_order_is_the_logical_order(
            author in "\\PC{0,40}",
            a in any::<u64>(),
            b in any::<u64>(),
            id_a in any::<[u8; ID_BYTES]>(),
            id_b in any::<[u8; ID_BYTES]>(),
        ) {
            let key = |seq: u64, id: &[u8; ID_BYTES]| {
                SortKey::new().short_str(&author).unwrap().u64(seq).id(id).into_bytes()
            };
            prop_assert_eq!(key(a, &id_a).cmp(&key(b, &id_b)), (a, id_a).cmp(&(b, id_b)));
            let text = |seq: u64| SortKey::tagged(b'a').text(&author).u64(seq).into_bytes();
            prop_assert_eq!(text(a).cmp(&text(b)), a.cmp(&b));
        }

        /// Every key of one author shares the author's prefix and no other author's.
        #[test]
        fn an_authors_keys_share_a_prefix_no_other_author_has(
            a in "\\PC{0,20}",
            b in "\\PC{0,20}",
            seq in any::<u64>(),
        ) {
            prop_assume!(a != b);
            let prefix = SortKey::new().short_str(&a).unwrap().into_bytes();
            let other = SortKey::new().short_str(&b).unwrap().u64(seq).into_bytes();
            prop_assert!(!other.starts_with(&prefix));
        }
    }

    /// The store's `records` key of ("org", 258), byte for byte as node/src/store.rs has
    /// written it since version 1; `proofs`, `pending` and `revoked` append ids.
    #[test]
    fn golden_chain_key() {
        let key = SortKey::new().short_str("org").unwrap().u64(258);
        assert_eq!(hex::encode(key.as_bytes()), "036f72670000000000000102");
        let pending = key.id(&[0xab; ID_BYTES]).into_bytes();
        assert_eq!(
            hex::encode(&pending),
            format!("036f72670000000000000102{}", "ab".repeat(32))
        );
        let mut reader = SortKeyReader::new(&pending);
        assert_eq!(reader.short_str().unwrap(), "org");
        assert_eq!(reader.u64().unwrap(), 258);
        assert_eq!(reader.id().unwrap(), [0xab; ID_BYTES]);
        reader.finish().unwrap();
    }

    /// The explorer's `f` (flow) key: tag, three u16-prefixed texts, the kind, the currency.
    #[test]
    fn golden_explorer_key() {
        let key = SortKey::tagged(b'f')
            .text("act")
            .text("p")
            .text("r")
            .u8(3)
            .text("EUR")
            .into_bytes();
        assert_eq!(hex::encode(&key), "660003616374000170000172030003455552");
        let mut reader = SortKeyReader::new(&key[1..]);
        assert_eq!(reader.text().unwrap(), "act");
        assert_eq!(reader.text().unwrap(), "p");
        assert_eq!(reader.text().unwrap(), "r");
        assert_eq!(reader.u8().unwrap(), 3);
        assert_eq!(reader.text().unwrap(), "EUR");
        reader.finish().unwrap();
    }

    #[test]
    fn an_author_too_long_for_a_key_is_refused() {
        let long = "a".repeat(SHORT_STR_BYTES_MAX + 1);
        assert_eq!(
            SortKey::new().short_str(&long),
            Err(SortKeyError::TooLong {
                bytes: SHORT_STR_BYTES_MAX + 1,
                max: SHORT_STR_BYTES_MAX
            })
        );
        assert!(SortKey::new().short_str(&long[1..]).is_ok());
    }

    #[test]
    fn a_long_text_is_cut_at_a_character_boundary() {
        let long = format!("{}é", "a".repeat(TEXT_BYTES_MAX - 1));
        let key = SortKey::new().text(&long).into_bytes();
        let mut reader = SortKeyReader::new(&key);
        assert_eq!(reader.text().unwrap(), "a".repeat(TEXT_BYTES_MAX - 1));
        reader.finish().unwrap();
    }
}
