//! `checkpoint check`'s and `mirror-check`'s arguments (apart from `args.rs`, which holds most
//! of the others).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::args::NetworkArgs;

/// The exit codes of `checkpoint check` and `mirror-check`.
pub(crate) const CONSISTENCY_EXIT_CODES_HELP: &str = "Exit codes: 0 = the same history (the \
larger checkpoint extends the smaller, with a consistency proof that verified), 1 = a split view \
(two checkpoints the organisation signed that cannot both be true; the proof is written with \
--split-view-out) or a note the organisation did not sign, 2 = could not check (no network id, \
a node unreachable, a proof that proves nothing).";

/// `aidledger checkpoint …`.
#[derive(Subcommand)]
pub(crate) enum CheckpointCommand {
    /// Prove that a newer checkpoint of an organisation's chain extends an older one, with a
    /// consistency proof (FORMAT.md §22); two that cannot both be true become a split-view
    /// proof (FORMAT.md §25).
    #[command(after_help = CONSISTENCY_EXIT_CODES_HELP)]
    Check {
        /// The older checkpoint note (`/checkpoint/{org}`).
        #[arg(long, value_name = "FILE")]
        old: PathBuf,
        /// The newer checkpoint note.
        #[arg(long, value_name = "FILE")]
        new: PathBuf,
        /// A node of the network: the organisation's keys from the genesis and governance
        /// records at the head of its export, and the consistency proof unless --proof.
        #[arg(long, required_unless_present = "bundle")]
        node: Option<String>,
        /// A bundle file whose genesis and governance records give the keys, instead of --node
        /// (offline, with --proof).
        #[arg(long, value_name = "FILE", conflicts_with = "node")]
        bundle: Option<PathBuf>,
        /// The consistency proof: a file of hex hashes (RFC 9162 order, whitespace between).
        #[arg(long, value_name = "FILE")]
        proof: Option<PathBuf>,
        /// Where to write the split-view proof when the checkpoints conflict.
        #[arg(long, value_name = "FILE")]
        split_view_out: Option<PathBuf>,
        #[command(flatten)]
        network: NetworkArgs,
    },
}

/// `aidledger mirror-check URL URL`.
#[derive(Args)]
pub(crate) struct MirrorCheckArgs {
    /// The two nodes' public URLs.
    #[arg(num_args = 2, required = true, value_name = "URL")]
    pub(crate) nodes: Vec<String>,
    /// Where to write the split-view proof when two checkpoints conflict (the first, when
    /// several chains do).
    #[arg(long, value_name = "FILE")]
    pub(crate) split_view_out: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}
