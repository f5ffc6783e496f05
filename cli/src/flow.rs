//! `flow` and `reconcile`: the money commands (this binary module is named for the first; the
//! money model itself is the library's `money` module), over the ledger of verified sources.

use std::process::ExitCode;

use aidledger_cli::money::flow::FlowGraph;
use aidledger_cli::money::ledger::{Ledger, LedgerError};
use aidledger_cli::money::reconcile::{reconcile as reconcile_ledger, Filter};
use aidledger_cli::source::Source;
use anyhow::Result;

use crate::args::NetworkArgs;
use crate::reading::{not_found, refuse, verdict};

/// How `reconcile` prints.
pub(crate) enum Format {
    Text,
    Json,
    Csv,
}

/// Loads the ledger of the sources through the verifying reader. A source refused as invalid
/// data (another network, damaged before its genesis) is reported here and becomes `Err(exit 1)`.
fn money_ledger(
    sources: &[Source],
    network: &NetworkArgs,
    json: bool,
) -> Result<std::result::Result<Ledger, ExitCode>> {
    match Ledger::load(sources, network.pinned()) {
        Ok(ledger) => Ok(Ok(ledger)),
        Err(LedgerError::Source(error)) => Ok(Err(refuse(error, network, json)?)),
        Err(other) => Err(other.into()),
    }
}

pub(crate) fn flow(
    activity: &str,
    sources: &[Source],
    network: &NetworkArgs,
    json: bool,
) -> Result<ExitCode> {
    let ledger = match money_ledger(sources, network, json)? {
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
    filter: &Filter,
    sources: &[Source],
    network: &NetworkArgs,
    format: Format,
) -> Result<ExitCode> {
    let json = matches!(format, Format::Json);
    let ledger = match money_ledger(sources, network, json)? {
        Ok(ledger) => ledger,
        Err(refused) => return Ok(refused),
    };
    let outcome = reconcile_ledger(&ledger, filter)?;
    match format {
        Format::Json => {
            let mut value = outcome.to_json();
            ledger.standing.add_to_json(&mut value);
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Csv => {
            // A line before the header would break CSV readers: the network goes to stderr.
            eprintln!("{}", ledger.standing.first_line());
            print!("{}", outcome.to_csv());
        }
        Format::Text => {
            println!("{}", ledger.standing.first_line());
            print!("{}", outcome.to_text());
        }
    }
    // Beside CSV, as beside JSON, the verdict line goes to stderr.
    Ok(verdict(&ledger.standing, !matches!(format, Format::Text)))
}
