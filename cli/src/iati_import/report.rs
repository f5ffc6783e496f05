//! The import's summary, as text for people and as JSON for pipelines: per file and
//! organisation what was recorded, corrected, unchanged and withdrawn; what was skipped, counted
//! by reason with a few examples; and what decides the exit code.

use aidledger_spec::record::transaction_type_name;
use serde_json::{json, Value};

use super::skips::Skips;
use super::{FileReport, ImportReport, ImportWarning, OrgCounts};

/// Other publishers named per file in the text summary; the rest are counted.
pub const OTHER_PUBLISHERS_LISTED_MAX: usize = 5;

impl ImportReport {
    /// Whether every file was read to its end.
    pub fn all_read(&self) -> bool {
        self.files.iter().all(|file| file.broken.is_none())
    }

    /// The counts of every file and organisation together.
    pub fn counts(&self) -> OrgCounts {
        let mut all = OrgCounts::default();
        for file in &self.files {
            all.add(&file.counts());
        }
        all
    }

    /// Whether anything in the input was importable: recorded, corrected, found unchanged or
    /// withdrawn. `false` (0 of 263 transactions) exits 1.
    pub fn anything_importable(&self) -> bool {
        let counts = self.counts();
        counts.recorded + counts.corrections + counts.unchanged + counts.withdrawn > 0
    }

    /// Every file's skips together.
    pub fn skipped(&self) -> Skips {
        let mut all = Skips::default();
        for file in &self.files {
            all.merge(&file.skipped);
        }
        all
    }

    /// What `--strict` refuses, one line each: skipped values by reason, and entity references
    /// kept as written. Empty when strict has nothing to say. Other publishers' activities are
    /// not in it: leaving them out is what the routing asked for.
    pub fn strict_failures(&self) -> Vec<String> {
        let mut failures: Vec<String> = self
            .skipped()
            .reasons
            .iter()
            .map(|(reason, tally)| format!("{} skipped: {reason}", tally.count))
            .collect();
        let entities: u64 = self.files.iter().map(|file| file.entities.unexpanded).sum();
        if entities > 0 {
            failures.push(format!(
                "{entities} entity references kept as written (not expanded)"
            ));
        }
        failures
    }

    /// The summary as text.
    pub fn summary_text(&self) -> String {
        let mut out = String::new();
        for file in &self.files {
            file_text(self, file, &mut out);
        }
        let counts = self.counts();
        let bytes: u64 = self.files.iter().map(|file| file.bytes).sum();
        let seconds = self.elapsed.as_secs_f64().max(1e-9);
        out.push_str(&format!(
            "total: {} files, {} recorded, {} corrections, {} unchanged, {} withdrawn, {} skipped, {} files not read to the end; {:.1} MB in {:.2} s ({:.1} MB/s)\n",
            self.files.len(),
            counts.recorded,
            counts.corrections,
            counts.unchanged,
            counts.withdrawn,
            self.skipped().total(),
            self.files.iter().filter(|file| file.broken.is_some()).count(),
            bytes as f64 / 1e6,
            seconds,
            bytes as f64 / 1e6 / seconds,
        ));
        if !self.anything_importable() {
            let read: u64 = self.files.iter().map(|file| file.transactions).sum();
            out.push_str(&format!(
                "NOTHING IMPORTABLE: 0 of {read} transactions read were recorded or found recorded\n"
            ));
        }
        out
    }

    /// The summary as JSON.
    pub fn to_json(&self) -> Value {
        let files: Vec<Value> = self.files.iter().map(file_json).collect();
        let counts = self.counts();
        json!({
            "org": self.orgs.first(),
            "orgs": self.orgs,
            "org_map": self.org_map,
            "republished": self.republished,
            "files": files,
            "recorded": counts.recorded,
            "corrections": counts.corrections,
            "unchanged": counts.unchanged,
            "withdrawn": counts.withdrawn,
            "not_listed": counts.not_listed,
            "activities_recorded": counts.activities_recorded,
            "activities_unchanged": counts.activities_unchanged,
            "skipped": skips_json(&self.skipped()),
            "anything_importable": self.anything_importable(),
            "strict_failures": self.strict_failures(),
            "warnings_not_printed": self.warnings_not_printed,
            "elapsed_ms": self.elapsed.as_millis() as u64,
        })
    }
}

