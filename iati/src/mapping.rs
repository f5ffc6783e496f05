//! From an IATI transaction to a protocol [`Transaction`]: exact amounts, dates, parties, and the
//! import key and content digest that make re-imports idempotent.

use aidledger_spec::amount::canonical_amount;
use aidledger_spec::codec;
use aidledger_spec::currency::is_known_currency;
use aidledger_spec::ids::{hash_with_domain, Digest};
use aidledger_spec::record::{transaction_type_code, Body, IatiSource, Party, Transaction};
use aidledger_spec::sortkey::SortKey;
use aidledger_spec::text::Date;

use crate::error::{Warning, WarningReason};
use crate::model::{Activity, IatiTransaction, OrgReference};

/// Domain-separation string of [`import_key`].
pub const IMPORT_KEY_DOMAIN: &str = "aidledger:iati-import-key:v1\n";
/// Domain-separation string of [`content_digest`].
pub const CONTENT_DIGEST_DOMAIN: &str = "aidledger:iati-content:v1\n";

/// Letter codes of the IATI 1.0x TransactionType codelist (IATI-Codelists, version 1.01:
/// `C`, `D`, `E`, `IF`, `IR`, `LR`, `R`, `QP`, `QS`, `CG`).
pub const LEGACY_TRANSACTION_TYPE_CODES: &[&str] =
    &["C", "CG", "D", "E", "IF", "IR", "LR", "QP", "QS", "R"];

/// The 1.0x letter codes that map to exactly one 2.0x code, and that code.
///
/// Where it comes from: IATI 2.01 replaced the letter codes by the numbers 1 to 10, code for
/// code, in the same order as the 1.0x codelist's names (IATI Standard, "2.01 changes",
/// <https://iatistandard.org/en/iati-standard/upgrades/upgrade-changelogs/integer-upgrade-to-2-01/2-01-changes/>;
/// the 1.01 codelist is `TransactionType.xml` of IATI/IATI-Codelists' 1.0x branch, the 2.03
/// one is `../shared/data/iati/standard/codelists/TransactionType.xml`): IF Incoming Funds → 1,
/// C Commitment → 2, D Disbursement → 3, E Expenditure → 4, IR Interest Repayment → 5 (named
/// "Interest Payment" since), LR Loan Repayment → 6, R Reimbursement → 7, QP Purchase of
/// Equity → 8, QS Sale of Equity → 9, CG Credit Guarantee → 10.
///
/// `C` is left out: 2.02 split the one "Commitment" into 2 Outgoing Commitment and 11 Incoming
/// Commitment, and a 1.0x `C` was used for both (a funder's commitment, and a recipient's record
/// of one), so it no longer maps to one code; it stays a [`WarningReason::LegacyTransactionType`].
pub const LEGACY_TRANSACTION_TYPE_MAPPING: &[(&str, u8)] = &[
    ("IF", 1),
    ("D", 3),
    ("E", 4),
    ("IR", 5),
    ("LR", 6),
    ("R", 7),
    ("QP", 8),
    ("QS", 9),
    ("CG", 10),
];

/// Identity tag in the import key input: the transaction has a `@ref`.
const IDENTITY_BY_REF: u8 = 1;
/// Identity tag in the import key input: no `@ref`; type code and transaction date instead.
const IDENTITY_BY_TYPE_AND_DATE: u8 = 2;

