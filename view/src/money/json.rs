//! Links and entries as one line of text and as JSON (amounts always strings, scale kept).

use std::collections::BTreeSet;

use aidledger_spec::record::{transaction_type_name, Party};
use aidledger_spec::text::Date;
use aidledger_spec::RecordId;
use serde_json::Value;

use super::{Link, LinkKey};
use crate::corrections::Entry;

/// One side's party as JSON: `{"org","name","activity"}`.
#[derive(serde::Serialize)]
struct PartyJson<'a> {
    org: &'a str,
    name: &'a str,
    activity: &'a str,
}

impl<'a> PartyJson<'a> {
    fn of(party: &'a Option<Party>) -> Option<PartyJson<'a>> {
        party.as_ref().map(|party| PartyJson {
            org: &party.org_ref,
            name: &party.name,
            activity: &party.activity_id,
        })
    }
}

/// One transaction of a link as JSON, serialized straight from the entry (a million of
/// them must not each become a JSON tree first).
#[derive(serde::Serialize)]
pub struct EntryJson<'a> {
    record: RecordId,
    author: &'a str,
    seq: u64,
    activity: &'a str,
    #[serde(rename = "type")]
    kind: u8,
    type_name: &'static str,
    amount: &'a str,
    currency: &'a str,
    value_date: Date,
    transaction_date: Date,
    provider: Option<PartyJson<'a>>,
    receiver: Option<PartyJson<'a>>,
    acknowledges: Option<RecordId>,
    corrected_by: Option<RecordId>,
    withdrawn: bool,
}

impl<'a> EntryJson<'a> {
    /// The JSON form of `entry`.
    pub fn of(entry: &'a Entry) -> EntryJson<'a> {
        let transaction = &entry.transaction;
        EntryJson {
            record: entry.id,
            author: &entry.author,
            seq: entry.seq,
            activity: &transaction.activity_id,
            kind: transaction.transaction_type,
            type_name: transaction_type_name(transaction.transaction_type),
            amount: &transaction.value.amount,
            currency: &transaction.value.currency,
            value_date: transaction.value_date,
            transaction_date: transaction.transaction_date,
            provider: PartyJson::of(&transaction.provider),
            receiver: PartyJson::of(&transaction.receiver),
            acknowledges: transaction.acknowledges,
            corrected_by: entry.corrected_by,
            withdrawn: entry.withdrawn,
        }
    }
}

/// One transaction of a link as a JSON value.
pub fn entry_json(entry: &Entry) -> Value {
    serde_json::to_value(EntryJson::of(entry)).unwrap_or(Value::Null)
}

/// A link's JSON (see [`Link::to_json`]), serialized straight from the model.
#[derive(serde::Serialize)]
struct LinkJson<'a> {
    #[serde(flatten)]
    status: Value,
    kind: &'static str,
    key: String,
    pair: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<RecordId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_activity: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receiver_org: Option<&'a str>,
    provider: Vec<EntryJson<'a>>,
    receiver: Vec<EntryJson<'a>>,
    provider_amounts: Value,
    receiver_amounts: Value,
    difference: Value,
    note: Option<&'static str>,
    summary: String,
}

/// `1 record`, `43 records`.
fn records(count: usize) -> String {
    if count == 1 {
        "1 record".to_owned()
    } else {
        format!("{count} records")
    }
}

/// Distinct values joined by `, `, in order.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(", ")
}

impl<'a> Link<'a> {
    /// Who is on the provider side: the authors and activities, or `not held`.
    fn provider_text(&self) -> String {
        if self.provider().len() == 0 {
            return match self.key() {
                LinkKey::Activity {
                    provider_activity, ..
                } => format!("activity {provider_activity}: no provider record held"),
                LinkKey::Acknowledged(target) => {
                    format!("record {target}: not held")
                }
                LinkKey::Unlinked(_) => "no provider named".to_owned(),
            };
        }
        let authors = distinct(self.provider().map(|entry| entry.author.as_str()));
        let activities = distinct(
            self.provider()
                .map(|entry| entry.transaction.activity_id.as_str()),
        );
        let current = self.provider().filter(|entry| !entry.withdrawn).count();
        let amounts = if current == 0 {
            "nothing (withdrawn)".to_owned()
        } else {
            self.provider_sums().text()
        };
        format!(
            "{authors} activity {activities} reports {amounts} ({})",
            records(self.provider().len())
        )
    }

    /// Who is on the receiver side and what it reports.
    fn receiver_text(&self) -> String {
        let named = match self.key() {
            LinkKey::Activity { receiver_org, .. } => receiver_org.clone(),
            _ => distinct(self.receiver().map(|entry| entry.author.as_str())),
        };
        if self.receiver().len() == 0 {
            if named.is_empty() {
                return "no receipt".to_owned();
            }
            return format!("{named} reports nothing");
        }
        format!(
            "{named} reports {} ({})",
            self.receiver_sums().text(),
            records(self.receiver().len())
        )
    }

    /// One line: `short 5000.00 GBP: GB-1 activity A reports 125000.00 GBP (1 record) → DK-1
    /// reports 120000.00 GBP (1 record)`.
    pub fn summary(&self) -> String {
        let pair = self
            .pair()
            .map_or(String::new(), |pair| format!(" [{}]", pair.name()));
        let note = self
            .note()
            .map_or(String::new(), |note| format!(" ({note})"));
        let pending = match self.status() {
            super::LinkStatus::Unacknowledged { pending: true } => " (pending: within the window)",
            _ => "",
        };
        format!(
            "{}{pending}{pair}: {} → {}{note}",
            self.status().text(),
            self.provider_text(),
            self.receiver_text()
        )
    }

    fn json_form(&self) -> LinkJson<'a> {
        let key = self.key();
        let (target, provider_activity, receiver_org) = match key {
            LinkKey::Acknowledged(target) => (Some(*target), None, None),
            LinkKey::Activity {
                provider_activity,
                receiver_org,
                ..
            } => (
                None,
                Some(provider_activity.as_str()),
                Some(receiver_org.as_str()),
            ),
            LinkKey::Unlinked(_) => (None, None, None),
        };
        LinkJson {
            status: self.status().to_json(),
            kind: key.kind(),
            key: key.text(),
            pair: self.pair().map(|pair| pair.name()),
            target,
            provider_activity,
            receiver_org,
            provider: self.provider().map(EntryJson::of).collect(),
            receiver: self.receiver().map(EntryJson::of).collect(),
            provider_amounts: self.provider_sums().to_json(),
            receiver_amounts: self.receiver_sums().to_json(),
            difference: self.difference().to_json(),
            note: self.note(),
            summary: self.summary(),
        }
    }

    /// The link as JSON: the status's fields (`status`, `text`, `shortfall`, …) and `kind`,
    /// `key`, `pair`, `target` (an acknowledgement link) or `provider_activity` and
    /// `receiver_org` (an activity link), both sides' transactions and sums, `difference`,
    /// `note`, `summary`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.json_form()).unwrap_or(Value::Null)
    }
}

impl serde::Serialize for Link<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json_form().serialize(serializer)
    }
}
