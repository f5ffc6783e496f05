//! What `verify` makes of the split-view proofs and the witnessing of a source (FORMAT.md
//! §13.3, §24, §25): split views carried by a bundle or served by a witness are checked with
//! every key the organisation ever had and reported like equivocations unless a revocation
//! explains them; each chain is "witnessed at size N by k of n" when a checkpoint the source
//! holds carries enough cosignatures of the governance's witness policy.

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::cosignature::WitnessPolicy;
use aidledger_spec::governance::{Authority, KeyEndReason};
use aidledger_spec::merkle::MemoryTree;
use aidledger_spec::note::Note;
use aidledger_spec::splitview::{SplitView, SplitViewProof};
use aidledger_spec::{Digest, PublicKey, RecordId};
use serde_json::json;

use crate::checked::Checked;
use crate::freshness::{ChainIds, CheckpointInput, Freshness};

/// What one split-view proof showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SplitVerdict {
    /// The organisation signed two histories of one chain: the source is invalid.
    Proven(SplitView),
    /// The two checkpoints differ after a position the governance revoked the chain from, and
    /// both are histories the source shows (FORMAT.md §25.2): not a split view.
    Explained {
        /// The checked proof.
        view: SplitView,
        /// The revocation's position.
        from_seq: u64,
    },
    /// The proof proves nothing (a source must not carry one): the source is invalid.
    Unproven {
        /// The organisation its first note names, when it names one.
        org: Option<String>,
        /// Why.
        error: String,
    },
}

/// The label of the checkpoints and split views the source itself carried.
pub const CARRIED: &str = "carried by the source";
/// The most bytes `verify --witness` reads of one witness's `/api/witness` answer.
pub const WITNESS_ANSWER_BYTES_MAX: u64 = 16 * 1024 * 1024;

impl SplitVerdict {
    /// Whether it makes the source invalid: a proven split view always; a proof that proves
    /// nothing when the source carried it (a writer must not), not when a witness served it.
    pub fn fails_source(&self, carried: bool) -> bool {
        match self {
            SplitVerdict::Proven(_) => true,
            SplitVerdict::Explained { .. } => false,
            SplitVerdict::Unproven { .. } => carried,
        }
    }

    /// One line for people.
    pub fn line(&self, label: &str) -> String {
        match self {
            SplitVerdict::Proven(view) => format!(
                "split view ({label}): {} SIGNED TWO HISTORIES of its chain: {}",
                view.org,
                pair(view)
            ),
            SplitVerdict::Explained { view, from_seq } => format!(
                "split view ({label}): {}'s two checkpoints differ after seq {from_seq}, from which the governance revoked its chain; both are histories this source shows, so it is explained (not a split view): {}",
                view.org,
                pair(view)
            ),
            SplitVerdict::Unproven { org, error } => format!(
                "split view ({label}): FAILS: a split-view proof{} that proves nothing: {error}",
                org.as_ref().map(|org| format!(" against {org}")).unwrap_or_default()
            ),
        }
    }

    /// The same as JSON.
    pub fn json(&self, label: &str) -> serde_json::Value {
        let view_json = |view: &SplitView| {
            json!({"org": view.org,
                   "first": {"size": view.first.size, "root": view.first.root.to_hex()},
                   "second": {"size": view.second.size, "root": view.second.root.to_hex()}})
        };
        let mut value = match self {
            SplitVerdict::Proven(view) => {
                let mut value = view_json(view);
                value["verdict"] = json!("split view");
                value
            }
            SplitVerdict::Explained { view, from_seq } => {
                let mut value = view_json(view);
                value["verdict"] = json!("explained by a revocation");
                value["revoked_from_seq"] = json!(from_seq);
                value
            }
            SplitVerdict::Unproven { org, error } => {
                json!({"verdict": "proves nothing", "org": org, "error": error})
            }
        };
        value["from"] = json!(label);
        value
    }
}

fn pair(view: &SplitView) -> String {
    format!(
        "size {} root {} and size {} root {}",
        view.first.size, view.first.root, view.second.size, view.second.root
    )
}

/// The organisation a split-view proof's first note names, if it reads.
pub fn split_view_org(proof: &SplitViewProof) -> Option<String> {
    let (_, org) = Checkpoint::of_note(&proof.first).ok()?.chain().ok()?;
    Some(org)
}

