//! What the reader yields: one [`Activity`] with its [`IatiTransaction`]s, texts as written.
//!
//! Everything is kept as the publisher's text (trimmed of surrounding whitespace, except the
//! value, which is kept exactly); interpretation happens in [`crate::to_transaction`]. Attributes
//! given empty (`currency=""`, as IATI 1.0x files do) count as absent.

use crate::error::Warning;

/// One `iati-activity` element.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// `iati-identifier` text; `None` when missing or empty.
    pub identifier: Option<String>,
    /// `reporting-org/@ref`.
    pub reporting_org_ref: Option<String>,
    /// `reporting-org`'s first non-empty narrative (IATI 1.0x: its own text).
    pub reporting_org_name: Option<String>,
    /// `@default-currency`.
    pub default_currency: Option<String>,
    /// `@xml:lang`: the language of narratives that name none.
    pub default_language: Option<String>,
    /// What the activity is about: titles, descriptions, places, sectors, organisations.
    pub about: ActivityAbout,
    /// The line of the `<iati-activity` start tag (1-based).
    pub line: u64,
    /// The transactions, in document order.
    pub transactions: Vec<IatiTransaction>,
    /// What the reader noticed while reading this activity (duplicates, size limit).
    pub warnings: Vec<Warning>,
}

impl Activity {
    /// The identifier, or `""` when the activity has none.
    pub fn identifier_or_empty(&self) -> &str {
        self.identifier.as_deref().unwrap_or("")
    }
}

/// One `transaction` element of an activity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IatiTransaction {
    /// Position within the activity: 0 for the first transaction.
    pub position: usize,
    /// How many earlier transactions of the same activity have the same identity (the same
    /// `@ref`, or without a ref the same type code and transaction date). Part of the import key.
    pub identity_occurrence: usize,
    /// The line of the `<transaction` start tag (1-based).
    pub line: u64,
    /// `@ref`.
    pub transaction_ref: Option<String>,
    /// `transaction-type/@code` as written (`"3"`, or a 1.0x letter code such as `"D"`).
    pub type_code: Option<String>,
    /// `transaction-date/@iso-date` as written.
    pub transaction_date: Option<String>,
    /// `value` text exactly as written (not trimmed).
    pub value: Option<String>,
    /// `value/@currency`, else the activity's `@default-currency`.
    pub currency: Option<String>,
    /// `value/@value-date` as written.
    pub value_date: Option<String>,
    /// `provider-org`.
    pub provider: Option<OrgReference>,
    /// `receiver-org`.
    pub receiver: Option<OrgReference>,
    /// `description`'s first non-empty narrative (IATI 1.0x: its own text).
    pub description: Option<String>,
}

/// A `provider-org` or `receiver-org`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgReference {
    /// `@ref`.
    pub org_ref: Option<String>,
    /// First non-empty narrative (IATI 1.0x: the element's own text).
    pub name: Option<String>,
    /// `@provider-activity-id` or `@receiver-activity-id`.
    pub activity_id: Option<String>,
}

/// What an activity is about, as written (kept for the activity record, FORMAT.md §5.10).
/// Bounded by the activity's size limit: an activity over it keeps none of this.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityAbout {
    /// `title` narratives (IATI 1.0x: the element's own text), in document order.
    pub titles: Vec<Narrative>,
    /// Activity-level `description`s (not a transaction's).
    pub descriptions: Vec<Description>,
    /// `activity-status/@code`.
    pub status: Option<String>,
    /// `activity-date`s.
    pub dates: Vec<DateEntry>,
    /// `recipient-country`s (no vocabulary).
    pub recipient_countries: Vec<Share>,
    /// `recipient-region`s.
    pub recipient_regions: Vec<Share>,
    /// `sector`s.
    pub sectors: Vec<Share>,
    /// `participating-org`s.
    pub participating_orgs: Vec<Participant>,
}

/// A text with its `xml:lang`, when it has one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Narrative {
    /// `@xml:lang` of the narrative (or, in 1.0x, of its element).
    pub language: Option<String>,
    /// The text, trimmed.
    pub text: String,
}

/// An activity `description`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Description {
    /// `@type`.
    pub type_code: Option<String>,
    /// Its narratives, one per language.
    pub narratives: Vec<Narrative>,
}

/// An `activity-date`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DateEntry {
    /// `@type` (2.0x numbers; 1.0x names such as `start-planned`).
    pub type_code: Option<String>,
    /// `@iso-date` as written.
    pub iso_date: Option<String>,
    /// The line of the element.
    pub line: u64,
}

/// A `recipient-country`, `recipient-region` or `sector`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Share {
    /// `@vocabulary` (regions and sectors).
    pub vocabulary: Option<String>,
    /// `@code`.
    pub code: Option<String>,
    /// `@percentage` as written.
    pub percentage: Option<String>,
}

/// A `participating-org`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Participant {
    /// `@role`.
    pub role: Option<String>,
    /// `@ref`.
    pub org_ref: Option<String>,
    /// `@type`.
    pub org_type: Option<String>,
    /// `@activity-id`.
    pub activity_id: Option<String>,
    /// Its name's narratives (IATI 1.0x: the element's own text).
    pub names: Vec<Narrative>,
}
