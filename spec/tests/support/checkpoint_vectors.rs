//! The golden vectors of signed notes, checkpoints and cosignatures (FORMAT.md §23–§24):
//! `checkpoints.json`. Included by `examples/make_vectors.rs` and `tests/vectors.rs` beside
//! `vector_set.rs` (as `crate::vector_set`).
//!
//! The file holds the examples of others (their source named) with the verdicts expected, and
//! aidledger's own: the donor's checkpoint of its chain at size 1 (the tree of one leaf: its
//! root is the leaf hash of the donor's seq 0 record of `records-valid.json`, FORMAT.md §22),
//! cosigned by witnesses of fixed seeds, and notes each refused for one reason.

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::cosignature;
use aidledger_spec::note::{KeyType, Note, VerifierKey};
use aidledger_spec::{Digest, PublicKey};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::vector_set::{valid_records, Fixture, VectorFile, DONOR, DONOR_SEED};

/// The file's name under `spec/vectors/`.
pub const FILE_NAME: &str = "checkpoints.json";

/// Seeds of the three witnesses of the vectors (no member's key).
pub const WITNESS_SEEDS: [[u8; 32]; 3] = [[0xa1; 32], [0xa2; 32], [0xa3; 32]];
/// The witnesses' names.
pub const WITNESS_NAMES: [&str; 3] = [
    "witness-1.example.org",
    "witness-2.example.org",
    "witness-3.example.org",
];
/// When each witness cosigned (POSIX seconds).
pub const COSIGNED_AT: [u64; 2] = [1_796_000_000, 1_796_000_007];

/// The examples of others, each with its source, its text and what a verifier must find.
fn examples() -> Value {
    json!([
        {
            "name": "c2sp-signed-note",
            "source": "C2SP/C2SP signed-note.md, \"Verifier keys\", \"Example\"",
            "vkeys": ["example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"],
            "note": "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n",
            "expected": { "verified": ["example.com/foo+530d903a"] }
        },
        {
            "name": "go-sumdb-note",
            "source": "golang.org/x/mod/sumdb/note, package documentation \"Example\"; the signer key PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz is the type byte 01 and the seed",
            "seed_hex": "810a1402d5146c8d84f2443330f54080ebf98ee17d9c74f6252fc5d5c7283173",
            "vkeys": ["PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"],
            "note": "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            "expected": { "verified": ["PeterNeumann+c74f20a3"] }
        },
        {
            "name": "c2sp-cosigned-checkpoint",
            "source": "C2SP/C2SP tlog-cosignature.md, the first example (its keys are not published: it is checked for its grammar, key id and signed message)",
            "vkeys": [],
            "note": "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n",
            "expected": {
                "error": "no-trusted-signature",
                "checkpoint": { "origin": "example.com/behind-the-sofa", "size": 20852163, "root_hex": "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62" },
                "lines": [
                    { "name": "example.com/behind-the-sofa", "key_id": "033de0ae" },
                    { "name": "witness.example.com/w1", "key_id": "8d66cf3f", "timestamp": 1679315147 }
                ],
                "cosigned_message": "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
            }
        },
        {
            "name": "arche2025h1-cosigned",
            "source": "a checkpoint of the public staging CT log arche2025h1.staging.ct.transparency.dev with its RFC 6962 signature (type 05, unknown here: ignored), its Ed25519 note signature and four witness cosignatures, as found in a public test suite; the vkeys are the log's and the public witness remora.n621.de's",
            "vkeys": [
                "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f",
                "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
            ],
            "note": "arche2025h1.staging.ct.transparency.dev\n1432088532\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n\n\u{2014} arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n\u{2014} arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n\u{2014} transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n\u{2014} witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n\u{2014} remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n\u{2014} witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n",
            "expected": {
                "verified": ["arche2025h1.staging.ct.transparency.dev+ba2f06c0", "remora.n621.de+da77ade7"],
                "timestamps": [null, 1_779_573_024u64]
            }
        }
    ])
}

fn witness_vkey(index: usize) -> VerifierKey {
    let key = SigningKey::from_bytes(&WITNESS_SEEDS[index]);
    VerifierKey::new(
        WITNESS_NAMES[index],
        KeyType::Cosignature,
        PublicKey(key.verifying_key().to_bytes()),
    )
    .expect("the vector witnesses' keys are acceptable")
}