/// Every key the authority ever gave `org` (genesis keys, granted keys, rotated and revoked
/// ones included): a checkpoint signed before a key's end stays the organisation's statement.
pub fn every_key(authority: &Authority, org: &str) -> Vec<PublicKey> {
    authority
        .member(org)
        .map(|member| member.keys.iter().map(|span| span.key).collect())
        .unwrap_or_default()
}

/// The positions from which the governance revoked `org`'s chain: its removal and each of its
/// keys' revocations.
fn revocations(authority: &Authority, org: &str) -> Vec<u64> {
    let Some(member) = authority.member(org) else {
        return Vec::new();
    };
    let mut positions: Vec<u64> = member
        .keys
        .iter()
        .filter_map(|span| span.end)
        .filter(|end| end.reason == KeyEndReason::Revoked)
        .map(|end| end.from_seq)
        .chain(member.removed.map(|removal| removal.from_seq))
        .collect();
    positions.sort_unstable();
    positions.dedup();
    positions
}

/// Judges each split-view proof against the verified source.
pub fn judge_split_views(
    checked: &Checked,
    ids: &ChainIds,
    proofs: &[(String, SplitViewProof)],
) -> Vec<(String, SplitVerdict)> {
    let authority = checked.derivation().authority;
    let network = checked.genesis.network_id();
    proofs
        .iter()
        .map(|(label, proof)| {
            let org = split_view_org(proof);
            let keys = org
                .as_deref()
                .map(|org| every_key(&authority, org))
                .unwrap_or_default();
            let verdict = match proof.check(&keys) {
                Err(error) => SplitVerdict::Unproven {
                    org,
                    error: error.to_string(),
                },
                Ok(view) if view.network != network => SplitVerdict::Unproven {
                    org,
                    error: format!("its checkpoints are of network {}", view.network),
                },
                Ok(view) => explain(checked, &authority, ids, view),
            };
            (label.clone(), verdict)
        })
        .collect()
}

/// A proven split view, or explained when the governance revoked the chain from p below both
/// sizes and each checkpoint's root is that of a history the source shows: the chain's valid
/// records, or those below p followed by the records held as revoked from p on (FORMAT.md
/// §13.3). Both trees then share the source's first p records.
fn explain(
    checked: &Checked,
    authority: &Authority,
    ids: &ChainIds,
    view: SplitView,
) -> SplitVerdict {
    let (valid, _) = ids.linked(&view.org);
    let revoked: std::collections::BTreeMap<u64, RecordId> = checked
        .report
        .chains
        .iter()
        .filter(|chain| chain.author == view.org)
        .flat_map(|chain| &chain.revoked)
        .filter_map(|problem| Some((problem.seq?, problem.record_id?)))
        .collect();
    let smaller = view.first.size.min(view.second.size);
    for from_seq in revocations(authority, &view.org) {
        if from_seq >= smaller || from_seq > valid.len() as u64 {
            continue;
        }
        let mut old: Vec<RecordId> = valid[..from_seq as usize].to_vec();
        for (expected, (seq, id)) in (from_seq..).zip(revoked.range(from_seq..)) {
            if *seq != expected {
                break;
            }
            old.push(*id);
        }
        let histories = [
            MemoryTree::of_record_ids(valid),
            MemoryTree::of_record_ids(&old),
        ];
        let shown = |size: u64, root: &Digest| {
            histories
                .iter()
                .any(|tree| tree.root(size).is_ok_and(|found| found == *root))
        };
        if shown(view.first.size, &view.first.root) && shown(view.second.size, &view.second.root) {
            return SplitVerdict::Explained { view, from_seq };
        }
    }
    SplitVerdict::Proven(view)
}

/// How one chain is witnessed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainWitness {
    /// The organisation.
    pub org: String,
    /// The largest checkpoint the source holds that meets the policy: its size and how many of
    /// the policy's witnesses cosigned it.
    pub witnessed: Option<(u64, usize)>,
}

/// The witnessing of every non-empty chain of the source under `policy`: the largest
/// checkpoint of each chain that the source holds (its freshness check passed) and that
/// carries valid cosignatures of at least the policy's threshold of witnesses.
pub fn chain_witnesses(
    checked: &Checked,
    inputs: &[CheckpointInput],
    fresh: &[Freshness],
    policy: &WitnessPolicy,
) -> Vec<ChainWitness> {
    checked
        .report
        .chains
        .iter()
        .filter(|chain| chain.length > 0)
        .map(|chain| {
            let witnessed = inputs
                .iter()
                .zip(fresh)
                .filter_map(|(input, judged)| match judged {
                    Freshness::Holds { org, size, .. } if *org == chain.author => {
                        let note = Note::parse(&input.text).ok()?;
                        let cosigned = policy.check(&note).ok()?;
                        Some((*size, cosigned.len()))
                    }
                    _ => None,
                })
                .max();
            ChainWitness {
                org: chain.author.clone(),
                witnessed,
            }
        })
        .collect()
}

