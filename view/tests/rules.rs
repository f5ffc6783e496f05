//! The one record view and the one set of correction rules, checked on small bodies: the JSON
//! shape the explorer, API and CLI share (version hashes, nested replacements), and what a
//! correction does in each case the rules name.

use aidledger_spec::record::{
    Correction, Money, Party, Replacement, TextVersion, Transaction, TreatyText,
};
use aidledger_spec::text::Date;
use aidledger_spec::{Body, Digest, RecordId};
use aidledger_view::corrections::{
    acknowledgement_move, current_version, effect, Corrected, CorrectionsBuilder, Effect,
};
use aidledger_view::record_text::IdLength;
use aidledger_view::{body_json, summary};

fn id(byte: u8) -> RecordId {
    Digest([byte; 32])
}

fn transaction(amount: &str, acknowledges: Option<RecordId>) -> Transaction {
    let date = Date {
        year: 2024,
        month: 3,
        day: 1,
    };
    Transaction {
        activity_id: "ACT-1".into(),
        transaction_type: 3,
        value: Money {
            amount: amount.into(),
            currency: "GBP".into(),
        },
        value_date: date,
        transaction_date: date,
        provider: None,
        receiver: Some(Party {
            org_ref: "DK-1".into(),
            ..Party::default()
        }),
        description: String::new(),
        acknowledges,
        iati: None,
    }
}

fn correction(corrects: RecordId, replacement: Option<Transaction>) -> Correction {
    Correction {
        corrects,
        reason: "typo".into(),
        replacement: replacement.map(Replacement::Transaction),
    }
}

#[test]
fn a_treaty_shows_its_text_hash_and_each_version_hash() {
    let treaty = TreatyText {
        title: "Water".into(),
        parties: vec!["GB-1".into()],
        versions: vec![
            TextVersion {
                language: "en".into(),
                text: "Article 1.".into(),
            },
            TextVersion {
                language: "fr".into(),
                text: "Article premier.".into(),
            },
        ],
        supersedes: None,
    };
    let value = body_json(&Body::TreatyText(treaty.clone()));
    assert_eq!(value["text_hash"], treaty.text_hash().to_hex());
    let hashes: Vec<String> = treaty
        .versions
        .iter()
        .map(|version| version.hash().to_hex())
        .collect();
    assert_eq!(value["version_hashes"], serde_json::json!(hashes));
}

#[test]
fn a_replacement_is_nested_as_kind_and_body_and_a_withdrawal_is_null() {
    let replaced = body_json(&Body::Correction(correction(
        id(1),
        Some(transaction("9.50", None)),
    )));
    assert_eq!(replaced["corrects"], id(1).to_hex());
    assert_eq!(replaced["replacement"]["kind"], "transaction");
    assert_eq!(replaced["replacement"]["body"]["value"]["amount"], "9.50");
    assert_eq!(
        replaced["replacement"]["body"]["transaction_type_name"],
        "disbursement"
    );
    let withdrawn = body_json(&Body::Correction(correction(id(1), None)));
    assert!(withdrawn["replacement"].is_null(), "{withdrawn}");
}

#[test]
fn a_summary_names_withdrawals_and_shortens_ids_only_when_asked() {
    let body = Body::Correction(correction(id(0xab), None));
    let full = summary(&body, IdLength::Full);
    assert_eq!(full, format!("withdrawal of {}: typo", id(0xab).to_hex()));
    assert_eq!(
        summary(&body, IdLength::Short),
        "withdrawal of abababababab: typo"
    );
}