/// Maps one transaction of `activity` to a protocol transaction, or says why it cannot be imported.
///
/// Checks, in this order (the first failing one is the warning): activity identifier,
/// reporting-org ref, transaction type, value, currency, dates, then the protocol's field rules.
/// A missing `value-date` is taken from `transaction-date`, and a missing `transaction-date` from
/// `value-date`; a date that is present but unreadable is a warning, never replaced.
pub fn to_transaction(
    activity: &Activity,
    transaction: &IatiTransaction,
) -> Result<Transaction, Warning> {
    let warning = |reason| Warning {
        line: transaction.line,
        activity_id: activity.identifier_or_empty().to_owned(),
        reason,
    };
    let activity_id = activity
        .identifier
        .as_deref()
        .ok_or_else(|| warning(WarningReason::MissingActivityIdentifier))?;
    let reporting_org_ref = activity
        .reporting_org_ref
        .as_deref()
        .ok_or_else(|| warning(WarningReason::MissingReportingOrg))?;
    let transaction_type = transaction_type(transaction.type_code.as_deref()).map_err(warning)?;
    let (amount, original_value) = amount(transaction.value.as_deref()).map_err(warning)?;
    let currency = currency(transaction.currency.as_deref()).map_err(warning)?;
    let (transaction_date, value_date) = dates(transaction).map_err(warning)?;
    let mapped = Transaction {
        activity_id: activity_id.to_owned(),
        transaction_type,
        value: aidledger_spec::record::Money { amount, currency },
        value_date,
        transaction_date,
        provider: transaction.provider.as_ref().map(party),
        receiver: transaction.receiver.as_ref().map(party),
        description: transaction.description.clone().unwrap_or_default(),
        acknowledges: None,
        iati: Some(IatiSource {
            import_key: import_key(reporting_org_ref, activity_id, transaction),
            transaction_ref: transaction.transaction_ref.clone().unwrap_or_default(),
            original_value,
        }),
    };
    Body::Transaction(mapped.clone())
        .check()
        .map_err(|error| warning(WarningReason::InvalidField(error)))?;
    Ok(mapped)
}

/// The stable key of a transaction: SHA-256 over [`IMPORT_KEY_DOMAIN`] and its identity (rule in
/// the crate docs). It never depends on the value, currency, parties or description.
pub fn import_key(
    reporting_org_ref: &str,
    activity_id: &str,
    transaction: &IatiTransaction,
) -> Digest {
    hash_with_domain(
        IMPORT_KEY_DOMAIN,
        &[&import_key_input(
            reporting_org_ref,
            activity_id,
            transaction,
        )],
    )
}

/// The bytes [`import_key`] hashes (spec/FORMAT.md §21), built with the spec's key builder:
/// each text field an eight-byte big-endian length then its bytes, the identity tag one byte,
/// the occurrence a big-endian u64. These are the bytes of every import made so far; a change
/// would make re-imports of old files look new.
fn import_key_input(
    reporting_org_ref: &str,
    activity_id: &str,
    transaction: &IatiTransaction,
) -> Vec<u8> {
    let key = SortKey::new()
        .long_bytes(reporting_org_ref.as_bytes())
        .long_bytes(activity_id.as_bytes());
    let key = match &transaction.transaction_ref {
        Some(transaction_ref) => key
            .u8(IDENTITY_BY_REF)
            .long_bytes(transaction_ref.as_bytes()),
        None => key
            .u8(IDENTITY_BY_TYPE_AND_DATE)
            .long_bytes(transaction.type_code.as_deref().unwrap_or("").as_bytes())
            .long_bytes(
                transaction
                    .transaction_date
                    .as_deref()
                    .map_or("", date_part)
                    .as_bytes(),
            ),
    };
    // usize is at most 64 bits on every target Rust supports, so this never saturates.
    key.u64(u64::try_from(transaction.identity_occurrence).unwrap_or(u64::MAX))
        .into_bytes()
}

/// SHA-256 over [`CONTENT_DIGEST_DOMAIN`] and the canonical encoding of the mapped transaction:
/// same import key with another digest means the publisher changed the transaction.
pub fn content_digest(transaction: &Transaction) -> Digest {
    hash_with_domain(CONTENT_DIGEST_DOMAIN, &[&codec::encode(transaction)])
}

/// The date part of an IATI date: `2020-06-22T00:00:00`, `2020-06-22 16:35:42`, `2020-06-22Z`
/// and `2020-06-22+01:00` all give `2020-06-22`. The protocol's dates have day precision, so the
/// time is dropped; anything else is returned whole, for [`Date::parse`] to refuse.
pub fn date_part(text: &str) -> &str {
    let text = text.trim();
    match (text.get(..10), text.as_bytes().get(10)) {
        (Some(date), Some(b'T' | b' ' | b'Z' | b'+' | b'-')) => date,
        _ => text,
    }
}

