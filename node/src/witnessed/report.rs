//! What the node says of what it collected: each stored split-view proof (organisation,
//! sizes, roots, whether a revocation explains it, FORMAT.md §25.2), each organisation's
//! witnessed size (k of n witnesses of the policy), and the node's own checkpoint with the
//! cosignatures collected for exactly its text.

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::codec::Codec as _;
use aidledger_spec::governance::Authority;
use aidledger_spec::note::Note;
use aidledger_spec::splitview::SplitViewProof;
use aidledger_store::{StoreError, StoreReader};
use serde::Serialize;

use super::{every_key, witness_policy};

/// One stored split-view proof, as the status API, `/api/split-views` and the explorer say it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SplitViewReport {
    /// The proof's canonical bytes (§25.1), hex.
    pub proof: String,
    /// The organisation whose chain it is.
    pub org: String,
    /// The first checkpoint's size and root (hex).
    pub first_size: u64,
    /// The first checkpoint's root, hex.
    pub first_root: String,
    /// The second checkpoint's size.
    pub second_size: u64,
    /// The second checkpoint's root, hex.
    pub second_root: String,
    /// A governance revocation of the chain explains it (§25.2): not a split view.
    pub explained: bool,
    /// Whether it checks under the current authority (a proof stored before may name keys the
    /// governance no longer gives the organisation: then it is reported, as not checking).
    pub checks: bool,
}

/// An organisation's stored cosigned checkpoint, as the status API and the explorer say it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WitnessedChain {
    /// The organisation.
    pub org: String,
    /// The checkpoint's size.
    pub size: u64,
    /// How many of the policy's witnesses cosigned it (valid lines).
    pub cosigned: usize,
    /// How many witnesses the policy lists (0: no policy).
    pub witnesses: usize,
    /// How many must cosign (0: no policy).
    pub threshold: usize,
}

/// Every stored split-view proof, described (sorted as stored: by hash).
pub fn split_views(
    store: &StoreReader,
    authority: &Authority,
) -> Result<Vec<SplitViewReport>, StoreError> {
    let mut reports = Vec::new();
    for bytes in store.split_views()? {
        let proof: SplitViewProof = SplitViewProof::from_bytes(&bytes)
            .map_err(|error| StoreError::Corrupt(format!("a split-view proof: {error}")))?;
        let (Ok(first), Ok(second)) = (
            Checkpoint::of_note(&proof.first),
            Checkpoint::of_note(&proof.second),
        ) else {
            return Err(StoreError::Corrupt(
                "a stored split-view proof's notes are not checkpoints".into(),
            ));
        };
        let org = first
            .chain()
            .map(|(_, org)| org)
            .map_err(|error| StoreError::Corrupt(format!("a split-view proof: {error}")))?;
        let checks = every_key(authority, &org)
            .ok()
            .is_some_and(|keys| proof.check(&keys).is_ok());
        let explained = explained(store, &org, &first, &second)?;
        reports.push(SplitViewReport {
            proof: hex::encode(&bytes),
            org,
            first_size: first.size,
            first_root: hex::encode(first.root.0),
            second_size: second.size,
            second_root: hex::encode(second.root.0),
            explained,
            checks,
        });
    }
    Ok(reports)
}

/// Every organisation's stored cosigned checkpoint: its size and its cosignatures under the
/// current policy.
pub fn witnessed_chains(
    store: &StoreReader,
    authority: &Authority,
) -> Result<Vec<WitnessedChain>, StoreError> {
    let policy = witness_policy(authority);
    let mut chains = Vec::new();
    for text in store.cosigned_checkpoints()? {
        let note = Note::parse(&text)
            .map_err(|error| StoreError::Corrupt(format!("a stored checkpoint: {error}")))?;
        let checkpoint = Checkpoint::parse(&note.text)
            .map_err(|error| StoreError::Corrupt(format!("a stored checkpoint: {error}")))?;
        let Ok((_, org)) = checkpoint.chain() else {
            continue;
        };
        let cosigned = policy
            .as_ref()
            .map_or(0, |policy| cosignatures(policy, &note));
        chains.push(WitnessedChain {
            org,
            size: checkpoint.size,
            cosigned,
            witnesses: policy.as_ref().map_or(0, |policy| policy.witnesses().len()),
            threshold: policy.as_ref().map_or(0, |policy| policy.threshold()),
        });
    }
    Ok(chains)
}

