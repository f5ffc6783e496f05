//! `verify`, `provenance`, `show` and `log` of redacted records, and the problems of withheld
//! records no order covers.

use aidledger_spec::governance::{Approval, Change, Proposal};
use aidledger_spec::redaction::RedactionCategory;
use aidledger_spec::withheld::withhold;
use aidledger_spec::{Body, RecordId};

use crate::support::*;

#[test]
fn verify_lists_a_record_redacted_by_its_author_and_exits_0() {
    let dir = temp_dir("author");
    let story = authors_redaction(&dir);
    let run = on_bundle(&["verify"], &story.bundle);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains(
            "redacted  GB-GOV-1: 1 record redacted (content withheld under an order in force)"
        ),
        "{}",
        run.describe()
    );
    let line = format!(
        "  GB-GOV-1 seq 0 {} (statement): redacted by its author (redaction order {} at seq 2) \
         for the safety of persons, ordered 2023-11-16 22:13:20 UTC",
        story.redacted.id, story.order.id
    );
    assert!(run.stdout.contains(&line), "{line}\n{}", run.describe());
    assert!(run.stdout.ends_with("VALID\n"), "{}", run.describe());

    let json = on_bundle(&["verify", "--json"], &story.bundle).json();
    assert_eq!(json["valid"], true);
    let listed = json["redacted"].as_array().expect("a list");
    assert_eq!(listed.len(), 1, "{json:#}");
    let entry = &listed[0];
    assert_eq!(entry["author"], DONOR);
    assert_eq!(entry["seq"], 0);
    assert_eq!(entry["record_id"], story.redacted.id.to_hex());
    assert_eq!(entry["kind"], "statement");
    assert_eq!(entry["order"]["by"], "author");
    assert_eq!(entry["order"]["order"], story.order.id.to_hex());
    assert_eq!(entry["order"]["order_seq"], 2);
    assert_eq!(entry["order"]["category"], "safety-of-persons");
    assert_eq!(entry["order"]["timestamp_ms"], 1_700_172_800_000u64);
}

#[test]
fn provenance_show_and_log_say_who_redacted_a_record_when_and_why() {
    let dir = temp_dir("provenance");
    let story = authors_redaction(&dir);
    let id = story.redacted.id.to_hex();
    let run = on_bundle(&["provenance", &id], &story.bundle);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    for expected in [
        "kind      statement: REDACTED, content withheld".to_owned(),
        format!(
            "redacted  by its author (redaction order {} at seq 2)",
            story.order.id
        ),
        "why       the safety of persons (safety-of-persons)".to_owned(),
        "when      2023-11-16 22:13:20 UTC".to_owned(),
        format!("order     {}", story.order.id),
        "note      names a partner's staff member".to_owned(),
        "verified  the signature over the record's id".to_owned(),
        "chain     intact from seq 0 to this record".to_owned(),
    ] {
        assert!(
            run.stdout.contains(&expected),
            "{expected}\n{}",
            run.describe()
        );
    }
    let json = on_bundle(&["provenance", &id, "--json"], &story.bundle).json();
    assert_eq!(json["sound"], true);
    assert_eq!(json["valid"], true);
    assert_eq!(json["record"]["content_withheld"], true);
    assert_eq!(json["redacted"]["by"], "author");

    let show = on_bundle(&["show", &id], &story.bundle);
    assert_eq!(show.code, Some(0), "{}", show.describe());
    assert!(
        show.stdout
            .contains("status    content withheld: redacted by its author"),
        "{}",
        show.describe()
    );
    assert!(
        show.stdout.contains("(content withheld)"),
        "{}",
        show.describe()
    );

    let log = on_bundle(&["log", DONOR], &story.bundle);
    assert_eq!(log.code, Some(0), "{}", log.describe());
    assert!(
        log.stdout.contains(&format!(
            "{id}  statement: content withheld, redacted by its author"
        )),
        "{}",
        log.describe()
    );
}

