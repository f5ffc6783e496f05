//! `mirror-check URL URL`: do two nodes serve the same history? A node publishes its own
//! organisation's checkpoint and the cosigned ones it collected, so for every member both are
//! asked: when both publish one, the
//! two are judged as `checkpoint check` does (same root, a consistency proof from the larger
//! node, or a split-view proof); when one publishes, the other node's tree of that chain is
//! held to the signed checkpoint: its root at the checkpoint's size must be the checkpoint's,
//! or, when it holds fewer records, the publisher's consistency proof must lead from its root
//! to the checkpoint's (it is behind, on the same history).

use aidledger_spec::checkpoint::SignedCheckpoint;
use aidledger_spec::merkle::ConsistencyProof;
use aidledger_spec::Digest;

use crate::consistency::{
    fetch_checkpoint, fetch_consistency, judge, proof_sizes, Consistency, OrgKeys,
};
use crate::packet::{get, read_all, ProofFetchError, PROOF_RESPONSE_BYTES_MAX};
use crate::source::encode_path_segment;

/// What one organisation's chain showed on the two nodes.
#[derive(Debug)]
pub enum Row {
    /// Neither node publishes a checkpoint of it.
    NotPublished,
    /// Both publish one: how the two compare.
    Both(Consistency),
    /// Node `publisher` (0 or 1) publishes one of `size` records; the other node's chain.
    One {
        /// Which node publishes (0 = the first URL).
        publisher: usize,
        /// The checkpoint's size.
        size: u64,
        /// What the other node's chain showed.
        other: Follow,
    },
    /// It could not be checked (a node unreachable, a note that does not open, a proof that
    /// proves nothing).
    Unknown(String),
}

/// The other node's chain against a signed checkpoint.
#[derive(Debug, PartialEq, Eq)]
pub enum Follow {
    /// It holds `held` >= size records, with the checkpoint's root at its size.
    Holds {
        /// Records it holds.
        held: u64,
    },
    /// It holds fewer records, and the publisher's consistency proof leads from its root.
    Behind {
        /// Records it holds.
        held: u64,
    },
    /// Its tree has another root at `at` records than the signed history.
    Differs {
        /// Records it holds.
        held: u64,
        /// The size compared at.
        at: u64,
        /// Its root there.
        root: Digest,
    },
}

impl Row {
    /// Whether the row shows two histories.
    pub fn is_split(&self) -> bool {
        matches!(
            self,
            Row::Both(Consistency::Split(_))
                | Row::One {
                    other: Follow::Differs { .. },
                    ..
                }
        )
    }
}

/// Compares `org`'s chain on `nodes`.
pub fn compare(keys: &OrgKeys, nodes: [&str; 2], org: &str) -> Row {
    match compare_inner(keys, nodes, org) {
        Ok(row) => row,
        Err(text) => Row::Unknown(text),
    }
}

fn compare_inner(keys: &OrgKeys, nodes: [&str; 2], org: &str) -> Result<Row, String> {
    let mut notes: Vec<Option<SignedCheckpoint>> = Vec::new();
    for node in nodes {
        let note = fetch_checkpoint(node, org).map_err(|error| error.to_string())?;
        let opened = match note {
            Some(text) => Some(keys.open(&text).map_err(|error| {
                format!(
                    "{node} serves a checkpoint of {org} its organisation did not sign: {error}"
                )
            })?),
            None => None,
        };
        notes.push(opened);
    }
    match (&notes[0], &notes[1]) {
        (None, None) => Ok(Row::NotPublished),
        (Some(a), Some(b)) => {
            let proof = match proof_sizes(a, b) {
                None => Vec::new(),
                Some((from, to)) => {
                    // The node with the larger checkpoint holds the larger tree.
                    let larger = if a.checkpoint.size >= b.checkpoint.size {
                        nodes[0]
                    } else {
                        nodes[1]
                    };
                    fetch_consistency(larger, org, from, to).map_err(|error| error.to_string())?
                }
            };
            judge(keys, a, b, proof)
                .map(Row::Both)
                .map_err(|error| error.to_string())
        }
        (Some(signed), None) | (None, Some(signed)) => {
            let publisher = usize::from(notes[0].is_none());
            let other = follow(nodes[publisher], nodes[1 - publisher], org, signed)
                .map_err(|error| error.to_string())?;
            Ok(Row::One {
                publisher,
                size: signed.checkpoint.size,
                other,
            })
        }
    }
}

