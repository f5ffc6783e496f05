//! The headlines and status lines of every kind of record.

use std::collections::HashMap;

use aidledger_spec::activity::{Activity, Narrative};
use aidledger_spec::governance::{Approval, Change, KeyGrant, KeyRotation, Proposal};
use aidledger_spec::record::{
    Correction, Money, Party, Replacement, Statement, TextVersion, TreatyAction, TreatyText,
};
use aidledger_spec::text::Date;
use aidledger_spec::{PublicKey, SignatureBytes};

use super::*;
use crate::money::{Amounts, CurrencyAmount, LinkStatus};
use crate::status_line::{Standing, StatusLine};

const FCDO: &str = "GB-GOV-1";
const DRC: &str = "DK-CVR-20699310";
/// 2026-11-02 14:30:22 UTC.
const NOV_2: u64 = 1_793_629_822_000;

#[derive(Default)]
struct Known {
    orgs: HashMap<String, String>,
    titles: HashMap<String, String>,
    records: HashMap<RecordId, Body>,
}

impl Names for Known {
    fn org_name(&self, org: &str) -> Option<String> {
        self.orgs.get(org).cloned()
    }
    fn activity_title(&self, activity: &str) -> Option<String> {
        self.titles.get(activity).cloned()
    }
    fn record(&self, id: &RecordId) -> Option<Body> {
        self.records.get(id).cloned()
    }
}

fn known() -> Known {
    let mut names = Known::default();
    names.orgs.insert(
        FCDO.into(),
        "Foreign, Commonwealth and Development Office".into(),
    );
    names
        .orgs
        .insert(DRC.into(), "Danish Refugee Council".into());
    names
}

fn date(day: u8) -> Date {
    Date {
        year: 2026,
        month: 11,
        day,
    }
}

fn party(org_ref: &str, name: &str) -> Option<Party> {
    Some(Party {
        org_ref: org_ref.into(),
        name: name.into(),
        activity_id: String::new(),
    })
}

fn transaction(transaction_type: u8, amount: &str) -> Transaction {
    Transaction {
        activity_id: "GB-GOV-1-301150-200".into(),
        transaction_type,
        value: Money {
            amount: amount.into(),
            currency: "GBP".into(),
        },
        value_date: date(2),
        transaction_date: date(2),
        provider: party(FCDO, "FCDO as written"),
        receiver: party(DRC, ""),
        description: String::new(),
        acknowledges: None,
        iati: None,
    }
}

fn id(byte: u8) -> RecordId {
    aidledger_spec::Digest([byte; 32])
}

#[test]
fn a_disbursement_reads_as_who_paid_whom_how_much_and_when() {
    let body = Body::Transaction(transaction(3, "125000.00"));
    assert_eq!(
        headline(FCDO, NOV_2, &body, &known()),
        "Foreign, Commonwealth and Development Office disbursed GBP 125,000.00 to Danish \
         Refugee Council on 2026-11-02 (activity GB-GOV-1-301150-200)"
    );
    let mut names = known();
    names
        .titles
        .insert("GB-GOV-1-301150-200".into(), "Shelter in Kenya".into());
    assert!(headline(FCDO, NOV_2, &body, &names)
        .ends_with("(activity “Shelter in Kenya”, GB-GOV-1-301150-200)"));
    assert_eq!(label(&body), "disbursement GBP 125,000.00, 2026-11-02");
}

#[test]
fn unknown_organisations_are_named_as_the_record_writes_them_else_by_id() {
    let mut tx = transaction(2, "10.5");
    tx.receiver = party("XM-UNKNOWN-1", "Local NGO");
    let line = headline(FCDO, NOV_2, &Body::Transaction(tx.clone()), &NoNames);
    assert_eq!(
        line,
        "FCDO as written committed GBP 10.5 to Local NGO on 2026-11-02 (activity GB-GOV-1-301150-200)"
    );
    tx.receiver = party("XM-UNKNOWN-1", "");
    tx.provider = None;
    let line = headline(FCDO, NOV_2, &Body::Transaction(tx), &NoNames);
    assert!(line.starts_with("GB-GOV-1 committed GBP 10.5 to XM-UNKNOWN-1 on"));
}

