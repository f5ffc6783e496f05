//! Records: the signed header and the body kinds (design note §3).
//!
//! A body kind is added by a format version, never by reinterpretation: the body enum's
//! discriminant is the kind, and the header repeats it so that a header alone says what it covers.

pub use crate::activity::Activity;
use crate::amount::check_canonical_amount;
use crate::currency::is_currency_shaped;
pub use crate::governance::{Approval, KeyRotation, Proposal};
use crate::ids::{hash_with_domain, Digest, NetworkId, PublicKey, RecordId};
use crate::limits::{
    DESCRIPTION_BYTES_MAX, SHORT_TEXT_BYTES_MAX, TREATY_PARTIES_MAX, TREATY_VERSIONS_MAX,
};
use crate::redaction::Redaction;
use crate::text::{check_language, check_org_id, check_required, check_text, Date, FieldError};
use crate::{codec, domain};

/// The only record format version this crate reads and writes.
pub const RECORD_FORMAT_VERSION: u16 = 1;

/// The signed part of a record. Its canonical bytes are what the record id hashes.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct RecordHeader {
    /// [`RECORD_FORMAT_VERSION`].
    pub format_version: u16,
    /// The network this record belongs to; a record cannot be replayed into another network.
    pub network_id: NetworkId,
    /// The organisation whose chain this record extends.
    pub author: String,
    /// Position in the author's chain: 0, 1, 2, …
    pub seq: u64,
    /// The id of the author's record at `seq - 1`; all zero when `seq` is 0.
    pub prev: RecordId,
    /// When the author says it wrote the record, in milliseconds since the Unix epoch (a claim, not a proof).
    pub timestamp_ms: u64,
    /// The key that signs this record; it must be one of the author's keys in the genesis.
    pub signing_key: PublicKey,
    /// The body's kind, equal to the body's discriminant.
    pub body_kind: u16,
    /// Length of the encoded body, in bytes.
    pub body_size_bytes: u32,
    /// SHA-256 over the body domain and the encoded body.
    pub body_hash: Digest,
}

impl RecordHeader {
    /// The record id: SHA-256 over the record domain and the canonical header bytes.
    pub fn id(&self) -> RecordId {
        record_id_of_header_bytes(&codec::encode(self))
    }
}

/// The record id of already encoded header bytes.
pub fn record_id_of_header_bytes(header_bytes: &[u8]) -> RecordId {
    hash_with_domain(domain::RECORD_ID, &[header_bytes])
}

/// The body hash of already encoded body bytes.
pub fn body_hash_of_bytes(body_bytes: &[u8]) -> Digest {
    hash_with_domain(domain::BODY, &[body_bytes])
}

/// What a record says. The variant index is the body kind.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub enum Body {
    /// Kind 0: money moved or promised.
    Transaction(Transaction),
    /// Kind 1: the text of a treaty or agreement.
    TreatyText(TreatyText),
    /// Kind 2: a party's action on a treaty text.
    TreatyAction(TreatyAction),
    /// Kind 3: an official statement.
    Statement(Statement),
    /// Kind 4: a correction of an earlier record of the same author.
    Correction(Correction),
    /// Kind 5: an admin's proposal to change the network (governance).
    Proposal(Proposal),
    /// Kind 6: an admin's approval of a proposal (governance).
    Approval(Approval),
    /// Kind 7: the author replaces the key that signs this record (governance).
    KeyRotation(KeyRotation),
    /// Kind 8: what an IATI activity is about; the author's latest for an identifier counts.
    Activity(Activity),
    /// Kind 9: the author orders its own earlier records' bodies forgotten (FORMAT.md §5.11).
    Redaction(Redaction),
}

/// The body kinds, with their wire numbers. Kinds 5 to 7 are governance records; kind 8 came
/// after them and is an ordinary record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum BodyKind {
    /// See [`Body::Transaction`].
    Transaction = 0,
    /// See [`Body::TreatyText`].
    TreatyText = 1,
    /// See [`Body::TreatyAction`].
    TreatyAction = 2,
    /// See [`Body::Statement`].
    Statement = 3,
    /// See [`Body::Correction`].
    Correction = 4,
    /// See [`Body::Proposal`].
    Proposal = 5,
    /// See [`Body::Approval`].
    Approval = 6,
    /// See [`Body::KeyRotation`].
    KeyRotation = 7,
    /// See [`Body::Activity`].
    Activity = 8,
    /// See [`Body::Redaction`].
    Redaction = 9,
}

