//! The money model on small histories: each case of issue 19 (short receipts, corrected
//! amounts, many receipts for one disbursement, currencies, order, withdrawals, moved
//! acknowledgements, commitments) and the order of the findings.

use aidledger_spec::record::{Correction, Money, Party, Replacement, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::{Body, Digest, RecordId};
use aidledger_view::corrections::CorrectionsBuilder;
use aidledger_view::money::{LinkKey, LinkStatus, MoneyModel, Pair, FINDING_NAMES};

fn id(byte: u8) -> RecordId {
    Digest([byte; 32])
}

fn id2(a: u8, b: u8) -> RecordId {
    let mut bytes = [a; 32];
    bytes[31] = b;
    Digest(bytes)
}

fn date(year: u16, month: u8, day: u8) -> Date {
    Date { year, month, day }
}

fn party(org: &str, activity: &str) -> Option<Party> {
    Some(Party {
        org_ref: org.into(),
        name: String::new(),
        activity_id: activity.into(),
    })
}

/// A transaction of `activity`, type `kind`.
fn tx(activity: &str, kind: u8, amount: &str, currency: &str) -> Transaction {
    Transaction {
        activity_id: activity.into(),
        transaction_type: kind,
        value: Money {
            amount: amount.into(),
            currency: currency.into(),
        },
        value_date: date(2024, 3, 1),
        transaction_date: date(2024, 3, 1),
        provider: None,
        receiver: None,
        description: String::new(),
        acknowledges: None,
        iati: None,
    }
}

/// GB-1's disbursement of GB-1-A to DK-1.
fn disbursement(amount: &str, currency: &str) -> Transaction {
    Transaction {
        receiver: party("DK-1", ""),
        ..tx("GB-1-A", 3, amount, currency)
    }
}

/// DK-1's incoming funds acknowledging `target`.
fn receipt(amount: &str, currency: &str, target: RecordId) -> Transaction {
    Transaction {
        provider: party("GB-1", "GB-1-A"),
        acknowledges: Some(target),
        ..tx("DK-1-B", 1, amount, currency)
    }
}

fn correction(corrects: RecordId, replacement: Option<Transaction>) -> Body {
    Body::Correction(Correction {
        corrects,
        reason: "fix".into(),
        replacement: replacement.map(Replacement::Transaction),
    })
}

/// Records: (id, author, seq, body), in the order given.
fn model(records: Vec<(RecordId, &str, u64, Body)>) -> MoneyModel {
    let mut builder = CorrectionsBuilder::new();
    for (record, author, seq, body) in &records {
        builder.add(*record, author, *seq, body);
    }
    MoneyModel::build(builder.finish().into_all(), date(2024, 12, 1), 90).unwrap()
}

fn status_of(model: &MoneyModel, record: RecordId) -> String {
    model.link_of(&record).unwrap().status().text()
}

#[test]
fn a_receipt_of_less_than_the_disbursement_is_short_by_the_exact_difference() {
    let model = model(vec![
        (
            id(1),
            "GB-1",
            0,
            Body::Transaction(disbursement("125000.00", "GBP")),
        ),
        (
            id(2),
            "DK-1",
            0,
            Body::Transaction(receipt("120000.00", "GBP", id(1))),
        ),
    ]);
    assert_eq!(model.links().len(), 1);
    let link = model.link_of(&id(2)).unwrap();
    assert_eq!(link.key(), &LinkKey::Acknowledged(id(1)));
    assert_eq!(link.status().text(), "short 5000.00 GBP");
    assert_eq!(status_of(&model, id(1)), "short 5000.00 GBP");
    let json = link.to_json();
    assert_eq!(json["status"], "short");
    assert_eq!(
        json["shortfall"],
        serde_json::json!([{"currency": "GBP", "amount": "5000.00"}])
    );
    assert_eq!(
        json["difference"],
        serde_json::json!([{"currency": "GBP", "amount": "-5000.00"}])
    );
    let findings = model.findings();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].name(), "short");
    assert!(
        findings[0].text().starts_with(
            "short 5000.00 GBP [disbursement]: GB-1 activity GB-1-A reports 125000.00 GBP (1 record) → DK-1 reports 120000.00 GBP (1 record)"
        ),
        "{}",
        findings[0].text()
    );
}

