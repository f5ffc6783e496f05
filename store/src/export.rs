//! A store's bundle, written to any `Write`: what a node's `/api/export` streams and what the
//! committed bundle fixture is compared with, byte for byte.

use std::io::{self, Write};

use aidledger_spec::bundle::{BundleItem, BundleWriter};
use aidledger_spec::splitview::SplitViewProof;

use crate::StoreReader;

/// Writes the bundle of the whole store to `out` in bundle order (FORMAT.md 13.1): genesis,
/// equivocation proofs, split-view proofs, governance records, the other records chain by
/// chain, the records held as revoked, the cosigned checkpoints, end; each chain up to its
/// durable head (`Store::durable_bundle_items`).
///
/// A store that holds no checkpoint and no split view writes a version 1 bundle, byte for
/// byte what earlier builds wrote (the committed fixture is such a bundle); otherwise version 2.
pub fn write_bundle<W: Write>(store: &StoreReader, out: W) -> io::Result<W> {
    write_bundle_with(store, out, &[], &[])
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
