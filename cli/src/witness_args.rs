//! `aidledger witness`'s arguments: `witness key --name NAME --out FILE` makes a witness key,
//! `witness --config FILE` runs a witness (cli/src/witness/).

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `aidledger witness …`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct WitnessArgs {
    #[command(subcommand)]
    pub(crate) command: Option<WitnessCommand>,
    /// The witness's config file (JSON: name, key_file, state_dir, network_id, nodes, listen,
    /// interval_ms; README "Witnesses").
    #[arg(long, value_name = "FILE", required = true)]
    pub(crate) config: Option<PathBuf>,
}

/// `aidledger witness key`.
#[derive(Subcommand)]
pub(crate) enum WitnessCommand {
    /// Make a new witness key (file readable by you only) and print its verifier key
    /// `NAME+KEYID+BASE64` (C2SP vkey, type cosignature), which admins list with
    /// `gov propose set-witnesses --witness`.
    Key {
        /// The witness's name, the key name of its cosignatures (a schema-less URL is usual,
        /// such as witness.example.org/w1).
        #[arg(long)]
        name: String,
        /// Where to write the key; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
}