impl BodyKind {
    /// The kind's name as the CLI and explorer show it.
    pub fn name(self) -> &'static str {
        match self {
            BodyKind::Transaction => "transaction",
            BodyKind::TreatyText => "treaty-text",
            BodyKind::TreatyAction => "treaty-action",
            BodyKind::Statement => "statement",
            BodyKind::Correction => "correction",
            BodyKind::Proposal => "proposal",
            BodyKind::Approval => "approval",
            BodyKind::KeyRotation => "key-rotation",
            BodyKind::Activity => "activity",
            BodyKind::Redaction => "redaction",
        }
    }

    /// Whether records of this kind change who may sign what (FORMAT.md, "Governance").
    pub fn is_governance(self) -> bool {
        matches!(
            self,
            BodyKind::Proposal | BodyKind::Approval | BodyKind::KeyRotation
        )
    }

    /// Whether a record of this kind may have its body withheld under a redaction order
    /// (FORMAT.md §6.1): content records. Governance records build the authority every
    /// verifier derives, and orders say why something is missing: neither can be withheld.
    pub fn is_redactable(self) -> bool {
        !self.is_governance() && self != BodyKind::Redaction
    }

    /// The name of the kind with this wire number, or `unknown` (a header read without its
    /// body: a withheld record's, FORMAT.md §6.1).
    pub fn wire_name(kind: u16) -> &'static str {
        BodyKind::from_wire(kind).map_or("unknown", BodyKind::name)
    }

    /// The kind with this wire number.
    pub fn from_wire(kind: u16) -> Option<BodyKind> {
        Some(match kind {
            0 => BodyKind::Transaction,
            1 => BodyKind::TreatyText,
            2 => BodyKind::TreatyAction,
            3 => BodyKind::Statement,
            4 => BodyKind::Correction,
            5 => BodyKind::Proposal,
            6 => BodyKind::Approval,
            7 => BodyKind::KeyRotation,
            8 => BodyKind::Activity,
            9 => BodyKind::Redaction,
            _ => return None,
        })
    }
}

impl Body {
    /// This body's kind.
    pub fn kind(&self) -> BodyKind {
        match self {
            Body::Transaction(_) => BodyKind::Transaction,
            Body::TreatyText(_) => BodyKind::TreatyText,
            Body::TreatyAction(_) => BodyKind::TreatyAction,
            Body::Statement(_) => BodyKind::Statement,
            Body::Correction(_) => BodyKind::Correction,
            Body::Proposal(_) => BodyKind::Proposal,
            Body::Approval(_) => BodyKind::Approval,
            Body::KeyRotation(_) => BodyKind::KeyRotation,
            Body::Activity(_) => BodyKind::Activity,
            Body::Redaction(_) => BodyKind::Redaction,
        }
    }

    /// Checks every field rule of the body (FORMAT.md, "Field rules").
    pub fn check(&self) -> Result<(), FieldError> {
        match self {
            Body::Transaction(body) => body.check().map_err(|error| error.within("body")),
            Body::TreatyText(body) => body.check("body"),
            Body::TreatyAction(body) => body.check("body"),
            Body::Statement(body) => body.check("body"),
            Body::Correction(body) => body.check("body"),
            Body::Proposal(body) => body.check("body"),
            Body::Approval(_) => Ok(()),
            Body::KeyRotation(_) => Ok(()),
            Body::Activity(body) => body.check().map_err(|error| error.within("body")),
            Body::Redaction(body) => body.check("body"),
        }
    }
}

/// An amount of money in one currency.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Money {
    /// Canonical decimal text (see `amount`); may be negative (IATI reversals).
    pub amount: String,
    /// ISO 4217 code, three capital letters.
    pub currency: String,
}

/// One side of a transaction, as IATI's provider-org / receiver-org.
#[derive(
    Clone, Debug, PartialEq, Eq, Default, bincode::Encode, bincode::Decode, serde::Serialize,
)]
pub struct Party {
    /// The organisation's identifier (IATI org ref or member id); may be empty when the publisher gave none.
    pub org_ref: String,
    /// The organisation's name as written; may be empty.
    pub name: String,
    /// The IATI activity id on that side; may be empty.
    pub activity_id: String,
}