fn file_text(report: &ImportReport, file: &FileReport, out: &mut String) {
    out.push_str(&format!(
        "{}: {} activities, {} transactions read\n",
        file.file, file.activities, file.transactions
    ));
    for (org, counts) in &file.by_org {
        out.push_str(&format!(
            "  {org}: {} recorded, {} corrections, {} unchanged (already recorded), {} withdrawn\n",
            counts.recorded, counts.corrections, counts.unchanged, counts.withdrawn
        ));
        if counts.activities_recorded + counts.activities_unchanged > 0 {
            out.push_str(&format!(
                "    activity records (titles, places, sectors, organisations): {} recorded, {} unchanged\n",
                counts.activities_recorded, counts.activities_unchanged
            ));
        }
        if counts.not_listed > 0 {
            out.push_str(&format!(
                "    {} transactions {org} imported before for activities of this file are no longer in it and still stand; --republished withdraws them\n",
                counts.not_listed
            ));
        }
    }
    for ((code, currency), (count, sum)) in &file.totals {
        out.push_str(&format!(
            "    {code:>2} {:<20} {currency} ×{count:<6} {}\n",
            transaction_type_name(*code),
            sum
        ));
    }
    if file.skipped.total() > 0 {
        out.push_str(&format!(
            "  skipped: {} ({})\n",
            file.skipped.total(),
            file.skipped.counts_line()
        ));
        for (reason, tally) in &file.skipped.reasons {
            out.push_str(&format!("    {reason} ×{}, e.g.\n", tally.count));
            for example in &tally.examples {
                out.push_str(&format!("      {example}\n"));
            }
            let more = tally.count - tally.examples.len() as u64;
            if more > 0 {
                out.push_str(&format!("      … and {more} more\n"));
            }
        }
    }
    let org = report.orgs.first().map_or("", String::as_str);
    for (reporting, (activities, transactions)) in &file.on_behalf {
        out.push_str(&format!(
            "  recorded as {org}'s (--as-reporting-org): {activities} activities ({transactions} transactions) reported by {reporting:?}; their activity records say \"reported by {org} about {reporting}\"\n"
        ));
    }
    let others = file.other_publishers.len();
    for (reporting, (activities, transactions)) in file
        .other_publishers
        .iter()
        .take(OTHER_PUBLISHERS_LISTED_MAX)
    {
        let how = if report.org_map {
            "not in the org map".to_owned()
        } else {
            format!("not by {org}; --as-reporting-org {reporting} imports them as {org}'s")
        };
        out.push_str(&format!(
            "  not imported: {activities} activities ({transactions} transactions) reported by {reporting:?}, {how}\n"
        ));
    }
    if others > OTHER_PUBLISHERS_LISTED_MAX {
        out.push_str(&format!(
            "  not imported: … and {} more reporting organisations\n",
            others - OTHER_PUBLISHERS_LISTED_MAX
        ));
    }
    if let Some(line) = file.entities.doctype_line {
        out.push_str(&format!(
            "  WARNING: a DOCTYPE at line {line}: its entities are not expanded (external ones are never read)\n"
        ));
    }
    if let Some((line, first)) = &file.entities.first {
        out.push_str(&format!(
            "  WARNING: {} entity references kept as written, the first {first} at line {line}\n",
            file.entities.unexpanded
        ));
    }
    for notice in &file.notices {
        out.push_str(&format!("  note: {notice}\n"));
    }
    match &file.broken {
        Some(broken) => out.push_str(&format!("  NOT READ TO THE END: {broken}\n")),
        None => out.push_str("  read to the end\n"),
    }
}

fn warning_json(warning: &ImportWarning) -> Value {
    json!({"file": warning.file, "line": warning.line, "activity": warning.activity_id, "reason": warning.reason})
}

