//! `verify --checkpoint FILE…`: is the source at least as fresh as what the organisations
//! signed? Each checkpoint note (FORMAT.md §23) is opened with the keys the source's genesis
//! and governance give its organisation at the checkpoint's last position; the source's chain
//! of that organisation must hold at least the checkpoint's size of records, and the Merkle
//! tree (FORMAT.md §22) of its first `size` record ids must have the checkpoint's root. A
//! source that is short of a signed checkpoint holds back records; one with another root
//! shows a different history than the one the organisation signed for.

use std::collections::{BTreeMap, BTreeSet};

use aidledger_spec::checkpoint::{Checkpoint, SignedCheckpoint};
use aidledger_spec::merkle::MemoryTree;
use aidledger_spec::{Digest, PublicKey, RecordId, VerifiedRecord};
use serde_json::json;

use crate::checked::Checked;

/// One checkpoint note given to `verify`, with the name it is reported under (its file, the
/// bundle, or the witness that served it).
#[derive(Clone, Debug)]
pub struct CheckpointInput {
    /// Where it came from, for the report.
    pub label: String,
    /// The note text.
    pub text: String,
}

/// The organisations the notes name in their origin lines (unreadable notes name none; they
/// are reported by [`judge`]).
pub fn organisations<'a>(
    inputs: impl IntoIterator<Item = &'a CheckpointInput>,
) -> BTreeSet<String> {
    inputs
        .into_iter()
        .filter_map(|input| {
            let (_, org) = Checkpoint::of_note(&input.text).ok()?.chain().ok()?;
            Some(org)
        })
        .collect()
}

/// The valid record ids of some organisations' chains, by seq, collected while the source is
/// verified (for the organisations a checkpoint names, or every chain of a source that may
/// carry checkpoints: 32 bytes a record in seq order, up to twice that while a vector grows).
#[derive(Default)]
pub struct ChainIds {
    orgs: BTreeSet<String>,
    every: bool,
    chains: BTreeMap<String, Chain>,
    forked: BTreeSet<String>,
}

/// One chain's ids: those linked from seq 0 in a vector (a bundle lists each chain in seq
/// order), and any read ahead of a gap until the gap is filled.
#[derive(Default)]
struct Chain {
    linked: Vec<RecordId>,
    ahead: BTreeMap<u64, RecordId>,
}

impl Chain {
    /// Adds the record at `seq`; `false` when another record was seen there (the first is
    /// kept: the chain as it was read).
    fn add(&mut self, seq: u64, id: RecordId) -> bool {
        let next = self.linked.len() as u64;
        if seq < next {
            return usize::try_from(seq).is_ok_and(|seq| self.linked[seq] == id);
        }
        let earlier = *self.ahead.entry(seq).or_insert(id);
        while let Some(id) = self.ahead.remove(&(self.linked.len() as u64)) {
            self.linked.push(id);
        }
        earlier == id
    }
}

impl ChainIds {
    /// Collects the chains of `orgs`.
    pub fn new(orgs: BTreeSet<String>) -> ChainIds {
        ChainIds {
            orgs,
            ..ChainIds::default()
        }
    }

    /// Collects every chain (a million records cost ~32 to 64 MB).
    pub fn every_chain() -> ChainIds {
        ChainIds {
            every: true,
            ..ChainIds::default()
        }
    }

    /// Sees one verified record.
    pub fn observe(&mut self, record: &VerifiedRecord) {
        let header = record.header();
        self.add(&header.author, header.seq, record.id());
    }

    /// Sees the record `id` at `seq` of `author`'s chain: a verified record, or a redacted one
    /// (its id and place stand, so the chain's Merkle root is the same, FORMAT.md §6.1).
    pub fn add(&mut self, author: &str, seq: u64, id: RecordId) {
        if !self.every && !self.orgs.contains(author) {
            return;
        }
        let chain = self.chains.entry(author.to_owned()).or_default();
        if !chain.add(seq, id) {
            self.forked.insert(author.to_owned());
        }
    }

    /// Sees every redacted record of `report` (they are not observed: they have no body).
    pub fn add_redacted(&mut self, report: &aidledger_spec::chain::Report) {
        for chain in &report.chains {
            for entry in &chain.redacted {
                self.add(&chain.author, entry.seq, entry.id);
            }
        }
    }

    /// The ids of `org`'s chain from seq 0 up to the first gap, and whether two records were
    /// seen at one position.
    pub(crate) fn linked(&self, org: &str) -> (&[RecordId], bool) {
        let ids = self
            .chains
            .get(org)
            .map_or(&[][..], |chain| chain.linked.as_slice());
        (ids, self.forked.contains(org))
    }
}

/// What one checkpoint showed about the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// The source's chain holds the checkpoint's records: same root at its size.
    Holds {
        /// The organisation.
        org: String,
        /// The checkpoint's size.
        size: u64,
        /// Its root.
        root: Digest,
        /// The organisation's key that signed it.
        key: PublicKey,
        /// Records of the chain in the source.
        chain: u64,
    },
    /// The source's chain is shorter than the checkpoint: it holds back signed records.
    HeldBack {
        /// The organisation.
        org: String,
        /// The checkpoint's size.
        size: u64,
        /// Records of the chain in the source.
        chain: u64,
    },
    /// The source's tree at the checkpoint's size has another root: another history.
    Differs {
        /// The organisation.
        org: String,
        /// The checkpoint's size.
        size: u64,
        /// The checkpoint's root.
        signed: Digest,
        /// The root of the source's first `size` records.
        source: Digest,
        /// Whether the source holds two records at one position of the chain.
        forked: bool,
    },
    /// The note is not a checkpoint of this network signed by its organisation.
    NotOpened {
        /// Why.
        error: String,
    },
}