/// The donor's checkpoint at size 1, signed.
pub fn donor_checkpoint(fixture: &Fixture) -> (Checkpoint, Digest, Note) {
    let record_id = valid_records(fixture)[0].id;
    // The root of a tree of one leaf is that leaf's hash, SHA-256(00 ‖ record id) (§22).
    let root = Digest(
        Sha256::new()
            .chain_update([0u8])
            .chain_update(record_id.0)
            .finalize()
            .into(),
    );
    let checkpoint = Checkpoint::new(&fixture.network_id(), DONOR, 1, root);
    let note = checkpoint
        .sign(&fixture.donor)
        .expect("the vector checkpoint signs");
    (checkpoint, record_id, note)
}

fn cosigned(note: &Note, witnesses: &[usize]) -> Note {
    let mut out = note.clone();
    for (order, &index) in witnesses.iter().enumerate() {
        let key = SigningKey::from_bytes(&WITNESS_SEEDS[index]);
        out.signatures.push(
            cosignature::sign(&note.text, WITNESS_NAMES[index], &key, COSIGNED_AT[order])
                .expect("the vector cosignature signs"),
        );
    }
    out
}

/// The file.
pub fn checkpoints_file() -> VectorFile {
    let fixture = Fixture::new();
    let (checkpoint, record_id, note) = donor_checkpoint(&fixture);
    let org_vkey = VerifierKey::new(
        &checkpoint.origin,
        KeyType::Ed25519,
        PublicKey(fixture.donor.verifying_key().to_bytes()),
    )
    .expect("the donor's key is acceptable");
    let both = cosigned(&note, &[0, 1]);
    let once = cosigned(&note, &[2]);
    let mut bad_cosignature = both.clone();
    if let Some(last) = bad_cosignature.signatures.last_mut() {
        last.signature[8] ^= 1;
    }
    let other_network = Checkpoint::new(&Digest([0xaa; 32]), DONOR, 1, checkpoint.root)
        .sign(&fixture.donor)
        .expect("signs");
    let grown = Note {
        text: checkpoint.text().replace("\n1\n", "\n2\n"),
        signatures: note.signatures.clone(),
    };
    let by_outsider = checkpoint.sign(&fixture.outsider).expect("signs");
    VectorFile {
        name: FILE_NAME,
        json: json!({
            "description": "Signed notes, checkpoints and cosignatures (FORMAT.md §23-§24). `examples`: texts of C2SP and others, with their source, the vkeys to trust and what verifying finds. `checkpoint`: the donor's checkpoint of its chain at size 1 on the network of genesis.json (root = SHA-256(00 || record id of its seq 0 record in records-valid.json)), signed with the donor's record key (seed in genesis.json). `witnesses` (Ed25519 seeds, cosignature vkeys of type 04), `policy` 2 of the 3; `cosigned` notes with the verdict of the policy; `invalid` notes the organisation's check must refuse, with the reason.",
            "examples": examples(),
            "checkpoint": {
                "network_id": fixture.network_id().to_hex(),
                "org": DONOR,
                "org_seed_hex": hex::encode(DONOR_SEED),
                "org_vkey": org_vkey.to_vkey(),
                "origin": checkpoint.origin,
                "size": checkpoint.size,
                "leaf_record_id": record_id.to_hex(),
                "root_hex": checkpoint.root.to_hex(),
                "text": checkpoint.text(),
                "note": note.to_text(),
            },
            "witnesses": (0..3).map(|index| json!({
                "name": WITNESS_NAMES[index],
                "seed_hex": hex::encode(WITNESS_SEEDS[index]),
                "vkey": witness_vkey(index).to_vkey(),
            })).collect::<Vec<_>>(),
            "policy": { "witnesses": [0, 1, 2], "threshold": 2 },
            "cosigned": [
                {
                    "name": "two-of-three",
                    "note": both.to_text(),
                    "cosigned_messages": COSIGNED_AT.iter().map(|time| cosignature::signed_message(&note.text, *time).iter().map(|&byte| char::from(byte)).collect::<String>()).collect::<Vec<_>>(),
                    "expected": { "policy_met": true, "cosigned": [[0, COSIGNED_AT[0]], [1, COSIGNED_AT[1]]] }
                },
                {
                    "name": "one-of-three",
                    "note": once.to_text(),
                    "expected": { "policy_met": false, "error": "not-enough", "valid": 1 }
                },
                {
                    "name": "bad-cosignature",
                    "note": bad_cosignature.to_text(),
                    "expected": { "policy_met": false, "error": "bad-signature" }
                }
            ],
            "invalid": [
                { "name": "other-network", "note": other_network.to_text(), "expected": "wrong-origin" },
                { "name": "size-changed", "note": grown.to_text(), "expected": "bad-signature" },
                { "name": "signed-by-a-key-of-no-member", "note": by_outsider.to_text(), "expected": "not-signed-by-organisation" }
            ]
        }),
    }
}