fn transaction_type(code: Option<&str>) -> Result<u8, WarningReason> {
    let code = code.ok_or(WarningReason::MissingTransactionType)?;
    if code.bytes().all(|byte| byte.is_ascii_digit()) {
        if let Some(number) = transaction_type_code(code) {
            return Ok(number);
        }
    }
    let letters = code.to_ascii_uppercase();
    if let Some((_, number)) = LEGACY_TRANSACTION_TYPE_MAPPING
        .iter()
        .find(|(legacy, _)| *legacy == letters)
    {
        return Ok(*number);
    }
    if LEGACY_TRANSACTION_TYPE_CODES.contains(&letters.as_str()) {
        return Err(WarningReason::LegacyTransactionType(code.to_owned()));
    }
    Err(WarningReason::UnknownTransactionType(code.to_owned()))
}

/// The canonical amount and the value exactly as written.
fn amount(value: Option<&str>) -> Result<(String, String), WarningReason> {
    let text = value.ok_or(WarningReason::MissingValue)?;
    let amount = canonical_amount(text).map_err(|problem| WarningReason::UnparseableValue {
        text: text.to_owned(),
        problem,
    })?;
    Ok((amount, text.to_owned()))
}

fn currency(code: Option<&str>) -> Result<String, WarningReason> {
    let code = code.ok_or(WarningReason::MissingCurrency)?;
    if !is_known_currency(code) {
        return Err(WarningReason::UnknownCurrency(code.to_owned()));
    }
    Ok(code.to_owned())
}

/// `(transaction date, value date)`, each falling back to the other when absent.
fn dates(transaction: &IatiTransaction) -> Result<(Date, Date), WarningReason> {
    let transaction_date = parse_date("transaction-date", transaction.transaction_date.as_deref())?;
    let value_date = parse_date("value-date", transaction.value_date.as_deref())?;
    match (transaction_date, value_date) {
        (Some(transaction_date), Some(value_date)) => Ok((transaction_date, value_date)),
        (Some(date), None) | (None, Some(date)) => Ok((date, date)),
        (None, None) => Err(WarningReason::MissingDate),
    }
}

fn parse_date(field: &'static str, text: Option<&str>) -> Result<Option<Date>, WarningReason> {
    let Some(text) = text else {
        return Ok(None);
    };
    Date::parse(date_part(text))
        .map(Some)
        .map_err(|_| WarningReason::BadDate {
            field,
            text: text.to_owned(),
        })
}

