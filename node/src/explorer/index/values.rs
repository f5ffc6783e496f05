//! The values of the index's keys: running [`Total`]s and activity [`Listing`]s.

use aidledger_spec::codec::{write_bytes, write_list, Codec, DecodeError, List, Reader};

use super::*;

/// A running total: how many transactions and their exact sum (`None` once the sum left
/// `Decimal`'s range, shown as "overflow" rather than a wrong number).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Total {
    /// Transactions counted.
    pub count: u64,
    /// Their sum; `None` on overflow.
    pub sum: Option<Decimal>,
}

impl Total {
    pub(crate) fn zero() -> Total {
        Total {
            count: 0,
            sum: Some(Decimal::ZERO),
        }
    }

    /// Decodes the stored value of `key`: count (`u64`), then the sum as an `Option` of a
    /// text (§2 layout, little endian; `None` for overflow).
    pub fn decode(key: &[u8], value: &[u8]) -> Result<Total, StoreError> {
        Total::from_bytes(value).map_err(|error| corrupt_value(key, "total", &error))
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        self.to_bytes()
    }

    /// Adds (`sign` +1) or removes (−1) one transaction's amount.
    pub(crate) fn apply(&mut self, amount: Option<Decimal>, sign: i8) {
        if sign >= 0 {
            self.count += 1;
            self.sum = self.sum.zip(amount).and_then(|(sum, a)| sum.checked_add(a));
        } else {
            self.count = self.count.saturating_sub(1);
            self.sum = self.sum.zip(amount).and_then(|(sum, a)| sum.checked_sub(a));
        }
    }
}

impl Codec for Total {
    fn write(&self, out: &mut Vec<u8>) {
        self.count.write(out);
        // An Option of §2: a tag byte, then the value if there is one. The sum is kept as its
        // text so that the scale is kept: 240000.00 + 1.50 is 240001.50, as the amounts were
        // written.
        match self.sum {
            Some(sum) => {
                out.push(1);
                write_bytes(out, sum.to_string().as_bytes());
            }
            None => out.push(0),
        }
    }

    fn read(reader: &mut Reader<'_>) -> Result<Total, DecodeError> {
        let count = reader.u64("a total's count")?;
        let sum = match reader.array::<1>("a total's sum tag")? {
            [0] => None,
            [1] => {
                let text = reader.text::<SUM_TEXT_BYTES_MAX>("a total's sum")?;
                Some(text.parse::<Decimal>().map_err(|error| {
                    DecodeError::Malformed(format!("a total's sum {text:?}: {error}"))
                })?)
            }
            [tag] => {
                return Err(DecodeError::Malformed(format!(
                    "a total's sum tag is {tag}, not 0 or 1"
                )))
            }
        };
        Ok(Total { count, sum })
    }
}

/// Most bytes of a total's sum as text: a `Decimal` is at most 29 digits, a sign and a point
/// (32); twice that leaves room without letting a hostile length allocate.
const SUM_TEXT_BYTES_MAX: usize = 64;

/// One entry of a [`Listing`]: a record's seq and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ListingEntry {
    pub(crate) seq: u64,
    pub(crate) id: RecordId,
}

impl Codec for ListingEntry {
    fn write(&self, out: &mut Vec<u8>) {
        self.seq.write(out);
        self.id.0.write(out);
    }

    fn read(reader: &mut Reader<'_>) -> Result<ListingEntry, DecodeError> {
        let seq = reader.u64("a listing entry's seq")?;
        let id = aidledger_spec::Digest(reader.array("a listing entry's id")?);
        Ok(ListingEntry { seq, id })
    }
}

/// The value of an `a` key: a list (§2: `u64` count, then the entries) of at most
/// [`LISTING_ENTRIES_MAX`] (seq, record id) entries, seqs ascending, never empty.
pub struct Listing;

impl Listing {
    /// The entries of the stored listing of `key`.
    pub fn decode(key: &[u8], value: &[u8]) -> Result<Vec<(u64, RecordId)>, StoreError> {
        let List(entries) = List::<ListingEntry, LISTING_ENTRIES_MAX>::from_bytes(value)
            .map_err(|error| corrupt_value(key, "activity listing", &error))?;
        if entries.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "the explorer activity listing at key {} is empty",
                hex::encode(key)
            )));
        }
        Ok(entries
            .into_iter()
            .map(|entry| (entry.seq, entry.id))
            .collect())
    }

    /// The value of a listing of `entries`.
    pub(crate) fn encode(entries: &[ListingEntry]) -> Vec<u8> {
        let mut value = Vec::new();
        write_list(&mut value, entries);
        value
    }
}

/// A stored `u64` (`what`: the `K` or `p` count): little endian, as every value of §2.
pub(crate) fn decode_count(key: &[u8], value: &[u8], what: &str) -> Result<u64, StoreError> {
    u64::from_bytes(value).map_err(|error| corrupt_value(key, what, &error))
}

