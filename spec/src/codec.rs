//! The one canonical encoding: bincode 2.0.1 with a fixed configuration.
//!
//! Every byte that is hashed or signed goes through [`encode`]; every byte that is read goes
//! through [`decode_exact`], which rejects trailing bytes and over-limit lengths. FORMAT.md
//! states the resulting wire rules (little endian, fixed-width integers, u64 length prefixes).
//!
//! Formats that are exchanged but never hashed or signed (the submit batch, the sync frames)
//! are written in the same layout by [`Codec`], this crate's own encoder and decoder, in the
//! style of rustls: each length-prefixed field is read with its own bound
//! ([`Reader::bytes`], [`Reader::count`], [`Bytes`], [`List`]), checked before anything is
//! allocated, instead of one budget for the whole input. bincode's configuration has one
//! limit, sized for a record; a sync response holds many records, so it needs per-field bounds
//! rather than a second, larger configuration. A test checks that both write the same bytes.

use bincode::config::{Configuration, Fixint, Limit, LittleEndian};

use crate::limits::RECORD_SIZE_BYTES_MAX;

/// The bincode configuration of the protocol: little endian, fixed-width integers, and a
/// decode limit so that a hostile length prefix cannot make us allocate more than a record.
pub type WireConfig = Configuration<LittleEndian, Fixint, Limit<RECORD_SIZE_BYTES_MAX>>;

/// The protocol's bincode configuration.
pub const fn wire_config() -> WireConfig {
    bincode::config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<RECORD_SIZE_BYTES_MAX>()
}

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes do not form a value of the expected structure.
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// The value ended before the input did.
    #[error("{trailing} trailing byte(s) after the value")]
    TrailingBytes {
        /// How many bytes were left over.
        trailing: usize,
    },
    /// The input ended inside a value.
    #[error("the input ends inside {what}: {needed} byte(s) needed, {remaining} left")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes it needs.
        needed: u64,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A length or count prefix is over its field's bound.
    #[error("{what} declares {length}, over its bound of {max}")]
    TooLong {
        /// The field.
        what: &'static str,
        /// The declared length or count.
        length: u64,
        /// The field's bound.
        max: usize,
    },
    /// A list that must hold something is empty.
    #[error("{what} is empty")]
    Empty {
        /// The field.
        what: &'static str,
    },
    /// An enum's variant index that the type does not have.
    #[error("{what} has no variant {index}")]
    UnknownVariant {
        /// The enum.
        what: &'static str,
        /// The index read.
        index: u32,
    },
    /// A text field is not UTF-8.
    #[error("{what} is not UTF-8")]
    NotUtf8 {
        /// The field.
        what: &'static str,
    },
}

/// Encodes a value canonically.
pub fn encode<T: bincode::Encode>(value: &T) -> Vec<u8> {
    // Encoding into a Vec cannot fail for our types: no I/O, and the only fallible encoders
    // (non-UTF-8 paths, RefCell borrows) are not used by any protocol type.
    match bincode::encode_to_vec(value, wire_config()) {
        Ok(bytes) => bytes,
        Err(error) => unreachable!("protocol types always encode: {error}"),
    }
}

/// Decodes a value that must occupy `bytes` exactly.
pub fn decode_exact<T: bincode::Decode<()>>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (value, used) = decode_prefix(bytes)?;
    if used != bytes.len() {
        return Err(DecodeError::TrailingBytes {
            trailing: bytes.len() - used,
        });
    }
    Ok(value)
}

/// Decodes a value from the start of `bytes`, returning it and how many bytes it used.
pub fn decode_prefix<T: bincode::Decode<()>>(bytes: &[u8]) -> Result<(T, usize), DecodeError> {
    bincode::decode_from_slice(bytes, wire_config())
        .map_err(|error| DecodeError::Malformed(error.to_string()))
}

/// A value in the layout of §2 (FORMAT.md) with bounds of its own: the encoder and decoder of
/// formats that are exchanged but not hashed or signed. A length-prefixed field is decoded
/// through [`Reader::bytes`], [`Reader::text`] or [`Reader::count`] with its bound, so a
/// hostile prefix is refused before anything is allocated.
pub trait Codec: Sized {
    /// Appends the value's encoding.
    fn write(&self, out: &mut Vec<u8>);