/// `org`'s stored cosigned checkpoint, as [`witnessed_chains`] says it (one point read).
pub fn witnessed_chain(
    store: &StoreReader,
    authority: &Authority,
    org: &str,
) -> Result<Option<WitnessedChain>, StoreError> {
    let Some(text) = store.cosigned_checkpoint(org)? else {
        return Ok(None);
    };
    let policy = witness_policy(authority);
    let note = Note::parse(&text)
        .map_err(|error| StoreError::Corrupt(format!("a stored checkpoint: {error}")))?;
    let checkpoint = Checkpoint::parse(&note.text)
        .map_err(|error| StoreError::Corrupt(format!("a stored checkpoint: {error}")))?;
    Ok(Some(WitnessedChain {
        org: org.to_owned(),
        size: checkpoint.size,
        cosigned: policy
            .as_ref()
            .map_or(0, |policy| cosignatures(policy, &note)),
        witnesses: policy.as_ref().map_or(0, |policy| policy.witnesses().len()),
        threshold: policy.as_ref().map_or(0, |policy| policy.threshold()),
    }))
}

/// How many of the policy's witnesses have a valid cosignature on the note.
fn cosignatures(policy: &aidledger_spec::cosignature::WitnessPolicy, note: &Note) -> usize {
    note.verify(policy.witnesses()).map_or(0, |verified| {
        verified
            .iter()
            .filter(|done| done.timestamp.is_some())
            .count()
    })
}

/// The node's own checkpoint note with the cosignatures collected for exactly its text (the
/// stored note, whose lines were checked), or the note alone.
pub fn with_cosignatures(
    store: &StoreReader,
    org: &str,
    note_text: &str,
) -> Result<String, StoreError> {
    let Some(stored) = store.cosigned_checkpoint(org)? else {
        return Ok(note_text.to_owned());
    };
    let (Ok(stored_note), Ok(own)) = (Note::parse(&stored), Note::parse(note_text)) else {
        return Ok(note_text.to_owned());
    };
    if stored_note.text != own.text {
        return Ok(note_text.to_owned());
    }
    let mut merged = own;
    for line in stored_note.signatures {
        if !merged
            .signatures
            .iter()
            .any(|kept| kept.name == line.name && kept.key_id == line.key_id)
        {
            merged.signatures.push(line);
        }
    }
    Ok(merged.to_text())
}

/// Whether a revocation of `org`'s chain explains two checkpoints (§25.2): each is the tree
/// of one history this node holds (the chain now, or the tree a revocation replaced, kept by
/// the store with the governance record that revoked), the two histories differ, and every
/// revocation between them is from a position below the smaller size, so that below it the
/// trees agree. A node that never held the revoked records cannot tell, and says not.
fn explained(
    store: &StoreReader,
    org: &str,
    first: &Checkpoint,
    second: &Checkpoint,
) -> Result<bool, StoreError> {
    let rewinds = store.merkle_rewinds(org)?;
    let chain_size = store.chain_size(org)?;
    // Which history a checkpoint is the tree of: `None` the chain now, `Some(epoch)` the tree
    // rewind `epoch` replaced.
    let history = |checkpoint: &Checkpoint| -> Result<Option<Option<u64>>, StoreError> {
        if checkpoint.size <= chain_size
            && store.merkle_root(org, checkpoint.size)? == checkpoint.root
        {
            return Ok(Some(None));
        }
        for rewind in &rewinds {
            if checkpoint.size <= rewind.size
                && store.rewound_root(org, rewind.epoch, checkpoint.size)? == checkpoint.root
            {
                return Ok(Some(Some(rewind.epoch)));
            }
        }
        Ok(None)
    };
    let (Some(a), Some(b)) = (history(first)?, history(second)?) else {
        return Ok(false);
    };
    if a == b {
        return Ok(false);
    }
    let smaller = first.size.min(second.size);
    // The rewinds from the older history on: each must be a governance revocation below the
    // smaller size.
    let from = a.into_iter().chain(b).min().unwrap_or(u64::MAX);
    Ok(rewinds
        .iter()
        .filter(|rewind| rewind.epoch >= from)
        .all(|rewind| rewind.by.is_some() && rewind.from_seq < smaller))
}
