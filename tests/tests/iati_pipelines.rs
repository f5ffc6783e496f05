//! IATI import for pipelines and multi-publisher files, over real node processes and the shared
//! data set (`../shared/data/iati/`): one run with `--org-map` records each publisher's
//! activities through its own node (authors checked in the exported bundles, sums against
//! STATS.json); a file with nothing importable exits 1 with a summary, not a line per
//! transaction; `--strict` refuses a skipped value; `--republished` withdraws what a publisher
//! removed, and the money views follow while the history keeps it; a DOCTYPE is warned about.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use aidledger_spec::bundle::{BundleItem, BundleReader};
use aidledger_spec::record::Replacement;
use aidledger_spec::{codec, Body, SignedRecord};
use aidledger_tests::{path_str, Cli, NodeProcess, TestDir};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const DRC: &str = "DK-CVR-20699310";
const FCDO: &str = "GB-GOV-1";
const MAPACTION: &str = "GB-CHC-1126727";
const DRC_FILE: &str = "covid19-dportal/danish-refugee-council_DK-CVR-20699310.xml";
const FCDO_FILE: &str = "flattener-fixtures/fcdo-activity.xml";
const MAPACTION_FILE: &str = "covid19-dportal/h2h-partners/mapaction_GB-CHC-1126727.xml";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/iati")
}

fn stats() -> Value {
    let text = fs::read_to_string(data_dir().join("STATS.json")).expect("read STATS.json");
    serde_json::from_str(&text).expect("STATS.json is JSON")
}

fn key_file(dir: &TestDir, org: &str) -> PathBuf {
    dir.join(format!("keys/{org}.key"))
}

/// Keys, members and a genesis with one member per organisation; returns the genesis path.
fn make_network(dir: &TestDir, cli: &Cli, orgs: &[&str]) -> PathBuf {
    fs::create_dir_all(dir.join("keys")).unwrap();
    let mut members = Vec::new();
    for org in orgs {
        let key = cli
            .run(["keygen", "--out", path_str(&key_file(dir, org))])
            .assert_exit(0)
            .stdout_hex32();
        let node_key = cli
            .run([
                "keygen",
                "--out",
                path_str(&dir.join(format!("keys/{org}.node.key"))),
            ])
            .assert_exit(0)
            .stdout_hex32();
        members.push(json!({
            "id": org, "name": format!("Publisher {org}"), "roles": ["implementer"],
            "signing_keys": [key], "node_keys": [node_key],
        }));
    }
    let members_file = dir.write("members.json", serde_json::to_vec(&members).unwrap());
    let genesis = dir.join("genesis.bin");
    cli.run([
        "network",
        "init",
        "--name",
        "IATI pipelines",
        "--members",
        path_str(&members_file),
        "--out",
        path_str(&genesis),
    ])
    .assert_exit(0);
    genesis
}

fn start(dir: &TestDir, genesis: &Path, org: &str) -> NodeProcess {
    NodeProcess::start_first(
        &dir.join(format!("nodes/{org}")),
        genesis,
        org,
        &key_file(dir, org),
    )
}

/// `iati import FILES --data-dir NODE ARGS…`.
fn import(
    cli: &Cli,
    node: &NodeProcess,
    files: &[&Path],
    args: &[&str],
) -> aidledger_tests::Output {
    let mut all: Vec<String> = vec!["iati".into(), "import".into()];
    all.extend(files.iter().map(|file| path_str(file).to_owned()));
    all.extend(["--data-dir".into(), path_str(node.data_dir()).to_owned()]);
    all.extend(args.iter().map(|arg| (*arg).to_owned()));
    cli.run(all).assert_no_panic()
}

/// The `<iati-activity …>…</iati-activity>` elements of a file, byte for byte.
fn activities_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<iati-activity ") {
        let end =
            rest[start..].find("</iati-activity>").unwrap() + start + "</iati-activity>".len();
        out.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    out
}

fn shared(file: &str) -> String {
    fs::read_to_string(data_dir().join(file)).unwrap()
}

fn wrap(activities: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\">\n{}\n</iati-activities>\n",
        activities.join("\n")
    )
}

