//! The signed record on the wire: header bytes, body bytes, then the 64-byte signature.
//!
//! The header states the body's length, so the three parts need no other framing, and the
//! hashes are taken over the exact byte ranges found in the envelope.

use ed25519_dalek::SigningKey;

use crate::codec::{self, DecodeError};
use crate::ids::{Digest, NetworkId, PublicKey, RecordId, SignatureBytes};
use crate::limits::{BODY_SIZE_BYTES_MAX, RECORD_SIZE_BYTES_MAX};
use crate::record::{
    body_hash_of_bytes, record_id_of_header_bytes, Body, RecordHeader, RECORD_FORMAT_VERSION,
};
use crate::signature;

/// Length of the signature at the end of every record.
pub const SIGNATURE_BYTES: usize = 64;

/// Where each field of an encoded [`RecordHeader`] lies (FORMAT.md §4), for code that reads
/// one field without decoding the record. Each offset is the previous one plus the previous
/// field's width in the codec's layout (§2: integers fixed width, arrays raw, a string's u64
/// length before it); fields after the author are offsets from the author's end, since the
/// author's length varies. A test encodes headers and finds every field where these say.
pub mod header_layout {
    use crate::codec::LENGTH_PREFIX_BYTES;

    const U16: usize = 2;
    const U32: usize = 4;
    const U64: usize = 8;
    const ID: usize = 32;

    /// `format_version`, u16.
    pub const FORMAT_VERSION_AT: usize = 0;
    /// `network_id`, 32 bytes.
    pub const NETWORK_ID_AT: usize = FORMAT_VERSION_AT + U16;
    /// The author's length, u64.
    pub const AUTHOR_LENGTH_AT: usize = NETWORK_ID_AT + ID;
    /// The author's bytes.
    pub const AUTHOR_AT: usize = AUTHOR_LENGTH_AT + LENGTH_PREFIX_BYTES;
    /// `seq`, u64, this many bytes after the author.
    pub const SEQ_AFTER_AUTHOR: usize = 0;
    /// `prev`, 32 bytes, after the author.
    pub const PREV_AFTER_AUTHOR: usize = SEQ_AFTER_AUTHOR + U64;
    /// `timestamp_ms`, u64, after the author.
    pub const TIMESTAMP_AFTER_AUTHOR: usize = PREV_AFTER_AUTHOR + ID;
    /// `signing_key`, 32 bytes, after the author.
    pub const SIGNING_KEY_AFTER_AUTHOR: usize = TIMESTAMP_AFTER_AUTHOR + U64;
    /// `body_kind`, u16, after the author.
    pub const BODY_KIND_AFTER_AUTHOR: usize = SIGNING_KEY_AFTER_AUTHOR + ID;
    /// `body_size_bytes`, u32, after the author.
    pub const BODY_SIZE_AFTER_AUTHOR: usize = BODY_KIND_AFTER_AUTHOR + U16;
    /// `body_hash`, 32 bytes, after the author.
    pub const BODY_HASH_AFTER_AUTHOR: usize = BODY_SIZE_AFTER_AUTHOR + U32;
    /// A header's length without the author's bytes: 160 (FORMAT.md §4, "160 + n").
    pub const HEADER_FIXED_BYTES: usize = AUTHOR_AT + BODY_HASH_AFTER_AUTHOR + ID;
}

/// What an author supplies to make a record; the header's derived fields are filled in by [`sign_record`].
#[derive(Clone, Debug)]
pub struct RecordDraft {
    /// The network.
    pub network_id: NetworkId,
    /// The authoring organisation.
    pub author: String,
    /// The next sequence number of the author's chain.
    pub seq: u64,
    /// The id of the author's previous record (zero for seq 0).
    pub prev: RecordId,
    /// The author's clock, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The body.
    pub body: Body,
}

/// Why a draft could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The encoded body is larger than the protocol allows.
    #[error("the record body is {size_bytes} bytes, more than the {BODY_SIZE_BYTES_MAX} allowed")]
    BodyTooLarge {
        /// The encoded size.
        size_bytes: usize,
    },
}

/// Signs a draft: encodes the body, hashes it, builds and signs the header.
/// Returns the record id and the record's wire bytes.
///
/// This does not check the body's field rules; callers that accept input from people run
/// `Body::check` first, and every verifier runs it again.
pub fn sign_record(
    draft: &RecordDraft,
    key: &SigningKey,
) -> Result<(RecordId, Vec<u8>), SignError> {
    let (header, body_bytes) = draft.header(signature::public_key_of(key))?;
    let header_bytes = codec::encode(&header);
    let id = record_id_of_header_bytes(&header_bytes);
    let signature = signature::sign(key, &id);
    let mut bytes = header_bytes;
    bytes.extend_from_slice(&body_bytes);
    bytes.extend_from_slice(&signature.0);
    Ok((id, bytes))
}