#[test]
fn a_donor_correction_to_a_higher_amount_leaves_the_receipt_short_by_fifty_pence() {
    let model = model(vec![
        (
            id(1),
            "GB-1",
            0,
            Body::Transaction(disbursement("400000.00", "GBP")),
        ),
        (
            id(2),
            "DK-1",
            0,
            Body::Transaction(receipt("400000.00", "GBP", id(1))),
        ),
        (
            id(3),
            "GB-1",
            1,
            correction(id(1), Some(disbursement("400000.50", "GBP"))),
        ),
    ]);
    assert_eq!(status_of(&model, id(2)), "short 0.50 GBP");
}

#[test]
fn one_disbursement_with_43_receipts_naming_its_activity_is_one_short_link_listing_all() {
    let mut records = vec![(
        id(1),
        "NL-1",
        0,
        Body::Transaction(Transaction {
            receiver: party("XM-1", ""),
            ..tx("NL-1-A", 3, "1425000", "EUR")
        }),
    )];
    for seq in 0..43u8 {
        // 42 × 30000.00 + 1 × 3860.00 = 1263860.00
        let amount = if seq == 42 { "3860.00" } else { "30000.00" };
        records.push((
            id2(100, seq),
            "XM-1",
            u64::from(seq),
            Body::Transaction(Transaction {
                provider: party("NL-1", "NL-1-A"),
                ..tx("XM-1-B", 1, amount, "EUR")
            }),
        ));
    }
    let model = model(records);
    assert_eq!(model.links().len(), 1);
    let link = model.link_of(&id(1)).unwrap();
    assert_eq!(
        link.key(),
        &LinkKey::Activity {
            provider_activity: "NL-1-A".into(),
            receiver_org: "XM-1".into(),
            pair: Pair::Disbursement,
        }
    );
    assert_eq!(link.status().text(), "short 161140.00 EUR");
    assert_eq!(link.receiver().len(), 43);
    assert_eq!(link.to_json()["receiver"].as_array().unwrap().len(), 43);
    for seq in 0..43u8 {
        assert_eq!(model.link_of(&id2(100, seq)).unwrap(), link);
    }
}

#[test]
fn a_euro_disbursement_acknowledged_in_dollars_is_currency_differs_with_both_amounts() {
    let model = model(vec![
        (
            id(1),
            "GB-1",
            0,
            Body::Transaction(disbursement("100.00", "EUR")),
        ),
        (
            id(2),
            "DK-1",
            0,
            Body::Transaction(receipt("110.00", "USD", id(1))),
        ),
    ]);
    let link = model.link_of(&id(1)).unwrap();
    assert_eq!(
        link.status().text(),
        "currency-differs (provider 100.00 EUR, receiver 110.00 USD)"
    );
    assert_eq!(
        link.status(),
        &LinkStatus::CurrencyDiffers {
            provider: link.provider_sums().clone(),
            receiver: link.receiver_sums().clone(),
        }
    );
    assert_eq!(model.findings()[0].name(), "currency-differs");
}

#[test]
fn a_receipt_read_before_its_target_gives_the_same_link() {
    let disbursed = (
        id(1),
        "GB-1",
        0,
        Body::Transaction(disbursement("10.00", "GBP")),
    );
    let received = (
        id(2),
        "DK-1",
        0,
        Body::Transaction(receipt("10.00", "GBP", id(1))),
    );
    let forward = model(vec![disbursed.clone(), received.clone()]);
    let backward = model(vec![received, disbursed]);
    for model in [&forward, &backward] {
        assert_eq!(model.links().len(), 1);
        assert_eq!(status_of(model, id(1)), "full");
        assert_eq!(status_of(model, id(2)), "full");
        assert!(model.findings().is_empty());
    }
    let json = |model: &MoneyModel| model.links().map(|link| link.to_json()).collect::<Vec<_>>();
    assert_eq!(json(&forward), json(&backward));
}

