//! One checkpoint note against the stored one of its organisation: its signature lines
//! filtered to those that verify, then merged (the same checkpoint), stored (a larger one
//! consistent with it, or the first), or made a split-view proof (FORMAT.md §25) when the two
//! cannot both be true.
//!
//! Only a note that carries at least one valid cosignature of the witness policy in force is
//! stored or merged as its organisation's checkpoint (what `/checkpoint/{org}`, exports and
//! `verify --witnessed` use): an organisation's own note, as its node gossips it, is only
//! COMPARED, so that it never evicts a cosigned checkpoint, while a conflict with the stored
//! note still makes a split-view proof. With no witness policy at all nothing can be
//! cosigned, and the organisation's own signed note is the best evidence there is of its
//! chain: it is stored as before.
//!
//! Consistency is judged against the node's own replica of the chain (records it verified,
//! with its Merkle tree): two checkpoints are consistent when the replica's tree has both
//! roots at their sizes. When the replica's tree has the larger checkpoint's root but another
//! root at the smaller size, that root and the replica's consistency proof make a `Prefix`
//! proof; two checkpoints of one size with different roots make a `SameSize` proof with
//! nothing more. When the replica has neither tree (it is behind, or holds another history)
//! nothing is decided.

use aidledger_spec::checkpoint::{self, Checkpoint, SignedCheckpoint};
use aidledger_spec::codec::Codec as _;
use aidledger_spec::cosignature::WitnessPolicy;
use aidledger_spec::limits::NOTE_SIGNATURES_MAX;
use aidledger_spec::note::{KeyType, Note, NoteSignature, VerifierKey};
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
use aidledger_spec::Digest;

use super::{keys_at, lock, sha256, witness_policy, Accepted, Learned, Witnessed, WitnessedError};

/// A checkpoint opened with its organisation's keys, its lines filtered.
struct Opened {
    org: String,
    checkpoint: Checkpoint,
    /// The checkpoint text and only the signature lines that verified.
    note: Note,
    /// Whether it may be stored as its organisation's checkpoint: it carries a valid
    /// cosignature of the witness policy, or there is no policy (module doc).
    storable: bool,
}

impl Witnessed {
    /// Checks a checkpoint note from a witness or peer and merges it with what is stored for
    /// its organisation (module doc). Blocking: store reads, signature checks, maybe a write.
    pub fn accept_checkpoint(&self, note_text: &str) -> Result<Accepted, WitnessedError> {
        if self.is_stored(note_text)? {
            return Ok(Accepted::Unchanged);
        }
        let view = self.governance.current();
        let authority = view.authority();
        let opened = self.open(note_text, authority)?;
        let _guard = lock(&self.lock);
        let Some(stored_text) = self.store.cosigned_checkpoint(&opened.org)? else {
            return self.store_checkpoint(&opened);
        };
        let stored = Note::parse(&stored_text).map_err(|error| {
            aidledger_store::StoreError::Corrupt(format!(
                "the stored checkpoint of {}: {error}",
                opened.org
            ))
        })?;
        if stored.text == opened.note.text {
            if !opened.storable {
                // Its organisation's line is the stored note's already.
                return Ok(Accepted::Unchanged);
            }
            return self.merge_lines(&opened, stored);
        }
        let stored_checkpoint = Checkpoint::parse(&stored.text).map_err(|error| {
            aidledger_store::StoreError::Corrupt(format!(
                "the stored checkpoint of {}: {error}",
                opened.org
            ))
        })?;
        let new = (&opened.checkpoint, opened.note.to_text());
        let old = (&stored_checkpoint, stored_text);
        let org = &opened.org;
        let replica_size = self.store.chain_size(org)?;
        let replica_has = |checkpoint: &Checkpoint| -> Result<bool, WitnessedError> {
            Ok(replica_size >= checkpoint.size
                && self.store.merkle_root(org, checkpoint.size)? == checkpoint.root)
        };
        if new.0.size == old.0.size {
            if new.0.root == old.0.root {
                // The same tree with other extension lines: nothing the node needs.
                return Ok(Accepted::Unchanged);
            }
            // The stored checkpoint follows the replica's history; the other note is the one
            // shown apart from it.
            let new_on_replica = replica_has(new.0)?;
            let apart = if new_on_replica { &old.1 } else { &new.1 };
            let outcome = self.split_view(
                apart,
                SplitViewProof {
                    first: old.1.clone(),
                    second: new.1.clone(),
                    evidence: SplitEvidence::SameSize,
                },
            )?;
            if new_on_replica {
                self.store_checkpoint(&opened)?;
            }
            return Ok(outcome);
        }
        let new_is_larger = new.0.size > old.0.size;
        let (small, large) = if new_is_larger {
            (old, new)
        } else {
            (new, old)
        };
        if !replica_has(large.0)? {
            return Ok(Accepted::Undecided(format!(
                "this node's replica of {org}'s chain ({replica_size} records) does not hold the \
                 tree of the checkpoint of size {}",
                large.0.size
            )));
        }
        let prefix_root: Digest = self.store.merkle_root(org, small.0.size)?;
        if prefix_root == small.0.root {
            return if new_is_larger {
                self.store_checkpoint(&opened)
            } else {
                Ok(Accepted::Unchanged)
            };
        }
        let proof = self
            .store
            .consistency_proof(org, small.0.size, large.0.size)?;
        let outcome = self.split_view(
            &small.1,
            SplitViewProof {
                first: small.1.clone(),
                second: large.1.clone(),
                evidence: SplitEvidence::Prefix { prefix_root, proof },
            },
        )?;
        if new_is_larger {
            self.store_checkpoint(&opened)?;
        }
        Ok(outcome)
    }

