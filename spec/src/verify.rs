//! Verification of single records against a genesis.
//!
//! The rules are checked in the order of [`Rejection`]'s variants (its own file, re-exported
//! here), so that every verifier reports the same first reason for the same bytes. A
//! [`VerifiedRecord`] can only be made here.

use std::borrow::Cow;
use std::collections::HashMap;

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::codec;
use crate::genesis::Genesis;
use crate::governance::{Authority, KeyGrant};
use crate::ids::{Digest, NetworkId, PublicKey, RecordId};
use crate::record::{
    record_id_of_header_bytes, Body, Correction, RecordHeader, Replacement, RECORD_FORMAT_VERSION,
};
use crate::signature::{self, BatchItem};
use crate::signed::SignedRecord;
use crate::text::FieldError;

pub use crate::rejection::Rejection;

/// A record that passed the record rules (1–11: encoding, network, signature, body), but whose
/// authority (rules 12–17: is this key of this author allowed at this position under the
/// governance) was not checked: what [`Verifier::verify_record_rules`] returns, for reading
/// governance records before the authority they build is known. A store cannot append it: only
/// [`Verifier::check_authority`] turns it into a [`VerifiedRecord`]. Only [`Verifier`] makes these.
#[derive(Clone, Debug)]
pub struct RuleCheckedRecord {
    header: RecordHeader,
    body: Body,
    id: RecordId,
    bytes: Vec<u8>,
}

impl RuleCheckedRecord {
    /// The header.
    pub fn header(&self) -> &RecordHeader {
        &self.header
    }
    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }
    /// The record id.
    pub fn id(&self) -> RecordId {
        self.id
    }
    /// The wire bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// Gives up the wire bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// A record that passed every rule, the authority rules under the verifier's governance state
/// included: the only grade a store appends. It reads as a [`RuleCheckedRecord`] (it derefs to
/// one), since every authorised record also passed the record rules; the converse takes
/// [`Verifier::check_authority`]. Only [`Verifier`] makes these.
///
/// The grades are types, so that an append of a record whose authority was never checked does
/// not compile:
///
/// ```compile_fail
/// fn append(_record: &aidledger_spec::VerifiedRecord) {}
/// fn ingest(record: aidledger_spec::RuleCheckedRecord) {
///     append(&record); // a RuleCheckedRecord is not a VerifiedRecord
/// }
/// ```
///
/// The other way is a safe downgrade:
///
/// ```
/// fn show(_record: &aidledger_spec::RuleCheckedRecord) {}
/// fn appended(record: &aidledger_spec::VerifiedRecord) {
///     show(record); // derefs to the record-rules grade
/// }
/// ```
#[derive(Clone, Debug)]
pub struct VerifiedRecord(RuleCheckedRecord);

impl VerifiedRecord {
    /// Forgets the authority check (for uses that need only the record rules, such as an
    /// equivocation proof).
    pub fn into_rule_checked(self) -> RuleCheckedRecord {
        self.0
    }
    /// Gives up the wire bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0.bytes
    }
}

impl From<VerifiedRecord> for RuleCheckedRecord {
    fn from(record: VerifiedRecord) -> RuleCheckedRecord {
        record.0
    }
}

impl std::ops::Deref for VerifiedRecord {
    type Target = RuleCheckedRecord;

    fn deref(&self) -> &RuleCheckedRecord {
        &self.0
    }
}

/// A record that failed a rule, with whatever could be read of where it belongs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedRecord {
    /// The author, when the header could be read.
    pub author: Option<String>,
    /// The sequence number, when the header could be read.
    pub seq: Option<u64>,
    /// The record id, when the header could be read.
    pub id: Option<RecordId>,
    /// The first rule it broke.
    pub reason: Rejection,
}

/// The outcome of verifying one record.
pub type RecordVerdict = Result<VerifiedRecord, Box<RejectedRecord>>;

/// The outcome of checking one record by the record rules alone.
pub type RuleVerdict = Result<RuleCheckedRecord, Box<RejectedRecord>>;

/// Verifies records of one network under one governance state. Keys are decompressed and
/// checked once, here.
pub struct Verifier {
    genesis: Genesis,
    network_id: NetworkId,
    authority: Authority,
    keys: HashMap<PublicKey, VerifyingKey>,
}

/// A record whose signature is still to be checked, with its key.
pub(crate) type Prechecked<'a> = Result<(SignedRecord, Cow<'a, VerifyingKey>), Box<RejectedRecord>>;

impl Verifier {
    /// A verifier for the network of `genesis` before any governance record; `genesis` must
    /// already be checked (`Genesis::decode` does).
    pub fn new(genesis: Genesis) -> Verifier {
        let authority = Authority::from_genesis(&genesis);
        Verifier::with_authority(genesis, authority)
    }

