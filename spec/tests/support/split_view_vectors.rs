//! The golden vectors of split-view proofs (FORMAT.md §25): `split-views.json`. Included by
//! `examples/make_vectors.rs` and `tests/vectors.rs` beside `vector_set.rs` (as
//! `crate::vector_set`); a file of its own so that `checkpoints.json` keeps its bytes.
//!
//! The donor shows two histories of its chain: the true one (six leaves) and a fork in which
//! its record at seq 2 is another one. Each case is a proof, its bytes (FORMAT.md §2) and the
//! verdict of `SplitViewProof::check` with the donor's (and for one case the implementer's) key.

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::codec::Codec;
use aidledger_spec::merkle::{ConsistencyProof, MemoryTree};
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
use aidledger_spec::{Digest, PublicKey, RecordId};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::vector_set::{valid_records, Fixture, VectorFile, DONOR, IMPLEMENTER};

/// The file's name under `spec/vectors/`.
pub const FILE_NAME: &str = "split-views.json";
/// Leaves of the true history.
const TRUE_LEAVES: usize = 6;
/// The record id the fork has at seq 2 (a record shown to one witness only).
const FORKED_RECORD: RecordId = Digest([0xfe; 32]);

/// The leaves of the true history: the record ids of `records-valid.json` in file order,
/// used only as 32-byte leaves.
pub fn true_leaves(fixture: &Fixture) -> Vec<RecordId> {
    valid_records(fixture)
        .iter()
        .map(|made| made.id)
        .take(TRUE_LEAVES)
        .collect()
}

/// The fork: the true leaves with seq 2 replaced.
pub fn forked_leaves(fixture: &Fixture) -> Vec<RecordId> {
    let mut leaves = true_leaves(fixture);
    leaves[2] = FORKED_RECORD;
    leaves
}

fn note(fixture: &Fixture, org: &str, key: &SigningKey, tree: &MemoryTree, size: u64) -> String {
    let root = tree.root(size).expect("the vector trees hold these sizes");
    Checkpoint::new(&fixture.network_id(), org, size, root)
        .sign(key)
        .expect("the vector checkpoints sign")
        .to_text()
}

fn prefix(tree: &MemoryTree, old: u64, new: u64) -> SplitEvidence {
    SplitEvidence::Prefix {
        prefix_root: tree.root(old).expect("held"),
        proof: ConsistencyProof {
            old_size: old,
            new_size: new,
            path: tree.consistency_proof(old, new).expect("held"),
        },
    }
}

fn public(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// The cases: name, proof, the keys to check with, and the verdict (`split` or an error code).
pub fn cases(
    fixture: &Fixture,
) -> Vec<(&'static str, SplitViewProof, Vec<PublicKey>, &'static str)> {
    let truth = MemoryTree::of_record_ids(&true_leaves(fixture));
    let fork = MemoryTree::of_record_ids(&forked_leaves(fixture));
    let donor = |tree: &MemoryTree, size| note(fixture, DONOR, &fixture.donor, tree, size);
    let keys = vec![public(&fixture.donor)];
    let proof = |first, second, evidence| SplitViewProof {
        first,
        second,
        evidence,
    };
    let mut broken = prefix(&truth, 3, 6);
    if let SplitEvidence::Prefix { proof, .. } = &mut broken {
        proof.path[0].0[0] ^= 1;
    }
    vec![
        (
            "same-size",
            proof(donor(&fork, 3), donor(&truth, 3), SplitEvidence::SameSize),
            keys.clone(),
            "split",
        ),
        (
            "prefix",
            proof(donor(&fork, 3), donor(&truth, 6), prefix(&truth, 3, 6)),
            keys.clone(),
            "split",
        ),
        (
            "prefix-of-a-power-of-two",
            proof(donor(&fork, 4), donor(&truth, 6), prefix(&truth, 4, 6)),
            keys.clone(),
            "split",
        ),
        (
            "consistent",
            proof(donor(&truth, 3), donor(&truth, 6), prefix(&truth, 3, 6)),
            keys.clone(),
            "consistent",
        ),
        (
            "same-checkpoint",
            proof(donor(&truth, 3), donor(&truth, 3), SplitEvidence::SameSize),
            keys.clone(),
            "consistent",
        ),
        (
            "proof-altered",
            proof(donor(&fork, 3), donor(&truth, 6), broken),
            keys.clone(),
            "proof",
        ),
        (
            "proof-of-other-sizes",
            proof(donor(&fork, 3), donor(&truth, 6), prefix(&truth, 2, 6)),
            keys.clone(),
            "sizes",
        ),
        (
            "same-size-evidence-for-two-sizes",
            proof(donor(&fork, 3), donor(&truth, 6), SplitEvidence::SameSize),
            keys.clone(),
            "sizes",
        ),
        (
            "first-not-signed-by-the-organisation",
            proof(
                note(fixture, DONOR, &fixture.outsider, &fork, 3),
                donor(&truth, 3),
                SplitEvidence::SameSize,
            ),
            keys.clone(),
            "first",
        ),
        (
            "two-organisations",
            proof(
                donor(&fork, 3),
                note(fixture, IMPLEMENTER, &fixture.implementer, &truth, 3),
                SplitEvidence::SameSize,
            ),
            vec![public(&fixture.donor), public(&fixture.implementer)],
            "different-origins",
        ),
    ]
}

/// The file.
pub fn split_views_file() -> VectorFile {
    let fixture = Fixture::new();
    let hexes = |ids: &[RecordId]| ids.iter().map(|id| id.to_hex()).collect::<Vec<_>>();
    let cases: Vec<Value> = cases(&fixture)
        .into_iter()
        .map(|(name, proof, keys, expected)| {
            json!({
                "name": name,
                "org_public_keys": keys.iter().map(PublicKey::to_hex).collect::<Vec<_>>(),
                "first": proof.first,
                "second": proof.second,
                "proof_hex": hex::encode(proof.to_bytes()),
                "expected": expected,
            })
        })
        .collect();
    VectorFile {
        name: FILE_NAME,
        json: json!({
            "description": "Split-view proofs (FORMAT.md §25) on the network of genesis.json. The donor's true history has the leaves `true_leaves` (record ids of records-valid.json in file order, used only as leaves); its fork has `forked_leaves` (seq 2 replaced). Each case: the two checkpoint notes, the proof's bytes (first note, second note, evidence; FORMAT.md §2), the organisation keys to check with, and the verdict of the check: `split`, or why the proof proves nothing (`consistent`, `proof`, `sizes`, `first`, `second`, `different-origins`).",
            "network_id": fixture.network_id().to_hex(),
            "true_leaves": hexes(&true_leaves(&fixture)),
            "forked_leaves": hexes(&forked_leaves(&fixture)),
            "cases": cases,
        }),
    }
}
