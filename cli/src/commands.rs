//! The commands and their flags (clap), and what each one does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aidledger_cli::audit::{audit, audit_json, audit_text};
use aidledger_cli::compose::{self, TransactionArgs};
use aidledger_cli::export::export_bundle;
use aidledger_cli::governance::lookup::governed_verifier;
use aidledger_cli::governance::view::revocation_text;
use aidledger_cli::pipeline::SignatureMode;
use aidledger_cli::provenance::{provenance_json, provenance_text, trace};
use aidledger_cli::source::Source;
use aidledger_cli::submit::SubmitTarget;
use aidledger_cli::{describe, keys, network};
use aidledger_spec::genesis::Member;
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
#[command(name = "aidledger", version, about, long_about = None)]
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
    /// Show one record, verified against the network's genesis.
    Show {
        /// The record id (64 hex characters).
        id: String,
        #[command(flatten)]
        source: SourceArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List an organisation's chain, newest first.
    Log {
        /// The organisation id.
        org: String,
        #[command(flatten)]
        source: SourceArgs,
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
    Export {
        /// The bundle file to write.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Verify every signature, hash and chain link of a data directory, a node or a bundle.
    /// Exit 0 = valid, 1 = invalid or forked, 2 = could not run.
    Verify {
        #[command(flatten)]
        source: SourceArgs,
        /// The network id you trust (64 hex characters); without it the source's genesis is trusted.
        #[arg(long)]
        network_id: Option<String>,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
        /// Verify every signature singly with verify_strict instead of in batches (slower).
        #[arg(long)]
        strict: bool,
    },
    /// Trace a record: signer, key, chain position and integrity, acknowledgements, corrections, treaty actions.
    /// Exit 0 = found and its chain is intact, 1 = its chain is broken or forked, 2 = not found or could not run.
    Provenance {
        /// The record id.
        id: String,
        #[command(flatten)]
        source: SourceArgs,
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
    /// replicate, verify every node, and keep it running until Ctrl-C.
    Demo {
        /// Work in this directory (default: a new temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
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
    Flow {
        /// The IATI activity identifier.
        activity: String,
        #[command(flatten)]
        source: MoneySourceArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Match providers' disbursements to receivers' incoming funds and list what is unmatched.
    Reconcile {
        /// Only disbursements by (and incoming funds from) this organisation.
        #[arg(long)]
        provider: Option<String>,
        /// Only disbursements to (and incoming funds of) this organisation.
        #[arg(long)]
        receiver: Option<String>,
        #[command(flatten)]
        source: MoneySourceArgs,
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
        Command::Show { id, source, json } => show(&id, &source.source()?, json),
        Command::Log {
            org,
            source,
            limit,
            before_seq,
            json,
        } => log(&org, &source.source()?, limit, before_seq, json),
        Command::Export { out, source } => export(&source.source()?, &out),
        Command::Verify {
            source,
            network_id,
            json,
            strict,
        } => verify(&source.source()?, network_id.as_deref(), json, strict),
        Command::Provenance { id, source, json } => provenance(&id, &source.source()?, json),
        Command::Iati(IatiCommand::Import {
            files,
            target,
            as_reporting_orgs,
            json,
        }) => iati_import(files, &target, as_reporting_orgs, json),
        Command::Flow {
            activity,
            source,
            json,
        } => flow(&activity, &source.sources()?, json),
        Command::Reconcile {
            provider,
            receiver,
            source,
            json,
            csv,
        } => reconcile(provider, receiver, &source.sources()?, json, csv),
        Command::Walkthrough { dir } => crate::walkthrough::run(dir),
        Command::Status { node, json } => crate::status::run(&node, json),
        Command::Demo {
            dir,
            once,
            explorer_port,
        } => crate::demo::run(dir, once, explorer_port),
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
    let members: Vec<Member> = serde_json::from_str(&text)
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
                (None, Some(path)) => std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?,
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
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--text: cannot read {path} as UTF-8 text"))?;
    Ok(TextVersion {
        language: language.to_owned(),
        text,
    })
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
) -> Result<(aidledger_spec::VerifiedRecord, Option<Rejection>), Box<RejectedRecord>> {
    match verifier.verify(bytes.clone()) {
        Ok(record) => Ok((record, None)),
        Err(rejected) if rejected.reason.is_revocation() => {
            let record = verifier.verify_record_rules(bytes)?;
            Ok((record, Some(rejected.reason)))
        }
        Err(rejected) => Err(rejected),
    }
}

fn show(id: &str, source: &Source, json: bool) -> Result<ExitCode> {
    let id = compose::record_id("RECORD_ID", id)?;
    let (verifier, derivation) = governed_verifier(source)?;
    let bytes = source
        .record(&id)?
        .with_context(|| format!("no record {id} in this source"))?;
    let (record, not_valid) = verify_governed(&verifier, bytes)
        .map_err(|rejected| anyhow::anyhow!("record {id} does not verify: {}", rejected.reason))?;
    if json {
        let mut value = describe::record_json(&record);
        value["valid"] = serde_json::json!(not_valid.is_none());
        if let Some(reason) = &not_valid {
            value["not_valid_because"] = serde_json::json!(revocation_text(reason));
            value["revoked"] = serde_json::json!(reason);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
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
    Ok(if not_valid.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn log(
    org: &str,
    source: &Source,
    limit: usize,
    before_seq: Option<u64>,
    json: bool,
) -> Result<ExitCode> {
    let (verifier, derivation) = governed_verifier(source)?;
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
    let mut records = Vec::new();
    for bytes in source.chain_page(org, before_seq, limit)? {
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
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "org": org, "records": list, "next_before_seq": next_before })
            )?
        );
    } else {
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
    Ok(ExitCode::SUCCESS)
}

fn export(source: &Source, out: &Path) -> Result<ExitCode> {
    let network_id = export_bundle(source, out)?;
    eprintln!("exported network {network_id} to {}", out.display());
    Ok(ExitCode::SUCCESS)
}

fn verify(source: &Source, network_id: Option<&str>, json: bool, strict: bool) -> Result<ExitCode> {
    let pinned = network_id
        .map(NetworkId::from_hex)
        .transpose()
        .context("--network-id")?;
    let mode = if strict {
        SignatureMode::Strict
    } else {
        SignatureMode::Batch
    };
    let audit = audit(source, pinned, mode)?;
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

fn provenance(id: &str, source: &Source, json: bool) -> Result<ExitCode> {
    let target = compose::record_id("RECORD_ID", id)?;
    let found = trace(source, target)?;
    if found.record.is_none() {
        bail!("no valid record {target} in this source");
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

/// Loads the ledger of the sources, saying on stderr when verification found problems (the
/// views then use only the records that verified).
fn money_ledger(sources: &[Source]) -> Result<aidledger_cli::money::ledger::Ledger> {
    let ledger = aidledger_cli::money::ledger::Ledger::load(sources)?;
    if !ledger.problems.is_empty() {
        eprintln!(
            "warning: the source has {} verification problems (run verify); only verified records are used",
            ledger.problems.len()
        );
    }
    Ok(ledger)
}

fn flow(activity: &str, sources: &[Source], json: bool) -> Result<ExitCode> {
    let ledger = money_ledger(sources)?;
    let graph = aidledger_cli::money::flow::FlowGraph::new(&ledger);
    if !graph.knows(activity) {
        bail!("no transaction in this source has or names activity {activity:?}");
    }
    let view = graph.view(activity)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&view.to_json())?);
    } else {
        print!("{}", view.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

fn reconcile(
    provider: Option<String>,
    receiver: Option<String>,
    sources: &[Source],
    json: bool,
    csv: bool,
) -> Result<ExitCode> {
    use aidledger_cli::money::reconcile::{reconcile, Filter};
    let ledger = money_ledger(sources)?;
    let outcome = reconcile(&ledger, &Filter { provider, receiver })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome.to_json())?);
    } else if csv {
        print!("{}", outcome.to_csv());
    } else {
        print!("{}", outcome.to_text());
    }
    Ok(ExitCode::SUCCESS)
}