#[test]
fn every_transaction_type_has_its_verb() {
    let expected = [
        (
            1,
            "Danish Refugee Council received GBP 1,000.00 from Foreign, Commonwealth and Development Office",
        ),
        (2, "Foreign, Commonwealth and Development Office committed GBP 1,000.00 to Danish Refugee Council"),
        (3, "Foreign, Commonwealth and Development Office disbursed GBP 1,000.00 to Danish Refugee Council"),
        (4, "Foreign, Commonwealth and Development Office spent GBP 1,000.00 paid to Danish Refugee Council"),
        (5, "Foreign, Commonwealth and Development Office paid GBP 1,000.00 in interest to Danish Refugee Council"),
        (6, "Foreign, Commonwealth and Development Office repaid GBP 1,000.00 of a loan to Danish Refugee Council"),
        (7, "Foreign, Commonwealth and Development Office reimbursed GBP 1,000.00 to Danish Refugee Council"),
        (8, "Foreign, Commonwealth and Development Office bought equity for GBP 1,000.00 in Danish Refugee Council"),
        (9, "Foreign, Commonwealth and Development Office sold equity for GBP 1,000.00 to Danish Refugee Council"),
        (10, "Foreign, Commonwealth and Development Office guaranteed credit of GBP 1,000.00 to Danish Refugee Council"),
        (11, "Danish Refugee Council received a commitment of GBP 1,000.00 from Foreign, Commonwealth and Development Office"),
        (12, "Foreign, Commonwealth and Development Office pledged GBP 1,000.00 to Danish Refugee Council"),
        (13, "Danish Refugee Council received a pledge of GBP 1,000.00 from Foreign, Commonwealth and Development Office"),
    ];
    for (code, start) in expected {
        let body = Body::Transaction(transaction(code, "1000.00"));
        let line = headline(DRC, NOV_2, &body, &known());
        assert!(line.starts_with(start), "type {code}: {line}");
        assert!(line.ends_with(" on 2026-11-02 (activity GB-GOV-1-301150-200)"));
    }
    // Incoming funds without a receiver: the author received them.
    let mut tx = transaction(1, "7");
    tx.receiver = None;
    assert!(headline(DRC, NOV_2, &Body::Transaction(tx), &known())
        .starts_with("Danish Refugee Council received GBP 7 from Foreign"));
}

#[test]
fn statements_treaties_and_treaty_actions_read_as_sentences() {
    let mut names = known();
    let statement = Body::Statement(Statement {
        title: "Funding for 2027".into(),
        language: "en".into(),
        text: "We will fund.".into(),
    });
    assert_eq!(
        headline(FCDO, NOV_2, &statement, &names),
        "Foreign, Commonwealth and Development Office stated “Funding for 2027” on 2026-11-02"
    );
    assert_eq!(label(&statement), "statement “Funding for 2027”");
    let treaty = Body::TreatyText(TreatyText {
        title: "Accord on Aid".into(),
        parties: vec![FCDO.into(), DRC.into(), "XM-OTHER".into()],
        versions: vec![TextVersion {
            language: "en".into(),
            text: "Article 1.".into(),
        }],
        supersedes: None,
    });
    assert_eq!(
        headline(FCDO, NOV_2, &treaty, &names),
        "Foreign, Commonwealth and Development Office recorded the text of “Accord on Aid” \
         between Foreign, Commonwealth and Development Office, Danish Refugee Council and \
         XM-OTHER (en) on 2026-11-02"
    );
    let action = |kind| {
        Body::TreatyAction(TreatyAction {
            treaty: id(7),
            text_hash: aidledger_spec::Digest([1; 32]),
            action: kind,
            date: date(5),
            note: String::new(),
        })
    };
    assert_eq!(
        headline(DRC, NOV_2, &action(TreatyActionKind::Ratify), &names),
        "Danish Refugee Council ratified treaty 070707070707 on 2026-11-05"
    );
    names.records.insert(id(7), treaty);
    for (kind, verb) in [
        (TreatyActionKind::Sign, "signed"),
        (TreatyActionKind::Ratify, "ratified"),
        (TreatyActionKind::Accede, "acceded to"),
        (TreatyActionKind::Withdraw, "withdrew from"),
    ] {
        assert_eq!(
            headline(DRC, NOV_2, &action(kind), &names),
            format!("Danish Refugee Council {verb} “Accord on Aid” on 2026-11-05")
        );
    }
    assert_eq!(
        label(&action(TreatyActionKind::Ratify)),
        "ratification of treaty 070707070707, 2026-11-05"
    );
}

#[test]
fn corrections_and_withdrawals_say_of_what_in_words() {
    let mut names = known();
    names
        .records
        .insert(id(9), Body::Transaction(transaction(3, "125000.00")));
    let corrected = Body::Correction(Correction {
        corrects: id(9),
        reason: "typo".into(),
        replacement: Some(Replacement::Transaction(transaction(3, "120000.00"))),
    });
    assert_eq!(
        headline(FCDO, NOV_2, &corrected, &names),
        "Foreign, Commonwealth and Development Office corrected its disbursement GBP \
         125,000.00, 2026-11-02 (record 090909090909) on 2026-11-02: amount now GBP \
         120,000.00, was GBP 125,000.00, because “typo”"
    );
    assert_eq!(label(&corrected), "correction of record 090909090909");
    let withdrawn = Body::Correction(Correction {
        corrects: id(9),
        reason: "entered twice".into(),
        replacement: None,
    });
    assert_eq!(
        headline(FCDO, NOV_2, &withdrawn, &names),
        "Foreign, Commonwealth and Development Office withdrew its disbursement GBP \
         125,000.00, 2026-11-02 (record 090909090909) on 2026-11-02, because “entered twice”"
    );
    // Not held: named by id.
    assert!(headline(FCDO, NOV_2, &withdrawn, &NoNames)
        .starts_with("GB-GOV-1 withdrew its record 090909090909 on 2026-11-02"));
}