fn skips_json(skips: &Skips) -> Value {
    skips
        .reasons
        .iter()
        .map(|(reason, tally)| {
            json!({
                "reason": reason,
                "count": tally.count,
                "examples": tally.examples.iter().map(warning_json).collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn file_json(file: &FileReport) -> Value {
    let totals: Vec<Value> = file
        .totals
        .iter()
        .map(|((code, currency), (count, sum))| {
            json!({"type": code, "currency": currency, "count": count, "amount": sum.to_string()})
        })
        .collect();
    let counts = file.counts();
    let by_org: Vec<Value> = file
        .by_org
        .iter()
        .map(|(org, counts)| {
            json!({
                "org": org, "recorded": counts.recorded, "corrections": counts.corrections,
                "unchanged": counts.unchanged, "withdrawn": counts.withdrawn,
                "not_listed": counts.not_listed,
                "activities_recorded": counts.activities_recorded,
                "activities_unchanged": counts.activities_unchanged,
            })
        })
        .collect();
    json!({
        "file": file.file,
        "bytes": file.bytes,
        "activities": file.activities,
        "transactions": file.transactions,
        "recorded": counts.recorded,
        "corrections": counts.corrections,
        "unchanged": counts.unchanged,
        "withdrawn": counts.withdrawn,
        "not_listed": counts.not_listed,
        "activities_recorded": counts.activities_recorded,
        "activities_unchanged": counts.activities_unchanged,
        "by_org": by_org,
        "totals": totals,
        "skipped": skips_json(&file.skipped),
        "skipped_count": file.skipped.total(),
        "as_reporting_org": file.on_behalf.iter().map(|(org, (a, t))| json!({"reporting_org": org, "activities": a, "transactions": t})).collect::<Vec<_>>(),
        "other_publishers": file.other_publishers.iter().map(|(org, (a, t))| json!({"reporting_org": org, "activities": a, "transactions": t})).collect::<Vec<_>>(),
        "doctype_line": file.entities.doctype_line,
        "entity_references_kept": file.entities.unexpanded,
        "notices": file.notices.iter().map(warning_json).collect::<Vec<_>>(),
        "broken": file.broken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iati_import::FileReport;
    use std::time::Duration;

    fn example(line: u64) -> ImportWarning {
        ImportWarning {
            file: "legacy.xml".to_owned(),
            line,
            activity_id: "XM-1".to_owned(),
            reason: "legacy IATI 1.0x transaction-type code \"C\"".to_owned(),
        }
    }

    fn report(files: Vec<FileReport>) -> ImportReport {
        ImportReport {
            orgs: vec!["XM-DAC-7".to_owned()],
            org_map: false,
            republished: false,
            files,
            warnings_not_printed: 0,
            elapsed: Duration::from_millis(5),
        }
    }

    #[test]
    fn nothing_importable_is_one_line_per_reason_not_per_transaction() {
        let mut file = FileReport {
            file: "legacy.xml".to_owned(),
            activities: 1,
            transactions: 263,
            ..FileReport::default()
        };
        file.by_org
            .insert("XM-DAC-7".to_owned(), OrgCounts::default());
        for line in 0..263 {
            file.skipped.add("legacy-transaction-type", example(line));
        }
        let report = report(vec![file]);
        assert!(!report.anything_importable());
        let text = report.summary_text();
        assert!(text.contains("legacy-transaction-type ×263"), "{text}");
        assert!(text.contains("… and 260 more"), "{text}");
        assert!(text.contains("NOTHING IMPORTABLE: 0 of 263"), "{text}");
        assert!(text.lines().count() < 20, "{text}");
        assert_eq!(
            report.strict_failures(),
            ["263 skipped: legacy-transaction-type"]
        );
        let json = report.to_json();
        assert_eq!(json["skipped"][0]["count"], 263);
        assert_eq!(json["skipped"][0]["examples"].as_array().unwrap().len(), 3);
        assert_eq!(json["anything_importable"], false);
    }

    #[test]
    fn counts_add_up_per_org_and_strict_sees_entities() {
        let mut file = FileReport::default();
        file.by_org.insert(
            "A".to_owned(),
            OrgCounts {
                recorded: 2,
                unchanged: 1,
                ..OrgCounts::default()
            },
        );
        file.by_org.insert(
            "B".to_owned(),
            OrgCounts {
                withdrawn: 1,
                not_listed: 3,
                ..OrgCounts::default()
            },
        );
        // Sums keep the scale the amounts were written with (1000.50 + 0.50 is 1001.00).
        let sum = "1000.50".parse::<rust_decimal::Decimal>().unwrap()
            + "0.50".parse::<rust_decimal::Decimal>().unwrap();
        file.totals.insert((3, "EUR".to_owned()), (2, sum));
        file.entities.unexpanded = 2;
        file.entities.first = Some((7, "&org;".to_owned()));
        let report = report(vec![file]);
        assert!(report.anything_importable());
        let counts = report.counts();
        assert_eq!(
            (counts.recorded, counts.unchanged, counts.withdrawn),
            (2, 1, 1)
        );
        assert_eq!(
            report.strict_failures(),
            ["2 entity references kept as written (not expanded)"]
        );
        let text = report.summary_text();
        assert!(
            text.contains(
                "  B: 0 recorded, 0 corrections, 0 unchanged (already recorded), 1 withdrawn"
            ),
            "{text}"
        );
        assert!(text.contains("3 transactions B imported before"), "{text}");
        assert!(text.contains("first &org; at line 7"), "{text}");
        assert!(text.contains("EUR ×2      1001.00"), "{text}");
        assert_eq!(
            report.to_json()["files"][0]["totals"][0]["amount"],
            "1001.00"
        );
    }
}
