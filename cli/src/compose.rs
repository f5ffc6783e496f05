//! Turning command-line values into record bodies, with errors that name the bad value.

use aidledger_spec::amount::canonical_amount;
use aidledger_spec::currency::is_known_currency;
use aidledger_spec::limits::BODY_SIZE_BYTES_MAX;
use aidledger_spec::record::{
    transaction_type_code, Money, Party, TextVersion, Transaction, TRANSACTION_TYPE_NAMES,
};
use aidledger_spec::redaction::{RedactedRecord, RedactionCategory};
use aidledger_spec::text::Date;
use aidledger_spec::RecordId;
use std::io::Read;
use std::path::Path;

/// A value on the command line that cannot become part of a record.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// An amount that is not an exact decimal.
    #[error("--amount: {0}")]
    Amount(#[from] aidledger_spec::amount::AmountError),
    /// A currency not in the IATI Currency codelist.
    #[error("--currency: unknown currency code {0:?} (expected an ISO 4217 code from the IATI codelist, such as GBP, EUR, USD)")]
    Currency(String),
    /// A transaction type that is not an IATI code or name.
    #[error("--type: {0:?} is not an IATI transaction type; use a code 1 to 13 or one of: {names}", names = TRANSACTION_TYPE_NAMES.join(", "))]
    TransactionType(String),
    /// A bad date.
    #[error("{flag}: {source}")]
    Date {
        /// The flag.
        flag: &'static str,
        /// The reason.
        source: aidledger_spec::text::FieldError,
    },
    /// A bad record id.
    #[error("{flag}: {source}")]
    RecordId {
        /// The flag.
        flag: &'static str,
        /// The reason.
        source: aidledger_spec::ids::HexError,
    },
    /// A body that breaks a field rule.
    #[error("{0}")]
    Field(#[from] aidledger_spec::text::FieldError),
    /// Something else about the arguments.
    #[error("{0}")]
    Other(String),
    /// A flag's value that is not acceptable, and why.
    #[error("{flag}: {problem}")]
    Flag {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A `--text` value that is not `LANG=FILE`.
    #[error("--text {0:?}: expected LANG=FILE, such as en=treaty.txt")]
    TextVersion(String),
    /// A body text file that could not be read.
    #[error("{flag}: cannot read {path}")]
    TextFile {
        /// The flag.
        flag: &'static str,
        /// The file.
        path: String,
        /// The reason.
        source: std::io::Error,
    },
    /// A body text file larger than a record's body may be.
    #[error("{flag} {path}: the file is {size}, over the limit of a record's body: {limit} bytes (16 MiB)", limit = BODY_SIZE_BYTES_MAX)]
    TextTooLarge {
        /// The flag.
        flag: &'static str,
        /// The file.
        path: String,
        /// Its size (`N bytes`), or `larger` for a pipe or device.
        size: String,
    },
    /// A body text file that is not UTF-8.
    #[error("{flag}: {path} is not UTF-8 text")]
    TextNotUtf8 {
        /// The flag.
        flag: &'static str,
        /// The file.
        path: String,
        /// The reason.
        source: std::string::FromUtf8Error,
    },
}

/// Reads a date flag.
pub fn date(flag: &'static str, text: &str) -> Result<Date, ComposeError> {
    Date::parse(text).map_err(|source| ComposeError::Date { flag, source })
}

/// Reads a record id flag.
pub fn record_id(flag: &'static str, text: &str) -> Result<RecordId, ComposeError> {
    RecordId::from_hex(text).map_err(|source| ComposeError::RecordId { flag, source })
}

/// Reads an amount and currency into exact money.
pub fn money(amount: &str, currency: &str) -> Result<Money, ComposeError> {
    let amount = canonical_amount(amount)?;
    if !is_known_currency(currency) {
        return Err(ComposeError::Currency(currency.to_owned()));
    }
    Ok(Money {
        amount,
        currency: currency.to_owned(),
    })
}

/// Reads a transaction type given as a code or an IATI name.
pub fn transaction_type(text: &str) -> Result<u8, ComposeError> {
    transaction_type_code(text).ok_or_else(|| ComposeError::TransactionType(text.to_owned()))
}

/// A party from optional flags; none when every flag is absent.
pub fn party(
    org_ref: Option<String>,
    name: Option<String>,
    activity_id: Option<String>,
) -> Option<Party> {
    if org_ref.is_none() && name.is_none() && activity_id.is_none() {
        return None;
    }
    Some(Party {
        org_ref: org_ref.unwrap_or_default(),
        name: name.unwrap_or_default(),
        activity_id: activity_id.unwrap_or_default(),
    })
}

/// Values of `record transaction`.
pub struct TransactionArgs {
    /// IATI activity id.
    pub activity: String,
    /// Type code or name.
    pub transaction_type: String,
    /// Amount text.
    pub amount: String,
    /// Currency code.
    pub currency: String,
    /// Value date.
    pub value_date: String,
    /// Transaction date (defaults to the value date).
    pub date: Option<String>,
    /// Provider.
    pub provider: Option<Party>,
    /// Receiver.
    pub receiver: Option<Party>,
    /// Description.
    pub description: String,
    /// Acknowledged record id.
    pub acknowledges: Option<String>,
}

/// Builds and checks a transaction.
pub fn transaction(args: TransactionArgs) -> Result<Transaction, ComposeError> {
    let value_date = date("--value-date", &args.value_date)?;
    let transaction = Transaction {
        activity_id: args.activity,
        transaction_type: transaction_type(&args.transaction_type)?,
        value: money(&args.amount, &args.currency)?,
        value_date,
        transaction_date: match &args.date {
            Some(text) => date("--date", text)?,
            None => value_date,
        },
        provider: args.provider,
        receiver: args.receiver,
        description: args.description,
        acknowledges: args
            .acknowledges
            .as_deref()
            .map(|id| record_id("--acknowledges", id))
            .transpose()?,
        iati: None,
    };
    aidledger_spec::Body::Transaction(transaction.clone()).check()?;
    Ok(transaction)
}

/// A language version of a treaty from `LANG=FILE` (the file read by [`body_text`]).
pub fn text_version(spec: &str) -> Result<TextVersion, ComposeError> {
    let (language, path) = spec
        .split_once('=')
        .ok_or_else(|| ComposeError::TextVersion(spec.to_owned()))?;
    let text = body_text("--text", Path::new(path))?;
    Ok(TextVersion {
        language: language.to_owned(),
        text,
    })
}

/// Reads a text for a record body, refusing one over the body limit before reading it: a
/// record can never hold more, and a huge file (or `/dev/zero`) must not fill the memory.
pub fn body_text(flag: &'static str, path: &Path) -> Result<String, ComposeError> {
    let shown = || path.display().to_string();
    let unreadable = |source| ComposeError::TextFile {
        flag,
        path: shown(),
        source,
    };
    let too_large = |size: String| ComposeError::TextTooLarge {
        flag,
        path: shown(),
        size,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let metadata = file.metadata().map_err(unreadable)?;
    if metadata.is_file() && metadata.len() > BODY_SIZE_BYTES_MAX as u64 {
        return Err(too_large(format!("{} bytes", metadata.len())));
    }
    // A pipe or device has no size: read one byte past the limit to know it is over.
    let mut bytes = Vec::new();
    file.take(BODY_SIZE_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() > BODY_SIZE_BYTES_MAX {
        return Err(too_large("larger".to_owned()));
    }
    String::from_utf8(bytes).map_err(|source| ComposeError::TextNotUtf8 {
        flag,
        path: shown(),
        source,
    })
}

/// One record a redaction names, as `--record` takes it: `SEQ:ID` (its position in its
/// author's chain and its id), or the id alone, whose position is then read from the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamedRecord {
    /// `SEQ:ID`.
    At(RedactedRecord),
    /// `ID`: the position is to be looked up.
    Id(RecordId),
}

/// Reads a `--record SEQ:ID` (or `--record ID`) value.
pub fn named_record(flag: &'static str, text: &str) -> Result<NamedRecord, ComposeError> {
    let problem = |problem: String| ComposeError::Flag { flag, problem };
    let Some((seq, id)) = text.trim().split_once(':') else {
        return RecordId::from_hex(text.trim())
            .map(NamedRecord::Id)
            .map_err(|error| {
                problem(format!(
                    "{text:?} is not SEQ:ID (the record's sequence number in its author's chain, a colon, its 64-hex id, such as 3:{}) nor an id: {error}",
                    "ab".repeat(32)
                ))
            });
    };
    let seq: u64 = seq.trim().parse().map_err(|_| {
        problem(format!(
            "{text:?}: the sequence number {seq:?} before the colon is not a whole number"
        ))
    })?;
    let id = RecordId::from_hex(id.trim())
        .map_err(|error| problem(format!("{text:?}: the id after the colon: {error}")))?;
    Ok(NamedRecord::At(RedactedRecord { seq, id }))
}

/// The records of an order, sorted by seq as the record rules want them; one position named
/// twice is refused (twice the same record counts once).
pub fn redacted_records(
    flag: &'static str,
    mut records: Vec<RedactedRecord>,
) -> Result<Vec<RedactedRecord>, ComposeError> {
    records.sort();
    records.dedup();
    if let Some(pair) = records.windows(2).find(|pair| pair[0].seq == pair[1].seq) {
        return Err(ComposeError::Flag {
            flag,
            problem: format!(
                "seq {} is named with two ids ({} and {}); a position holds one record",
                pair[0].seq, pair[0].id, pair[1].id
            ),
        });
    }
    Ok(records)
}

/// Reads a redaction category by its name.
pub fn redaction_category(
    flag: &'static str,
    text: &str,
) -> Result<RedactionCategory, ComposeError> {
    RedactionCategory::parse(text.trim()).ok_or_else(|| ComposeError::Flag {
        flag,
        problem: format!(
            "{text:?} is not a redaction category; use one of {}",
            RedactionCategory::ALL
                .map(RedactionCategory::name)
                .join(", ")
        ),
    })
}
