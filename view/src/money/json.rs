//! Links and entries as one line of text and as JSON (amounts always strings, scale kept).

use std::collections::BTreeSet;

use aidledger_spec::record::{transaction_type_name, Party};
use serde_json::{json, Value};

use super::{Link, LinkKey};
use crate::corrections::Entry;

/// One transaction of a link as JSON.
pub fn entry_json(entry: &Entry) -> Value {
    let transaction = &entry.transaction;
    let party = |party: &Option<Party>| {
        party.as_ref().map(|party| {
            json!({ "org": party.org_ref, "name": party.name, "activity": party.activity_id })
        })
    };
    json!({
        "record": entry.id,
        "author": entry.author,
        "seq": entry.seq,
        "activity": transaction.activity_id,
        "type": transaction.transaction_type,
        "type_name": transaction_type_name(transaction.transaction_type),
        "amount": transaction.value.amount,
        "currency": transaction.value.currency,
        "value_date": transaction.value_date.to_string(),
        "transaction_date": transaction.transaction_date.to_string(),
        "provider": party(&transaction.provider),
        "receiver": party(&transaction.receiver),
        "acknowledges": transaction.acknowledges,
        "corrected_by": entry.corrected_by,
        "withdrawn": entry.withdrawn,
    })
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

impl Link<'_> {
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

    /// The link as JSON: the status's fields (`status`, `text`, `shortfall`, …) and `kind`,
    /// `key`, `pair`, both sides' transactions and sums, `difference`, `note`, `summary`.
    pub fn to_json(&self) -> Value {
        let mut value = self.status().to_json();
        value["kind"] = self.key().kind().into();
        value["key"] = self.key().text().into();
        value["pair"] = self.pair().map(|pair| pair.name()).into();
        match self.key() {
            LinkKey::Acknowledged(target) => value["target"] = json!(target),
            LinkKey::Activity {
                provider_activity,
                receiver_org,
                ..
            } => {
                value["provider_activity"] = provider_activity.as_str().into();
                value["receiver_org"] = receiver_org.as_str().into();
            }
            LinkKey::Unlinked(_) => {}
        }
        value["provider"] = Value::Array(self.provider().map(entry_json).collect());
        value["receiver"] = Value::Array(self.receiver().map(entry_json).collect());
        value["provider_amounts"] = self.provider_sums().to_json();
        value["receiver_amounts"] = self.receiver_sums().to_json();
        value["difference"] = self.difference().to_json();
        value["note"] = self.note().into();
        value["summary"] = self.summary().into();
        value
    }
}