impl RecordDraft {
    /// The header this draft has when signed with `signing_key`, and the encoded body.
    /// A record id depends on the header only, so a chain's links can be computed before
    /// any record is signed.
    pub fn header(&self, signing_key: PublicKey) -> Result<(RecordHeader, Vec<u8>), SignError> {
        let body_bytes = codec::encode(&self.body);
        let body_size_bytes = u32::try_from(body_bytes.len())
            .ok()
            .filter(|size| (*size as usize) <= BODY_SIZE_BYTES_MAX)
            .ok_or(SignError::BodyTooLarge {
                size_bytes: body_bytes.len(),
            })?;
        let header = RecordHeader {
            format_version: RECORD_FORMAT_VERSION,
            network_id: self.network_id,
            author: self.author.clone(),
            seq: self.seq,
            prev: self.prev,
            timestamp_ms: self.timestamp_ms,
            signing_key,
            body_kind: self.body.kind() as u16,
            body_size_bytes,
            body_hash: body_hash_of_bytes(&body_bytes),
        };
        Ok((header, body_bytes))
    }
}

/// A record split into its parts, with its id computed; nothing is verified yet.
#[derive(Clone, Debug)]
pub struct SignedRecord {
    /// The decoded header.
    pub header: RecordHeader,
    /// The record id (hash of the header bytes as found).
    pub id: RecordId,
    /// The signature.
    pub signature: SignatureBytes,
    /// The whole record's wire bytes.
    pub bytes: Vec<u8>,
    header_size_bytes: usize,
    /// The envelope is withheld (header ‖ signature, FORMAT.md §6.1): no body bytes.
    body_withheld: bool,
}

impl SignedRecord {
    /// Splits wire bytes into header, body and signature. Fails on anything that is not
    /// exactly one record: short input, trailing bytes, an over-limit size.
    pub fn parse(bytes: Vec<u8>) -> Result<SignedRecord, DecodeError> {
        Self::parse_envelope(bytes, false)
    }

    /// Splits a withheld envelope (FORMAT.md §6.1: the header, then the signature, and no
    /// body) into its parts. Fails on anything that is not exactly one header and 64 bytes.
    pub fn parse_withheld(bytes: Vec<u8>) -> Result<SignedRecord, DecodeError> {
        Self::parse_envelope(bytes, true)
    }

    fn parse_envelope(bytes: Vec<u8>, body_withheld: bool) -> Result<SignedRecord, DecodeError> {
        if bytes.len() > RECORD_SIZE_BYTES_MAX {
            return Err(DecodeError::Malformed(format!(
                "record is {} bytes, more than the {RECORD_SIZE_BYTES_MAX} allowed",
                bytes.len()
            )));
        }
        let (header, header_size_bytes): (RecordHeader, usize) = codec::decode_prefix(&bytes)?;
        let body_size_bytes = header.body_size_bytes as usize;
        if body_size_bytes > BODY_SIZE_BYTES_MAX {
            return Err(DecodeError::Malformed(format!(
                "header states a body of {body_size_bytes} bytes, more than the {BODY_SIZE_BYTES_MAX} allowed"
            )));
        }
        let carried_body_bytes = if body_withheld { 0 } else { body_size_bytes };
        let expected = header_size_bytes + carried_body_bytes + SIGNATURE_BYTES;
        if bytes.len() < expected {
            return Err(DecodeError::Malformed(format!(
                "record is {} bytes but its header announces {expected}",
                bytes.len()
            )));
        }
        if bytes.len() > expected {
            return Err(DecodeError::TrailingBytes {
                trailing: bytes.len() - expected,
            });
        }
        let mut signature = [0u8; SIGNATURE_BYTES];
        signature.copy_from_slice(&bytes[expected - SIGNATURE_BYTES..]);
        Ok(SignedRecord {
            id: record_id_of_header_bytes(&bytes[..header_size_bytes]),
            header,
            signature: SignatureBytes(signature),
            bytes,
            header_size_bytes,
            body_withheld,
        })
    }

    /// The encoded body bytes: none when the envelope is withheld (its body hash then never
    /// matches the header's, so a withheld record can never pass as a full one).
    pub fn body_bytes(&self) -> &[u8] {
        if self.body_withheld {
            return &[];
        }
        let start = self.header_size_bytes;
        &self.bytes[start..start + self.header.body_size_bytes as usize]
    }

    /// The header's bytes as found.
    pub fn header_bytes(&self) -> &[u8] {
        &self.bytes[..self.header_size_bytes]
    }

    /// The hash of the body bytes as found.
    pub fn body_hash(&self) -> Digest {
        body_hash_of_bytes(self.body_bytes())
    }
}

/// The id of a record's wire bytes, from its header alone (neither the body nor the signature
/// is checked): what a store uses to confirm that the bytes it found under an id are that
/// record's.
pub fn record_id_of_bytes(bytes: &[u8]) -> Result<RecordId, DecodeError> {
    let (_, header_size_bytes): (RecordHeader, usize) = codec::decode_prefix(bytes)?;
    Ok(record_id_of_header_bytes(&bytes[..header_size_bytes]))
}

