//! Kind 8, `Activity`: what an IATI activity is about (FORMAT.md §5.10).
//!
//! One signed record per activity and publisher, not fields copied onto every transaction: an
//! activity has one title and many transactions, and a title changed by the publisher is one
//! new record, not a correction of each transaction. The author's latest Activity record for an
//! `iati_identifier` supersedes its earlier ones (readers keep the last by chain position), so
//! activities are not corrected by corrections and `Replacement` has no activity variant.
//!
//! Codes (statuses, date types, roles, vocabularies) are kept as the publisher wrote them,
//! bounded text; readers name the IATI codes they know and show the others as written.

use crate::ids::Digest;
use crate::limits::{
    ACTIVITY_CODE_BYTES_MAX, ACTIVITY_COUNTRIES_MAX, ACTIVITY_DATES_MAX, ACTIVITY_DESCRIPTIONS_MAX,
    ACTIVITY_PARTICIPANTS_MAX, ACTIVITY_PERCENTAGE_BYTES_MAX, ACTIVITY_REGIONS_MAX,
    ACTIVITY_SECTORS_MAX, ACTIVITY_TITLES_MAX, ACTIVITY_TITLE_BYTES_MAX, DESCRIPTION_BYTES_MAX,
    SHORT_TEXT_BYTES_MAX,
};
use crate::text::{check_language, check_required, check_text, Date, FieldError};

/// A text in one language, as an IATI `narrative`.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Narrative {
    /// Language tag (`xml:lang`, else the file's default language); empty when neither says.
    pub language: String,
    /// The text.
    pub text: String,
}

/// One language version of an activity description.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct ActivityDescription {
    /// IATI DescriptionType code (1 general, 2 objectives, 3 target groups, 4 other); may be empty.
    pub type_code: String,
    /// Language tag; may be empty.
    pub language: String,
    /// The text.
    pub text: String,
}

/// An IATI `activity-date`.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct ActivityDate {
    /// IATI ActivityDateType code (1 planned start, 2 actual start, 3 planned end, 4 actual end).
    pub type_code: String,
    /// The date.
    pub date: Date,
}

/// An IATI `recipient-country`.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct RecipientCountry {
    /// ISO 3166-1 alpha-2 code as written.
    pub code: String,
    /// Share of the activity, decimal text as written (`50`, `33.33`); empty when not given.
    pub percentage: String,
}

/// An IATI `recipient-region`.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct RecipientRegion {
    /// IATI RegionVocabulary code; may be empty (IATI's default is 1, OECD DAC).
    pub vocabulary: String,
    /// The region's code.
    pub code: String,
    /// Share, as for countries.
    pub percentage: String,
}

/// An IATI `sector`.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Sector {
    /// IATI SectorVocabulary code; may be empty (IATI's default is 1, OECD DAC 5-digit).
    pub vocabulary: String,
    /// The sector's code.
    pub code: String,
    /// Share, as for countries.
    pub percentage: String,
}

/// An IATI `participating-org`.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct ParticipatingOrg {
    /// IATI OrganisationRole code (1 funding, 2 accountable, 3 extending, 4 implementing).
    pub role: String,
    /// The organisation's identifier; may be empty.
    pub org_ref: String,
    /// Its name (the narrative in the activity's language, else the first); may be empty.
    pub name: String,
    /// IATI OrganisationType code; may be empty.
    pub org_type: String,
    /// The organisation's own activity identifier; may be empty.
    pub activity_id: String,
}

/// Where an imported activity came from.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct ActivitySource {
    /// Stable key of the activity (FORMAT.md §21.1), so that re-imports find the record.
    pub import_key: Digest,
}

/// What an IATI activity is: its titles, descriptions, places, sectors and organisations.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Activity {
    /// The IATI activity identifier; transactions name it in `activity_id`.
    pub iati_identifier: String,
    /// The publisher's `reporting-org/@ref`; may differ from the record's author when an
    /// organisation records another publisher's activity ("reported by author about this").
    pub reporting_org: String,
    /// Titles, one per language.
    pub titles: Vec<Narrative>,
    /// Descriptions, one entry per (type, language).
    pub descriptions: Vec<ActivityDescription>,
    /// IATI ActivityStatus code (1 pipeline … 6 suspended); may be empty.
    pub status: String,
    /// Planned and actual start and end dates.
    pub dates: Vec<ActivityDate>,
    /// Recipient countries.
    pub recipient_countries: Vec<RecipientCountry>,
    /// Recipient regions.
    pub recipient_regions: Vec<RecipientRegion>,
    /// Sectors.
    pub sectors: Vec<Sector>,
    /// Participating organisations with their roles.
    pub participating_orgs: Vec<ParticipatingOrg>,
    /// Set when the record was imported from an IATI file.
    pub iati: Option<ActivitySource>,
}

