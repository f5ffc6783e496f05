//! From an IATI activity to a protocol activity record (kind 8, FORMAT.md §5.10): titles and
//! descriptions in every language, status, dates, places, sectors and organisations, with the
//! activity's import key and a content digest that make re-imports idempotent.
//!
//! What does not fit a field rule or a limit of the record is left out with a warning
//! ([`WarningReason::ActivityField`]), never the whole activity: a too-long title is cut at a
//! character boundary, a percentage that is not a number is dropped, an entry whose code or
//! date is unusable is dropped, lists beyond their limit are cut.

use aidledger_spec::activity::{
    Activity as ActivityRecord, ActivityDate, ActivityDescription, ActivitySource,
    Narrative as RecordNarrative, ParticipatingOrg, RecipientCountry, RecipientRegion, Sector,
};
use aidledger_spec::codec;
use aidledger_spec::ids::{hash_with_domain, Digest};
use aidledger_spec::limits::{
    ACTIVITY_COUNTRIES_MAX, ACTIVITY_DATES_MAX, ACTIVITY_DESCRIPTIONS_MAX,
    ACTIVITY_PARTICIPANTS_MAX, ACTIVITY_REGIONS_MAX, ACTIVITY_SECTORS_MAX, ACTIVITY_TITLES_MAX,
    ACTIVITY_TITLE_BYTES_MAX, DESCRIPTION_BYTES_MAX,
};
use aidledger_spec::record::Body;
use aidledger_spec::sortkey::SortKey;
use aidledger_spec::text::Date;

use crate::error::{Warning, WarningReason};
use crate::mapping::date_part;
use crate::model::{Activity, Narrative};

/// Domain-separation string of [`activity_import_key`] (FORMAT.md §21.1).
pub const ACTIVITY_KEY_DOMAIN: &str = "aidledger:iati-activity-key:v1\n";
/// Domain-separation string of [`activity_digest`].
pub const ACTIVITY_CONTENT_DOMAIN: &str = "aidledger:iati-activity-content:v1\n";
/// How many fields may be left out of one activity record before the mapping stops trying
/// (each is one check of the record; a hostile activity must not make this quadratic for long).
const LEFT_OUT_MAX: usize = 256;

/// The stable key of an activity: its publisher and identifier (FORMAT.md §21.1).
pub fn activity_import_key(reporting_org_ref: &str, identifier: &str) -> Digest {
    let input = SortKey::new()
        .long_bytes(reporting_org_ref.as_bytes())
        .long_bytes(identifier.as_bytes())
        .into_bytes();
    hash_with_domain(ACTIVITY_KEY_DOMAIN, &[&input])
}

/// SHA-256 over [`ACTIVITY_CONTENT_DOMAIN`] and the record's canonical encoding: the same key
/// with another digest means the publisher changed the activity.
pub fn activity_digest(activity: &ActivityRecord) -> Digest {
    hash_with_domain(ACTIVITY_CONTENT_DOMAIN, &[&codec::encode(activity)])
}

