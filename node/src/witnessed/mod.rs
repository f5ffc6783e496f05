//! What the node learns from witnesses and peers about the organisations' checkpoints (issue
//! 21): cosigned checkpoints, collected and merged per organisation, and split-view proofs,
//! checked and stored (`aidledger_store`'s `checkpoints` and `split_views` trees).
//!
//! Everything arrives from outside (a witness's `/api/witness`, gossip, sync) and is checked
//! here before it is stored: a checkpoint must be of this network, signed by a key its
//! organisation may sign it with (FORMAT.md §23.3); only the cosignature lines of the
//! authority's witness policy that verify are kept (C2SP signed-note: one forged line under a
//! listed witness's name would make the whole note fail for a reader, so it is dropped, not
//! stored); a split-view proof must check with the organisation's keys (§25.2). The checks of
//! one checkpoint against the stored one, and the split-view proofs they make, are in
//! `merge`; the poller of witnesses in `poll`; the reports (status, explorer, API) in `report`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aidledger_spec::checkpoint::CheckpointError;
use aidledger_spec::codec::{self, Codec as _};
use aidledger_spec::cosignature::WitnessPolicy;
use aidledger_spec::governance::Authority;
use aidledger_spec::splitview::{SplitView, SplitViewError, SplitViewProof};
use aidledger_spec::PublicKey;
use aidledger_store::{Store, StoreError};
use tokio::sync::broadcast;

use crate::governance::Governance;

mod merge;
pub mod poll;
pub mod report;

/// How many new cosigned checkpoints and split-view proofs wait to be gossiped; a slow
/// network task loses the oldest (sync brings them to peers later).
pub const WITNESSED_QUEUE_MAX: usize = 256;

/// The network's witness policy now (the governance's last `set-witnesses`, FORMAT.md §24).
pub(crate) fn witness_policy(authority: &Authority) -> Option<WitnessPolicy> {
    authority.witness_policy()
}

/// What became of a checkpoint note given to [`Witnessed::accept_checkpoint`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// The organisation had no stored checkpoint, or this one extends it (checked against the
    /// node's replica of the chain): stored in its place.
    Stored,
    /// The same checkpoint as stored: its new valid cosignatures (this many) were added.
    Merged(usize),
    /// Nothing new: the same checkpoint with no new cosignature, or an older one consistent
    /// with the stored one.
    Unchanged,
    /// Consistency with the stored checkpoint cannot be judged yet (the node's replica of the
    /// chain is behind, or is neither tree): kept out, asked again at the next poll.
    Undecided(String),
    /// It conflicts with the stored checkpoint: a split-view proof (true when new) was stored.
    SplitView(bool),
    /// It carries no valid cosignature of the witness policy (an organisation's own note, as
    /// its node gossips it): compared with the stored checkpoint, found no conflict, and not
    /// stored (`merge`'s module doc).
    NotCosigned,
}

