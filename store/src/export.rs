//! A store's bundle, written to any `Write`: what a node's `/api/export` streams and what the
//! committed bundle fixture is compared with, byte for byte. With the cosigned checkpoints and
//! split-view proofs the node collected (issue 21), the bundle is of version 2 (FORMAT.md §13).

use std::collections::HashMap;
use std::io::{self, Write};

use aidledger_spec::bundle::{BundleItem, BundleWriter, BUNDLE_VERSION_1, BUNDLE_VERSION_2};
use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::codec::Codec;
use aidledger_spec::splitview::SplitViewProof;
use aidledger_spec::Digest;

use crate::{StoreError, StoreReader};

/// The checkpoint notes and split-view proofs an export carries beside the records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Witnessed {
    /// Cosigned checkpoint notes, one an organisation at most, sorted by organisation.
    pub checkpoints: Vec<String>,
    /// Split-view proofs, sorted by the SHA-256 of their bytes.
    pub split_views: Vec<SplitViewProof>,
}

impl Witnessed {
    /// The bundle version that carries it: 1 when there is nothing (the bundle is then byte
    /// for byte what earlier builds wrote), else 2.
    pub fn bundle_version(&self) -> u16 {
        if self.checkpoints.is_empty() && self.split_views.is_empty() {
            BUNDLE_VERSION_1
        } else {
            BUNDLE_VERSION_2
        }
    }
}

impl StoreReader {
    /// What an export of this store carries (FORMAT.md §13.1): each cosigned checkpoint the
    /// node collected (`cosigned_checkpoints`) whose size the exported chain reaches and whose
    /// root is the chain's tree's at that size, and every split-view proof it stores. With `durable_only`, a chain reaches its durable head (what
    /// a running node exports); otherwise its head (a stopped node's data directory).
    ///
    /// A checkpoint beyond the exported chain is left out: a node behind on another
    /// organisation's chain would otherwise hand out a bundle that fails its own freshness
    /// check for records it has not received yet (a reader who wants the newest checkpoints
    /// asks the witnesses: `aidledger verify --witness URL`). One with another root (a history
    /// the governance since revoked, or one the node holds as a split view) is not evidence of
    /// this chain's freshness and is left out too. Split-view bytes that no longer
    /// decode are damage to the store (the node stores only proofs it checked) and are left
    /// out rather than failing the export of every record.
    pub fn witnessed_for_export(&self, durable_only: bool) -> Result<Witnessed, StoreError> {
        // Taken before the records are read: heads only grow, so every chain of the export
        // reaches at least these.
        let reach: HashMap<String, u64> = if durable_only {
            self.durable_seqs()?
        } else {
            self.heads()
                .map(|head| head.map(|(author, head)| (author, head.seq)))
                .collect::<Result<_, _>>()?
        };
        let checkpoints = self
            .cosigned_checkpoints()?
            .into_iter()
            .filter(|note| {
                checkpoint_chain(note).is_some_and(|(org, size, root)| {
                    let reached = size == 0 || reach.get(&org).is_some_and(|seq| size <= seq + 1);
                    reached && self.merkle_root(&org, size).is_ok_and(|ours| ours == root)
                })
            })
            .collect();
        let split_views = self
            .split_views()?
            .iter()
            .filter_map(|bytes| SplitViewProof::from_bytes(bytes).ok())
            .collect();
        Ok(Witnessed {
            checkpoints,
            split_views,
        })
    }
}

/// The organisation, size and root a checkpoint note names (`None` when it does not read: the
/// store keeps only notes the node opened, so that is damage, and such a note is left out).
fn checkpoint_chain(note: &str) -> Option<(String, u64, Digest)> {
    let checkpoint = Checkpoint::of_note(note).ok()?;
    let (_, org) = checkpoint.chain().ok()?;
    Some((org, checkpoint.size, checkpoint.root))
}

/// `items` (a store's bundle items: proofs, then records) with `witnessed` put in bundle order
/// (FORMAT.md 13.1): the split views after the equivocation proofs, before the first record;
/// the checkpoints after every record.
pub fn in_bundle_order<E>(
    items: impl Iterator<Item = Result<BundleItem, E>>,
    witnessed: Witnessed,
) -> impl Iterator<Item = Result<BundleItem, E>> {
    let mut split_views = Some(witnessed.split_views);
    let mut items = items.peekable();
    let mut pending: std::vec::IntoIter<SplitViewProof> = Vec::new().into_iter();
    let before_records = std::iter::from_fn(move || {
        if let Some(proof) = pending.next() {
            return Some(Ok(BundleItem::SplitView(proof)));
        }
        let first_record = matches!(items.peek(), Some(Ok(BundleItem::Record(_))) | None);
        if first_record {
            if let Some(proofs) = split_views.take() {
                pending = proofs.into_iter();
                if let Some(proof) = pending.next() {
                    return Some(Ok(BundleItem::SplitView(proof)));
                }
            }
        }
        items.next()
    });
    before_records.chain(
        witnessed
            .checkpoints
            .into_iter()
            .map(|note| Ok(BundleItem::Checkpoint(note))),
    )
}

/// Writes the bundle of the whole store to `out` in bundle order (FORMAT.md 13.1): genesis,
/// equivocation proofs, split-view proofs, governance records, the other records chain by
/// chain, the records held as revoked, the cosigned checkpoints, end; each chain up to its
/// durable head (`Store::durable_bundle_items`), with what
/// [`StoreReader::witnessed_for_export`] gives. Version 1 when that is nothing.
pub fn write_bundle<W: Write>(store: &StoreReader, out: W) -> io::Result<W> {
    let witnessed = store.witnessed_for_export(true).map_err(io::Error::other)?;
    write_bundle_with(store, out, witnessed)
}

/// [`write_bundle`] with the checkpoint notes and split-view proofs to carry.
pub fn write_bundle_with<W: Write>(
    store: &StoreReader,
    out: W,
    witnessed: Witnessed,
) -> io::Result<W> {
    let mut writer = if witnessed.bundle_version() == BUNDLE_VERSION_1 {
        BundleWriter::new(out, store.genesis_bytes())?
    } else {
        BundleWriter::new_v2(out, store.genesis_bytes())?
    };
    let items = store.durable_bundle_items().map_err(io::Error::other)?;
    for item in in_bundle_order(items, witnessed) {
        match item.map_err(io::Error::other)? {
            BundleItem::Proof(proof) => writer.proof(&proof)?,
            BundleItem::Record(bytes) => writer.record(&bytes)?,
            BundleItem::Checkpoint(note) => writer.checkpoint(&note)?,
            BundleItem::SplitView(proof) => writer.split_view(&proof)?,
        }
    }
    writer.finish()
}
