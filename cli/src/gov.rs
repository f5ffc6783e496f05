//! `gov propose|approve|status` and `key rotate|grant`: their flags and what each does.

use std::path::PathBuf;
use std::process::ExitCode;

use aidledger_cli::compose::record_id;
use aidledger_cli::governance::compose::{
    approval_body, compose_change, proposal_body, ProposeChange,
};
use aidledger_cli::governance::grant::GrantFile;
use aidledger_cli::governance::lookup::NodeContext;
use aidledger_cli::governance::view::{status_json, status_text};
use aidledger_cli::keys;
use aidledger_cli::source::Source;
use aidledger_spec::{Genesis, NetworkId};
use aidledger_store::datadir::Endpoints;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::args::{NetworkArgs, SourceArgs, TargetArgs, EXIT_CODES_HELP};
use crate::reading::{read_or_refuse, verdict};
use crate::setup::write_new_file;

/// `aidledger gov …`.
#[derive(Subcommand)]
pub enum GovCommand {
    /// Propose a change as an admin; prints the proposal's record id. The proposal counts as
    /// your approval and takes effect once the admin rule's threshold of admins approved it.
    Propose(ProposeArgs),
    /// Approve a proposal as an admin; prints the approval's record id.
    Approve {
        /// The proposal's record id (64 hex characters).
        proposal: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// The governance state derived from verified records: members and which key may sign
    /// which positions, the admin rule, effective steps, every proposal with its approvals, and
    /// governance records without effect.
    #[command(after_help = EXIT_CODES_HELP)]
    Status {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `gov propose CHANGE …`: the change, and flags every change takes (before or after it).
#[derive(Args)]
pub struct ProposeArgs {
    #[command(subcommand)]
    change: ProposeChange,
    /// Why, for readers.
    #[arg(long, global = true, default_value = "")]
    note: String,
    /// The proposal this one builds on (default: the node's current tip).
    #[arg(long, global = true)]
    base: Option<String>,
    #[command(flatten)]
    target: GlobalTargetArgs,
}

/// [`TargetArgs`], accepted after the change subcommand too.
#[derive(Args, Clone)]
struct GlobalTargetArgs {
    /// The running node's data directory (its endpoints.json and submit.token are read).
    #[arg(long, env = "AIDLEDGER_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// The node's submit URL, instead of --data-dir.
    #[arg(long, requires = "token_file", global = true)]
    submit: Option<String>,
    /// The file holding the submit token, with --submit.
    #[arg(long, global = true)]
    token_file: Option<PathBuf>,
    /// The node's public URL, with --submit (where the tip and the network are read).
    #[arg(long, global = true)]
    public: Option<String>,
}

impl GlobalTargetArgs {
    fn target_args(&self) -> TargetArgs {
        TargetArgs {
            data_dir: self.data_dir.clone(),
            submit: self.submit.clone(),
            token_file: self.token_file.clone(),
            public: self.public.clone(),
        }
    }
}

/// `aidledger key …`.
#[derive(Subcommand)]
pub enum KeyCommand {
    /// Rotate your organisation's signing key through its running node: the node makes a new
    /// key (keeping the old one as a backup file), records the rotation signed by the old key
    /// with the new key's proof of possession, and signs with the new key from the next record on.
    Rotate {
        #[command(flatten)]
        target: TargetArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a key grant: a new key's public half with its proof of possession, bound to one
    /// member of one network. An organisation that lost control of its key hands it to the
    /// admins for `gov propose revoke-key --replacement-grant FILE`.
    Grant {
        /// The new key's file (from `aidledger keygen`); it is read, never written.
        #[arg(long)]
        key: PathBuf,
        /// The organisation the key is granted to.
        #[arg(long)]
        member: String,
        /// The network id (64 hex characters).
        #[arg(long, required_unless_present = "genesis", conflicts_with = "genesis")]
        network_id: Option<String>,
        /// The genesis file, instead of --network-id.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Where to write the grant (default: standard output); an existing file is never overwritten.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs a `gov` command.
pub fn run_gov(command: GovCommand) -> Result<ExitCode> {
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
pub fn run_key(command: KeyCommand) -> Result<ExitCode> {
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