    /// Reads one value from the reader's position.
    fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// The value's encoding.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    /// Decodes a value that must occupy `bytes` exactly.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let value = Self::read(&mut reader)?;
        reader.finish()?;
        Ok(value)
    }
}

/// Bytes of a length or count prefix (u64, little endian, §2).
pub const LENGTH_PREFIX_BYTES: usize = 8;
/// Bytes of an enum's variant index (u32, little endian, §2).
pub const VARIANT_INDEX_BYTES: usize = 4;

/// Appends a length or count prefix.
pub fn write_length(out: &mut Vec<u8>, length: usize) {
    // usize is at most 64 bits on every target Rust supports, so this never saturates.
    out.extend_from_slice(&u64::try_from(length).unwrap_or(u64::MAX).to_le_bytes());
}

/// Appends a byte string: its length, then the bytes (a `Vec<u8>` or `String` of §2).
pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_length(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Appends an enum's variant index.
pub fn write_variant(out: &mut Vec<u8>, index: u32) {
    out.extend_from_slice(&index.to_le_bytes());
}

/// Reads untrusted bytes in the layout of §2, each length against a bound given by the caller.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Checks that everything was read.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.rest.len() {
            0 => Ok(()),
            trailing => Err(DecodeError::TrailingBytes { trailing }),
        }
    }

    /// The next `count` bytes, borrowed.
    pub fn take(&mut self, count: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let Some((taken, rest)) = self.rest.split_at_checked(count) else {
            return Err(DecodeError::Truncated {
                what,
                needed: count as u64,
                remaining: self.rest.len(),
            });
        };
        self.rest = rest;
        Ok(taken)
    }

    /// A fixed-size byte array (digests, keys: raw, no length).
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// A u32, little endian.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// A u64, little endian.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// An enum's variant index.
    pub fn variant(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.u32(what)
    }

    /// A length prefix of at most `max`.
    fn length(&mut self, max: usize, what: &'static str) -> Result<usize, DecodeError> {
        let length = self.u64(what)?;
        match usize::try_from(length) {
            Ok(length) if length <= max => Ok(length),
            _ => Err(DecodeError::TooLong { what, length, max }),
        }
    }

    /// A byte string of at most `MAX` bytes, borrowed: the length is checked against `MAX`
    /// and against the input before anything is taken.
    pub fn bytes<const MAX: usize>(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let length = self.length(MAX, what)?;
        self.take(length, what)
    }

    /// A UTF-8 text of at most `MAX` bytes, borrowed.
    pub fn text<const MAX: usize>(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes::<MAX>(what)?).map_err(|_| DecodeError::NotUtf8 { what })
    }

    /// A list's element count, at most `MAX`. The caller reads that many elements; it may
    /// reserve `count` of them, since `MAX` bounds the reservation.
    pub fn count<const MAX: usize>(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        self.length(MAX, what)
    }
}

impl Codec for u32 {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }

    fn read(reader: &mut Reader<'_>) -> Result<u32, DecodeError> {
        reader.u32("a u32")
    }
}

impl Codec for u64 {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }

    fn read(reader: &mut Reader<'_>) -> Result<u64, DecodeError> {
        reader.u64("a u64")
    }
}

impl<const N: usize> Codec for [u8; N] {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }

    fn read(reader: &mut Reader<'_>) -> Result<[u8; N], DecodeError> {
        reader.array("a byte array")
    }
}

/// A byte string of at most `MAX` bytes (encoded as a `Vec<u8>` of §2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytes<const MAX: usize>(pub Vec<u8>);

impl<const MAX: usize> Codec for Bytes<MAX> {
    fn write(&self, out: &mut Vec<u8>) {
        write_bytes(out, &self.0);
    }

    fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Bytes(reader.bytes::<MAX>("a byte string")?.to_vec()))
    }
}

/// A UTF-8 text of at most `MAX` bytes (encoded as a `String` of §2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text<const MAX: usize>(pub String);

impl<const MAX: usize> Codec for Text<MAX> {
    fn write(&self, out: &mut Vec<u8>) {
        write_bytes(out, self.0.as_bytes());
    }

    fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Text(reader.text::<MAX>("a text")?.to_owned()))
    }
}

/// A list of at most `MAX` elements (encoded as a `Vec<T>` of §2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct List<T, const MAX: usize>(pub Vec<T>);

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<T: Codec, const MAX: usize> Codec for List<T, MAX> {
    fn write(&self, out: &mut Vec<u8>) {
        write_list(out, &self.0);
    }

    fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_list::<T, MAX>(reader, "a list").map(List)
    }
}

