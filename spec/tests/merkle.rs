//! The Merkle tree of §22 against RFC 9162: the RFC 6962 reference tree and the
//! transparency-dev probes, every tree of 1 to 64 leaves compared with the RFC's recursive
//! definitions, every proof refused when a byte, index or size changes, and hostile sizes
//! answered without a panic.

#[path = "support/governance_vectors.rs"]
#[allow(unused)]
mod governance_vectors;
#[path = "support/merkle_vectors.rs"]
mod merkle_vectors;
#[path = "support/signature_edges.rs"]
#[allow(unused)]
mod signature_edges;
#[path = "support/vector_set.rs"]
#[allow(unused)]
mod vector_set;

use aidledger_spec::codec::{Codec, DecodeError};
use aidledger_spec::limits::MERKLE_PROOF_HASHES_MAX;
use aidledger_spec::merkle::{
    self, completed_nodes, consistency_proof, inclusion_proof, leaf_hash_bytes, verify_consistency,
    verify_inclusion, ConsistencyProof, InclusionProof, MemoryTree, MerkleError, NodeSource,
};
use aidledger_spec::Digest;
use merkle_vectors::{naive_consistency, naive_path, naive_root};
use proptest::prelude::*;
use serde_json::Value;
use sha2::Digest as _;

/// The largest tree every proof of which is checked.
const EXHAUSTIVE_LEAVES_MAX: u64 = 64;

fn d(text: &str) -> Digest {
    Digest::from_hex(text).expect("a hex digest")
}

/// The leaves of the RFC 6962 reference tree (transparency-dev/merkle testonly/constants.go).
fn reference_inputs() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|text| hex::decode(text).expect("hex"))
    .collect()
}

/// Its roots at sizes 0 to 8 (the same file).
const REFERENCE_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// Its complete subtrees by level (the same file's `NodeHashes`).
const REFERENCE_NODES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

fn reference_tree() -> MemoryTree {
    let mut tree = MemoryTree::new();
    for input in reference_inputs() {
        tree.push(leaf_hash_bytes(&input));
    }
    tree
}

#[test]
fn the_rfc_6962_reference_tree_has_its_published_roots_and_nodes() {
    let tree = reference_tree();
    for (size, root) in REFERENCE_ROOTS.iter().enumerate() {
        assert_eq!(tree.root(size as u64), Ok(d(root)), "size {size}");
    }
    assert_eq!(merkle::empty_root(), d(REFERENCE_ROOTS[0]));
    for (level, nodes) in REFERENCE_NODES.iter().enumerate() {
        for (index, node) in nodes.iter().enumerate() {
            assert_eq!(tree.node(level as u8, index as u64), Ok(d(node)));
        }
    }
}

/// The RFC 6962 inclusion and consistency proofs of the reference tree, as published with
/// transparency-dev/merkle (proof/verify_test.go): each (index, size) with its path.
#[test]
fn the_reference_tree_gives_the_published_proofs() {
    let tree = reference_tree();
    let inclusion: [(u64, u64, &[&str]); 4] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
    ];
    for (index, size, path) in inclusion {
        let path: Vec<Digest> = path.iter().map(|text| d(text)).collect();
        assert_eq!(
            tree.inclusion_proof(index, size),
            Ok(path),
            "{index} in {size}"
        );
    }
    let consistency: [(u64, u64, &[&str]); 3] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (old, new, path) in consistency {
        let path: Vec<Digest> = path.iter().map(|text| d(text)).collect();
        assert_eq!(tree.consistency_proof(old, new), Ok(path), "{old} to {new}");
    }
}

fn probes() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/rfc6962-probes.json"
    );
    let text = std::fs::read_to_string(path).expect("the probes file");
    serde_json::from_str(&text).expect("JSON")
}

fn probe_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::Null => Vec::new(),
        text => hex::decode(text.as_str().expect("hex")).expect("hex"),
    }
}

