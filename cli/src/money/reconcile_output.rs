//! `reconcile`'s three forms: text (findings first, then every link, then suggestions), CSV
//! (one row per link) and JSON (the same data). Amounts keep the scale they were written with.

use std::io::{self, Write};

use aidledger_spec::record::transaction_type_name;
use aidledger_view::money::{entry_json, Amounts, Finding, Link};
use serde_json::{json, Value};

use super::ledger::{Entry, RedactedMoney};
use super::reconcile::{Reconciliation, DATE_WINDOW_DAYS};

/// The CSV header: one row per link.
pub const CSV_HEADER: &str =
    "status,status_text,finding,kind,key,pair,provider_records,provider_orgs,\
provider_activities,provider_amount,receiver_records,receiver_orgs,receiver_activities,\
receiver_amount,currency,difference,note";

/// One transaction on one line: role, record id, author, seq, activity, type, value date,
/// amount and currency, and whether it was withdrawn.
fn entry_line(role: &str, entry: &Entry) -> String {
    let transaction = &entry.transaction;
    format!(
        "      {role} {} {} seq {} {} {} {} {} {}{}",
        entry.id,
        entry.author,
        entry.seq,
        transaction.activity_id,
        transaction_type_name(transaction.transaction_type),
        transaction.value_date,
        transaction.value.amount,
        transaction.value.currency,
        if entry.withdrawn { " (withdrawn)" } else { "" }
    )
}

fn write_link(out: &mut impl Write, link: &Link<'_>, redacted: &RedactedMoney) -> io::Result<()> {
    writeln!(
        out,
        "  [{} {}] {}",
        link.key().kind(),
        link.key().text(),
        redacted.link_summary(link)
    )?;
    if let Some(target) = redacted.target_of(link) {
        writeln!(
            out,
            "      provider {target}: {}; the receipts cannot be compared with it",
            crate::redacted::plus_transactions_text(1).unwrap_or_default()
        )?;
    }
    for entry in link.provider() {
        writeln!(out, "{}", entry_line("provider", entry))?;
    }
    for entry in link.receiver() {
        writeln!(out, "{}", entry_line("receiver", entry))?;
    }
    Ok(())
}

