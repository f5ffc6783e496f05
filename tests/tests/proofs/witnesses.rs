//! Witnesses with real processes (issue 21): three member nodes and two `aidledger witness`
//! processes under a 2-of-2 witness policy set by governance.
//!
//! - A disbursement's proof packet carries a checkpoint both witnesses cosigned and verifies
//!   offline as witnessed; the same packet with its cosignatures stripped, or one flipped byte,
//!   is refused.
//! - A node cut off from the donor serves a bundle that holds back the donor's newest records:
//!   it verifies on its own, and `verify --witnessed` against the witnesses catches it.
//! - The donor's node, seen by one witness through a server that forges the donor's
//!   checkpoint (same size, another root, signed with the donor's key), shows a split view: the
//!   witness refuses to cosign and keeps a split-view proof, which reaches every node (the
//!   donor's node from the witness, the others by gossip) and makes `verify` of each node's
//!   export exit 1.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::note::Note;
use aidledger_tests::network::{free_port, Mesh, MeshNode, REPLICATION_TIMEOUT};
use aidledger_tests::tamper::tampering_server;
use aidledger_tests::witness::{witness_config, witness_key, WitnessProcess, WITNESS_TIMEOUT};
use aidledger_tests::{
    path_str, read_key_seed, transaction_args, wait_for, wait_until, Output, DONOR, IMPLEMENTER,
};
use ed25519_dalek::SigningKey;
use serde_json::Value;

/// How often the nodes poll the witnesses (ms): short, so that the test is quick.
const POLL_MS: &str = "200";

/// `aidledger gov ARGS… --data-dir DIR` of node `index`.
fn gov(mesh: &Mesh, index: usize, args: &[&str]) -> Output {
    let mut all = vec!["gov"];
    all.extend_from_slice(args);
    all.extend(["--data-dir", path_str(&mesh.nodes[index].data_dir)]);
    mesh.cli.run(all)
}

/// The two witnesses become the network's policy, 2 of 2: the donor proposes, the
/// implementer approves (two of the three admins). Returns the approval's id.
fn set_witness_policy(mesh: &Mesh, vkeys: &[&str]) -> String {
    let mut propose = vec!["propose", "set-witnesses", "--threshold", "2"];
    for vkey in vkeys {
        propose.extend(["--witness", vkey]);
    }
    let proposal = gov(mesh, 0, &propose).assert_exit(0).stdout_hex32();
    wait_until(
        REPLICATION_TIMEOUT,
        "the proposal on the implementer's node",
        || mesh.nodes[1].has_record(&proposal),
    );
    let approval = gov(mesh, 1, &["approve", &proposal])
        .assert_exit(0)
        .stdout_hex32();
    for node in &mesh.nodes {
        wait_until(
            REPLICATION_TIMEOUT,
            &format!("the witness policy in force on {}", node.org),
            || node.proposal_state(&proposal).as_deref() == Some("effective"),
        );
    }
    approval
}

/// Restarts `node` polling the witnesses on `ports` for cosigned checkpoints.
fn poll_witnesses(node: &mut MeshNode, ports: &[u16]) {
    node.terminate();
    for port in ports {
        node.add_arg("--witness", &format!("http://127.0.0.1:{port}"));
    }
    node.add_arg("--witness-poll-ms", POLL_MS);
    node.start();
}

/// The number of cosignature lines of the checkpoint `node` serves for `org`, and its size.
fn served_checkpoint(node: &MeshNode, org: &str) -> Option<(u64, usize, String)> {
    let response =
        reqwest::blocking::get(format!("{}/checkpoint/{org}", node.public_url())).ok()?;
    if !response.status().is_success() {
        return None;
    }
    let text = response.text().ok()?;
    let note = Note::parse(&text).ok()?;
    let size = Checkpoint::parse(&note.text).ok()?.size;
    // The organisation signs once; every other line is a witness's.
    Some((size, note.signatures.len().saturating_sub(1), text))
}

fn record_disbursement(mesh: &Mesh, index: usize, amount: &str) -> String {
    let mut args = vec!["record", "transaction"];
    args.extend(transaction_args(amount));
    args.extend(["--data-dir", path_str(&mesh.nodes[index].data_dir)]);
    mesh.cli.run(args).assert_exit(0).stdout_hex32()
}

fn export(mesh: &Mesh, index: usize, name: &str) -> String {
    let out = mesh.dir.join(name);
    mesh.cli
        .run([
            "export",
            "--out",
            path_str(&out),
            "--node",
            &mesh.nodes[index].public_url(),
        ])
        .assert_exit(0);
    path_str(&out).to_owned()
}

