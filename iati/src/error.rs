//! What can go wrong: fatal [`ReadError`]s that end a file, and [`Warning`]s about one activity
//! or transaction that is not imported while reading goes on.

use aidledger_spec::amount::AmountError;
use aidledger_spec::text::FieldError;

/// Why a file cannot be read any further. After an error the reader yields nothing more;
/// every activity before the error has been yielded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The input holds no bytes at all.
    #[error("the input is empty")]
    Empty,
    /// The input holds only whitespace, comments or declarations: no root element.
    #[error("no root element: the input ends at line {line} before any element starts")]
    NoRootElement {
        /// The last line of the input.
        line: u64,
    },
    /// The input is not XML (binary data, text before the root, a broken first tag).
    #[error("not an XML document (line {line}): {reason}")]
    NotXml {
        /// Where the reader gave up.
        line: u64,
        /// What it found.
        reason: String,
    },
    /// Well-formed start, but the root element is not `iati-activities`.
    #[error("not an IATI activity file: the root element is <{root}> at line {line}, not <iati-activities>")]
    NotIati {
        /// The line of the root start tag.
        line: u64,
        /// The root element's name as written.
        root: String,
    },
    /// The document declares or starts with an encoding other than UTF-8.
    #[error("unsupported encoding {encoding:?}: only UTF-8 (or ASCII) IATI files are read")]
    UnsupportedEncoding {
        /// The declared or detected encoding.
        encoding: String,
    },
    /// The root element does not start within [`PROLOG_BYTES_MAX`](crate::PROLOG_BYTES_MAX) bytes.
    #[error("no root element within the first {prolog_bytes_max} bytes")]
    PrologTooLarge {
        /// The limit that applied.
        prolog_bytes_max: u64,
    },
    /// One XML token is longer than [`TOKEN_BYTES_MAX`](crate::TOKEN_BYTES_MAX).
    #[error("line {line}: an XML token is longer than {token_bytes_max} bytes")]
    TokenTooLarge {
        /// The line where the token starts.
        line: u64,
        /// The limit that applied.
        token_bytes_max: u64,
    },
    /// Elements nest deeper than [`DEPTH_MAX`](crate::DEPTH_MAX).
    #[error("line {line}: elements nest deeper than {depth_max}")]
    TooDeep {
        /// The line of the element that is one too deep.
        line: u64,
        /// The limit that applied.
        depth_max: usize,
    },
    /// The XML breaks inside the root element (bad syntax, mismatched tags, invalid UTF-8).
    #[error("XML broken at line {line}{}: {reason}", in_activity(activity_id))]
    Malformed {
        /// The line where reading stopped.
        line: u64,
        /// The activity being read, when known.
        activity_id: Option<String>,
        /// What the XML parser reported.
        reason: String,
    },
    /// The input ends before the root element (or an activity) is closed.
    #[error(
        "the input ends at line {line} before <{open_element}> is closed{}",
        in_activity(activity_id)
    )]
    Truncated {
        /// The last line of the input.
        line: u64,
        /// The innermost element left open that the reader was tracking.
        open_element: String,
        /// The activity being read, when known.
        activity_id: Option<String>,
    },
    /// The underlying reader failed.
    #[error("I/O error at line {line}: {source}")]
    Io {
        /// The line reached before the failure.
        line: u64,
        /// The failure.
        source: std::io::Error,
    },
}

fn in_activity(activity_id: &Option<String>) -> String {
    match activity_id {
        Some(id) => format!(" (inside activity {id:?})"),
        None => String::new(),
    }
}

/// Something that is not imported, with where it is. Never a silent drop: every transaction
/// the reader sees is either mapped or named in a warning.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, activity {activity_id:?}: {reason}")]
pub struct Warning {
    /// The line where the activity or transaction starts.
    pub line: u64,
    /// The activity's `iati-identifier`, empty when it has none.
    pub activity_id: String,
    /// What is wrong.
    pub reason: WarningReason,
}

/// Why an activity or transaction is not imported, or what the reader had to choose.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WarningReason {
    /// The activity has no `iati-identifier` (or an empty one).
    #[error("the activity has no iati-identifier")]
    MissingActivityIdentifier,
    /// The activity has no `reporting-org/@ref`, so no import key can be made.
    #[error("the activity has no reporting-org ref")]
    MissingReportingOrg,
    /// The activity is larger than the reader's limit; none of its transactions are imported.
    #[error(
        "the activity is larger than {activity_bytes_max} bytes; its transactions are not imported"
    )]
    ActivityTooLarge {
        /// The limit that applied.
        activity_bytes_max: u64,
    },
    /// An element that may appear once appears again; the first one is used.
    #[error("<{element}> appears more than once; the first is used")]
    DuplicateElement {
        /// The element's name.
        element: &'static str,
    },
    /// The transaction has no `transaction-type/@code`.
    #[error("the transaction has no transaction-type code")]
    MissingTransactionType,
    /// An IATI 1.0x letter code with no one-to-one 2.0x code (`C`: outgoing 2 or incoming 11
    /// commitment); the others are mapped (see [`crate::LEGACY_TRANSACTION_TYPE_MAPPING`]).
    #[error("legacy IATI 1.0x transaction-type code {0:?} is not imported: it has no one-to-one 2.0x code (a 1.0x commitment may be outgoing, 2, or incoming, 11)")]
    LegacyTransactionType(String),
    /// A code that is neither 1 to 13 nor a known legacy letter code.
    #[error("transaction-type code {0:?} is not an IATI TransactionType code (1 to 13)")]
    UnknownTransactionType(String),
    /// The transaction has no `value` text.
    #[error("the transaction has no value")]
    MissingValue,
    /// The value is not a plain decimal number.
    #[error("value {text:?} is not an amount: {problem}")]
    UnparseableValue {
        /// The value as written.
        text: String,
        /// Why it was refused.
        problem: AmountError,
    },
    /// Neither `value/@currency` nor the activity's `default-currency` is given.
    #[error("the value has no currency and the activity no default-currency")]
    MissingCurrency,
    /// The currency is not in the IATI Currency codelist.
    #[error("currency {0:?} is not in the IATI Currency codelist")]
    UnknownCurrency(String),
    /// Neither `transaction-date/@iso-date` nor `value/@value-date` is given.
    #[error("the transaction has neither a transaction-date nor a value-date")]
    MissingDate,
    /// A date that is not `YYYY-MM-DD` (optionally followed by a time or zone).
    #[error("{field} {text:?} is not a date YYYY-MM-DD")]
    BadDate {
        /// `transaction-date` or `value-date`.
        field: &'static str,
        /// The date as written.
        text: String,
    },
    /// Part of what an activity is about (a title, a date, a percentage, …) is left out of its
    /// activity record: it breaks a field rule or a limit of the record (FORMAT.md §5.10).
    /// The activity's transactions are not affected.
    #[error("activity record: {field} left out: {problem}")]
    ActivityField {
        /// The field of the activity record, as FORMAT.md names it (`titles[1].text`).
        field: String,
        /// Why.
        problem: String,
    },
    /// The mapped transaction breaks a field rule of the protocol (too long, control characters).
    #[error("the mapped transaction breaks a field rule: {0}")]
    InvalidField(FieldError),
}