/// The activity record of `activity`, with what was left out as warnings; none when the
/// activity has no identifier or no reporting-org ref (the reader and the transactions already
/// warn about those).
pub fn to_activity(activity: &Activity) -> (Option<ActivityRecord>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let (Some(identifier), Some(reporting_org)) = (
        activity.identifier.as_deref(),
        activity.reporting_org_ref.as_deref(),
    ) else {
        return (None, warnings);
    };
    let mut left_out = |field: String, problem: String| {
        warnings.push(Warning {
            line: activity.line,
            activity_id: identifier.to_owned(),
            reason: WarningReason::ActivityField { field, problem },
        });
    };
    let about = &activity.about;
    let default_language = activity.default_language.as_deref().unwrap_or("");
    let language = |narrative: &Narrative| {
        narrative
            .language
            .clone()
            .unwrap_or_else(|| default_language.to_owned())
    };
    let mut record = ActivityRecord {
        iati_identifier: identifier.to_owned(),
        reporting_org: reporting_org.to_owned(),
        titles: Vec::new(),
        descriptions: Vec::new(),
        status: about.status.clone().unwrap_or_default(),
        dates: Vec::new(),
        recipient_countries: Vec::new(),
        recipient_regions: Vec::new(),
        sectors: Vec::new(),
        participating_orgs: Vec::new(),
        iati: Some(ActivitySource {
            import_key: activity_import_key(reporting_org, identifier),
        }),
    };
    for (index, title) in about.titles.iter().enumerate() {
        let text = cut(&title.text, ACTIVITY_TITLE_BYTES_MAX, || {
            left_out(
                format!("titles[{index}].text"),
                format!("longer than {ACTIVITY_TITLE_BYTES_MAX} bytes; the rest is cut"),
            )
        });
        record.titles.push(RecordNarrative {
            language: language(title),
            text,
        });
    }
    for description in &about.descriptions {
        for narrative in &description.narratives {
            let index = record.descriptions.len();
            let text = cut(&narrative.text, DESCRIPTION_BYTES_MAX, || {
                left_out(
                    format!("descriptions[{index}].text"),
                    format!("longer than {DESCRIPTION_BYTES_MAX} bytes; the rest is cut"),
                )
            });
            record.descriptions.push(ActivityDescription {
                type_code: description.type_code.clone().unwrap_or_default(),
                language: language(narrative),
                text,
            });
        }
    }
    for date in &about.dates {
        let written = date.iso_date.as_deref().unwrap_or("");
        match Date::parse(date_part(written)) {
            Ok(parsed) => record.dates.push(ActivityDate {
                type_code: date.type_code.clone().unwrap_or_default(),
                date: parsed,
            }),
            Err(_) => left_out(
                format!("dates[{}]", record.dates.len()),
                format!("iso-date {written:?} (line {}) is not a date", date.line),
            ),
        }
    }
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    record.recipient_countries = about
        .recipient_countries
        .iter()
        .map(|share| RecipientCountry {
            code: text(&share.code),
            percentage: text(&share.percentage),
        })
        .collect();
    record.recipient_regions = about
        .recipient_regions
        .iter()
        .map(|share| RecipientRegion {
            vocabulary: text(&share.vocabulary),
            code: text(&share.code),
            percentage: text(&share.percentage),
        })
        .collect();
    record.sectors = about
        .sectors
        .iter()
        .map(|share| Sector {
            vocabulary: text(&share.vocabulary),
            code: text(&share.code),
            percentage: text(&share.percentage),
        })
        .collect();
    record.participating_orgs = about
        .participating_orgs
        .iter()
        .map(|org| ParticipatingOrg {
            role: text(&org.role),
            org_ref: text(&org.org_ref),
            name: name_in(&org.names, default_language).unwrap_or_default(),
            org_type: text(&org.org_type),
            activity_id: text(&org.activity_id),
        })
        .collect();
    cut_lists(&mut record, &mut left_out);
    let fits = leave_out_what_breaks_a_rule(&mut record, &mut left_out);
    (fits.then_some(record), warnings)
}

/// A participating organisation's name: the narrative in the activity's language, else the first.
fn name_in(names: &[Narrative], language: &str) -> Option<String> {
    names
        .iter()
        .find(|name| name.language.as_deref().is_none_or(|tag| tag == language))
        .or_else(|| names.first())
        .map(|name| name.text.clone())
}

/// `text` cut to at most `max` bytes at a character boundary; `on_cut` runs when it was cut.
fn cut(text: &str, max: usize, on_cut: impl FnOnce()) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    on_cut();
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Cuts every list to its limit, naming what is left out.
fn cut_lists(record: &mut ActivityRecord, left_out: &mut impl FnMut(String, String)) {
    fn limit<T>(
        list: &mut Vec<T>,
        max: usize,
        name: &str,
        left_out: &mut impl FnMut(String, String),
    ) {
        if list.len() > max {
            left_out(
                name.to_owned(),
                format!("{} entries, the record keeps the first {max}", list.len()),
            );
            list.truncate(max);
        }
    }
    limit(&mut record.titles, ACTIVITY_TITLES_MAX, "titles", left_out);
    limit(
        &mut record.descriptions,
        ACTIVITY_DESCRIPTIONS_MAX,
        "descriptions",
        left_out,
    );
    limit(&mut record.dates, ACTIVITY_DATES_MAX, "dates", left_out);
    limit(
        &mut record.recipient_countries,
        ACTIVITY_COUNTRIES_MAX,
        "recipient_countries",
        left_out,
    );
    limit(
        &mut record.recipient_regions,
        ACTIVITY_REGIONS_MAX,
        "recipient_regions",
        left_out,
    );
    limit(
        &mut record.sectors,
        ACTIVITY_SECTORS_MAX,
        "sectors",
        left_out,
    );
    limit(
        &mut record.participating_orgs,
        ACTIVITY_PARTICIPANTS_MAX,
        "participating_orgs",
        left_out,
    );
}

