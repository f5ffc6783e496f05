//! What a witness makes of a checkpoint a node serves (issue 21, C2SP tlog-witness's rules):
//! the first of its origin is cosigned; one equal to the last cosigned needs nothing; a larger
//! one is cosigned only once the node's consistency proof from the last cosigned tree verifies;
//! a smaller one, or one that conflicts, is refused, and when the two checkpoints cannot both
//! be true the refusal carries a split-view proof (FORMAT.md §25) anyone can check offline.

use aidledger_spec::checkpoint::SignedCheckpoint;
use aidledger_spec::merkle::ConsistencyProof;
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};

use super::fetch::Fetcher;
use crate::consistency::{judge, org_of, Consistency, NodeConsistency, OrgKeys};
use crate::packet::ProofFetchError;

/// What to do with a checkpoint.
#[derive(Debug)]
pub enum Outcome {
    /// It is the checkpoint last cosigned (same size and root): nothing to do.
    AlreadyCosigned,
    /// Cosign it: the first of its origin (`from` = None), or it extends the tree of `from`
    /// records last cosigned (the consistency proof verified).
    Cosign {
        /// The size last cosigned.
        from: Option<u64>,
    },
    /// Refuse it, saying why; with the split-view proof when the two cannot both be true.
    Refuse {
        /// Why, in plain words.
        reason: String,
        /// The checked split-view proof, when one could be built.
        split_view: Option<Box<SplitViewProof>>,
    },
}

/// Judges `new`, served by `node`, against `last`, the checkpoint of its origin last
/// cosigned. `Err` when it could not be decided now (the node did not answer the consistency
/// proof): nothing is refused, the next round asks again.
pub fn judge_checkpoint(
    keys: &OrgKeys,
    fetcher: &Fetcher,
    node: &str,
    new: &SignedCheckpoint,
    last: Option<&SignedCheckpoint>,
) -> Result<Outcome, ProofFetchError> {
    let Some(last) = last else {
        return Ok(Outcome::Cosign { from: None });
    };
    let (m, n) = (last.checkpoint.size, new.checkpoint.size);
    if m == n {
        if last.checkpoint.root == new.checkpoint.root {
            return Ok(Outcome::AlreadyCosigned);
        }
        let split_view = compare(keys, last, new, None).split_view();
        return Ok(Outcome::Refuse {
            reason: format!(
                "a checkpoint of {n} records with root {}, where the one cosigned has root {}",
                new.checkpoint.root, last.checkpoint.root
            ),
            split_view,
        });
    }
    let org = org_of(new);
    if m < n {
        if m == 0 {
            // Every tree extends the empty one.
            return Ok(Outcome::Cosign { from: Some(0) });
        }
        let answer = fetcher.consistency(node, &org, m, n)?;
        return Ok(match compare(keys, last, new, Some(answer)) {
            Comparison::Consistent => Outcome::Cosign { from: Some(m) },
            Comparison::Split(proof) => Outcome::Refuse {
                reason: format!(
                    "its tree of {n} records does not extend the tree of {m} records cosigned"
                ),
                split_view: Some(proof),
            },
            Comparison::Unproven(detail) => Outcome::Refuse {
                reason: format!(
                    "the node's consistency proof from {m} to {n} records does not verify ({detail}); \
                     no split-view proof can be built from it"
                ),
                split_view: None,
            },
        });
    }
    // Smaller than the tree cosigned: never cosigned (a cosignature says it is the largest
    // seen), but when the node proves its tree of m has another root at n, a split view.
    let reason = format!("older than the checkpoint of {m} records cosigned");
    if n == 0 {
        return Ok(Outcome::Refuse {
            reason,
            split_view: None,
        });
    }
    Ok(match fetcher.consistency(node, &org, n, m) {
        Ok(answer) => match compare(keys, new, last, Some(answer)) {
            Comparison::Consistent => Outcome::Refuse {
                reason: format!("{reason} (consistent with it: an old checkpoint)"),
                split_view: None,
            },
            Comparison::Split(proof) => Outcome::Refuse {
                reason: format!(
                    "{reason}, and the tree cosigned does not extend it (two histories)"
                ),
                split_view: Some(proof),
            },
            Comparison::Unproven(detail) => Outcome::Refuse {
                reason: format!(
                    "{reason}; the node's proof from {n} to {m} proves nothing ({detail})"
                ),
                split_view: None,
            },
        },
        Err(error) => Outcome::Refuse {
            reason: format!(
                "{reason}; no split-view proof: the node gave no consistency proof to {m} ({error})"
            ),
            split_view: None,
        },
    })
}

/// Two checkpoints of one origin, compared.
enum Comparison {
    Consistent,
    Split(Box<SplitViewProof>),
    Unproven(String),
}

impl Comparison {
    fn split_view(self) -> Option<Box<SplitViewProof>> {
        match self {
            Comparison::Split(proof) => Some(proof),
            _ => None,
        }
    }
}

/// Compares `small` and `large` (sizes m ≤ n) with the node's consistency proof from m to n
/// (none for equal sizes). A Prefix split view is built from the root the proof computes at
/// m, or, when the proof cannot show it (m a power of two), from the node's `from_root`. Every
/// split view is checked as a reader would before it is kept.
fn compare(
    keys: &OrgKeys,
    small: &SignedCheckpoint,
    large: &SignedCheckpoint,
    answer: Option<NodeConsistency>,
) -> Comparison {
    let (m, n) = (small.checkpoint.size, large.checkpoint.size);
    let org = org_of(small);
    let path = answer
        .as_ref()
        .map(|answer| answer.proof.clone())
        .unwrap_or_default();
    let judged = judge(keys, small, large, path.clone());
    let unproven = match judged {
        Ok(Consistency::Same { .. } | Consistency::Extends { .. }) => {
            return Comparison::Consistent
        }
        Ok(Consistency::Split(proof)) => return checked(keys, &org, [m, n], proof),
        Err(error) => error.to_string(),
    };
    let Some(from_root) = answer.and_then(|answer| answer.from_root) else {
        return Comparison::Unproven(unproven);
    };
    let proof = ConsistencyProof {
        old_size: m,
        new_size: n,
        path,
    };
    if from_root == small.checkpoint.root
        || proof.verify(&from_root, &large.checkpoint.root).is_err()
    {
        return Comparison::Unproven(unproven);
    }
    checked(
        keys,
        &org,
        [m, n],
        Box::new(SplitViewProof {
            first: small.note.to_text(),
            second: large.note.to_text(),
            evidence: SplitEvidence::Prefix {
                prefix_root: from_root,
                proof,
            },
        }),
    )
}

/// The split view if it checks with every key that could have signed either checkpoint.
fn checked(keys: &OrgKeys, org: &str, sizes: [u64; 2], proof: Box<SplitViewProof>) -> Comparison {
    let mut org_keys = keys.keys_at(org, sizes[0]);
    org_keys.extend(keys.keys_at(org, sizes[1]));
    org_keys.sort();
    org_keys.dedup();
    match proof.check(&org_keys) {
        Ok(_) => Comparison::Split(proof),
        Err(error) => Comparison::Unproven(format!("the split view does not check: {error}")),
    }
}
