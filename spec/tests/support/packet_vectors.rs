//! The golden vector of a one-record proof packet (FORMAT.md §26): `proof-packet.json` and the
//! packet's bytes alone in `proof-packet.bin`. Included by `examples/make_vectors.rs` and
//! `tests/vectors.rs` beside `vector_set.rs` and `checkpoint_vectors.rs`.
//!
//! The packet: the donor's disbursement (seq 0 of `records-valid.json`) in the donor's chain of
//! five records (seq 0 to 4 of that file), the checkpoint at size 5 signed by the donor and
//! cosigned by the first two witnesses of `checkpoints.json`; the genesis of `genesis.json`;
//! no governance records (the test network has none). Beside it, packets each refused for one
//! reason, with the reason.

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::cosignature;
use aidledger_spec::merkle::{InclusionProof, MemoryTree};
use aidledger_spec::note::{KeyType, VerifierKey};
use aidledger_spec::packet::ProofPacket;
use aidledger_spec::{PublicKey, RecordId};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::checkpoint_vectors::{COSIGNED_AT, WITNESS_NAMES, WITNESS_SEEDS};
use crate::vector_set::{valid_records, Fixture, VectorFile, DONOR};

/// The JSON file's name under `spec/vectors/`.
pub const FILE_NAME: &str = "proof-packet.json";
/// The packet's bytes alone, under `spec/vectors/`.
pub const BIN_NAME: &str = "proof-packet.bin";
/// Records in the donor's chain of the vector (seq 0 to 4 of `records-valid.json`).
pub const CHAIN_SIZE: u64 = 5;

/// The donor's chain: the wire bytes and ids of its records in seq order.
pub fn donor_chain(fixture: &Fixture) -> Vec<(RecordId, Vec<u8>)> {
    valid_records(fixture)
        .into_iter()
        .take(CHAIN_SIZE as usize)
        .map(|made| (made.id, made.bytes))
        .collect()
}

/// A witness's vkey (type 04) of the vectors.
pub fn witness_vkey(index: usize) -> VerifierKey {
    let key = SigningKey::from_bytes(&WITNESS_SEEDS[index]);
    VerifierKey::new(
        WITNESS_NAMES[index],
        KeyType::Cosignature,
        PublicKey(key.verifying_key().to_bytes()),
    )
    .expect("the vector witnesses' keys are acceptable")
}

/// The packet of the donor's record at `seq`, the checkpoint at [`CHAIN_SIZE`] cosigned by
/// the witnesses `cosigners`.
pub fn packet(fixture: &Fixture, seq: u64, cosigners: &[usize]) -> ProofPacket {
    let chain = donor_chain(fixture);
    let ids: Vec<RecordId> = chain.iter().map(|(id, _)| *id).collect();
    let tree = MemoryTree::of_record_ids(&ids);
    let root = tree.root(CHAIN_SIZE).expect("a tree of five");
    let mut note = Checkpoint::new(&fixture.network_id(), DONOR, CHAIN_SIZE, root)
        .sign(&fixture.donor)
        .expect("the vector checkpoint signs");
    for (order, &index) in cosigners.iter().enumerate() {
        let key = SigningKey::from_bytes(&WITNESS_SEEDS[index]);
        let line = cosignature::sign(&note.text, WITNESS_NAMES[index], &key, COSIGNED_AT[order])
            .expect("the vector cosignature signs");
        note.signatures.push(line);
    }
    ProofPacket {
        genesis: fixture.genesis.encode(),
        governance: Vec::new(),
        record: chain[seq as usize].1.clone(),
        inclusion: InclusionProof {
            leaf_index: seq,
            tree_size: CHAIN_SIZE,
            path: tree
                .inclusion_proof(seq, CHAIN_SIZE)
                .expect("an index in the tree"),
        },
        checkpoint: note.to_text(),
        order: None,
    }
}

/// Packets refused for one reason each: (name, what was changed, bytes, the error's name).
pub fn refused(fixture: &Fixture) -> Vec<(&'static str, &'static str, Vec<u8>, &'static str)> {
    let good = packet(fixture, 0, &[0, 1]);
    let mut flipped = good.clone();
    // The last byte of the record is in its signature.
    if let Some(byte) = flipped.record.last_mut() {
        *byte ^= 1;
    }
    let mut wrong_index = good.clone();
    wrong_index.inclusion.leaf_index = 1;
    let mut wrong_path = good.clone();
    wrong_path.inclusion.path[0].0[0] ^= 1;
    let other = packet(fixture, 1, &[0, 1]);
    let mut other_record = good.clone();
    other_record.record = other.record;
    vec![
        (
            "record-signature",
            "the record's last byte (in its signature) flipped",
            flipped.to_packet_bytes(),
            "record",
        ),
        (
            "wrong-index",
            "the proof's leaf index set to 1",
            wrong_index.to_packet_bytes(),
            "wrong-index",
        ),
        (
            "wrong-path",
            "the first byte of the proof's first hash flipped",
            wrong_path.to_packet_bytes(),
            "inclusion",
        ),
        (
            "other-record",
            "the record replaced by the donor's seq 1, proof of seq 0 kept",
            other_record.to_packet_bytes(),
            "wrong-index",
        ),
    ]
}

/// The file.
pub fn packet_file() -> VectorFile {
    let fixture = Fixture::new();
    let good = packet(&fixture, 0, &[0, 1]);
    let cases: Vec<Value> = refused(&fixture)
        .into_iter()
        .map(|(name, change, bytes, error)| {
            json!({ "name": name, "change": change, "packet_hex": hex::encode(bytes), "error": error })
        })
        .collect();
    VectorFile {
        name: FILE_NAME,
        json: json!({
            "description": "A one-record proof packet (FORMAT.md §26) on the network of genesis.json: the donor's disbursement (seq 0 of records-valid.json) in the donor's chain of 5 records (seq 0 to 4 of that file), with the checkpoint at size 5 signed by the donor and cosigned by witnesses 1 and 2 of checkpoints.json, and no governance records. `packet_hex` is the packet's bytes (also in proof-packet.bin); `tlog_proof` the C2SP tlog-proof text of its inclusion part; `expected` what verify_packet finds with the network id and a policy of 2 of the 3 witnesses. `refused`: packets changed in one way, and the first check that fails (FORMAT.md §26.2).",
            "network_id": fixture.network_id().to_hex(),
            "witness_vkeys": (0..3).map(|index| witness_vkey(index).to_vkey()).collect::<Vec<_>>(),
            "threshold": 2,
            "packet_hex": hex::encode(good.to_packet_bytes()),
            "tlog_proof": good.tlog_proof_text(),
            "expected": {
                "record": hex::encode(aidledger_spec::signed::record_id_of_bytes(&good.record).expect("a vector record").0),
                "author": DONOR,
                "seq": 0,
                "kind": "transaction",
                "size": CHAIN_SIZE,
                "root": hex::encode(Checkpoint::parse(&aidledger_spec::note::Note::parse(&good.checkpoint).expect("a vector note").text).expect("a vector checkpoint").root.0),
                "cosigned_by": [WITNESS_NAMES[0], WITNESS_NAMES[1]],
            },
            "refused": cases,
        }),
    }
}
