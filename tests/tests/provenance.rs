//! Provenance judges what other records claim about a record: a correction counts only when
//! the record's own author signed it, whatever another member's node was willing to sign.
//!
//! The read commands are pinned to the network (issue 16): a look-alike network naming the same
//! organisation ids with other keys is refused under `--network-id`, every read command says on
//! its first line which network it judged and whether that was pinned, and `gov status` reads a
//! bundle through the verifying reader, so it fails where `verify` fails.

use std::path::{Path, PathBuf};

use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::genesis::{AdminRule, Genesis, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::governance::{Change, Proposal};
use aidledger_spec::record::{Correction, Statement};
use aidledger_spec::signature::public_key_of;
use aidledger_spec::signed::{sign_record, RecordDraft};
use aidledger_spec::{Body, RecordId};
use aidledger_tests::{path_str, Cli, Network, Output, TestDir};
use ed25519_dalek::SigningKey;

const DONOR: &str = "GB-GOV-1";
const OTHER: &str = "XM-DAC-41114";

fn genesis(donor: &SigningKey, other: &SigningKey) -> Genesis {
    let member = |id: &str, key: &SigningKey| Member {
        id: id.into(),
        name: format!("{id} agency"),
        roles: vec![Role::Donor],
        signing_keys: vec![public_key_of(key)],
        node_keys: vec![],
    };
    let mut genesis = Genesis {
        format_version: GENESIS_FORMAT_VERSION,
        name: "provenance test".into(),
        created_ms: 1,
        members: vec![member(DONOR, donor), member(OTHER, other)],
        admin_rule: AdminRule {
            admins: vec![DONOR.into()],
            threshold: 1,
        },
    };
    genesis.normalise();
    genesis
}

/// Signs `body` as `author`'s first record.
fn signed(genesis: &Genesis, author: &str, key: &SigningKey, body: Body) -> (RecordId, Vec<u8>) {
    signed_at(genesis, author, key, body, 0, RecordId::ZERO)
}

/// Signs `body` as `author`'s record at (`seq`, `prev`).
fn signed_at(
    genesis: &Genesis,
    author: &str,
    key: &SigningKey,
    body: Body,
    seq: u64,
    prev: RecordId,
) -> (RecordId, Vec<u8>) {
    let draft = RecordDraft {
        network_id: genesis.network_id(),
        author: author.into(),
        seq,
        prev,
        timestamp_ms: 1_700_000_000_000,
        body,
    };
    sign_record(&draft, key).expect("small body signs")
}

fn statement(text: &str) -> Body {
    Body::Statement(Statement {
        title: "Funding update".into(),
        language: "en".into(),
        text: text.into(),
    })
}

/// Writes `records` as a complete bundle of `genesis` at `path`.
fn write_bundle(path: &Path, genesis: &Genesis, records: &[&[u8]]) {
    let file = std::fs::File::create(path).expect("create bundle");
    let mut writer = BundleWriter::new(file, &genesis.encode()).expect("bundle header");
    for record in records {
        writer.record(record).expect("write record");
    }
    writer.finish().expect("finish bundle");
}

#[test]
fn a_correction_by_another_organisation_is_ignored() {
    let dir = TestDir::new("provenance-foreign-correction");
    let donor = SigningKey::from_bytes(&[1; 32]);
    let other = SigningKey::from_bytes(&[2; 32]);
    let genesis = genesis(&donor, &other);
    let statement = Body::Statement(Statement {
        title: "Funding update".into(),
        language: "en".into(),
        text: "The first tranche was paid.".into(),
    });
    let (statement_id, statement_bytes) = signed(&genesis, DONOR, &donor, statement);
    let hijack = Body::Correction(Correction {
        corrects: statement_id,
        reason: "the tranche was never paid".into(),
        replacement: None,
    });
    let (hijack_id, hijack_bytes) = signed(&genesis, OTHER, &other, hijack);

    let bundle_path = dir.join("foreign.bundle");
    let file = std::fs::File::create(&bundle_path).expect("create bundle");
    let mut writer = BundleWriter::new(file, &genesis.encode()).expect("bundle header");
    writer.record(&statement_bytes).expect("write record");
    writer.record(&hijack_bytes).expect("write record");
    writer.finish().expect("finish bundle");

    let cli = Cli::new(dir.path());
    let bundle = path_str(&bundle_path);
    // Both records are validly signed by members: the bundle itself verifies.
    cli.run(["verify", "--bundle", bundle]).assert_exit(0);
    let text = cli
        .run(["provenance", &statement_id.to_hex(), "--bundle", bundle])
        .assert_exit(0);
    assert!(
        text.stdout().contains("corrected by none"),
        "{}",
        text.describe()
    );
    assert!(
        text.stdout()
            .contains(&format!("IGNORED   a correction by {OTHER}")),
        "{}",
        text.describe()
    );
    let json = cli
        .run([
            "provenance",
            &statement_id.to_hex(),
            "--bundle",
            bundle,
            "--json",
        ])
        .assert_exit(0)
        .json();
    assert_eq!(json["corrected_by"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        json["ignored_foreign_corrections"][0]["id"],
        hijack_id.to_hex()
    );
}

/// The first line of a read command's text: the network id, and whether it was pinned.
#[track_caller]
fn assert_first_line(output: &Output, network_id: &str, pinned: bool) {
    let first = output.stdout().lines().next().unwrap_or_default();
    let says_not_pinned = first.contains("NOT pinned");
    assert!(
        first.contains(network_id) && first.contains("pinned") && says_not_pinned != pinned,
        "expected the first line to name network {network_id}, pinned = {pinned}\n{}",
        output.describe()
    );
}

/// Every read command, with the arguments that make it read `bundle`.
fn read_commands<'a>(record_id: &'a str, bundle: &'a str) -> Vec<Vec<&'a str>> {
    vec![
        vec!["provenance", record_id, "--bundle", bundle],
        vec!["show", record_id, "--bundle", bundle],
        vec!["log", DONOR, "--bundle", bundle],
        vec!["flow", "GB-GOV-1-300123", "--bundle", bundle],
        vec!["reconcile", "--bundle", bundle],
        vec!["gov", "status", "--bundle", bundle],
    ]
}

/// Anyone can write a genesis naming "GB-GOV-1" and sign records with it. Pinned to the real
/// network, every read command refuses such a bundle (exit 1, naming both ids); pinned and
/// given the real network's bundle, each says so on its first line, in text and JSON.
#[test]
fn read_commands_refuse_a_look_alike_network_when_pinned() {
    let network = Network::start("look-alike");
    let transaction = network.record_transaction("250");
    let real = network.dir.join("real.bundle");
    let public = network.node.public_url();
    let real_id = network.network_id.as_str();
    let export = network
        .cli
        .run([
            "export",
            "--out",
            path_str(&real),
            "--node",
            &public,
            "--network-id",
            real_id,
        ])
        .assert_exit(0);
    assert!(export.stderr().contains(real_id), "{}", export.describe());

    let look_alike = genesis(
        &SigningKey::from_bytes(&[7; 32]),
        &SigningKey::from_bytes(&[8; 32]),
    );
    let fake_id = look_alike.network_id().to_hex();
    assert_ne!(fake_id, real_id);
    let (forged_id, forged) = signed(
        &look_alike,
        DONOR,
        &SigningKey::from_bytes(&[7; 32]),
        statement("GB-GOV-1 never paid the second tranche."),
    );
    let fake = network.dir.join("look-alike.bundle");
    write_bundle(&fake, &look_alike, &[&forged]);
    let forged_id = forged_id.to_hex();

    // Unpinned, the forgery reads as signed by GB-GOV-1; the first line says nothing was pinned.
    let unpinned = network
        .cli
        .run(["provenance", &forged_id, "--bundle", path_str(&fake)])
        .assert_exit(0);
    assert!(
        unpinned.stdout().contains("signed by GB-GOV-1"),
        "{}",
        unpinned.describe()
    );
    assert_first_line(&unpinned, &fake_id, false);

    for mut args in read_commands(&forged_id, path_str(&fake)) {
        args.extend(["--network-id", real_id]);
        let refused = network.cli.run(&args).assert_no_panic();
        assert_eq!(
            refused.code(),
            Some(1),
            "`{}`\n{}",
            args.join(" "),
            refused.describe()
        );
        assert!(
            refused.mentions(real_id) && refused.mentions(&fake_id),
            "`{}` names both network ids\n{}",
            args.join(" "),
            refused.describe()
        );
        assert!(
            !refused.stdout().contains("signed by"),
            "{}",
            refused.describe()
        );
    }
    // The pin may come from the environment too.
    let mut command = network
        .cli
        .command(["provenance", &forged_id, "--bundle", path_str(&fake)]);
    command.env("AIDLEDGER_NETWORK_ID", real_id);
    let from_env = aidledger_tests::run_with_timeout(command, aidledger_tests::COMMAND_TIMEOUT);
    from_env.assert_exit(1).assert_mentions_any(&[&fake_id]);

    for mut args in read_commands(&transaction, path_str(&real)) {
        args.extend(["--network-id", real_id]);
        let text = network.cli.run(&args).assert_exit(0);
        assert_first_line(&text, real_id, true);
        args.push("--json");
        let json = network.cli.run(&args).assert_exit(0).json();
        assert_eq!(json["network_id"], real_id, "`{}`: {json}", args.join(" "));
        assert_eq!(json["pinned"], true, "`{}`: {json}", args.join(" "));
    }
}

/// The organisation the governance bundles' proposal gives a new role.
const IMPLEMENTING: Role = Role::Implementer;

/// A genesis, a proposal by its only admin (effective at once: threshold 1) and another
/// member's statement, signed offline; `bundle(order)` writes them in the given order.
struct GovernanceBundles {
    dir: TestDir,
    genesis: Genesis,
    proposal: Vec<u8>,
    statement: Vec<u8>,
}

impl GovernanceBundles {
    fn new(name: &str) -> GovernanceBundles {
        let donor = SigningKey::from_bytes(&[3; 32]);
        let other = SigningKey::from_bytes(&[4; 32]);
        let genesis = genesis(&donor, &other);
        let change = Change::SetRoles {
            member: OTHER.into(),
            roles: vec![IMPLEMENTING],
        };
        let proposal = Body::Proposal(Proposal {
            base: RecordId::ZERO,
            change,
            note: "the agency implements now".into(),
        });
        let (_, proposal) = signed(&genesis, DONOR, &donor, proposal);
        let (_, statement) = signed(&genesis, OTHER, &other, statement("Wells dug."));
        GovernanceBundles {
            dir: TestDir::new(name),
            genesis,
            proposal,
            statement,
        }
    }

    fn bundle(&self, name: &str, records: &[&[u8]]) -> PathBuf {
        let path = self.dir.join(name);
        write_bundle(&path, &self.genesis, records);
        path
    }

    fn cli(&self) -> Cli {
        Cli::new(self.dir.path())
    }
}

/// The canonical order verifies, and `gov status` shows the proposal's step: the control that
/// the two bad orders below fail for their damage, not for the proposal.
#[test]
fn gov_status_reports_the_step_of_a_canonical_bundle() {
    let bundles = GovernanceBundles::new("gov-status-canonical");
    let good = bundles.bundle("good.bundle", &[&bundles.proposal, &bundles.statement]);
    let cli = bundles.cli();
    cli.run(["verify", "--bundle", path_str(&good)])
        .assert_exit(0);
    let status = cli
        .run(["gov", "status", "--bundle", path_str(&good)])
        .assert_exit(0);
    assert!(
        status.stdout().contains("steps     1 effective"),
        "{}",
        status.describe()
    );
    assert_first_line(&status, &bundles.genesis.network_id().to_hex(), false);
}

/// Governance after an ordinary record breaks the bundle order (FORMAT.md 13.1): `verify` says
/// INVALID, and so must `gov status`, instead of "steps 0 effective … findings none".
#[test]
fn gov_status_fails_on_governance_after_ordinary_records() {
    let bundles = GovernanceBundles::new("gov-status-order");
    let bad = bundles.bundle(
        "out-of-order.bundle",
        &[&bundles.statement, &bundles.proposal],
    );
    let cli = bundles.cli();
    cli.run(["verify", "--bundle", path_str(&bad)])
        .assert_exit(1)
        .assert_mentions_any(&["governance record after"]);
    let status = cli
        .run(["gov", "status", "--bundle", path_str(&bad)])
        .assert_exit(1);
    assert!(
        status
            .stdout()
            .lines()
            .any(|line| line.starts_with("INVALID")),
        "{}",
        status.describe()
    );
    let json = cli
        .run(["gov", "status", "--bundle", path_str(&bad), "--json"])
        .assert_exit(1)
        .json();
    assert_eq!(json["source_valid"], false, "{json}");
}

/// A bundle cut right after its governance section: `verify` fails on the truncation, and so
/// must `gov status`, naming the offset.
#[test]
fn gov_status_fails_on_a_bundle_cut_after_its_governance() {
    let bundles = GovernanceBundles::new("gov-status-cut");
    let whole = bundles.bundle("whole.bundle", &[&bundles.proposal, &bundles.statement]);
    let bytes = std::fs::read(&whole).expect("read the bundle");
    // magic, version, genesis frame, then the proposal's frame: cut where the next one starts.
    let cut = 10 + 9 + bundles.genesis.encode().len() + 9 + bundles.proposal.len();
    assert_eq!(bytes[cut], 2, "a record frame starts at byte {cut}");
    let cut_path = bundles.dir.write("cut.bundle", &bytes[..cut]);
    let cli = bundles.cli();
    cli.run(["verify", "--bundle", path_str(&cut_path)])
        .assert_exit(1)
        .assert_mentions_any(&["truncated"]);
    cli.run(["gov", "status", "--bundle", path_str(&cut_path)])
        .assert_exit(1)
        .assert_mentions_any(&[&format!("byte {cut}")]);
}

/// "Is this genuine?" offline (issue 20): `provenance --text-file` and `--text -` find the
/// record that signed exactly a text, or its normalised form (other line endings, trailing
/// spaces), say when the author withdrew it, and report a text with one word changed as not
/// signed (exit 2) with the nearest signed statement and the difference.
#[test]
fn provenance_of_a_text_finds_its_record_or_the_nearest_statement() {
    const FLOUR: &str =
        "We delivered 40 tonnes of wheat flour to Gaza City.\nNo payment was diverted.";
    const BUDGET: &str = "Our budget for 2027 is published in full.";
    let dir = TestDir::new("provenance-text");
    let donor = SigningKey::from_bytes(&[1; 32]);
    let other = SigningKey::from_bytes(&[2; 32]);
    let genesis = genesis(&donor, &other);
    let (flour_id, flour) = signed(&genesis, DONOR, &donor, statement(FLOUR));
    let (budget_id, budget) = signed_at(&genesis, DONOR, &donor, statement(BUDGET), 1, flour_id);
    let withdrawal = Body::Correction(Correction {
        corrects: budget_id,
        reason: "too early".into(),
        replacement: None,
    });
    let (withdrawal_id, withdrawal) = signed_at(&genesis, DONOR, &donor, withdrawal, 2, budget_id);
    let (_, receipt) = signed(&genesis, OTHER, &other, statement("We received the flour."));
    let bundle_path = dir.join("texts.bundle");
    write_bundle(
        &bundle_path,
        &genesis,
        &[&flour, &budget, &withdrawal, &receipt],
    );
    let bundle = path_str(&bundle_path);
    let cli = Cli::new(dir.path());
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };

    let exact = file("exact.txt", FLOUR);
    let output = cli
        .run([
            "provenance",
            "--text-file",
            path_str(&exact),
            "--bundle",
            bundle,
        ])
        .assert_exit(0);
    assert!(
        output.stdout().contains("SIGNED    exactly this text"),
        "{}",
        output.describe()
    );
    assert!(output.stdout().contains(&flour_id.to_hex()));
    assert!(output.stdout().contains("GB-GOV-1 agency (GB-GOV-1)"));

    let variant = file(
        "variant.txt",
        &format!("{}  \r\n", FLOUR.replace('\n', " \r\n")),
    );
    let output = cli
        .run([
            "provenance",
            "--text-file",
            path_str(&variant),
            "--bundle",
            bundle,
            "--json",
        ])
        .assert_exit(0);
    let json = output.json();
    assert_eq!(json["signed"], true);
    assert_eq!(json["matches"][0]["record"], flour_id.to_hex());
    assert_eq!(json["matches"][0]["exact"], false);
    assert_eq!(json["source_valid"], true);

    // Standard input; a withdrawn statement is found and said to be withdrawn.
    let mut command = cli.command(["provenance", "--text", "-", "--bundle", bundle]);
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(BUDGET.as_bytes())
            .unwrap();
    }
    let piped = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&piped.stdout);
    assert_eq!(piped.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("WITHDRAWN by its author"), "{stdout}");
    assert!(stdout.contains(&withdrawal_id.to_hex()));

    // Named as the other organisation's: signed, but not by it.
    let output = cli
        .run([
            "provenance",
            "--text-file",
            path_str(&exact),
            "--org",
            OTHER,
            "--bundle",
            bundle,
        ])
        .assert_exit(0);
    assert!(
        output.stdout().contains("BUT NOT BY XM-DAC-41114 agency"),
        "{}",
        output.describe()
    );

    // One word changed: not signed (exit 2), the nearest statement and the difference.
    let forged = file("forged.txt", &FLOUR.replace("No payment", "Some payment"));
    let output = cli
        .run([
            "provenance",
            "--text-file",
            path_str(&forged),
            "--bundle",
            bundle,
        ])
        .assert_exit(2);
    assert!(
        output.stdout().contains("NOT SIGNED"),
        "{}",
        output.describe()
    );
    assert!(output.stdout().contains(&flour_id.to_hex()));
    assert!(
        output.stdout().contains("[-No-]{+Some+}"),
        "{}",
        output.describe()
    );
    let json = cli
        .run([
            "provenance",
            "--text-file",
            path_str(&forged),
            "--bundle",
            bundle,
            "--json",
        ])
        .assert_exit(2)
        .json();
    assert_eq!(json["signed"], false);
    assert_eq!(json["nearest"]["record"], flour_id.to_hex());
    assert_eq!(json["nearest"]["diff"][1]["change"], "removed");

    // A source of another network than the one pinned: exit 1.
    cli.run([
        "provenance",
        "--text-file",
        path_str(&exact),
        "--bundle",
        bundle,
        "--network-id",
        &"ab".repeat(32),
    ])
    .assert_exit(1);
}
