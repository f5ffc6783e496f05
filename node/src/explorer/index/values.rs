//! The values of the index's keys: running [`Total`]s and activity [`Listing`]s.

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

    /// Decodes a stored value: count (u64) then the sum's text (empty for overflow).
    pub fn decode(value: &[u8]) -> Result<Total, StoreError> {
        let corrupt = || StoreError::Corrupt("an explorer total does not parse".into());
        if value.len() < 8 {
            return Err(corrupt());
        }
        let count = u64::from_be_bytes(value[..8].try_into().map_err(|_| corrupt())?);
        let text = std::str::from_utf8(&value[8..]).map_err(|_| corrupt())?;
        let sum = if text.is_empty() {
            None
        } else {
            Some(text.parse::<Decimal>().map_err(|_| corrupt())?)
        };
        Ok(Total { count, sum })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut value = self.count.to_be_bytes().to_vec();
        if let Some(sum) = self.sum {
            // The scale is kept: 240000.00 + 1.50 is 240001.50, as the amounts were written.
            value.extend_from_slice(sum.to_string().as_bytes());
        }
        value
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

/// The value of an `a` key: (seq, record id) entries, seqs ascending, each 8 + 32 bytes.
pub struct Listing;

impl Listing {
    /// The entries of a stored listing.
    pub fn decode(value: &[u8]) -> Result<Vec<(u64, RecordId)>, StoreError> {
        if value.is_empty() || !value.len().is_multiple_of(LISTING_ENTRY_BYTES) {
            return Err(StoreError::Corrupt(
                "an explorer activity listing is not whole (seq, id) entries".into(),
            ));
        }
        value
            .chunks_exact(LISTING_ENTRY_BYTES)
            .map(|entry| {
                let (seq, id) = entry.split_at(SEQ_BYTES);
                let seq = u64::from_be_bytes(seq.try_into().unwrap_or_default());
                Ok((seq, record_id(id)?))
            })
            .collect()
    }

    pub(crate) fn push(value: &mut Vec<u8>, seq: u64, id: &RecordId) {
        value.extend_from_slice(&seq.to_be_bytes());
        value.extend_from_slice(&id.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_round_trips_and_keeps_exact_decimals() {
        let mut total = Total::zero();
        total.apply("0.1".parse().ok(), 1);
        total.apply("0.2".parse().ok(), 1);
        let decoded = Total::decode(&total.encode()).unwrap();
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
        assert_eq!(Total::decode(&total.encode()).unwrap().sum, None);
    }
}