/// A hash field of a probe, if it is 32 bytes. The probes hold byte strings of other lengths
/// too (garbage before or after a hash, an empty leaf hash), which no `Digest` can be: our
/// API refuses them by its types.
fn probe_hash(value: &Value) -> Option<Digest> {
    <[u8; 32]>::try_from(probe_bytes(value).as_slice())
        .ok()
        .map(Digest)
}

/// A root of a consistency probe as 32 bytes: other lengths are mapped by SHA-256, which keeps
/// which roots are equal. Two probes give equal sizes with equal `"don't care"` roots of 12
/// bytes and expect them accepted: with equal sizes a verifier may only compare the roots.
fn probe_root(value: &Value) -> Digest {
    probe_hash(value).unwrap_or_else(|| Digest(sha2::Sha256::digest(probe_bytes(value)).into()))
}

#[test]
fn every_transparency_dev_probe_gets_its_verdict() {
    let probes = probes();
    let mut checked = 0;
    for probe in probes["inclusion"].as_array().expect("inclusion probes") {
        let name = probe["file"].as_str().expect("a name");
        let want_error = probe["want_error"].as_bool().expect("a verdict");
        let path: Option<Vec<Digest>> = (probe["proof"].as_array().expect("a proof").iter())
            .map(probe_hash)
            .collect();
        let (Some(leaf), Some(root), Some(path)) = (
            probe_hash(&probe["leaf_hash"]),
            probe_hash(&probe["root"]),
            path,
        ) else {
            assert!(
                want_error,
                "{name}: a valid probe with a hash that is not 32 bytes"
            );
            checked += 1;
            continue;
        };
        let verdict = verify_inclusion(
            &leaf,
            probe["leaf_index"].as_u64().expect("an index"),
            probe["tree_size"].as_u64().expect("a size"),
            &path,
            &root,
        );
        assert_eq!(verdict.is_err(), want_error, "{name}: {verdict:?}");
        checked += 1;
    }
    for probe in probes["consistency"]
        .as_array()
        .expect("consistency probes")
    {
        let name = probe["file"].as_str().expect("a name");
        let want_error = probe["want_error"].as_bool().expect("a verdict");
        let verdict = verify_consistency(
            probe["old_size"].as_u64().expect("a size"),
            probe["new_size"].as_u64().expect("a size"),
            &probe_root(&probe["old_root"]),
            &probe_root(&probe["new_root"]),
            &(probe["proof"].as_array().expect("a proof").iter())
                .map(probe_root)
                .collect::<Vec<_>>(),
        );
        assert_eq!(verdict.is_err(), want_error, "{name}: {verdict:?}");
        checked += 1;
    }
    assert_eq!(checked, 196, "every probe of the file");
}

fn leaves(count: u64) -> Vec<Digest> {
    (0..count)
        .map(|seq| merkle::leaf_hash(&merkle_vectors::vector_record_id(seq)))
        .collect()
}

fn tree_of(leaves: &[Digest]) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for leaf in leaves {
        tree.push(*leaf);
    }
    tree
}

#[test]
fn every_tree_up_to_64_leaves_agrees_with_the_recursive_definitions() {
    let leaves = leaves(EXHAUSTIVE_LEAVES_MAX);
    let tree = tree_of(&leaves);
    for size in 1..=EXHAUSTIVE_LEAVES_MAX {
        let n = size as usize;
        let root = naive_root(&leaves[..n]);
        assert_eq!(tree.root(size), Ok(root), "root of {size}");
        for index in 0..size {
            let path = tree.inclusion_proof(index, size).expect("a proof");
            assert_eq!(
                path,
                naive_path(index as usize, &leaves[..n]),
                "{index} in {size}"
            );
            assert_eq!(merkle::inclusion_proof_length(index, size), Ok(path.len()));
            assert_eq!(
                verify_inclusion(&leaves[index as usize], index, size, &path, &root),
                Ok(())
            );
        }
        for old in 1..=size {
            let proof = tree.consistency_proof(old, size).expect("a proof");
            assert_eq!(
                proof,
                naive_consistency(old as usize, &leaves[..n]),
                "{old} to {size}"
            );
            assert_eq!(merkle::consistency_proof_length(old, size), Ok(proof.len()));
            let old_root = naive_root(&leaves[..old as usize]);
            assert_eq!(
                verify_consistency(old, size, &old_root, &root, &proof),
                Ok(()),
                "{old} to {size}"
            );
        }
    }
}

