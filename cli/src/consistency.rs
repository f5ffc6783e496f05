//! Consistency over time and between nodes (issue 21): `checkpoint check` proves with a
//! consistency proof (FORMAT.md §22) that a newer checkpoint of a chain extends an older one,
//! and `mirror-check` that two nodes serve the same history. Two checkpoints that cannot both
//! be true become a split-view proof (FORMAT.md §25) anyone can check offline.
//!
//! The organisations' keys come from a genesis and the governance records at the head of a
//! bundle (a node's export or a file), checked against the network id the reader trusts; a
//! note is opened with the keys the authority gives its organisation at its last position.

use aidledger_spec::checkpoint::{parse_origin, Checkpoint, CheckpointError, SignedCheckpoint};
use aidledger_spec::governance::{self, Authority, GovernanceRecord};
use aidledger_spec::merkle::{ConsistencyProof, MerkleError};
use aidledger_spec::note::Note;
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
use aidledger_spec::{Digest, Genesis, NetworkId, PublicKey, Verifier};

use crate::packet::{get, get_with, read_all, ProofFetchError, PROOF_RESPONSE_BYTES_MAX};
use crate::source::{encode_path_segment, http_client};

/// Why the organisations' keys could not be known.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    /// The genesis does not decode.
    #[error("the genesis does not decode: {0}")]
    Genesis(String),
    /// The genesis is of another network than the one trusted.
    #[error("the genesis is of network {found}, not of the network you trust, {expected}")]
    WrongNetwork {
        /// The genesis's network.
        found: NetworkId,
        /// The trusted one.
        expected: NetworkId,
    },
    /// A governance record breaks the record rules or is not a governance record.
    #[error("governance record {index} is not valid: {reason}")]
    Governance {
        /// Its place among the governance records.
        index: usize,
        /// Why.
        reason: String,
    },
}

/// The organisations of a network and the keys each may sign with, by position.
pub struct OrgKeys {
    genesis: Genesis,
    authority: Authority,
}

impl OrgKeys {
    /// The keys a genesis and its governance records give, on the network `trusted`.
    pub fn new(
        genesis: &[u8],
        governance: &[Vec<u8>],
        trusted: &NetworkId,
    ) -> Result<OrgKeys, KeysError> {
        let genesis =
            Genesis::decode(genesis).map_err(|error| KeysError::Genesis(error.to_string()))?;
        if genesis.network_id() != *trusted {
            return Err(KeysError::WrongNetwork {
                found: genesis.network_id(),
                expected: *trusted,
            });
        }
        let verifier = Verifier::new(genesis.clone());
        let mut records = Vec::with_capacity(governance.len());
        for (index, bytes) in governance.iter().enumerate() {
            let record = verifier
                .verify_record_rules(bytes.clone())
                .map_err(|rejected| KeysError::Governance {
                    index,
                    reason: rejected.reason.to_string(),
                })?;
            records.push(GovernanceRecord::from_verified(&record).ok_or(
                KeysError::Governance {
                    index,
                    reason: "not a governance record".into(),
                },
            )?);
        }
        let authority = governance::derive(&genesis, &records).authority;
        Ok(OrgKeys { genesis, authority })
    }

    /// The network.
    pub fn network(&self) -> NetworkId {
        self.genesis.network_id()
    }

    /// Every organisation the genesis or governance made a member, in id order.
    pub fn members(&self) -> Vec<String> {
        let mut members: Vec<String> = self
            .authority
            .members()
            .map(|member| member.id.clone())
            .collect();
        members.sort();
        members.dedup();
        members
    }

    /// The keys `org` may sign a checkpoint of `size` records with: those the authority
    /// allows at the tree's last position.
    pub fn keys_at(&self, org: &str, size: u64) -> Vec<PublicKey> {
        self.authority.checkpoint_keys(org, size)
    }

    /// Opens a checkpoint note of this network, whichever organisation's it is.
    pub fn open(&self, note_text: &str) -> Result<SignedCheckpoint, CheckpointError> {
        let note = Note::parse(note_text)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        let (_, org) = parse_origin(&checkpoint.origin)?;
        let keys = self.keys_at(&org, checkpoint.size);
        SignedCheckpoint::open(note_text, &self.network(), &org, &keys)
    }

