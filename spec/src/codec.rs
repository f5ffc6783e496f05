//! The one canonical encoding: bincode 2.0.1 with a fixed configuration.
//!
//! Every byte that is hashed or signed goes through [`encode`]; every byte that is read goes
//! through [`decode_exact`], which rejects trailing bytes and over-limit lengths. FORMAT.md
//! states the resulting wire rules (little endian, fixed-width integers, u64 length prefixes).

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
