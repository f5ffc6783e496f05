//! Verifying a one-record proof packet (FORMAT.md §26, issue 21's target: < 5 ms): the golden
//! packet of `spec/vectors/proof-packet.bin` checked as `aidledger verify --proof` checks it —
//! decoding, the genesis and the network id, the record's signature, the authority from the
//! packet's governance records, the inclusion proof, the checkpoint's signature — without a
//! witness policy and with the vector's 2-of-3 policy (two cosignatures more).
//!
//! Run with `cargo bench -p aidledger-spec --bench proof_packet`.

use std::path::PathBuf;

use aidledger_spec::cosignature::WitnessPolicy;
use aidledger_spec::note::VerifierKey;
use aidledger_spec::packet::verify_packet;
use aidledger_spec::NetworkId;
use criterion::{criterion_group, criterion_main, Criterion};

struct Vector {
    packet: Vec<u8>,
    network: NetworkId,
    policy: WitnessPolicy,
}

fn vector() -> Vector {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("proof-packet.json")).expect("the packet vector"),
    )
    .expect("JSON");
    let network_hex = json["network_id"].as_str().expect("network id");
    let network = NetworkId::from_hex(network_hex).expect("hex network id");
    let witnesses = json["witness_vkeys"]
        .as_array()
        .expect("vkeys")
        .iter()
        .map(|vkey| VerifierKey::parse(vkey.as_str().expect("text")).expect("vkey"))
        .collect();
    let threshold = json["threshold"].as_u64().expect("threshold") as usize;
    Vector {
        packet: std::fs::read(dir.join("proof-packet.bin")).expect("the packet's bytes"),
        network,
        policy: WitnessPolicy::new(witnesses, threshold).expect("policy"),
    }
}

fn verify(c: &mut Criterion) {
    let vector = vector();
    // Checked once outside the loop, so that the bench measures a packet that passes.
    verify_packet(&vector.packet, &vector.network, Some(&vector.policy)).expect("valid packet");
    let mut group = c.benchmark_group("proof_packet");
    group.bench_function("verify, no witness policy", |b| {
        b.iter(|| verify_packet(&vector.packet, &vector.network, None))
    });
    group.bench_function("verify, 2-of-3 witness policy", |b| {
        b.iter(|| verify_packet(&vector.packet, &vector.network, Some(&vector.policy)))
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
