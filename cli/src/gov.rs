//! `gov propose|approve|status` and `key rotate|grant`: what each does (their flags are in
//! `args.rs` with every other command's).

use std::path::PathBuf;
use std::process::ExitCode;

use aidledger_cli::compose::record_id;
use aidledger_cli::governance::compose::{approval_body, compose_change, proposal_body};
use aidledger_cli::governance::grant::GrantFile;
use aidledger_cli::governance::lookup::NodeContext;
use aidledger_cli::governance::view::{status_json, status_text};
use aidledger_cli::keys;
use aidledger_cli::source::Source;
use aidledger_spec::{Genesis, NetworkId};
use aidledger_store::datadir::Endpoints;
use anyhow::{Context, Result};

use crate::args::{GovCommand, KeyCommand, NetworkArgs, ProposeArgs, SourceArgs};
use crate::reading::{read_or_refuse, verdict};
use crate::setup::write_new_file;

/// Runs a `gov` command.
pub(crate) fn run_gov(command: GovCommand) -> Result<ExitCode> {
    match command {
        GovCommand::Propose(args) => propose(args),
        GovCommand::Approve { proposal, target } => {
            let proposal = record_id("PROPOSAL_ID", &proposal)?;
            let (id, seq) = target.target()?.submit(&approval_body(proposal))?;
            eprintln!("recorded approval of {proposal} at seq {seq}");
            println!("{id}");
            Ok(ExitCode::SUCCESS)
        }
        GovCommand::Status {
            source,
            network,
            json,
        } => status(&source, &network, json),
    }
}

fn propose(args: ProposeArgs) -> Result<ExitCode> {
    let target = args.target.target_args().target()?;
    let mut context = NodeContext::new(target.public_url.clone());
    let change = compose_change(&args.change, &mut context)?;
    let base = match &args.base {
        Some(hex) => record_id("--base", hex)?,
        None => context.tip()?,
    };
    let summary = change.summary();
    let body = proposal_body(base, change, args.note)?;
    let (id, seq) = target.submit(&body)?;
    eprintln!("recorded proposal at seq {seq} on base {base}: {summary}");
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// The governance state as the verifying reader derives it from the whole source: a source
/// that does not verify (governance records out of order, damaged bytes, another network) is
/// reported as such and exits 1, whatever its governance section says.
fn status(source: &SourceArgs, network: &NetworkArgs, json: bool) -> Result<ExitCode> {
    let source = readable(source.source()?)?;
    let checked = match read_or_refuse(&source, network, json, |_| {})? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused),
    };
    let derivation = checked.derivation();
    if json {
        let mut value = status_json(&checked.genesis, &derivation);
        checked.standing.add_to_json(&mut value);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", checked.standing.first_line());
        print!("{}", status_text(&derivation));
    }
    Ok(verdict(&checked.standing, json))
}

/// The source itself, or for the data directory of a running node (whose store it holds
/// locked), that node's public API: the records are verified here either way.
fn readable(source: Source) -> Result<Source> {
    let Source::DataDir(dir) = &source else {
        return Ok(source);
    };
    match source.genesis() {
        Ok(_) => Ok(source),
        Err(error) => match Endpoints::read(dir) {
            Ok(endpoints) => Ok(Source::Node(endpoints.public)),
            Err(_) => Err(error.into()),
        },
    }
}

/// Runs a `key` command.
pub(crate) fn run_key(command: KeyCommand) -> Result<ExitCode> {
    match command {
        KeyCommand::Rotate { target, json } => {
            let rotated = target.target()?.rotate_key()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rotated)?);
            } else {
                eprintln!(
                    "rotated the signing key at seq {}; the new key signs from seq {} on",
                    rotated.seq,
                    rotated.seq + 1
                );
                println!(
                    "rotation {}\nseq      {}\nnew key  {}",
                    rotated.id, rotated.seq, rotated.new_key
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::Grant {
            key,
            member,
            network_id,
            genesis,
            out,
        } => grant(&key, &member, network_id.as_deref(), genesis, out),
    }
}

fn grant(
    key_path: &std::path::Path,
    member: &str,
    network_id: Option<&str>,
    genesis: Option<PathBuf>,
    out: Option<PathBuf>,
) -> Result<ExitCode> {
    let network_id = match (network_id, genesis) {
        (Some(hex), _) => NetworkId::from_hex(hex).context("--network-id")?,
        (None, Some(path)) => {
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            Genesis::decode(&bytes)
                .with_context(|| format!("{} is not a genesis", path.display()))?
                .network_id()
        }
        (None, None) => anyhow::bail!("give the network: --network-id HEX or --genesis FILE"),
    };
    aidledger_spec::text::check_org_id("--member", member)?;
    let key = keys::read_key_file(key_path)?;
    let grant = GrantFile::prove(network_id, member, &key);
    match out {
        Some(path) => {
            write_new_file(&path, grant.to_text().as_bytes())?;
            eprintln!(
                "granted key {} to {member} of network {network_id}: {}",
                grant.key,
                path.display()
            );
        }
        None => print!("{}", grant.to_text()),
    }
    Ok(ExitCode::SUCCESS)
}
