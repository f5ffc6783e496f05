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
}

impl SignedRecord {
    /// Splits wire bytes into header, body and signature. Fails on anything that is not
    /// exactly one record: short input, trailing bytes, an over-limit size.
    pub fn parse(bytes: Vec<u8>) -> Result<SignedRecord, DecodeError> {
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
        let expected = header_size_bytes + body_size_bytes + SIGNATURE_BYTES;
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
        })
    }

    /// The encoded body bytes.
    pub fn body_bytes(&self) -> &[u8] {
        let start = self.header_size_bytes;
        &self.bytes[start..start + self.header.body_size_bytes as usize]
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
    // format_version (2) + network_id (32), then the author's u64 length and bytes, then
    // seq (8) + prev (32) + timestamp_ms (8) + signing_key (32): FORMAT.md, "Record header".
    let author_len_at = 2 + 32;
    let author_len = u64::from_le_bytes(
        bytes
            .get(author_len_at..author_len_at + 8)?
            .try_into()
            .ok()?,
    );
    let kind_at = usize::try_from(author_len)
        .ok()?
        .checked_add(author_len_at + 8 + 8 + 32 + 8 + 32)?;
    let kind = bytes.get(kind_at..kind_at.checked_add(2)?)?;
    Some(u16::from_le_bytes([kind[0], kind[1]]))
}