#[test]
fn a_withdrawn_disbursement_with_a_standing_receipt_is_withdrawn() {
    let model = model(vec![
        (
            id(1),
            "GB-1",
            0,
            Body::Transaction(disbursement("10.00", "GBP")),
        ),
        (
            id(2),
            "DK-1",
            0,
            Body::Transaction(receipt("10.00", "GBP", id(1))),
        ),
        (id(3), "GB-1", 1, correction(id(1), None)),
    ]);
    let link = model.link_of(&id(2)).unwrap();
    assert_eq!(link.status().text(), "withdrawn");
    assert!(link.provider().next().unwrap().withdrawn);
    assert_eq!(
        link.status().to_json()["receiver"],
        serde_json::json!([{"currency": "GBP", "amount": "10.00"}])
    );
    assert_eq!(model.findings()[0].name(), "withdrawn");
}

#[test]
fn a_receipt_corrected_to_acknowledge_another_record_moves_there() {
    let model = model(vec![
        (
            id(1),
            "GB-1",
            0,
            Body::Transaction(disbursement("10.00", "GBP")),
        ),
        (
            id(2),
            "GB-1",
            1,
            Body::Transaction(disbursement("7.00", "GBP")),
        ),
        (
            id(3),
            "DK-1",
            0,
            Body::Transaction(receipt("7.00", "GBP", id(1))),
        ),
        (
            id(4),
            "DK-1",
            1,
            correction(id(3), Some(receipt("7.00", "GBP", id(2)))),
        ),
    ]);
    let moved = model.link_of(&id(3)).unwrap();
    assert_eq!(moved.key(), &LinkKey::Acknowledged(id(2)));
    assert_eq!(moved.status().text(), "full");
    // The first disbursement is acknowledged by nothing now: it joins the activity link of
    // GB-1-A → DK-1, whose receiver side is empty (the receipt names a record).
    let left = model.link_of(&id(1)).unwrap();
    assert_eq!(left.status().name(), "unacknowledged");
    assert_eq!(left.receiver().len(), 0);
}

#[test]
fn a_commitment_partly_disbursed_says_what_remains_and_is_no_unacknowledged_disbursement() {
    let commit = Transaction {
        receiver: party("DK-1", ""),
        ..tx("GB-1-A", 2, "1000.00", "GBP")
    };
    let model = model(vec![
        (id(1), "GB-1", 0, Body::Transaction(commit)),
        (
            id(2),
            "GB-1",
            1,
            Body::Transaction(disbursement("600.00", "GBP")),
        ),
        (
            id(3),
            "DK-1",
            0,
            Body::Transaction(receipt("600.00", "GBP", id(2))),
        ),
        (
            id(4),
            "DK-1",
            1,
            Body::Transaction(Transaction {
                provider: party("GB-1", "GB-1-A"),
                ..tx("DK-1-B", 11, "1000.00", "GBP")
            }),
        ),
    ]);
    let questions = model.commitments();
    assert_eq!(questions.len(), 1);
    assert_eq!(
        questions[0].status_text(),
        "partly-disbursed (remaining 400.00 GBP)"
    );
    // The commitment's own link (2 ↔ 11) is full; the disbursement's is full.
    let commitment_link = model.link_of(&id(1)).unwrap();
    assert_eq!(commitment_link.pair(), Some(Pair::Commitment));
    assert_eq!(commitment_link.status().text(), "full");
    assert_eq!(status_of(&model, id(2)), "full");
    let findings = model.findings();
    assert_eq!(findings.len(), 1, "{:?}", findings);
    assert_eq!(findings[0].name(), "partly-disbursed");
}

