//! The reasons a record, a chain position or a proof is rejected: [`Rejection`], one variant per
//! rule of FORMAT.md §10, numbered and in the order the rules are checked, each with the stable
//! code that FORMAT.md, the JSON output and the exit reports name it by.
//!
//! Why this file is long: each rule is a variant, its code, its encoded tag, its encoding and
//! its decoding, kept side by side so that a new rule is added in one place and checked by
//! one round-trip test.

use crate::codec::{write_bytes, write_variant, Codec, DecodeError, Reader};
use crate::ids::{Digest, NetworkId, PublicKey, RecordId};
use crate::limits::RECORD_SIZE_BYTES_MAX;
use crate::text::FieldError;

/// Longest text field of an encoded [`Rejection`] (a decoder's message, a field name, a
/// problem, an author), in bytes. Each names or quotes at most one record's content, and a
/// record is at most [`RECORD_SIZE_BYTES_MAX`]; the decoder checks every length against this
/// before taking the bytes.
pub const REJECTION_TEXT_BYTES_MAX: usize = RECORD_SIZE_BYTES_MAX;

/// Why a record, a chain position or a proof is rejected, in the order the rules are checked.
///
/// Record rules come first (1–11: the record alone), then authority rules (12–17: the record
/// against the governance state), then chain rules (18–21), then proof and bundle rules (22–24).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rejection {
    /// 1. The bytes are not one well-formed record (short, trailing bytes, over-size, bad encoding).
    #[error("malformed record: {detail}")]
    Malformed {
        /// What the decoder said.
        detail: String,
    },
    /// 2. The record's format version is not one this verifier knows.
    #[error("unsupported record format version {version}")]
    UnsupportedVersion {
        /// The version found.
        version: u16,
    },
    /// 3. The record names another network.
    #[error("record belongs to network {found}, not this one")]
    WrongNetwork {
        /// The network id in the record.
        found: NetworkId,
    },
    /// 4. The signing key is not an acceptable ed25519 key (not a point, small order, torsion).
    #[error("signing key {key} is not acceptable: {problem}")]
    InvalidSigningKey {
        /// The key.
        key: PublicKey,
        /// What is wrong with it.
        problem: String,
    },
    /// 5. The signature does not verify under the header's key by the signature rule
    ///    (FORMAT.md §7.1: canonical s and R, R not of small order, the cofactored equation).
    #[error("bad signature")]
    BadSignature,
    /// 6. The body bytes do not hash to the header's body hash.
    #[error("body does not match the signed body hash")]
    BodyHashMismatch,
    /// 7. The body bytes do not decode as a body.
    #[error("malformed body: {detail}")]
    BodyMalformed {
        /// What the decoder said.
        detail: String,
    },
    /// 8. The header's body kind differs from the body's.
    #[error("header says body kind {header_kind}, body is kind {body_kind}")]
    BodyKindMismatch {
        /// The kind in the header.
        header_kind: u16,
        /// The kind of the decoded body.
        body_kind: u16,
    },
    /// 9. An amount is not a valid canonical decimal.
    #[error("amount not a valid decimal: {problem}")]
    InvalidAmount {
        /// The field.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// 10. Another field breaks its rule (including a first record with a predecessor).
    #[error("invalid field {field}: {problem}")]
    InvalidField {
        /// The field.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// 11. A new key in a governance record comes without a valid proof of possession.
    #[error("key {key} comes without a valid proof of possession: {problem}")]
    InvalidProofOfPossession {
        /// The new key.
        key: PublicKey,
        /// What is wrong.
        problem: String,
    },
    /// 12. The author is not a member of the network.
    #[error("author {author:?} is not a member of the network")]
    UnknownAuthor {
        /// The author named.
        author: String,
    },
    /// 13. The author was removed from the network from `from_seq` on.
    #[error("{author} was removed from the network from seq {from_seq} on (proposal {by}); this record is not valid")]
    MemberRemoved {
        /// The author.
        author: String,
        /// The first invalid position.
        from_seq: u64,
        /// The removing proposal.
        by: RecordId,
    },
    /// 14. The signing key is not one of the author's keys.
    #[error("signing key {key} is not a key of {author}")]
    KeyNotAuthors {
        /// The author.
        author: String,
        /// The key used.
        key: PublicKey,
    },
    /// 15. The key is the author's, but only from a later position on.
    #[error("signing key {key} of {author} is valid only from seq {from_seq} on")]
    KeyNotYetValid {
        /// The author.
        author: String,
        /// The key used.
        key: PublicKey,
        /// Where it becomes valid.
        from_seq: u64,
    },
    /// 16. The author rotated away from this key before this position.
    #[error("signing key {key} of {author} was rotated out from seq {from_seq} on (rotation {by}); this record is not valid")]
    KeyRotatedOut {
        /// The author.
        author: String,
        /// The key used.
        key: PublicKey,
        /// The first position it may not sign.
        from_seq: u64,
        /// The rotation record.
        by: RecordId,
    },
    /// 17. The admins revoked this key from a position at or before this one.
    #[error("signed with key {key} of {author} after its revocation from seq {from_seq} (proposal {by}); this record is not valid")]
    KeyRevoked {
        /// The author.
        author: String,
        /// The revoked key.
        key: PublicKey,
        /// The first position it may not sign.
        from_seq: u64,
        /// The revoking proposal.
        by: RecordId,
    },
    /// 18. Records of this chain are missing before this position.
    #[error("gap: records {missing_from} to {missing_to} are missing ({stranded} later record(s) cannot be linked)")]
    Gap {
        /// First missing sequence number.
        missing_from: u64,
        /// Last missing sequence number.
        missing_to: u64,
        /// How many records after the gap were seen.
        stranded: u64,
    },
    /// 19. The record's predecessor id is not the id of the chain's record before it.
    #[error("wrong predecessor: expected {expected}, found {found}")]
    WrongPredecessor {
        /// The id of the record at seq - 1.
        expected: RecordId,
        /// The predecessor the record names.
        found: RecordId,
    },
    /// 20. The same record appears twice.
    #[error("duplicate record")]
    Duplicate,
    /// 21. Two different validly signed records with the same author and sequence number.
    #[error("equivocation: records {first} and {second} both claim this position")]
    Equivocation {
        /// The record seen first.
        first: RecordId,
        /// The other record.
        second: RecordId,
    },
    /// 22. An equivocation proof that does not prove one.
    #[error("invalid equivocation proof: {detail}")]
    InvalidProof {
        /// Why.
        detail: String,
    },
    /// 23. A governance record comes after ordinary records in a bundle.
    ///
    /// Verdicts on the records before it could depend on the order (FORMAT.md, "Bundle order").
    #[error("governance record after {ordinary_before} ordinary record(s): a bundle lists governance records first")]
    GovernanceOutOfOrder {
        /// Ordinary records read before it.
        ordinary_before: u64,
    },
    /// 24. More governance records than a verifier holds; the ones beyond are not used.
    #[error("more than {limit} governance records: the ones beyond are not used")]
    TooManyGovernanceRecords {
        /// The limit.
        limit: usize,
    },
    /// 25. A withheld record (header and signature, no body) of a kind whose body may never be
    ///     withheld: a governance record or a redaction order (FORMAT.md §6.1).
    #[error("the body of a record of kind {body_kind} may not be withheld (only content records can be redacted)")]
    WithheldNotRedactable {
        /// The header's body kind.
        body_kind: u16,
    },
    /// 26. A withheld record that no redaction order in force covers: its body is missing
    ///     without a reason the network's rules accept (FORMAT.md §27).
    #[error("the body is withheld, but no redaction order in force names this record")]
    WithheldWithoutOrder,
    /// 27. A redaction order names a position of its author's chain that holds another
    ///     record, or none: it orders nothing the chain has (FORMAT.md §27).
    #[error("the redaction order names record {id} at seq {seq}, which its author's chain does not hold there")]
    RedactionTargetNotFound {
        /// The position named.
        seq: u64,
        /// The record id named.
        id: RecordId,
    },
}

impl Rejection {
    /// The kebab-case code of the reason, as in FORMAT.md and the JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Malformed { .. } => "malformed",
            Rejection::UnsupportedVersion { .. } => "unsupported-version",
            Rejection::WrongNetwork { .. } => "wrong-network",
            Rejection::InvalidSigningKey { .. } => "invalid-signing-key",
            Rejection::BadSignature => "bad-signature",
            Rejection::BodyHashMismatch => "body-hash-mismatch",
            Rejection::BodyMalformed { .. } => "body-malformed",
            Rejection::BodyKindMismatch { .. } => "body-kind-mismatch",
            Rejection::InvalidAmount { .. } => "invalid-amount",
            Rejection::InvalidField { .. } => "invalid-field",
            Rejection::InvalidProofOfPossession { .. } => "invalid-proof-of-possession",
            Rejection::UnknownAuthor { .. } => "unknown-author",
            Rejection::MemberRemoved { .. } => "member-removed",
            Rejection::KeyNotAuthors { .. } => "key-not-authors",
            Rejection::KeyNotYetValid { .. } => "key-not-yet-valid",
            Rejection::KeyRotatedOut { .. } => "key-rotated-out",
            Rejection::KeyRevoked { .. } => "key-revoked",
            Rejection::Gap { .. } => "gap",
            Rejection::WrongPredecessor { .. } => "wrong-predecessor",
            Rejection::Duplicate => "duplicate",
            Rejection::Equivocation { .. } => "equivocation",
            Rejection::InvalidProof { .. } => "invalid-proof",
            Rejection::GovernanceOutOfOrder { .. } => "governance-out-of-order",
            Rejection::TooManyGovernanceRecords { .. } => "too-many-governance-records",
            Rejection::WithheldNotRedactable { .. } => "withheld-not-redactable",
            Rejection::WithheldWithoutOrder => "withheld-without-order",
            Rejection::RedactionTargetNotFound { .. } => "redaction-target-not-found",
        }
    }

    /// Whether this is one of the authority rules (12–17): the record is well formed and
    /// validly signed, and whether it is valid depends on the governance state the verifier
    /// holds (a peer that sends one may know governance records the verifier has not seen).
    pub fn is_authority_rule(&self) -> bool {
        matches!(
            self,
            Rejection::UnknownAuthor { .. }
                | Rejection::MemberRemoved { .. }
                | Rejection::KeyNotAuthors { .. }
                | Rejection::KeyNotYetValid { .. }
                | Rejection::KeyRotatedOut { .. }
                | Rejection::KeyRevoked { .. }
        )
    }

    /// Whether the record is invalid because the network's governance revoked its key or
    /// removed its author from an earlier position: a governed state, not a fault of the ledger.
    pub fn is_revocation(&self) -> bool {
        matches!(
            self,
            Rejection::KeyRevoked { .. } | Rejection::MemberRemoved { .. }
        )
    }

    pub(crate) fn from_field(error: FieldError) -> Rejection {
        // Amount fields have their own reason so that auditors can count money errors apart.
        if error.field.ends_with(".amount") {
            Rejection::InvalidAmount {
                field: error.field,
                problem: error.problem,
            }
        } else {
            Rejection::InvalidField {
                field: error.field,
                problem: error.problem,
            }
        }
    }

    pub(crate) fn malformed(error: DecodeError) -> Rejection {
        Rejection::Malformed {
            detail: error.to_string(),
        }
    }
}