impl ChainWitness {
    /// One line for people.
    pub fn line(&self, policy: &WitnessPolicy) -> String {
        let n = policy.witnesses().len();
        match self.witnessed {
            Some((size, k)) => format!(
                "witnessed {}: at size {size} by {k} of {n} witness(es) ({} needed)",
                self.org,
                policy.threshold()
            ),
            None => format!(
                "witnessed {}: NOT witnessed: no checkpoint of its chain that this source holds carries the cosignatures of {} of the {n} witness(es)",
                self.org,
                policy.threshold()
            ),
        }
    }

    /// The same as JSON.
    pub fn json(&self, policy: &WitnessPolicy) -> serde_json::Value {
        json!({
            "org": self.org,
            "witnessed": self.witnessed.is_some(),
            "size": self.witnessed.map(|(size, _)| size),
            "cosigned_by": self.witnessed.map(|(_, k)| k),
            "witnesses": policy.witnesses().len(),
            "threshold": policy.threshold(),
        })
    }
}

/// Why a witness's answer could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WitnessFetchError {
    /// The witness could not be reached or refused.
    #[error("witness {url}: {detail}")]
    Unreachable {
        /// The witness.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The answer is not the witness API's JSON (FORMAT: `{"witness", "checkpoints",
    /// "split_views"}`).
    #[error("witness {url} answered something that is not its /api/witness JSON: {detail}")]
    Malformed {
        /// The witness.
        url: String,
        /// What is wrong.
        detail: String,
    },
}

#[derive(serde::Deserialize)]
struct WitnessAnswer {
    witness: String,
    checkpoints: Vec<String>,
    split_views: Vec<String>,
}

/// What a witness serves: its cosigned checkpoints and the split-view proofs it keeps, each
/// labelled with where it came from.
pub type WitnessAnswerItems = (Vec<CheckpointInput>, Vec<(String, SplitViewProof)>);

/// What a witness serves (`GET {url}/api/witness`), labelled with the witness's URL and name.
pub fn fetch_witness(url: &str) -> Result<WitnessAnswerItems, WitnessFetchError> {
    use aidledger_spec::codec::Codec;
    use std::io::Read as _;
    let unreachable = |detail: String| WitnessFetchError::Unreachable {
        url: url.to_owned(),
        detail,
    };
    let malformed = |detail: String| WitnessFetchError::Malformed {
        url: url.to_owned(),
        detail,
    };
    let address = format!("{}/api/witness", url.trim_end_matches('/'));
    let response = crate::source::http_client()
        .get(&address)
        .send()
        .map_err(|error| unreachable(format!("cannot reach it: {error}")))?;
    if !response.status().is_success() {
        return Err(unreachable(format!(
            "GET /api/witness answered {}",
            response.status()
        )));
    }
    let mut body = Vec::new();
    response
        .take(WITNESS_ANSWER_BYTES_MAX + 1)
        .read_to_end(&mut body)
        .map_err(|error| unreachable(error.to_string()))?;
    if body.len() as u64 > WITNESS_ANSWER_BYTES_MAX {
        return Err(malformed(format!("over {WITNESS_ANSWER_BYTES_MAX} bytes")));
    }
    let answer: WitnessAnswer =
        serde_json::from_slice(&body).map_err(|error| malformed(error.to_string()))?;
    let label = format!("witness {url} ({})", answer.witness);
    let checkpoints = answer
        .checkpoints
        .into_iter()
        .map(|text| CheckpointInput {
            label: label.clone(),
            text,
        })
        .collect();
    let split_views = answer
        .split_views
        .iter()
        .map(|hex_bytes| {
            let bytes = hex::decode(hex_bytes)
                .map_err(|error| malformed(format!("a split view's hex: {error}")))?;
            SplitViewProof::from_bytes(&bytes)
                .map(|proof| (label.clone(), proof))
                .map_err(|error| malformed(format!("a split view's bytes: {error}")))
        })
        .collect::<Result<_, _>>()?;
    Ok((checkpoints, split_views))
}