#[test]
fn only_the_authors_later_correction_of_a_transaction_counts() {
    let new = transaction("9.50", None);
    let replaces = correction(id(1), Some(new.clone()));
    let own = Corrected {
        author: "GB-1",
        seq: 0,
        is_transaction: true,
    };
    assert_eq!(
        effect(&replaces, "GB-1", 5, Some(own)),
        Effect::Replaces(&new)
    );
    assert_eq!(
        effect(&correction(id(1), None), "GB-1", 5, Some(own)),
        Effect::Withdraws
    );
    // Another author's, an earlier position, an unknown record, a record of another kind.
    assert_eq!(effect(&replaces, "DK-1", 5, Some(own)), Effect::Listed);
    assert_eq!(
        effect(&replaces, "GB-1", 5, Some(Corrected { seq: 5, ..own })),
        Effect::Listed
    );
    assert_eq!(effect(&replaces, "GB-1", 5, None), Effect::Listed);
    let statement = Corrected {
        is_transaction: false,
        ..own
    };
    assert_eq!(
        effect(&replaces, "GB-1", 5, Some(statement)),
        Effect::Listed
    );
    // A replacement of another kind.
    let other_kind = Correction {
        replacement: Some(Replacement::Statement(aidledger_spec::record::Statement {
            title: "t".into(),
            language: "en".into(),
            text: "x".into(),
        })),
        ..replaces.clone()
    };
    assert_eq!(effect(&other_kind, "GB-1", 5, Some(own)), Effect::Listed);
}

#[test]
fn the_current_version_follows_the_latest_correction() {
    let original = Body::Transaction(transaction("10.00", None));
    assert_eq!(
        current_version(&original, None).map(|t| t.value.amount.as_str()),
        Some("10.00")
    );
    let replaced = correction(id(1), Some(transaction("9.50", None)));
    assert_eq!(
        current_version(&original, Some(&replaced)).map(|t| t.value.amount.as_str()),
        Some("9.50")
    );
    assert_eq!(
        current_version(&original, Some(&correction(id(1), None))),
        None
    );
}

#[test]
fn an_acknowledgement_moves_with_its_receipt() {
    let to_one = transaction("1", Some(id(1)));
    let to_two = transaction("1", Some(id(2)));
    let moved = acknowledgement_move(Some(&to_one), Some(&to_two));
    assert_eq!(
        (moved.withdrawn_from, moved.given_to),
        (Some(id(1)), Some(id(2)))
    );
    let withdrawn = acknowledgement_move(Some(&to_one), None);
    assert_eq!(
        (withdrawn.withdrawn_from, withdrawn.given_to),
        (Some(id(1)), None)
    );
    let same = acknowledgement_move(Some(&to_one), Some(&to_one.clone()));
    assert_eq!((same.withdrawn_from, same.given_to), (None, None));
}

#[test]
fn the_batch_reader_withdraws_replaces_and_links_current_receipts() {
    let mut builder = CorrectionsBuilder::new();
    builder.add(
        id(1),
        "GB-1",
        0,
        &Body::Transaction(transaction("10", None)),
    );
    builder.add(id(2), "GB-1", 1, &Body::Transaction(transaction("4", None)));
    builder.add(
        id(3),
        "DK-1",
        0,
        &Body::Transaction(transaction("10", Some(id(1)))),
    );
    // Out of order: the later correction (seq 3) wins over the earlier one (seq 2).
    let later = correction(id(1), Some(transaction("9", None)));
    builder.add(id(5), "GB-1", 3, &Body::Correction(later));
    builder.add(id(4), "GB-1", 2, &Body::Correction(correction(id(1), None)));
    // The receipt now acknowledges the second transaction; a foreign withdrawal does nothing.
    let redirected = correction(id(3), Some(transaction("4", Some(id(2)))));
    builder.add(id(6), "DK-1", 1, &Body::Correction(redirected));
    builder.add(id(7), "GB-1", 4, &Body::Correction(correction(id(3), None)));
    // The same record again (from a second source) counts once.
    builder.add(
        id(3),
        "DK-1",
        0,
        &Body::Transaction(transaction("10", Some(id(1)))),
    );
    let corrected = builder.finish();
    assert_eq!(corrected.corrections_applied, 3);
    assert_eq!(corrected.withdrawn, 0);
    let by_id = |wanted| {
        corrected
            .transactions
            .iter()
            .find(|entry| entry.id == wanted)
            .unwrap()
    };
    assert_eq!(by_id(id(1)).transaction.value.amount, "9");
    assert_eq!(by_id(id(1)).corrected_by, Some(id(5)));
    assert!(by_id(id(1)).acknowledged_by.is_empty());
    assert_eq!(by_id(id(2)).acknowledged_by, [id(3)]);
}
