//! The reasons a record, a chain position or a proof is rejected: [`Rejection`], one variant per
//! rule of FORMAT.md §10, numbered and in the order the rules are checked, each with the stable
//! code that FORMAT.md, the JSON output and the exit reports name it by.

use crate::codec::DecodeError;
use crate::ids::{NetworkId, PublicKey, RecordId};
use crate::text::FieldError;

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
        }
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