/// Transactions of a bundle after corrections: (author, activity, type, currency, amount).
fn ledger(bundle: &Path) -> Vec<(String, String, u8, String, String)> {
    let reader = BundleReader::new(fs::File::open(bundle).unwrap()).unwrap();
    let mut transactions = BTreeMap::new();
    let mut corrections = Vec::new();
    for item in reader {
        let BundleItem::Record(bytes) = item.unwrap() else {
            continue;
        };
        let record = SignedRecord::parse(bytes).unwrap();
        match codec::decode_exact::<Body>(record.body_bytes()).unwrap() {
            Body::Transaction(tx) => {
                transactions.insert(record.id, (record.header.author.clone(), tx));
            }
            Body::Correction(correction) => corrections.push((record.header.seq, correction)),
            _ => {}
        }
    }
    corrections.sort_by_key(|(seq, _)| *seq);
    for (_, correction) in corrections {
        match correction.replacement {
            Some(Replacement::Transaction(tx)) => {
                transactions.get_mut(&correction.corrects).unwrap().1 = tx;
            }
            _ => {
                transactions.remove(&correction.corrects);
            }
        }
    }
    transactions
        .into_values()
        .map(|(author, tx)| {
            (
                author,
                tx.activity_id,
                tx.transaction_type,
                tx.value.currency,
                tx.value.amount,
            )
        })
        .collect()
}

/// (type code → count, `type|currency` → exact sum) of ledger rows, as STATS.json writes them.
type Facts = (BTreeMap<String, u64>, BTreeMap<String, Decimal>);

fn facts_of<'a>(rows: impl Iterator<Item = &'a (String, String, u8, String, String)>) -> Facts {
    let mut facts = Facts::default();
    for (_, _, code, currency, amount) in rows {
        *facts.0.entry(code.to_string()).or_default() += 1;
        let sum = facts.1.entry(format!("{code}|{currency}")).or_default();
        *sum = (*sum + Decimal::from_str(amount).unwrap()).normalize();
    }
    facts
}

fn stats_facts(file: &str) -> Facts {
    let stats = stats();
    let facts = &stats["files"][file];
    let counts = facts["tx_type_counts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(code, count)| (code.clone(), count.as_u64().unwrap()))
        .collect();
    let sums = facts["sums"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, sum)| {
            (
                key.clone(),
                Decimal::from_str(sum.as_str().unwrap())
                    .unwrap()
                    .normalize(),
            )
        })
        .collect();
    (counts, sums)
}

fn export(cli: &Cli, node: &NodeProcess, bundle: &Path) {
    cli.run([
        "export",
        "--out",
        path_str(bundle),
        "--node",
        &node.public_url(),
    ])
    .assert_exit(0);
}