    /// A verifier for the network of `genesis` under `authority` (see `governance::derive`).
    pub fn with_authority(genesis: Genesis, authority: Authority) -> Verifier {
        let keys = authority
            .all_keys()
            // Genesis::check and the governance rules refused keys that fail this; skipping
            // keeps a bad genesis harmless.
            .filter_map(|key| Some((*key, signature::check_public_key(key).ok()?)))
            .collect();
        Verifier {
            network_id: genesis.network_id(),
            genesis,
            authority,
            keys,
        }
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The network id.
    pub fn network_id(&self) -> NetworkId {
        self.network_id
    }

    /// The governance state records are judged under.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// Verifies one record, its signature alone (FORMAT.md §7.1).
    pub fn verify(&self, bytes: Vec<u8>) -> RecordVerdict {
        let (record, key) = self.check_before_signature(bytes)?;
        if !signature::verify_one(&key, &record.id, &record.signature) {
            return Err(rejected(&record, Rejection::BadSignature));
        }
        self.check_after_signature(record)
    }

    /// Signs a record with `key` and applies every rule to it but the signature equation of
    /// rule 5, which holds by construction: the signature is made here, over the id of these
    /// header bytes, with the key the header must name (else `bad-signature`). For a writer
    /// signing its own records in bulk, where checking each fresh signature again would cost as
    /// much as making it. Every peer and auditor checks the signature of every record.
    pub fn sign_checked(
        &self,
        header_bytes: Vec<u8>,
        body_bytes: &[u8],
        key: &SigningKey,
    ) -> RecordVerdict {
        let id = record_id_of_header_bytes(&header_bytes);
        let mut bytes = header_bytes;
        bytes.extend_from_slice(body_bytes);
        bytes.extend_from_slice(&signature::sign(key, &id).0);
        let (record, _) = self.check_before_signature(bytes)?;
        // The id signed must be the id the record parses to (header bytes that do not end
        // where the header does would sign something else), made with the key it names.
        if record.id != id || record.header.signing_key != signature::public_key_of(key) {
            return Err(rejected(&record, Rejection::BadSignature));
        }
        self.check_after_signature(record)
    }

    /// Verifies one record by the record rules alone (1–11), not the
    /// authority rules: for reading governance records, which `governance::derive` judges
    /// itself, before the authority they build is known.
    pub fn verify_record_rules(&self, bytes: Vec<u8>) -> RuleVerdict {
        let (record, key) = self.check_before_signature(bytes)?;
        if !signature::verify_one(&key, &record.id, &record.signature) {
            return Err(rejected(&record, Rejection::BadSignature));
        }
        check_body(record)
    }

    /// Applies the authority rules (12–17) to a record that passed the record rules: the one
    /// way to a [`VerifiedRecord`].
    pub fn check_authority(&self, record: RuleCheckedRecord) -> RecordVerdict {
        let header = &record.header;
        match self
            .authority
            .check(&header.author, header.seq, &header.signing_key)
        {
            Ok(()) => Ok(VerifiedRecord(record)),
            Err(reason) => Err(Box::new(RejectedRecord {
                author: Some(header.author.clone()),
                seq: Some(header.seq),
                id: Some(record.id),
                reason,
            })),
        }
    }

    /// Verifies many records, their signatures in batches (see `signature`). Verdicts are
    /// those [`Verifier::verify`] gives, in the same order, whatever the grouping (FORMAT.md
    /// §15).
    pub fn verify_batch(&self, records: Vec<Vec<u8>>) -> Vec<RecordVerdict> {
        let prechecked: Vec<Prechecked<'_>> = records
            .into_iter()
            .map(|bytes| self.check_before_signature(bytes))
            .collect();
        let items: Vec<BatchItem<'_>> = prechecked
            .iter()
            .filter_map(|result| result.as_ref().ok())
            .map(|(record, key)| BatchItem {
                key: key.as_ref(),
                record_id: record.id,
                signature: record.signature,
            })
            .collect();
        let mut signature_ok = signature::verify_many(&items).into_iter();
        prechecked
            .into_iter()
            .map(|result| {
                let (record, _) = result?;
                match signature_ok.next() {
                    Some(true) => self.check_after_signature(record),
                    _ => Err(rejected(&record, Rejection::BadSignature)),
                }
            })
            .collect()
    }

    /// Rules 1 to 4.
    fn check_before_signature(&self, bytes: Vec<u8>) -> Prechecked<'_> {
        let record = SignedRecord::parse(bytes).map_err(malformed)?;
        self.check_header(record)
    }

