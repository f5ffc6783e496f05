//! Recording every kind of record through the CLI, reading it back, exporting and verifying it
//! from a running node, a stopped node's directory and a bundle.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use aidledger_spec::bundle::{BundleItem, BundleReader};
use aidledger_tests::{is_hex32, path_str, strings_under_key, Network, DONOR, IMPLEMENTER};

/// The record bytes of a bundle, failing the test when the file is not a complete bundle.
fn bundle_records(path: &Path) -> Vec<Vec<u8>> {
    let file =
        fs::File::open(path).unwrap_or_else(|error| panic!("open {}: {error}", path.display()));
    let reader = BundleReader::new(std::io::BufReader::new(file)).expect("the export is a bundle");
    reader
        .filter_map(
            |item| match item.expect("every frame of the export reads") {
                BundleItem::Record(bytes) => Some(bytes),
                _ => None,
            },
        )
        .collect()
}

/// The plain-text verify report ends with a line `VALID`.
#[track_caller]
fn assert_says_valid(output: &aidledger_tests::Output) {
    let lines: Vec<&str> = output.stdout().lines().map(str::trim).collect();
    assert!(
        lines.contains(&"VALID"),
        "expected a line VALID\n{}",
        output.describe()
    );
    assert!(
        !lines.contains(&"INVALID"),
        "expected no line INVALID\n{}",
        output.describe()
    );
}

