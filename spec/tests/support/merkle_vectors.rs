//! The Merkle tree vectors (`merkle.json`, FORMAT.md §22), and RFC 9162's recursive
//! definitions written out naively (MTH, PATH, PROOF) to check the crate's iterative ones by.
//!
//! A file of its own, like `activities.json`, so that the earlier files keep their bytes.

#![allow(dead_code)] // each includer uses a different part

use aidledger_spec::codec::Codec;
use aidledger_spec::merkle::{
    self, leaf_hash, node_hash, ConsistencyProof, InclusionProof, MemoryTree,
};
use aidledger_spec::{Digest, RecordId};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::vector_set::VectorFile;

/// Records in the vector tree.
pub const VECTOR_LEAVES: u64 = 13;
/// The tree sizes whose roots the file gives.
pub const ROOT_SIZES: [u64; 8] = [1, 2, 3, 4, 5, 7, 8, 13];
/// The (leaf index, tree size) pairs whose inclusion proofs the file gives.
pub const INCLUSION_CASES: [(u64, u64); 5] = [(0, 1), (0, 8), (5, 8), (6, 7), (12, 13)];
/// The (old size, new size) pairs whose consistency proofs the file gives.
pub const CONSISTENCY_CASES: [(u64, u64); 5] = [(1, 13), (3, 7), (4, 8), (6, 8), (13, 13)];

/// The vector chain's record id at `seq`: SHA-256("aidledger:merkle-vector:v1\n" ‖ seq as u64
/// little endian). Stand-ins for record ids: the tree hashes 32 bytes whatever they are.
pub fn vector_record_id(seq: u64) -> RecordId {
    let mut hasher = Sha256::new();
    hasher.update(b"aidledger:merkle-vector:v1\n");
    hasher.update(seq.to_le_bytes());
    Digest(hasher.finalize().into())
}

/// MTH(D[n]) of RFC 9162 §2.1.1, recursively, over leaf hashes.
pub fn naive_root(leaves: &[Digest]) -> Digest {
    match leaves.len() {
        0 => merkle::empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// The largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// PATH(m, D[n]) of RFC 9162 §2.1.3.1, recursively.
pub fn naive_path(index: usize, leaves: &[Digest]) -> Vec<Digest> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if index < k {
        let mut path = naive_path(index, &leaves[..k]);
        path.push(naive_root(&leaves[k..]));
        path
    } else {
        let mut path = naive_path(index - k, &leaves[k..]);
        path.push(naive_root(&leaves[..k]));
        path
    }
}

/// PROOF(m, D[n]) of RFC 9162 §2.1.4.1, recursively (SUBPROOF with b = true).
pub fn naive_consistency(m: usize, leaves: &[Digest]) -> Vec<Digest> {
    naive_subproof(m, leaves, true)
}

fn naive_subproof(m: usize, leaves: &[Digest], whole: bool) -> Vec<Digest> {
    let n = leaves.len();
    if m == n {
        return if whole {
            Vec::new()
        } else {
            vec![naive_root(leaves)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut proof = naive_subproof(m, &leaves[..k], whole);
        proof.push(naive_root(&leaves[k..]));
        proof
    } else {
        let mut proof = naive_subproof(m - k, &leaves[k..], false);
        proof.push(naive_root(&leaves[..k]));
        proof
    }
}

fn hexes(hashes: &[Digest]) -> Vec<String> {
    hashes.iter().map(Digest::to_hex).collect()
}

/// `merkle.json`.
pub fn merkle_file() -> VectorFile {
    let ids: Vec<RecordId> = (0..VECTOR_LEAVES).map(vector_record_id).collect();
    let tree = MemoryTree::of_record_ids(&ids);
    let leaves: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(seq, id)| json!({"seq": seq, "record_id": id.to_hex(), "leaf_hash": leaf_hash(id).to_hex()}))
        .collect();
    let roots: Vec<Value> = ROOT_SIZES
        .iter()
        .map(|&size| json!({"tree_size": size, "root": tree.root(size).expect("in the tree").to_hex()}))
        .collect();
    let inclusion: Vec<Value> = INCLUSION_CASES
        .iter()
        .map(|&(index, size)| {
            let proof = InclusionProof {
                leaf_index: index,
                tree_size: size,
                path: tree.inclusion_proof(index, size).expect("in the tree"),
            };
            json!({
                "leaf_index": index,
                "tree_size": size,
                "path": hexes(&proof.path),
                "root": tree.root(size).expect("in the tree").to_hex(),
                "encoded_hex": hex::encode(proof.to_bytes()),
            })
        })
        .collect();
    let consistency: Vec<Value> = CONSISTENCY_CASES
        .iter()
        .map(|&(old_size, new_size)| {
            let proof = ConsistencyProof {
                old_size,
                new_size,
                path: tree
                    .consistency_proof(old_size, new_size)
                    .expect("in the tree"),
            };
            json!({
                "old_size": old_size,
                "new_size": new_size,
                "path": hexes(&proof.path),
                "old_root": tree.root(old_size).expect("in the tree").to_hex(),
                "new_root": tree.root(new_size).expect("in the tree").to_hex(),
                "encoded_hex": hex::encode(proof.to_bytes()),
            })
        })
        .collect();
    let json = json!({
        "description": "The Merkle tree of a chain (FORMAT.md section 22): 13 records whose ids stand in for real ones (SHA-256 of \"aidledger:merkle-vector:v1\\n\" and seq as u64 little endian), each leaf hash SHA-256(00 || record id), the roots at several sizes (the empty tree's root is SHA-256 of nothing), inclusion proofs (leaf index = seq) and consistency proofs with their paths bottom up as RFC 9162 orders them and their encodings (section 22.4).",
        "empty_root": merkle::empty_root().to_hex(),
        "leaves": leaves,
        "roots": roots,
        "inclusion": inclusion,
        "consistency": consistency,
    });
    VectorFile {
        name: "merkle.json",
        json,
    }
}
