//! The single-node tour the README describes (`demo --single-node`, formerly `walkthrough`,
//! which is kept as an alias): it must run the real node, record every kind, and end with a
//! bundle that verifies against the network id it printed.

use aidledger_tests::{path_str, Cli, TestDir};

#[test]
fn walkthrough_records_every_kind_and_verifies_its_bundle() {
    let dir = TestDir::new("walkthrough");
    let work = dir.join("work");
    let output = Cli::new(dir.path())
        .run(["demo", "--single-node", "--dir", path_str(&work)])
        .assert_exit(0)
        .assert_no_panic();
    let text = output.stdout();
    for step in [
        "1. network of 3 organisations",
        "3. recorded a commitment",
        "4. recorded a treaty text",
        "5. recorded a statement",
        "7. verified the bundle",
    ] {
        assert!(
            text.contains(step),
            "missing {step:?}:\n{}",
            output.describe()
        );
    }
    assert!(
        text.contains("records   6 read, 6 valid"),
        "{}",
        output.describe()
    );
    assert!(
        text.trim_end().lines().any(|line| line == "VALID"),
        "{}",
        output.describe()
    );
    // The bundle it kept verifies again, independently, when the printed network id is pinned.
    let network_id = text
        .lines()
        .find_map(|line| line.strip_prefix("1. network of 3 organisations created; network id "))
        .expect("the walk-through prints the network id")
        .trim()
        .to_owned();
    let bundle = work.join("network.bundle");
    Cli::new(dir.path())
        .run([
            "verify",
            "--bundle",
            path_str(&bundle),
            "--network-id",
            &network_id,
        ])
        .assert_exit(0);
}

#[test]
fn walkthrough_is_an_alias_of_the_single_node_demo() {
    let dir = TestDir::new("walkthrough_alias");
    let work = dir.join("work");
    let output = Cli::new(dir.path())
        .run(["walkthrough", "--dir", path_str(&work)])
        .assert_exit(0)
        .assert_no_panic();
    assert!(
        output.stdout().contains("7. verified the bundle"),
        "{}",
        output.describe()
    );
    assert!(work.join("network.bundle").is_file());
}