/// The body kind a record's header states, read without decoding the record: the pipeline
/// uses it to keep governance records ahead of the records they govern. `None` when the bytes
/// are too short to hold a header; verification reports why.
pub fn peek_body_kind(bytes: &[u8]) -> Option<u16> {
    use header_layout::{AUTHOR_AT, AUTHOR_LENGTH_AT, BODY_KIND_AFTER_AUTHOR};
    let author_length = bytes.get(AUTHOR_LENGTH_AT..AUTHOR_AT)?;
    let author_length = u64::from_le_bytes(author_length.try_into().ok()?);
    let kind_at = usize::try_from(author_length)
        .ok()?
        .checked_add(AUTHOR_AT + BODY_KIND_AFTER_AUTHOR)?;
    let kind = bytes.get(kind_at..kind_at.checked_add(2)?)?;
    Some(u16::from_le_bytes([kind[0], kind[1]]))
}

#[cfg(test)]
mod tests {
    use super::header_layout::*;
    use super::*;
    use proptest::prelude::*;

    fn header() -> impl Strategy<Value = RecordHeader> {
        (
            (any::<u16>(), any::<[u8; 32]>(), "\\PC{0,40}", any::<u64>()),
            (any::<[u8; 32]>(), any::<u64>(), any::<[u8; 32]>()),
            (any::<u16>(), any::<u32>(), any::<[u8; 32]>()),
        )
            .prop_map(
                |(
                    (format_version, network, author, seq),
                    (prev, timestamp_ms, key),
                    (body_kind, body_size_bytes, body_hash),
                )| RecordHeader {
                    format_version,
                    network_id: Digest(network),
                    author,
                    seq,
                    prev: Digest(prev),
                    timestamp_ms,
                    signing_key: PublicKey(key),
                    body_kind,
                    body_size_bytes,
                    body_hash: Digest(body_hash),
                },
            )
    }

    proptest! {
        /// Every field of an encoded header is where `header_layout` says, and the header is
        /// `HEADER_FIXED_BYTES` plus the author long; it decodes back to itself.
        #[test]
        fn header_fields_are_at_their_offsets(header in header()) {
            let bytes = codec::encode(&header);
            let after = AUTHOR_AT + header.author.len();
            prop_assert_eq!(bytes.len(), HEADER_FIXED_BYTES + header.author.len());
            prop_assert_eq!(&bytes[FORMAT_VERSION_AT..NETWORK_ID_AT], &header.format_version.to_le_bytes()[..]);
            prop_assert_eq!(&bytes[NETWORK_ID_AT..AUTHOR_LENGTH_AT], &header.network_id.0[..]);
            prop_assert_eq!(&bytes[AUTHOR_LENGTH_AT..AUTHOR_AT], &(header.author.len() as u64).to_le_bytes()[..]);
            prop_assert_eq!(&bytes[AUTHOR_AT..after], header.author.as_bytes());
            let field = |at: usize, width: usize| &bytes[after + at..after + at + width];
            prop_assert_eq!(field(SEQ_AFTER_AUTHOR, 8), &header.seq.to_le_bytes()[..]);
            prop_assert_eq!(field(PREV_AFTER_AUTHOR, 32), &header.prev.0[..]);
            prop_assert_eq!(field(TIMESTAMP_AFTER_AUTHOR, 8), &header.timestamp_ms.to_le_bytes()[..]);
            prop_assert_eq!(field(SIGNING_KEY_AFTER_AUTHOR, 32), &header.signing_key.0[..]);
            prop_assert_eq!(field(BODY_KIND_AFTER_AUTHOR, 2), &header.body_kind.to_le_bytes()[..]);
            prop_assert_eq!(field(BODY_SIZE_AFTER_AUTHOR, 4), &header.body_size_bytes.to_le_bytes()[..]);
            prop_assert_eq!(&bytes[after + BODY_HASH_AFTER_AUTHOR..], &header.body_hash.0[..]);
            prop_assert_eq!(peek_body_kind(&bytes), Some(header.body_kind));
            prop_assert_eq!(codec::decode_exact::<RecordHeader>(&bytes)?, header);
        }
    }

    /// FORMAT.md §4's numbers.
    #[test]
    fn the_offsets_are_those_of_format_md() {
        assert_eq!((NETWORK_ID_AT, AUTHOR_LENGTH_AT, AUTHOR_AT), (2, 34, 42));
        assert_eq!(
            (
                PREV_AFTER_AUTHOR,
                TIMESTAMP_AFTER_AUTHOR,
                SIGNING_KEY_AFTER_AUTHOR,
                BODY_KIND_AFTER_AUTHOR,
                BODY_SIZE_AFTER_AUTHOR,
                BODY_HASH_AFTER_AUTHOR,
                HEADER_FIXED_BYTES
            ),
            (8, 40, 48, 80, 82, 86, 160)
        );
    }
}