/// Every byte of every hash flipped, one at a time.
fn each_byte_flipped(hashes: &[Digest]) -> impl Iterator<Item = Vec<Digest>> + '_ {
    (0..hashes.len() * 32).map(move |at| {
        let mut changed = hashes.to_vec();
        changed[at / 32].0[at % 32] ^= 0x01;
        changed
    })
}

fn flipped(hash: &Digest, at: usize) -> Digest {
    let mut changed = *hash;
    changed.0[at] ^= 0x80;
    changed
}

#[test]
fn every_inclusion_proof_is_refused_when_a_byte_index_or_size_changes() {
    let leaves = leaves(EXHAUSTIVE_LEAVES_MAX);
    let tree = tree_of(&leaves);
    let roots: Vec<Digest> = (0..=EXHAUSTIVE_LEAVES_MAX)
        .map(|size| tree.root(size).expect("a root"))
        .collect();
    for size in 1..=EXHAUSTIVE_LEAVES_MAX {
        let root = roots[size as usize];
        for index in 0..size {
            let leaf = leaves[index as usize];
            let path = tree.inclusion_proof(index, size).expect("a proof");
            for changed in each_byte_flipped(&path) {
                assert!(verify_inclusion(&leaf, index, size, &changed, &root).is_err());
            }
            for at in 0..32 {
                let (wrong_leaf, wrong_root) = (flipped(&leaf, at), flipped(&root, at));
                assert!(verify_inclusion(&wrong_leaf, index, size, &path, &root).is_err());
                assert!(verify_inclusion(&leaf, index, size, &path, &wrong_root).is_err());
            }
            // Another index, with its own leaf or with this one.
            for other in (0..size + 2).filter(|&other| other != index) {
                assert!(verify_inclusion(&leaf, other, size, &path, &root).is_err());
                if let Some(other_leaf) = leaves.get(other as usize) {
                    assert!(verify_inclusion(other_leaf, other, size, &path, &root).is_err());
                }
            }
            // Another size, with that size's root (a root stands for its size only in a
            // checkpoint, which signs the two together).
            for other in (1..=EXHAUSTIVE_LEAVES_MAX).filter(|&other| other != size) {
                let other_root = roots[other as usize];
                assert!(verify_inclusion(&leaf, index, other, &path, &other_root).is_err());
            }
            // A hash more or fewer.
            let mut longer = path.clone();
            longer.push(root);
            assert!(matches!(
                verify_inclusion(&leaf, index, size, &longer, &root),
                Err(MerkleError::WrongProofLength { .. })
            ));
            if !path.is_empty() {
                assert!(matches!(
                    verify_inclusion(&leaf, index, size, &path[1..], &root),
                    Err(MerkleError::WrongProofLength { .. })
                ));
            }
        }
    }
}

