//! Split-view proofs (FORMAT.md §25) beyond the vectors: the bytes round trip and refuse every
//! cut; after any one changed byte, a valid proof fails to decode or to check; hostile bytes
//! never panic; and for trees of up to 12 leaves, every fork gives a proof that checks when the
//! smaller checkpoint covers the forked leaf, and none when it does not.

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::codec::Codec;
use aidledger_spec::merkle::{ConsistencyProof, MemoryTree};
use aidledger_spec::splitview::{SplitEvidence, SplitViewError, SplitViewProof};
use aidledger_spec::{Digest, PublicKey};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn keys() -> Vec<PublicKey> {
    vec![PublicKey(key().verifying_key().to_bytes())]
}

fn note(tree: &MemoryTree, size: u64) -> String {
    Checkpoint::new(
        &Digest([0x42; 32]),
        "GB-GOV-1",
        size,
        tree.root(size).unwrap(),
    )
    .sign(&key())
    .unwrap()
    .to_text()
}

fn tree(ids: &[u8]) -> MemoryTree {
    let ids: Vec<Digest> = ids.iter().map(|&byte| Digest([byte; 32])).collect();
    MemoryTree::of_record_ids(&ids)
}

/// The proof a witness would build: same size, or the larger tree's prefix and its proof.
fn build(first: &MemoryTree, m: u64, second: &MemoryTree, n: u64) -> SplitViewProof {
    let evidence = if m == n {
        SplitEvidence::SameSize
    } else {
        SplitEvidence::Prefix {
            prefix_root: second.root(m).unwrap(),
            proof: ConsistencyProof {
                old_size: m,
                new_size: n,
                path: second.consistency_proof(m, n).unwrap(),
            },
        }
    };
    SplitViewProof {
        first: note(first, m),
        second: note(second, n),
        evidence,
    }
}

#[test]
fn every_conflict_of_small_trees_is_proved_and_no_agreement_is() {
    for n in 1..=12u8 {
        let truth: Vec<u8> = (0..n).collect();
        let truth_tree = tree(&truth);
        for fork_at in 0..n {
            let mut forked = truth.clone();
            forked[usize::from(fork_at)] = 200;
            let fork_tree = tree(&forked);
            for m in 1..=n {
                let m = u64::from(m);
                let proof = build(&fork_tree, m, &truth_tree, u64::from(n));
                let verdict = proof.check(&keys());
                if m > u64::from(fork_at) {
                    // The fork's first m leaves differ from the truth's: a split view.
                    let split =
                        verdict.unwrap_or_else(|e| panic!("n {n} fork {fork_at} m {m}: {e}"));
                    assert_eq!(split.org, "GB-GOV-1");
                    assert_eq!(split.first.size, m);
                } else {
                    // The fork agrees with the truth up to m: nothing to prove.
                    assert_eq!(
                        verdict,
                        Err(SplitViewError::Consistent),
                        "n {n} fork {fork_at} m {m}"
                    );
                }
            }
        }
    }
}

#[test]
fn proofs_round_trip_and_refuse_cuts_and_changes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/split-views.json");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let expected = case["expected"].as_str().unwrap();
        let proof =
            SplitViewProof::from_bytes(&hex::decode(case["proof_hex"].as_str().unwrap()).unwrap())
                .unwrap();
        let keys: Vec<PublicKey> = case["org_public_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| PublicKey::from_hex(key.as_str().unwrap()).unwrap())
            .collect();
        let bytes = proof.to_bytes();
        assert_eq!(SplitViewProof::from_bytes(&bytes).unwrap(), proof, "{name}");
        for cut in 0..bytes.len() {
            assert!(
                SplitViewProof::from_bytes(&bytes[..cut]).is_err(),
                "{name} cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(SplitViewProof::from_bytes(&longer).is_err());
        if expected != "split" {
            continue;
        }
        // Every changed byte either fails to decode or no longer proves a split view.
        for index in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[index] ^= 0x01;
            if let Ok(decoded) = SplitViewProof::from_bytes(&changed) {
                assert!(
                    decoded.check(&keys).is_err(),
                    "{name}: byte {index} still proves it"
                );
            }
        }
    }
}

#[test]
fn a_proof_needs_the_organisations_key() {
    let proof = build(&tree(&[9, 1, 2]), 3, &tree(&[0, 1, 2, 3]), 4);
    assert!(proof.check(&keys()).is_ok());
    let other = vec![PublicKey(
        SigningKey::from_bytes(&[2; 32]).verifying_key().to_bytes(),
    )];
    assert!(matches!(proof.check(&other), Err(SplitViewError::First(_))));
    let swapped = SplitViewProof {
        first: proof.second.clone(),
        second: proof.first.clone(),
        evidence: proof.evidence.clone(),
    };
    assert!(matches!(
        swapped.check(&keys()),
        Err(SplitViewError::Sizes { .. })
    ));
}

proptest! {
    #[test]
    fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(proof) = SplitViewProof::from_bytes(&bytes) {
            prop_assert_eq!(proof.to_bytes(), bytes);
            let _ = proof.check(&keys());
        }
    }
}
