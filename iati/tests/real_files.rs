//! Every XML file listed in the shared `STATS.json` is streamed and checked against the facts
//! computed there with Python and `decimal`: counts, per-type counts, exact sums per (type,
//! currency), unparseable values, and the 163 cross-publisher links.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use aidledger_iati::{to_transaction, Activity, WarningReason};
use aidledger_spec::amount::canonical_amount;
use rust_decimal::Decimal;
use serde_json::Value;

fn stats() -> Value {
    let path = common::data_dir().join("STATS.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).expect("STATS.json is JSON")
}

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text.trim()).unwrap_or_else(|error| panic!("{text:?}: {error}"))
}

/// The facts of one file, computed the way STATS.json describes them.
#[derive(Default)]
struct Facts {
    transactions: usize,
    type_counts: BTreeMap<String, u64>,
    sums: BTreeMap<String, Decimal>,
    unparseable_values: u64,
}

fn facts(activities: &[Activity]) -> Facts {
    let mut facts = Facts::default();
    for transaction in activities
        .iter()
        .flat_map(|activity| &activity.transactions)
    {
        facts.transactions += 1;
        let code = transaction.type_code.clone().unwrap_or_default();
        *facts.type_counts.entry(code.clone()).or_default() += 1;
        let value = transaction.value.as_deref().unwrap_or("");
        if canonical_amount(value).is_err() {
            facts.unparseable_values += 1;
            continue;
        }
        let key = format!("{code}|{}", transaction.currency.as_deref().unwrap_or(""));
        *facts.sums.entry(key).or_default() += decimal(value);
    }
    facts
}

#[test]
fn every_listed_file_matches_its_stats() {
    let stats = stats();
    let files = stats["files"].as_object().expect("files");
    assert_eq!(files.len(), 19, "STATS.json lists 19 files");
    for (relative, expected) in files {
        let (activities, version) = common::read_file(relative);
        let facts = facts(&activities);
        assert_eq!(
            version.as_deref(),
            expected["iati_activities_version"].as_str(),
            "{relative}: version"
        );
        assert_eq!(
            activities.len() as u64,
            expected["activities"].as_u64().unwrap(),
            "{relative}: activities"
        );
        assert_eq!(
            facts.transactions as u64,
            expected["transactions"].as_u64().unwrap(),
            "{relative}: transactions"
        );
        let type_counts: BTreeMap<String, u64> = expected["tx_type_counts"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(code, count)| (code.clone(), count.as_u64().unwrap()))
            .collect();
        assert_eq!(facts.type_counts, type_counts, "{relative}: type counts");
        let sums: BTreeMap<String, Decimal> = expected["sums"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, sum)| (key.clone(), decimal(sum.as_str().unwrap())))
            .collect();
        assert_eq!(facts.sums, sums, "{relative}: sums per (type, currency)");
        assert_eq!(
            facts.unparseable_values,
            expected["unparseable_values"].as_u64().unwrap(),
            "{relative}: unparseable"
        );
        let refs: BTreeSet<&str> = activities
            .iter()
            .filter_map(|activity| activity.reporting_org_ref.as_deref())
            .collect();
        let expected_refs: BTreeSet<&str> = expected["reporting_org_refs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_str().unwrap())
            .collect();
        assert_eq!(refs, expected_refs, "{relative}: reporting orgs");
    }
}

#[test]
fn every_transaction_is_mapped_or_warned_and_keys_are_unique() {
    let stats = stats();
    let mut keys = HashMap::new();
    let mut mapped = 0;
    for relative in stats["files"].as_object().unwrap().keys() {
        let (activities, _) = common::read_file(relative);
        for activity in &activities {
            assert!(
                activity.warnings.is_empty(),
                "{relative}: {:?}",
                activity.warnings
            );
            for transaction in &activity.transactions {
                match to_transaction(activity, transaction) {
                    Ok(result) => {
                        mapped += 1;
                        let key = result.iati.expect("iati source").import_key;
                        let place = (relative.clone(), transaction.line, transaction.position);
                        if let Some(earlier) = keys.insert(key, place.clone()) {
                            panic!("import key of {place:?} equals that of {earlier:?}");
                        }
                    }
                    Err(warning) if relative.starts_with("legacy/") => {
                        assert!(
                            matches!(warning.reason, WarningReason::LegacyTransactionType(_)),
                            "{warning}"
                        );
                    }
                    Err(warning) => panic!("{relative}: {warning}"),
                }
            }
        }
    }
    let total: u64 = stats["files"]
        .as_object()
        .unwrap()
        .values()
        .map(|file| file["transactions"].as_u64().unwrap())
        .sum();
    // The legacy file's four `D` map to 3; its two `C` (commitments, outgoing or incoming) do not.
    assert_eq!(mapped, total - 2, "all but the two legacy commitments map");
}

