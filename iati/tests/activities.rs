//! What real files say about their activities reaches the activity record (FORMAT.md §5.10):
//! titles in several languages, descriptions, status, dates, countries, sectors and
//! participating organisations, counted against the files themselves.

mod common;

use aidledger_iati::{to_activity, Activity, WarningReason};
use aidledger_spec::activity::Activity as ActivityRecord;
use aidledger_spec::Body;

fn records(relative: &str) -> (Vec<Activity>, Vec<ActivityRecord>) {
    let (activities, _) = common::read_file(relative);
    let records = activities
        .iter()
        .map(|activity| {
            let (record, warnings) = to_activity(activity);
            for warning in &warnings {
                assert!(
                    matches!(warning.reason, WarningReason::ActivityField { .. }),
                    "{relative}: {warning}"
                );
            }
            let record = record.unwrap_or_else(|| panic!("{relative}: no record for {activity:?}"));
            assert_eq!(Body::Activity(record.clone()).check(), Ok(()), "{relative}");
            record
        })
        .collect();
    (activities, records)
}

#[test]
fn canada_titles_descriptions_and_shares_in_two_languages() {
    let (_, records) = records("flattener-fixtures/canada-activity.xml");
    let [record] = records.as_slice() else {
        panic!("one activity")
    };
    assert_eq!(record.iati_identifier, "CA-3-D002451001");
    assert_eq!(record.reporting_org, "CA-3");
    let titles: Vec<(&str, &str)> = record
        .titles
        .iter()
        .map(|title| (title.language.as_str(), title.text.as_str()))
        .collect();
    assert_eq!(
        titles,
        [
            (
                "FR",
                "Partenariats pour l\u{2019}innovation municipale au service du développement économique local"
            ),
            (
                "EN",
                "Partnerships for Municipal Innovation in Local Economic Development"
            ),
        ]
    );
    assert_eq!(
        record.title_in("en"),
        Some("Partnerships for Municipal Innovation in Local Economic Development")
    );
    assert_eq!(record.descriptions.len(), 2);
    assert_eq!(record.descriptions[0].type_code, "1");
    assert!(record.descriptions[1]
        .text
        .starts_with("The project supports strengthening the governance capacities"));
    assert_eq!(record.status, "2");
    let dates: Vec<String> = record
        .dates
        .iter()
        .map(|date| format!("{} {}", date.type_code, date.date))
        .collect();
    assert_eq!(dates, ["2 2016-01-20", "3 2021-09-30"]);
    let countries: Vec<String> = record
        .recipient_countries
        .iter()
        .map(|country| format!("{} {}", country.code, country.percentage))
        .collect();
    assert_eq!(
        countries,
        ["BF 14.29", "BO 14.29", "CI 14.29", "KH 14.28", "ML 14.28", "NI 14.28", "VN 14.29"]
    );
    let sectors: Vec<String> = record
        .sectors
        .iter()
        .map(|sector| {
            format!(
                "{}/{} {}",
                sector.vocabulary, sector.code, sector.percentage
            )
        })
        .collect();
    assert_eq!(
        sectors,
        [
            "1/15112 48.48",
            "1/15150 5",
            "1/25010 40",
            "1/32130 5",
            "1/41010 1.52"
        ]
    );
    let orgs: Vec<String> = record
        .participating_orgs
        .iter()
        .map(|org| format!("{} {} {} {}", org.role, org.org_ref, org.org_type, org.name))
        .collect();
    assert_eq!(
        orgs,
        [
            "1 CA 10 Canada",
            "4 CA-CRA_ACR-2118913938 10 Federation of Canadian Municipalities",
            "3 CA-3 10 Foreign Affairs, Trade and Development Canada",
        ],
        "the name in the activity's language (EN), whichever narrative comes first"
    );
}

#[test]
fn usaid_titles_in_spanish_and_english() {
    let (_, records) = records("flattener-fixtures/usaid-activity.xml");
    let languages: Vec<&str> = records[0]
        .titles
        .iter()
        .map(|title| title.language.as_str())
        .collect();
    assert_eq!(languages, ["ES", "EN"]);
    assert_eq!(
        records[0].title_in("en"),
        Some("Enhancing Sustainable Utility Regulations (ENSURE)")
    );
}

#[test]
fn iati_1_01_titles_are_the_elements_text() {
    let (_, records) = records("legacy/worldbank-789_v1.01.xml");
    let record = &records[0];
    assert_eq!(record.titles.len(), 1);
    assert_eq!(record.titles[0].text, "4M Mekong Int. Water Resources MGMT");
    assert_eq!(record.titles[0].language, "en");
    assert_eq!(record.recipient_countries[0].code, "789");
    assert_eq!(record.sectors.len(), 11);
    assert_eq!(record.dates[0].type_code, "start-planned");
    assert!(record.descriptions[0]
        .text
        .starts_with("The development objective of the Integrated Water Resources"));
    let orgs: Vec<String> = record
        .participating_orgs
        .iter()
        .map(|org| format!("{}|{}|{}|{}", org.role, org.org_ref, org.org_type, org.name))
        .collect();
    assert_eq!(
        orgs,
        [
            "Funding|44002|Multilateral|International Development Association",
            "Extending|44002|Multilateral|International Development Association",
            "Implementing|||",
        ]
    );
}

/// Per file: activities, countries, sectors, participating organisations, dates, counted in
/// the XML by Python's ElementTree (direct children of each `iati-activity`).
#[test]
fn every_entry_of_the_larger_files_is_kept() {
    for (file, counts) in [
        (
            "covid19-dportal/fcdo_GB-GOV-1.xml",
            [272, 184, 380, 652, 760],
        ),
        (
            "covid19-dportal/undp_XM-DAC-41114_arg-hti-afg-mwi.xml",
            [58, 58, 194, 170, 174],
        ),
        (
            "publisher-file/spain-maec_ES-DIR3-E04585801_indonesia_v2.01.xml",
            [83, 83, 83, 332, 166],
        ),
        (
            "covid19-dportal/danish-refugee-council_DK-CVR-20699310.xml",
            [12, 2, 35, 117, 24],
        ),
    ] {
        let (_, records) = records(file);
        let sum = |count: fn(&ActivityRecord) -> usize| records.iter().map(count).sum::<usize>();
        assert_eq!(
            [
                records.len(),
                sum(|record| record.recipient_countries.len()),
                sum(|record| record.sectors.len()),
                sum(|record| record.participating_orgs.len()),
                sum(|record| record.dates.len()),
            ],
            counts,
            "{file}"
        );
        assert!(
            records.iter().all(|record| !record.titles.is_empty()),
            "{file}: every activity has a title"
        );
    }
}
