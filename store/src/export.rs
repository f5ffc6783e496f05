//! A store's bundle, written to any `Write`: what a node's `/api/export` streams and what the
//! committed bundle fixture is compared with, byte for byte.

use std::io::{self, Write};

use aidledger_spec::bundle::{BundleItem, BundleWriter};
use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::codec::Codec;
use aidledger_spec::note::Note;
use aidledger_spec::splitview::SplitViewProof;

use crate::StoreReader;

/// Writes the bundle of the whole store to `out` in bundle order (FORMAT.md 13.1): genesis,
/// equivocation proofs, split-view proofs, governance records, the other records chain by
/// chain, the records held as revoked, the cosigned checkpoints, end; each chain up to its
/// durable head (`Store::durable_bundle_items`).
///
/// The checkpoints are the cosigned ones the node collected (`StoreReader::cosigned_checkpoints`),
/// each only when the exported chain reaches its size: a node behind on another organisation's
/// chain would otherwise hand out a bundle that fails its own freshness check for records it
/// has not received yet (a reader who wants the newest checkpoints asks the witnesses:
/// `aidledger verify --witnessed --witness URL`). The split views are every one it stores.
///
/// A store that holds no checkpoint and no split view to carry writes a version 1 bundle, byte
/// for byte what earlier builds wrote (the committed fixture is such a bundle); otherwise
/// version 2.
pub fn write_bundle<W: Write>(store: &StoreReader, out: W) -> io::Result<W> {
    // Taken before the records are read: durable heads only grow, so every chain of the
    // export reaches at least these sizes.
    let durable = store.durable_seqs().map_err(io::Error::other)?;
    let checkpoints: Vec<String> = store
        .cosigned_checkpoints()
        .map_err(io::Error::other)?
        .into_iter()
        .filter(|note| {
            checkpoint_chain(note).is_some_and(|(org, size)| {
                size == 0 || durable.get(&org).is_some_and(|seq| size <= seq + 1)
            })
        })
        .collect();
    // The node stores only proofs it decoded and checked; bytes that no longer decode are
    // damage to the store, left out rather than failing the export of every record.
    let split_views: Vec<SplitViewProof> = store
        .split_views()
        .map_err(io::Error::other)?
        .iter()
        .filter_map(|bytes| SplitViewProof::from_bytes(bytes).ok())
        .collect();
    write_bundle_with(store, out, &checkpoints, &split_views)
}

/// The organisation and size a checkpoint note names (`None` when it does not read: the store
/// keeps only notes the node opened, so that is damage, and such a note is left out).
fn checkpoint_chain(note: &str) -> Option<(String, u64)> {
    let note = Note::parse(note).ok()?;
    let checkpoint = Checkpoint::parse(&note.text).ok()?;
    let (_, org) = checkpoint.chain().ok()?;
    Some((org, checkpoint.size))
}

/// [`write_bundle`] with the checkpoint notes and split-view proofs to carry.
pub fn write_bundle_with<W: Write>(
    store: &StoreReader,
    out: W,
    checkpoints: &[String],
    split_views: &[SplitViewProof],
) -> io::Result<W> {
    let mut writer = if checkpoints.is_empty() && split_views.is_empty() {
        BundleWriter::new(out, store.genesis_bytes())?
    } else {
        BundleWriter::new_v2(out, store.genesis_bytes())?
    };
    // Split views go after the equivocation proofs, before the first record.
    let mut split_views_written = false;
    let mut write_split_views = |writer: &mut BundleWriter<W>| -> io::Result<()> {
        if !split_views_written {
            split_views_written = true;
            for proof in split_views {
                writer.split_view(proof)?;
            }
        }
        Ok(())
    };
    for item in store.durable_bundle_items().map_err(io::Error::other)? {
        match item.map_err(io::Error::other)? {
            BundleItem::Proof(proof) => writer.proof(&proof)?,
            BundleItem::Record(bytes) => {
                write_split_views(&mut writer)?;
                writer.record(&bytes)?;
            }
            // The store's items are records and proofs; these are written from the arguments.
            BundleItem::Checkpoint(_) | BundleItem::SplitView(_) => {}
        }
    }
    write_split_views(&mut writer)?;
    for note in checkpoints {
        writer.checkpoint(note)?;
    }
    writer.finish()
}