#[test]
fn every_consistency_proof_is_refused_when_a_byte_or_size_changes() {
    let leaves = leaves(EXHAUSTIVE_LEAVES_MAX);
    let tree = tree_of(&leaves);
    let roots: Vec<Digest> = (0..=EXHAUSTIVE_LEAVES_MAX)
        .map(|size| tree.root(size).expect("a root"))
        .collect();
    for new in 1..=EXHAUSTIVE_LEAVES_MAX {
        for old in 1..=new {
            let (old_root, new_root) = (roots[old as usize], roots[new as usize]);
            let proof = tree.consistency_proof(old, new).expect("a proof");
            for changed in each_byte_flipped(&proof) {
                assert!(verify_consistency(old, new, &old_root, &new_root, &changed).is_err());
            }
            for at in 0..32 {
                let (wrong_old, wrong_new) = (flipped(&old_root, at), flipped(&new_root, at));
                assert!(verify_consistency(old, new, &wrong_old, &new_root, &proof).is_err());
                assert!(verify_consistency(old, new, &old_root, &wrong_new, &proof).is_err());
            }
            if old != new {
                assert!(verify_consistency(old, new, &new_root, &old_root, &proof).is_err());
            }
            for other in (0..=EXHAUSTIVE_LEAVES_MAX + 1).filter(|&other| other != old) {
                let other_root = roots.get(other as usize).copied().unwrap_or(old_root);
                assert!(
                    verify_consistency(other, new, &other_root, &new_root, &proof).is_err(),
                    "{old} to {new} as {other} to {new}"
                );
            }
            for other in (0..=EXHAUSTIVE_LEAVES_MAX + 1).filter(|&other| other != new) {
                let other_root = roots.get(other as usize).copied().unwrap_or(new_root);
                assert!(
                    verify_consistency(old, other, &old_root, &other_root, &proof).is_err(),
                    "{old} to {new} as {old} to {other}"
                );
            }
            let mut longer = proof.clone();
            longer.push(new_root);
            assert!(verify_consistency(old, new, &old_root, &new_root, &longer).is_err());
            if !proof.is_empty() {
                let shorter = &proof[..proof.len() - 1];
                assert!(verify_consistency(old, new, &old_root, &new_root, shorter).is_err());
            }
        }
    }
}

#[test]
fn requests_without_a_proof_are_named() {
    let tree = tree_of(&leaves(8));
    let root = tree.root(8).expect("a root");
    assert_eq!(
        tree.inclusion_proof(8, 8),
        Err(MerkleError::IndexOutOfRange { index: 8, size: 8 })
    );
    assert_eq!(
        tree.inclusion_proof(0, 0),
        Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        tree.inclusion_proof(0, 9),
        Err(MerkleError::SizeBeyondTree {
            size: 9,
            available: 8
        })
    );
    assert_eq!(tree.consistency_proof(0, 8), Err(MerkleError::EmptyOldTree));
    assert_eq!(
        tree.consistency_proof(5, 4),
        Err(MerkleError::SizesReversed {
            old_size: 5,
            new_size: 4
        })
    );
    assert_eq!(
        verify_consistency(0, 0, &merkle::empty_root(), &merkle::empty_root(), &[]),
        Err(MerkleError::EmptyOldTree)
    );
    assert_eq!(
        verify_inclusion(&root, u64::MAX, u64::MAX, &[], &root),
        Err(MerkleError::IndexOutOfRange {
            index: u64::MAX,
            size: u64::MAX
        })
    );
    assert_eq!(
        verify_consistency(8, 8, &root, &root, &[root]),
        Err(MerkleError::WrongProofLength {
            got: 1,
            expected: 0
        })
    );
}

#[test]
fn completed_nodes_are_the_nodes_a_memory_tree_adds() {
    let leaves = leaves(EXHAUSTIVE_LEAVES_MAX);
    let mut tree = MemoryTree::new();
    for (size, leaf) in leaves.iter().enumerate() {
        let nodes = completed_nodes(&tree, size as u64, *leaf).expect("left siblings held");
        assert_eq!(nodes.len(), 1 + (size as u64).trailing_ones() as usize);
        tree.push(*leaf);
        for (level, index, hash) in nodes {
            assert_eq!(tree.node(level, index), Ok(hash), "{level}/{index}");
        }
    }
}