/// Checks the record by the protocol's rules and leaves out the field each failure names (a
/// percentage is emptied, a language forgotten, the status emptied, a list entry removed)
/// until it passes; false when it cannot pass (the identifier or reporting org breaks a rule).
fn leave_out_what_breaks_a_rule(
    record: &mut ActivityRecord,
    left_out: &mut impl FnMut(String, String),
) -> bool {
    for _ in 0..LEFT_OUT_MAX {
        let body = Body::Activity(record.clone());
        let Err(error) = body.check() else {
            return true;
        };
        let field = error
            .field
            .strip_prefix("body.")
            .unwrap_or(&error.field)
            .to_owned();
        left_out(field.clone(), error.problem.clone());
        if !leave_out(record, &field) {
            return false;
        }
    }
    false
}

/// Leaves out the field named `field` (`sectors[0].percentage`); false when it cannot be.
fn leave_out(record: &mut ActivityRecord, field: &str) -> bool {
    if field == "status" {
        record.status.clear();
        return true;
    }
    let Some((list, rest)) = field.split_once('[') else {
        return false;
    };
    let Some((index, member)) = rest.split_once(']') else {
        return false;
    };
    let Ok(index) = index.parse::<usize>() else {
        return false;
    };
    let member = member.trim_start_matches('.');
    match (list, member) {
        ("titles", "language") => set(&mut record.titles, index, |t| t.language.clear()),
        ("descriptions", "language") => {
            set(&mut record.descriptions, index, |d| d.language.clear())
        }
        ("descriptions", "type_code") => {
            set(&mut record.descriptions, index, |d| d.type_code.clear())
        }
        ("recipient_countries", "percentage") => set(&mut record.recipient_countries, index, |c| {
            c.percentage.clear()
        }),
        ("recipient_regions", "percentage") => set(&mut record.recipient_regions, index, |r| {
            r.percentage.clear()
        }),
        ("sectors", "percentage") => set(&mut record.sectors, index, |s| s.percentage.clear()),
        ("titles", _) => remove(&mut record.titles, index),
        ("descriptions", _) => remove(&mut record.descriptions, index),
        ("dates", _) => remove(&mut record.dates, index),
        ("recipient_countries", _) => remove(&mut record.recipient_countries, index),
        ("recipient_regions", _) => remove(&mut record.recipient_regions, index),
        ("sectors", _) => remove(&mut record.sectors, index),
        ("participating_orgs", _) => remove(&mut record.participating_orgs, index),
        _ => false,
    }
}

fn set<T>(list: &mut [T], index: usize, change: impl FnOnce(&mut T)) -> bool {
    list.get_mut(index).map(change).is_some()
}

