//! `verify --proof` of packets of redacted records (FORMAT.md §26.3): the packets of
//! `spec/vectors/proof-packet-redacted.json` through the real binary. A record redacted by its
//! author (a version 2 packet carrying the order) and one redacted by the admins (version 1,
//! the `redact` proposal among the governance records) are valid, exit 0, and say by whom and
//! why; a withheld record with no order the packet shows is refused (exit 1, `not-redacted`).

use serde_json::Value;

use crate::support::*;

fn vectors() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../spec/vectors/proof-packet-redacted.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the vector file")).expect("JSON")
}

/// Runs `verify --proof` on the vector packet `name` (with `extra` arguments).
fn verify_packet(name: &str, extra: &[&str]) -> Run {
    let file = vectors();
    let case = file["packets"]
        .as_array()
        .expect("packets")
        .iter()
        .find(|case| case["name"] == name)
        .expect("the packet")
        .clone();
    let dir = temp_dir(&format!("packet-{name}"));
    let path = dir.join("record.proof");
    let bytes = hex::decode(case["packet_hex"].as_str().expect("hex")).expect("hex");
    std::fs::write(&path, bytes).expect("write the packet");
    let path = path.display().to_string();
    let network = file["network_id"].as_str().expect("a network id");
    let mut args = vec!["verify", "--proof", &path, "--network-id", network];
    args.extend(extra);
    aidledger(&args)
}

#[test]
fn a_packet_of_a_record_redacted_by_its_author_says_so_and_exits_0() {
    let run = verify_packet("redacted-by-its-author", &[]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let file = vectors();
    let order = file["packets"][0]["expected"]["redacted"]["order"]
        .as_str()
        .expect("the order");
    assert!(
        run.stdout.contains("is a genuine statement of GB-GOV-1"),
        "{}",
        run.describe()
    );
    let line = format!(
        "  REDACTED: its content is withheld, redacted by its author (redaction order {order} at \
         seq 6, carried in the packet) for personal data\n"
    );
    assert!(run.stdout.contains(&line), "{line}\n{}", run.describe());
    let json = verify_packet("redacted-by-its-author", &["--json"]).json();
    assert_eq!(json["valid"], true);
    assert_eq!(json["redacted"]["by"], "author");
    assert_eq!(json["redacted"]["category"], "personal-data");
}

#[test]
fn a_packet_of_a_record_redacted_by_the_admins_says_so_and_exits_0() {
    let run = verify_packet("redacted-by-the-admins", &[]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains(
            "step 1 of the governance, approved by GB-GOV-1, XM-DAC-41114) for a legal order\n"
        ),
        "{}",
        run.describe()
    );
}

#[test]
fn a_withheld_record_without_an_order_is_refused() {
    let run = verify_packet("withheld-without-order", &[]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stdout.contains("(check: not-redacted)"),
        "{}",
        run.describe()
    );
}