/// IATI ActivityStatus names, indexed by code - 1.
const STATUS_NAMES: [&str; 6] = [
    "pipeline",
    "implementation",
    "finalisation",
    "closed",
    "cancelled",
    "suspended",
];
/// IATI ActivityDateType names, indexed by code - 1.
const DATE_TYPE_NAMES: [&str; 4] = ["planned start", "actual start", "planned end", "actual end"];
/// IATI OrganisationRole names, indexed by code - 1.
const ROLE_NAMES: [&str; 4] = ["funding", "accountable", "extending", "implementing"];
/// IATI DescriptionType names, indexed by code - 1.
const DESCRIPTION_TYPE_NAMES: [&str; 4] = ["general", "objectives", "target groups", "other"];

fn code_name(names: &[&'static str], code: &str) -> Option<&'static str> {
    let index = code.parse::<usize>().ok()?.checked_sub(1)?;
    names.get(index).copied()
}

/// The name of an IATI ActivityStatus code, if it is one.
pub fn status_name(code: &str) -> Option<&'static str> {
    code_name(&STATUS_NAMES, code)
}

/// The name of an IATI ActivityDateType code, if it is one.
pub fn date_type_name(code: &str) -> Option<&'static str> {
    code_name(&DATE_TYPE_NAMES, code)
}

/// The name of an IATI OrganisationRole code, if it is one.
pub fn role_name(code: &str) -> Option<&'static str> {
    code_name(&ROLE_NAMES, code)
}

/// The name of an IATI DescriptionType code, if it is one.
pub fn description_type_name(code: &str) -> Option<&'static str> {
    code_name(&DESCRIPTION_TYPE_NAMES, code)
}

impl Activity {
    /// The title to show first: the one in `language` (ASCII case ignored: publishers write
    /// `EN` and `en`) if there is one, else the first.
    pub fn title_in(&self, language: &str) -> Option<&str> {
        self.titles
            .iter()
            .find(|title| title.language.eq_ignore_ascii_case(language))
            .or_else(|| self.titles.first())
            .map(|title| title.text.as_str())
    }

    /// Checks every field rule (FORMAT.md §9.2); fields are named relative to the activity,
    /// and the caller puts its path before them when one fails.
    pub(crate) fn check(&self) -> Result<(), FieldError> {
        check_required("iati_identifier", &self.iati_identifier)?;
        check_text("reporting_org", &self.reporting_org, SHORT_TEXT_BYTES_MAX)?;
        check_count("titles", self.titles.len(), ACTIVITY_TITLES_MAX)?;
        for (index, title) in self.titles.iter().enumerate() {
            check_narrative(&title.language, &title.text, ACTIVITY_TITLE_BYTES_MAX)
                .map_err(|error| error.within(&format!("titles[{index}]")))?;
        }
        check_count(
            "descriptions",
            self.descriptions.len(),
            ACTIVITY_DESCRIPTIONS_MAX,
        )?;
        for (index, description) in self.descriptions.iter().enumerate() {
            check_code("type_code", &description.type_code, false)
                .and_then(|()| {
                    check_narrative(
                        &description.language,
                        &description.text,
                        DESCRIPTION_BYTES_MAX,
                    )
                })
                .map_err(|error| error.within(&format!("descriptions[{index}]")))?;
        }
        check_code("status", &self.status, false)?;
        check_count("dates", self.dates.len(), ACTIVITY_DATES_MAX)?;
        for (index, date) in self.dates.iter().enumerate() {
            check_code("type_code", &date.type_code, true)
                .and_then(|()| date.date.check("date"))
                .map_err(|error| error.within(&format!("dates[{index}]")))?;
        }
        check_count(
            "recipient_countries",
            self.recipient_countries.len(),
            ACTIVITY_COUNTRIES_MAX,
        )?;
        for (index, country) in self.recipient_countries.iter().enumerate() {
            check_code("code", &country.code, true)
                .and_then(|()| check_percentage(&country.percentage))
                .map_err(|error| error.within(&format!("recipient_countries[{index}]")))?;
        }
        check_count(
            "recipient_regions",
            self.recipient_regions.len(),
            ACTIVITY_REGIONS_MAX,
        )?;
        for (index, region) in self.recipient_regions.iter().enumerate() {
            check_code("vocabulary", &region.vocabulary, false)
                .and_then(|()| check_code("code", &region.code, true))
                .and_then(|()| check_percentage(&region.percentage))
                .map_err(|error| error.within(&format!("recipient_regions[{index}]")))?;
        }
        check_count("sectors", self.sectors.len(), ACTIVITY_SECTORS_MAX)?;
        for (index, sector) in self.sectors.iter().enumerate() {
            check_code("vocabulary", &sector.vocabulary, false)
                .and_then(|()| check_code("code", &sector.code, true))
                .and_then(|()| check_percentage(&sector.percentage))
                .map_err(|error| error.within(&format!("sectors[{index}]")))?;
        }
        check_count(
            "participating_orgs",
            self.participating_orgs.len(),
            ACTIVITY_PARTICIPANTS_MAX,
        )?;
        for (index, org) in self.participating_orgs.iter().enumerate() {
            check_participant(org)
                .map_err(|error| error.within(&format!("participating_orgs[{index}]")))?;
        }
        Ok(())
    }
}