/// Why something from a witness or peer was refused.
#[derive(Debug, thiserror::Error)]
pub enum WitnessedError {
    /// The note is not a checkpoint of this network signed by its organisation.
    #[error("not a checkpoint of this network signed by its organisation: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The organisation is not a member of this network.
    #[error("{0} is not a member of this network")]
    UnknownOrganisation(String),
    /// The split-view proof does not decode.
    #[error("the split-view proof does not decode: {0}")]
    Decode(#[from] codec::DecodeError),
    /// The split-view proof does not check.
    #[error("the split-view proof does not check: {0}")]
    SplitView(#[from] SplitViewError),
    /// The split-view proof is of another network.
    #[error("the split-view proof is of another network")]
    OtherNetwork,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Something new to tell peers (gossip).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Learned {
    /// A cosigned checkpoint note, as stored.
    Checkpoint(String),
    /// A split-view proof's canonical bytes.
    SplitView(Vec<u8>),
}

/// The node's collector of cosigned checkpoints and split-view proofs.
pub struct Witnessed {
    store: Arc<Store>,
    governance: Arc<Governance>,
    /// Serializes each read, merge and write of a stored checkpoint.
    lock: Mutex<()>,
    learned: broadcast::Sender<Learned>,
    /// SHA-256 of the checkpoint notes this run has proven split from the replica's history
    /// (at most `SPLIT_VIEWS_MAX`: what the store keeps of their proofs).
    apart: Mutex<HashSet<[u8; 32]>>,
    /// Set when something was stored that is not yet durable ([`Witnessed::flush`]).
    dirty: AtomicBool,
}

impl Witnessed {
    /// The collector over `store`, judging under `governance`.
    pub fn new(store: Arc<Store>, governance: Arc<Governance>) -> Witnessed {
        let (learned, _) = broadcast::channel(WITNESSED_QUEUE_MAX);
        Witnessed {
            store,
            governance,
            lock: Mutex::new(()),
            learned,
            apart: Mutex::default(),
            dirty: AtomicBool::new(false),
        }
    }

    /// What this node newly stores, for gossip.
    pub fn learned(&self) -> broadcast::Receiver<Learned> {
        self.learned.subscribe()
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Something was stored: durable at the next [`Witnessed::flush`] (or the writer's).
    fn written(&self) {
        self.dirty.store(true, Ordering::SeqCst);
    }

    /// Whether something stored here is not yet known durable.
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::SeqCst)
    }

    /// Makes what was stored since the last flush durable (one fsync for a whole poll round,
    /// sync answer or second of gossip, rather than one per note: a network of 100
    /// organisations changes 100 checkpoints a second). Nothing is lost to a crash before it
    /// but what a witness or peer shows again. Blocking.
    pub fn flush(&self) -> Result<(), StoreError> {
        if self.dirty.swap(false, Ordering::SeqCst) {
            if let Err(error) = self.store.make_durable() {
                self.dirty.store(true, Ordering::SeqCst);
                return Err(error);
            }
        }
        Ok(())
    }

    /// Whether this run proved that note split already.
    fn proven_apart(&self, note_hash: &[u8; 32]) -> bool {
        self.apart
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(note_hash)
    }

    /// Remembers a note proven split (while there is room).
    fn note_apart(&self, note_hash: [u8; 32]) {
        let mut apart = self.apart.lock().unwrap_or_else(PoisonError::into_inner);
        if (apart.len() as u64) < aidledger_store::SPLIT_VIEWS_MAX {
            apart.insert(note_hash);
        }
    }

    /// Checks a split-view proof (its canonical bytes, §25.1) with every key its organisation
    /// ever had and stores it; returns the split view and whether it was new. Blocking.
    pub fn accept_split_view(&self, bytes: &[u8]) -> Result<(SplitView, bool), WitnessedError> {
        let proof = SplitViewProof::from_bytes(bytes)?;
        let view = self.check_split_view(&proof)?;
        // Stored in its canonical encoding, so that one proof sent twice is kept once.
        let canonical = proof.to_bytes();
        let new = self.store.add_split_view(&canonical)?;
        if new {
            self.written();
            // No receiver (no network yet) is not an error.
            let _ = self.learned.send(Learned::SplitView(canonical));
        }
        Ok((view, new))
    }

    /// Checks a split-view proof of this network with every key its organisation ever had.
    fn check_split_view(&self, proof: &SplitViewProof) -> Result<SplitView, WitnessedError> {
        let view = self.governance.current();
        let authority = view.authority();
        // The keys of the organisation the first note names; the check refuses notes of
        // another origin.
        let first = aidledger_spec::note::Note::parse(&proof.first)
            .map_err(|error| SplitViewError::First(error.into()))?;
        let checkpoint = aidledger_spec::checkpoint::Checkpoint::parse(&first.text)
            .map_err(SplitViewError::First)?;
        let (network, org) = checkpoint.chain().map_err(SplitViewError::First)?;
        if network != self.store.network_id() {
            return Err(WitnessedError::OtherNetwork);
        }
        let keys = every_key(authority, &org)?;
        Ok(proof.check(&keys)?)
    }
}

/// Every key `org` ever had (what a split-view proof is checked with, §25.2).
pub(crate) fn every_key(
    authority: &Authority,
    org: &str,
) -> Result<Vec<PublicKey>, WitnessedError> {
    let member = authority
        .member(org)
        .ok_or_else(|| WitnessedError::UnknownOrganisation(org.to_owned()))?;
    Ok(member.keys.iter().map(|span| span.key).collect())
}

/// The keys `org` may sign a checkpoint of `size` records with: those the authority allows
/// at the tree's last position (§23.3).
pub(crate) fn keys_at(authority: &Authority, org: &str, size: u64) -> Vec<PublicKey> {
    authority.checkpoint_keys(org, size)
}

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

/// A poisoned lock still guards the store's consistent state (each write is one insert).
fn lock(mutex: &Mutex<()>) -> std::sync::MutexGuard<'_, ()> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
