//! The command line's grammar (clap): every command, its flags and their help, and the small
//! conversions from flags to the library's types (a source, a pinned network, a submit target).
//! `main.rs` parses with it and hands each command to the module that runs it.

use std::path::PathBuf;

use aidledger_cli::governance::compose::ProposeChange;
use aidledger_cli::source::Source;
use aidledger_cli::submit::SubmitTarget;
use aidledger_spec::NetworkId;
use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};

use crate::flow::{MoneySourceArgs, WindowArgs, RECONCILE_EXIT_CODES_HELP};

/// aidledger: auditable records of international aid and agreements, signed by the
/// organisations that make them and verifiable by anyone who knows the network id.
#[derive(Parser)]
#[command(name = "aidledger", version, about, long_about = None, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

pub(crate) use crate::consistency_args::{CheckpointCommand, MirrorCheckArgs};
pub(crate) use crate::iati_args::IatiCommand;
pub(crate) use crate::key_args::KeyCommand;
pub(crate) use crate::record_args::{BatchLine, RecordCommand};
pub(crate) use crate::witness_args::{WitnessArgs, WitnessCommand};

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Make a new organisation signing key (file readable by you only) and print its public key.
    Keygen {
        /// Where to write the key; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Your organisation's signing key: rotate it through your node, or grant a new key after a compromise.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Set up a network.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Governance: propose and approve changes to the membership, roles, keys and admin rule, and show the state.
    #[command(subcommand)]
    Gov(Box<GovCommand>),
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
    /// Write a self-contained bundle (genesis, every record, equivocation proofs, and the cosigned checkpoints and split-view proofs the source collected) that anyone can verify offline.
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
    /// Verify every signature, hash and chain link of a data directory, a node or a bundle;
    /// or, with --proof FILE, one record's proof packet (`aidledger proof`) offline.
    #[command(after_help = EXIT_CODES_HELP)]
    Verify {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        /// A proof packet file to check offline (needs --network-id).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["node", "data_dir", "bundle", "strict", "fail_on_findings", "checkpoints", "witnesses", "witnessed"])]
        proof: Option<PathBuf>,
        /// With --proof: a witness's vkey (`name+keyid+base64`, type 04), once per witness;
        /// their cosignatures are then required (all, or --witnesses-needed).
        #[arg(long = "witness-key", value_name = "VKEY", requires = "proof")]
        witness_keys: Vec<String>,
        /// With --witness-key: how many of the witnesses given must have cosigned (default all).
        #[arg(long, value_name = "K", requires = "witness_keys")]
        witnesses_needed: Option<usize>,
        /// A checkpoint note (`/checkpoint/{org}`, FORMAT.md §23) the source must hold, once
        /// per file: the organisation's chain at least its size, with its root at that size.
        #[arg(long = "checkpoint", value_name = "FILE")]
        checkpoints: Vec<PathBuf>,
        /// A witness's URL, once per witness: the checkpoints it cosigned (`/api/witness`) must
        /// be held too, and the split views it keeps are checked.
        #[arg(long = "witness", value_name = "URL")]
        witnesses: Vec<String>,
        /// Every non-empty chain must be covered by a checkpoint (carried, --checkpoint or
        /// --witness) that meets the governance's witness policy; no policy exits 2.
        #[arg(long)]
        witnessed: bool,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
        /// Verify every signature on its own instead of in batches: the same verdicts on every
        /// input (FORMAT.md 7.1, 15), about three times slower; for cross-checking.
        #[arg(long)]
        strict: bool,
        /// Exit 1 when the source holds findings: valid records a node's policy refuses (a
        /// treaty action by a non-party). Without it findings are reported and exit 0.
        #[arg(long)]
        fail_on_findings: bool,
    },
    /// Write one record's proof packet (FORMAT.md §26), from a node that publishes a checkpoint
    /// covering it (its organisation's, or one holding a cosigned checkpoint of that chain), for
    /// `verify --proof`. Exit 0 = written, 1 = it does not verify (not written), 2 = could not run.
    Proof {
        /// The record id (64 hex characters).
        id: String,
        /// The node's public URL (http://127.0.0.1:PORT).
        #[arg(long)]
        node: String,
        /// Where to write the packet.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Checkpoints of an organisation's chain: `checkpoint check --old FILE --new FILE`.
    #[command(subcommand)]
    Checkpoint(CheckpointCommand),
    /// Show that two nodes serve the same history: each organisation's signed checkpoint, as
    /// each node publishes it, against the other node's checkpoint or chain.
    #[command(after_help = crate::consistency_args::CONSISTENCY_EXIT_CODES_HELP)]
    MirrorCheck(MirrorCheckArgs),
    /// A witness: cosigns each organisation's checkpoints that extend, by a verified
    /// consistency proof, the last it cosigned, refuses the rest (keeping split-view proofs),
    /// and serves them at /api/witness. `witness key` makes its key.
    Witness(WitnessArgs),
    /// Trace a record: signer, key, chain position and integrity, acknowledgements, corrections, treaty actions.
    /// Or, with --text-file FILE or --text - (standard input), "is this genuine?": which records
    /// signed exactly this text or its normalised form (FORMAT.md appendix "Text fingerprints"),
    /// by whom, when, and whether they were later corrected or withdrawn; when none did, the
    /// nearest signed statement and the word difference.
    /// Exit 0 = found (the record, or a record that signed the text) and its chain is intact,
    /// 1 = its chain is broken or forked or the source is invalid, 2 = not found (no such record;
    /// no record signs the text) or could not run.
    #[command(after_help = EXIT_CODES_HELP)]
    #[command(group = clap::ArgGroup::new("text_or_file").args(["text_file", "text"]).multiple(false))]
    Provenance {
        /// The record id.
        #[arg(required_unless_present_any = ["text_file", "text"], conflicts_with_all = ["text_file", "text"])]
        id: Option<String>,
        /// A file whose text to look for (UTF-8; its exact bytes and its normalised form).
        #[arg(long, value_name = "FILE", conflicts_with = "text")]
        text_file: Option<PathBuf>,
        /// `-`: read the text to look for from standard input.
        #[arg(long, value_name = "-", value_parser = clap::builder::PossibleValuesParser::new(["-"]))]
        text: Option<String>,
        /// With a text: the organisation id it claims to come from (its nearest statement is
        /// preferred, and a match by another organisation is said to be one).
        #[arg(long, value_name = "ORG", requires = "text_or_file")]
        org: Option<String>,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a running node's view of the network: peers, heads per organisation, records behind, forks,
    /// witnessed sizes and split views.
    #[command(after_help = STATUS_EXIT_CODES_HELP)]
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
    /// its nodes too). With --single-node, a tour of one node instead.
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
        /// Run the single-node tour instead: the donor's node alone, one record of each kind,
        /// an export, and the bundle verified offline; it ends after the checks (exit 0 only
        /// if all passed). Without --dir its temporary directory is removed afterwards.
        #[arg(long)]
        single_node: bool,
    },
    /// Import IATI activity files into your organisation's chain (idempotent; changed values become corrections).
    #[command(subcommand)]
    Iati(IatiCommand),
    /// The tree of money around an activity: who funded it, whom it paid, through linked
    /// activities; per edge the status of each money link (full, short 5000.00 GBP, …).
    #[command(after_help = EXIT_CODES_HELP)]
    Flow {
        /// The IATI activity identifier.
        activity: String,
        #[command(flatten)]
        source: MoneySourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        #[command(flatten)]
        window: WindowArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The money model's findings (shortfalls first: short, over, currency-differs, withdrawn,
    /// unacknowledged older than the window, unreported, provider-differs, commitment
    /// questions), then every link with its status: full, short, over, currency-differs,
    /// unacknowledged, withdrawn, unreported. With --csv the network line goes to standard
    /// error, so the CSV stays plain.
    #[command(after_help = RECONCILE_EXIT_CODES_HELP)]
    Reconcile {
        /// Only links whose provider is this organisation.
        #[arg(long)]
        provider: Option<String>,
        /// Only links whose receiver is this organisation.
        #[arg(long)]
        receiver: Option<String>,
        #[command(flatten)]
        source: MoneySourceArgs,
        #[command(flatten)]
        network: NetworkArgs,
        #[command(flatten)]
        window: WindowArgs,
        /// Exit 1 when a finding with one of these names occurs, e.g. `short,unacknowledged`
        /// (short, over, currency-differs, withdrawn, unacknowledged, unreported,
        /// provider-differs, partly-disbursed, not-disbursed, over-disbursed).
        #[arg(long, value_name = "STATUS[,STATUS]")]
        fail_on: Option<String>,
        /// Print JSON.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV, one row per link (status, link, both sides' record ids and amounts,
        /// currency, difference).
        #[arg(long)]
        csv: bool,
    },
    /// The former name of `demo --single-node`, kept as an alias (README, "Commands").
    #[command(hide = true)]
    Walkthrough {
        /// Work in this directory (default: a new temporary directory, removed afterwards).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum NetworkCommand {
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

/// `status`'s exit codes: it judges a node, not a source.
pub(crate) const STATUS_EXIT_CODES_HELP: &str =
    "Exit codes: 0 no fork or split view known and the \
node takes records; 1 a chain is forked, an organisation showed a split view, or the node has \
stopped taking records (a STOPPED line: restart it); 2 could not run (node unreachable, bad \
arguments).";

/// The command line, with [`EXIT_CODES_HELP`] after the help of every command that gives no
/// exit codes of its own: clap does not pass `after_help` down to subcommands, and README says
/// every command's `--help` repeats them.
pub(crate) fn command_with_exit_codes() -> clap::Command {
    fn with_exit_codes(command: clap::Command) -> clap::Command {
        let command = match command.get_after_help() {
            Some(_) => command,
            None => command.after_help(EXIT_CODES_HELP),
        };
        command.mut_subcommands(with_exit_codes)
    }
    with_exit_codes(<Cli as clap::CommandFactory>::command())
}

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

/// `aidledger gov …`.
#[derive(Subcommand)]
pub(crate) enum GovCommand {
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
pub(crate) struct ProposeArgs {
    #[command(subcommand)]
    pub(crate) change: ProposeChange,
    /// Why, for readers.
    #[arg(long, global = true, default_value = "")]
    pub(crate) note: String,
    /// The proposal this one builds on (default: the node's current tip).
    #[arg(long, global = true)]
    pub(crate) base: Option<String>,
    #[command(flatten)]
    pub(crate) target: GlobalTargetArgs,
}

/// [`TargetArgs`], accepted after the change subcommand too.
#[derive(Args, Clone)]
pub(crate) struct GlobalTargetArgs {
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
    pub(crate) fn target_args(&self) -> TargetArgs {
        TargetArgs {
            data_dir: self.data_dir.clone(),
            submit: self.submit.clone(),
            token_file: self.token_file.clone(),
            public: self.public.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command, at any depth, and its help's text after the options.
    fn every_command(command: &clap::Command, path: String, out: &mut Vec<(String, String)>) {
        let after = command
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        out.push((path.clone(), after));
        for sub in command.get_subcommands() {
            every_command(sub, format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_commands_help_gives_the_exit_codes() {
        let mut commands = Vec::new();
        every_command(
            &command_with_exit_codes(),
            "aidledger".into(),
            &mut commands,
        );
        assert!(commands.len() > 30, "{} commands", commands.len());
        for (path, after) in commands {
            assert!(
                after.contains("Exit codes"),
                "`{path} --help` gives no exit codes"
            );
        }
    }
}
