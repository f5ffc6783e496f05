//! The commands and their flags (clap), and what each one does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aidledger_cli::audit::{audit, audit_json, audit_text};
use aidledger_cli::checked::{
    network_line, read_checked, refusal_json, refusal_text, CheckError, Checked, Standing,
};
use aidledger_cli::compose::{self, TransactionArgs};
use aidledger_cli::export::export_bundle;
use aidledger_cli::governance::lookup::governed_verifier;
use aidledger_cli::governance::view::revocation_text;
use aidledger_cli::money::ledger::{Ledger, LedgerError};
use aidledger_cli::pipeline::SignatureMode;
use aidledger_cli::provenance::{provenance_json, provenance_text, trace};
use aidledger_cli::source::Source;
use aidledger_cli::submit::SubmitTarget;
use aidledger_cli::{describe, keys, network};
use aidledger_spec::record::{
    Correction, Replacement, Statement, TextVersion, TreatyAction, TreatyActionKind, TreatyText,
};
use aidledger_spec::verify::{RejectedRecord, Verifier};
use aidledger_spec::{Body, NetworkId, RecordId, Rejection};
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

/// aidledger: auditable records of international aid and agreements, signed by the
/// organisations that make them and verifiable by anyone who knows the network id.
#[derive(Parser)]
#[command(name = "aidledger", version, about, long_about = None, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new organisation signing key (file readable by you only) and print its public key.
    Keygen {
        /// Where to write the key; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Your organisation's signing key: rotate it through your node, or grant a new key after a compromise.
    #[command(subcommand)]
    Key(crate::gov::KeyCommand),
    /// Set up a network.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Governance: propose and approve changes to the membership, roles, keys and admin rule, and show the state.
    #[command(subcommand)]
    Gov(Box<crate::gov::GovCommand>),
    /// Record something through your organisation's running node; prints the new record id.
    #[command(subcommand)]
    Record(Box<RecordCommand>),
    /// Show one record, verified against the network's genesis (the whole source is verified,
    /// as `verify` does; exit 1 if the record is not valid or the source is not).
    #[command(after_help = EXIT_CODES_HELP)]
    Show {
        /// The record id (64 hex characters).
        id: String,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List an organisation's chain, newest first (the whole source is verified, as `verify`
    /// does; exit 1 if it is not valid).
    #[command(after_help = EXIT_CODES_HELP)]
    Log {
        /// The organisation id.
        org: String,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        /// How many records to show (at most 1000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Show records with a sequence number below this one (for the next page).
        #[arg(long)]
        before_seq: Option<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a self-contained bundle (genesis, every record, equivocation proofs) that anyone can verify offline.
    /// The records are copied, not verified; damaged input bytes or another network exit 1.
    #[command(after_help = EXIT_CODES_HELP)]
    Export {
        /// The bundle file to write.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
    },
    /// Verify every signature, hash and chain link of a data directory, a node or a bundle.
    #[command(after_help = EXIT_CODES_HELP)]
    Verify {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
        /// Verify every signature on its own instead of in batches: the same verdicts on every
        /// input (FORMAT.md 7.1, 15), about three times slower; for cross-checking.
        #[arg(long)]
        strict: bool,
    },
    /// Trace a record: signer, key, chain position and integrity, acknowledgements, corrections, treaty actions.
    /// Exit 0 = found and its chain is intact, 1 = its chain is broken or forked or the source
    /// is invalid, 2 = not found or could not run.
    #[command(after_help = EXIT_CODES_HELP)]
    Provenance {
        /// The record id.
        id: String,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a running node's view of the network: peers, heads per organisation, records behind, forks.
    /// Exit 0 = no fork known, 1 = a chain is forked, 2 = could not run.
    Status {
        /// The node's public URL (http://127.0.0.1:PORT).
        #[arg(long)]
        node: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a three-organisation network on loopback (donor, partner, auditor), record a story,
    /// replicate, verify every node, and keep it running until Ctrl-C or SIGTERM (which stop
    /// its nodes too).
    Demo {
        /// Work in this directory (default: a new temporary directory); refused if it already
        /// holds a demo network, unless --fresh. Node logs: DIR/ORG.node.log.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Delete the demo network already in --dir (its keys, genesis, nodes and logs) first.
        #[arg(long, requires = "dir")]
        fresh: bool,
        /// Stop after the checks; exit 0 only if all passed.
        #[arg(long)]
        once: bool,
        /// Serve the donor node's public API and explorer on this port (default: any free port).
        #[arg(long)]
        explorer_port: Option<u16>,
    },
    /// Import IATI activity files into your organisation's chain (idempotent; changed values become corrections).
    #[command(subcommand)]
    Iati(IatiCommand),
    /// The tree of money around an activity: who funded it, whom it paid, through linked activities.
    #[command(after_help = EXIT_CODES_HELP)]
    Flow {
        /// The IATI activity identifier.
        activity: String,
        #[command(flatten)]
        source: MoneySourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Match providers' disbursements to receivers' incoming funds and list what is unmatched.
    /// With --csv the network line goes to standard error, so the CSV stays plain.
    #[command(after_help = EXIT_CODES_HELP)]
    Reconcile {
        /// Only disbursements by (and incoming funds from) this organisation.
        #[arg(long)]
        provider: Option<String>,
        /// Only disbursements to (and incoming funds of) this organisation.
        #[arg(long)]
        receiver: Option<String>,
        #[command(flatten)]
        source: MoneySourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        /// Print JSON.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV, one row per match or unmatched transaction.
        #[arg(long)]
        csv: bool,
    },
    /// Run a scripted single-node walk-through: keys, a network, a node, one record of each kind, export, verify.
    Walkthrough {
        /// Work in this directory (default: a new temporary directory, removed afterwards).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum IatiCommand {
    /// Import IATI 2.0x activity files through a running node, one activity at a time.
    Import {
        /// The XML files (a FIFO or pipe path works too).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        target: TargetArgs,
        /// Also import activities reported by this reporting-org ref as your organisation's (repeatable).
        #[arg(long = "as-reporting-org")]
        as_reporting_orgs: Vec<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Where flow and reconcile read from: like [`SourceArgs`], but `--bundle` may be repeated
/// (bundles of several nodes of one network are read together).
#[derive(Args, Clone)]
struct MoneySourceArgs {
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
    fn sources(&self) -> Result<Vec<Source>> {
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

#[derive(Subcommand)]
enum NetworkCommand {
    /// Write a genesis from a members file and print the network id.
    Init {
        /// The network's name.
        #[arg(long)]
        name: String,
        /// JSON: [{"id","name","roles":["donor"|"implementer"|"recipient-government"|"auditor"|"observer"],"signing_keys":["HEX"],"node_keys":["HEX"]}].
        #[arg(long)]
        members: PathBuf,
        /// Admin organisations, comma-separated (default: every member).
        #[arg(long, value_delimiter = ',')]
        admins: Option<Vec<String>>,
        /// How many admins must approve a change (default: a majority).
        #[arg(long)]
        threshold: Option<u16>,
        /// Where to write the genesis.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Where records are read from.
#[derive(Args, Clone)]
pub(crate) struct SourceArgs {
    /// A running node's public URL (http://127.0.0.1:PORT).
    #[arg(long, conflicts_with_all = ["data_dir", "bundle"])]
    node: Option<String>,
    /// A stopped node's data directory.
    #[arg(long, env = "AIDLEDGER_DATA_DIR", conflicts_with = "bundle")]
    data_dir: Option<PathBuf>,
    /// A bundle file.
    #[arg(long)]
    bundle: Option<PathBuf>,
}

impl SourceArgs {
    pub(crate) fn source(&self) -> Result<Source> {
        match (&self.node, &self.data_dir, &self.bundle) {
            (Some(url), _, _) => Ok(Source::Node(url.clone())),
            (None, _, Some(path)) => Ok(Source::Bundle(path.clone())),
            (None, Some(dir), None) => Ok(Source::DataDir(dir.clone())),
            (None, None, None) => {
                bail!("say where to read from: --node URL, --data-dir DIR or --bundle FILE")
            }
        }
    }
}

/// The exit codes of every command that reads a source, shown under each one's `--help`.
pub(crate) const EXIT_CODES_HELP: &str =
    "Exit codes: 0 valid; 1 invalid data (a record or chain that does not verify, a fork, \
damaged bundle bytes such as a truncated file, bad magic, wrong end counts, trailing bytes or an \
undecodable genesis, or a source from another network than --network-id); 2 could not run \
(missing file, permission, node unreachable, bad arguments).";

/// The network an auditor trusts: one flag for every command that reads a source.
#[derive(Args, Clone)]
pub(crate) struct NetworkArgs {
    /// The network id you trust (64 hex characters). A source whose genesis hashes to another id
    /// is refused (exit 1); without it the source's own genesis is trusted, and the first line
    /// of the output says the network was not pinned.
    #[arg(long = "network-id", env = "AIDLEDGER_NETWORK_ID", value_name = "HEX", value_parser = parse_network_id)]
    network_id: Option<NetworkId>,
}

impl NetworkArgs {
    /// The pinned network id, if one was given.
    pub(crate) fn pinned(&self) -> Option<NetworkId> {
        self.network_id
    }
}

fn parse_network_id(text: &str) -> Result<NetworkId, String> {
    NetworkId::from_hex(text)
        .map_err(|error| format!("not a network id (64 hex characters): {error}"))
}

/// Reads `source` through the one verifying reader. A source refused as invalid data (another
/// network, bytes damaged before its genesis) is reported here, text or JSON, and comes back as
/// `Err(exit 1)`; a source that could not be read is an error (exit 2).
pub(crate) fn read_or_refuse(
    source: &Source,
    network: &NetworkArgs,
    json: bool,
    observe: impl FnMut(&aidledger_spec::VerifiedRecord),
) -> Result<std::result::Result<Checked, ExitCode>> {
    match read_checked(source, network.pinned(), SignatureMode::Batch, observe) {
        Ok(checked) => Ok(Ok(checked)),
        Err(error) => Ok(Err(refuse(error, network, json)?)),
    }
}

/// Prints why a source was refused as invalid data and returns exit 1; any other error is
/// passed on (exit 2).
fn refuse(error: CheckError, network: &NetworkArgs, json: bool) -> Result<ExitCode> {
    let printed = if json {
        refusal_json(&error, network.pinned())
            .map(|value| serde_json::to_string_pretty(&value))
            .transpose()?
            .map(|text| text + "\n")
    } else {
        refusal_text(&error)
    };
    match printed {
        Some(text) => {
            print!("{text}");
            Ok(ExitCode::from(1))
        }
        None => Err(error.into()),
    }
}

/// Ends a reading command: says why the source is invalid, if it is (on standard output for
/// text, on standard error beside JSON, whose `source_valid` says it), and gives the exit code.
pub(crate) fn verdict(standing: &Standing, json: bool) -> ExitCode {
    match standing.invalid_line() {
        None => ExitCode::SUCCESS,
        Some(line) => {
            if json {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
            ExitCode::from(1)
        }
    }
}

/// Where records are written: a running node.
#[derive(Args, Clone)]
pub(crate) struct TargetArgs {
    /// The running node's data directory (its endpoints.json and submit.token are read).
    #[arg(long, env = "AIDLEDGER_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// The node's submit URL, instead of --data-dir.
    #[arg(long, requires = "token_file")]
    pub(crate) submit: Option<String>,
    /// The file holding the submit token, with --submit.
    #[arg(long)]
    pub(crate) token_file: Option<PathBuf>,
    /// The node's public URL, with --submit (needed by treaty-action and correction).
    #[arg(long)]
    pub(crate) public: Option<String>,
}

impl TargetArgs {
    pub(crate) fn target(&self) -> Result<SubmitTarget> {
        match (&self.submit, &self.token_file, &self.data_dir) {
            (Some(url), Some(token_file), _) => Ok(SubmitTarget::from_url(
                url.clone(),
                token_file,
                self.public.clone(),
            )?),
            (_, _, Some(dir)) => Ok(SubmitTarget::from_data_dir(dir)?),
            _ => bail!("say which node records: --data-dir DIR, or --submit URL --token-file FILE"),
        }
    }
}

#[derive(Subcommand)]
enum RecordCommand {
    /// Record a transaction (IATI transaction types; exact decimal amounts).
    Transaction {
        #[command(flatten)]
        target: TargetArgs,
        /// The IATI activity identifier.
        #[arg(long)]
        activity: String,
        /// IATI TransactionType: a code 1-13 or a name such as disbursement, incoming-funds, outgoing-commitment.
        #[arg(long = "type")]
        transaction_type: String,
        /// The amount, an exact decimal such as 1234.56 or -250.5 (no exponents, no separators).
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// ISO 4217 currency code from the IATI codelist.
        #[arg(long)]
        currency: String,
        /// The value date, YYYY-MM-DD.
        #[arg(long)]
        value_date: String,
        /// The transaction date, YYYY-MM-DD (default: the value date).
        #[arg(long)]
        date: Option<String>,
        /// Provider organisation reference.
        #[arg(long)]
        provider_org: Option<String>,
        /// Provider organisation name.
        #[arg(long)]
        provider_name: Option<String>,
        /// Provider's activity id.
        #[arg(long)]
        provider_activity: Option<String>,
        /// Receiver organisation reference.
        #[arg(long)]
        receiver_org: Option<String>,
        /// Receiver organisation name.
        #[arg(long)]
        receiver_name: Option<String>,
        /// Receiver's activity id.
        #[arg(long)]
        receiver_activity: Option<String>,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
        /// The provider's record this one acknowledges (a receipt of funds).
        #[arg(long)]
        acknowledges: Option<String>,
    },
    /// Record a treaty text, one or more equally authentic language versions.
    Treaty {
        #[command(flatten)]
        target: TargetArgs,
        /// Title.
        #[arg(long)]
        title: String,
        /// A party (member organisation id); repeat for each.
        #[arg(long = "party", required = true)]
        parties: Vec<String>,
        /// A language version: LANG=FILE (UTF-8 text); repeat for each language.
        #[arg(long = "text", required = true)]
        texts: Vec<String>,
        /// The treaty record this text replaces.
        #[arg(long)]
        supersedes: Option<String>,
    },
    /// Record your organisation's action on a treaty text (bound to the text's exact hash).
    TreatyAction {
        #[command(flatten)]
        target: TargetArgs,
        /// The treaty record id.
        #[arg(long)]
        treaty: String,
        /// sign, ratify, accede or withdraw.
        #[arg(long)]
        action: String,
        /// The date of the action, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Reservations or declarations.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record an official statement.
    Statement {
        #[command(flatten)]
        target: TargetArgs,
        /// Title.
        #[arg(long)]
        title: String,
        /// Language tag such as en.
        #[arg(long, default_value = "en")]
        language: String,
        /// The statement text.
        #[arg(long, conflicts_with = "text_file")]
        text: Option<String>,
        /// A file holding the statement text.
        #[arg(long)]
        text_file: Option<PathBuf>,
    },
    /// Record a correction of one of your organisation's records; without replacement values it withdraws the record.
    Correction {
        #[command(flatten)]
        target: TargetArgs,
        /// The record to correct.
        #[arg(long)]
        corrects: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// For a transaction: the corrected amount.
        #[arg(long, allow_hyphen_values = true)]
        amount: Option<String>,
        /// For a transaction: the corrected currency.
        #[arg(long)]
        currency: Option<String>,
        /// For a transaction: the corrected value date.
        #[arg(long)]
        value_date: Option<String>,
        /// For a transaction: the corrected description.
        #[arg(long)]
        description: Option<String>,
    },
}

/// Runs a command; `Err` means exit 2.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Keygen { out } => {
            let key = keys::generate_key_file(&out)?;
            println!("{key}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Key(command) => crate::gov::run_key(command),
        Command::Gov(command) => crate::gov::run_gov(*command),
        Command::Network(NetworkCommand::Init {
            name,
            members,
            admins,
            threshold,
            out,
        }) => network_init(&name, &members, admins, threshold, &out),
        Command::Record(command) => record(*command),
        Command::Show {
            id,
            source,
            network,
            json,
        } => show(&id, &source.source()?, &network, json),
        Command::Log {
            org,
            source,
            network,
            limit,
            before_seq,
            json,
        } => {
            let page = Page { limit, before_seq };
            log(&org, &source.source()?, &network, page, json)
        }
        Command::Export {
            out,
            source,
            network,
        } => export(&source.source()?, &out, &network),
        Command::Verify {
            source,
            network,
            json,
            strict,
        } => verify(&source.source()?, &network, json, strict),
        Command::Provenance {
            id,
            source,
            network,
            json,
        } => provenance(&id, &source.source()?, &network, json),
        Command::Iati(IatiCommand::Import {
            files,
            target,
            as_reporting_orgs,
            json,
        }) => iati_import(files, &target, as_reporting_orgs, json),
        Command::Flow {
            activity,
            source,
            network,
            json,
        } => flow(&activity, &source.sources()?, &network, json),
        Command::Reconcile {
            provider,
            receiver,
            source,
            network,
            json,
            csv,
        } => {
            let filter = aidledger_cli::money::reconcile::Filter { provider, receiver };
            let format = if json {
                Format::Json
            } else if csv {
                Format::Csv
            } else {
                Format::Text
            };
            reconcile(&filter, &source.sources()?, &network, format)
        }
        Command::Walkthrough { dir } => crate::walkthrough::run(dir),
        Command::Status { node, json } => crate::status::run(&node, json),
        Command::Demo {
            dir,
            fresh,
            once,
            explorer_port,
        } => crate::demo::run(dir, fresh, once, explorer_port),
    }
}

fn network_init(
    name: &str,
    members_path: &Path,
    admins: Option<Vec<String>>,
    threshold: Option<u16>,
    out: &Path,
) -> Result<ExitCode> {
    let text = std::fs::read_to_string(members_path)
        .with_context(|| format!("cannot read {}", members_path.display()))?;
    let members = network::parse_members(&text)
        .with_context(|| format!("{} is not a members list", members_path.display()))?;
    let created_ms = now_ms();
    let genesis = network::build_genesis(name, created_ms, members, admins, threshold)?;
    write_new_file(out, &genesis.encode())?;
    println!("{}", genesis.network_id());
    Ok(ExitCode::SUCCESS)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

pub(crate) fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

fn record(command: RecordCommand) -> Result<ExitCode> {
    let (target, body) = match command {
        RecordCommand::Transaction {
            target,
            activity,
            transaction_type,
            amount,
            currency,
            value_date,
            date,
            provider_org,
            provider_name,
            provider_activity,
            receiver_org,
            receiver_name,
            receiver_activity,
            description,
            acknowledges,
        } => {
            let args = TransactionArgs {
                activity,
                transaction_type,
                amount,
                currency,
                value_date,
                date,
                description,
                acknowledges,
                provider: compose::party(provider_org, provider_name, provider_activity),
                receiver: compose::party(receiver_org, receiver_name, receiver_activity),
            };
            (target, Body::Transaction(compose::transaction(args)?))
        }
        RecordCommand::Treaty {
            target,
            title,
            parties,
            texts,
            supersedes,
        } => {
            let versions = texts
                .iter()
                .map(|spec| text_version(spec))
                .collect::<Result<Vec<_>>>()?;
            let supersedes = supersedes
                .as_deref()
                .map(|id| compose::record_id("--supersedes", id))
                .transpose()?;
            (
                target,
                Body::TreatyText(TreatyText {
                    title,
                    parties,
                    versions,
                    supersedes,
                }),
            )
        }
        RecordCommand::TreatyAction {
            target,
            treaty,
            action,
            date,
            note,
        } => {
            let treaty_id = compose::record_id("--treaty", &treaty)?;
            let action = TreatyActionKind::parse(&action).with_context(|| {
                format!("--action: {action:?} is not sign, ratify, accede or withdraw")
            })?;
            let text_hash = match fetch_verified(&target.target()?, treaty_id)?.body() {
                Body::TreatyText(text) => text.text_hash(),
                other => bail!(
                    "--treaty: record {treaty_id} is a {}, not a treaty text",
                    other.kind().name()
                ),
            };
            let body = TreatyAction {
                treaty: treaty_id,
                text_hash,
                action,
                date: compose::date("--date", &date)?,
                note,
            };
            (target, Body::TreatyAction(body))
        }
        RecordCommand::Statement {
            target,
            title,
            language,
            text,
            text_file,
        } => {
            let text = match (text, text_file) {
                (Some(text), _) => text,
                (None, Some(path)) => read_body_text("--text-file", &path)?,
                (None, None) => bail!("give the statement with --text or --text-file"),
            };
            (
                target,
                Body::Statement(Statement {
                    title,
                    language,
                    text,
                }),
            )
        }
        RecordCommand::Correction {
            target,
            corrects,
            reason,
            amount,
            currency,
            value_date,
            description,
        } => {
            let corrected_id = compose::record_id("--corrects", &corrects)?;
            let wants_replacement = amount.is_some()
                || currency.is_some()
                || value_date.is_some()
                || description.is_some();
            let replacement = if wants_replacement {
                let original = fetch_verified(&target.target()?, corrected_id)?;
                let Body::Transaction(mut tx) = original.body().clone() else {
                    bail!("--amount/--currency/--value-date/--description correct transactions; {corrected_id} is a {}", original.body().kind().name());
                };
                let currency = currency.unwrap_or(tx.value.currency.clone());
                tx.value =
                    compose::money(amount.as_deref().unwrap_or(&tx.value.amount), &currency)?;
                if let Some(text) = value_date {
                    tx.value_date = compose::date("--value-date", &text)?;
                }
                if let Some(text) = description {
                    tx.description = text;
                }
                Some(Replacement::Transaction(tx))
            } else {
                None
            };
            (
                target,
                Body::Correction(Correction {
                    corrects: corrected_id,
                    reason,
                    replacement,
                }),
            )
        }
    };
    body.check()?;
    let (id, seq) = target.target()?.submit(&body)?;
    eprintln!("recorded {} at seq {seq}", body.kind().name());
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

fn text_version(spec: &str) -> Result<TextVersion> {
    let (language, path) = spec
        .split_once('=')
        .with_context(|| format!("--text {spec:?}: expected LANG=FILE, such as en=treaty.txt"))?;
    let text = read_body_text("--text", Path::new(path))?;
    Ok(TextVersion {
        language: language.to_owned(),
        text,
    })
}

/// Reads a text for a record body, refusing one over the body limit before reading it: a
/// record can never hold more, and a huge file (or `/dev/zero`) must not fill the memory.
fn read_body_text(flag: &str, path: &Path) -> Result<String> {
    use std::io::Read;
    let limit = aidledger_spec::limits::BODY_SIZE_BYTES_MAX;
    let too_large = |size: &str| {
        anyhow::anyhow!(
            "{flag} {}: the file is {size}, over the limit of a record's body: {limit} bytes (16 MiB)",
            path.display()
        )
    };
    let file = std::fs::File::open(path)
        .with_context(|| format!("{flag}: cannot read {}", path.display()))?;
    let metadata = file
        .metadata()
        .with_context(|| format!("{flag}: cannot read {}", path.display()))?;
    if metadata.is_file() && metadata.len() > limit as u64 {
        return Err(too_large(&format!("{} bytes", metadata.len())));
    }
    // A pipe or device has no size: read one byte past the limit to know it is over.
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{flag}: cannot read {}", path.display()))?;
    if bytes.len() > limit {
        return Err(too_large("larger"));
    }
    String::from_utf8(bytes)
        .with_context(|| format!("{flag}: {} is not UTF-8 text", path.display()))
}

/// Fetches a record from the target node's public API and verifies it under the node's
/// governance (members added later, rotated keys).
fn fetch_verified(target: &SubmitTarget, id: RecordId) -> Result<aidledger_spec::VerifiedRecord> {
    let public = target
        .public_url
        .clone()
        .context("this needs the node's public URL: use --data-dir, or --public with --submit")?;
    let source = Source::Node(public);
    let (verifier, _) = governed_verifier(&source)?;
    let bytes = source
        .record(&id)?
        .with_context(|| format!("record {id} not found on the node"))?;
    verifier
        .verify(bytes)
        .map_err(|rejected| anyhow::anyhow!("record {id} does not verify: {}", rejected.reason))
}

/// Verifies one record under the governance; a record the governance declared invalid (a
/// revoked key, a removed author) is read by the record rules alone and comes with the reason.
fn verify_governed(
    verifier: &Verifier,
    bytes: Vec<u8>,
) -> Result<(aidledger_spec::RuleCheckedRecord, Option<Rejection>), Box<RejectedRecord>> {
    match verifier.verify(bytes.clone()) {
        Ok(record) => Ok((record.into_rule_checked(), None)),
        Err(rejected) if rejected.reason.is_revocation() => {
            let record = verifier.verify_record_rules(bytes)?;
            Ok((record, Some(rejected.reason)))
        }
        Err(rejected) => Err(rejected),
    }
}

fn show(id: &str, source: &Source, network: &NetworkArgs, json: bool) -> Result<ExitCode> {
    let id = compose::record_id("RECORD_ID", id)?;
    let checked = match read_or_refuse(source, network, json, |_| {})? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused),
    };
    let standing = &checked.standing;
    let Some(bytes) = source.record(&id)? else {
        return not_found(standing, &format!("no record {id} in this source"), json);
    };
    let (record, not_valid) = match verify_governed(&checked.governed_verifier(), bytes) {
        Ok(found) => found,
        Err(rejected) => {
            let problem = format!("record {id} does not verify: {}", rejected.reason);
            return not_found(standing, &problem, json);
        }
    };
    if json {
        let mut value = describe::record_json(&record);
        value["valid"] = serde_json::json!(not_valid.is_none());
        if let Some(reason) = &not_valid {
            value["not_valid_because"] = serde_json::json!(revocation_text(reason));
            value["revoked"] = serde_json::json!(reason);
        }
        standing.add_to_json(&mut value);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", standing.first_line());
        let derivation = checked.derivation();
        let name = derivation
            .authority
            .member(&record.header().author)
            .map_or("", |member| member.name.as_str());
        print!("{}", describe::record_text(&record, name));
        if let Some(reason) = &not_valid {
            println!(
                "validity  NOT VALID: {}; the network's governance declared it invalid",
                revocation_text(reason)
            );
        }
    }
    let code = verdict(standing, json);
    Ok(if not_valid.is_none() {
        code
    } else {
        ExitCode::from(1)
    })
}

/// A record the command looked for is not in the valid part of the source. If the source is
/// invalid, that is the verdict (exit 1, stated with the network line); otherwise the record
/// is simply not there (exit 2).
fn not_found(standing: &Standing, problem: &str, json: bool) -> Result<ExitCode> {
    if standing.is_valid() {
        bail!("{problem}");
    }
    if json {
        let mut value = serde_json::json!({ "valid": false, "problem": problem });
        standing.add_to_json(&mut value);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}\n{problem}", standing.first_line());
    }
    Ok(verdict(standing, json))
}

/// Which part of a chain `log` lists.
struct Page {
    limit: usize,
    before_seq: Option<u64>,
}

fn log(
    org: &str,
    source: &Source,
    network: &NetworkArgs,
    page: Page,
    json: bool,
) -> Result<ExitCode> {
    let checked = match read_or_refuse(source, network, json, |_| {})? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused),
    };
    let derivation = checked.derivation();
    if derivation.authority.member(org).is_none() {
        let known: Vec<&str> = derivation
            .authority
            .members()
            .map(|member| member.id.as_str())
            .collect();
        bail!(
            "unknown organisation {org:?}: the members are {}",
            known.join(", ")
        );
    }
    let verifier = checked.governed_verifier();
    let mut records = Vec::new();
    for bytes in source.chain_page(org, page.before_seq, page.limit)? {
        let record = verify_governed(&verifier, bytes).map_err(|rejected| {
            anyhow::anyhow!("a record of {org} does not verify: {}", rejected.reason)
        })?;
        records.push(record);
    }
    let next_before = records
        .last()
        .map(|(record, _)| record.header().seq)
        .filter(|seq| *seq > 0);
    if json {
        let list: Vec<_> = records
            .iter()
            .map(|(record, not_valid)| {
                let mut value = describe::record_json(record);
                value["valid"] = serde_json::json!(not_valid.is_none());
                if let Some(reason) = not_valid {
                    value["not_valid_because"] = serde_json::json!(revocation_text(reason));
                }
                value
            })
            .collect();
        let mut value =
            serde_json::json!({ "org": org, "records": list, "next_before_seq": next_before });
        checked.standing.add_to_json(&mut value);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", checked.standing.first_line());
        if records.is_empty() {
            println!("{org} has no records here");
        }
        for (record, not_valid) in &records {
            println!(
                "{:>6}  {}  {}",
                record.header().seq,
                record.id(),
                describe::summary(record.body())
            );
            if let Some(reason) = not_valid {
                println!("        NOT VALID: {}", revocation_text(reason));
            }
        }
        if let Some(next) = next_before {
            eprintln!("more: --before-seq {next}");
        }
    }
    Ok(verdict(&checked.standing, json))
}

/// `export` copies without verifying, so it states the network on standard error (standard
/// output stays empty) and leaves the verdict to `verify`.
fn export(source: &Source, out: &Path, network: &NetworkArgs) -> Result<ExitCode> {
    let genesis = export_bundle(source, out, network.pinned())?;
    let line = network_line(
        genesis.network_id(),
        &genesis.name,
        network.pinned().is_some(),
    );
    eprintln!(
        "{line}\nexported network {} to {}",
        genesis.network_id(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn verify(source: &Source, network: &NetworkArgs, json: bool, strict: bool) -> Result<ExitCode> {
    let mode = if strict {
        SignatureMode::Strict
    } else {
        SignatureMode::Batch
    };
    let audit = audit(source, network.pinned(), mode)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&audit_json(&audit))?);
    } else {
        print!("{}", audit_text(&audit));
    }
    Ok(if audit.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn provenance(id: &str, source: &Source, network: &NetworkArgs, json: bool) -> Result<ExitCode> {
    let target = compose::record_id("RECORD_ID", id)?;
    let found = match trace(source, target, network.pinned()) {
        Ok(found) => found,
        Err(error) => return refuse(error, network, json),
    };
    if found.record.is_none() {
        return not_found(
            &found.standing,
            &format!("no valid record {target} in this source"),
            json,
        );
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&provenance_json(&found))?
        );
    } else {
        print!("{}", provenance_text(&found, target));
    }
    Ok(if found.is_sound() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `iati import`: exit 0 when every file was read to its end, 1 when a file could not be
/// (what came before its break is imported), 2 when the import could not run.
fn iati_import(
    files: Vec<PathBuf>,
    target: &TargetArgs,
    as_reporting_orgs: Vec<String>,
    json: bool,
) -> Result<ExitCode> {
    let options = aidledger_cli::iati_import::ImportOptions {
        files,
        as_reporting_orgs,
        target: target.target()?,
    };
    let report = aidledger_cli::iati_import::import(&options)?;
    for file in &report.files {
        for warning in &file.warnings {
            eprintln!("warning: {warning}");
        }
        if let Some(broken) = &file.broken {
            eprintln!("error: {broken}");
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.summary_text());
    }
    Ok(if report.all_read() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// How `reconcile` prints.
enum Format {
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

fn flow(activity: &str, sources: &[Source], network: &NetworkArgs, json: bool) -> Result<ExitCode> {
    let ledger = match money_ledger(sources, network, json)? {
        Ok(ledger) => ledger,
        Err(refused) => return Ok(refused),
    };
    let graph = aidledger_cli::money::flow::FlowGraph::new(&ledger);
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

fn reconcile(
    filter: &aidledger_cli::money::reconcile::Filter,
    sources: &[Source],
    network: &NetworkArgs,
    format: Format,
) -> Result<ExitCode> {
    let json = matches!(format, Format::Json);
    let ledger = match money_ledger(sources, network, json)? {
        Ok(ledger) => ledger,
        Err(refused) => return Ok(refused),
    };
    let outcome = aidledger_cli::money::reconcile::reconcile(&ledger, filter)?;
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