impl Freshness {
    /// Whether the source passes this checkpoint.
    pub fn holds(&self) -> bool {
        matches!(self, Freshness::Holds { .. })
    }

    /// One line for people.
    pub fn line(&self, label: &str) -> String {
        match self {
            Freshness::Holds {
                org,
                size,
                root,
                key,
                chain,
            } => format!(
                "checkpoint {label}: {org}'s chain holds the signed checkpoint: size {size}, root {root}, signed by key {key} ({chain} record(s) in the source)"
            ),
            Freshness::HeldBack { org, size, chain } => format!(
                "checkpoint {label}: FAILS: the bundle holds back records the organisation has signed for: {org} signed a checkpoint of {size} record(s), the source has {chain}"
            ),
            Freshness::Differs {
                org,
                size,
                signed,
                source,
                forked,
            } => format!(
                "checkpoint {label}: FAILS: the bundle's history differs from the signed checkpoint: {org} signed root {signed} at size {size}, the source's first {size} record(s) have root {source}{}",
                if *forked { " (the source holds two records at one position)" } else { "" }
            ),
            Freshness::NotOpened { error } => format!(
                "checkpoint {label}: FAILS: not a checkpoint of this network signed by its organisation: {error}"
            ),
        }
    }

    /// The same as JSON.
    pub fn json(&self, label: &str) -> serde_json::Value {
        let mut value = match self {
            Freshness::Holds {
                org,
                size,
                root,
                key,
                chain,
            } => json!({"holds": true, "org": org, "size": size, "root": root.to_hex(),
                        "key": key.to_hex(), "source_chain": chain}),
            Freshness::HeldBack { org, size, chain } => json!({"holds": false,
                "failure": "held back", "org": org, "size": size, "source_chain": chain}),
            Freshness::Differs {
                org,
                size,
                signed,
                source,
                forked,
            } => json!({"holds": false, "failure": "differs", "org": org, "size": size,
                "root": signed.to_hex(), "source_root": source.to_hex(), "forked": forked}),
            Freshness::NotOpened { error } => {
                json!({"holds": false, "failure": "not opened", "error": error})
            }
        };
        value["file"] = json!(label);
        value
    }
}

/// The network a checkpoint note's origin names, if the note reads.
pub fn network_of(text: &str) -> Option<aidledger_spec::NetworkId> {
    let (network, _) = Checkpoint::of_note(text).ok()?.chain().ok()?;
    Some(network)
}

/// Judges each checkpoint against the verified source.
pub fn judge(checked: &Checked, ids: &ChainIds, inputs: &[CheckpointInput]) -> Vec<Freshness> {
    let authority = checked.derivation().authority;
    let network = checked.genesis.network_id();
    inputs
        .iter()
        .map(|input| {
            let (org, size) = match Checkpoint::of_note(&input.text)
                .map_err(|error| error.to_string())
                .and_then(|checkpoint| {
                    let (_, org) = checkpoint.chain().map_err(|e| e.to_string())?;
                    Ok((org, checkpoint.size))
                }) {
                Ok(found) => found,
                Err(error) => return Freshness::NotOpened { error },
            };
            // The keys the authority lets the organisation sign with at the tree's last position.
            let keys = authority.checkpoint_keys(&org, size);
            let signed = match SignedCheckpoint::open(&input.text, &network, &org, &keys) {
                Ok(signed) => signed,
                Err(error) => {
                    return Freshness::NotOpened {
                        error: format!("{org}: {error}"),
                    }
                }
            };
            compare(&org, &signed, ids)
        })
        .collect()
}

fn compare(org: &str, signed: &SignedCheckpoint, ids: &ChainIds) -> Freshness {
    let (chain, forked) = ids.linked(org);
    let size = signed.checkpoint.size;
    let held = chain.len() as u64;
    let Some(prefix) = usize::try_from(size).ok().and_then(|n| chain.get(..n)) else {
        return Freshness::HeldBack {
            org: org.to_owned(),
            size,
            chain: held,
        };
    };
    let root = match MemoryTree::of_record_ids(prefix).root(size) {
        Ok(root) => root,
        Err(error) => {
            return Freshness::NotOpened {
                error: format!("{org}: {error}"),
            }
        }
    };
    if root == signed.checkpoint.root {
        Freshness::Holds {
            org: org.to_owned(),
            size,
            root,
            key: signed.signed_by,
            chain: held,
        }
    } else {
        Freshness::Differs {
            org: org.to_owned(),
            size,
            signed: signed.checkpoint.root,
            source: root,
            forked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Chain;
    use aidledger_spec::Digest;

    fn id(tag: u8) -> Digest {
        Digest([tag; 32])
    }

    #[test]
    fn a_chain_links_records_from_seq_0_in_any_order_and_keeps_the_first_of_two() {
        let mut chain = Chain::default();
        assert!(chain.add(0, id(0)));
        assert!(chain.add(2, id(2)));
        assert_eq!(chain.linked, [id(0)], "a gap at 1");
        assert!(chain.add(3, id(3)));
        assert!(chain.add(1, id(1)));
        assert_eq!(chain.linked, [id(0), id(1), id(2), id(3)]);
        assert!(chain.ahead.is_empty());
        // The same record again is no fork; another record at a seen position is.
        assert!(chain.add(2, id(2)));
        assert!(!chain.add(2, id(9)));
        assert!(chain.add(6, id(6)));
        assert!(!chain.add(6, id(8)));
        assert!(chain.add(4, id(4)));
        assert!(chain.add(5, id(5)));
        assert_eq!(chain.linked[2], id(2), "the first is kept");
        assert_eq!(
            chain.linked[6],
            id(6),
            "the first is kept ahead of a gap too"
        );
        assert_eq!(chain.linked.len(), 7);
    }
}