/// The variant tags of the encoded [`Rejection`]: each rule's number in FORMAT.md §10, so
/// that the tag of a rule never changes when rules are added (new rules take new numbers).
mod tag {
    pub const MALFORMED: u32 = 1;
    pub const UNSUPPORTED_VERSION: u32 = 2;
    pub const WRONG_NETWORK: u32 = 3;
    pub const INVALID_SIGNING_KEY: u32 = 4;
    pub const BAD_SIGNATURE: u32 = 5;
    pub const BODY_HASH_MISMATCH: u32 = 6;
    pub const BODY_MALFORMED: u32 = 7;
    pub const BODY_KIND_MISMATCH: u32 = 8;
    pub const INVALID_AMOUNT: u32 = 9;
    pub const INVALID_FIELD: u32 = 10;
    pub const INVALID_PROOF_OF_POSSESSION: u32 = 11;
    pub const UNKNOWN_AUTHOR: u32 = 12;
    pub const MEMBER_REMOVED: u32 = 13;
    pub const KEY_NOT_AUTHORS: u32 = 14;
    pub const KEY_NOT_YET_VALID: u32 = 15;
    pub const KEY_ROTATED_OUT: u32 = 16;
    pub const KEY_REVOKED: u32 = 17;
    pub const GAP: u32 = 18;
    pub const WRONG_PREDECESSOR: u32 = 19;
    pub const DUPLICATE: u32 = 20;
    pub const EQUIVOCATION: u32 = 21;
    pub const INVALID_PROOF: u32 = 22;
    pub const GOVERNANCE_OUT_OF_ORDER: u32 = 23;
    pub const TOO_MANY_GOVERNANCE_RECORDS: u32 = 24;
    pub const WITHHELD_NOT_REDACTABLE: u32 = 25;
    pub const WITHHELD_WITHOUT_ORDER: u32 = 26;
    pub const REDACTION_TARGET_NOT_FOUND: u32 = 27;
}

