//! `aidledger record …`'s arguments, and one line of a `record batch` file (apart from
//! `args.rs`, which holds most of the others).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::args::TargetArgs;

#[derive(Subcommand)]
pub(crate) enum RecordCommand {
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
    /// Record many records in one go through the node's batch endpoint: FILE holds one record
    /// command per line as typed after `aidledger record` (for example `statement --title
    /// "Funding update" --text-file update.txt`), without --data-dir or --submit; blank lines
    /// and lines starting with # are skipped. Every line is read and checked before anything is
    /// sent; the node checks every body of a request (up to 1,024) before it signs any. Prints
    /// one id per line, in the file's order.
    Batch {
        #[command(flatten)]
        target: TargetArgs,
        /// The file of record commands, one per line.
        #[arg(long)]
        from_file: PathBuf,
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
    /// Record a redaction order: every node forgets the content of the named records of your
    /// organisation's own chain and keeps their header, signature and place, so the chain still
    /// verifies and readers see who redacted what, when and why. An order is public forever and
    /// is never redacted. Another organisation's records are redacted by the admins:
    /// `gov propose redact`.
    Redaction {
        #[command(flatten)]
        target: TargetArgs,
        /// A record to redact: SEQ:ID (its sequence number in your chain, a colon, its id), or
        /// the id alone (its sequence number is then read from the node); repeat for each.
        #[arg(long = "record", required = true)]
        records: Vec<String>,
        /// Why: safety-of-persons, personal-data, legal-order or authors-request.
        #[arg(long)]
        category: String,
        /// Words for readers, public forever: they must not repeat what is withheld.
        #[arg(long)]
        note: String,
    },
}

/// One line of `record batch --from-file`: a `record` command without `aidledger record`.
#[derive(Parser)]
#[command(no_binary_name = true, name = "record")]
pub(crate) struct BatchLine {
    #[command(subcommand)]
    pub(crate) command: RecordCommand,
}

impl RecordCommand {
    /// Where the command records.
    pub(crate) fn target(&self) -> &TargetArgs {
        match self {
            RecordCommand::Transaction { target, .. }
            | RecordCommand::Treaty { target, .. }
            | RecordCommand::TreatyAction { target, .. }
            | RecordCommand::Statement { target, .. }
            | RecordCommand::Batch { target, .. }
            | RecordCommand::Redaction { target, .. }
            | RecordCommand::Correction { target, .. } => target,
        }
    }
}