#[test]
fn records_every_kind_and_verifies() {
    let mut network = Network::start("every-kind");
    let cli = network.cli.clone();
    let public = network.node.public_url();
    let submit = network.node.submit_url();
    let data_dir = network.data_dir_arg();

    // The node announces its listeners on stdout, as endpoints.json says. It prints them just
    // after writing endpoints.json, which the harness waits for, so wait for the lines too.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut log = network.node.stdout_log();
    while !log.contains(&format!("public {public}")) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        log = network.node.stdout_log();
    }
    assert!(
        log.contains(&format!("submit {submit}")),
        "node stdout lacks `submit {submit}`:\n{log}"
    );
    assert!(
        log.contains(&format!("public {public}")),
        "node stdout lacks `public {public}`:\n{log}"
    );

    let transaction = network.record_transaction("1000.50");
    let text_file = network.dir.write(
        "treaty.en.txt",
        "Article 1. The Parties shall cooperate on clean water.\nArticle 2. Funds are disbursed quarterly.\n",
    );
    let text_arg = format!("en={}", path_str(&text_file));
    let treaty = network.record(
        "treaty",
        &[
            "--title",
            "Water Cooperation Agreement",
            "--party",
            DONOR,
            "--party",
            IMPLEMENTER,
            "--text",
            &text_arg,
        ],
    );
    let ratification = network.record(
        "treaty-action",
        &[
            "--treaty",
            &treaty,
            "--action",
            "ratify",
            "--date",
            "2024-04-01",
        ],
    );
    let statement = network.record(
        "statement",
        &[
            "--title",
            "Annual statement",
            "--language",
            "en",
            "--text",
            "We met our 2024 commitments.",
        ],
    );
    let correction = network.record(
        "correction",
        &[
            "--corrects",
            &transaction,
            "--reason",
            "typo in the amount",
            "--amount",
            "1000.55",
        ],
    );
    let ids = [
        &transaction,
        &treaty,
        &ratification,
        &statement,
        &correction,
    ];
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        5,
        "five records, five distinct ids: {ids:?}"
    );
    assert_eq!(
        network.node.record_count(),
        5,
        "the node counts the five records"
    );
    let status = network.node.status();
    assert_eq!(
        status["head"]["id"].as_str(),
        Some(correction.as_str()),
        "the head is the last record: {status}"
    );
    assert_eq!(
        status["head"]["seq"].as_u64(),
        Some(4),
        "the head is at seq 4: {status}"
    );
    assert_eq!(
        status["network_id"].as_str(),
        Some(network.network_id.as_str()),
        "status names the network: {status}"
    );

    for id in ids {
        let shown = cli.run(["show", id, "--node", &public]).assert_exit(0);
        assert!(
            shown.mentions(id) && shown.mentions(DONOR),
            "show prints the id and author\n{}",
            shown.describe()
        );
    }
    let shown = cli
        .run(["show", &transaction, "--node", &public])
        .assert_exit(0);
    assert!(
        shown.mentions("1000.50") && shown.mentions("GBP"),
        "show prints the amount\n{}",
        shown.describe()
    );
    // The headline leads, under the network line: who did what, to whom, how much, when, by
    // the members' names, as the record stands (corrected to 1000.55, issue 20); then the status
    // line with the signed amount struck.
    let lines: Vec<&str> = shown.stdout().lines().collect();
    assert_eq!(
        lines.get(1).copied(),
        Some(
            "Foreign Office disbursed GBP 1,000.55 to Aid Implementer A/S on 2024-03-01 \
             (activity GB-GOV-1-300123), as corrected by its author"
        ),
        "show leads with the headline\n{}",
        shown.describe()
    );
    assert_eq!(
        lines.get(2).copied(),
        Some("status    corrected: amount now GBP 1,000.55, was GBP 1,000.50 · never acknowledged"),
        "show's status line says what the correction changed, and that no receipt names the \
         disbursement\n{}",
        shown.describe()
    );
    let json = cli
        .run(["show", &correction, "--json", "--node", &public])
        .assert_exit(0)
        .json();
    let headline = json["headline"].as_str().unwrap_or_default();
    assert!(
        headline.starts_with(&format!(
            "Foreign Office corrected its disbursement GBP 1,000.50, 2024-03-01 (record {}) on ",
            &transaction[..12]
        )) && headline
            .ends_with(": amount now GBP 1,000.55, was GBP 1,000.50, because “typo in the amount”"),
        "show --json has the correction's headline: {json}"
    );
    assert_eq!(json["status"], "valid", "{json}");

    // log: newest first, one line a record.
    let log = cli.run(["log", DONOR, "--node", &public]).assert_exit(0);
    let positions: Vec<usize> = ids
        .iter()
        .map(|id| {
            log.stdout()
                .lines()
                // A line's record id is its first id; later ones are references (corrects, treaty).
                .position(|line| {
                    line.split_whitespace().find(|word| is_hex32(word)) == Some(id.as_str())
                })
                .unwrap_or_else(|| panic!("log lacks {id}\n{}", log.describe()))
        })
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] > pair[1]),
        "log is newest first: {positions:?}\n{}",
        log.describe()
    );

    // Provenance of the treaty lists the ratification on its exact text.
    let provenance = cli
        .run(["provenance", &treaty, "--node", &public])
        .assert_exit(0);
    assert!(
        provenance.mentions(&ratification),
        "provenance lists the ratification\n{}",
        provenance.describe()
    );
    provenance.assert_mentions_any(&["ratify", "ratification", "ratified"]);

    // Export from the running node.
    let live_bundle = network.dir.join("live.bundle");
    let export = cli
        .run(["export", "--out", path_str(&live_bundle), "--node", &public])
        .assert_exit(0);
    assert!(
        !export.stderr().trim().is_empty(),
        "export prints a summary on stderr\n{}",
        export.describe()
    );
    let live_records = bundle_records(&live_bundle);
    assert_eq!(live_records.len(), 5, "the bundle holds the five records");

    let verified = cli
        .run(["verify", "--bundle", path_str(&live_bundle)])
        .assert_exit(0);
    assert_says_valid(&verified);
    assert_says_valid(&cli.run(["verify", "--node", &public]).assert_exit(0));

    let report = cli
        .run(["verify", "--bundle", path_str(&live_bundle), "--json"])
        .assert_exit(0)
        .json();
    assert_eq!(
        report["valid"],
        serde_json::Value::Bool(true),
        "JSON report: {report}"
    );

    cli.run([
        "verify",
        "--bundle",
        path_str(&live_bundle),
        "--network-id",
        &network.network_id,
    ])
    .assert_exit(0);
    let wrong_id: String = network.network_id.chars().rev().collect();
    assert_ne!(wrong_id, network.network_id);
    let mismatch = cli.run([
        "verify",
        "--bundle",
        path_str(&live_bundle),
        "--network-id",
        &wrong_id,
    ]);
    // A source from another network is invalid data (exit 1), not a failure to run (issue 16).
    let mismatch = mismatch.assert_exit(1).assert_no_panic();
    let text = mismatch.text_lowercase();
    assert!(
        text.contains("network")
            && (text.contains(&wrong_id)
                || ["mismatch", "expected", "differ", "not "]
                    .iter()
                    .any(|w| text.contains(w))),
        "the message names the network id mismatch\n{}",
        mismatch.describe()
    );

    // Stop the node: endpoints.json goes, and the directory can be read offline.
    network.node.terminate();
    assert!(
        !network.data_dir().join("endpoints.json").exists(),
        "endpoints.json is removed on clean shutdown"
    );
    let offline_bundle = network.dir.join("offline.bundle");
    cli.run([
        "export",
        "--out",
        path_str(&offline_bundle),
        "--data-dir",
        &data_dir,
    ])
    .assert_exit(0);
    let offline_records = bundle_records(&offline_bundle);
    assert_eq!(
        offline_records.iter().collect::<BTreeSet<_>>(),
        live_records.iter().collect::<BTreeSet<_>>(),
        "the offline export holds the same records as the live one"
    );
    assert_says_valid(
        &cli.run(["verify", "--bundle", path_str(&offline_bundle)])
            .assert_exit(0),
    );
    assert_says_valid(&cli.run(["verify", "--data-dir", &data_dir]).assert_exit(0));
    let shown = cli
        .run(["show", &statement, "--data-dir", &data_dir])
        .assert_exit(0);
    assert!(
        shown.mentions("We met our 2024 commitments."),
        "show --data-dir prints the statement\n{}",
        shown.describe()
    );
}