#[test]
fn a_withheld_record_without_an_order_is_a_problem_and_exits_1() {
    let dir = temp_dir("no-order");
    let mut network = Network::new();
    let withheld = network.add_withheld(DONOR, statement(&format!("We pay {SECRET}.")));
    network.add(DONOR, statement("Quarterly report"));
    let bundle = network.write(&dir);
    let run = on_bundle(&["verify"], &bundle);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stdout.contains(
            "  GB-GOV-1 seq 0: the body is withheld, but no redaction order in force names this \
             record (withheld-without-order)"
        ),
        "{}",
        run.describe()
    );
    assert!(!run.stdout.contains("redacted  "), "{}", run.describe());
    let json = on_bundle(&["verify", "--json"], &bundle).json();
    assert_eq!(json["valid"], false);
    let chain = json["report"]["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .find(|chain| chain["author"] == DONOR)
        .expect("the donor's chain");
    let problems = &chain["problems"];
    assert_eq!(
        problems[0]["reason"]["code"], "withheld-without-order",
        "{json:#}"
    );
    assert_eq!(problems[0]["record_id"], withheld.id.to_hex());
    // `show` does not pass it off as a valid record, nor as a missing one.
    let show = on_bundle(&["show", &withheld.id.to_hex()], &bundle);
    assert_eq!(show.code, Some(1), "{}", show.describe());
    assert!(
        show.stdout.contains("(withheld-without-order)"),
        "{}",
        show.describe()
    );
}