/// The other node's chain of `org` against the publisher's signed checkpoint.
fn follow(
    publisher: &str,
    other: &str,
    org: &str,
    signed: &SignedCheckpoint,
) -> Result<Follow, ProofFetchError> {
    let (size, signed_root) = (signed.checkpoint.size, signed.checkpoint.root);
    let held = chain_size(other, org)?;
    if held == 0 {
        return Ok(Follow::Behind { held });
    }
    if size == 0 {
        return Ok(Follow::Holds { held });
    }
    let at = held.min(size);
    let root = root_at(other, org, at)?;
    if held >= size {
        return Ok(if root == signed_root {
            Follow::Holds { held }
        } else {
            Follow::Differs { held, at, root }
        });
    }
    let proof = ConsistencyProof {
        old_size: held,
        new_size: size,
        path: fetch_consistency(publisher, org, held, size)?,
    };
    Ok(if proof.verify(&root, &signed_root).is_ok() {
        Follow::Behind { held }
    } else {
        Follow::Differs { held, at, root }
    })
}

/// The JSON of `GET /api/orgs/{org}/records`, as far as read here.
#[derive(serde::Deserialize)]
struct Page {
    records: Vec<PageRecord>,
}

#[derive(serde::Deserialize)]
struct PageRecord {
    id: String,
    seq: u64,
}

/// The JSON of `GET /api/proof/{id}?size=N`, as far as read here.
#[derive(serde::Deserialize)]
struct ProofRoot {
    size: u64,
    root: String,
}

fn json<T: serde::de::DeserializeOwned>(node: &str, path: &str) -> Result<T, ProofFetchError> {
    let url = format!("{}{path}", node.trim_end_matches('/'));
    let bytes = read_all(get(node, path)?, &url, PROOF_RESPONSE_BYTES_MAX)?;
    serde_json::from_slice(&bytes).map_err(|error| ProofFetchError::Malformed {
        url,
        detail: error.to_string(),
    })
}

/// The newest record of `org`'s chain below `before` (or the newest), as (seq, id hex).
fn newest(
    node: &str,
    org: &str,
    before: Option<u64>,
) -> Result<Option<PageRecord>, ProofFetchError> {
    let before = before.map_or(String::new(), |seq| format!("&before_seq={seq}"));
    let path = format!(
        "/api/orgs/{}/records?limit=1{before}",
        encode_path_segment(org)
    );
    let page: Page = json(node, &path)?;
    Ok(page.records.into_iter().next())
}

/// How many records of `org`'s chain `node` holds.
fn chain_size(node: &str, org: &str) -> Result<u64, ProofFetchError> {
    Ok(newest(node, org, None)?.map_or(0, |record| record.seq.saturating_add(1)))
}

/// The root of `node`'s tree of `org`'s first `size` records (`size` >= 1): the proof of the
/// record at `size - 1` at that size carries it.
fn root_at(node: &str, org: &str, size: u64) -> Result<Digest, ProofFetchError> {
    let malformed = |detail: String| ProofFetchError::Malformed {
        url: node.to_owned(),
        detail,
    };
    let record = newest(node, org, Some(size))?
        .filter(|record| record.seq + 1 == size)
        .ok_or_else(|| malformed(format!("no record at seq {} of {org}", size - 1)))?;
    let answer: ProofRoot = json(node, &format!("/api/proof/{}?size={size}", record.id))?;
    if answer.size != size {
        return Err(malformed(format!(
            "a proof at size {} where {size} was asked",
            answer.size
        )));
    }
    Digest::from_hex(&answer.root)
        .map_err(|_| malformed(format!("{:?} is not a hash", answer.root)))
}