#[test]
fn a_multi_publisher_file_goes_to_each_publishers_own_node_in_one_run() {
    let dir = TestDir::new("iati-org-map");
    let cli = Cli::new(dir.path());
    let genesis = make_network(&dir, &cli, &[DRC, FCDO, MAPACTION]);
    let drc = start(&dir, &genesis, DRC);
    let fcdo = start(&dir, &genesis, FCDO);

    // No shared file has several reporting orgs: interleave three publishers' activities.
    let drc_activities = activities_of(&shared(DRC_FILE));
    let mut mixed = drc_activities[..6].to_vec();
    mixed.extend(activities_of(&shared(FCDO_FILE)));
    mixed.extend(activities_of(&shared(MAPACTION_FILE)));
    mixed.extend(drc_activities[6..].iter().cloned());
    let file = dir.write("mixed.xml", wrap(&mixed));

    // One entry by data directory, one by URL and token file (relative to the map).
    dir.write("fcdo.token", fcdo.submit_token());
    let map = dir.write(
        "org-map.json",
        serde_json::to_vec(&json!({
            DRC: {"data_dir": path_str(drc.data_dir())},
            FCDO: {"submit": fcdo.submit_url(), "token_file": "fcdo.token", "public": fcdo.public_url()},
        }))
        .unwrap(),
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "iati",
            "import",
            path_str(&file),
            "--org-map",
            path_str(&map),
        ];
        args.extend(extra);
        cli.run(args).assert_no_panic()
    };
    let report = run(&["--json"]).assert_exit(0).json();
    let by_org: BTreeMap<String, Value> = report["files"][0]["by_org"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["org"].as_str().unwrap().to_owned(), entry.clone()))
        .collect();
    assert_eq!(by_org[DRC]["recorded"], 219, "{report}");
    assert_eq!(by_org[FCDO]["recorded"], 14, "{report}");
    assert_eq!(
        report["files"][0]["other_publishers"],
        json!([{"reporting_org": MAPACTION, "activities": 1, "transactions": 4}]),
        "{report}"
    );
    // Each publisher's transactions and one activity record per activity (issue 19).
    assert_eq!(drc.record_count(), 219 + 12);
    assert_eq!(fcdo.record_count(), 14 + 1);

    // Each record is signed by its publisher's own organisation; counts and sums are exact.
    for (node, org, source) in [(&drc, DRC, DRC_FILE), (&fcdo, FCDO, FCDO_FILE)] {
        let bundle = dir.join(format!("{org}.bundle"));
        export(&cli, node, &bundle);
        let rows = ledger(&bundle);
        assert!(rows.iter().all(|row| row.0 == org), "{org}: {rows:?}");
        assert_eq!(facts_of(rows.iter()), stats_facts(source), "{source}");
    }

    // Again: all unchanged. The text summary names the unmapped publisher once.
    let text = run(&[]).assert_exit(0);
    assert!(
        text.stdout()
            .contains(&format!("{DRC}: 0 recorded, 0 corrections, 219 unchanged")),
        "{}",
        text.stdout()
    );
    assert!(
        text.stdout()
            .contains(&format!("reported by \"{MAPACTION}\", not in the org map")),
        "{}",
        text.stdout()
    );

    // A map that sends a publisher to another organisation's node is refused before anything.
    let wrong = dir.write(
        "wrong-map.json",
        serde_json::to_vec(&json!({MAPACTION: {"data_dir": path_str(drc.data_dir())}})).unwrap(),
    );
    let refused = cli
        .run([
            "iati",
            "import",
            path_str(&file),
            "--org-map",
            path_str(&wrong),
        ])
        .assert_exit(2);
    assert!(
        refused.stderr().contains("own organisation's node")
            && refused.stderr().contains("--as-reporting-org"),
        "{}",
        refused.stderr()
    );
    assert_eq!(drc.record_count(), 219 + 12);
}

/// A file of IATI 1.0x commitments (`C`, no one-to-one 2.0x code).
fn legacy_commitments(count: usize) -> String {
    let transactions: String = (0..count)
        .map(|i| format!("<transaction ref=\"c{i}\"><transaction-type code=\"C\">Commitment</transaction-type><value currency=\"USD\" value-date=\"2012-03-31\">{}</value><transaction-date iso-date=\"2012-03-31\"/></transaction>\n", 1000 + i))
        .collect();
    format!(
        "<iati-activities version=\"1.01\"><iati-activity default-currency=\"USD\"><iati-identifier>{DRC}-LEGACY</iati-identifier><reporting-org ref=\"{DRC}\">DRC</reporting-org>\n{transactions}</iati-activity></iati-activities>\n"
    )
}