impl Reconciliation<'_> {
    /// The text form.
    pub fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(
            out,
            "money model as of {}: {} links; unacknowledged is a finding after {} days (--window-days, --as-of)",
            self.model.as_of(),
            self.links.len(),
            self.model.window_days()
        )?;
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(name, count)| format!("{name} {count}"))
            .collect();
        writeln!(out, "statuses: {}", counts.join(", "))?;
        if let Some(text) = self.redacted.text() {
            writeln!(out, "redacted: {text}; in no link's sums")?;
        }
        let (links, commitments): (Vec<&Finding<'_>>, Vec<&Finding<'_>>) = self
            .findings
            .iter()
            .partition(|finding| !matches!(finding, Finding::Commitment(_)));
        writeln!(out, "findings ({}), shortfalls first:", links.len())?;
        for finding in links {
            match finding {
                Finding::Link(link) => write_link(out, link, &self.redacted)?,
                Finding::ProviderDiffers { entry, link } => {
                    writeln!(out, "  {}", finding.text())?;
                    if let Some(link) = link {
                        writeln!(
                            out,
                            "      in link [{} {}]: {}",
                            link.key().kind(),
                            link.key().text(),
                            link.status().text()
                        )?;
                    }
                    writeln!(out, "{}", entry_line("provider", entry))?;
                }
                Finding::Commitment(_) => {}
            }
        }
        writeln!(out, "commitment findings ({}):", commitments.len())?;
        for finding in commitments {
            writeln!(out, "  {}", finding.text())?;
        }
        writeln!(out, "links ({}):", self.links.len())?;
        for link in &self.links {
            write_link(out, link, &self.redacted)?;
        }
        writeln!(
            out,
            "suggestions by equal amount, organisations and currency, value dates at most {DATE_WINDOW_DAYS} days apart (they change no status) ({}):",
            self.suggestions.len()
        )?;
        for suggestion in &self.suggestions {
            writeln!(
                out,
                "  unacknowledged {} may be answered by unlinked {} ({} days apart)",
                suggestion.disbursement.id, suggestion.receipt.id, suggestion.days_apart
            )?;
        }
        Ok(())
    }

    /// A link's status name and words: `redacted` when the transaction it is keyed on was
    /// redacted (its amount is withheld, so the model's status, reckoned without it, would
    /// mislead), else the model's.
    fn status_of(&self, link: &Link<'_>) -> (String, String) {
        if self.redacted.target_of(link).is_some() {
            return ("redacted".to_owned(), self.redacted.link_summary(link));
        }
        (link.status().name().to_owned(), link.status().text())
    }

    /// A link in `--json`'s `links`: the model's form, and for a link keyed on a redacted
    /// transaction `redacted: true` with the `status` and `text` of [`Self::status_of`]; the
    /// model's stay under `model_status` and `model_text`.
    fn link_json(&self, link: &Link<'_>) -> Value {
        let mut value = link.to_json();
        if self.redacted.target_of(link).is_some() {
            let (status, text) = self.status_of(link);
            value["model_status"] = value["status"].take();
            value["model_text"] = value["text"].take();
            value["status"] = status.into();
            value["text"] = text.into();
            value["redacted"] = true.into();
        }
        value
    }

    /// The text form as a string.
    pub fn to_text(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_text(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The CSV form: [`CSV_HEADER`], then one row per link. Record ids, organisations and
    /// activities of a side are separated by spaces inside their field. A link in one
    /// currency has plain amounts and that currency; a link in several has `AMOUNT CUR`
    /// joined by `; ` in each amount field and the currencies joined by `;`.
    pub fn write_csv(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "{CSV_HEADER}")?;
        for link in &self.links {
            let (provider_sums, receiver_sums) = (link.provider_sums(), link.receiver_sums());
            let mut currencies: Vec<&str> = provider_sums
                .0
                .iter()
                .chain(&receiver_sums.0)
                .map(|held| held.currency.as_str())
                .collect();
            currencies.sort_unstable();
            currencies.dedup();
            let single = currencies.len() == 1;
            let ids = |entries: &mut dyn Iterator<Item = &Entry>| {
                entries
                    .map(|entry| entry.id.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let distinct = |values: Vec<&str>| {
                let mut values = values;
                values.sort_unstable();
                values.dedup();
                values.join(" ")
            };
            let (status, status_text) = self.status_of(link);
            let fields = [
                status,
                status_text,
                link.is_finding().to_string(),
                link.key().kind().to_owned(),
                link.key().text(),
                link.pair().map_or("", |pair| pair.name()).to_owned(),
                ids(&mut link.provider()),
                distinct(link.provider().map(|entry| entry.author.as_str()).collect()),
                distinct(
                    link.provider()
                        .map(|entry| entry.transaction.activity_id.as_str())
                        .collect(),
                ),
                csv_amounts(&provider_sums, single),
                ids(&mut link.receiver()),
                distinct(link.receiver().map(|entry| entry.author.as_str()).collect()),
                distinct(
                    link.receiver()
                        .map(|entry| entry.transaction.activity_id.as_str())
                        .collect(),
                ),
                csv_amounts(&receiver_sums, single),
                currencies.join(";"),
                csv_amounts(&link.difference(), single),
                link.note().unwrap_or("").to_owned(),
            ];
            let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
            writeln!(out, "{}", line.join(","))?;
        }
        Ok(())
    }

    /// The CSV form as a string.
    pub fn to_csv(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_csv(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The JSON form: the same data as the text. `head` may add fields (the network's
    /// standing). Written piece by piece, so that a million links never stand in memory as
    /// one JSON tree.
    pub fn write_json(
        &self,
        out: &mut impl Write,
        head: impl FnOnce(&mut Value),
    ) -> io::Result<()> {
        let counts: serde_json::Map<String, Value> = self
            .counts()
            .into_iter()
            .map(|(name, count)| (name.to_owned(), count.into()))
            .collect();
        let mut value = json!({
            "as_of": self.model.as_of().to_string(),
            "window_days": self.model.window_days(),
            "counts": counts,
            "redacted_transactions": self.redacted.count(),
            "redacted_corrections": self.redacted.corrections.len(),
            "redacted_text": self.redacted.text(),
            "links_with_redacted": self.links.iter().filter(|link| self.redacted_in(link) > 0).map(|link| link.key().text()).collect::<Vec<_>>(),
            "suggestions_rule": format!("equal amount, organisations and currency; value dates at most {DATE_WINDOW_DAYS} days apart; changes no status"),
        });
        head(&mut value);
        out.write_all(b"{")?;
        if let Value::Object(fields) = &value {
            for (key, field) in fields {
                serde_json::to_writer(&mut *out, key)?;
                out.write_all(b": ")?;
                serde_json::to_writer_pretty(&mut *out, field)?;
                out.write_all(b",\n")?;
            }
        }
        write_array(out, "findings", self.findings.iter().map(finding_json))?;
        out.write_all(b",\n")?;
        write_array(
            out,
            "links",
            self.links.iter().map(|link| self.link_json(link)),
        )?;
        out.write_all(b",\n")?;
        write_array(
            out,
            "commitments",
            self.model
                .commitments()
                .iter()
                .map(|question| question.to_json()),
        )?;
        out.write_all(b",\n")?;
        write_array(
            out,
            "suggestions",
            self.suggestions.iter().map(|suggestion| {
                json!({
                    "disbursement": entry_json(suggestion.disbursement),
                    "receipt": entry_json(suggestion.receipt),
                    "days_apart": suggestion.days_apart,
                })
            }),
        )?;
        out.write_all(b"}\n")
    }

    /// The JSON form as a value (for tests and small ledgers).
    pub fn to_json(&self) -> Value {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail, and what is written is JSON.
        let _ = self.write_json(&mut out, |_| {});
        serde_json::from_slice(&out).unwrap_or(Value::Null)
    }
}

/// A finding in `reconcile --json`: a link's finding carries its status, key, both sides'
/// record ids and sums and the difference, not the transactions themselves (they are under
/// `links`, found by `key`), so that JSON of a large ledger does not print them twice.
fn finding_json(finding: &Finding<'_>) -> Value {
    let Finding::Link(link) = finding else {
        return finding.to_json();
    };
    let mut value = link.status().to_json();
    let ids = |entries: &mut dyn Iterator<Item = &Entry>| -> Vec<String> {
        entries.map(|entry| entry.id.to_string()).collect()
    };
    value["finding"] = finding.name().into();
    value["finding_text"] = finding.text().into();
    value["kind"] = link.key().kind().into();
    value["key"] = link.key().text().into();
    value["pair"] = link.pair().map(|pair| pair.name()).into();
    match link.key() {
        aidledger_view::money::LinkKey::Acknowledged(target) => {
            value["target"] = target.to_string().into();
        }
        aidledger_view::money::LinkKey::Activity {
            provider_activity,
            receiver_org,
            ..
        } => {
            value["provider_activity"] = provider_activity.as_str().into();
            value["receiver_org"] = receiver_org.as_str().into();
        }
        aidledger_view::money::LinkKey::Unlinked(_) => {}
    }
    value["provider_records"] = ids(&mut link.provider()).into();
    value["receiver_records"] = ids(&mut link.receiver()).into();
    value["provider_amounts"] = link.provider_sums().to_json();
    value["receiver_amounts"] = link.receiver_sums().to_json();
    value["difference"] = link.difference().to_json();
    value
}

/// `"name": [item, item, …]`, each item written as it is made, one item a line (compact: a
/// million links pretty-printed would be gigabytes).
fn write_array<T: serde::Serialize>(
    out: &mut impl Write,
    name: &str,
    items: impl Iterator<Item = T>,
) -> io::Result<()> {
    serde_json::to_writer(&mut *out, name)?;
    out.write_all(b": [")?;
    for (number, item) in items.enumerate() {
        if number > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n")?;
        serde_json::to_writer(&mut *out, &item)?;
    }
    out.write_all(b"\n]")
}

/// A side's amounts in a CSV field: the plain amount for a one-currency link, else
/// `AMOUNT CUR; AMOUNT CUR`.
fn csv_amounts(amounts: &Amounts, single: bool) -> String {
    if single {
        return amounts
            .0
            .first()
            .map(|held| held.amount.to_string())
            .unwrap_or_default();
    }
    amounts
        .0
        .iter()
        .map(|held| format!("{} {}", held.amount, held.currency))
        .collect::<Vec<_>>()
        .join("; ")
}

/// RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}
