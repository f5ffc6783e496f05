//! The golden vectors of activity records (body kind 8, FORMAT.md §5.10): `activities.json`.
//!
//! A file of its own so that `records-valid.json` and `records-invalid.json` stay byte for byte
//! what they were before the kind existed. Included by `examples/make_vectors.rs` and
//! `tests/vectors.rs` beside `vector_set.rs` (as `crate::vector_set`).

use aidledger_spec::activity::{
    Activity, ActivityDate, ActivityDescription, ActivitySource, Narrative, ParticipatingOrg,
    RecipientCountry, RecipientRegion, Sector,
};
use aidledger_spec::text::Date;
use aidledger_spec::{Body, Digest, SignedRecord};
use serde_json::{json, Value};

use crate::vector_set::{
    draft, minute, record_json, sign, valid_records, Fixture, Made, VectorFile, DONOR, IMPLEMENTER,
};

/// The file's name under `spec/vectors/`.
pub const FILE_NAME: &str = "activities.json";

/// The donor's activity, every field used, titles in two languages.
pub fn activity() -> Activity {
    let date = |year, month, day| Date { year, month, day };
    Activity {
        iati_identifier: "GB-GOV-1-300123".into(),
        reporting_org: DONOR.into(),
        titles: vec![
            Narrative {
                language: "en".into(),
                text: "Water project in Gaziantep".into(),
            },
            Narrative {
                language: "tr".into(),
                text: "Gaziantep su projesi".into(),
            },
        ],
        descriptions: vec![ActivityDescription {
            type_code: "1".into(),
            language: "en".into(),
            text: "Wells and pipes for 20 000 people.".into(),
        }],
        status: "2".into(),
        dates: vec![
            ActivityDate {
                type_code: "1".into(),
                date: date(2024, 1, 1),
            },
            ActivityDate {
                type_code: "3".into(),
                date: date(2026, 12, 31),
            },
        ],
        recipient_countries: vec![RecipientCountry {
            code: "TR".into(),
            percentage: "100".into(),
        }],
        recipient_regions: vec![RecipientRegion {
            vocabulary: "1".into(),
            code: "689".into(),
            percentage: String::new(),
        }],
        sectors: vec![
            Sector {
                vocabulary: "1".into(),
                code: "14030".into(),
                percentage: "62.5".into(),
            },
            Sector {
                vocabulary: "1".into(),
                code: "14031".into(),
                percentage: "37.5".into(),
            },
        ],
        participating_orgs: vec![
            ParticipatingOrg {
                role: "1".into(),
                org_ref: DONOR.into(),
                name: "FCDO".into(),
                org_type: "10".into(),
                activity_id: String::new(),
            },
            ParticipatingOrg {
                role: "4".into(),
                org_ref: IMPLEMENTER.into(),
                name: "UNDP".into(),
                org_type: "40".into(),
                activity_id: "XM-DAC-41114-PROJECT-00123".into(),
            },
        ],
        iati: Some(ActivitySource {
            import_key: Digest([0x43u8; 32]),
        }),
    }
}

/// The implementer's record of the donor's activity with only what is required.
pub fn minimal_activity() -> Activity {
    Activity {
        iati_identifier: "GB-GOV-1-300123".into(),
        reporting_org: DONOR.into(),
        titles: Vec::new(),
        descriptions: Vec::new(),
        status: String::new(),
        dates: Vec::new(),
        recipient_countries: Vec::new(),
        recipient_regions: Vec::new(),
        sectors: Vec::new(),
        participating_orgs: Vec::new(),
        iati: None,
    }
}

/// The donor's seq 5 (after the records of `records-valid.json`) and the implementer's seq 1.
pub fn valid_activities(fixture: &Fixture) -> Vec<Made> {
    let before = valid_records(fixture);
    let last_of = |author: &str| {
        before
            .iter()
            .rev()
            .find(|made| {
                SignedRecord::parse(made.bytes.clone())
                    .is_ok_and(|record| record.header.author == author)
            })
            .map(|made| made.id)
            .expect("records-valid.json has records of both")
    };
    let make = |name, description, author: &str, seq, key, body: Activity, at| {
        let body = Body::Activity(body);
        let (id, bytes) = sign(
            &draft(
                fixture,
                author,
                seq,
                last_of(author),
                minute(at),
                body.clone(),
            ),
            key,
        );
        Made {
            name,
            description,
            id,
            bytes,
            body,
        }
    };
    vec![
        make(
            "activity",
            "Donor seq 5: an activity record with every field: titles in en and tr, a description, status, dates, a country, a region, two sectors, two participating organisations, an IATI source.",
            DONOR,
            5,
            &fixture.donor,
            activity(),
            10,
        ),
        make(
            "activity-of-another-publisher",
            "Implementer seq 1: the donor's activity (reporting_org GB-GOV-1) recorded by the implementer, with only the required identifier.",
            IMPLEMENTER,
            1,
            &fixture.implementer,
            minimal_activity(),
            11,
        ),
    ]
}

/// Activity records that each break one field rule, with the field named.
pub fn invalid_activities(
    fixture: &Fixture,
) -> Vec<(&'static str, &'static str, Vec<u8>, &'static str)> {
    let signed = |change: fn(&mut Activity)| {
        let mut body = activity();
        change(&mut body);
        sign(
            &draft(
                fixture,
                DONOR,
                0,
                Digest::ZERO,
                minute(1),
                Body::Activity(body),
            ),
            &fixture.donor,
        )
        .1
    };
    vec![
        (
            "invalid-field-activity-identifier",
            "An activity without an identifier.",
            signed(|body| body.iati_identifier = " ".into()),
            "body.iati_identifier",
        ),
        (
            "invalid-field-activity-title",
            "A title of white space only.",
            signed(|body| body.titles[1].text = "\n".into()),
            "body.titles[1].text",
        ),
        (
            "invalid-field-activity-percentage",
            "A sector percentage with a percent sign.",
            signed(|body| body.sectors[0].percentage = "62.5%".into()),
            "body.sectors[0].percentage",
        ),
        (
            "invalid-field-activity-date",
            "An activity date that is not in the calendar (2025-02-29).",
            signed(|body| {
                body.dates[0].date = Date {
                    year: 2025,
                    month: 2,
                    day: 29,
                }
            }),
            "body.dates[0].date",
        ),
    ]
}

/// `activities.json`.
pub fn activities_file() -> VectorFile {
    let fixture = Fixture::new();
    let invalid: Vec<Value> = invalid_activities(&fixture)
        .into_iter()
        .map(|(name, description, bytes, field)| {
            json!({
                "name": name,
                "description": description,
                "record_hex": hex::encode(&bytes),
                "expected": { "code": "invalid-field", "author": DONOR, "seq": 0, "field": field },
            })
        })
        .collect();
    VectorFile {
        name: FILE_NAME,
        json: json!({
            "description": "Activity records (body kind 8), verified alone against genesis.json, taken apart like records-valid.json; then records that each break one activity field rule, with the expected code and field. The donor's activity chains after its seq 4 of records-valid.json, the implementer's after its seq 0.",
            "records": valid_activities(&fixture).iter().map(record_json).collect::<Vec<_>>(),
            "invalid": invalid,
        }),
    }
}
