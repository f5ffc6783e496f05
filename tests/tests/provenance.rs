//! Provenance judges what other records claim about a record: a correction counts only when
//! the record's own author signed it, whatever another member's node was willing to sign.

use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::genesis::{AdminRule, Genesis, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::record::{Correction, Statement};
use aidledger_spec::signature::public_key_of;
use aidledger_spec::signed::{sign_record, RecordDraft};
use aidledger_spec::{Body, RecordId};
use aidledger_tests::{path_str, Cli, TestDir};
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

fn signed(genesis: &Genesis, author: &str, key: &SigningKey, body: Body) -> (RecordId, Vec<u8>) {
    let draft = RecordDraft {
        network_id: genesis.network_id(),
        author: author.into(),
        seq: 0,
        prev: RecordId::ZERO,
        timestamp_ms: 1_700_000_000_000,
        body,
    };
    sign_record(&draft, key).expect("small body signs")
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
