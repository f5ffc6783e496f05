//! What was not imported, counted by reason with a few examples each, and the per-line warnings
//! on standard error: every one with `--verbose`, else the first [`WARNINGS_PRINTED_MAX`] and a
//! count of the rest (a file of 263 near-identical problems says so in one summary line).

use std::collections::BTreeMap;

use aidledger_iati::WarningReason;

use super::ImportWarning;

/// Examples kept per reason for the summary.
pub const SKIP_EXAMPLES_MAX: usize = 3;
/// Warning lines printed to standard error without `--verbose`.
pub const WARNINGS_PRINTED_MAX: u64 = 10;

/// The reason of a transaction met twice in one file (same import key).
pub const DUPLICATE_KEY: &str = "duplicate-import-key";

/// One reason: how many, and the first few.
#[derive(Clone, Debug, Default)]
pub struct ReasonTally {
    /// How many transactions (or elements) were skipped for it.
    pub count: u64,
    /// The first [`SKIP_EXAMPLES_MAX`], with file, line and activity.
    pub examples: Vec<ImportWarning>,
}

/// Skips by reason, in reason order.
#[derive(Clone, Debug, Default)]
pub struct Skips {
    /// reason slug → tally.
    pub reasons: BTreeMap<&'static str, ReasonTally>,
}

impl Skips {
    /// Counts one skip; keeps it as an example while there are fewer than the maximum.
    pub fn add(&mut self, reason: &'static str, warning: ImportWarning) {
        let tally = self.reasons.entry(reason).or_default();
        tally.count += 1;
        if tally.examples.len() < SKIP_EXAMPLES_MAX {
            tally.examples.push(warning);
        }
    }

    /// How many were skipped, all reasons together.
    pub fn total(&self) -> u64 {
        self.reasons.values().map(|tally| tally.count).sum()
    }

    /// Adds another file's skips.
    pub fn merge(&mut self, other: &Skips) {
        for (reason, tally) in &other.reasons {
            let mine = self.reasons.entry(reason).or_default();
            mine.count += tally.count;
            let room = SKIP_EXAMPLES_MAX.saturating_sub(mine.examples.len());
            mine.examples
                .extend(tally.examples.iter().take(room).cloned());
        }
    }

    /// `reason ×count, …`, for one line.
    pub fn counts_line(&self) -> String {
        self.reasons
            .iter()
            .map(|(reason, tally)| format!("{reason} ×{}", tally.count))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A short stable name for a reason, the key of the summary's counts (JSON `skipped[].reason`).
pub fn reason_slug(reason: &WarningReason) -> &'static str {
    match reason {
        WarningReason::MissingActivityIdentifier => "missing-activity-identifier",
        WarningReason::MissingReportingOrg => "missing-reporting-org",
        WarningReason::ActivityTooLarge { .. } => "activity-too-large",
        WarningReason::DuplicateElement { .. } => "duplicate-element",
        WarningReason::MissingTransactionType => "missing-transaction-type",
        WarningReason::LegacyTransactionType(_) => "legacy-transaction-type",
        WarningReason::UnknownTransactionType(_) => "unknown-transaction-type",
        WarningReason::MissingValue => "missing-value",
        WarningReason::UnparseableValue { .. } => "unparseable-value",
        WarningReason::MissingCurrency => "missing-currency",
        WarningReason::UnknownCurrency(_) => "unknown-currency",
        WarningReason::MissingDate => "missing-date",
        WarningReason::BadDate { .. } => "bad-date",
        WarningReason::InvalidField(_) => "invalid-field",
        WarningReason::ActivityField { .. } => "activity-field-left-out",
        // The reader's reasons are non-exhaustive; a new one is still counted.
        _ => "other",
    }
}

/// Prints warning lines to standard error as they are found, up to the cap unless verbose.
#[derive(Debug, Default)]
pub struct WarningPrinter {
    verbose: bool,
    printed: u64,
    suppressed: u64,
}

impl WarningPrinter {
    /// A printer; `verbose` prints every line.
    pub fn new(verbose: bool) -> WarningPrinter {
        WarningPrinter {
            verbose,
            ..WarningPrinter::default()
        }
    }

    /// Prints one warning, or counts it as not printed.
    pub fn print(&mut self, warning: &ImportWarning) {
        if self.verbose || self.printed < WARNINGS_PRINTED_MAX {
            eprintln!("warning: {warning}");
            self.printed += 1;
        } else {
            self.suppressed += 1;
        }
    }

    /// How many were not printed.
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(line: u64) -> ImportWarning {
        ImportWarning {
            file: "f.xml".to_owned(),
            line,
            activity_id: "XM-1".to_owned(),
            reason: "legacy".to_owned(),
        }
    }

    #[test]
    fn many_skips_keep_a_count_and_a_few_examples() {
        let mut skips = Skips::default();
        for line in 0..263 {
            skips.add("legacy-transaction-type", warning(line));
        }
        skips.add("unparseable-value", warning(999));
        let tally = &skips.reasons["legacy-transaction-type"];
        assert_eq!(tally.count, 263);
        assert_eq!(tally.examples.len(), SKIP_EXAMPLES_MAX);
        assert_eq!(tally.examples[0].line, 0);
        assert_eq!(skips.total(), 264);
        assert_eq!(
            skips.counts_line(),
            "legacy-transaction-type ×263, unparseable-value ×1"
        );
        let mut all = Skips::default();
        all.merge(&skips);
        all.merge(&skips);
        assert_eq!(all.reasons["legacy-transaction-type"].count, 526);
        assert_eq!(
            all.reasons["legacy-transaction-type"].examples.len(),
            SKIP_EXAMPLES_MAX
        );
    }

    #[test]
    fn the_printer_stops_at_the_cap_unless_verbose() {
        let mut quiet = WarningPrinter::new(false);
        let mut verbose = WarningPrinter::new(true);
        for line in 0..25 {
            quiet.print(&warning(line));
            verbose.print(&warning(line));
        }
        assert_eq!(quiet.suppressed(), 25 - WARNINGS_PRINTED_MAX);
        assert_eq!(verbose.suppressed(), 0);
    }

    #[test]
    fn slugs_name_the_reasons() {
        assert_eq!(
            reason_slug(&WarningReason::LegacyTransactionType("C".to_owned())),
            "legacy-transaction-type"
        );
        assert_eq!(reason_slug(&WarningReason::MissingDate), "missing-date");
        let left_out = WarningReason::ActivityField {
            field: "titles[1].text".to_owned(),
            problem: "too long".to_owned(),
        };
        assert_eq!(reason_slug(&left_out), "activity-field-left-out");
    }
}