    /// The keys that could sign either checkpoint (what a split-view proof is checked with).
    fn keys_for(&self, org: &str, sizes: [u64; 2]) -> Vec<PublicKey> {
        let mut keys: Vec<PublicKey> = sizes
            .iter()
            .flat_map(|size| self.keys_at(org, *size))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// The organisation whose chain a checkpoint is of.
pub fn org_of(signed: &SignedCheckpoint) -> String {
    parse_origin(&signed.checkpoint.origin)
        .map(|(_, org)| org)
        .unwrap_or_default()
}

/// What two checkpoints of one chain showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Consistency {
    /// Same size, same root.
    Same {
        /// The size.
        size: u64,
    },
    /// The larger extends the smaller: the consistency proof verified (or the smaller is
    /// the empty tree, which every tree extends).
    Extends {
        /// The smaller size.
        from: u64,
        /// The larger size.
        to: u64,
        /// Hashes in the proof.
        hashes: usize,
    },
    /// They cannot both be true: the checked split-view proof.
    Split(Box<SplitViewProof>),
}

/// Why consistency could not be decided.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsistencyError {
    /// The two notes are of different chains.
    #[error("the checkpoints are of different chains: {0} and {1}")]
    DifferentChains(String, String),
    /// The proof verifies from neither the older root nor any other root it shows: it proves
    /// nothing about the checkpoints (a bad proof, or an older size that is a power of two,
    /// whose root a proof does not carry).
    #[error("the consistency proof from {from} to {to} records does not verify and shows no other root at {from}: {error}")]
    ProofProvesNothing {
        /// The smaller size.
        from: u64,
        /// The larger size.
        to: u64,
        /// What failed.
        error: MerkleError,
    },
}

/// The sizes (m, n) of the consistency proof two checkpoints need, smaller first: none when
/// the sizes are equal or the smaller tree is empty.
pub fn proof_sizes(a: &SignedCheckpoint, b: &SignedCheckpoint) -> Option<(u64, u64)> {
    let (m, n) = (a.checkpoint.size, b.checkpoint.size);
    let (m, n) = (m.min(n), m.max(n));
    (m > 0 && m < n).then_some((m, n))
}

/// Decides whether `a` and `b` (two checkpoints of one chain, either order) are consistent;
/// `proof` is the consistency proof's hashes for [`proof_sizes`] (ignored when none is needed).
pub fn judge(
    keys: &OrgKeys,
    a: &SignedCheckpoint,
    b: &SignedCheckpoint,
    proof: Vec<Digest>,
) -> Result<Consistency, ConsistencyError> {
    if a.checkpoint.origin != b.checkpoint.origin {
        return Err(ConsistencyError::DifferentChains(
            a.checkpoint.origin.clone(),
            b.checkpoint.origin.clone(),
        ));
    }
    let (small, large) = if a.checkpoint.size <= b.checkpoint.size {
        (a, b)
    } else {
        (b, a)
    };
    let (m, n) = (small.checkpoint.size, large.checkpoint.size);
    let split = |evidence| {
        Consistency::Split(Box::new(SplitViewProof {
            first: small.note.to_text(),
            second: large.note.to_text(),
            evidence,
        }))
    };
    if m == n {
        return Ok(if small.checkpoint.root == large.checkpoint.root {
            Consistency::Same { size: m }
        } else {
            split(SplitEvidence::SameSize)
        });
    }
    if m == 0 {
        return Ok(Consistency::Extends {
            from: m,
            to: n,
            hashes: 0,
        });
    }
    let proof = ConsistencyProof {
        old_size: m,
        new_size: n,
        path: proof,
    };
    let hashes = proof.path.len();
    match proof.verify(&small.checkpoint.root, &large.checkpoint.root) {
        Ok(()) => Ok(Consistency::Extends {
            from: m,
            to: n,
            hashes,
        }),
        // The proof leads from another root at m to the larger root: that root is the only
        // one the larger tree can have at m, so the two checkpoints conflict.
        Err(MerkleError::OldRootMismatch { computed, .. })
            if proof.verify(&computed, &large.checkpoint.root).is_ok() =>
        {
            let split_view = SplitViewProof {
                first: small.note.to_text(),
                second: large.note.to_text(),
                evidence: SplitEvidence::Prefix {
                    prefix_root: computed,
                    proof,
                },
            };
            // The notes were opened already; the check is the offline one a reader runs.
            if split_view
                .check(&keys.keys_for(&org_of(small), [m, n]))
                .is_err()
            {
                return Err(ConsistencyError::ProofProvesNothing {
                    from: m,
                    to: n,
                    error: MerkleError::OldRootMismatch {
                        computed,
                        expected: small.checkpoint.root,
                    },
                });
            }
            Ok(Consistency::Split(Box::new(split_view)))
        }
        Err(error) => Err(ConsistencyError::ProofProvesNothing {
            from: m,
            to: n,
            error,
        }),
    }
}

