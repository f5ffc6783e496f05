//! `aidledger key …`'s arguments (apart from `args.rs`, which holds most of the others).

use std::path::PathBuf;

use clap::Subcommand;

use crate::args::TargetArgs;

/// `aidledger key …`.
#[derive(Subcommand)]
pub(crate) enum KeyCommand {
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
