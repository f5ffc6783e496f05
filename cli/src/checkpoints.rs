//! `checkpoint check`: two checkpoint notes of one chain, opened with the organisation's keys
//! (from a node's export or a bundle), proved consistent with a consistency proof (from the
//! node or a file); a conflict is written as a split-view proof. Exit 0 consistent, 1 a split
//! view or a note the organisation did not sign, 2 could not check.

use std::path::Path;
use std::process::ExitCode;

use aidledger_cli::consistency::{
    fetch_consistency, judge, org_of, proof_sizes, Consistency, OrgKeys,
};
use aidledger_cli::packet::{genesis_and_governance, read_genesis_and_governance};
use aidledger_spec::checkpoint::SignedCheckpoint;
use aidledger_spec::codec::Codec;
use aidledger_spec::limits::{MERKLE_PROOF_HASHES_MAX, NOTE_BYTES_MAX};
use aidledger_spec::Digest;
use anyhow::{bail, Context as _, Result};

use crate::args::{MirrorCheckArgs, NetworkArgs};

/// Most bytes of a `--proof` file: its hashes in hex with a separator each.
const PROOF_FILE_BYTES_MAX: u64 = (MERKLE_PROOF_HASHES_MAX as u64) * 65;

/// Where `checkpoint check` reads keys and proofs.
pub(crate) struct CheckSources<'a> {
    pub(crate) node: Option<&'a str>,
    pub(crate) bundle: Option<&'a Path>,
    pub(crate) proof: Option<&'a Path>,
    pub(crate) split_view_out: Option<&'a Path>,
}

pub(crate) fn check(
    old: &Path,
    new: &Path,
    sources: &CheckSources<'_>,
    network: &NetworkArgs,
) -> Result<ExitCode> {
    // Before any work, and again before writing (the file may appear meanwhile).
    if let Some(path) = sources.split_view_out {
        aidledger_cli::out_file::check_split_view_replaceable(path)?;
    }
    let Some(trusted) = network.pinned() else {
        bail!("checkpoint check needs --network-id: the organisations' keys are trusted through the network you trust");
    };
    let (genesis, governance) = match (sources.node, sources.bundle) {
        (Some(node), _) => genesis_and_governance(node)?,
        (None, Some(bundle)) => {
            let file = std::fs::File::open(bundle)
                .with_context(|| format!("cannot open {}", bundle.display()))?;
            read_genesis_and_governance(
                std::io::BufReader::new(file),
                &bundle.display().to_string(),
            )?
        }
        (None, None) => bail!("give --node URL or --bundle FILE for the organisations' keys"),
    };
    let keys = OrgKeys::new(&genesis, &governance, &trusted)?;
    println!("network   {trusted}, pinned: the keys come from a genesis that matches it");
    let mut opened = Vec::new();
    for (name, path) in [("old", old), ("new", new)] {
        let text = read_note(path)?;
        match keys.open(&text) {
            Ok(signed) => {
                println!("{name}       {}: {}", path.display(), describe(&signed));
                opened.push(signed);
            }
            Err(error) => {
                println!(
                    "INVALID   {}: not a checkpoint of this network signed by its organisation: {error}",
                    path.display()
                );
                return Ok(ExitCode::from(1));
            }
        }
    }
    let (older, newer) = (&opened[0], &opened[1]);
    if older.checkpoint.size > newer.checkpoint.size {
        println!(
            "note      the --old checkpoint is the larger: checked that it extends the --new one"
        );
    }
    let org = org_of(older);
    let proof = match proof_sizes(older, newer) {
        None => Vec::new(),
        Some((from, to)) => match (sources.proof, sources.node) {
            (Some(file), _) => read_proof_file(file)?,
            (None, Some(node)) => fetch_consistency(node, &org, from, to)?,
            (None, None) => {
                bail!("the sizes differ: give --proof FILE or --node URL for the consistency proof")
            }
        },
    };
    match judge(&keys, older, newer, proof) {
        Ok(consistency) => report(&org, &consistency, sources.split_view_out),
        Err(error) => {
            println!("UNKNOWN   could not check: {error}");
            Ok(ExitCode::from(2))
        }
    }
}

/// `ORG's checkpoint of N record(s), root R, signed by key K`.
pub(crate) fn describe(signed: &SignedCheckpoint) -> String {
    format!(
        "{}'s checkpoint of {} record(s), root {}, signed by key {}",
        org_of(signed),
        signed.checkpoint.size,
        signed.checkpoint.root,
        signed.signed_by
    )
}

/// Prints the outcome in plain words, writes a split-view proof, and picks the exit code.
pub(crate) fn report(
    org: &str,
    consistency: &Consistency,
    split_view_out: Option<&Path>,
) -> Result<ExitCode> {
    match consistency {
        Consistency::Same { size } => {
            println!("SAME      both are {org}'s checkpoint of {size} record(s) with one root");
            Ok(ExitCode::SUCCESS)
        }
        Consistency::Extends { from, to, hashes } => {
            println!(
                "CONSISTENT {org}'s checkpoint of {to} record(s) extends the one of {from}: \
                 its first {from} records are the same (consistency proof of {hashes} hash(es) verified)"
            );
            Ok(ExitCode::SUCCESS)
        }
        Consistency::Split(proof) => {
            println!(
                "SPLIT VIEW {org} signed two histories of its chain that cannot both be true \
                 (a split-view proof, FORMAT.md §25, that anyone can check offline)"
            );
            match split_view_out {
                Some(path) => {
                    aidledger_cli::out_file::check_split_view_replaceable(path)?;
                    std::fs::write(path, proof.to_bytes())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    println!("wrote     the split-view proof to {}", path.display());
                }
                None => println!("          give --split-view-out FILE to keep the proof"),
            }
            Ok(ExitCode::from(1))
        }
    }
}