fn remove<T>(list: &mut Vec<T>, index: usize) -> bool {
    if index < list.len() {
        list.remove(index);
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ActivityReader;

    fn read(xml: &str) -> Activity {
        let mut reader = ActivityReader::new(xml.as_bytes());
        reader.next().expect("an activity").expect("readable")
    }

    #[test]
    fn keeps_titles_in_every_language_and_the_rest() {
        let activity = read(
            r#"<iati-activities version="2.03"><iati-activity xml:lang="en" default-currency="EUR">
              <iati-identifier>XM-1-A</iati-identifier>
              <reporting-org ref="XM-1" type="10"><narrative>Org</narrative></reporting-org>
              <title><narrative>Water project in Gaziantep</narrative>
                <narrative xml:lang="tr">Gaziantep su projesi</narrative></title>
              <description type="1"><narrative>Wells &amp; pipes.</narrative>
                <narrative xml:lang="fr">Puits.</narrative></description>
              <participating-org role="1" ref="GB-1" type="10"><narrative>Donor</narrative></participating-org>
              <participating-org role="4"><narrative xml:lang="fr">Partenaire</narrative></participating-org>
              <activity-status code="2"/>
              <activity-date type="1" iso-date="2024-01-01"/>
              <activity-date type="3" iso-date="soon"/>
              <recipient-country code="TR" percentage="100"/>
              <recipient-region code="689" vocabulary="1"/>
              <sector vocabulary="1" code="14030" percentage="50%"/>
              <transaction><transaction-type code="3"/><transaction-date iso-date="2024-02-01"/>
                <value>5</value><description><narrative>not the activity's</narrative></description></transaction>
            </iati-activity></iati-activities>"#,
        );
        let (record, warnings) = to_activity(&activity);
        let record = record.expect("a record");
        assert_eq!(record.titles.len(), 2);
        assert_eq!(record.titles[0].language, "en");
        assert_eq!(record.titles[1].text, "Gaziantep su projesi");
        assert_eq!(record.titles[1].language, "tr");
        assert_eq!(record.descriptions.len(), 2);
        assert_eq!(record.descriptions[0].text, "Wells & pipes.");
        assert_eq!(record.descriptions[0].type_code, "1");
        assert_eq!(record.descriptions[1].language, "fr");
        assert_eq!(record.status, "2");
        assert_eq!(record.dates.len(), 1, "the unreadable date is left out");
        assert_eq!(record.recipient_countries[0].code, "TR");
        assert_eq!(record.recipient_regions[0].vocabulary, "1");
        assert_eq!(record.sectors[0].code, "14030");
        assert_eq!(record.sectors[0].percentage, "", "50% is not a percentage");
        assert_eq!(record.participating_orgs[0].name, "Donor");
        assert_eq!(record.participating_orgs[1].name, "Partenaire");
        assert_eq!(record.participating_orgs[1].org_ref, "");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(Body::Activity(record.clone()).check().is_ok());
        assert_eq!(
            record.iati.map(|source| source.import_key),
            Some(activity_import_key("XM-1", "XM-1-A"))
        );
    }

    #[test]
    fn reads_iati_1_titles_as_the_elements_own_text() {
        let activity = read(
            r#"<iati-activities version="1.05"><iati-activity>
              <iati-identifier>XM-1-B</iati-identifier><reporting-org ref="XM-1">Org</reporting-org>
              <title xml:lang="fr">Projet</title><description>About it</description>
              <participating-org role="Funding" ref="GB-1">Donor</participating-org>
            </iati-activity></iati-activities>"#,
        );
        let (record, warnings) = to_activity(&activity);
        let record = record.expect("a record");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(record.titles[0].language, "fr");
        assert_eq!(record.titles[0].text, "Projet");
        assert_eq!(record.descriptions[0].text, "About it");
        assert_eq!(record.descriptions[0].language, "");
        assert_eq!(record.participating_orgs[0].role, "Funding");
        assert_eq!(record.participating_orgs[0].name, "Donor");
    }

    #[test]
    fn an_activity_without_reporting_org_has_no_record() {
        let activity = read(
            r#"<iati-activities><iati-activity><iati-identifier>X</iati-identifier>
              <title>T</title></iati-activity></iati-activities>"#,
        );
        assert_eq!(to_activity(&activity).0, None);
    }

    #[test]
    fn long_titles_are_cut_at_a_character_boundary() {
        let long = "é".repeat(ACTIVITY_TITLE_BYTES_MAX);
        let mut cuts = 0;
        let text = cut(&long, ACTIVITY_TITLE_BYTES_MAX, || cuts += 1);
        assert_eq!(cuts, 1);
        assert_eq!(text.len(), ACTIVITY_TITLE_BYTES_MAX);
        assert!(text.chars().all(|c| c == 'é'));
    }

    #[test]
    fn the_activity_key_is_pinned() {
        // FORMAT.md §21.1: a change would make re-imports record every activity again.
        assert_eq!(
            activity_import_key("GB-GOV-1", "GB-GOV-1-ABC").to_hex(),
            "e40ffe00e0a2a855a01b18d11ca8d61dae032cf601f56b0078e79c0d16ffc40c"
        );
    }
}