    /// Whether exactly this note is stored (what peers' sync answers mostly repeat): it was
    /// checked when it was stored, so it needs no signature check again.
    fn is_stored(&self, note_text: &str) -> Result<bool, WitnessedError> {
        let Ok(note) = Note::parse(note_text) else {
            return Ok(false);
        };
        let Ok((_, org)) = Checkpoint::parse(&note.text).and_then(|parsed| parsed.chain()) else {
            return Ok(false);
        };
        Ok(self.store.cosigned_checkpoint(&org)?.as_deref() == Some(note_text))
    }

    /// Opens the note with its organisation's keys and keeps only the signature lines that
    /// verify: the organisation's, and the witness policy's cosignatures.
    fn open(
        &self,
        note_text: &str,
        authority: &aidledger_spec::governance::Authority,
    ) -> Result<Opened, WitnessedError> {
        let note = Note::parse(note_text).map_err(checkpoint::CheckpointError::from)?;
        let parsed = Checkpoint::parse(&note.text)?;
        let (network, org) = parsed.chain()?;
        if authority.member(&org).is_none() {
            return Err(WitnessedError::UnknownOrganisation(org));
        }
        let org_keys = keys_at(authority, &org, parsed.size);
        let signed = SignedCheckpoint::open(note_text, &network, &org, &org_keys)?;
        if network != self.store.network_id() {
            return Err(checkpoint::CheckpointError::WrongOrigin {
                found: signed.checkpoint.origin.clone(),
                expected: checkpoint::origin(&self.store.network_id(), &org),
            }
            .into());
        }
        let org_vkeys: Vec<VerifierKey> = org_keys
            .iter()
            .filter_map(|key| VerifierKey::new(&parsed.origin, KeyType::Ed25519, *key).ok())
            .collect();
        let policy = witness_policy(authority);
        let (signatures, cosignatures) = valid_lines(&signed.note, &org_vkeys, policy.as_ref());
        Ok(Opened {
            org,
            checkpoint: signed.checkpoint,
            note: Note {
                text: signed.note.text,
                signatures,
            },
            storable: cosignatures > 0 || policy.is_none(),
        })
    }

    /// The same checkpoint as stored: the union of both notes' lines, one a key.
    fn merge_lines(&self, opened: &Opened, stored: Note) -> Result<Accepted, WitnessedError> {
        let mut merged = stored;
        let before = merged.signatures.len();
        for line in &opened.note.signatures {
            if merged.signatures.len() >= NOTE_SIGNATURES_MAX {
                break;
            }
            if !merged.signatures.iter().any(|kept| same_key(kept, line)) {
                merged.signatures.push(line.clone());
            }
        }
        let added = merged.signatures.len() - before;
        if added == 0 {
            return Ok(Accepted::Unchanged);
        }
        let text = merged.to_text();
        self.store.put_cosigned_checkpoint(&opened.org, &text)?;
        self.written();
        let _ = self.learned.send(Learned::Checkpoint(text));
        Ok(Accepted::Merged(added))
    }

    /// Stores the opened checkpoint as its organisation's, when it may be (module doc).
    fn store_checkpoint(&self, opened: &Opened) -> Result<Accepted, WitnessedError> {
        if !opened.storable {
            return Ok(Accepted::NotCosigned);
        }
        let text = opened.note.to_text();
        self.store.put_cosigned_checkpoint(&opened.org, &text)?;
        self.written();
        let _ = self.learned.send(Learned::Checkpoint(text));
        Ok(Accepted::Stored)
    }

    /// Checks a split-view proof the node made (as any reader would) and stores it, unless
    /// the note shown apart from the replica's history (`apart`) was proven split already:
    /// a witness that keeps serving a forked checkpoint would otherwise make a new proof
    /// against every larger checkpoint of the chain.
    fn split_view(&self, apart: &str, proof: SplitViewProof) -> Result<Accepted, WitnessedError> {
        let apart = sha256(apart.as_bytes());
        if self.proven_apart(&apart) {
            return Ok(Accepted::SplitView(false));
        }
        let bytes = proof.to_bytes();
        let (_, new) = self.accept_split_view(&bytes)?;
        self.note_apart(apart);
        Ok(Accepted::SplitView(new))
    }
}

/// Whether two lines are of one key (name and key id).
fn same_key(a: &NoteSignature, b: &NoteSignature) -> bool {
    a.name == b.name && a.key_id == b.key_id
}

/// The note's signature lines that verify, one a key: by one of the organisation's keys, or a
/// cosignature of one of the policy's witnesses (how many of those, second). Every other line
/// (unknown keys, forged lines, a second line of one key) is dropped.
fn valid_lines(
    note: &Note,
    org_keys: &[VerifierKey],
    policy: Option<&WitnessPolicy>,
) -> (Vec<NoteSignature>, usize) {
    let mut kept: Vec<NoteSignature> = Vec::new();
    let mut cosignatures = 0;
    for line in &note.signatures {
        if kept.iter().any(|done| same_key(done, line)) {
            continue;
        }
        let alone = Note {
            text: note.text.clone(),
            signatures: vec![line.clone()],
        };
        let by_org = alone.verify(org_keys).is_ok();
        let by_witness = policy.is_some_and(|policy| {
            alone
                .verify(policy.witnesses())
                .is_ok_and(|verified| verified.iter().all(|done| done.timestamp.is_some()))
        });
        if by_witness && !by_org {
            cosignatures += 1;
        }
        if by_org || by_witness {
            kept.push(line.clone());
        }
    }
    (kept, cosignatures)
}
