//! What witnesses and peers showed this node of the organisations' checkpoints (issue 21):
//! per organisation the latest cosigned checkpoint it collected (`checkpoints`), and the
//! split-view proofs it holds (`split_views`, FORMAT.md §25), keyed by the SHA-256 of their
//! bytes so that each is kept once.
//!
//! The store keeps what it is given: opening the notes, checking cosignatures against the
//! witness policy, merging them and checking split-view proofs is the node's work (it holds
//! the authority), done before anything is written here. Like the equivocation proofs these
//! are evidence, not part of any chain: they are durable after [`Store::make_durable`], and
//! one lost to a crash before then is shown again by the witness or peer that served it.

use aidledger_spec::limits::NOTE_BYTES_MAX;
use sha2::{Digest as _, Sha256};

use crate::limits::{SPLIT_VIEWS_MAX, SPLIT_VIEW_BYTES_MAX};
use crate::{Store, StoreError, StoreReader};

/// The key of a split-view proof: the SHA-256 of its canonical bytes (§25.1).
fn split_view_key(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl StoreReader {
    /// One checkpoint note an organisation: the latest one stored for it with every valid
    /// cosignature collected for exactly that text, sorted by organisation (byte order).
    pub fn cosigned_checkpoints(&self) -> Result<Vec<String>, StoreError> {
        self.inner
            .checkpoints
            .iter()
            .map(|entry| {
                let (org, note) = entry?;
                note_text(&org, &note)
            })
            .collect()
    }

    /// The cosigned checkpoint stored for `org`, if any.
    pub fn cosigned_checkpoint(&self, org: &str) -> Result<Option<String>, StoreError> {
        self.inner
            .checkpoints
            .get(org.as_bytes())?
            .map(|note| note_text(org.as_bytes(), &note))
            .transpose()
    }

    /// The canonical bytes (§25.1) of every stored split-view proof, sorted by their SHA-256.
    pub fn split_views(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.inner
            .split_views
            .iter()
            .map(|entry| Ok(entry?.1.to_vec()))
            .collect()
    }

    /// Whether this split-view proof (its canonical bytes) is stored.
    pub fn has_split_view(&self, bytes: &[u8]) -> Result<bool, StoreError> {
        Ok(self.inner.split_views.contains_key(split_view_key(bytes))?)
    }

    /// How many split-view proofs are stored.
    pub fn split_view_count(&self) -> u64 {
        self.inner.split_views.len() as u64
    }
}

/// A stored note's text, which must be UTF-8 (only [`Store::put_cosigned_checkpoint`] writes).
fn note_text(org: &[u8], note: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(note.to_vec()).map_err(|_| {
        StoreError::Corrupt(format!(
            "the cosigned checkpoint of {} is not UTF-8",
            String::from_utf8_lossy(org)
        ))
    })
}

impl Store {
    /// Stores `note` (a checkpoint note of `org`'s chain, its signature lines those the node
    /// checked) as `org`'s cosigned checkpoint, in place of the one stored before. Refused
    /// when over `NOTE_BYTES_MAX` bytes. Durable after [`Store::make_durable`].
    pub fn put_cosigned_checkpoint(&self, org: &str, note: &str) -> Result<(), StoreError> {
        if note.len() > NOTE_BYTES_MAX {
            return Err(StoreError::TooLarge {
                what: "a cosigned checkpoint",
                bytes: note.len(),
                max: NOTE_BYTES_MAX,
            });
        }
        let previous = self
            .inner
            .checkpoints
            .insert(org.as_bytes(), note.as_bytes())?;
        if previous.as_deref() != Some(note.as_bytes()) {
            self.note_change();
        }
        Ok(())
    }

    /// Stores a split-view proof (its canonical bytes, §25.1, checked by the caller); returns
    /// whether it is new. Refused when over `SPLIT_VIEW_BYTES_MAX` bytes, or when
    /// `SPLIT_VIEWS_MAX` are stored already (enough to show any organisation's split view
    /// many times over; more is an organisation signing forks without end, which the ones
    /// stored already show). Durable after [`Store::make_durable`].
    pub fn add_split_view(&self, bytes: &[u8]) -> Result<bool, StoreError> {
        if bytes.len() > SPLIT_VIEW_BYTES_MAX {
            return Err(StoreError::TooLarge {
                what: "a split-view proof",
                bytes: bytes.len(),
                max: SPLIT_VIEW_BYTES_MAX,
            });
        }
        let key = split_view_key(bytes);
        if self.inner.split_views.contains_key(key)? {
            return Ok(false);
        }
        if self.split_view_count() >= SPLIT_VIEWS_MAX {
            return Err(StoreError::TooMany {
                what: "split-view proofs",
                max: SPLIT_VIEWS_MAX,
            });
        }
        self.inner.split_views.insert(key, bytes)?;
        self.note_change();
        Ok(true)
    }
}