fn read_note(path: &Path) -> Result<String> {
    let bytes = read_bounded(path, NOTE_BYTES_MAX as u64)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > max {
        bail!("{} is over {max} bytes", path.display());
    }
    Ok(bytes)
}

/// A `--proof` file: hex hashes separated by whitespace.
fn read_proof_file(path: &Path) -> Result<Vec<Digest>> {
    let bytes = read_bounded(path, PROOF_FILE_BYTES_MAX)?;
    let text =
        String::from_utf8(bytes).with_context(|| format!("{} is not text", path.display()))?;
    text.split_whitespace()
        .map(|hex| {
            Digest::from_hex(hex)
                .map_err(|_| anyhow::anyhow!("{}: {hex:?} is not a hash", path.display()))
        })
        .collect()
}

/// `mirror-check URL URL`: a line per organisation, then the verdict. Exit 0 the same history,
/// 1 two histories (a split view, or a node whose tree differs from a signed checkpoint), 2
/// could not check.
pub(crate) fn mirror_check(args: &MirrorCheckArgs) -> Result<ExitCode> {
    use aidledger_cli::mirror::{compare, Follow, Row};

    if let Some(path) = &args.split_view_out {
        aidledger_cli::out_file::check_split_view_replaceable(path)?;
    }
    let Some(trusted) = args.network.pinned() else {
        bail!("mirror-check needs --network-id: the organisations' keys are trusted through the network you trust");
    };
    let [first, second] = [args.nodes[0].as_str(), args.nodes[1].as_str()];
    let (genesis, governance) = genesis_and_governance(first)?;
    let keys = OrgKeys::new(&genesis, &governance, &trusted)?;
    // The second node must be of the same network: its genesis is checked the same way.
    let (other_genesis, other_governance) = genesis_and_governance(second)?;
    if let Err(error) = OrgKeys::new(&other_genesis, &other_governance, &trusted) {
        println!("network   {trusted}, pinned\nINVALID   {second}: {error}");
        return Ok(ExitCode::from(1));
    }
    println!("network   {trusted}, pinned: both nodes' genesis matches it");
    println!("nodes     A = {first}, B = {second}");
    let (mut split, mut unknown, mut written) = (false, false, false);
    let name = |index: usize| if index == 0 { "A" } else { "B" };
    for org in keys.members() {
        let row = compare(&keys, [first, second], &org);
        let line = match &row {
            Row::NotPublished => "neither node publishes a checkpoint of it".to_owned(),
            Row::Both(Consistency::Same { size }) => {
                format!("same history: both publish its checkpoint of {size} record(s) with one root")
            }
            Row::Both(Consistency::Extends { from, to, .. }) => format!(
                "same history: the checkpoint of {to} record(s) extends the one of {from} (consistency proof verified)"
            ),
            Row::Both(Consistency::Split(_)) => {
                "SPLIT VIEW: the two nodes publish checkpoints it signed that cannot both be true".to_owned()
            }
            Row::One { publisher, size, other } => {
                let (p, o) = (name(*publisher), name(1 - publisher));
                match other {
                    Follow::Holds { held } => format!(
                        "same history: {p} publishes its checkpoint of {size} record(s); {o} holds {held}, with the same root at {size}"
                    ),
                    Follow::Behind { held } => format!(
                        "same history, {o} behind: {p} publishes its checkpoint of {size} record(s); {o} holds the first {held} (consistency proof verified)"
                    ),
                    Follow::Differs { held, at, root } => format!(
                        "DIFFERS: {p} publishes its checkpoint of {size} record(s); {o} holds {held}, and its tree at {at} has root {root}, not the signed history's (no split-view proof: only one side is signed)"
                    ),
                }
            }
            Row::Unknown(error) => format!("could not check: {error}"),
        };
        println!("{org:<20} {line}");
        split |= row.is_split();
        unknown |= matches!(row, Row::Unknown(_));
        if let (Row::Both(Consistency::Split(proof)), Some(path), false) =
            (&row, &args.split_view_out, written)
        {
            aidledger_cli::out_file::check_split_view_replaceable(path)?;
            std::fs::write(path, proof.to_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "wrote     the split-view proof of {org} to {}",
                path.display()
            );
            written = true;
        }
    }
    Ok(if split {
        println!("TWO HISTORIES: the nodes do not serve the same history");
        ExitCode::from(1)
    } else if unknown {
        println!("UNKNOWN: some chains could not be checked");
        ExitCode::from(2)
    } else {
        println!("SAME HISTORY: every published checkpoint holds on both nodes");
        ExitCode::SUCCESS
    })
}