/// The error of a value that does not decode, naming its key (hex: keys hold binary parts).
fn corrupt_value(key: &[u8], what: &str, error: &DecodeError) -> StoreError {
    StoreError::Corrupt(format!(
        "the explorer {what} at key {} does not parse: {error}",
        hex::encode(key)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn total_has_the_golden_bytes() {
        let total = Total {
            count: 2,
            sum: "0.30".parse().ok(),
        };
        // count (u64 LE) ‖ Some tag ‖ text length (u64 LE) ‖ "0.30"
        assert_eq!(
            hex::encode(total.encode()),
            "0200000000000000010400000000000000302e3330"
        );
        let overflow = Total {
            count: 3,
            sum: None,
        };
        assert_eq!(hex::encode(overflow.encode()), "030000000000000000");
    }

    #[test]
    fn listing_has_the_golden_bytes() {
        let entries = [
            ListingEntry {
                seq: 1,
                id: aidledger_spec::Digest([0xab; 32]),
            },
            ListingEntry {
                seq: 0x0102,
                id: aidledger_spec::Digest([0x01; 32]),
            },
        ];
        // entry count (u64 LE), then each entry: seq (u64 LE) ‖ id
        let expected = "0200000000000000".to_owned()
            + "0100000000000000"
            + &"ab".repeat(32)
            + "0201000000000000"
            + &"01".repeat(32);
        assert_eq!(hex::encode(Listing::encode(&entries)), expected);
        let one = "0100000000000000".to_owned() + "0100000000000000" + &"ab".repeat(32);
        assert_eq!(hex::encode(Listing::encode(&entries[..1])), one);
    }

    #[test]
    fn a_value_that_does_not_decode_is_corrupt_and_names_its_key() {
        let key = b"t\x00key";
        for (value, what) in [
            (&b"\x01\x00"[..], "total"),
            (&b"\x01\x00\x00\x00\x00\x00\x00\x00\x02"[..], "total"),
        ] {
            let error = Total::decode(key, value).unwrap_err();
            assert!(
                matches!(&error, StoreError::Corrupt(message)
                if message.contains(what) && message.contains(&hex::encode(key))),
                "{error}"
            );
        }
        let mut bad_sum = Total::zero().encode();
        bad_sum.truncate(9);
        bad_sum.extend_from_slice(&3u64.to_le_bytes());
        bad_sum.extend_from_slice(b"abc");
        assert!(matches!(
            Total::decode(key, &bad_sum),
            Err(StoreError::Corrupt(_))
        ));
        // An empty listing, a count over the bound, a truncated entry.
        let empty = Listing::encode(&[]);
        let mut over = Vec::new();
        codec::write_length(&mut over, LISTING_ENTRIES_MAX + 1);
        let mut truncated = Listing::encode(&[ListingEntry {
            seq: 1,
            id: aidledger_spec::Digest([0; 32]),
        }]);
        truncated.pop();
        for value in [empty, over, truncated] {
            let error = Listing::decode(b"a", &value).unwrap_err();
            assert!(
                matches!(&error, StoreError::Corrupt(message)
                if message.contains("listing") && message.contains(&hex::encode(b"a"))),
                "{error}"
            );
        }
        let error = decode_count(b"p", &[0; 4], "early acknowledgement count").unwrap_err();
        assert!(
            error.to_string().contains("early acknowledgement count"),
            "{error}"
        );
    }

    fn decimal() -> impl Strategy<Value = Decimal> {
        (any::<i64>(), 0u32..=28).prop_map(|(mantissa, scale)| {
            Decimal::from_i128_with_scale(i128::from(mantissa), scale)
        })
    }

    proptest! {
        #[test]
        fn totals_round_trip(count in any::<u64>(), sum in proptest::option::of(decimal())) {
            let total = Total { count, sum };
            let decoded = Total::decode(b"t", &total.encode()).unwrap();
            // Equal as numbers and as written (the scale is kept).
            prop_assert_eq!(decoded.sum.map(|sum| sum.to_string()), sum.map(|sum| sum.to_string()));
            prop_assert_eq!(decoded, total);
        }

        #[test]
        fn listings_round_trip(
            entries in proptest::collection::vec(
                (any::<u64>(), any::<[u8; 32]>()),
                1..=LISTING_ENTRIES_MAX,
            )
        ) {
            let entries: Vec<ListingEntry> = entries
                .into_iter()
                .map(|(seq, id)| ListingEntry { seq, id: aidledger_spec::Digest(id) })
                .collect();
            let decoded = Listing::decode(b"a", &Listing::encode(&entries)).unwrap();
            let expected: Vec<(u64, RecordId)> =
                entries.iter().map(|entry| (entry.seq, entry.id)).collect();
            prop_assert_eq!(decoded, expected);
        }
    }

    #[test]
    fn total_round_trips_and_keeps_exact_decimals() {
        let mut total = Total::zero();
        total.apply("0.1".parse().ok(), 1);
        total.apply("0.2".parse().ok(), 1);
        let decoded = Total::decode(b"t", &total.encode()).unwrap();
        assert_eq!(decoded.count, 2);
        assert_eq!(decoded.sum.unwrap().to_string(), "0.3");
        let mut scaled = Total::zero();
        scaled.apply("240000.00".parse().ok(), 1);
        scaled.apply("1.50".parse().ok(), 1);
        assert_eq!(scaled.sum.unwrap().to_string(), "240001.50");
    }

    #[test]
    fn total_shows_overflow_instead_of_a_wrong_sum() {
        let mut total = Total::zero();
        total.apply(Some(Decimal::MAX), 1);
        total.apply(Some(Decimal::MAX), 1);
        assert_eq!(total.sum, None);
        assert_eq!(Total::decode(b"t", &total.encode()).unwrap().sum, None);
    }
}
