//! Bad input is refused with exit 2 and a message naming the problem, and nothing is stored.

use aidledger_tests::{path_str, transaction_args, Network, Output, DONOR, IMPLEMENTER};

/// Replaces the value after `flag` in a transaction's arguments.
fn with<'a>(mut args: Vec<&'a str>, flag: &str, value: &'a str) -> Vec<&'a str> {
    let at = args
        .iter()
        .position(|arg| *arg == flag)
        .expect("the flag is in the arguments")
        + 1;
    args[at] = value;
    args
}

#[track_caller]
fn assert_refused(output: Output, names: &[&str]) {
    output
        .assert_exit(2)
        .assert_no_panic()
        .assert_stderr_nonempty()
        .assert_mentions_any(names);
}

#[test]
fn bad_input_is_refused_and_nothing_is_stored() {
    let network = Network::start("bad-input");
    let public = network.node.public_url();
    network.record_transaction("1");
    let status_before = network.node.status();
    assert_eq!(
        status_before["records"].as_u64(),
        Some(1),
        "one record stored: {status_before}"
    );
    let check_nothing_stored = |case: &str| {
        let status = network.node.status();
        assert_eq!(
            status["records"], status_before["records"],
            "{case}: the record count changed: {status}"
        );
        assert_eq!(
            status["head"], status_before["head"],
            "{case}: the head changed: {status}"
        );
    };

    for amount in ["12,5", "1e3"] {
        let output = network.try_record(
            "transaction",
            &with(transaction_args("1"), "--amount", amount),
        );
        assert_refused(output, &["amount"]);
        check_nothing_stored(&format!("amount {amount}"));
    }

    let output = network.try_record(
        "transaction",
        &with(transaction_args("1"), "--currency", "GBX"),
    );
    assert_refused(output, &["GBX"]);
    check_nothing_stored("currency GBX");

    let text_file = network
        .dir
        .write("small.en.txt", "Article 1. Cooperation.\n");
    let text_arg = format!("en={}", path_str(&text_file));
    let output = network.try_record(
        "treaty",
        &[
            "--title",
            "Treaty with a stranger",
            "--party",
            DONOR,
            "--party",
            "XX-UNKNOWN-9",
            "--text",
            &text_arg,
        ],
    );
    assert_refused(output, &["XX-UNKNOWN-9"]);
    check_nothing_stored("unknown treaty party");

    let output = network.cli.run(["log", "UNKNOWN-ORG", "--node", &public]);
    assert_refused(output, &["UNKNOWN-ORG"]);

    // A wrong token: the submit API answers 401 and the CLI says so.
    let bad_token = network
        .dir
        .write("bad.token", format!("{}\n", "0".repeat(64)));
    let submit = network.node.submit_url();
    let mut args = vec!["record", "transaction"];
    args.extend(transaction_args("5"));
    args.extend(["--submit", &submit, "--token-file", path_str(&bad_token)]);
    let output = network.cli.run(&args);
    assert_refused(output, &["token", "401", "unauthori", "not authori"]);
    check_nothing_stored("wrong token");

    // A treaty text over the 16 MiB body limit.
    const OVERSIZE_BYTES: usize = 17 * 1024 * 1024;
    let line = "Article. The Parties agree to everything written in this very long text.\n";
    let text = line.repeat(OVERSIZE_BYTES / line.len() + 1);
    let big_file = network.dir.write("oversize.en.txt", &text);
    let big_arg = format!("en={}", path_str(&big_file));
    let output = network.try_record(
        "treaty",
        &[
            "--title",
            "Too long",
            "--party",
            DONOR,
            "--party",
            IMPLEMENTER,
            "--text",
            &big_arg,
        ],
    );
    assert_refused(
        output,
        &[
            "too large",
            "too big",
            "limit",
            "exceed",
            "more than",
            "size",
            "413",
            "mib",
            "bytes",
        ],
    );
    check_nothing_stored("oversize treaty text");

    // The node still takes good records after all that.
    network.record_transaction("2");
    assert_eq!(network.node.record_count(), 2);
}
