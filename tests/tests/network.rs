//! Replication between real node processes on loopback: gossip, catch-up after a restart,
//! partitions healed, and strangers kept out.

use std::thread;

use aidledger_spec::codec;
use aidledger_spec::record::Statement;
use aidledger_spec::Body;
use aidledger_tests::network::{Mesh, MeshNode, REPLICATION_TIMEOUT};
use aidledger_tests::{path_str, wait_for, wait_until, DONOR};

/// Submitting threads per node when recording in bulk.
const SUBMIT_THREADS: usize = 8;

fn statement(text: &str) -> Vec<u8> {
    titled_statement("Field report", text)
}

fn titled_statement(title: &str, text: &str) -> Vec<u8> {
    codec::encode(&Body::Statement(Statement {
        title: title.into(),
        language: "en".into(),
        text: text.into(),
    }))
}

/// Records `count` statements on `node` from several threads; returns nothing but fails the
/// test on any refusal.
fn record_many(node: &MeshNode, count: usize) {
    thread::scope(|scope| {
        for thread_index in 0..SUBMIT_THREADS {
            scope.spawn(move || {
                for index in (thread_index..count).step_by(SUBMIT_THREADS) {
                    let (status, answer) = node.post_body(titled_statement(
                        &format!("Field report {index}"),
                        &format!("report {index}"),
                    ));
                    assert_eq!(status, 200, "{} refused a statement: {answer}", node.org);
                }
            });
        }
    });
}

#[test]
fn a_record_on_one_node_reaches_the_two_others() {
    let mesh = Mesh::start("net_gossip", false);
    mesh.wait_connected(&[0, 1, 2], 2);
    let (status, answer) = mesh.nodes[0].post_body(statement("first tranche paid"));
    assert_eq!(status, 200, "{answer}");
    let id = answer["id"].as_str().expect("id").to_string();
    for node in &mesh.nodes[1..] {
        wait_until(
            REPLICATION_TIMEOUT,
            &format!("{id} on {}", node.org),
            || node.has_record(&id),
        );
    }
}

#[test]
fn a_restarted_node_catches_up_on_2000_records_indexes_them_and_verifies() {
    let mut mesh = Mesh::start("net_catch_up", false);
    mesh.wait_connected(&[0, 1, 2], 2);
    mesh.nodes[2].kill9();
    thread::scope(|scope| {
        scope.spawn(|| record_many(&mesh.nodes[0], 1000));
        scope.spawn(|| record_many(&mesh.nodes[1], 1000));
    });
    let heads = mesh.wait_converged(&[0, 1]);
    assert_eq!(heads.iter().map(|(_, seq, _)| seq + 1).sum::<u64>(), 2000);
    mesh.nodes[2].start();
    wait_until(
        REPLICATION_TIMEOUT,
        "the restarted node to hold 2000 records",
        || mesh.nodes[2].record_count() == 2000,
    );
    assert_eq!(mesh.wait_converged(&[0, 1, 2]), heads);
    // Range sync appended those records without their explorer index entries; the index
    // follower adds them once the chains are quiet, and then search finds what it finds on a
    // node that indexed them as they came.
    wait_until(
        REPLICATION_TIMEOUT,
        "the restarted node's explorer index to cover every record",
        || {
            mesh.nodes[2]
                .status()
                .and_then(|status| status["index_behind"].as_u64())
                == Some(0)
        },
    );
    let found = |node: &MeshNode| {
        let answer = node.get_json("/api/search?q=777").expect("search answers");
        let mut ids: Vec<String> = answer["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["id"].to_string())
            .collect();
        ids.sort();
        (answer["total"].as_u64(), ids)
    };
    let on_the_restarted_node = found(&mesh.nodes[2]);
    // Both organisations' "Field report 777", and any record whose id begins with 777.
    assert!(
        on_the_restarted_node.0 >= Some(2),
        "{on_the_restarted_node:?}"
    );
    assert_eq!(on_the_restarted_node, found(&mesh.nodes[0]));
    let url = mesh.nodes[2].public_url();
    mesh.cli
        .run(["verify", "--node", &url, "--network-id", &mesh.network_id])
        .assert_exit(0);
}

#[test]
fn partitioned_groups_both_record_then_converge_after_healing() {
    let mesh = Mesh::start("net_partition", true);
    mesh.wait_connected(&[0, 1, 2], 2);
    mesh.set_partition(&[0], &[1, 2], true);
    mesh.wait_connected(&[0], 0);
    mesh.wait_connected(&[1, 2], 1);
    record_many(&mesh.nodes[0], 40);
    record_many(&mesh.nodes[1], 40);
    let side = mesh.wait_converged(&[1, 2]);
    assert!(
        side.iter().all(|(org, _, _)| org != DONOR),
        "the donor's records crossed the partition: {side:?}"
    );
    assert_eq!(mesh.nodes[0].record_count(), 40);
    mesh.set_partition(&[0], &[1, 2], false);
    let heads = mesh.wait_converged(&[0, 1, 2]);
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert!(heads.iter().all(|(_, seq, _)| *seq == 39), "{heads:?}");
}

#[test]
fn a_node_with_an_unlisted_key_cannot_connect_and_receives_nothing() {
    let mesh = Mesh::start("net_stranger", false);
    mesh.wait_connected(&[0, 1, 2], 2);
    record_many(&mesh.nodes[0], 5);
    let stranger_key = mesh.dir.join("keys/stranger.node.key");
    mesh.cli
        .run(["keygen", "--out", path_str(&stranger_key)])
        .assert_exit(0);
    let mut args = vec![
        "--genesis".to_string(),
        path_str(&mesh.genesis).into(),
        "--org".into(),
        "XM-AUDIT-1".into(),
        "--key".into(),
        path_str(&mesh.key_file("XM-AUDIT-1.key")).into(),
        "--node-key".into(),
        path_str(&stranger_key).into(),
    ];
    for node in &mesh.nodes {
        args.extend([
            "--bootstrap".into(),
            format!("/ip4/127.0.0.1/tcp/{}", node.p2p_port),
        ]);
    }
    let mut stranger = MeshNode::new("stranger", mesh.dir.join("nodes/stranger"), args);
    stranger.start();
    // Every member refuses it (each counts a refused connection)...
    for node in &mesh.nodes {
        wait_for(
            REPLICATION_TIMEOUT,
            &format!("{} to refuse the stranger", node.org),
            || {
                let refused = node.status()?["refused_connections"].as_u64()?;
                (refused > 0).then_some(())
            },
        );
    }
    // ...it has no peer and no record, and the members still see only each other.
    let status = stranger.status().expect("the stranger's status");
    assert_eq!(
        status["peers"].as_array().map(Vec::len),
        Some(0),
        "{status}"
    );
    assert_eq!(stranger.record_count(), 0);
    assert!(stranger
        .stderr()
        .contains("not among the genesis' node_keys"));
    mesh.wait_connected(&[0, 1, 2], 2);
}