/// Where an imported transaction came from.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct IatiSource {
    /// Stable key of the source transaction, so that re-imports are recognised (issue of the importer).
    pub import_key: Digest,
    /// The publisher's transaction `@ref`; may be empty.
    pub transaction_ref: String,
    /// The value exactly as the publisher wrote it.
    pub original_value: String,
}

/// Money moved or promised, aligned with the IATI TransactionType codelist.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Transaction {
    /// The IATI activity identifier this transaction belongs to.
    pub activity_id: String,
    /// IATI TransactionType code, 1 (incoming funds) to 13 (incoming pledge).
    pub transaction_type: u8,
    /// The value.
    pub value: Money,
    /// The date the value refers to (exchange rate date).
    pub value_date: Date,
    /// The date of the transaction.
    pub transaction_date: Date,
    /// Who provides the money.
    pub provider: Option<Party>,
    /// Who receives it.
    pub receiver: Option<Party>,
    /// Free text.
    pub description: String,
    /// The provider's record that this record acknowledges (a receipt of funds).
    pub acknowledges: Option<RecordId>,
    /// Set when the record was imported from an IATI file.
    pub iati: Option<IatiSource>,
}

/// IATI TransactionType names, indexed by code - 1.
pub const TRANSACTION_TYPE_NAMES: [&str; 13] = [
    "incoming-funds",
    "outgoing-commitment",
    "disbursement",
    "expenditure",
    "interest-payment",
    "loan-repayment",
    "reimbursement",
    "purchase-of-equity",
    "sale-of-equity",
    "credit-guarantee",
    "incoming-commitment",
    "outgoing-pledge",
    "incoming-pledge",
];

/// The IATI TransactionType code for a name or a number written as text.
pub fn transaction_type_code(name_or_code: &str) -> Option<u8> {
    if let Ok(code) = name_or_code.parse::<u8>() {
        return (1..=13).contains(&code).then_some(code);
    }
    let position = TRANSACTION_TYPE_NAMES
        .iter()
        .position(|name| *name == name_or_code)?;
    u8::try_from(position + 1).ok()
}

/// The name of an IATI TransactionType code.
pub fn transaction_type_name(code: u8) -> &'static str {
    TRANSACTION_TYPE_NAMES
        .get(usize::from(code).wrapping_sub(1))
        .copied()
        .unwrap_or("unknown")
}

/// Checks a party's fields, named relative to the party (`org_ref`, …).
fn check_party(party: &Party) -> Result<(), FieldError> {
    check_text("org_ref", &party.org_ref, SHORT_TEXT_BYTES_MAX)?;
    check_text("name", &party.name, SHORT_TEXT_BYTES_MAX)?;
    check_text("activity_id", &party.activity_id, SHORT_TEXT_BYTES_MAX)
}

impl Transaction {
    /// Checks every field rule; fields are named relative to the transaction (`value.amount`),
    /// and the caller puts its own path before them ([`FieldError::within`]) only when one
    /// fails: this runs for every record signed or verified, and naming each field up front
    /// cost an allocation per field.
    fn check(&self) -> Result<(), FieldError> {
        check_required("activity_id", &self.activity_id)?;
        if !(1..=13).contains(&self.transaction_type) {
            return Err(FieldError::new(
                "transaction_type",
                format!(
                    "{} is not an IATI TransactionType code (1 to 13)",
                    self.transaction_type
                ),
            ));
        }
        check_canonical_amount(&self.value.amount)
            .map_err(|error| FieldError::new("value.amount", error.to_string()))?;
        if !is_currency_shaped(&self.value.currency) {
            return Err(FieldError::new(
                "value.currency",
                format!("{:?} is not three capital letters", self.value.currency),
            ));
        }
        self.value_date.check("value_date")?;
        self.transaction_date.check("transaction_date")?;
        if let Some(party) = &self.provider {
            check_party(party).map_err(|error| error.within("provider"))?;
        }
        if let Some(party) = &self.receiver {
            check_party(party).map_err(|error| error.within("receiver"))?;
        }
        check_text("description", &self.description, DESCRIPTION_BYTES_MAX)?;
        if let Some(source) = &self.iati {
            check_text(
                "iati.transaction_ref",
                &source.transaction_ref,
                SHORT_TEXT_BYTES_MAX,
            )?;
            check_text(
                "iati.original_value",
                &source.original_value,
                SHORT_TEXT_BYTES_MAX,
            )?;
        }
        Ok(())
    }
}

