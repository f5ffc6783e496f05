//! The hits a search shows: what each found thing is called, its id and page, the field that
//! matched as people say it, and the record behind it with a short label (`search.rs` finds
//! and ranks them).

use aidledger_view::activity_text::PREFERRED_LANGUAGE;
use aidledger_view::format;

use super::search::{Match, Searcher, Target, MEMBER_ID, MEMBER_NAME, RECORD_ID};
use super::*;
use crate::explorer::html::url_component;
use crate::explorer::index::activities::read_latest_value;
use crate::explorer::index::search::field;

/// One thing found.
#[derive(Debug, Serialize)]
pub struct Hit {
    /// `member`, `organisation`, `activity`, `statement`, `treaty` or `record`.
    pub kind: &'static str,
    /// What it is called: a name, a title, a record's label.
    pub title: String,
    /// Its id: an organisation's ref, an activity id, a record id (hex).
    pub id: String,
    /// Its page.
    pub href: String,
    /// The field that matched, as people say it (`receiver name`).
    pub field: &'static str,
    /// The text of that field (`Local NGO Network`).
    pub matched: String,
    /// The rank: higher is better.
    pub score: u32,
    /// A record that says it (for an organisation: one record currently naming it).
    pub record: Option<HitRecord>,
}

/// A record a hit points to.
#[derive(Debug, Serialize)]
pub struct HitRecord {
    /// Its id.
    pub id: RecordId,
    /// A short label (`disbursement GBP 125,000.00, 2026-11-02`).
    pub label: String,
    /// Its author.
    pub author: String,
    /// The author's name, when a member.
    pub author_name: Option<String>,
}

pub(super) fn field_label(field: u8) -> &'static str {
    match field {
        field::PROVIDER_ID => "provider id",
        field::PROVIDER_NAME => "provider name",
        field::RECEIVER_ID => "receiver id",
        field::RECEIVER_NAME => "receiver name",
        field::ACTIVITY_ID => "activity id",
        field::ACTIVITY_TITLE => "activity title",
        field::ACTIVITY_DESCRIPTION => "activity description",
        field::PLACE => "recipient country or region",
        field::STATEMENT_TITLE => "statement title",
        field::TREATY_TITLE => "treaty title",
        MEMBER_NAME => "member name",
        MEMBER_ID => "member id",
        RECORD_ID => "record id",
        _ => "field",
    }
}

impl Searcher<'_> {
    /// The hit shown for a ranked target.
    pub(super) fn hit(&self, target: Target, score: u32, best: Match) -> Result<Hit, StoreError> {
        let record = match best.record {
            Some(id) if !matches!(target, Target::Activity(_)) => self.hit_record(&id)?,
            _ => None,
        };
        let (kind, title, id, href) = match &target {
            Target::Member(org) => {
                let name = self
                    .authority
                    .member(org)
                    .map_or_else(|| org.clone(), |member| member.name.clone());
                (
                    "member",
                    name,
                    org.clone(),
                    format!("/org/{}", url_component(org)),
                )
            }
            Target::Org(org) => {
                let name =
                    if best.field == field::PROVIDER_NAME || best.field == field::RECEIVER_NAME {
                        best.text.clone()
                    } else {
                        org.clone()
                    };
                let href = record
                    .as_ref()
                    .map_or_else(String::new, |record| record_path(&record.id));
                ("organisation", name, org.clone(), href)
            }
            Target::OrgName(name) => {
                let href = record
                    .as_ref()
                    .map_or_else(String::new, |record| record_path(&record.id));
                ("organisation", name.clone(), String::new(), href)
            }
            Target::Activity(activity) => {
                let title = match best.record {
                    Some(id) => activity_title(self.store, &id)?,
                    None => first_title(self.store, activity)?,
                };
                (
                    "activity",
                    title.unwrap_or_else(|| activity.clone()),
                    activity.clone(),
                    format!("/activity/{}", url_component(activity)),
                )
            }
            Target::Statement(id) => ("statement", best.text.clone(), id.to_hex(), record_path(id)),
            Target::Treaty(id) => (
                "treaty",
                best.text.clone(),
                id.to_hex(),
                format!("/treaty/{}", id.to_hex()),
            ),
            Target::Record(id) => (
                "record",
                record
                    .as_ref()
                    .map_or_else(|| id.to_hex(), |record| record.label.clone()),
                id.to_hex(),
                record_path(id),
            ),
        };
        let matched = match best.field {
            field::ACTIVITY_TITLE => title.clone(),
            field::ACTIVITY_DESCRIPTION => String::new(),
            _ => best.text,
        };
        Ok(Hit {
            kind,
            title,
            id,
            href,
            field: field_label(best.field),
            matched,
            score,
            record,
        })
    }

    /// The record a hit points to, labelled.
    fn hit_record(&self, id: &RecordId) -> Result<Option<HitRecord>, StoreError> {
        let Some(bytes) = self.store.get(id)? else {
            return Ok(None);
        };
        // Redacted: its content is no hit (the index forgets it when it is built again).
        if is_withheld(&bytes) {
            return Ok(None);
        }
        let decoded = decode(bytes)?;
        let author = decoded.signed.header.author.clone();
        Ok(Some(HitRecord {
            id: *id,
            label: record_label(&decoded.body),
            author_name: self
                .authority
                .member(&author)
                .map(|member| member.name.clone()),
            author,
        }))
    }
}

fn record_path(id: &RecordId) -> String {
    format!("/record/{}", id.to_hex())
}

/// A record as people name it: a transaction by its type, money and date
/// (`disbursement GBP 125,000.00, 2026-11-02`), anything else by its summary.
pub fn record_label(body: &Body) -> String {
    match body {
        Body::Transaction(transaction) => format!(
            "{} {}, {}",
            transaction_type_name(transaction.transaction_type),
            format::money(&transaction.value.amount, &transaction.value.currency),
            format::date(&transaction.value_date)
        ),
        Body::Correction(correction) => match &correction.replacement {
            Some(aidledger_spec::record::Replacement::Transaction(transaction)) => format!(
                "correction to {} {}, {}",
                transaction_type_name(transaction.transaction_type),
                format::money(&transaction.value.amount, &transaction.value.currency),
                format::date(&transaction.value_date)
            ),
            _ => describe(body),
        },
        _ => describe(body),
    }
}

/// The title of an activity record.
fn activity_title(store: &StoreReader, id: &RecordId) -> Result<Option<String>, StoreError> {
    let Some(bytes) = store.get(id)? else {
        return Ok(None);
    };
    if is_withheld(&bytes) {
        return Ok(None);
    }
    Ok(match decode(bytes)?.body {
        Body::Activity(record) => record.title_in(PREFERRED_LANGUAGE).map(str::to_owned),
        _ => None,
    })
}

/// The title of an activity from its first author's latest activity record, if any.
fn first_title(store: &StoreReader, activity: &str) -> Result<Option<String>, StoreError> {
    let prefix = SortKey::tagged(tag::ACTIVITY_LATEST)
        .text(activity)
        .into_bytes();
    match store.index_tree().scan_prefix(&prefix).next() {
        Some(entry) => {
            let (_, value) = entry?;
            activity_title(store, &read_latest_value(&value)?.0)
        }
        None => Ok(None),
    }
}