fn party(org: &OrgReference) -> Party {
    Party {
        org_ref: org.org_ref.clone().unwrap_or_default(),
        name: org.name.clone().unwrap_or_default(),
        activity_id: org.activity_id.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidledger_spec::sortkey::SortKeyReader;
    use proptest::prelude::*;

    fn transaction(
        transaction_ref: Option<&str>,
        type_code: &str,
        date: Option<&str>,
        occurrence: usize,
    ) -> IatiTransaction {
        IatiTransaction {
            identity_occurrence: occurrence,
            transaction_ref: transaction_ref.map(str::to_owned),
            type_code: Some(type_code.to_owned()),
            transaction_date: date.map(str::to_owned),
            ..IatiTransaction::default()
        }
    }

    /// The keys of imports made before the key went through the spec's key builder: a file
    /// imported then must be recognised now, so these digests never change.
    #[test]
    fn golden_import_keys() {
        let by_ref = import_key(
            "GB-GOV-1",
            "GB-GOV-1-ABC",
            &transaction(Some("T-1"), "3", Some("2024-01-31"), 0),
        );
        let by_type_and_date = import_key(
            "GB-GOV-1",
            "GB-GOV-1-ABC",
            &transaction(None, "3", Some("2024-01-31T10:00:00"), 2),
        );
        assert_eq!(
            by_ref.to_string(),
            "a2680cecac652239c8990b091a46511b33594d65b647cee063dc5a20f40ac3a9"
        );
        assert_eq!(
            hex::encode(import_key_input(
                "GB-GOV-1",
                "GB-GOV-1-ABC",
                &transaction(None, "3", Some("2024-01-31T10:00:00"), 2),
            )),
            format!(
                "{}{}{}{}{}{}{}{}{}",
                "0000000000000008",
                hex::encode("GB-GOV-1"),
                "000000000000000c",
                hex::encode("GB-GOV-1-ABC"),
                "02",
                "0000000000000001",
                hex::encode("3"),
                "000000000000000a323032342d30312d3331",
                "0000000000000002"
            )
        );
        assert_eq!(
            by_type_and_date.to_string(),
            "45a55cbac2ef6fae1a6dae9e7cabaa512cb60127d235b7f6f5e416e60238dcaf"
        );
    }

    /// Every 1.0x letter code: one-to-one codes give their 2.0x number, `C` a warning, and
    /// the type names agree with the 2.03 codelist's (IR was renamed "Interest Payment").
    #[test]
    fn legacy_codes_map_one_to_one_or_warn() {
        let names = [
            ("IF", "Incoming Funds"),
            ("D", "Disbursement"),
            ("E", "Expenditure"),
            ("IR", "Interest Payment"),
            ("LR", "Loan Repayment"),
            ("R", "Reimbursement"),
            ("QP", "Purchase of Equity"),
            ("QS", "Sale of Equity"),
            ("CG", "Credit Guarantee"),
        ];
        for code in LEGACY_TRANSACTION_TYPE_CODES {
            match transaction_type(Some(code)) {
                Ok(number) => {
                    let (_, name) = names.iter().find(|(legacy, _)| legacy == code).unwrap();
                    assert_eq!(
                        aidledger_spec::record::transaction_type_name(number)
                            .to_ascii_lowercase()
                            .replace('-', " "),
                        name.to_ascii_lowercase(),
                        "{code}"
                    );
                    assert_eq!(
                        transaction_type(Some(&code.to_ascii_lowercase())),
                        Ok(number)
                    );
                }
                Err(reason) => {
                    assert_eq!(*code, "C");
                    assert_eq!(reason, WarningReason::LegacyTransactionType("C".to_owned()));
                }
            }
        }
        assert_eq!(LEGACY_TRANSACTION_TYPE_MAPPING.len(), 9);
        assert_eq!(
            transaction_type(Some("X")),
            Err(WarningReason::UnknownTransactionType("X".to_owned()))
        );
    }

    /// The identity an import key input holds, read back with the spec's key reader.
    fn read_input(input: &[u8]) -> (String, String, Option<String>, String, String, u64) {
        let mut reader = SortKeyReader::new(input);
        let text = |reader: &mut SortKeyReader<'_>| {
            String::from_utf8(reader.long_bytes().unwrap().to_vec()).unwrap()
        };
        let org = text(&mut reader);
        let activity = text(&mut reader);
        let (transaction_ref, type_code, date) = match reader.u8().unwrap() {
            IDENTITY_BY_REF => (Some(text(&mut reader)), String::new(), String::new()),
            IDENTITY_BY_TYPE_AND_DATE => (None, text(&mut reader), text(&mut reader)),
            other => panic!("identity tag {other}"),
        };
        let occurrence = reader.u64().unwrap();
        reader.finish().unwrap();
        (org, activity, transaction_ref, type_code, date, occurrence)
    }

    proptest! {
        #[test]
        fn the_input_round_trips(
            org in "\\PC{0,20}",
            activity in "\\PC{0,40}",
            transaction_ref in proptest::option::of("\\PC{0,20}"),
            type_code in "[0-9]{1,2}",
            date in "20[0-9]{2}-[01][0-9]-[0-3][0-9]",
            occurrence in 0usize..1000,
        ) {
            let given = transaction(transaction_ref.as_deref(), &type_code, Some(&date), occurrence);
            let read = read_input(&import_key_input(&org, &activity, &given));
            let expected = match transaction_ref {
                Some(reference) => (org, activity, Some(reference), String::new(), String::new()),
                None => (org, activity, None, type_code, date),
            };
            prop_assert_eq!((read.0, read.1, read.2, read.3, read.4), expected);
            prop_assert_eq!(read.5, occurrence as u64);
        }
    }
}
