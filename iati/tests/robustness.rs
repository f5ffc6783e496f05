//! Unit-style tests of the reader and the mapping on hand-made and cut inputs: BOMs, broken
//! tails, non-IATI and binary input with bounded memory, legacy codes, exact values, import keys.

mod common;

use std::io::{BufReader, Read};

use aidledger_iati::{
    content_digest, to_transaction, Activity, ActivityReader, ReadError, ReaderLimits,
    WarningReason, PROLOG_BYTES_MAX, TOKEN_BYTES_MAX,
};
use aidledger_spec::text::Date;
use common::read_text;

const FCDO_FILE: &str = "covid19-dportal/fcdo_GB-GOV-1.xml";

/// One activity with the given transactions (XML fragments) and activity attributes.
fn activity_xml(activity_attributes: &str, transactions: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<iati-activities version="2.03">
 <iati-activity {activity_attributes}>
  <iati-identifier>XM-TEST-1/A: b</iati-identifier>
  <reporting-org ref="XM-TEST"><narrative>Test org</narrative></reporting-org>
{transactions}
 </iati-activity>
</iati-activities>
"#
    )
}

fn transaction_xml(reference: &str, code: &str, date: &str, value: &str) -> String {
    format!(
        r#"  <transaction ref="{reference}"><transaction-type code="{code}"/><transaction-date iso-date="{date}"/><value>{value}</value></transaction>"#
    )
}

fn only_activity(xml: &str) -> Activity {
    let (mut activities, error) = read_text(xml.as_bytes());
    assert!(error.is_none(), "{error:?}");
    assert_eq!(activities.len(), 1);
    activities.remove(0)
}

fn lines_in(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64 + 1
}

#[test]
fn reads_a_utf8_bom_like_no_bom() {
    let xml = activity_xml(
        r#"default-currency="GBP""#,
        &transaction_xml("t1", "3", "2020-01-01", "10"),
    );
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), xml.as_bytes()].concat();
    let (activities, error) = read_text(&with_bom);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(activities, vec![only_activity(&xml)]);
}

#[test]
fn a_broken_tail_yields_everything_before_and_names_the_line() {
    let whole = std::fs::read(common::data_dir().join(FCDO_FILE)).unwrap();
    let (all, _) = common::read_file(FCDO_FILE);
    // Cut inside a start tag, inside a text, and inside an end tag, past the middle of the file.
    for (marker, offset) in [
        ("<transaction ref=", 14),
        ("<narrative", 30),
        ("</value>", 4),
    ] {
        let from = whole.len() / 2;
        let at = from + find(&whole[from..], marker.as_bytes()) + offset;
        let cut = &whole[..at];
        let (activities, error) = read_text(cut);
        let closed = count(cut, b"</iati-activity>");
        assert_eq!(activities.len(), closed, "cut at {marker}");
        assert_eq!(
            activities[..],
            all[..closed],
            "activities before the cut are whole"
        );
        let line = match error.expect("an error after the cut") {
            ReadError::Malformed { line, .. } | ReadError::Truncated { line, .. } => line,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            line,
            lines_in(cut),
            "cut at {marker}: the error names the last line"
        );
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
        .expect("marker present")
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle)
        .count()
}

