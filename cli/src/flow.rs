//! `flow` and `reconcile`: the money commands (this binary module is named for the first; the
//! money model itself is `aidledger_view::money`, the commands' output the library's `money`
//! module), over the ledger of verified sources.

use std::process::ExitCode;

use std::io::Write;
use std::path::PathBuf;

use aidledger_cli::money::flow::FlowGraph;
use aidledger_cli::money::ledger::{Ledger, LedgerError, Window};
use aidledger_cli::money::reconcile::{reconcile as reconcile_ledger, Filter};
use aidledger_cli::source::Source;
use anyhow::{bail, Result};
use clap::Args;

use crate::args::NetworkArgs;
use crate::reading::{not_found, refuse, verdict};

/// `reconcile`'s exit codes: the common ones, and `--fail-on`.
pub(crate) const RECONCILE_EXIT_CODES_HELP: &str =
    "Exit codes: 0 valid and no finding named by --fail-on; 1 invalid data (a record or chain \
that does not verify, a fork, damaged bundle bytes, or a source from another network than \
--network-id) or a finding named by --fail-on occurs (a pending unacknowledged link, within the \
window, is not a finding); 2 could not run (missing file, permission, node unreachable, bad \
arguments such as an unknown --fail-on name).";

/// When money statuses are computed: the window of `unacknowledged` findings.
#[derive(Args, Clone)]
pub(crate) struct WindowArgs {
    /// A provider's transaction with no receipt is a finding (`unacknowledged`) once its value
    /// date is more than this many days before --as-of; younger ones are pending.
    #[arg(long, default_value_t = aidledger_view::money::WINDOW_DAYS_DEFAULT)]
    pub(crate) window_days: u32,
    /// The day the window ends (YYYY-MM-DD); default today (UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(crate) as_of: Option<String>,
}

impl WindowArgs {
    pub(crate) fn window(&self) -> Result<aidledger_cli::money::ledger::Window> {
        let as_of = match &self.as_of {
            Some(text) => aidledger_spec::text::Date::parse(text)
                .map_err(|error| anyhow::anyhow!("--as-of: {error}"))?,
            None => match aidledger_cli::money::today_utc() {
                Some(today) => today,
                None => bail!("the system clock gives no date; give --as-of YYYY-MM-DD"),
            },
        };
        Ok(aidledger_cli::money::ledger::Window {
            as_of,
            days: self.window_days,
        })
    }
}

/// Where flow and reconcile read from: like `SourceArgs`, but `--bundle` may be repeated
/// (bundles of several nodes of one network are read together).
#[derive(Args, Clone)]
pub(crate) struct MoneySourceArgs {
    /// A running node's public URL (http://127.0.0.1:PORT).
    #[arg(long, conflicts_with_all = ["data_dir", "bundle"])]
    node: Option<String>,
    /// A stopped node's data directory.
    #[arg(long, env = "AIDLEDGER_DATA_DIR", conflicts_with = "bundle")]
    data_dir: Option<PathBuf>,
    /// A bundle file; repeat to read several bundles of the same network.
    #[arg(long)]
    bundle: Vec<PathBuf>,
}

impl MoneySourceArgs {
    pub(crate) fn sources(&self) -> Result<Vec<Source>> {
        match (&self.node, &self.data_dir, self.bundle.is_empty()) {
            (Some(url), _, _) => Ok(vec![Source::Node(url.clone())]),
            (None, _, false) => Ok(self.bundle.iter().cloned().map(Source::Bundle).collect()),
            (None, Some(dir), true) => Ok(vec![Source::DataDir(dir.clone())]),
            (None, None, true) => {
                bail!("say where to read from: --node URL, --data-dir DIR or --bundle FILE")
            }
        }
    }
}

/// How `reconcile` prints.
pub(crate) enum Format {
    Text,
    Json,
    Csv,
}

/// What `reconcile` was asked.
pub(crate) struct ReconcileOptions {
    pub(crate) filter: Filter,
    pub(crate) window: Window,
    /// Finding names that make the exit code 1 when they occur.
    pub(crate) fail_on: Vec<&'static str>,
    pub(crate) format: Format,
}

/// Loads the ledger of the sources through the verifying reader. A source refused as invalid
/// data (another network, damaged before its genesis) is reported here and becomes `Err(exit 1)`.
fn money_ledger(
    sources: &[Source],
    network: &NetworkArgs,
    window: Window,
    json: bool,
) -> Result<std::result::Result<Ledger, ExitCode>> {
    match Ledger::load(sources, network.pinned(), window) {
        Ok(ledger) => Ok(Ok(ledger)),
        Err(LedgerError::Source(error)) => Ok(Err(refuse(error, network, json)?)),
        Err(other) => Err(other.into()),
    }
}

pub(crate) fn flow(
    activity: &str,
    sources: &[Source],
    network: &NetworkArgs,
    window: Window,
    json: bool,
) -> Result<ExitCode> {
    let ledger = match money_ledger(sources, network, window, json)? {
        Ok(ledger) => ledger,
        Err(refused) => return Ok(refused),
    };
    let graph = FlowGraph::new(&ledger);
    if !graph.knows(activity) {
        return not_found(
            &ledger.standing,
            &format!("no transaction in this source has or names activity {activity:?}"),
            json,
        );
    }
    let view = graph.view(activity)?;
    if json {
        let mut value = view.to_json();
        ledger.standing.add_to_json(&mut value);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", ledger.standing.first_line());
        print!("{}", view.to_text());
    }
    Ok(verdict(&ledger.standing, json))
}

pub(crate) fn reconcile(
    options: &ReconcileOptions,
    sources: &[Source],
    network: &NetworkArgs,
) -> Result<ExitCode> {
    let json = matches!(options.format, Format::Json);
    let ledger = match money_ledger(sources, network, options.window, json)? {
        Ok(ledger) => ledger,
        Err(refused) => return Ok(refused),
    };
    let outcome =
        reconcile_ledger(&ledger.model, &options.filter).with_redacted(ledger.redacted.clone());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match options.format {
        Format::Json => {
            outcome.write_json(&mut out, |value| ledger.standing.add_to_json(value))?;
        }
        Format::Csv => {
            // A line before the header would break CSV readers: the network goes to stderr,
            // and so do the redacted transactions no row can show.
            eprintln!("{}", ledger.standing.first_line());
            if let Some(text) = ledger.redacted.text() {
                eprintln!("redacted: {text}; in no row's sums");
            }
            outcome.write_csv(&mut out)?;
        }
        Format::Text => {
            writeln!(out, "{}", ledger.standing.first_line())?;
            outcome.write_text(&mut out)?;
        }
    }
    out.flush()?;
    drop(out);
    // Beside CSV, as beside JSON, the verdict line goes to stderr.
    let verdict = verdict(&ledger.standing, !matches!(options.format, Format::Text));
    let occurring = outcome.occurring(&options.fail_on);
    if !occurring.is_empty() {
        eprintln!(
            "reconcile: --fail-on: {} occur{} (exit 1)",
            occurring.join(", "),
            if occurring.len() == 1 { "s" } else { "" }
        );
        return Ok(ExitCode::from(1));
    }
    Ok(verdict)
}
