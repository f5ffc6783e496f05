//! `aidledger`: the command line of aidledger. This file parses arguments and maps errors to
//! exit codes (0 success, 1 data found invalid, 2 could not run); the work is in the library.
//! Commands that read a source report invalid data themselves; an error that still carries it
//! (a lookup that met damaged bytes, an export of a damaged bundle) exits 1 here too.

mod args;
mod checkpoints;
mod consistency_args;
mod demo;
mod flow;
mod gov;
mod iati_args;
mod key_args;
mod reading;
mod record;
mod record_args;
mod setup;
mod show;
mod status;
mod verify;
mod witness_args;

use std::process::ExitCode;

use anyhow::Result;

use crate::args::{
    CheckpointCommand, Cli, Command, IatiCommand, NetworkCommand, WitnessArgs, WitnessCommand,
};
use crate::demo::DemoOptions;
use crate::flow::Format;
use crate::show::Page;

/// The import and the verifier allocate per XML element and per record; mimalloc is faster at
/// that than glibc's malloc (the node uses it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    aidledger_os::end_quietly_on_closed_pipe();
    let matches = args::command_with_exit_codes().get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", describe_error(&error));
            ExitCode::from(exit_code_of(&error))
        }
    }
}

/// Runs a command; `Err` means exit 2.
fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Keygen { out } => setup::keygen(&out),
        Command::Key(command) => crate::gov::run_key(command),
        Command::Gov(command) => crate::gov::run_gov(*command),
        Command::Network(NetworkCommand::Init {
            name,
            members,
            admins,
            threshold,
            out,
        }) => setup::network_init(&name, &members, admins, threshold, &out),
        Command::Record(command) => record::record(*command),
        Command::Show {
            id,
            source,
            network,
            json,
        } => show::show(&id, &source.source()?, &network, json),
        Command::Log {
            org,
            source,
            network,
            limit,
            before_seq,
            json,
        } => {
            let page = Page { limit, before_seq };
            show::log(&org, &source.source()?, &network, page, json)
        }
        Command::Export {
            out,
            source,
            network,
        } => verify::export(&source.source()?, &out, &network),
        Command::Verify {
            proof: Some(file),
            network,
            witness_keys,
            witnesses_needed,
            json,
            ..
        } => verify::verify_proof(&file, &network, &witness_keys, witnesses_needed, json),
        Command::Proof { id, node, out } => verify::proof(&id, &node, &out),
        Command::Verify {
            source,
            network,
            json,
            strict,
            fail_on_findings,
            checkpoints,
            witnesses,
            witnessed,
            ..
        } => verify::verify(
            &source.source()?,
            &network,
            json,
            verify::Checks {
                strict,
                fail_on_findings,
                checkpoints,
                witnesses,
                witnessed,
            },
        ),
        Command::Provenance {
            id,
            text_file,
            text,
            org,
            source,
            network,
            json,
        } => match (id, text_file, text) {
            (Some(id), ..) => verify::provenance(&id, &source.source()?, &network, json),
            (None, file, _) => {
                let text = verify::read_text(file.as_deref())?;
                verify::text_provenance(&text, org.as_deref(), &source.source()?, &network, json)
            }
        },
        Command::Iati(IatiCommand::Import {
            files,
            target,
            as_reporting_orgs,
            org_map,
            republished,
            despite_redactions,
            strict,
            verbose,
            json,
        }) => record::iati_import(
            files,
            &target,
            as_reporting_orgs,
            org_map,
            record::ImportFlags {
                republished,
                despite_redactions,
                strict,
                verbose,
                json,
            },
        ),
        Command::Flow {
            activity,
            source,
            network,
            window,
            json,
        } => flow::flow(
            &activity,
            &source.sources()?,
            &network,
            window.window()?,
            json,
        ),
        Command::Reconcile {
            provider,
            receiver,
            source,
            network,
            window,
            fail_on,
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
            let fail_on = match fail_on {
                Some(text) => aidledger_cli::money::reconcile::parse_fail_on(&text)?,
                None => Vec::new(),
            };
            let options = flow::ReconcileOptions {
                filter,
                window: window.window()?,
                fail_on,
                format,
            };
            flow::reconcile(&options, &source.sources()?, &network)
        }
        Command::Walkthrough { dir } => demo::run(DemoOptions {
            dir,
            fresh: false,
            once: true,
            explorer_port: None,
            single_node: true,
        }),
        Command::Checkpoint(CheckpointCommand::Check {
            old,
            new,
            node,
            bundle,
            proof,
            split_view_out,
            network,
        }) => checkpoints::check(
            &old,
            &new,
            &checkpoints::CheckSources {
                node: node.as_deref(),
                bundle: bundle.as_deref(),
                proof: proof.as_deref(),
                split_view_out: split_view_out.as_deref(),
            },
            &network,
        ),
        Command::MirrorCheck(args) => checkpoints::mirror_check(&args),
        Command::Witness(WitnessArgs {
            command: Some(WitnessCommand::Key { name, out }),
            ..
        }) => {
            println!("{}", aidledger_cli::witness::generate_key(&name, &out)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Witness(WitnessArgs {
            config: Some(config),
            ..
        }) => {
            aidledger_cli::witness::run(&config)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Witness(_) => anyhow::bail!("give --config FILE, or `witness key`"),
        Command::Status { node, json } => crate::status::run(&node, json),
        Command::Demo {
            dir,
            fresh,
            once,
            explorer_port,
            single_node,
        } => demo::run(DemoOptions {
            dir,
            fresh,
            once,
            explorer_port,
            single_node,
        }),
    }
}

/// 1 when the error, or one of its causes, says the data was read and is invalid (damaged
/// bundle bytes, a source from another network): such data must not pass for an
/// infrastructure problem that a retry would fix. 2 for everything else: could not run.
fn exit_code_of(error: &anyhow::Error) -> u8 {
    if error.chain().any(aidledger_cli::checked::is_invalid_data) {
        1
    } else {
        2
    }
}

/// The error and its causes on one line, leaving out a cause whose text the message above it
/// already holds (our error types often quote their cause).
fn describe_error(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}
