//! Fixed-size identifiers: hashes, public keys and signatures, shown as lowercase hex.

use std::fmt;

use sha2::{Digest as _, Sha256};

/// A SHA-256 output.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, bincode::Encode, bincode::Decode,
)]
pub struct Digest(pub [u8; 32]);

/// The id of a record: SHA-256 over the record domain and the header bytes.
pub type RecordId = Digest;
/// The id of a network: SHA-256 over the genesis domain and the genesis bytes.
pub type NetworkId = Digest;

/// An ed25519 public key (32 bytes, compressed Edwards y).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub struct PublicKey(pub [u8; 32]);

/// An ed25519 signature (64 bytes: R then s).
#[derive(Clone, Copy, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct SignatureBytes(pub [u8; 64]);

/// Hashes `parts` after a domain-separation string.
pub fn hash_with_domain(domain: &str, parts: &[&[u8]]) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update(domain.as_bytes());
    for part in parts {
        hasher.update(part);
    }
    Digest(hasher.finalize().into())
}

/// Why a hex identifier could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} hex digits, got {input:?}")]
pub struct HexError {
    /// How many hex digits were expected.
    pub expected: usize,
    /// What was given (cut to 80 characters).
    pub input: String,
}

/// Lowercase hex of `bytes`. `hex::encode` collects its string a char at a time, which was
/// the largest single cost of an explorer record page (ids, signature and raw bytes in hex).
pub fn lower_hex(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len() * 2];
    // Cannot fail: `out` is exactly twice as long as `bytes`.
    let _ = hex::encode_to_slice(bytes, &mut out);
    // Hex digits are ASCII, so this is always valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

fn parse_hex<const N: usize>(input: &str) -> Result<[u8; N], HexError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(input.trim(), &mut out).map_err(|_| HexError {
        expected: N * 2,
        input: input.chars().take(80).collect(),
    })?;
    Ok(out)
}

macro_rules! hex_identifier {
    ($type:ident, $len:expr) => {
        impl $type {
            /// Reads the identifier from hex.
            pub fn from_hex(input: &str) -> Result<Self, HexError> {
                parse_hex::<$len>(input).map(Self)
            }
            /// The identifier as lowercase hex.
            pub fn to_hex(&self) -> String {
                lower_hex(&self.0)
            }
        }
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($type), self.to_hex())
            }
        }
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_hex())
            }
        }
        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                Self::from_hex(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_identifier!(Digest, 32);
hex_identifier!(PublicKey, 32);
hex_identifier!(SignatureBytes, 64);

impl Digest {
    /// The all-zero digest, the predecessor of every chain's first record.
    pub const ZERO: Digest = Digest([0u8; 32]);
}