/// The JSON of `GET /api/consistency/{org}`.
#[derive(serde::Deserialize)]
struct ConsistencyAnswer {
    from: u64,
    to: u64,
    #[serde(default)]
    from_root: Option<String>,
    #[serde(default)]
    to_root: Option<String>,
    proof: Vec<String>,
}

/// A node's consistency proof between two sizes of a chain, with the roots it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConsistency {
    /// The node's root at the smaller size, if it said (older nodes did not).
    pub from_root: Option<Digest>,
    /// The node's root at the larger size, if it said.
    pub to_root: Option<Digest>,
    /// The proof's hashes.
    pub proof: Vec<Digest>,
}

/// The consistency proof from `from` to `to` records of `org`'s chain, from a node.
pub fn fetch_consistency(
    node: &str,
    org: &str,
    from: u64,
    to: u64,
) -> Result<Vec<Digest>, ProofFetchError> {
    Ok(fetch_node_consistency(&http_client(), node, org, from, to)?.proof)
}

/// The node's answer to `/api/consistency/{org}?from=…&to=…` with `client`: the proof and
/// the two roots it names; an answer for other sizes than asked, or a hash that is not one,
/// is malformed.
pub fn fetch_node_consistency(
    client: &reqwest::blocking::Client,
    node: &str,
    org: &str,
    from: u64,
    to: u64,
) -> Result<NodeConsistency, ProofFetchError> {
    let path = format!(
        "/api/consistency/{}?from={from}&to={to}",
        encode_path_segment(org)
    );
    let url = format!("{}{path}", node.trim_end_matches('/'));
    let bytes = read_all(
        get_with(client, node, &path)?,
        &url,
        PROOF_RESPONSE_BYTES_MAX,
    )?;
    let malformed = |detail: String| ProofFetchError::Malformed {
        url: url.clone(),
        detail,
    };
    let answer: ConsistencyAnswer =
        serde_json::from_slice(&bytes).map_err(|error| malformed(error.to_string()))?;
    if answer.from != from || answer.to != to {
        return Err(malformed(format!(
            "a proof from {} to {} where {from} to {to} was asked",
            answer.from, answer.to
        )));
    }
    let hash =
        |hex: &str| Digest::from_hex(hex).map_err(|_| malformed(format!("{hex:?} is not a hash")));
    Ok(NodeConsistency {
        from_root: answer.from_root.as_deref().map(hash).transpose()?,
        to_root: answer.to_root.as_deref().map(hash).transpose()?,
        proof: answer
            .proof
            .iter()
            .map(|hex| hash(hex))
            .collect::<Result<_, _>>()?,
    })
}

/// The checkpoint note a node publishes for `org`, or `None` when it publishes none (404).
pub fn fetch_checkpoint(node: &str, org: &str) -> Result<Option<String>, ProofFetchError> {
    let path = format!("/checkpoint/{}", encode_path_segment(org));
    let url = format!("{}{path}", node.trim_end_matches('/'));
    match get(node, &path) {
        Ok(response) => {
            let bytes = read_all(
                response,
                &url,
                aidledger_spec::limits::NOTE_BYTES_MAX as u64,
            )?;
            String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| ProofFetchError::Malformed {
                    url,
                    detail: "the note is not UTF-8".into(),
                })
        }
        Err(ProofFetchError::Status { status: 404, .. }) => Ok(None),
        Err(error) => Err(error),
    }
}
