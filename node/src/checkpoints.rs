//! The node's own organisation's checkpoint (FORMAT.md §23): the signed note of its chain's
//! Merkle tree at the chain's DURABLE size, which a crash cannot undo, so the node never signs
//! a tree it could later contradict. The latest note is kept: a request costs no signature
//! while the chain has not grown (at most one signature per tree size and root).

use std::sync::{Arc, Mutex, PoisonError};

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::Digest;
use ed25519_dalek::SigningKey;

use crate::writer::Writer;
use aidledger_store::{StoreError, StoreReader};

/// Where the organisation's checkpoint key comes from: the key the authority lets sign the
/// chain's position `seq` (the checkpoint of `seq + 1` records, FORMAT.md §23.3).
pub trait CheckpointKeys: Send + Sync {
    /// The key for the checkpoint whose last record is at `seq`, or why there is none.
    fn checkpoint_key(&self, seq: u64) -> Result<SigningKey, String>;
}

impl CheckpointKeys for Writer {
    fn checkpoint_key(&self, seq: u64) -> Result<SigningKey, String> {
        Writer::checkpoint_key(self, seq)
    }
}

/// A signed checkpoint as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The tree size (records 0 … size−1 of the chain).
    pub size: u64,
    /// The tree's root.
    pub root: Digest,
    /// The signed note's text (C2SP signed note).
    pub note: String,
}

/// Why no checkpoint could be published.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The chain has no durable record yet: there is no tree to sign.
    #[error("{org}'s chain has no durable record yet: no checkpoint to publish")]
    EmptyChain {
        /// The organisation.
        org: String,
    },
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No key of the node may sign the checkpoint, or signing failed.
    #[error("cannot sign {org}'s checkpoint: {reason}")]
    Sign {
        /// The organisation.
        org: String,
        /// Why.
        reason: String,
    },
}

/// The publisher of the node's own organisation's checkpoint.
pub struct Checkpoints {
    store: StoreReader,
    org: String,
    keys: Arc<dyn CheckpointKeys>,
    latest: Mutex<Option<Arc<Published>>>,
}

impl Checkpoints {
    /// The publisher of `org`'s checkpoints over `store`, signing with `keys`.
    pub fn new(store: StoreReader, org: String, keys: Arc<dyn CheckpointKeys>) -> Checkpoints {
        Checkpoints {
            store,
            org,
            keys,
            latest: Mutex::new(None),
        }
    }

    /// The organisation whose checkpoints these are.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The checkpoint of the chain at its durable size now: the kept note when the tree has
    /// that size and root still, else a new note, signed once and kept. Blocking (store
    /// reads and a signature): call it off the async threads.
    pub fn latest(&self) -> Result<Arc<Published>, CheckpointError> {
        let head =
            self.store
                .durable_head(&self.org)?
                .ok_or_else(|| CheckpointError::EmptyChain {
                    org: self.org.clone(),
                })?;
        let size = head.seq + 1;
        // The root is read every time (a few point reads): a revocation may have rewound the
        // chain and grown it back to the same size with other records, whose tree the kept
        // note does not sign.
        let root = self.store.merkle_root(&self.org, size)?;
        // Held while signing, so that concurrent requests for a new size sign it once.
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = latest.as_ref() {
            if kept.size == size && kept.root == root {
                return Ok(kept.clone());
            }
        }
        let sign_error = |reason: String| CheckpointError::Sign {
            org: self.org.clone(),
            reason,
        };
        let key = self.keys.checkpoint_key(head.seq).map_err(sign_error)?;
        let note = Checkpoint::new(&self.store.network_id(), &self.org, size, root)
            .sign(&key)
            .map_err(|error| sign_error(error.to_string()))?;
        let published = Arc::new(Published {
            size,
            root,
            note: note.to_text(),
        });
        *latest = Some(published.clone());
        Ok(published)
    }
}