fn write_text(out: &mut Vec<u8>, text: &str) {
    write_bytes(out, text.as_bytes());
}

fn write_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn read_text(reader: &mut Reader<'_>, what: &'static str) -> Result<String, DecodeError> {
    Ok(reader.text::<REJECTION_TEXT_BYTES_MAX>(what)?.to_owned())
}

fn read_u16(reader: &mut Reader<'_>, what: &'static str) -> Result<u16, DecodeError> {
    Ok(u16::from_le_bytes(reader.array(what)?))
}

fn read_digest(reader: &mut Reader<'_>, what: &'static str) -> Result<Digest, DecodeError> {
    Ok(Digest(reader.array(what)?))
}

fn read_key(reader: &mut Reader<'_>, what: &'static str) -> Result<PublicKey, DecodeError> {
    Ok(PublicKey(reader.array(what)?))
}

/// A rejection in the layout of §2 (FORMAT.md §10, "Encoded rejection"): its rule's number
/// as the `u32` variant tag, then its fields in declaration order (texts with a `u64` length,
/// at most [`REJECTION_TEXT_BYTES_MAX`]; ids and keys raw; numbers fixed-width little endian;
/// `usize` as `u64`). Stored, never hashed, signed or sent.
impl Codec for Rejection {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Rejection::Malformed { detail } => {
                write_variant(out, tag::MALFORMED);
                write_text(out, detail);
            }
            Rejection::UnsupportedVersion { version } => {
                write_variant(out, tag::UNSUPPORTED_VERSION);
                write_u16(out, *version);
            }
            Rejection::WrongNetwork { found } => {
                write_variant(out, tag::WRONG_NETWORK);
                found.0.write(out);
            }
            Rejection::InvalidSigningKey { key, problem } => {
                write_variant(out, tag::INVALID_SIGNING_KEY);
                key.0.write(out);
                write_text(out, problem);
            }
            Rejection::BadSignature => write_variant(out, tag::BAD_SIGNATURE),
            Rejection::BodyHashMismatch => write_variant(out, tag::BODY_HASH_MISMATCH),
            Rejection::BodyMalformed { detail } => {
                write_variant(out, tag::BODY_MALFORMED);
                write_text(out, detail);
            }
            Rejection::BodyKindMismatch {
                header_kind,
                body_kind,
            } => {
                write_variant(out, tag::BODY_KIND_MISMATCH);
                write_u16(out, *header_kind);
                write_u16(out, *body_kind);
            }
            Rejection::InvalidAmount { field, problem } => {
                write_variant(out, tag::INVALID_AMOUNT);
                write_text(out, field);
                write_text(out, problem);
            }
            Rejection::InvalidField { field, problem } => {
                write_variant(out, tag::INVALID_FIELD);
                write_text(out, field);
                write_text(out, problem);
            }
            Rejection::InvalidProofOfPossession { key, problem } => {
                write_variant(out, tag::INVALID_PROOF_OF_POSSESSION);
                key.0.write(out);
                write_text(out, problem);
            }
            Rejection::UnknownAuthor { author } => {
                write_variant(out, tag::UNKNOWN_AUTHOR);
                write_text(out, author);
            }
            Rejection::MemberRemoved {
                author,
                from_seq,
                by,
            } => {
                write_variant(out, tag::MEMBER_REMOVED);
                write_text(out, author);
                from_seq.write(out);
                by.0.write(out);
            }
            Rejection::KeyNotAuthors { author, key } => {
                write_variant(out, tag::KEY_NOT_AUTHORS);
                write_text(out, author);
                key.0.write(out);
            }
            Rejection::KeyNotYetValid {
                author,
                key,
                from_seq,
            } => {
                write_variant(out, tag::KEY_NOT_YET_VALID);
                write_text(out, author);
                key.0.write(out);
                from_seq.write(out);
            }
            Rejection::KeyRotatedOut {
                author,
                key,
                from_seq,
                by,
            } => {
                write_variant(out, tag::KEY_ROTATED_OUT);
                write_text(out, author);
                key.0.write(out);
                from_seq.write(out);
                by.0.write(out);
            }
            Rejection::KeyRevoked {
                author,
                key,
                from_seq,
                by,
            } => {
                write_variant(out, tag::KEY_REVOKED);
                write_text(out, author);
                key.0.write(out);
                from_seq.write(out);
                by.0.write(out);
            }
            Rejection::Gap {
                missing_from,
                missing_to,
                stranded,
            } => {
                write_variant(out, tag::GAP);
                missing_from.write(out);
                missing_to.write(out);
                stranded.write(out);
            }
            Rejection::WrongPredecessor { expected, found } => {
                write_variant(out, tag::WRONG_PREDECESSOR);
                expected.0.write(out);
                found.0.write(out);
            }
            Rejection::Duplicate => write_variant(out, tag::DUPLICATE),
            Rejection::Equivocation { first, second } => {
                write_variant(out, tag::EQUIVOCATION);
                first.0.write(out);
                second.0.write(out);
            }
            Rejection::InvalidProof { detail } => {
                write_variant(out, tag::INVALID_PROOF);
                write_text(out, detail);
            }
            Rejection::GovernanceOutOfOrder { ordinary_before } => {
                write_variant(out, tag::GOVERNANCE_OUT_OF_ORDER);
                ordinary_before.write(out);
            }
            Rejection::TooManyGovernanceRecords { limit } => {
                write_variant(out, tag::TOO_MANY_GOVERNANCE_RECORDS);
                // usize is at most 64 bits on every target Rust supports.
                u64::try_from(*limit).unwrap_or(u64::MAX).write(out);
            }
            Rejection::WithheldNotRedactable { body_kind } => {
                write_variant(out, tag::WITHHELD_NOT_REDACTABLE);
                write_u16(out, *body_kind);
            }
            Rejection::WithheldWithoutOrder => write_variant(out, tag::WITHHELD_WITHOUT_ORDER),
            Rejection::RedactionTargetNotFound { seq, id } => {
                write_variant(out, tag::REDACTION_TARGET_NOT_FOUND);
                seq.write(out);
                id.0.write(out);
            }
        }
    }

    fn read(reader: &mut Reader<'_>) -> Result<Rejection, DecodeError> {
        Ok(match reader.variant("a rejection")? {
            tag::MALFORMED => Rejection::Malformed {
                detail: read_text(reader, "a rejection's detail")?,
            },
            tag::UNSUPPORTED_VERSION => Rejection::UnsupportedVersion {
                version: read_u16(reader, "a rejection's version")?,
            },
            tag::WRONG_NETWORK => Rejection::WrongNetwork {
                found: read_digest(reader, "a rejection's network id")?,
            },
            tag::INVALID_SIGNING_KEY => Rejection::InvalidSigningKey {
                key: read_key(reader, "a rejection's key")?,
                problem: read_text(reader, "a rejection's problem")?,
            },
            tag::BAD_SIGNATURE => Rejection::BadSignature,
            tag::BODY_HASH_MISMATCH => Rejection::BodyHashMismatch,
            tag::BODY_MALFORMED => Rejection::BodyMalformed {
                detail: read_text(reader, "a rejection's detail")?,
            },
            tag::BODY_KIND_MISMATCH => Rejection::BodyKindMismatch {
                header_kind: read_u16(reader, "a rejection's header kind")?,
                body_kind: read_u16(reader, "a rejection's body kind")?,
            },
            tag::INVALID_AMOUNT => Rejection::InvalidAmount {
                field: read_text(reader, "a rejection's field")?,
                problem: read_text(reader, "a rejection's problem")?,
            },
            tag::INVALID_FIELD => Rejection::InvalidField {
                field: read_text(reader, "a rejection's field")?,
                problem: read_text(reader, "a rejection's problem")?,
            },
            tag::INVALID_PROOF_OF_POSSESSION => Rejection::InvalidProofOfPossession {
                key: read_key(reader, "a rejection's key")?,
                problem: read_text(reader, "a rejection's problem")?,
            },
            tag::UNKNOWN_AUTHOR => Rejection::UnknownAuthor {
                author: read_text(reader, "a rejection's author")?,
            },
            tag::MEMBER_REMOVED => Rejection::MemberRemoved {
                author: read_text(reader, "a rejection's author")?,
                from_seq: reader.u64("a rejection's from_seq")?,
                by: read_digest(reader, "a rejection's by")?,
            },
            tag::KEY_NOT_AUTHORS => Rejection::KeyNotAuthors {
                author: read_text(reader, "a rejection's author")?,
                key: read_key(reader, "a rejection's key")?,
            },
            tag::KEY_NOT_YET_VALID => Rejection::KeyNotYetValid {
                author: read_text(reader, "a rejection's author")?,
                key: read_key(reader, "a rejection's key")?,
                from_seq: reader.u64("a rejection's from_seq")?,
            },
            tag::KEY_ROTATED_OUT => Rejection::KeyRotatedOut {
                author: read_text(reader, "a rejection's author")?,
                key: read_key(reader, "a rejection's key")?,
                from_seq: reader.u64("a rejection's from_seq")?,
                by: read_digest(reader, "a rejection's by")?,
            },
            tag::KEY_REVOKED => Rejection::KeyRevoked {
                author: read_text(reader, "a rejection's author")?,
                key: read_key(reader, "a rejection's key")?,
                from_seq: reader.u64("a rejection's from_seq")?,
                by: read_digest(reader, "a rejection's by")?,
            },
            tag::GAP => Rejection::Gap {
                missing_from: reader.u64("a rejection's missing_from")?,
                missing_to: reader.u64("a rejection's missing_to")?,
                stranded: reader.u64("a rejection's stranded")?,
            },
            tag::WRONG_PREDECESSOR => Rejection::WrongPredecessor {
                expected: read_digest(reader, "a rejection's expected id")?,
                found: read_digest(reader, "a rejection's found id")?,
            },
            tag::DUPLICATE => Rejection::Duplicate,
            tag::EQUIVOCATION => Rejection::Equivocation {
                first: read_digest(reader, "a rejection's first id")?,
                second: read_digest(reader, "a rejection's second id")?,
            },
            tag::INVALID_PROOF => Rejection::InvalidProof {
                detail: read_text(reader, "a rejection's detail")?,
            },
            tag::GOVERNANCE_OUT_OF_ORDER => Rejection::GovernanceOutOfOrder {
                ordinary_before: reader.u64("a rejection's ordinary_before")?,
            },
            tag::TOO_MANY_GOVERNANCE_RECORDS => {
                let limit = reader.u64("a rejection's limit")?;
                Rejection::TooManyGovernanceRecords {
                    limit: usize::try_from(limit).map_err(|_| {
                        DecodeError::Malformed(format!("a rejection's limit {limit} is over usize"))
                    })?,
                }
            }
            tag::WITHHELD_NOT_REDACTABLE => Rejection::WithheldNotRedactable {
                body_kind: read_u16(reader, "a rejection's body kind")?,
            },
            tag::WITHHELD_WITHOUT_ORDER => Rejection::WithheldWithoutOrder,
            tag::REDACTION_TARGET_NOT_FOUND => Rejection::RedactionTargetNotFound {
                seq: reader.u64("a rejection's seq")?,
                id: read_digest(reader, "a rejection's record id")?,
            },
            index => {
                return Err(DecodeError::UnknownVariant {
                    what: "a rejection",
                    index,
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        "\\PC{0,24}"
    }

    fn digest() -> impl Strategy<Value = Digest> {
        any::<[u8; 32]>().prop_map(Digest)
    }

    fn key() -> impl Strategy<Value = PublicKey> {
        any::<[u8; 32]>().prop_map(PublicKey)
    }

    /// Every variant, with every field drawn at random.
    fn rejection() -> impl Strategy<Value = Rejection> {
        prop_oneof![
            text().prop_map(|detail| Rejection::Malformed { detail }),
            any::<u16>().prop_map(|version| Rejection::UnsupportedVersion { version }),
            digest().prop_map(|found| Rejection::WrongNetwork { found }),
            (key(), text())
                .prop_map(|(key, problem)| Rejection::InvalidSigningKey { key, problem }),
            Just(Rejection::BadSignature),
            Just(Rejection::BodyHashMismatch),
            text().prop_map(|detail| Rejection::BodyMalformed { detail }),
            (any::<u16>(), any::<u16>()).prop_map(|(header_kind, body_kind)| {
                Rejection::BodyKindMismatch {
                    header_kind,
                    body_kind,
                }
            }),
            (text(), text())
                .prop_map(|(field, problem)| Rejection::InvalidAmount { field, problem }),
            (text(), text())
                .prop_map(|(field, problem)| Rejection::InvalidField { field, problem }),
            (key(), text())
                .prop_map(|(key, problem)| Rejection::InvalidProofOfPossession { key, problem }),
            text().prop_map(|author| Rejection::UnknownAuthor { author }),
            (text(), any::<u64>(), digest()).prop_map(|(author, from_seq, by)| {
                Rejection::MemberRemoved {
                    author,
                    from_seq,
                    by,
                }
            }),
            (text(), key()).prop_map(|(author, key)| Rejection::KeyNotAuthors { author, key }),
            (text(), key(), any::<u64>()).prop_map(|(author, key, from_seq)| {
                Rejection::KeyNotYetValid {
                    author,
                    key,
                    from_seq,
                }
            }),
            (text(), key(), any::<u64>(), digest()).prop_map(|(author, key, from_seq, by)| {
                Rejection::KeyRotatedOut {
                    author,
                    key,
                    from_seq,
                    by,
                }
            }),
            (text(), key(), any::<u64>(), digest()).prop_map(|(author, key, from_seq, by)| {
                Rejection::KeyRevoked {
                    author,
                    key,
                    from_seq,
                    by,
                }
            }),
            (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(
                |(missing_from, missing_to, stranded)| Rejection::Gap {
                    missing_from,
                    missing_to,
                    stranded,
                }
            ),
            (digest(), digest())
                .prop_map(|(expected, found)| Rejection::WrongPredecessor { expected, found }),
            Just(Rejection::Duplicate),
            (digest(), digest())
                .prop_map(|(first, second)| Rejection::Equivocation { first, second }),
            text().prop_map(|detail| Rejection::InvalidProof { detail }),
            any::<u64>()
                .prop_map(|ordinary_before| Rejection::GovernanceOutOfOrder { ordinary_before }),
            any::<usize>().prop_map(|limit| Rejection::TooManyGovernanceRecords { limit }),
            any::<u16>().prop_map(|body_kind| Rejection::WithheldNotRedactable { body_kind }),
            Just(Rejection::WithheldWithoutOrder),
            (any::<u64>(), digest())
                .prop_map(|(seq, id)| Rejection::RedactionTargetNotFound { seq, id }),
        ]
    }

    proptest! {
        /// Every variant reads back as it was written, and its tag is its rule's number,
        /// which is the position of its code in FORMAT.md §10's table.
        #[test]
        fn a_rejection_round_trips(value in rejection()) {
            let bytes = value.to_bytes();
            prop_assert_eq!(Rejection::from_bytes(&bytes)?, value.clone());
            let number = u32::from_le_bytes(bytes[..4].try_into().map_err(|_| {
                TestCaseError::fail("a tag")
            })?);
            prop_assert_eq!(CODES_IN_ORDER[number as usize - 1], value.code());
        }

        #[test]
        fn a_cut_rejection_is_refused(value in rejection(), cut in any::<prop::sample::Index>()) {
            let bytes = value.to_bytes();
            prop_assert!(Rejection::from_bytes(&bytes[..cut.index(bytes.len())]).is_err());
        }
    }

    /// FORMAT.md §10's codes, rule 1 first.
    const CODES_IN_ORDER: [&str; 27] = [
        "malformed",
        "unsupported-version",
        "wrong-network",
        "invalid-signing-key",
        "bad-signature",
        "body-hash-mismatch",
        "body-malformed",
        "body-kind-mismatch",
        "invalid-amount",
        "invalid-field",
        "invalid-proof-of-possession",
        "unknown-author",
        "member-removed",
        "key-not-authors",
        "key-not-yet-valid",
        "key-rotated-out",
        "key-revoked",
        "gap",
        "wrong-predecessor",
        "duplicate",
        "equivocation",
        "invalid-proof",
        "governance-out-of-order",
        "too-many-governance-records",
        "withheld-not-redactable",
        "withheld-without-order",
        "redaction-target-not-found",
    ];

    #[test]
    fn unknown_tags_and_long_texts_are_refused() {
        for tag in [0u32, 28, u32::MAX] {
            assert_eq!(
                Rejection::from_bytes(&tag.to_le_bytes()),
                Err(DecodeError::UnknownVariant {
                    what: "a rejection",
                    index: tag
                })
            );
        }
        let mut long = tag::MALFORMED.to_le_bytes().to_vec();
        long.extend_from_slice(&(REJECTION_TEXT_BYTES_MAX as u64 + 1).to_le_bytes());
        assert!(matches!(
            Rejection::from_bytes(&long),
            Err(DecodeError::TooLong { .. })
        ));
    }
}
