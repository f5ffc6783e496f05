//! The submit batch: many bodies in one request to a node's local submit API
//! (`POST /v1/records/batch`, FORMAT.md §20). The CLI writes it, the node reads it; both
//! through this module, in the layout of §2: a `Vec<Vec<u8>>`, each element one canonical body.
//!
//! No byte of it is hashed or signed; it is decoded from an untrusted client, so the count and
//! every body's length are checked against their bounds before anything is taken.

use crate::codec::{write_bytes, write_length, Codec, DecodeError, Reader};
use crate::limits::BODY_SIZE_BYTES_MAX;

/// Most bodies in one batch.
pub const BATCH_RECORDS_MAX: usize = 1024;

/// Why a batch's framing is refused (before any body is looked at).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchFrameError {
    /// The request ends inside the count, a length or a body.
    #[error("the batch ends early: {0}")]
    Truncated(String),
    /// The count is 0 or over [`BATCH_RECORDS_MAX`].
    #[error("the batch holds {0} bodies; it must hold 1 to {BATCH_RECORDS_MAX}")]
    Count(u64),
    /// One body is over the protocol's body limit.
    #[error("body {index} is {size_bytes} bytes, over the {BODY_SIZE_BYTES_MAX}-byte limit")]
    BodyTooLarge {
        /// Its position in the batch, from 0.
        index: usize,
        /// Its declared size.
        size_bytes: u64,
    },
    /// Bytes follow the last body.
    #[error("{0} bytes follow the last body")]
    TrailingBytes(usize),
}

/// Encodes a batch: the count (u64 LE), then each body's length (u64 LE) and bytes.
pub fn encode_batch<B: AsRef<[u8]>>(bodies: &[B]) -> Vec<u8> {
    let size: usize = bodies
        .iter()
        .map(|body| body.as_ref().len() + crate::codec::LENGTH_PREFIX_BYTES)
        .sum();
    let mut out = Vec::with_capacity(size + crate::codec::LENGTH_PREFIX_BYTES);
    write_length(&mut out, bodies.len());
    for body in bodies {
        write_bytes(&mut out, body.as_ref());
    }
    out
}

/// Splits a batch into its bodies' bytes (borrowed, nothing copied), checking the count
/// (1 to [`BATCH_RECORDS_MAX`]) and each length (at most [`BODY_SIZE_BYTES_MAX`]) as it is read.
pub fn decode_batch(bytes: &[u8]) -> Result<Vec<&[u8]>, BatchFrameError> {
    let mut reader = Reader::new(bytes);
    let count = match reader.count::<BATCH_RECORDS_MAX>("the count") {
        Ok(0) => return Err(BatchFrameError::Count(0)),
        Ok(count) => count,
        Err(DecodeError::TooLong { length, .. }) => return Err(BatchFrameError::Count(length)),
        Err(error) => return Err(BatchFrameError::Truncated(error.to_string())),
    };
    let mut bodies = Vec::with_capacity(count);
    for index in 0..count {
        match reader.bytes::<BODY_SIZE_BYTES_MAX>("a body") {
            Ok(body) => bodies.push(body),
            Err(DecodeError::TooLong { length, .. }) => {
                return Err(BatchFrameError::BodyTooLarge {
                    index,
                    size_bytes: length,
                })
            }
            Err(error) => return Err(BatchFrameError::Truncated(format!("body {index}: {error}"))),
        }
    }
    match reader.finish() {
        Ok(()) => Ok(bodies),
        Err(DecodeError::TrailingBytes { trailing }) => {
            Err(BatchFrameError::TrailingBytes(trailing))
        }
        Err(error) => Err(BatchFrameError::Truncated(error.to_string())),
    }
}

/// A batch as owned bodies, for code that keeps it ([`encode_batch`] and [`decode_batch`]
/// are the same format without copies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmitBatch(pub Vec<Vec<u8>>);

impl Codec for SubmitBatch {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&encode_batch(&self.0));
    }

    fn read(reader: &mut Reader<'_>) -> Result<SubmitBatch, DecodeError> {
        let count = reader.count::<BATCH_RECORDS_MAX>("a batch's count")?;
        if count == 0 {
            return Err(DecodeError::Empty { what: "a batch" });
        }
        let mut bodies = Vec::with_capacity(count);
        for _ in 0..count {
            bodies.push(reader.bytes::<BODY_SIZE_BYTES_MAX>("a body")?.to_vec());
        }
        Ok(SubmitBatch(bodies))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_batch_round_trips(
            bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..20)
        ) {
            let bytes = encode_batch(&bodies);
            let decoded = decode_batch(&bytes)?;
            prop_assert_eq!(&decoded, &bodies.iter().map(Vec::as_slice).collect::<Vec<_>>());
            let owned = SubmitBatch::from_bytes(&bytes)?;
            prop_assert_eq!(owned.to_bytes(), bytes.clone());
            // The batch is a `Vec<Vec<u8>>` of §2: the canonical codec writes the same bytes.
            prop_assert_eq!(crate::codec::encode(&bodies), bytes);
        }

        #[test]
        fn a_cut_batch_is_refused(
            bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 1..5),
            cut in any::<prop::sample::Index>(),
        ) {
            let bytes = encode_batch(&bodies);
            prop_assert!(decode_batch(&bytes[..cut.index(bytes.len())]).is_err());
        }
    }

    /// FORMAT.md §20's example: two bodies, `01 02 03` and `ff`.
    #[test]
    fn golden_bytes() {
        let bytes = encode_batch(&[vec![1u8, 2, 3], vec![0xff]]);
        assert_eq!(
            hex::encode(&bytes),
            "0200000000000000\
             0300000000000000010203\
             0100000000000000ff"
        );
        assert_eq!(
            decode_batch(&bytes).unwrap(),
            vec![&[1u8, 2, 3][..], &[0xff]]
        );
    }

    #[test]
    fn the_bounds_are_checked_before_the_bytes() {
        assert_eq!(
            decode_batch(&encode_batch::<Vec<u8>>(&[])),
            Err(BatchFrameError::Count(0))
        );
        let mut too_many = Vec::new();
        write_length(&mut too_many, BATCH_RECORDS_MAX + 1);
        assert_eq!(
            decode_batch(&too_many),
            Err(BatchFrameError::Count(BATCH_RECORDS_MAX as u64 + 1))
        );
        // A body declared over the limit is refused though its bytes are absent.
        let mut too_large = Vec::new();
        write_length(&mut too_large, 1);
        write_length(&mut too_large, BODY_SIZE_BYTES_MAX + 1);
        assert_eq!(
            decode_batch(&too_large),
            Err(BatchFrameError::BodyTooLarge {
                index: 0,
                size_bytes: BODY_SIZE_BYTES_MAX as u64 + 1
            })
        );
        let mut trailing = encode_batch(&[[1u8]]);
        trailing.push(0);
        assert_eq!(
            decode_batch(&trailing),
            Err(BatchFrameError::TrailingBytes(1))
        );
        // The big-endian u32 framing of earlier versions is refused, not misread.
        assert!(decode_batch(&[0, 0, 0, 1, 0, 0, 0, 1, 7]).is_err());
    }
}