    /// Rules 2 to 4, on a record whose envelope parsed (rule 1): full or withheld.
    pub(crate) fn check_header(&self, record: SignedRecord) -> Prechecked<'_> {
        let header = &record.header;
        if header.format_version != RECORD_FORMAT_VERSION {
            let reason = Rejection::UnsupportedVersion {
                version: header.format_version,
            };
            return Err(rejected(&record, reason));
        }
        if header.network_id != self.network_id {
            return Err(rejected(
                &record,
                Rejection::WrongNetwork {
                    found: header.network_id,
                },
            ));
        }
        if let Some(key) = self.keys.get(&header.signing_key) {
            return Ok((record, Cow::Borrowed(key)));
        }
        // A key this verifier has not met: checked here, per record (hostile or misplaced input).
        match signature::check_public_key(&header.signing_key) {
            Ok(key) => Ok((record, Cow::Owned(key))),
            Err(problem) => {
                let reason = Rejection::InvalidSigningKey {
                    key: header.signing_key,
                    problem: problem.to_owned(),
                };
                Err(rejected(&record, reason))
            }
        }
    }

    /// Rules 6 to 17.
    fn check_after_signature(&self, record: SignedRecord) -> RecordVerdict {
        self.check_authority(check_body(record)?)
    }

    /// Verifies an equivocation proof: two distinct, validly signed records of one author at one
    /// sequence number. Returns both verified records, first the one with the smaller id.
    pub fn verify_equivocation(
        &self,
        first: Vec<u8>,
        second: Vec<u8>,
    ) -> Result<(VerifiedRecord, VerifiedRecord), Rejection> {
        let invalid = |detail: String| Rejection::InvalidProof { detail };
        let first = self
            .verify(first)
            .map_err(|error| invalid(format!("first record: {}", error.reason)))?;
        let second = self
            .verify(second)
            .map_err(|error| invalid(format!("second record: {}", error.reason)))?;
        if first.id == second.id {
            return Err(invalid("both sides are the same record".into()));
        }
        if first.header.author != second.header.author || first.header.seq != second.header.seq {
            return Err(invalid(
                "the records have different authors or sequence numbers".into(),
            ));
        }
        Ok(if first.id < second.id {
            (first, second)
        } else {
            (second, first)
        })
    }
}

/// Rules 6 to 11: the record alone.
fn check_body(record: SignedRecord) -> RuleVerdict {
    if record.body_hash() != record.header.body_hash {
        return Err(rejected(&record, Rejection::BodyHashMismatch));
    }
    let body: Body = match codec::decode_exact(record.body_bytes()) {
        Ok(body) => body,
        Err(error) => {
            return Err(rejected(
                &record,
                Rejection::BodyMalformed {
                    detail: error.to_string(),
                },
            ))
        }
    };
    let body_kind = body.kind() as u16;
    if body_kind != record.header.body_kind {
        let reason = Rejection::BodyKindMismatch {
            header_kind: record.header.body_kind,
            body_kind,
        };
        return Err(rejected(&record, reason));
    }
    // Rule 9 before rule 10: amounts are checked first, so the first reason does not depend
    // on the order in which other fields are checked.
    if let Some((field, amount)) = amount_of(&body) {
        if let Err(error) = crate::amount::check_canonical_amount(amount) {
            return Err(rejected(
                &record,
                Rejection::InvalidAmount {
                    field: field.into(),
                    problem: error.to_string(),
                },
            ));
        }
    }
    let first_with_predecessor = record.header.seq == 0 && record.header.prev != Digest::ZERO;
    let field_check = if first_with_predecessor {
        Err(FieldError::new(
            "header.prev",
            "the first record of a chain must have an all-zero predecessor",
        ))
    } else {
        crate::text::check_org_id("header.author", &record.header.author)
            .and_then(|()| body.check())
    };
    if let Err(error) = field_check {
        return Err(rejected(&record, Rejection::from_field(error)));
    }
    if let Some((member, grant)) = key_grant_of(&record.header, &body) {
        if let Err(problem) = grant.verify(&record.header.network_id, member) {
            let reason = Rejection::InvalidProofOfPossession {
                key: grant.key,
                problem: problem.to_owned(),
            };
            return Err(rejected(&record, reason));
        }
    }
    Ok(RuleCheckedRecord {
        header: record.header,
        body,
        id: record.id,
        bytes: record.bytes,
    })
}

/// The new key a governance body grants, and the member it is granted to.
fn key_grant_of<'a>(header: &'a RecordHeader, body: &'a Body) -> Option<(&'a str, &'a KeyGrant)> {
    match body {
        Body::KeyRotation(rotation) => Some((&header.author, &rotation.new_key)),
        Body::Proposal(proposal) => proposal.change.key_grant(),
        _ => None,
    }
}

/// The one amount a body carries, if any, with its field name as `Body::check` names it.
fn amount_of(body: &Body) -> Option<(&'static str, &str)> {
    match body {
        Body::Transaction(transaction) => Some(("body.value.amount", &transaction.value.amount)),
        Body::Correction(Correction {
            replacement: Some(Replacement::Transaction(transaction)),
            ..
        }) => Some(("body.replacement.value.amount", &transaction.value.amount)),
        _ => None,
    }
}

/// Rule 1: bytes that are not one envelope.
pub(crate) fn malformed(error: codec::DecodeError) -> Box<RejectedRecord> {
    Box::new(RejectedRecord {
        author: None,
        seq: None,
        id: None,
        reason: Rejection::malformed(error),
    })
}

pub(crate) fn rejected(record: &SignedRecord, reason: Rejection) -> Box<RejectedRecord> {
    Box::new(RejectedRecord {
        author: Some(record.header.author.clone()),
        seq: Some(record.header.seq),
        id: Some(record.id),
        reason,
    })
}
