//! Turning command-line values into record bodies, with errors that name the bad value.

use aidledger_spec::amount::canonical_amount;
use aidledger_spec::currency::is_known_currency;
use aidledger_spec::limits::BODY_SIZE_BYTES_MAX;
use aidledger_spec::record::{
    transaction_type_code, Money, Party, TextVersion, Transaction, TRANSACTION_TYPE_NAMES,
};
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