#[test]
fn amounts_round_trip_exactly() {
    let network = Network::start("amounts");
    let public = network.node.public_url();
    for amount in ["1234567890123.123456789012", "-250.5"] {
        let id = network.record_transaction(amount);
        let shown = network
            .cli
            .run(["show", &id, "--json", "--node", &public])
            .assert_exit(0);
        let json = shown.json();
        let mut amounts = Vec::new();
        strings_under_key(&json, "amount", &mut amounts);
        assert!(
            amounts.contains(&amount),
            "show --json has the amount {amount:?} as a string, found {amounts:?}\n{json}"
        );
        assert!(
            shown.stdout().contains(&format!("\"{amount}\"")),
            "the exact text {amount:?} is printed\n{}",
            shown.describe()
        );
    }
}

#[test]
fn large_treaty_text() {
    const TEXT_SIZE_BYTES: usize = 5 * 1024 * 1024;
    let network = Network::start("large-text");
    let mut rng = aidledger_tests::Rng::new(7);
    let words = [
        "article",
        "party",
        "shall",
        "funds",
        "water",
        "the",
        "of",
        "cooperation",
        "donor",
        "année",
        "Übereinkommen",
    ];
    let mut text = String::with_capacity(TEXT_SIZE_BYTES + 64);
    let mut article = 1;
    while text.len() < TEXT_SIZE_BYTES {
        text.push_str(&format!("Article {article}. "));
        for _ in 0..40 {
            text.push_str(words[rng.below(words.len() as u64) as usize]);
            text.push(' ');
        }
        text.push('\n');
        article += 1;
    }
    let text_file = network.dir.write("large.en.txt", &text);
    let text_arg = format!("en={}", path_str(&text_file));
    let treaty = network.record(
        "treaty",
        &[
            "--title",
            "A long convention",
            "--party",
            DONOR,
            "--text",
            &text_arg,
        ],
    );

    let public = network.node.public_url();
    let bundle = network.dir.join("large.bundle");
    network
        .cli
        .run(["export", "--out", path_str(&bundle), "--node", &public])
        .assert_exit(0);
    let records = bundle_records(&bundle);
    assert_eq!(records.len(), 1);
    assert!(
        records[0].len() > TEXT_SIZE_BYTES,
        "the record holds the whole text ({} bytes)",
        records[0].len()
    );
    let verified = network.cli.run([
        "verify",
        "--bundle",
        path_str(&bundle),
        "--network-id",
        &network.network_id,
    ]);
    assert_says_valid(&verified.assert_exit(0));
    let (code, raw) = network
        .node
        .public_get(&format!("/api/records/{treaty}/raw"));
    assert_eq!(code, 200);
    assert_eq!(raw, records[0], "the raw record equals the exported one");
}