#[test]
fn nothing_importable_exits_1_with_a_summary_and_strict_refuses_skipped_values() {
    let dir = TestDir::new("iati-pipeline-exits");
    let cli = Cli::new(dir.path());
    let genesis = make_network(&dir, &cli, &[DRC]);
    let node = start(&dir, &genesis, DRC);

    // 0 of 263: exit 1, one summary line for the reason, a few examples, not 263 lines.
    let legacy = dir.write("legacy.xml", legacy_commitments(263));
    let output = import(&cli, &node, &[&legacy], &[]).assert_exit(1);
    assert!(
        output
            .stderr()
            .contains("nothing in the input was importable: 0 of 263")
            && output.stderr().contains("legacy-transaction-type ×263"),
        "{}",
        output.stderr()
    );
    assert!(
        output.stderr().contains("… and 253 more"),
        "{}",
        output.stderr()
    );
    assert!(output.stderr().lines().count() <= 15, "{}", output.stderr());
    assert!(
        output
            .stdout()
            .contains("legacy-transaction-type ×263, e.g."),
        "{}",
        output.stdout()
    );
    assert!(
        output.stdout().contains("… and 260 more"),
        "{}",
        output.stdout()
    );
    assert!(output.stdout().lines().count() <= 15, "{}", output.stdout());
    let json = import(&cli, &node, &[&legacy], &["--json"])
        .assert_exit(1)
        .json();
    assert_eq!(json["anything_importable"], false);
    assert_eq!(
        json["skipped"],
        json!([{"reason": "legacy-transaction-type", "count": 263,
                "examples": json["skipped"][0]["examples"].clone()}])
    );
    assert_eq!(json["skipped"][0]["examples"].as_array().unwrap().len(), 3);
    // --verbose prints every line.
    let verbose = import(&cli, &node, &[&legacy], &["--verbose"]).assert_exit(1);
    assert_eq!(
        verbose
            .stderr()
            .lines()
            .filter(|line| line.contains("legacy IATI 1.0x"))
            .count(),
        263
    );
    // No transaction, but the activity itself is importable: its activity record (issue 19).
    assert_eq!(node.record_count(), 1);

    // "1,000.50" is skipped: exit 0 with the reason counted; --strict exits 1 naming it.
    let text = format!(
        "<iati-activities version=\"2.03\"><iati-activity default-currency=\"EUR\"><iati-identifier>{DRC}-STRICT</iati-identifier><reporting-org ref=\"{DRC}\"/>\
<transaction ref=\"a\"><transaction-type code=\"3\"/><transaction-date iso-date=\"2024-01-02\"/><value>250.00</value></transaction>\
<transaction ref=\"b\"><transaction-type code=\"3\"/><transaction-date iso-date=\"2024-01-03\"/><value>1,000.50</value></transaction>\
</iati-activity></iati-activities>"
    );
    let file = dir.write("strict.xml", text);
    let report = import(&cli, &node, &[&file], &["--json"])
        .assert_exit(0)
        .json();
    assert_eq!(report["recorded"], 1, "{report}");
    assert_eq!(
        report["skipped"][0]["reason"], "unparseable-value",
        "{report}"
    );
    assert_eq!(report["skipped"][0]["count"], 1, "{report}");
    let strict = import(&cli, &node, &[&file], &["--strict"]).assert_exit(1);
    assert!(
        strict
            .stderr()
            .contains("--strict: 1 skipped: unparseable-value"),
        "{}",
        strict.stderr()
    );
    assert!(strict.stderr().contains("1,000.50"), "{}", strict.stderr());
    assert!(
        strict.stdout().contains("1 unchanged"),
        "{}",
        strict.stdout()
    );
    // One transaction and the activity records of the two activities so far.
    assert_eq!(node.record_count(), 1 + 2);

    // A DOCTYPE and an entity it declares: warned on stderr and in the summary; not expanded.
    let doctype = dir.write(
        "doctype.xml",
        format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE iati-activities [<!ENTITY who SYSTEM \"file:///etc/hostname\">]>\n\
<iati-activities version=\"2.03\"><iati-activity default-currency=\"EUR\"><iati-identifier>{DRC}-DTD</iati-identifier><reporting-org ref=\"{DRC}\"/>\n\
<transaction ref=\"d\"><transaction-type code=\"3\"/><transaction-date iso-date=\"2024-02-02\"/><value>5</value><description><narrative>paid to &who;</narrative></description></transaction>\n\
</iati-activity></iati-activities>"
        ),
    );
    let warned = import(&cli, &node, &[&doctype], &[]).assert_exit(0);
    assert!(
        warned
            .stderr()
            .contains("doctype.xml:2: the file has a DOCTYPE"),
        "{}",
        warned.stderr()
    );
    assert!(
        warned.stdout().contains("WARNING: a DOCTYPE at line 2"),
        "{}",
        warned.stdout()
    );
    assert!(
        warned
            .stdout()
            .contains("1 entity references kept as written, the first &who; at line 4"),
        "{}",
        warned.stdout()
    );
    let json = import(&cli, &node, &[&doctype], &["--json", "--strict"])
        .assert_exit(1)
        .json();
    assert_eq!(json["files"][0]["doctype_line"], 2);
    assert_eq!(json["files"][0]["entity_references_kept"], 1);
    assert_eq!(node.record_count(), 2 + 3);
}

