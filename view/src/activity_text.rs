//! An activity record (kind 8) for people: its one-line summary (title first), its full text
//! for `show`, and the names of the IATI codes it carries, for JSON beside the codes.

use aidledger_spec::activity::{
    date_type_name, description_type_name, role_name, status_name, Activity,
};
use serde_json::{json, Value};

/// The language a title is shown in first when the record has it.
pub const PREFERRED_LANGUAGE: &str = "en";

/// `activity "Water project in Gaziantep" XM-1-A (2 titles, TR, status implementation)`.
pub fn activity_summary(activity: &Activity) -> String {
    let mut line = match activity.title_in(PREFERRED_LANGUAGE) {
        Some(title) => format!(
            "activity \"{}\" {}",
            one_line(title),
            activity.iati_identifier
        ),
        None => format!("activity {}", activity.iati_identifier),
    };
    let mut notes = Vec::new();
    if activity.titles.len() > 1 {
        notes.push(format!("{} titles", activity.titles.len()));
    }
    let countries: Vec<&str> = activity
        .recipient_countries
        .iter()
        .map(|country| country.code.as_str())
        .collect();
    if !countries.is_empty() {
        notes.push(countries.join(","));
    }
    if !activity.status.is_empty() {
        notes.push(format!(
            "status {}",
            code_text(&activity.status, status_name)
        ));
    }
    if !notes.is_empty() {
        line.push_str(&format!(" ({})", notes.join(", ")));
    }
    line
}

/// Whom the record is about, when that is not its author: "reported by A about B".
pub fn reported_by(author: &str, activity: &Activity) -> Option<String> {
    (!activity.reporting_org.is_empty() && activity.reporting_org != author)
        .then(|| format!("reported by {author} about {}", activity.reporting_org))
}

/// The full text of `show`, one field a line.
pub fn activity_text(activity: &Activity, author: &str) -> String {
    let mut out = format!(
        "activity  {}\nreporting {}\n",
        activity.iati_identifier,
        if activity.reporting_org.is_empty() {
            "(not given)"
        } else {
            &activity.reporting_org
        }
    );
    if let Some(note) = reported_by(author, activity) {
        out.push_str(&format!("          {note}\n"));
    }
    for title in &activity.titles {
        out.push_str(&format!(
            "title     [{}] {}\n",
            language(&title.language),
            one_line(&title.text)
        ));
    }
    if !activity.status.is_empty() {
        out.push_str(&format!(
            "status    {}\n",
            code_text(&activity.status, status_name)
        ));
    }
    for date in &activity.dates {
        out.push_str(&format!(
            "date      {} {}\n",
            date.date,
            code_text(&date.type_code, date_type_name)
        ));
    }
    for country in &activity.recipient_countries {
        out.push_str(&format!(
            "country   {}{}\n",
            country.code,
            percent(&country.percentage)
        ));
    }
    for region in &activity.recipient_regions {
        out.push_str(&format!(
            "region    {}{}{}\n",
            region.code,
            vocabulary(&region.vocabulary),
            percent(&region.percentage)
        ));
    }
    for sector in &activity.sectors {
        out.push_str(&format!(
            "sector    {}{}{}\n",
            sector.code,
            vocabulary(&sector.vocabulary),
            percent(&sector.percentage)
        ));
    }
    for org in &activity.participating_orgs {
        out.push_str(&format!(
            "org       {} {} {}{}\n",
            code_text(&org.role, role_name),
            if org.org_ref.is_empty() {
                "-"
            } else {
                &org.org_ref
            },
            org.name,
            if org.activity_id.is_empty() {
                String::new()
            } else {
                format!(" activity {}", org.activity_id)
            }
        ));
    }
    for description in &activity.descriptions {
        out.push_str(&format!(
            "description {} [{}]\n{}\n",
            code_text(&description.type_code, description_type_name),
            language(&description.language),
            crate::record_text::inline(&description.text)
        ));
    }
    if let Some(source) = &activity.iati {
        out.push_str(&format!("iati      import key {}\n", source.import_key));
    }
    out
}

/// The names of the codes an activity carries, added to its JSON beside the signed fields.
pub fn activity_names(activity: &Activity) -> Value {
    json!({
        "title": activity.title_in(PREFERRED_LANGUAGE),
        "status_name": status_name(&activity.status),
        "date_type_names": activity.dates.iter().map(|date| date_type_name(&date.type_code)).collect::<Vec<_>>(),
        "role_names": activity.participating_orgs.iter().map(|org| role_name(&org.role)).collect::<Vec<_>>(),
        "description_type_names": activity.descriptions.iter().map(|description| description_type_name(&description.type_code)).collect::<Vec<_>>(),
    })
}

/// `2 implementation`, or the code alone when IATI has no such code.
pub fn code_text(code: &str, name: fn(&str) -> Option<&'static str>) -> String {
    match name(code) {
        Some(name) => format!("{code} {name}"),
        None => code.to_owned(),
    }
}

fn language(tag: &str) -> &str {
    if tag.is_empty() {
        "?"
    } else {
        tag
    }
}

fn percent(percentage: &str) -> String {
    if percentage.is_empty() {
        String::new()
    } else {
        format!(" {percentage} %")
    }
}

fn vocabulary(vocabulary: &str) -> String {
    if vocabulary.is_empty() {
        String::new()
    } else {
        format!(" (vocabulary {vocabulary})")
    }
}

/// A title on one line: line breaks become spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidledger_spec::activity::{Narrative, RecipientCountry};

    fn activity() -> Activity {
        Activity {
            iati_identifier: "XM-1-A".into(),
            reporting_org: "XM-1".into(),
            titles: vec![
                Narrative {
                    language: "fr".into(),
                    text: "Projet d'eau à Gaziantep".into(),
                },
                Narrative {
                    language: "en".into(),
                    text: "Water project\nin Gaziantep".into(),
                },
            ],
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
    fn the_title_comes_first() {
        assert_eq!(
            activity_summary(&activity()),
            "activity \"Water project in Gaziantep\" XM-1-A (2 titles, TR, status 2 implementation)"
        );
        assert_eq!(reported_by("XM-1", &activity()), None);
        assert_eq!(
            reported_by("GB-GOV-1", &activity()).as_deref(),
            Some("reported by GB-GOV-1 about XM-1")
        );
        let text = activity_text(&activity(), "GB-GOV-1");
        assert!(
            text.contains("title     [fr] Projet d'eau à Gaziantep\n"),
            "{text}"
        );
        assert!(text.contains("reported by GB-GOV-1 about XM-1"), "{text}");
        assert!(text.contains("country   TR 100 %\n"), "{text}");
    }
}