/// A forged checkpoint of the same chain and size as `real` (a note text), with another
/// root, signed with the organisation's key: what a node that shows two histories serves.
fn forge(real: &[u8], key: &SigningKey) -> Option<Vec<u8>> {
    let note = Note::parse_bytes(real).ok()?;
    let mut checkpoint = Checkpoint::parse(&note.text).ok()?;
    checkpoint.root.0[0] ^= 0x01;
    Some(checkpoint.sign(key).ok()?.to_text().into_bytes())
}

#[test]
fn witnesses_cosign_catch_a_held_back_chain_and_spread_a_split_view() {
    let mut mesh = Mesh::start("witnesses", true);
    // The donor's node hears from both witnesses; the implementer's from the first; the
    // auditor's from none (only from its peers). The nodes restart first, so that the
    // witnesses are given the addresses they keep.
    let ports = [free_port(), free_port()];
    poll_witnesses(&mut mesh.nodes[0], &ports);
    poll_witnesses(&mut mesh.nodes[1], &ports[..1]);
    mesh.wait_connected(&[0, 1, 2], 2);
    let urls: Vec<String> = mesh.nodes.iter().map(MeshNode::public_url).collect();

    // The second witness sees the donor's node through a server that, once `forking` is set,
    // serves a forged checkpoint of the donor's chain.
    let donor_key = SigningKey::from_bytes(&read_key_seed(&mesh.key_file(&format!("{DONOR}.key"))));
    let forking = Arc::new(AtomicBool::new(false));
    let fork_switch = forking.clone();
    let donor_path = format!("/checkpoint/{DONOR}");
    let forger = tampering_server(
        urls[0].clone(),
        Arc::new(move |path: &str, body: &mut Vec<u8>| {
            if fork_switch.load(Ordering::SeqCst) && path == donor_path {
                if let Some(forged) = forge(body, &donor_key) {
                    *body = forged;
                }
            }
        }),
    );

    let names = ["witness-1.test", "witness-2.test"];
    let key_files = names.map(|name| mesh.dir.join(format!("keys/{name}.key")));
    let vkeys = [0, 1].map(|i| witness_key(&mesh.cli, names[i], &key_files[i]));
    let approval = set_witness_policy(&mesh, &[&vkeys[0], &vkeys[1]]);
    let start = |i: usize, nodes: &[String]| {
        let listen = format!("127.0.0.1:{}", ports[i]);
        let config = witness_config(
            mesh.dir.path(),
            names[i],
            &key_files[i],
            &mesh.network_id,
            nodes,
            &listen,
        );
        WitnessProcess::start(&config)
    };
    let first = start(0, &urls);
    let mut second = start(1, &[forger]);

    // 1. A witnessed proof packet.
    let disbursement = record_disbursement(&mesh, 0, "125000.00");
    let (size, _, _) = wait_for(
        WITNESS_TIMEOUT,
        "the donor's checkpoint cosigned by both witnesses on the donor's node",
        || served_checkpoint(&mesh.nodes[0], DONOR).filter(|(_, cosigned, _)| *cosigned == 2),
    );
    assert!(size >= 2, "the proposal and the disbursement: {size}");
    let packet = mesh.dir.join("disbursement.aidlproof");
    mesh.cli
        .run([
            "proof",
            &disbursement,
            "--node",
            &urls[0],
            "--out",
            path_str(&packet),
        ])
        .assert_exit(0);
    let verify_packet = |file: &str| {
        mesh.cli
            .run(["verify", "--proof", file, "--network-id", &mesh.network_id])
            .assert_no_panic()
    };
    let valid = verify_packet(path_str(&packet)).assert_exit(0);
    assert!(
        valid.stdout().contains("witnessed") && !valid.stdout().contains("NOT witnessed"),
        "{}",
        valid.stdout()
    );
    // Another organisation's record, from the donor's node: the implementer's approval, in
    // the implementer's checkpoint that the donor's node collected from the witnesses.
    wait_until(
        WITNESS_TIMEOUT,
        "the implementer's checkpoint cosigned by both witnesses on the donor's node",
        || {
            served_checkpoint(&mesh.nodes[0], IMPLEMENTER)
                .is_some_and(|(_, cosigned, _)| cosigned == 2)
        },
    );
    let other = mesh.dir.join("approval.aidlproof");
    mesh.cli
        .run([
            "proof",
            &approval,
            "--node",
            &urls[0],
            "--out",
            path_str(&other),
        ])
        .assert_exit(0);
    let valid = verify_packet(path_str(&other)).assert_exit(0);
    assert!(
        valid
            .stdout()
            .contains(&format!("genuine approval of {IMPLEMENTER}"))
            && valid.stdout().contains("witnessed: cosigned by 2"),
        "{}",
        valid.stdout()
    );

    // Without its cosignatures the checkpoint does not meet the network's policy.
    let bytes = std::fs::read(&packet).expect("the packet");
    let mut stripped =
        aidledger_spec::packet::ProofPacket::from_packet_bytes(&bytes).expect("a packet");
    let note = Note::parse(&stripped.checkpoint).expect("the packet's checkpoint");
    stripped.checkpoint = Note {
        text: note.text.clone(),
        signatures: note.signatures[..1].to_vec(),
    }
    .to_text();
    let file = mesh
        .dir
        .write("uncosigned.aidlproof", stripped.to_packet_bytes());
    let output = verify_packet(path_str(&file)).assert_exit(1);
    assert!(output.stdout().contains("witness"), "{}", output.stdout());
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let file = mesh.dir.write("flipped.aidlproof", &flipped);
    verify_packet(path_str(&file)).assert_exit(1);

    // 2. The auditor's node, cut off from the others, holds back the donor's newest records.
    mesh.wait_converged(&[0, 1, 2]);
    mesh.set_partition(&[2], &[0, 1], true);
    let newest = record_disbursement(&mesh, 0, "5000.00");
    let newer_size = size + 1;
    for witness in [&first, &second] {
        witness.wait_cosigned(DONOR, newer_size);
    }
    assert!(!mesh.nodes[2].has_record(&newest));
    let held = export(&mesh, 2, "held-back.bundle");
    mesh.cli
        .run([
            "verify",
            "--bundle",
            &held,
            "--network-id",
            &mesh.network_id,
        ])
        .assert_exit(0);
    let output = mesh
        .cli
        .run([
            "verify",
            "--bundle",
            &held,
            "--network-id",
            &mesh.network_id,
            "--witnessed",
            "--witness",
            &first.url,
            "--witness",
            &second.url,
        ])
        .assert_exit(1)
        .assert_no_panic();
    assert!(
        output.stdout().contains("holds back") && output.stdout().contains(DONOR),
        "{}",
        output.stdout()
    );
    mesh.set_partition(&[2], &[0, 1], false);
    mesh.wait_converged(&[0, 1, 2]);

    // 3. A split view: the second witness is shown a forged checkpoint of the size it cosigned.
    forking.store(true, Ordering::SeqCst);
    wait_until(
        WITNESS_TIMEOUT,
        "the second witness to keep a split-view proof",
        || second.split_views() == 1,
    );
    let line = second.wait_line(|line| line.starts_with("split view"));
    assert!(line.contains(DONOR), "{line}");
    // It did not cosign the forgery.
    assert_eq!(second.cosigned_size(DONOR), Some(newer_size));
    for (index, node) in mesh.nodes.iter().enumerate() {
        wait_until(
            WITNESS_TIMEOUT,
            &format!("the split-view proof on {}", node.org),
            || {
                let (status, body) = node_get(node, "/api/split-views");
                status == 200
                    && serde_json::from_slice::<Value>(&body)
                        .ok()
                        .and_then(|value| {
                            value
                                .as_array()
                                .map(Vec::len)
                                .or_else(|| value["split_views"].as_array().map(Vec::len))
                        })
                        == Some(1)
            },
        );
        let bundle = export(&mesh, index, &format!("{}.bundle", node.org));
        let output = mesh
            .cli
            .run([
                "verify",
                "--bundle",
                &bundle,
                "--network-id",
                &mesh.network_id,
            ])
            .assert_exit(1)
            .assert_no_panic();
        assert!(
            output.stdout().to_lowercase().contains("split view")
                && output.stdout().contains(DONOR),
            "{}",
            output.stdout()
        );
    }
}

fn node_get(node: &MeshNode, path: &str) -> (u16, Vec<u8>) {
    match reqwest::blocking::get(format!("{}{path}", node.public_url())) {
        Ok(response) => {
            let status = response.status().as_u16();
            (
                status,
                response.bytes().map(|b| b.to_vec()).unwrap_or_default(),
            )
        }
        Err(_) => (0, Vec::new()),
    }
}