fn check_count(field: &str, count: usize, max: usize) -> Result<(), FieldError> {
    if count > max {
        return Err(FieldError::new(
            field,
            format!("{count} entries, more than the {max} allowed"),
        ));
    }
    Ok(())
}

/// A narrative: language empty or a language tag; text not empty after trimming, at most `max`.
fn check_narrative(language: &str, text: &str, max: usize) -> Result<(), FieldError> {
    if !language.is_empty() {
        check_language("language", language)?;
    }
    if text.trim().is_empty() {
        return Err(FieldError::new("text", "must not be empty"));
    }
    check_text("text", text, max)
}

/// A code: text of at most [`ACTIVITY_CODE_BYTES_MAX`] bytes, not empty when `required`.
fn check_code(field: &str, code: &str, required: bool) -> Result<(), FieldError> {
    if required && code.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    check_text(field, code, ACTIVITY_CODE_BYTES_MAX)
}

/// A percentage: empty, or ASCII digits with at most one `.` between digits.
fn check_percentage(percentage: &str) -> Result<(), FieldError> {
    if percentage.is_empty() {
        return Ok(());
    }
    let shaped = percentage.len() <= ACTIVITY_PERCENTAGE_BYTES_MAX && {
        let mut parts = percentage.splitn(2, '.');
        let whole = parts.next().unwrap_or_default();
        let fraction = parts.next();
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        digits(whole) && fraction.is_none_or(digits)
    };
    if !shaped {
        return Err(FieldError::new(
            "percentage",
            format!(
                "{percentage:?} is not a decimal number such as 50 or 33.33 (at most {ACTIVITY_PERCENTAGE_BYTES_MAX} bytes)"
            ),
        ));
    }
    Ok(())
}

fn check_participant(org: &ParticipatingOrg) -> Result<(), FieldError> {
    check_code("role", &org.role, false)?;
    check_text("org_ref", &org.org_ref, SHORT_TEXT_BYTES_MAX)?;
    check_text("name", &org.name, SHORT_TEXT_BYTES_MAX)?;
    check_code("org_type", &org.org_type, false)?;
    check_text("activity_id", &org.activity_id, SHORT_TEXT_BYTES_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity() -> Activity {
        Activity {
            iati_identifier: "XM-1-A".into(),
            reporting_org: "XM-1".into(),
            titles: vec![Narrative {
                language: "en".into(),
                text: "Water project in Gaziantep".into(),
            }],
            descriptions: vec![],
            status: "2".into(),
            dates: vec![],
            recipient_countries: vec![RecipientCountry {
                code: "TR".into(),
                percentage: "100".into(),
            }],
            recipient_regions: vec![],
            sectors: vec![],
            participating_orgs: vec![],
            iati: None,
        }
    }

    #[test]
    fn fields_are_checked_and_named() {
        assert_eq!(activity().check(), Ok(()));
        let mut bad = activity();
        bad.recipient_countries[0].percentage = "50%".into();
        assert_eq!(
            bad.check().unwrap_err().field,
            "recipient_countries[0].percentage"
        );
        let mut bad = activity();
        bad.titles[0].text = " ".into();
        assert_eq!(bad.check().unwrap_err().field, "titles[0].text");
        let mut bad = activity();
        bad.titles[0].language = "e".into();
        assert_eq!(bad.check().unwrap_err().field, "titles[0].language");
        let mut bad = activity();
        bad.iati_identifier = String::new();
        assert_eq!(bad.check().unwrap_err().field, "iati_identifier");
        for good in ["", "0", "33.33", "100"] {
            assert!(check_percentage(good).is_ok(), "{good}");
        }
        for bad in [".5", "5.", "1.2.3", "-1", "1e2", " 5"] {
            assert!(check_percentage(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_have_names() {
        assert_eq!(status_name("2"), Some("implementation"));
        assert_eq!(status_name("0"), None);
        assert_eq!(role_name("4"), Some("implementing"));
        assert_eq!(date_type_name("x"), None);
        assert_eq!(
            activity().title_in("fr"),
            Some("Water project in Gaziantep")
        );
    }
}