#[test]
fn mismatched_end_tag_names_its_line() {
    let xml = "<iati-activities>\n<iati-activity>\n<iati-identifier>X-1</iati-identifier>\n<title></titel>\n</iati-activity>\n</iati-activities>";
    let (activities, error) = read_text(xml.as_bytes());
    assert!(activities.is_empty());
    match error {
        Some(ReadError::Malformed {
            line: 4,
            activity_id: Some(id),
            ..
        }) => assert_eq!(id, "X-1"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn refuses_empty_input() {
    assert!(matches!(read_text(b"").1, Some(ReadError::Empty)));
    assert!(matches!(
        read_text(b"  \n\n").1,
        Some(ReadError::NoRootElement { line: 3 })
    ));
    assert!(matches!(
        read_text(b"<?xml version=\"1.0\"?>\n<!-- nothing -->").1,
        Some(ReadError::NoRootElement { .. })
    ));
}

#[test]
fn refuses_what_is_not_iati() {
    let html = b"<!DOCTYPE html>\n<html><head><title>IATI</title></head></html>";
    match read_text(html) {
        (activities, Some(ReadError::NotIati { line: 2, root })) => {
            assert!(activities.is_empty());
            assert_eq!(root, "html");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        read_text(b"{\"json\": true}").1,
        Some(ReadError::NotXml { .. })
    ));
    assert!(matches!(
        read_text(b"<iati-organisations/>").1,
        Some(ReadError::NotIati { .. })
    ));
    assert!(read_text(b"<iati-activities/>").1.is_none());
}

#[test]
fn refuses_other_encodings() {
    let utf16: Vec<u8> = "\u{FEFF}<iati-activities/>"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert!(matches!(
        read_text(&utf16).1,
        Some(ReadError::UnsupportedEncoding { .. })
    ));
    let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><iati-activities/>";
    match read_text(latin1).1 {
        Some(ReadError::UnsupportedEncoding { encoding }) => assert_eq!(encoding, "ISO-8859-1"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn refuses_content_after_the_root() {
    let (activities, error) =
        read_text(b"<iati-activities><iati-activity/></iati-activities><iati-activities/>");
    assert_eq!(activities.len(), 1);
    assert!(
        matches!(error, Some(ReadError::Malformed { .. })),
        "{error:?}"
    );
}

/// An endless-looking stream generated on demand (xorshift), so the test holds none of it.
struct LazyBytes {
    prefix: Vec<u8>,
    remaining_bytes: u64,
    state: u64,
    random: bool,
}

impl LazyBytes {
    fn random(prefix: &[u8], size_bytes: u64) -> Self {
        Self {
            prefix: prefix.to_vec(),
            remaining_bytes: size_bytes,
            state: 0x9E37_79B9_7F4A_7C15,
            random: true,
        }
    }

    fn letters(prefix: &[u8], size_bytes: u64) -> Self {
        Self {
            random: false,
            ..Self::random(prefix, size_bytes)
        }
    }
}

impl Read for LazyBytes {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if !self.prefix.is_empty() {
            let count = self.prefix.len().min(out.len());
            out[..count].copy_from_slice(&self.prefix[..count]);
            self.prefix.drain(..count);
            return Ok(count);
        }
        let count = (self.remaining_bytes.min(out.len() as u64)) as usize;
        for byte in &mut out[..count] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *byte = if self.random {
                (self.state >> 24) as u8
            } else {
                b'a'
            };
        }
        self.remaining_bytes -= count as u64;
        Ok(count)
    }
}

const FIFTY_MB: u64 = 50 * 1024 * 1024;
/// What the reader may have pulled beyond a limit: one buffer of the `BufReader`.
const SLACK_BYTES: u64 = 64 * 1024;

/// Streams `input` and returns the first error and how many bytes the reader consumed.
fn first_error(input: LazyBytes) -> (ReadError, u64) {
    let mut reader = ActivityReader::new(BufReader::new(input));
    for item in reader.by_ref() {
        if let Err(error) = item {
            return (error, reader.bytes_read());
        }
    }
    panic!("no error from garbage");
}

#[test]
fn fifty_megabytes_of_random_bytes_fail_fast_in_bounded_memory() {
    let started = std::time::Instant::now();
    for prefix in [
        &b""[..],
        b"<",
        b"<!--",
        b"<?xml version=\"1.0\"?><iati-activities>",
    ] {
        let (error, consumed) = first_error(LazyBytes::random(prefix, FIFTY_MB));
        assert!(
            consumed <= PROLOG_BYTES_MAX + SLACK_BYTES,
            "prefix {prefix:?}: read {consumed} bytes before {error}"
        );
        let clear = match error {
            ReadError::NotXml { .. }
            | ReadError::NotIati { .. }
            | ReadError::PrologTooLarge { .. } => prefix.len() < 10,
            ReadError::Malformed { .. } => prefix.len() > 10,
            _ => false,
        };
        assert!(clear, "prefix {prefix:?}: unexpected {error:?}");
    }
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_huge_text_is_refused_at_the_token_limit() {
    let prefix = b"<iati-activities><iati-activity><iati-identifier>";
    let (error, consumed) = first_error(LazyBytes::letters(prefix, FIFTY_MB));
    assert!(
        matches!(error, ReadError::TokenTooLarge { line: 1, .. }),
        "{error}"
    );
    assert!(
        consumed <= prefix.len() as u64 + TOKEN_BYTES_MAX,
        "read {consumed} bytes"
    );
    let (error, consumed) = first_error(LazyBytes::letters(b"<!--", FIFTY_MB));
    assert!(matches!(error, ReadError::PrologTooLarge { .. }), "{error}");
    assert!(consumed <= PROLOG_BYTES_MAX, "read {consumed} bytes");
}

#[test]
fn refuses_deep_nesting() {
    let xml = format!("<iati-activities><iati-activity>{}", "<a>".repeat(100));
    assert!(matches!(
        read_text(xml.as_bytes()).1,
        Some(ReadError::TooDeep { .. })
    ));
    let xml = format!("<iati-activities>{}", "<wrapper>".repeat(100));
    assert!(matches!(
        read_text(xml.as_bytes()).1,
        Some(ReadError::TooDeep { .. })
    ));
}

#[test]
fn an_activity_over_the_limit_is_yielded_empty_with_a_warning_and_reading_goes_on() {
    let many: String = (0..50)
        .map(|index| transaction_xml(&format!("t{index}"), "3", "2020-01-01", "1"))
        .collect();
    let xml = format!(
        "<iati-activities>{}{}</iati-activities>",
        activity_xml("", &many)
            .split_once("<iati-activities version=\"2.03\">")
            .unwrap()
            .1
            .replace("</iati-activities>", ""),
        "<iati-activity><iati-identifier>XM-2</iati-identifier></iati-activity>",
    );
    let limits = ReaderLimits {
        activity_bytes_max: 2000,
        ..ReaderLimits::default()
    };
    let activities: Vec<Activity> = ActivityReader::with_limits(xml.as_bytes(), limits)
        .map(Result::unwrap)
        .collect();
    assert_eq!(activities.len(), 2);
    assert!(activities[0].transactions.is_empty());
    assert_eq!(activities[0].warnings.len(), 1);
    assert_eq!(
        activities[0].warnings[0].reason,
        WarningReason::ActivityTooLarge {
            activity_bytes_max: 2000
        }
    );
    assert_eq!(activities[0].warnings[0].activity_id, "XM-TEST-1/A: b");
    assert_eq!(activities[1].identifier.as_deref(), Some("XM-2"));
}

/// 1.0x letter codes map to 2.0x numbers where the mapping is one to one (`D` → 3); `C` (an
/// outgoing or an incoming commitment) stays a warning. (Before issue 19 every letter code was
/// a warning.)
#[test]
fn legacy_letter_codes_map_where_one_to_one() {
    let (activities, version) = common::read_file("legacy/worldbank-789_v1.01.xml");
    assert_eq!(version.as_deref(), Some("1.01"));
    let activity = &activities[0];
    assert_eq!(
        activity.reporting_org_name.as_deref(),
        Some("World Bank Group")
    );
    let provider = activity.transactions[0].provider.as_ref().unwrap();
    assert_eq!(
        provider.name.as_deref(),
        Some("International Development Association"),
        "1.0x names are element text"
    );
    let results: Vec<_> = activity
        .transactions
        .iter()
        .map(|transaction| to_transaction(activity, transaction))
        .collect();
    assert_eq!(results.len(), 6);
    let codes: Vec<String> = results
        .iter()
        .map(|result| match result {
            Ok(mapped) => mapped.transaction_type.to_string(),
            Err(warning) => match &warning.reason {
                WarningReason::LegacyTransactionType(code) => code.clone(),
                other => panic!("{other}"),
            },
        })
        .collect();
    assert_eq!(codes, ["C", "3", "3", "C", "3", "3"]);
    let warnings: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(warnings
        .iter()
        .all(|warning| warning.activity_id == "44000-P104806" && warning.line > 1));
    assert!(
        warnings[0].to_string().contains("legacy IATI 1.0x")
            && warnings[0].to_string().contains("one-to-one"),
        "{}",
        warnings[0]
    );
    // The value keeps its digits; the key keeps the letter code as written.
    let first_d = results[1].as_ref().unwrap();
    assert_eq!(first_d.value.amount, "1000000");
    assert_eq!(first_d.value.currency, "USD");
}

#[test]
fn values_keep_every_digit() {
    let values = [
        "1234567890123.123456789012",
        "-250.500000000000",
        "0.000000000001",
        "  +0042.10  ",
        "-99999999999",
    ];
    let transactions: String = values
        .iter()
        .enumerate()
        .map(|(index, value)| transaction_xml(&format!("t{index}"), "3", "2020-06-22", value))
        .collect();
    let activity = only_activity(&activity_xml(r#"default-currency="USD""#, &transactions));
    let expected = [
        "1234567890123.123456789012",
        "-250.500000000000",
        "0.000000000001",
        "42.10",
        "-99999999999",
    ];
    for ((transaction, written), canonical) in
        activity.transactions.iter().zip(values).zip(expected)
    {
        assert_eq!(
            transaction.value.as_deref(),
            Some(written),
            "the reader keeps the text as written"
        );
        let mapped = to_transaction(&activity, transaction).unwrap();
        assert_eq!(mapped.value.amount, canonical);
        assert_eq!(mapped.value.currency, "USD");
        assert_eq!(mapped.iati.unwrap().original_value, written);
    }
}

#[test]
fn dates_with_times_fall_back_and_bad_ones_warn() {
    let transactions = [
        r#"<transaction><transaction-type code="1"/><transaction-date iso-date="2020-06-22T00:00:00"/><value value-date="2020-06-01">1</value></transaction>"#,
        r#"<transaction><transaction-type code="1"/><value value-date="2020-06-01Z">1</value></transaction>"#,
        r#"<transaction><transaction-type code="1"/><transaction-date iso-date="2020-02-30"/><value>1</value></transaction>"#,
        r#"<transaction><transaction-type code="1"/><value>1</value></transaction>"#,
    ]
    .concat();
    let activity = only_activity(&activity_xml(r#"default-currency="EUR""#, &transactions));
    let map = |index: usize| to_transaction(&activity, &activity.transactions[index]);
    let first = map(0).unwrap();
    assert_eq!(
        (first.transaction_date, first.value_date),
        (date(2020, 6, 22), date(2020, 6, 1))
    );
    let second = map(1).unwrap();
    assert_eq!(
        (second.transaction_date, second.value_date),
        (date(2020, 6, 1), date(2020, 6, 1)),
        "transaction date from value date"
    );
    assert!(matches!(
        map(2).unwrap_err().reason,
        WarningReason::BadDate {
            field: "transaction-date",
            ..
        }
    ));
    assert_eq!(map(3).unwrap_err().reason, WarningReason::MissingDate);
}

fn date(year: u16, month: u8, day: u8) -> Date {
    Date { year, month, day }
}

#[test]
fn unimportable_transactions_are_warnings_with_lines() {
    let transactions = [
        transaction_xml("a", "3", "2020-01-01", "12"),
        transaction_xml("b", "3", "2020-01-01", "1,000"),
        transaction_xml("c", "99", "2020-01-01", "1"),
        r#"<transaction ref="d"><transaction-date iso-date="2020-01-01"/><value>1</value></transaction>"#.to_owned(),
        r#"<transaction ref="e"><transaction-type code="3"/><transaction-date iso-date="2020-01-01"/></transaction>"#.to_owned(),
        r#"<transaction ref="f"><transaction-type code="3"/><transaction-date iso-date="2020-01-01"/><value currency="GBX">1</value></transaction>"#.to_owned(),
    ]
    .join("\n");
    let activity = only_activity(&activity_xml("", &transactions));
    let reasons: Vec<WarningReason> = activity
        .transactions
        .iter()
        .map(|transaction| to_transaction(&activity, transaction).unwrap_err().reason)
        .collect();
    assert_eq!(reasons[0], WarningReason::MissingCurrency);
    assert!(matches!(reasons[1], WarningReason::UnparseableValue { .. }));
    assert_eq!(
        reasons[2],
        WarningReason::UnknownTransactionType("99".to_owned())
    );
    assert_eq!(reasons[3], WarningReason::MissingTransactionType);
    assert_eq!(reasons[4], WarningReason::MissingValue);
    assert_eq!(reasons[5], WarningReason::UnknownCurrency("GBX".to_owned()));
    let lines: Vec<u64> = activity
        .transactions
        .iter()
        .map(|transaction| transaction.line)
        .collect();
    assert_eq!(lines, [6, 7, 8, 9, 10, 11]);
}

#[test]
fn foreign_namespaces_and_duplicates_are_handled() {
    let xml = r#"<iati-activities xmlns:iati-extra="x" xmlns:usg="y"><iati-activity iati-extra:version="2.03" dstore:index="3" default-currency="usd" xmlns:dstore="z">
  <iati-identifier>XM-1</iati-identifier>
  <usg:transaction><transaction-type code="3"/></usg:transaction>
  <transaction ref="x" usg:extra="1"><transaction-type code="3"/><transaction-type code="4"/><transaction-date iso-date="2020-01-01"/>
   <value currency="EUR">5 </value><usg:value>7</usg:value>
   <provider-org ref="XM-P" provider-activity-id="XM-P-1"><narrative/><narrative xml:lang="fr">Nom &amp; fils</narrative><narrative>Name</narrative></provider-org>
   <description><narrative>D&#xE9;penses</narrative></description>
  </transaction>
 </iati-activity></iati-activities>"#;
    let activity = only_activity(xml);
    assert_eq!(activity.transactions.len(), 1);
    let transaction = &activity.transactions[0];
    assert_eq!(transaction.type_code.as_deref(), Some("3"));
    assert_eq!(transaction.value.as_deref(), Some("5 "));
    assert_eq!(transaction.currency.as_deref(), Some("EUR"));
    let provider = transaction.provider.as_ref().unwrap();
    assert_eq!(
        (provider.org_ref.as_deref(), provider.name.as_deref()),
        (Some("XM-P"), Some("Nom & fils"))
    );
    assert_eq!(provider.activity_id.as_deref(), Some("XM-P-1"));
    assert_eq!(transaction.description.as_deref(), Some("Dépenses"));
    assert_eq!(activity.warnings.len(), 1);
    assert_eq!(
        activity.warnings[0].reason,
        WarningReason::DuplicateElement {
            element: "transaction-type"
        }
    );
    assert_eq!(activity.warnings[0].line, 4);
}

#[test]
fn import_keys_are_stable_across_parses() {
    let keys = |_: u8| -> Vec<_> {
        let (activities, _) = common::read_file(FCDO_FILE);
        activities
            .iter()
            .flat_map(|activity| {
                activity
                    .transactions
                    .iter()
                    .map(move |transaction| to_transaction(activity, transaction).unwrap())
            })
            .map(|transaction| {
                (
                    transaction.iati.clone().unwrap().import_key,
                    content_digest(&transaction),
                )
            })
            .collect()
    };
    let first = keys(0);
    assert_eq!(first.len(), 1348);
    assert_eq!(first, keys(1));
}

#[test]
fn key_follows_identity_and_digest_follows_content() {
    let original = [
        transaction_xml("r1", "3", "2020-01-01", "100"),
        transaction_xml("r1", "3", "2020-01-01", "100"),
        transaction_xml("r2", "3", "2020-01-01", "100"),
        r#"<transaction><transaction-type code="4"/><transaction-date iso-date="2020-01-01"/><value>5</value></transaction>"#.to_owned(),
        r#"<transaction><transaction-type code="4"/><transaction-date iso-date="2020-01-01"/><value>5</value></transaction>"#.to_owned(),
    ]
    .concat();
    let changed = original
        .replacen("<value>100</value>", "<value>100.01</value>", 1)
        .replacen("<value>5</value>", "<value>6</value>", 1);
    let mapped = |xml: &str| -> Vec<_> {
        let activity = only_activity(&activity_xml(r#"default-currency="GBP""#, xml));
        activity
            .transactions
            .iter()
            .map(|transaction| to_transaction(&activity, transaction).unwrap())
            .collect()
    };
    let (before, after) = (mapped(&original), mapped(&changed));
    let key = |transaction: &aidledger_spec::record::Transaction| {
        transaction.iati.as_ref().unwrap().import_key
    };
    let distinct: std::collections::HashSet<_> = before.iter().map(key).collect();
    assert_eq!(
        distinct.len(),
        5,
        "repeated refs and same-day transactions get distinct keys"
    );
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(key(old), key(new), "a changed value keeps its key");
    }
    assert_ne!(content_digest(&before[0]), content_digest(&after[0]));
    assert_ne!(content_digest(&before[3]), content_digest(&after[3]));
    assert_eq!(content_digest(&before[2]), content_digest(&after[2]));
}

/// A DOCTYPE is never read: an entity it declares (even an external one) is not expanded, the
/// reference stays in the text as written, and the reader says where both are.
#[test]
fn doctype_and_unexpanded_entities_are_noticed() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE iati-activities [ <!ENTITY org SYSTEM "file:///etc/passwd"> <!ENTITY x "Expanded"> ]>
<iati-activities version="2.03" generated-datetime="2024-05-06T07:08:09Z">
 <iati-activity default-currency="EUR">
  <iati-identifier>XM-1</iati-identifier><reporting-org ref="XM"/>
  <transaction ref="t1"><transaction-type code="3"/><transaction-date iso-date="2020-01-02"/>
   <value>10</value><description><narrative>paid &org; and &x; &amp; &#65;</narrative></description>
  </transaction>
 </iati-activity>
</iati-activities>"#;
    let mut reader = ActivityReader::new(xml.as_bytes());
    let activity = reader.next().unwrap().unwrap();
    assert_eq!(
        activity.transactions[0].description.as_deref(),
        Some("paid &org; and &x; & A")
    );
    assert!(reader.next().is_none());
    assert_eq!(reader.generated_datetime(), Some("2024-05-06T07:08:09Z"));
    let notice = reader.entity_notice();
    assert_eq!(notice.doctype_line, Some(2));
    assert_eq!(notice.unexpanded, 2);
    assert_eq!(notice.first, Some((7, "&org;".to_owned())));

    let plain = activity_xml("", "");
    let mut reader = ActivityReader::new(plain.as_bytes());
    while reader.next().is_some() {}
    assert_eq!(
        *reader.entity_notice(),
        aidledger_iati::EntityNotice::default()
    );
}
