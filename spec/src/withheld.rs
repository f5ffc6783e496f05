//! Withheld records (FORMAT.md §6.1): a record whose body a redaction order made its nodes
//! forget travels and is stored as its header and its signature alone. Its id, its place in
//! the chain, its Merkle leaf and its signature are those of the full record; what it said is
//! gone. [`Verifier::verify_withheld`] checks everything that can still be checked, and a
//! verifier then asks the orders in force (`crate::redaction`) whether the body may be missing.

use crate::codec::{self, DecodeError};
use crate::ids::RecordId;
use crate::record::{BodyKind, RecordHeader};
use crate::signature;
use crate::signed::{SignedRecord, SIGNATURE_BYTES};
use crate::verify::{malformed, rejected, RejectedRecord, Rejection, Verifier};

/// A withheld record that passed every rule it can be judged by: the envelope (rule 1), the
/// header fields (2–4), the signature (5), a kind that may be redacted (25) and the authority
/// (12–17). Whether an order covers it is judged once every order is known. Only
/// [`Verifier::verify_withheld`] makes these.
#[derive(Clone, Debug)]
pub struct WithheldRecord {
    header: RecordHeader,
    id: RecordId,
    bytes: Vec<u8>,
}

impl WithheldRecord {
    /// The header.
    pub fn header(&self) -> &RecordHeader {
        &self.header
    }
    /// The record id (the full record's: the header is the same).
    pub fn id(&self) -> RecordId {
        self.id
    }
    /// The withheld envelope's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// Gives up the withheld envelope's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The outcome of verifying one withheld envelope.
pub type WithheldVerdict = Result<WithheldRecord, Box<RejectedRecord>>;

/// Whether `bytes` are a withheld envelope: a header whose stated body is not empty, then
/// exactly 64 bytes. A full envelope is never this long, since every body has at least its
/// 4-byte kind. Bytes without a readable header are not (the verifier reports them).
pub fn is_withheld(bytes: &[u8]) -> bool {
    match codec::decode_prefix::<RecordHeader>(bytes) {
        Ok((header, header_size_bytes)) => {
            header.body_size_bytes > 0 && bytes.len() == header_size_bytes + SIGNATURE_BYTES
        }
        Err(_) => false,
    }
}

/// The withheld envelope of a full record: its header bytes, then its signature bytes.
pub fn withhold(bytes: Vec<u8>) -> Result<Vec<u8>, DecodeError> {
    let record = SignedRecord::parse(bytes)?;
    let mut withheld = record.header_bytes().to_vec();
    withheld.extend_from_slice(&record.signature.0);
    Ok(withheld)
}

impl Verifier {
    /// Verifies a withheld envelope by every rule that does not need the body: 1 (exactly a
    /// header and a signature), 2–4, 5 (the signature covers the id, which covers the body's
    /// hash), 25 (`withheld-not-redactable`: governance records and orders are never
    /// withheld), then 12–17. Whether an order covers it is the caller's to judge, once it has
    /// read every order (`crate::redaction::judge_withheld`).
    pub fn verify_withheld(&self, bytes: Vec<u8>) -> WithheldVerdict {
        let record = SignedRecord::parse_withheld(bytes).map_err(malformed)?;
        let (record, key) = self.check_header(record)?;
        if !signature::verify_one(&key, &record.id, &record.signature) {
            return Err(rejected(&record, Rejection::BadSignature));
        }
        let redactable =
            BodyKind::from_wire(record.header.body_kind).is_some_and(BodyKind::is_redactable);
        if !redactable {
            let reason = Rejection::WithheldNotRedactable {
                body_kind: record.header.body_kind,
            };
            return Err(rejected(&record, reason));
        }
        let header = &record.header;
        if let Err(reason) = self
            .authority()
            .check(&header.author, header.seq, &header.signing_key)
        {
            return Err(rejected(&record, reason));
        }
        Ok(WithheldRecord {
            header: record.header,
            id: record.id,
            bytes: record.bytes,
        })
    }
}

/// A record of a chain as nodes pass it on: whole (every rule checked), or withheld (every rule
/// that does not need the body checked). Range sync carries both (FORMAT.md §17.2).
// Nearly every value is `Full` (withheld records are the rare redacted ones): boxing it would
// add an allocation per synced record and save no memory.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum ChainRecord {
    /// A whole record.
    Full(crate::verify::VerifiedRecord),
    /// A withheld record.
    Withheld(WithheldRecord),
}

impl ChainRecord {
    /// The header.
    pub fn header(&self) -> &RecordHeader {
        match self {
            ChainRecord::Full(record) => record.header(),
            ChainRecord::Withheld(record) => record.header(),
        }
    }

    /// The record id.
    pub fn id(&self) -> RecordId {
        match self {
            ChainRecord::Full(record) => record.id(),
            ChainRecord::Withheld(record) => record.id(),
        }
    }

    /// The bytes as they travel and are stored.
    pub fn bytes(&self) -> &[u8] {
        match self {
            ChainRecord::Full(record) => record.bytes(),
            ChainRecord::Withheld(record) => record.bytes(),
        }
    }
}
