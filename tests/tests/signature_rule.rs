//! One signature verdict everywhere (FORMAT.md 7.1, issue 16), with the real binaries:
//! records whose R carries a torsion component of order 2, 4 or 8, made with the project's own
//! signing code and mixed with ordinary records, get the same verdict from `aidledger verify`
//! and `verify --strict` in chains of 1, 5 and 300 records; gossiped by a peer to a running
//! node, they are stored there and on the node that syncs from it, and forgeries of the same
//! headers are stored nowhere.

#[path = "../../spec/tests/support/signature_edges.rs"]
mod signature_edges;

use std::path::Path;
use std::time::Duration;

use aidledger_node::network::probe::Probe;
use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::genesis::{AdminRule, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::record::Statement;
use aidledger_spec::{sign_record, signature, Body, Genesis, RecordDraft, RecordId};
use aidledger_tests::network::{Mesh, REPLICATION_TIMEOUT};
use aidledger_tests::{path_str, read_key_seed, wait_until, Cli, TestDir, AUDITOR};
use ed25519_dalek::SigningKey;

/// Every third record is signed with a torsion nonce (orders 2, 4, 8 in turn).
const TORSION_EVERY: u64 = 3;

/// A forged record and its position in the chain.
type Forgery = (u64, Vec<u8>);

/// A chain of `length` statements of `author`: the valid records, and for each torsion record a
/// forgery of the same header (k hashed over R without its torsion).
fn mixed_chain(
    genesis: &Genesis,
    author: &str,
    key: &SigningKey,
    length: u64,
) -> (Vec<Vec<u8>>, Vec<Forgery>) {
    let (mut valid, mut forged) = (Vec::new(), Vec::new());
    let mut prev = RecordId::ZERO;
    for seq in 0..length {
        let draft = RecordDraft {
            network_id: genesis.network_id(),
            author: author.into(),
            seq,
            prev,
            timestamp_ms: 1_800_000_000_000 + seq,
            body: Body::Statement(Statement {
                title: "Field report".into(),
                language: "en".into(),
                text: format!("{author} report {seq}"),
            }),
        };
        let (id, bytes) = sign_record(&draft, key).expect("sign");
        prev = id;
        if seq % TORSION_EVERY == 0 {
            let order = [2, 4, 8][(seq / TORSION_EVERY % 3) as usize];
            let good = signature_edges::sign_with_torsion_nonce(key, &id, seq, order);
            let bad = signature_edges::sign_with_wrong_challenge(key, &id, seq, order);
            forged.push((seq, signature_edges::with_signature(&bytes, &bad)));
            valid.push(signature_edges::with_signature(&bytes, &good));
        } else {
            valid.push(bytes);
        }
    }
    (valid, forged)
}

/// A genesis of three organisations with keys from seeds 21, 22, 23.
fn bundle_genesis() -> (Genesis, Vec<(&'static str, SigningKey)>) {
    let orgs = ["GB-GOV-1", "XI-EXAMPLE-AUDIT", "XM-DAC-41114"];
    let keys: Vec<(&str, SigningKey)> = orgs
        .iter()
        .zip(21u8..)
        .map(|(org, seed)| (*org, SigningKey::from_bytes(&[seed; 32])))
        .collect();
    let mut genesis = Genesis {
        format_version: GENESIS_FORMAT_VERSION,
        name: "signature rule".into(),
        created_ms: 1_800_000_000_000,
        members: keys
            .iter()
            .map(|(org, key)| Member {
                id: (*org).into(),
                name: format!("member {org}"),
                roles: vec![Role::Donor],
                signing_keys: vec![signature::public_key_of(key)],
                node_keys: vec![],
            })
            .collect(),
        admin_rule: AdminRule {
            admins: vec![orgs[0].into()],
            threshold: 1,
        },
    };
    genesis.normalise();
    (genesis, keys)
}

fn write_bundle(path: &Path, genesis: &Genesis, records: &[Vec<u8>]) {
    let mut writer =
        BundleWriter::new(Vec::new(), &genesis.encode()).expect("writing to memory cannot fail");
    for record in records {
        writer
            .record(record)
            .expect("writing to memory cannot fail");
    }
    let bytes = writer.finish().expect("writing to memory cannot fail");
    std::fs::write(path, bytes).expect("write the bundle");
}

/// `verify` and `verify --strict` on a bundle: (exit code, problem lines) of each.
fn verify_both_ways(cli: &Cli, bundle: &Path, network_id: &str) -> [(Option<i32>, Vec<String>); 2] {
    let run = |strict: bool| {
        let mut args = vec![
            "verify",
            "--bundle",
            path_str(bundle),
            "--network-id",
            network_id,
        ];
        if strict {
            args.push("--strict");
        }
        let output = cli.run(args);
        let problems = output
            .stdout()
            .lines()
            .filter(|line| line.contains(" seq ") && !line.starts_with("chain"))
            .map(str::to_owned)
            .collect();
        (output.code(), problems)
    };
    [run(false), run(true)]
}

#[test]
fn verify_and_verify_strict_agree_on_torsion_r_in_chains_of_1_5_and_300() {
    let dir = TestDir::new("signature_rule_bundles");
    let cli = Cli::new(dir.path());
    let (genesis, keys) = bundle_genesis();
    let network_id = genesis.network_id().to_hex();
    let mut valid_records = Vec::new();
    let mut forged_records = Vec::new();
    for ((org, key), length) in keys.iter().zip([1u64, 5, 300]) {
        let (valid, forged) = mixed_chain(&genesis, org, key, length);
        // With a forgery in place of its valid twin, the chain has one bad record.
        let mut with_forgery = valid.clone();
        let (seq, forgery) = forged
            .last()
            .expect("every chain has a torsion record")
            .clone();
        with_forgery[seq as usize] = forgery;
        valid_records.extend(valid);
        forged_records.extend(with_forgery);
    }

    let good = dir.join("torsion.bundle");
    write_bundle(&good, &genesis, &valid_records);
    let [batch, strict] = verify_both_ways(&cli, &good, &network_id);
    assert_eq!(
        batch,
        (Some(0), vec![]),
        "batch verify of valid torsion-R records"
    );
    assert_eq!(strict, batch, "--strict gives the same verdict");

    let bad = dir.join("forged.bundle");
    write_bundle(&bad, &genesis, &forged_records);
    let [batch, strict] = verify_both_ways(&cli, &bad, &network_id);
    assert_eq!(batch.0, Some(1), "{batch:?}");
    // Each chain: the forged record, and (for chains longer than it) nothing else is lost.
    let bad_signatures = batch
        .1
        .iter()
        .filter(|line| line.contains("bad signature"))
        .count();
    assert_eq!(bad_signatures, 3, "one forgery per chain: {:?}", batch.1);
    assert_eq!(strict, batch, "--strict reports the same problems");
}

#[test]
fn torsion_r_records_gossiped_to_a_node_are_stored_on_every_node_and_forgeries_nowhere() {
    let mut mesh = Mesh::start("signature_rule_gossip", false);
    mesh.wait_connected(&[0, 1, 2], 2);
    // The probe speaks for the auditor (a second transport key of the auditor's); its node is
    // stopped so that the auditor's chain comes only from the probe.
    mesh.nodes[2].terminate();
    let genesis =
        Genesis::decode(&std::fs::read(&mesh.genesis).expect("genesis")).expect("genesis");
    let auditor_key =
        SigningKey::from_bytes(&read_key_seed(&mesh.key_file(&format!("{AUDITOR}.key"))));
    let probe_key = SigningKey::from_bytes(&read_key_seed(&mesh.key_file("probe.node.key")));
    let probe = Probe::start(&probe_key, &genesis).expect("probe");
    probe
        .dial_str(&format!("/ip4/127.0.0.1/tcp/{}", mesh.nodes[0].p2p_port))
        .expect("dial");
    wait_until(
        REPLICATION_TIMEOUT,
        "node 0 to subscribe towards the probe",
        || !probe.state().subscribed.is_empty(),
    );

    let length = 60u64;
    let (valid, forged) = mixed_chain(&genesis, AUDITOR, &auditor_key, length);
    // The pause keeps the probe's command queue and the node's validation queue from
    // overflowing (they drop, by design).
    for record in &valid {
        probe.publish_record(record.clone());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        probe.state().errors.is_empty(),
        "{:?}",
        probe.state().errors
    );
    wait_until(
        REPLICATION_TIMEOUT,
        "the auditor's chain on both nodes",
        || {
            mesh.nodes[..2].iter().all(|node| {
                node.heads()
                    .iter()
                    .any(|(org, seq, _)| org == AUDITOR && *seq == length - 1)
            })
        },
    );
    // Then the forgeries of the same headers: one invalid message graylists the sender, so
    // they come last. They must change nothing.
    for (_, forgery) in forged {
        probe.publish_record(forgery);
    }
    std::thread::sleep(Duration::from_secs(2));

    for node in &mesh.nodes[..2] {
        for record in &valid {
            let id = aidledger_spec::signed::record_id_of_bytes(record).expect("an id");
            let (status, stored) = node_raw(node.public_url(), &id.to_hex());
            assert_eq!(status, 200);
            // A forgery has the same id (the id does not cover the signature): the bytes tell.
            assert_eq!(
                &stored, record,
                "{} holds the valid signature of {id}",
                node.org
            );
        }
    }

    // An auditor who exports from the second node verifies it VALID in both modes.
    let bundle = mesh.dir.join("second.bundle");
    mesh.cli
        .run([
            "export",
            "--out",
            path_str(&bundle),
            "--node",
            &mesh.nodes[1].public_url(),
        ])
        .assert_exit(0);
    let [batch, strict] = verify_both_ways(&mesh.cli, &bundle, &mesh.network_id);
    assert_eq!(batch, (Some(0), vec![]));
    assert_eq!(strict, batch);
}

fn node_raw(public_url: String, id: &str) -> (u16, Vec<u8>) {
    let response = reqwest::blocking::get(format!("{public_url}/api/records/{id}/raw"))
        .expect("GET the raw record");
    let status = response.status().as_u16();
    (status, response.bytes().expect("body").to_vec())
}