#[test]
fn unacknowledged_is_a_finding_only_after_the_window() {
    let old = disbursement("5.00", "GBP");
    let young = Transaction {
        value_date: date(2024, 11, 1),
        receiver: party("SE-1", ""),
        ..disbursement("6.00", "GBP")
    };
    let model = model(vec![
        (id(1), "GB-1", 0, Body::Transaction(old)),
        (id(2), "GB-1", 1, Body::Transaction(young)),
    ]);
    assert_eq!(
        model.link_of(&id(1)).unwrap().status(),
        &LinkStatus::Unacknowledged { pending: false }
    );
    assert_eq!(
        model.link_of(&id(2)).unwrap().status(),
        &LinkStatus::Unacknowledged { pending: true }
    );
    let findings = model.findings();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].name(), "unacknowledged");
}

#[test]
fn an_old_commitment_no_incoming_commitment_answers_is_listed_but_no_finding() {
    let commitment = Transaction {
        receiver: party("DK-1", ""),
        ..tx("GB-1-A", 2, "100.00", "GBP")
    };
    let model = model(vec![
        (id(1), "GB-1", 0, Body::Transaction(commitment)),
        (
            id(2),
            "GB-1",
            1,
            Body::Transaction(disbursement("100.00", "GBP")),
        ),
    ]);
    let link = model.link_of(&id(1)).unwrap();
    assert_eq!(link.pair(), Some(Pair::Commitment));
    assert_eq!(
        link.status(),
        &LinkStatus::Unacknowledged { pending: false }
    );
    assert!(
        !link.is_finding(),
        "receivers seldom publish incoming commitments"
    );
    // The disbursement of the same age is a finding: its receipt is what an auditor expects.
    let paid = model.link_of(&id(2)).unwrap();
    assert!(paid.is_finding());
    let names: Vec<&str> = model
        .findings()
        .iter()
        .map(|finding| finding.name())
        .collect();
    assert_eq!(names, ["unacknowledged"], "only the disbursement's");
    assert_eq!(model.commitments()[0].status_text(), "disbursed-in-full");
}

#[test]
fn findings_come_shortfalls_first_then_in_the_stated_order() {
    let model = model(vec![
        // unreported: a receipt naming an activity nobody here reports
        (
            id(1),
            "DK-1",
            0,
            Body::Transaction(Transaction {
                provider: party("FR-1", "FR-1-X"),
                ..tx("DK-1-B", 1, "3.00", "GBP")
            }),
        ),
        // over
        (
            id(2),
            "GB-1",
            0,
            Body::Transaction(disbursement("1.00", "GBP")),
        ),
        (
            id(3),
            "DK-1",
            1,
            Body::Transaction(receipt("2.00", "GBP", id(2))),
        ),
        // provider-differs (and short)
        (
            id(4),
            "GB-1",
            1,
            Body::Transaction(Transaction {
                provider: party("US-1", ""),
                ..disbursement("9.00", "GBP")
            }),
        ),
        (
            id(5),
            "DK-1",
            2,
            Body::Transaction(receipt("8.00", "GBP", id(4))),
        ),
    ]);
    let names: Vec<&str> = model.findings().iter().map(|f| f.name()).collect();
    assert_eq!(names, ["short", "over", "unreported", "provider-differs"]);
    for name in names {
        assert!(FINDING_NAMES.contains(&name));
    }
    let unreported = model.link_of(&id(1)).unwrap();
    assert_eq!(unreported.status().text(), "unreported");
}

#[test]
fn an_amount_that_is_not_a_decimal_is_an_error_not_a_zero() {
    let mut builder = CorrectionsBuilder::new();
    builder.add(
        id(1),
        "GB-1",
        0,
        &Body::Transaction(disbursement("1,000.50", "GBP")),
    );
    let built = MoneyModel::build(builder.finish().into_all(), date(2024, 12, 1), 90);
    assert!(built.is_err());
}