#[test]
fn an_order_naming_another_members_record_is_a_problem_and_covers_nothing() {
    let dir = temp_dir("other-member");
    let mut network = Network::new();
    let withheld = network.add_withheld(DONOR, statement(&format!("We pay {SECRET}.")));
    // The implementer orders the donor's record redacted: only the donor, or the admins, may.
    let foreign = network.add(
        IMPLEMENTER,
        order(vec![withheld], RedactionCategory::LegalOrder),
    );
    let bundle = network.write(&dir);
    let run = on_bundle(&["verify"], &bundle);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let target_line = format!(
        "  {IMPLEMENTER} seq 0: the redaction order names record {} at seq 0, which its author's \
         chain does not hold there (redaction-target-not-found)",
        withheld.id
    );
    assert!(run.stdout.contains(&target_line), "{}", run.describe());
    assert!(
        run.stdout.contains("GB-GOV-1 seq 0: the body is withheld")
            && run.stdout.contains("(withheld-without-order)"),
        "{}",
        run.describe()
    );
    let json = on_bundle(&["verify", "--json"], &bundle).json();
    let codes: Vec<(String, String)> = json["report"]["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .flat_map(|chain| chain["problems"].as_array().cloned().unwrap_or_default())
        .map(|problem| {
            (
                problem["record_id"].as_str().unwrap_or("").to_owned(),
                problem["reason"]["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(
        codes.contains(&(foreign.id.to_hex(), "redaction-target-not-found".into())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&(withheld.id.to_hex(), "withheld-without-order".into())),
        "{codes:?}"
    );
    assert_eq!(json["redacted"], serde_json::json!([]));
}

#[test]
fn the_admins_redact_another_members_record_and_verify_names_the_approvers() {
    let dir = temp_dir("admins");
    let mut network = Network::new();
    // The implementer's record is signed first (its id is named by the proposal) but written
    // after the governance records, as a canonical bundle orders them.
    let (redacted, bytes) = network.sign(IMPLEMENTER, statement(&format!("Paid {SECRET}.")));
    let proposal = network.add(
        DONOR,
        Body::Proposal(Proposal {
            base: RecordId::ZERO,
            change: Change::Redact {
                member: IMPLEMENTER.into(),
                records: vec![redacted],
                category: RedactionCategory::LegalOrder,
            },
            note: "court order 2024/17".into(),
        }),
    );
    network.add(
        AUDITOR,
        Body::Approval(Approval {
            proposal: proposal.id,
        }),
    );
    network.records.push(withhold(bytes).expect("a record"));
    let bundle = network.write(&dir);
    let run = on_bundle(&["verify"], &bundle);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let line = format!(
        "  {IMPLEMENTER} seq 0 {} (statement): redacted by the admins (proposal {}, governance \
         step 1, approved by {DONOR}, {AUDITOR}) for a legal order, ordered 2023-11-14 22:13:20 UTC",
        redacted.id, proposal.id
    );
    assert!(run.stdout.contains(&line), "{line}\n{}", run.describe());
    let provenance = on_bundle(&["provenance", &redacted.id.to_hex()], &bundle);
    assert_eq!(provenance.code, Some(0), "{}", provenance.describe());
    assert!(
        provenance.stdout.contains(&format!(
            "redacted  by the admins (proposal {}, governance step 1, approved by",
            proposal.id
        )) && provenance.stdout.contains("note      court order 2024/17"),
        "{}",
        provenance.describe()
    );
}

#[test]
fn a_redacted_record_between_full_ones_keeps_its_place_in_the_chain() {
    let dir = temp_dir("middle");
    let mut network = Network::new();
    network.add(DONOR, statement("Report one"));
    let redacted = network.add_withheld(DONOR, statement(&format!("We pay {SECRET}.")));
    network.add(DONOR, statement("Report three"));
    network.add(
        DONOR,
        order(vec![redacted], RedactionCategory::PersonalData),
    );
    let bundle = network.write(&dir);
    let run = on_bundle(&["verify"], &bundle);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains("records   4 read, 4 valid")
            && run
                .stdout
                .contains("chain     GB-GOV-1: 4 record(s), head seq 3")
            && run
                .stdout
                .contains(&format!("GB-GOV-1 seq 1 {} (statement)", redacted.id))
            && run.stdout.contains("for personal data"),
        "{}",
        run.describe()
    );
}

/// "Is this genuine?" offline after a redaction: the text of the statement that was signed and
/// then redacted is signed by no record of the bundle (exit 2, as before), and the answer says
/// that the donor has a redacted statement whose text can no longer be matched, with its id and
/// order, in text and JSON; never its content. Another organisation named, or a text the donor
/// signs in a held record, adds nothing.
#[test]
fn provenance_of_a_text_says_a_redacted_statement_cannot_be_ruled_out() {
    let dir = temp_dir("genuine");
    let story = authors_redaction(&dir);
    let text = dir.join("claimed.txt");
    std::fs::write(&text, format!("We pay {SECRET}.")).expect("write the text");
    let text = text.display().to_string();
    let id = story.redacted.id.to_hex();
    for org in [Some(DONOR), None] {
        let mut args = vec!["provenance", "--text-file", &text];
        args.extend(org.map(|org| ["--org", org]).into_iter().flatten());
        let run = on_bundle(&args, &story.bundle);
        assert_eq!(run.code, Some(2), "{}", run.describe());
        let whose = org.map_or("The organisations of this network have".to_owned(), |org| {
            format!("{org} has")
        });
        assert!(
            run.stdout.contains("NOT SIGNED")
                && run.stdout.contains(&format!(
                    "REDACTED  {whose} 1 redacted statement whose content was withheld (for the safety of persons): a redacted record's text can no longer be matched, so this check cannot rule out that it said this."
                ))
                && run.stdout.contains(&format!(
                    "  {DONOR} seq 0 {id} (statement): content withheld for the safety of persons by order of its author (order {})",
                    story.order.id
                )),
            "{}",
            run.describe()
        );
        args.push("--json");
        let json = on_bundle(&args, &story.bundle);
        assert_eq!(json.code, Some(2), "{}", json.describe());
        let json = json.json();
        assert_eq!(json["signed"], false);
        assert_eq!(json["redacted_texts_total"], 1, "{json}");
        assert_eq!(json["redacted_statements"], 1, "{json}");
        let listed = &json["redacted_texts"][0];
        assert_eq!(listed["id"], id.as_str(), "{json}");
        assert_eq!(listed["author"], DONOR);
        assert_eq!(listed["kind"], "statement");
        assert_eq!(listed["category"], "safety-of-persons");
        assert_eq!(listed["by"], "author");
        assert_eq!(listed["order"], story.order.id.to_hex());
        // The order is the donor's third record: a day apart per position.
        assert_eq!(
            listed["ordered_at_ms"],
            1_700_000_000_000_u64 + 2 * 86_400_000
        );
        assert!(json["redacted_caveat"]
            .as_str()
            .is_some_and(|caveat| caveat.contains("cannot rule out")));
    }
    // The implementer redacted nothing: no caveat.
    let json = on_bundle(
        &[
            "provenance",
            "--text-file",
            &text,
            "--org",
            IMPLEMENTER,
            "--json",
        ],
        &story.bundle,
    );
    assert_eq!(json.code, Some(2), "{}", json.describe());
    let json = json.json();
    assert_eq!(json["redacted_texts_total"], 0, "{json}");
    assert!(json["redacted_caveat"].is_null(), "{json}");
    // A text the donor signs in a held record: signed, no caveat.
    let held = dir.join("held.txt");
    std::fs::write(&held, "Quarterly report").expect("write the text");
    let run = on_bundle(
        &[
            "provenance",
            "--text-file",
            &held.display().to_string(),
            "--org",
            DONOR,
        ],
        &story.bundle,
    );
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(!run.stdout.contains("REDACTED"), "{}", run.describe());
}