#[test]
fn a_republished_file_withdraws_what_the_publisher_removed() {
    let dir = TestDir::new("iati-republished");
    let cli = Cli::new(dir.path());
    let genesis = make_network(&dir, &cli, &[DRC]);
    let node = start(&dir, &genesis, DRC);
    let full = shared(DRC_FILE);
    let file = dir.write("drc.xml", &full);
    import(&cli, &node, &[&file], &[]).assert_exit(0);
    // 219 transactions and 12 activity records (issue 19).
    assert_eq!(node.record_count(), 219 + 12);

    // The £400,000 receipt of 2020-06-01 from FCDO's activity, as the money views see it.
    let activity = "DK-CVR-20699310-DF212197";
    let flow = |node: &NodeProcess| {
        cli.run(["flow", activity, "--json", "--node", &node.public_url()])
            .assert_exit(0)
            .json()
    };
    let before = flow(&node);
    let removed =
        find_transaction(&before, "400000", "2020-06-01").expect("the receipt in the flow");
    let record = removed["record"].as_str().unwrap().to_owned();

    // The publisher republishes without that transaction and without one whole activity.
    let element = "<value currency=\"GBP\" value-date=\"2020-06-01\">400000</value>";
    let at = full.find(element).expect("the DRC file changed");
    let start = ["<transaction>", "<transaction "]
        .iter()
        .filter_map(|tag| full[..at].rfind(tag))
        .max()
        .unwrap();
    let end = full[at..].find("</transaction>").unwrap() + at + "</transaction>".len();
    let without = format!("{}{}", &full[..start], &full[end..]);
    let activities = activities_of(&without);
    let dropped = activities.last().unwrap().clone();
    assert!(!dropped.contains(activity));
    let republished = without.replacen(&dropped, "", 1);
    let copy = dir.write("drc-2.xml", &republished);

    // Without --republished: counted, left standing.
    let report = import(&cli, &node, &[&copy], &["--json"])
        .assert_exit(0)
        .json();
    assert_eq!(report["not_listed"], 1, "{report}");
    assert_eq!(report["withdrawn"], 0, "{report}");
    assert_eq!(node.record_count(), 219 + 12);
    let text = import(&cli, &node, &[&copy], &[]).assert_exit(0);
    assert!(
        text.stdout().contains("--republished withdraws them"),
        "{}",
        text.stdout()
    );

    // With it: exactly that one withdrawn (the dropped activity is untouched: files may be partial).
    let report = import(&cli, &node, &[&copy], &["--republished", "--json"])
        .assert_exit(0)
        .json();
    assert_eq!(report["withdrawn"], 1, "{report}");
    assert_eq!(
        report["unchanged"],
        218 - count_transactions(&dropped),
        "{report}"
    );
    assert_eq!(node.record_count(), 220 + 12);
    let report = import(&cli, &node, &[&copy], &["--republished", "--json"])
        .assert_exit(0)
        .json();
    assert_eq!(report["withdrawn"], 0, "withdrawn once: {report}");

    // flow, reconcile and the ledger's totals no longer count it (a view may still name it
    // as withdrawn); the history keeps it.
    let after = flow(&node);
    assert!(before.to_string().contains(&record));
    assert!(only_as_withdrawn(&after, &record), "{after}");
    let reconcile = cli
        .run([
            "reconcile",
            "--receiver",
            DRC,
            "--json",
            "--node",
            &node.public_url(),
        ])
        .assert_exit_in(&[0, 1])
        .json();
    assert!(only_as_withdrawn(&reconcile, &record), "{reconcile}");
    let bundle = dir.join("drc.bundle");
    export(&cli, &node, &bundle);
    let (counts, sums) = facts_of(ledger(&bundle).iter());
    let (stats_counts, stats_sums) = stats_facts(DRC_FILE);
    assert_eq!(counts["1"], stats_counts["1"] - 1);
    assert_eq!(sums["1|GBP"], stats_sums["1|GBP"] - Decimal::from(400_000));
    let log = cli
        .run([
            "log",
            DRC,
            "--json",
            "--node",
            &node.public_url(),
            "--limit",
            "5",
        ])
        .assert_exit(0);
    assert!(
        log.stdout()
            .contains("no longer in the publisher's file drc-2.xml of 20"),
        "{}",
        log.stdout()
    );
    cli.run(["show", &record, "--node", &node.public_url()])
        .assert_exit(0);

    // The full file again restores it (a correction whose replacement is the transaction).
    let report = import(&cli, &node, &[&file], &["--republished", "--json"])
        .assert_exit(0)
        .json();
    assert_eq!(report["corrections"], 1, "{report}");
    assert!(flow(&node).to_string().contains(&record));
}

