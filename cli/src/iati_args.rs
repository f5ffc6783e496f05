//! `iati import`'s arguments and exit codes (apart from `args.rs`, which holds the others).

use std::path::PathBuf;

use clap::Subcommand;

use crate::args::TargetArgs;

#[derive(Subcommand)]
pub(crate) enum IatiCommand {
    /// Import IATI activity files through running nodes, one activity at a time.
    #[command(after_help = IATI_IMPORT_HELP)]
    Import {
        /// The XML files (a FIFO or pipe path works too).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        target: TargetArgs,
        /// Also import activities reported by this reporting-org ref as your organisation's (repeatable).
        #[arg(long = "as-reporting-org")]
        as_reporting_orgs: Vec<String>,
        /// A JSON file mapping reporting-org refs to their own organisations' nodes
        /// ({"REF": {"data_dir": DIR} or {"submit": URL, "token_file": FILE, "public": URL}}):
        /// one run records each publisher's activities through its own node; publishers not in
        /// the map are skipped and counted. The node flags (and AIDLEDGER_DATA_DIR) are not used.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["as_reporting_orgs", "submit", "token_file", "public"])]
        org_map: Option<PathBuf>,
        /// The files are the publishers' current files: a transaction imported before for an
        /// activity a file lists, which the file no longer lists, is withdrawn (a correction
        /// without replacement). Activities a file does not list are left alone.
        #[arg(long)]
        republished: bool,
        /// Exit 1 if any value was skipped (an unreadable amount, an unmapped code, …) or an
        /// entity reference was kept as written.
        #[arg(long)]
        strict: bool,
        /// Import into a chain that holds redacted records: their IATI keys are withheld with
        /// their content, so a redacted transaction still in the file would be recorded again.
        /// Give this once the redacted transactions are out of the files.
        #[arg(long)]
        despite_redactions: bool,
        /// Print every per-line warning (else the first few; the summary counts them all by reason).
        #[arg(long)]
        verbose: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `iati import`'s exit codes, consistent with [`crate::args::EXIT_CODES_HELP`]'s meaning of 1 and 2.
pub(crate) const IATI_IMPORT_HELP: &str =
    "Exit codes: 0 imported (the summary counts what was recorded, corrected, unchanged, \
withdrawn and skipped by reason); 1 the input is not usable as asked: a file not read to its end \
(broken XML, not IATI), nothing in the input importable (e.g. 0 of 263 transactions), or with \
--strict any skipped value or entity reference kept as written; 2 could not run (missing file, \
unreadable org map, node unreachable or refusing, a map entry whose node is another organisation, \
bad arguments).";
