//! `aidledger demo --once`: three organisations' nodes on loopback, the recorded story,
//! replication to every node and verification of each; exit 0 only if every check passed.

use aidledger_tests::{path_str, Cli, TestDir};

#[test]
fn demo_once_replicates_the_story_to_three_nodes_and_verifies_each() {
    let dir = TestDir::new("net_demo");
    let cli = Cli::new(dir.path());
    let demo_dir = dir.join("demo");
    let output = cli
        .run(["demo", "--once", "--dir", path_str(&demo_dir)])
        .assert_exit(0)
        .assert_no_panic();
    let stdout = output.stdout();
    assert!(
        stdout.contains("ALL CHECKS PASSED"),
        "{}",
        output.describe()
    );
    assert_eq!(stdout.matches(" records, VALID").count(), 3, "{stdout}");
    assert!(stdout.contains("6 records, VALID"), "{stdout}");
    assert!(demo_dir.join("nodes/GB-GOV-1/node.key").is_file());
    // The nodes are gone when it returns: the command it gives to check for oneself reads a
    // directory, and works.
    let given = stdout
        .lines()
        .find_map(|line| line.split_once("verify one yourself: aidledger "))
        .map(|(_, command)| command.split_whitespace().collect::<Vec<_>>())
        .unwrap_or_else(|| panic!("no command to check for oneself:\n{stdout}"));
    assert_eq!(given[..2], ["verify", "--data-dir"], "{given:?}");
    let verified = cli.run(&given).assert_exit(0).assert_no_panic();
    assert!(
        verified.stdout().ends_with("VALID\n"),
        "{}",
        verified.describe()
    );
}

#[test]
fn demo_once_without_a_dir_says_its_files_are_gone() {
    let dir = TestDir::new("net_demo_temporary");
    let cli = Cli::new(dir.path());
    let output = cli.run(["demo", "--once"]).assert_exit(0).assert_no_panic();
    let stdout = output.stdout();
    assert!(
        stdout.contains("ALL CHECKS PASSED"),
        "{}",
        output.describe()
    );
    assert!(
        stdout.contains("the temporary directory is removed; pass --dir to keep it"),
        "{stdout}"
    );
    assert!(!stdout.contains("verify one yourself"), "{stdout}");
}