/// Issue 19: a node accepted a "ratify" from an organisation that is not a party. Now the
/// node refuses it (the CLI exits 2, as for every refusal) naming the organisation and the
/// treaty, and stores nothing.
#[test]
fn a_node_refuses_a_treaty_action_by_a_non_party() {
    let network = Network::start("non-party");
    let text = network
        .dir
        .write("treaty.en.txt", "Article 1. Only the implementer.\n");
    let text_arg = format!("en={}", path_str(&text));
    // The donor's node records a text whose only party is the implementer.
    let treaty = network.record(
        "treaty",
        &[
            "--title",
            "Implementer's undertaking",
            "--party",
            IMPLEMENTER,
            "--text",
            &text_arg,
        ],
    );
    let public = network.node.public_url();
    let before = network
        .cli
        .run(["log", DONOR, "--node", &public, "--json"])
        .assert_exit(0)
        .stdout()
        .to_owned();
    let refused = network
        .cli
        .run([
            "record",
            "treaty-action",
            "--treaty",
            &treaty,
            "--action",
            "ratify",
            "--date",
            "2024-04-01",
            "--data-dir",
            &network.data_dir_arg(),
        ])
        .assert_exit(2);
    assert!(
        refused
            .stderr()
            .contains(&format!("{DONOR} is not a party to treaty {treaty}")),
        "{}",
        refused.describe()
    );
    let after = network
        .cli
        .run(["log", DONOR, "--node", &public, "--json"])
        .assert_exit(0)
        .stdout()
        .to_owned();
    assert_eq!(before, after, "a refused action stored nothing");
}

/// `record batch --from-file`: every line recorded through one batch request, ids in the file's
/// order and in chain order; a file with one bad line records nothing and names the line.
#[test]
fn a_batch_file_records_every_line_or_none() {
    let network = Network::start("batch-file");
    let cli = network.cli.clone();
    let data_dir = network.data_dir_arg();
    let public = network.node.public_url();
    network
        .dir
        .write("update.txt", "Second tranche on its way.\n");
    let file = network.dir.write(
        "records.txt",
        "# this week's records\n\
         statement --title \"Funding update\" --text \"First tranche paid.\"\n\
         \n\
         statement --title 'Funding update 2' --text-file update.txt\n\
         transaction --activity GB-GOV-1-301150-117 --type disbursement --amount 400000.00 \
         --currency GBP --value-date 2020-06-22 --receiver-org DK-CVR-20699310 \
         --receiver-name \"Danish Refugee Council\"\n",
    );
    let recorded = cli
        .run([
            "record",
            "batch",
            "--from-file",
            path_str(&file),
            "--data-dir",
            &data_dir,
        ])
        .assert_exit(0);
    let ids: Vec<&str> = recorded.stdout().lines().collect();
    assert_eq!(ids.len(), 3, "{}", recorded.describe());
    let mut seqs = Vec::new();
    for id in &ids {
        assert!(is_hex32(id), "{id}");
        let shown = cli
            .run(["show", id, "--json", "--node", &public])
            .assert_exit(0)
            .json();
        seqs.push(shown["seq"].as_u64().expect("seq"));
    }
    assert_eq!(seqs, [0, 1, 2], "the file's order is the chain's");
    let second = cli.run(["show", ids[1], "--node", &public]).assert_exit(0);
    assert!(
        second.stdout().contains("Second tranche on its way."),
        "{}",
        second.describe()
    );

    let bad = network.dir.write(
        "bad.txt",
        "statement --title ok --text fine\n\
         transaction --activity A-1 --type disbursement --amount 5 --currency XXQ --value-date 2020-06-22\n",
    );
    let refused = cli.run([
        "record",
        "batch",
        "--from-file",
        path_str(&bad),
        "--data-dir",
        &data_dir,
    ]);
    assert_ne!(refused.code(), Some(0), "{}", refused.describe());
    assert!(refused.stdout().trim().is_empty(), "{}", refused.describe());
    assert!(
        refused.stderr().contains("bad.txt line 2") && refused.stderr().contains("XXQ"),
        "the error names the line and the value: {}",
        refused.describe()
    );
    assert_eq!(network.node.record_count(), 3, "nothing more was recorded");
}