/// One side of a transaction naming another activity, as STATS.json lists links.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Link {
    from_file: String,
    from_activity: String,
    transaction_type: String,
    attribute: String,
    to_activity: String,
    value: Decimal,
    currency: String,
    transaction_date: String,
}

fn parsed_links(relative: &str, activities: &[Activity]) -> Vec<Link> {
    let mut links = Vec::new();
    for activity in activities {
        for transaction in &activity.transactions {
            let sides = [
                ("provider-activity-id", &transaction.provider),
                ("receiver-activity-id", &transaction.receiver),
            ];
            for (attribute, side) in sides {
                let Some(to_activity) = side.as_ref().and_then(|org| org.activity_id.clone())
                else {
                    continue;
                };
                links.push(Link {
                    from_file: relative.to_owned(),
                    from_activity: activity.identifier_or_empty().to_owned(),
                    transaction_type: transaction.type_code.clone().unwrap_or_default(),
                    attribute: attribute.to_owned(),
                    to_activity,
                    value: decimal(transaction.value.as_deref().unwrap_or("0")),
                    currency: transaction.currency.clone().unwrap_or_default(),
                    transaction_date: transaction.transaction_date.clone().unwrap_or_default(),
                });
            }
        }
    }
    links
}

#[test]
fn all_cross_publisher_links_are_present() {
    let stats = stats();
    let mut parsed: HashMap<Link, usize> = HashMap::new();
    let mut identifiers: HashMap<String, BTreeSet<String>> = HashMap::new();
    for relative in stats["files"].as_object().unwrap().keys() {
        let (activities, _) = common::read_file(relative);
        for link in parsed_links(relative, &activities) {
            *parsed.entry(link).or_default() += 1;
        }
        identifiers.insert(
            relative.clone(),
            activities
                .iter()
                .filter_map(|activity| activity.identifier.clone())
                .collect(),
        );
    }
    let links = stats["links"].as_array().unwrap();
    assert_eq!(links.len(), 163);
    for expected in links {
        let text = |key: &str| {
            expected[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} in {expected}"))
                .to_owned()
        };
        let link = Link {
            from_file: text("from_file"),
            from_activity: text("from_activity"),
            transaction_type: text("transaction_type"),
            attribute: text("attribute"),
            to_activity: text("to_activity"),
            value: decimal(&text("value")),
            currency: text("currency"),
            transaction_date: text("transaction_date"),
        };
        let count = parsed
            .get_mut(&link)
            .unwrap_or_else(|| panic!("link not parsed: {link:?}"));
        assert!(*count > 0, "link listed more often than parsed: {link:?}");
        *count -= 1;
        assert!(
            identifiers[&text("to_file")].contains(&link.to_activity),
            "{link:?} does not resolve in its to_file"
        );
    }
}

#[test]
fn lines_point_at_the_start_tags() {
    for relative in stats()["files"].as_object().unwrap().keys() {
        let text = std::fs::read_to_string(common::data_dir().join(relative)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let line = |number: u64| lines[usize::try_from(number).unwrap() - 1];
        let (activities, _) = common::read_file(relative);
        for activity in &activities {
            assert!(
                line(activity.line).contains("<iati-activity"),
                "{relative}:{}",
                activity.line
            );
            for transaction in &activity.transactions {
                assert!(
                    line(transaction.line).contains("<transaction"),
                    "{relative}:{}",
                    transaction.line
                );
            }
        }
    }
}
