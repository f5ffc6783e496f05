//! A bundle made without a node's policy (records signed with the spec's signing function and
//! written with the bundle writer) holding a ratification by an organisation that is not a
//! party: the bundle stays VALID, `verify` reports the finding (text and JSON; exit 1 only with
//! `--fail-on-findings`), `provenance` and `show` of the action say so, and the treaty's
//! standing lists it apart and does not count it.

// vector_set reads the other two support files; only its genesis and seeds are used here.
#[path = "../../spec/tests/support/governance_vectors.rs"]
mod governance_vectors;
#[path = "../../spec/tests/support/signature_edges.rs"]
mod signature_edges;
#[path = "../../spec/tests/support/vector_set.rs"]
mod vector_set;

use std::path::Path;
use std::process::Output;

use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::record::{TextVersion, TreatyAction, TreatyActionKind, TreatyText};
use aidledger_spec::text::Date;
use aidledger_spec::{sign_record, Body, Digest, RecordDraft, RecordId};
use ed25519_dalek::SigningKey;
use vector_set::{
    genesis, AUDITOR, AUDITOR_SEED, CREATED_MS, DONOR, DONOR_SEED, IMPLEMENTER, IMPLEMENTER_SEED,
};

/// Signs `body` as record 0 of `author`'s chain.
fn first_record(author: &str, seed: [u8; 32], body: Body) -> (RecordId, Vec<u8>) {
    let draft = RecordDraft {
        network_id: genesis().network_id(),
        author: author.into(),
        seq: 0,
        prev: Digest::ZERO,
        timestamp_ms: CREATED_MS + 1,
        body,
    };
    sign_record(&draft, &SigningKey::from_bytes(&seed)).expect("sign")
}

fn ratify(treaty: RecordId, text: &TreatyText, date: &str) -> Body {
    Body::TreatyAction(TreatyAction {
        treaty,
        text_hash: text.text_hash(),
        action: TreatyActionKind::Ratify,
        date: Date::parse(date).expect("date"),
        note: String::new(),
    })
}

/// The bundle: the donor's treaty with the implementer, the donor's ratification, and the
/// auditor's "ratification" (the auditor is a member, not a party).
struct Scene {
    treaty: RecordId,
    party_action: RecordId,
    non_party_action: RecordId,
}

fn write_bundle(path: &Path) -> Scene {
    let text = TreatyText {
        title: "Water Cooperation Agreement".into(),
        parties: vec![DONOR.into(), IMPLEMENTER.into()],
        versions: vec![TextVersion {
            language: "en".into(),
            text: "Article 1. The parties cooperate on clean water.".into(),
        }],
        supersedes: None,
    };
    let (treaty, treaty_bytes) = first_record(DONOR, DONOR_SEED, Body::TreatyText(text.clone()));
    let draft = RecordDraft {
        network_id: genesis().network_id(),
        author: DONOR.into(),
        seq: 1,
        prev: treaty,
        timestamp_ms: CREATED_MS + 2,
        body: ratify(treaty, &text, "2024-03-01"),
    };
    let (party_action, party_bytes) =
        sign_record(&draft, &SigningKey::from_bytes(&DONOR_SEED)).expect("sign");
    let (non_party_action, non_party_bytes) =
        first_record(AUDITOR, AUDITOR_SEED, ratify(treaty, &text, "2024-03-02"));
    let file = std::fs::File::create(path).expect("create the bundle");
    let mut writer = BundleWriter::new(file, &genesis().encode()).expect("bundle header");
    for bytes in [&treaty_bytes, &party_bytes, &non_party_bytes] {
        writer.record(bytes).expect("write a record");
    }
    writer.finish().expect("finish the bundle");
    let _ = IMPLEMENTER_SEED; // the implementer has not acted: the treaty waits for it
    Scene {
        treaty,
        party_action,
        non_party_action,
    }
}

fn run(args: &[&str], bundle: &Path) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(args)
        .arg("--bundle")
        .arg(bundle)
        .output()
        .expect("run aidledger")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_non_party_ratification_is_a_finding_of_a_valid_bundle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("treaty.bundle");
    let scene = write_bundle(&bundle);
    let finding_id = scene.non_party_action.to_string();

    let verify = run(&["verify"], &bundle);
    let text = stdout(&verify);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "findings alone exit 0:\n{text}"
    );
    assert_eq!(text.lines().last(), Some("VALID"), "{text}");
    assert!(text.contains("findings  1"), "{text}");
    let line = text
        .lines()
        .find(|line| line.contains("treaty action by a non-party"))
        .unwrap_or_else(|| panic!("no finding line:\n{text}"));
    for part in [finding_id.as_str(), AUDITOR, &scene.treaty.to_string()] {
        assert!(line.contains(part), "the finding names {part}: {line}");
    }

    let failing = run(&["verify", "--fail-on-findings"], &bundle);
    assert_eq!(failing.status.code(), Some(1), "{}", stdout(&failing));

    let json: serde_json::Value =
        serde_json::from_slice(&run(&["verify", "--json"], &bundle).stdout).expect("JSON");
    assert_eq!(json["valid"], true);
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["kind"], "treaty-action-by-non-party");
    assert_eq!(findings[0]["record_id"], finding_id.as_str());
    assert_eq!(findings[0]["author"], AUDITOR);
    assert_eq!(findings[0]["treaty"], scene.treaty.to_string().as_str());
    assert_eq!(
        findings[0]["parties"],
        serde_json::json!([DONOR, IMPLEMENTER])
    );

    // Provenance of the non-party's action says so; the record itself is sound (exit 0).
    let provenance = run(&["provenance", &finding_id], &bundle);
    let text = stdout(&provenance);
    assert_eq!(provenance.status.code(), Some(0), "{text}");
    assert!(
        text.contains("FINDING   treaty action by a non-party") && text.contains(AUDITOR),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["provenance", &finding_id, "--json"], &bundle).stdout)
            .expect("JSON");
    assert_eq!(json["findings"][0]["author"], AUDITOR, "{json}");
    // The party's own action has no finding.
    let json: serde_json::Value = serde_json::from_slice(
        &run(
            &["provenance", &scene.party_action.to_string(), "--json"],
            &bundle,
        )
        .stdout,
    )
    .expect("JSON");
    assert_eq!(json["findings"], serde_json::json!([]), "{json}");

    // The treaty's standing: not in force, waiting for the implementer; the auditor's
    // ratification listed apart and not counted.
    let treaty = scene.treaty.to_string();
    for command in ["provenance", "show"] {
        let output = run(&[command, &treaty], &bundle);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{command}:\n{text}");
        assert!(
            text.contains(&format!(
                "standing  not in force: waiting for {IMPLEMENTER} to ratify or accede"
            )),
            "{command}:\n{text}"
        );
        assert!(
            text.contains(&format!(
                "party     {DONOR}: ratify 2024-03-01 on this exact text"
            )),
            "{command}:\n{text}"
        );
        assert!(
            text.contains(&format!(
                "FINDING   treaty action by a non-party: {AUDITOR} is not a party"
            )),
            "{command}:\n{text}"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&run(&[command, &treaty, "--json"], &bundle).stdout)
                .expect("JSON");
        let standing = &json["treaty_standing"];
        assert_eq!(standing["in_force"]["in_force"], false, "{json}");
        assert_eq!(
            standing["in_force"]["waiting_for"],
            serde_json::json!([IMPLEMENTER])
        );
        assert_eq!(
            standing["non_party_actions"][0]["record"],
            finding_id.as_str()
        );
        assert_eq!(standing["parties"][0]["current"]["action"], "ratify");
    }
}
