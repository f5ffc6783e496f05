//! The import's summary, as text for people and as JSON for pipelines.

use aidledger_spec::record::transaction_type_name;
use serde_json::{json, Value};

use super::{FileReport, ImportReport};

impl ImportReport {
    /// Whether every file was read to its end.
    pub fn all_read(&self) -> bool {
        self.files.iter().all(|file| file.broken.is_none())
    }

    /// The summary as text.
    pub fn summary_text(&self) -> String {
        let mut out = String::new();
        for file in &self.files {
            out.push_str(&format!(
                "{}: {} activities, {} transactions read\n",
                file.file, file.activities, file.transactions
            ));
            out.push_str(&format!(
                "  as {}: {} recorded, {} corrections, {} unchanged (already recorded)\n",
                self.org, file.recorded, file.corrections, file.unchanged
            ));
            for ((code, currency), (count, sum)) in &file.totals {
                out.push_str(&format!(
                    "    {code:>2} {:<20} {currency} ×{count:<6} {}\n",
                    transaction_type_name(*code),
                    sum.normalize()
                ));
            }
            for (reporting, (activities, transactions)) in &file.skipped {
                out.push_str(&format!(
                    "  not imported: {activities} activities ({transactions} transactions) reported by {reporting:?}, not by {}; add --as-reporting-org {reporting} to import them as {}\n",
                    self.org, self.org
                ));
            }
            out.push_str(&format!("  warnings: {}\n", file.warnings.len()));
            match &file.broken {
                Some(broken) => out.push_str(&format!("  NOT READ TO THE END: {broken}\n")),
                None => out.push_str("  read to the end\n"),
            }
        }
        let sum = |field: fn(&FileReport) -> u64| self.files.iter().map(field).sum::<u64>();
        let bytes = sum(|file| file.bytes);
        let seconds = self.elapsed.as_secs_f64().max(1e-9);
        out.push_str(&format!(
            "total: {} files, {} recorded, {} corrections, {} unchanged, {} warnings, {} files not read to the end; {:.1} MB in {:.2} s ({:.1} MB/s)\n",
            self.files.len(),
            sum(|file| file.recorded),
            sum(|file| file.corrections),
            sum(|file| file.unchanged),
            self.files.iter().map(|file| file.warnings.len()).sum::<usize>(),
            self.files.iter().filter(|file| file.broken.is_some()).count(),
            bytes as f64 / 1e6,
            seconds,
            bytes as f64 / 1e6 / seconds,
        ));
        out
    }

    /// The summary as JSON.
    pub fn to_json(&self) -> Value {
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|file| {
                let totals: Vec<Value> = file
                    .totals
                    .iter()
                    .map(|((code, currency), (count, sum))| {
                        json!({"type": code, "currency": currency, "count": count, "amount": sum.normalize().to_string()})
                    })
                    .collect();
                json!({
                    "file": file.file,
                    "bytes": file.bytes,
                    "activities": file.activities,
                    "transactions": file.transactions,
                    "recorded": file.recorded,
                    "corrections": file.corrections,
                    "unchanged": file.unchanged,
                    "totals": totals,
                    "skipped": file.skipped.iter().map(|(org, (a, t))| json!({"reporting_org": org, "activities": a, "transactions": t})).collect::<Vec<_>>(),
                    "warnings": file.warnings.iter().map(|w| json!({"file": w.file, "line": w.line, "activity": w.activity_id, "reason": w.reason})).collect::<Vec<_>>(),
                    "broken": file.broken,
                })
            })
            .collect();
        json!({ "org": self.org, "files": files, "elapsed_ms": self.elapsed.as_millis() as u64 })
    }
}
