//! The golden vector of a version 2 bundle (FORMAT.md §13): `bundle-v2.json`. Included by
//! `examples/make_vectors.rs`, `tests/vectors.rs` and `tests/hostile.rs` beside `vector_set.rs`
//! (as `crate::vector_set`); a file of its own so that `bundle.json` keeps its bytes.
//!
//! The bundle of `bundle.json` (the donor's records 0 to 2 and one equivocation proof), in a
//! version 2 bundle that also carries the donor's checkpoint of its three records and a
//! split-view proof: the donor's checkpoint of a forked history of size 2 (seq 1 replaced) and
//! its true checkpoint of size 3, with the true tree's root at size 2 and the consistency proof
//! from it.

#![allow(dead_code)] // each includer uses a different part

use aidledger_spec::bundle::{BundleWriter, EquivocationProof};
use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::codec::Codec;
use aidledger_spec::merkle::{ConsistencyProof, MemoryTree};
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
use aidledger_spec::{Digest, RecordId, SignedRecord};
use serde_json::{json, Value};

use crate::vector_set::{donor_chain, Fixture, VectorFile, DONOR};

/// The file's name under `spec/vectors/`.
pub const FILE_NAME: &str = "bundle-v2.json";
/// The record id the fork has at seq 1.
const FORKED_RECORD: RecordId = Digest([0xfe; 32]);

/// What the bundle holds, in the order written.
pub struct BundleV2 {
    /// The bundle's bytes.
    pub bytes: Vec<u8>,
    /// The donor's checkpoint of its three records.
    pub checkpoint: String,
    /// The split-view proof.
    pub split_view: SplitViewProof,
    /// The donor's records 0 to 2.
    pub records: Vec<Vec<u8>>,
    /// The equivocation proof.
    pub proof: EquivocationProof,
}

fn note(fixture: &Fixture, tree: &MemoryTree, size: u64) -> String {
    let root = tree.root(size).expect("the vector trees hold these sizes");
    Checkpoint::new(&fixture.network_id(), DONOR, size, root)
        .sign(&fixture.donor)
        .expect("the vector checkpoints sign")
        .to_text()
}

/// Builds the bundle.
pub fn bundle_v2(fixture: &Fixture) -> BundleV2 {
    let (records, equivocating) = donor_chain(fixture);
    let ids: Vec<RecordId> = records
        .iter()
        .map(|bytes| SignedRecord::parse(bytes.clone()).expect("valid").id)
        .collect();
    let truth = MemoryTree::of_record_ids(&ids);
    let fork = MemoryTree::of_record_ids(&[ids[0], FORKED_RECORD]);
    let checkpoint = note(fixture, &truth, 3);
    let split_view = SplitViewProof {
        first: note(fixture, &fork, 2),
        second: checkpoint.clone(),
        evidence: SplitEvidence::Prefix {
            prefix_root: truth.root(2).expect("held"),
            proof: ConsistencyProof {
                old_size: 2,
                new_size: 3,
                path: truth.consistency_proof(2, 3).expect("held"),
            },
        },
    };
    let proof = EquivocationProof {
        first: records[0].clone(),
        second: equivocating,
    };
    let write = || -> std::io::Result<Vec<u8>> {
        let mut writer = BundleWriter::new_v2(Vec::new(), &fixture.genesis.encode())?;
        writer.proof(&proof)?;
        writer.split_view(&split_view)?;
        for record in &records {
            writer.record(record)?;
        }
        writer.checkpoint(&checkpoint)?;
        writer.finish()
    };
    BundleV2 {
        bytes: write().expect("writing to a Vec cannot fail"),
        checkpoint,
        split_view,
        records,
        proof,
    }
}

/// The offset of each frame (kind, offset) after the version, read from the bytes.
pub fn frame_offsets(bytes: &[u8]) -> Vec<(u8, usize)> {
    let mut offsets = Vec::new();
    let mut at = 10;
    while at + 9 <= bytes.len() {
        let length = u64::from_le_bytes(bytes[at + 1..at + 9].try_into().expect("8 bytes"));
        offsets.push((bytes[at], at));
        at += 9 + length as usize;
    }
    offsets
}

/// The file.
pub fn bundle_v2_file() -> VectorFile {
    let fixture = Fixture::new();
    let made = bundle_v2(&fixture);
    let end_frame_bytes = 1 + 8 + 32;
    let frames: Vec<Value> = frame_offsets(&made.bytes)
        .into_iter()
        .map(|(kind, offset)| json!({"kind": format!("{kind:02x}"), "offset": offset}))
        .collect();
    VectorFile {
        name: FILE_NAME,
        json: json!({
            "description": "A version 2 bundle (FORMAT.md §13): magic, version 2, genesis frame, one equivocation proof (as in bundle.json), one split-view proof (frame 05: the donor's checkpoint of a forked history of size 2, its true checkpoint of size 3, Prefix evidence), the donor's records 0 to 2, the donor's checkpoint of size 3 (frame 04), end frame (records 3, proofs 1, checkpoints 1, split views 1). bundle_truncated_hex is the same bundle without its end frame: a reader must report it as truncated.",
            "bundle_hex": hex::encode(&made.bytes),
            "frames": frames,
            "checkpoint": made.checkpoint,
            "split_view_hex": hex::encode(made.split_view.to_bytes()),
            "expected": { "records": 3, "proofs": 1, "checkpoints": 1, "split_views": 1 },
            "bundle_truncated_hex": hex::encode(&made.bytes[..made.bytes.len() - end_frame_bytes]),
        }),
    }
}