/// Appends a list: its count, then each element.
pub fn write_list<T: Codec>(out: &mut Vec<u8>, items: &[T]) {
    write_length(out, items.len());
    for item in items {
        item.write(out);
    }
}

/// Reads a list of at most `MAX` elements.
pub fn read_list<T: Codec, const MAX: usize>(
    reader: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<T>, DecodeError> {
    let count = reader.count::<MAX>(what)?;
    // Every element of our formats takes at least one byte, so no more than the bytes left
    // can be elements: a count the input cannot hold reserves no more than the input's size.
    let mut items = Vec::with_capacity(count.min(reader.remaining()));
    for _ in 0..count {
        items.push(T::read(reader)?);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A structure of every shape [`Codec`] writes, to compare with bincode's bytes.
    #[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
    struct Shapes {
        number: u64,
        small: u32,
        id: [u8; 32],
        text: String,
        bytes: Vec<u8>,
        list: Vec<Vec<u8>>,
    }

    impl Codec for Shapes {
        fn write(&self, out: &mut Vec<u8>) {
            self.number.write(out);
            self.small.write(out);
            self.id.write(out);
            write_bytes(out, self.text.as_bytes());
            write_bytes(out, &self.bytes);
            write_length(out, self.list.len());
            for item in &self.list {
                write_bytes(out, item);
            }
        }

        fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(Shapes {
                number: u64::read(reader)?,
                small: u32::read(reader)?,
                id: <[u8; 32]>::read(reader)?,
                text: Text::<64>::read(reader)?.0,
                bytes: Bytes::<64>::read(reader)?.0,
                list: List::<Bytes<64>, 8>::read(reader)?
                    .0
                    .into_iter()
                    .map(|bytes| bytes.0)
                    .collect(),
            })
        }
    }

    fn shapes() -> impl Strategy<Value = Shapes> {
        (
            any::<u64>(),
            any::<u32>(),
            any::<[u8; 32]>(),
            "\\PC{0,16}",
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
        )
            .prop_map(|(number, small, id, text, bytes, list)| Shapes {
                number,
                small,
                id,
                text,
                bytes,
                list,
            })
    }

    proptest! {
        /// One layout: what `Codec` writes is what bincode writes, and each reads the other's.
        #[test]
        fn codec_and_bincode_write_the_same_bytes(value in shapes()) {
            let ours = value.to_bytes();
            prop_assert_eq!(&ours, &encode(&value));
            prop_assert_eq!(Shapes::from_bytes(&ours)?, value.clone());
            prop_assert_eq!(decode_exact::<Shapes>(&ours)?, value);
        }

        #[test]
        fn a_cut_value_is_refused(value in shapes(), cut in any::<prop::sample::Index>()) {
            let bytes = value.to_bytes();
            prop_assert!(Shapes::from_bytes(&bytes[..cut.index(bytes.len())]).is_err());
        }
    }

    #[test]
    fn a_length_over_its_bound_is_refused_before_reading() {
        // 65 bytes claimed where 64 are allowed: refused though the input holds them.
        let mut bytes = Vec::new();
        write_bytes(&mut bytes, &[7; 65]);
        assert_eq!(
            Bytes::<64>::from_bytes(&bytes),
            Err(DecodeError::TooLong {
                what: "a byte string",
                length: 65,
                max: 64
            })
        );
        // A count of 2^63 elements within the bound of usize::MAX reserves nothing of that size.
        let mut huge = Vec::new();
        write_length(&mut huge, 1 << 63);
        assert!(matches!(
            List::<u64, { usize::MAX }>::from_bytes(&huge),
            Err(DecodeError::Truncated { .. })
        ));
        assert!(matches!(
            Text::<4>::from_bytes(&[2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]),
            Err(DecodeError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn golden_bytes() {
        let value = List::<Bytes<8>, 2>(vec![Bytes(vec![1, 2]), Bytes(vec![])]);
        assert_eq!(
            hex::encode(value.to_bytes()),
            "0200000000000000020000000000000001020000000000000000"
        );
        assert_eq!(
            List::<Bytes<8>, 1>::from_bytes(&value.to_bytes()),
            Err(DecodeError::TooLong {
                what: "a list",
                length: 2,
                max: 1
            })
        );
    }
}