fn count_transactions(activity: &str) -> u64 {
    activity.matches("<transaction>").count() as u64
        + activity.matches("<transaction ").count() as u64
}

/// The transaction of a flow view with this amount and value date.
fn find_transaction(view: &Value, amount: &str, value_date: &str) -> Option<Value> {
    match view {
        Value::Object(map) => {
            if map.get("amount").and_then(Value::as_str) == Some(amount)
                && map.get("value_date").and_then(Value::as_str) == Some(value_date)
                && map.contains_key("record")
            {
                return Some(view.clone());
            }
            map.values()
                .find_map(|value| find_transaction(value, amount, value_date))
        }
        Value::Array(items) => items
            .iter()
            .find_map(|value| find_transaction(value, amount, value_date)),
        _ => None,
    }
}

/// Whether every object naming `record` (as one of its values) says it is withdrawn.
fn only_as_withdrawn(view: &Value, record: &str) -> bool {
    match view {
        Value::Object(map) => {
            let names = map.values().any(|value| value.as_str() == Some(record));
            if names && !Value::Object(map.clone()).to_string().contains("withdrawn") {
                return false;
            }
            map.values().all(|value| only_as_withdrawn(value, record))
        }
        Value::Array(items) => items.iter().all(|value| only_as_withdrawn(value, record)),
        _ => true,
    }
}

/// Another publisher's activities are recorded under one's own organisation only with
/// `--as-reporting-org`, and their activity records say "reported by ORG about REF".
#[test]
fn another_publishers_activities_only_with_the_flag_and_marked_as_such() {
    let dir = TestDir::new("iati-on-behalf");
    let cli = Cli::new(dir.path());
    let genesis = make_network(&dir, &cli, &[DRC]);
    let node = start(&dir, &genesis, DRC);
    let file = data_dir().join(MAPACTION_FILE);

    // Without the flag nothing is importable: exit 1, the publisher named with the way to do it.
    let refused = import(&cli, &node, &[&file], &[]).assert_exit(1);
    assert!(
        refused.stdout().contains(&format!(
            "reported by \"{MAPACTION}\", not by {DRC}; --as-reporting-org {MAPACTION}"
        )),
        "{}",
        refused.stdout()
    );
    assert_eq!(node.record_count(), 0);

    let report = import(
        &cli,
        &node,
        &[&file],
        &["--as-reporting-org", MAPACTION, "--json"],
    )
    .assert_exit(0)
    .json();
    assert_eq!(report["recorded"], 4, "{report}");
    assert_eq!(report["activities_recorded"], 1, "{report}");
    assert_eq!(
        report["files"][0]["as_reporting_org"],
        json!([{"reporting_org": MAPACTION, "activities": 1, "transactions": 4}]),
        "{report}"
    );
    let text = import(&cli, &node, &[&file], &["--as-reporting-org", MAPACTION]).assert_exit(0);
    assert!(
        text.stdout()
            .contains(&format!("say \"reported by {DRC} about {MAPACTION}\"")),
        "{}",
        text.stdout()
    );

    // The activity record: signed by DRC, about MapAction's activity, and shown as such.
    let bundle = dir.join("drc.bundle");
    export(&cli, &node, &bundle);
    let mut activities = Vec::new();
    for item in BundleReader::new(fs::File::open(&bundle).unwrap()).unwrap() {
        let BundleItem::Record(bytes) = item.unwrap() else {
            continue;
        };
        let record = SignedRecord::parse(bytes).unwrap();
        if let Body::Activity(activity) = codec::decode_exact::<Body>(record.body_bytes()).unwrap()
        {
            activities.push((
                record.id,
                record.header.author.clone(),
                activity.reporting_org,
            ));
        }
    }
    assert_eq!(activities.len(), 1, "{activities:?}");
    let (id, author, reporting_org) = &activities[0];
    assert_eq!((author.as_str(), reporting_org.as_str()), (DRC, MAPACTION));
    let shown = cli
        .run(["show", &id.to_string(), "--node", &node.public_url()])
        .assert_exit(0);
    assert!(
        shown
            .stdout()
            .contains(&format!("reported by {DRC} about {MAPACTION}")),
        "{}",
        shown.stdout()
    );
}