#[test]
fn proofs_encode_in_the_layout_of_section_2() {
    let tree = tree_of(&leaves(8));
    let proof = InclusionProof {
        leaf_index: 5,
        tree_size: 8,
        path: tree.inclusion_proof(5, 8).expect("a proof"),
    };
    let bytes = proof.to_bytes();
    assert_eq!(bytes.len(), 8 + 8 + 8 + 3 * 32);
    assert_eq!(
        hex::encode(&bytes[..24]),
        "0500000000000000\
         0800000000000000\
         0300000000000000"
    );
    assert_eq!(hex::encode(&bytes[24..56]), proof.path[0].to_hex());
    assert_eq!(InclusionProof::from_bytes(&bytes), Ok(proof));
    let consistency = ConsistencyProof {
        old_size: 3,
        new_size: 8,
        path: tree.consistency_proof(3, 8).expect("a proof"),
    };
    assert_eq!(
        ConsistencyProof::from_bytes(&consistency.to_bytes()),
        Ok(consistency)
    );
    // A path over its bound is refused before anything is read.
    let mut long = Vec::new();
    0u64.write(&mut long);
    1u64.write(&mut long);
    ((MERKLE_PROOF_HASHES_MAX + 1) as u64).write(&mut long);
    assert_eq!(
        InclusionProof::from_bytes(&long),
        Err(DecodeError::TooLong {
            what: "an inclusion proof's path",
            length: MERKLE_PROOF_HASHES_MAX as u64 + 1,
            max: MERKLE_PROOF_HASHES_MAX
        })
    );
}

/// A tree of any `u64` size whose leaves are all one hash: every complete subtree of a level
/// has the same hash, so proofs of trees of 2⁶⁴ − 1 leaves can be made and checked.
struct UniformTree {
    levels: Vec<Digest>,
}

impl UniformTree {
    fn new() -> UniformTree {
        let mut levels = vec![leaf_hash_bytes(b"uniform")];
        for level in 1..merkle::LEVELS_MAX as usize {
            let below = levels[level - 1];
            levels.push(merkle::node_hash(&below, &below));
        }
        UniformTree { levels }
    }
}

impl NodeSource for UniformTree {
    type Error = ();

    fn node(&self, level: u8, _index: u64) -> Result<Digest, ()> {
        self.levels.get(usize::from(level)).copied().ok_or(())
    }
}

fn size_and_below() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![
        Just(u64::MAX),
        Just(1u64 << 63),
        (1u64 << 63) + 1..=u64::MAX,
        1u64..=u64::MAX,
        1u64..1000,
    ]
    .prop_flat_map(|size| (Just(size), 0..size))
}

proptest! {
    /// Proofs in trees of up to 2⁶⁴ − 1 leaves are made and verified without overflow.
    #[test]
    fn huge_trees_prove_and_verify((size, below) in size_and_below()) {
        let tree = UniformTree::new();
        let root = merkle::root(&tree, size).expect("uniform");
        let path = inclusion_proof(&tree, below, size).expect("a proof");
        prop_assert!(path.len() <= 64);
        prop_assert_eq!(verify_inclusion(&tree.levels[0], below, size, &path, &root), Ok(()));
        if below > 0 {
            let old_root = merkle::root(&tree, below).expect("uniform");
            let proof = consistency_proof(&tree, below, size).expect("a proof");
            prop_assert!(proof.len() <= MERKLE_PROOF_HASHES_MAX);
            prop_assert_eq!(verify_consistency(below, size, &old_root, &root, &proof), Ok(()));
        }
    }

    /// Any sizes, index and proof of any length: a verdict, never a panic.
    #[test]
    fn hostile_proofs_get_a_verdict(
        a in any::<u64>(),
        b in any::<u64>(),
        path in proptest::collection::vec(any::<[u8; 32]>().prop_map(Digest), 0..80),
        root in any::<[u8; 32]>().prop_map(Digest),
    ) {
        let _ = verify_inclusion(&root, a, b, &path, &root);
        let _ = verify_consistency(a, b, &root, &root, &path);
        let _ = merkle::inclusion_proof_length(a, b);
        let _ = merkle::consistency_proof_length(a, b);
        let tree = tree_of(&leaves(5));
        let _ = tree.inclusion_proof(a % 8, b % 8);
        let _ = tree.consistency_proof(a % 8, b % 8);
        let _ = tree.root(b);
    }

    /// Decoding any bytes gives a proof or an error.
    #[test]
    fn decoding_any_bytes_gives_a_verdict(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = InclusionProof::from_bytes(&bytes);
        let _ = ConsistencyProof::from_bytes(&bytes);
    }
}