/// One language version of a treaty text; all versions of a record are equally authentic.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct TextVersion {
    /// Language tag such as `en`.
    pub language: String,
    /// The full text, UTF-8.
    pub text: String,
}

impl TextVersion {
    /// This version's own hash: SHA-256 over the text-version domain and the UTF-8 text.
    pub fn hash(&self) -> Digest {
        hash_with_domain(domain::TEXT_VERSION, &[self.text.as_bytes()])
    }
}

/// The text of a treaty or agreement.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct TreatyText {
    /// Title.
    pub title: String,
    /// Organisation ids of the parties, distinct.
    pub parties: Vec<String>,
    /// Language versions, at least one, distinct languages.
    pub versions: Vec<TextVersion>,
    /// The treaty record this text replaces, if any.
    pub supersedes: Option<RecordId>,
}

impl TreatyText {
    /// The text hash that parties act upon: SHA-256 over the treaty-text domain and the
    /// canonical encoding of `versions`, binding every language version together.
    pub fn text_hash(&self) -> Digest {
        hash_with_domain(domain::TREATY_TEXT, &[&codec::encode(&self.versions)])
    }

    fn check(&self, field: &str) -> Result<(), FieldError> {
        check_required(&format!("{field}.title"), &self.title)?;
        if self.parties.is_empty() || self.parties.len() > TREATY_PARTIES_MAX {
            return Err(FieldError::new(
                format!("{field}.parties"),
                format!("must name 1 to {TREATY_PARTIES_MAX} parties"),
            ));
        }
        for (index, party) in self.parties.iter().enumerate() {
            check_org_id(&format!("{field}.parties[{index}]"), party)?;
            if self.parties[..index].contains(party) {
                return Err(FieldError::new(
                    format!("{field}.parties"),
                    format!("{party} is listed twice"),
                ));
            }
        }
        if self.versions.is_empty() || self.versions.len() > TREATY_VERSIONS_MAX {
            return Err(FieldError::new(
                format!("{field}.versions"),
                format!("must hold 1 to {TREATY_VERSIONS_MAX} language versions"),
            ));
        }
        for (index, version) in self.versions.iter().enumerate() {
            check_language(
                &format!("{field}.versions[{index}].language"),
                &version.language,
            )?;
            if self.versions[..index]
                .iter()
                .any(|other| other.language == version.language)
            {
                return Err(FieldError::new(
                    format!("{field}.versions"),
                    format!("language {} appears twice", version.language),
                ));
            }
            if version.text.trim().is_empty() {
                return Err(FieldError::new(
                    format!("{field}.versions[{index}].text"),
                    "must not be empty",
                ));
            }
        }
        Ok(())
    }
}

/// What a party does to a treaty text.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bincode::Encode, bincode::Decode, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum TreatyActionKind {
    /// 0: signature.
    Sign,
    /// 1: ratification.
    Ratify,
    /// 2: accession.
    Accede,
    /// 3: withdrawal.
    Withdraw,
}

impl TreatyActionKind {
    /// Reads `sign`, `ratify`, `accede` or `withdraw`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sign" => Some(Self::Sign),
            "ratify" => Some(Self::Ratify),
            "accede" => Some(Self::Accede),
            "withdraw" => Some(Self::Withdraw),
            _ => None,
        }
    }

    /// The action's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sign => "sign",
            Self::Ratify => "ratify",
            Self::Accede => "accede",
            Self::Withdraw => "withdraw",
        }
    }
}

/// A party's action on a treaty text, bound to the exact text hash.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct TreatyAction {
    /// The treaty text record.
    pub treaty: RecordId,
    /// The [`TreatyText::text_hash`] the party acts upon.
    pub text_hash: Digest,
    /// The action.
    pub action: TreatyActionKind,
    /// The date the action took effect.
    pub date: Date,
    /// Free text (reservations, declarations).
    pub note: String,
}