#[test]
fn governance_key_rotation_and_activity_records_read_as_sentences() {
    let mut names = known();
    let change = Change::SetRoles {
        member: DRC.into(),
        roles: Vec::new(),
    };
    let proposal = Body::Proposal(Proposal {
        base: RecordId::ZERO,
        change,
        note: "why".into(),
    });
    assert_eq!(
        headline(FCDO, NOV_2, &proposal, &names),
        format!("Foreign, Commonwealth and Development Office proposed: set roles of {DRC} to  on 2026-11-02")
    );
    let approval = Body::Approval(Approval { proposal: id(3) });
    assert_eq!(
        headline(DRC, NOV_2, &approval, &names),
        "Danish Refugee Council approved proposal 030303030303 on 2026-11-02"
    );
    names.records.insert(id(3), proposal);
    assert!(headline(DRC, NOV_2, &approval, &names)
        .starts_with("Danish Refugee Council approved the proposal: set roles of"));
    let rotation = Body::KeyRotation(KeyRotation {
        new_key: KeyGrant {
            key: PublicKey([0xab; 32]),
            proof_of_possession: SignatureBytes([0; 64]),
        },
    });
    assert_eq!(
        headline(DRC, NOV_2, &rotation, &names),
        "Danish Refugee Council moved to a new signing key (abababababababab…) on 2026-11-02"
    );
    assert_eq!(label(&rotation), "key rotation");
    let activity = Body::Activity(Activity {
        iati_identifier: "GB-GOV-1-301150-200".into(),
        titles: vec![Narrative {
            language: "en".into(),
            text: "Shelter in Kenya".into(),
        }],
        reporting_org: FCDO.into(),
        descriptions: Vec::new(),
        status: String::new(),
        dates: Vec::new(),
        recipient_countries: Vec::new(),
        recipient_regions: Vec::new(),
        sectors: Vec::new(),
        participating_orgs: Vec::new(),
        iati: None,
    });
    assert_eq!(
        headline(FCDO, NOV_2, &activity, &names),
        "Foreign, Commonwealth and Development Office described activity “Shelter in Kenya” \
         (GB-GOV-1-301150-200) on 2026-11-02"
    );
    assert_eq!(
        label(&activity),
        "activity “Shelter in Kenya” (GB-GOV-1-301150-200)"
    );
}

fn gbp(amount: &str) -> Amounts {
    Amounts(vec![CurrencyAmount {
        currency: "GBP".into(),
        amount: rust_decimal::Decimal::from_str_exact(amount).unwrap(),
    }])
}

#[test]
fn status_lines_say_valid_corrected_withdrawn_revoked_and_the_link() {
    let names = known();
    let original = Body::Transaction(transaction(3, "125000.00"));
    let full = StatusLine::of(&original, None, None, Some(&LinkStatus::Full), &names);
    assert_eq!(full.standing, Standing::Valid);
    assert_eq!(full.text(), "valid · acknowledged in full");
    let short = LinkStatus::Short {
        shortfall: gbp("5000.00"),
        excess: Amounts::default(),
    };
    assert_eq!(
        StatusLine::of(&original, None, None, Some(&short), &names).text(),
        "valid · short by GBP 5,000.00"
    );
    let correction = Correction {
        corrects: id(9),
        reason: "typo".into(),
        replacement: Some(Replacement::Transaction(transaction(3, "120000.00"))),
    };
    let corrected = StatusLine::of(&original, None, Some(&correction), None, &names);
    assert_eq!(
        corrected.text(),
        "corrected: amount now GBP 120,000.00, was GBP 125,000.00"
    );
    let withdrawal = Correction {
        corrects: id(9),
        reason: "entered twice".into(),
        replacement: None,
    };
    assert_eq!(
        StatusLine::of(&original, None, Some(&withdrawal), None, &names).text(),
        "WITHDRAWN by its author (“entered twice”)"
    );
    assert_eq!(
        StatusLine::of(
            &original,
            Some("key revoked"),
            Some(&withdrawal),
            None,
            &names
        )
        .text(),
        "NOT VALID: revoked (key revoked)"
    );
    let pending = LinkStatus::Unacknowledged { pending: true };
    assert!(
        StatusLine::of(&original, None, None, Some(&pending), &names)
            .text()
            .ends_with("not yet acknowledged (still within the window)")
    );
}
