//! `record KIND` and `iati import`: record bodies composed from flags (one function per kind)
//! and submitted through the organisation's running node, which signs and appends them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aidledger_cli::compose::{self, NamedRecord, TransactionArgs};
use aidledger_cli::governance::lookup::governed_verifier;
use aidledger_cli::iati_import::org_map::read_org_map;
use aidledger_cli::iati_import::{import, ImportOptions, Routing};
use aidledger_cli::source::Source;
use aidledger_cli::submit::SubmitTarget;
use aidledger_spec::record::{
    Correction, Replacement, Statement, TreatyAction, TreatyActionKind, TreatyText,
};
use aidledger_spec::redaction::{RedactedRecord, Redaction};
use aidledger_spec::{Body, RecordId, VerifiedRecord};
use anyhow::{bail, Context, Result};

use crate::args::{BatchLine, RecordCommand, TargetArgs};
use clap::Parser;

/// `record KIND …`: prints the new record's id (and its kind and sequence number on stderr).
pub(crate) fn record(command: RecordCommand) -> Result<ExitCode> {
    if let RecordCommand::Batch { target, from_file } = &command {
        return record_batch(target, from_file);
    }
    let target = command.target().clone();
    let body = compose_body(command, &target)?;
    body.check()?;
    let (id, seq) = target.target()?.submit(&body)?;
    eprintln!("recorded {} at seq {seq}", body.kind().name());
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// Flags that say where to record: given once, on the command line of `record batch`.
const TARGET_FLAGS: [&str; 4] = ["--data-dir", "--submit", "--token-file", "--public"];

/// `record batch --from-file FILE`: every line composed and checked, then all of them sent
/// through the node's batch endpoint; one id per line on stdout, in order.
fn record_batch(target: &TargetArgs, file: &Path) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut bodies = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let body = batch_line_body(target, line)
            .with_context(|| format!("{} line {}", file.display(), index + 1))?;
        bodies.push(body);
    }
    if bodies.is_empty() {
        bail!("{} holds no record command", file.display());
    }
    let node = target.target()?;
    let recorded = match node.submit_batch(&bodies) {
        Ok(recorded) => recorded,
        Err(error) => {
            // What was recorded stands: its ids, before the reason the rest was not.
            for (id, _) in &error.recorded {
                println!("{id}");
            }
            return Err(error.into());
        }
    };
    for (id, _) in &recorded {
        println!("{id}");
    }
    if let Some(public) = &node.public_url {
        aidledger_cli::submit::wait_for_index(public);
    }
    if let (Some((_, first)), Some((_, last))) = (recorded.first(), recorded.last()) {
        eprintln!("recorded {} records at seq {first}-{last}", recorded.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// The body one line of a batch file describes, composed and checked as `record` would.
fn batch_line_body(target: &TargetArgs, line: &str) -> Result<Body> {
    let words = shlex::split(line).context("unbalanced quotes")?;
    if let Some(flag) = words.iter().find(|word| {
        TARGET_FLAGS
            .iter()
            .any(|flag| word.split('=').next() == Some(*flag))
    }) {
        bail!("{flag} belongs on the command line of `record batch`, not in the file");
    }
    let command = BatchLine::try_parse_from(words)
        .map_err(|error| {
            // clap's text starts with its own "error: "; ours already says it is one.
            let text = error.render().to_string();
            anyhow::anyhow!(text.trim().trim_start_matches("error: ").to_owned())
        })?
        .command;
    if matches!(command, RecordCommand::Batch { .. }) {
        bail!("a batch file cannot name another batch");
    }
    let body = compose_body(command, target)?;
    body.check()?;
    Ok(body)
}

/// The body a `record` command describes; `target` is the node it is recorded on (read for
/// the records a treaty action or a correction names).
fn compose_body(command: RecordCommand, target: &TargetArgs) -> Result<Body> {
    Ok(match command {
        RecordCommand::Transaction {
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
            ..
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
            Body::Transaction(compose::transaction(args)?)
        }
        RecordCommand::Treaty {
            title,
            parties,
            texts,
            supersedes,
            ..
        } => treaty(title, parties, &texts, supersedes)?,
        RecordCommand::TreatyAction {
            treaty,
            action,
            date,
            note,
            ..
        } => treaty_action(target, &treaty, &action, &date, note)?,
        RecordCommand::Statement {
            title,
            language,
            text,
            text_file,
            ..
        } => statement(title, language, text, text_file)?,
        RecordCommand::Correction {
            corrects,
            reason,
            amount,
            currency,
            value_date,
            description,
            ..
        } => {
            let corrects = compose::record_id("--corrects", &corrects)?;
            let changes = TransactionChanges {
                amount,
                currency,
                value_date,
                description,
            };
            let replacement = replacement(target, corrects, changes)?;
            Body::Correction(Correction {
                corrects,
                reason,
                replacement,
            })
        }
        RecordCommand::Redaction {
            records,
            category,
            note,
            ..
        } => redaction(target, &records, &category, note)?,
        RecordCommand::Batch { .. } => bail!("a batch is not one record"),
    })
}

fn treaty(
    title: String,
    parties: Vec<String>,
    texts: &[String],
    supersedes: Option<String>,
) -> Result<Body> {
    let versions = texts
        .iter()
        .map(|spec| compose::text_version(spec))
        .collect::<Result<Vec<_>, _>>()?;
    let supersedes = supersedes
        .as_deref()
        .map(|id| compose::record_id("--supersedes", id))
        .transpose()?;
    Ok(Body::TreatyText(TreatyText {
        title,
        parties,
        versions,
        supersedes,
    }))
}

/// A treaty action is bound to the exact hash of the treaty's text, read from the node.
fn treaty_action(
    target: &TargetArgs,
    treaty: &str,
    action: &str,
    date: &str,
    note: String,
) -> Result<Body> {
    let treaty_id = compose::record_id("--treaty", treaty)?;
    let action = TreatyActionKind::parse(action)
        .with_context(|| format!("--action: {action:?} is not sign, ratify, accede or withdraw"))?;
    let text_hash = match fetch_verified(&target.target()?, treaty_id)?.body() {
        Body::TreatyText(text) => text.text_hash(),
        other => bail!(
            "--treaty: record {treaty_id} is a {}, not a treaty text",
            other.kind().name()
        ),
    };
    Ok(Body::TreatyAction(TreatyAction {
        treaty: treaty_id,
        text_hash,
        action,
        date: compose::date("--date", date)?,
        note,
    }))
}

fn statement(
    title: String,
    language: String,
    text: Option<String>,
    text_file: Option<PathBuf>,
) -> Result<Body> {
    let text = match (text, text_file) {
        (Some(text), _) => text,
        (None, Some(path)) => compose::body_text("--text-file", &path)?,
        (None, None) => bail!("give the statement with --text or --text-file"),
    };
    Ok(Body::Statement(Statement {
        title,
        language,
        text,
    }))
}

/// A redaction order of the records named by `--record SEQ:ID` (or `--record ID`, whose
/// position is read from the node), for `category`.
fn redaction(
    target: &TargetArgs,
    records: &[String],
    category: &str,
    note: String,
) -> Result<Body> {
    let category = compose::redaction_category("--category", category)?;
    let mut named = Vec::with_capacity(records.len());
    for text in records {
        named.push(match compose::named_record("--record", text)? {
            NamedRecord::At(record) => record,
            NamedRecord::Id(id) => RedactedRecord {
                seq: position_on_node(target, id)?,
                id,
            },
        });
    }
    Ok(Body::Redaction(Redaction {
        records: compose::redacted_records("--record", named)?,
        category,
        note,
    }))
}

/// The sequence number of record `id` as the target node holds it (from its header: the
/// record may already be redacted).
fn position_on_node(target: &TargetArgs, id: RecordId) -> Result<u64> {
    let public = target.target()?.public_url.context(
        "--record ID needs the node's public URL to find the record's seq: use --data-dir, or --public with --submit, or give SEQ:ID",
    )?;
    let bytes = Source::Node(public)
        .record(&id)?
        .with_context(|| format!("--record: record {id} not found on the node"))?;
    let (header, _) = aidledger_spec::codec::decode_prefix::<aidledger_spec::RecordHeader>(&bytes)
        .map_err(|error| {
            anyhow::anyhow!("--record: record {id} on the node is malformed: {error}")
        })?;
    Ok(header.seq)
}

/// The replacement values a correction of a transaction may carry.
struct TransactionChanges {
    amount: Option<String>,
    currency: Option<String>,
    value_date: Option<String>,
    description: Option<String>,
}

/// The corrected transaction, or `None` (a withdrawal) when no value changes. The values not
/// given are the corrected record's, read from the node.
fn replacement(
    target: &TargetArgs,
    corrects: RecordId,
    changes: TransactionChanges,
) -> Result<Option<Replacement>> {
    let TransactionChanges {
        amount,
        currency,
        value_date,
        description,
    } = changes;
    if amount.is_none() && currency.is_none() && value_date.is_none() && description.is_none() {
        return Ok(None);
    }
    let original = fetch_verified(&target.target()?, corrects)?;
    let Body::Transaction(mut tx) = original.body().clone() else {
        bail!(
            "--amount/--currency/--value-date/--description correct transactions; {corrects} is a {}",
            original.body().kind().name()
        );
    };
    let currency = currency.unwrap_or(tx.value.currency.clone());
    tx.value = compose::money(amount.as_deref().unwrap_or(&tx.value.amount), &currency)?;
    if let Some(text) = value_date {
        tx.value_date = compose::date("--value-date", &text)?;
    }
    if let Some(text) = description {
        tx.description = text;
    }
    Ok(Some(Replacement::Transaction(tx)))
}

/// Fetches a record from the target node's public API and verifies it under the node's
/// governance (members added later, rotated keys).
fn fetch_verified(target: &SubmitTarget, id: RecordId) -> Result<VerifiedRecord> {
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

/// `iati import`'s switches.
pub(crate) struct ImportFlags {
    pub(crate) republished: bool,
    pub(crate) despite_redactions: bool,
    pub(crate) strict: bool,
    pub(crate) verbose: bool,
    pub(crate) json: bool,
}

/// `iati import`: exit 0 when every file was read to its end and something was importable; 1
/// when a file could not be read to its end (what came before its break is imported), nothing
/// was importable, or `--strict` found a skipped value; 2 when the import could not run
/// (`IATI_IMPORT_HELP`).
pub(crate) fn iati_import(
    files: Vec<PathBuf>,
    target: &TargetArgs,
    as_reporting_orgs: Vec<String>,
    org_map: Option<PathBuf>,
    flags: ImportFlags,
) -> Result<ExitCode> {
    let routing = match org_map {
        Some(path) => Routing::OrgMap(read_org_map(&path)?),
        None => Routing::Node {
            target: target.target()?,
            as_reporting_orgs,
        },
    };
    let options = ImportOptions {
        files,
        routing,
        republished: flags.republished,
        despite_redactions: flags.despite_redactions,
        verbose: flags.verbose,
    };
    let report = import(&options)?;
    if report.warnings_not_printed > 0 {
        eprintln!(
            "warning: … and {} more (counted by reason in the summary; --verbose prints every one)",
            report.warnings_not_printed
        );
    }
    for file in &report.files {
        if let Some(broken) = &file.broken {
            eprintln!("error: {broken}");
        }
    }
    if flags.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.summary_text());
    }
    let mut failed = !report.all_read();
    if !report.anything_importable() {
        let read: u64 = report.files.iter().map(|file| file.transactions).sum();
        let skipped = report.skipped();
        eprintln!(
            "error: nothing in the input was importable: 0 of {read} transactions recorded or found recorded{}",
            if skipped.total() > 0 {
                format!(" (skipped: {})", skipped.counts_line())
            } else {
                String::new()
            }
        );
        failed = true;
    }
    let strict_failures = report.strict_failures();
    if flags.strict && !strict_failures.is_empty() {
        eprintln!("error: --strict: {}", strict_failures.join("; "));
        failed = true;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