impl TreatyAction {
    fn check(&self, field: &str) -> Result<(), FieldError> {
        self.date.check(&format!("{field}.date"))?;
        check_text(&format!("{field}.note"), &self.note, DESCRIPTION_BYTES_MAX)
    }
}

/// An official statement.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Statement {
    /// Title.
    pub title: String,
    /// Language tag.
    pub language: String,
    /// The statement, UTF-8.
    pub text: String,
}

impl Statement {
    fn check(&self, field: &str) -> Result<(), FieldError> {
        check_required(&format!("{field}.title"), &self.title)?;
        check_language(&format!("{field}.language"), &self.language)?;
        if self.text.trim().is_empty() {
            return Err(FieldError::new(
                format!("{field}.text"),
                "must not be empty",
            ));
        }
        Ok(())
    }
}

/// The replacement a correction carries. It has no correction variant, so corrections do not
/// nest and decoding never recurses.
// Corrections are rare; keeping the variants unboxed keeps them the same types as in `Body`.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub enum Replacement {
    /// A corrected transaction.
    Transaction(Transaction),
    /// A corrected treaty text.
    TreatyText(TreatyText),
    /// A corrected treaty action.
    TreatyAction(TreatyAction),
    /// A corrected statement.
    Statement(Statement),
}

/// A correction: records are never edited; this names the record it corrects and says why.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct Correction {
    /// The corrected record, an earlier record of the same author.
    pub corrects: RecordId,
    /// Why.
    pub reason: String,
    /// The corrected content, or none for a withdrawal.
    pub replacement: Option<Replacement>,
}

impl Correction {
    fn check(&self, field: &str) -> Result<(), FieldError> {
        check_required(&format!("{field}.reason"), &self.reason)?;
        let field = format!("{field}.replacement");
        match &self.replacement {
            None => Ok(()),
            Some(Replacement::Transaction(body)) => {
                body.check().map_err(|error| error.within(&field))
            }
            Some(Replacement::TreatyText(body)) => body.check(&field),
            Some(Replacement::TreatyAction(body)) => body.check(&field),
            Some(Replacement::Statement(body)) => body.check(&field),
        }
    }
}

impl Replacement {
    /// The replacement as a body of its own kind.
    pub fn to_body(&self) -> Body {
        match self {
            Replacement::Transaction(body) => Body::Transaction(body.clone()),
            Replacement::TreatyText(body) => Body::TreatyText(body.clone()),
            Replacement::TreatyAction(body) => Body::TreatyAction(body.clone()),
            Replacement::Statement(body) => Body::Statement(body.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transaction() -> Transaction {
        let date = Date {
            year: 2026,
            month: 1,
            day: 31,
        };
        Transaction {
            activity_id: "XM-1".into(),
            transaction_type: 3,
            value: Money {
                amount: "10.50".into(),
                currency: "EUR".into(),
            },
            value_date: date,
            transaction_date: date,
            provider: Some(Party::default()),
            receiver: Some(Party::default()),
            description: String::new(),
            acknowledges: None,
            iati: None,
        }
    }

    /// Field names are built only on failure, from the inside out; they must still be the
    /// full dotted paths FORMAT.md uses.
    #[test]
    fn a_failing_field_is_named_by_its_full_path() {
        assert_eq!(Body::Transaction(transaction()).check(), Ok(()));
        let mut bad = transaction();
        bad.receiver = Some(Party {
            name: "a\u{7}bell".into(),
            ..Party::default()
        });
        let error = Body::Transaction(bad.clone()).check().unwrap_err();
        assert_eq!(error.field, "body.receiver.name");
        let correction = Body::Correction(Correction {
            corrects: RecordId::ZERO,
            reason: "wrong receiver".into(),
            replacement: Some(Replacement::Transaction(bad)),
        });
        assert_eq!(
            correction.check().unwrap_err().field,
            "body.replacement.receiver.name"
        );
        let mut bad = transaction();
        bad.value.currency = "eur".into();
        let error = Body::Transaction(bad).check().unwrap_err();
        assert_eq!(error.field, "body.value.currency");
    }
}
