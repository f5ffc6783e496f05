//! Consistency between real node processes (issue 21): `aidledger mirror-check` of two nodes
//! of one network that have replicated says they serve the same history (exit 0): each node
//! gossips its own organisation's checkpoint, so both serve each publisher's checkpoint (with
//! no witness policy a node keeps the organisation's own note); an unreachable node cannot be
//! checked (exit 2); and `checkpoint check --node` proves a node's later checkpoint extends an
//! earlier one with the node's own consistency proof.

use std::time::Duration;

use aidledger_spec::codec;
use aidledger_spec::record::Statement;
use aidledger_spec::Body;
use aidledger_tests::network::{free_port, Mesh, MeshNode, REPLICATION_TIMEOUT};
use aidledger_tests::{path_str, wait_for, wait_until, AUDITOR, DONOR, IMPLEMENTER};

/// How long a node may take to publish the checkpoint of its durable chain.
const CHECKPOINT_TIMEOUT: Duration = Duration::from_secs(60);

fn statement(text: &str) -> Vec<u8> {
    codec::encode(&Body::Statement(Statement {
        title: "Field report".into(),
        language: "en".into(),
        text: text.into(),
    }))
}

fn record(node: &MeshNode, count: usize) {
    for index in 0..count {
        let (status, answer) = node.post_body(statement(&format!("report {index}")));
        assert_eq!(status, 200, "{} refused a statement: {answer}", node.org);
    }
}

/// The checkpoint note `node` publishes for its own organisation once it covers `size` records.
fn checkpoint_of(node: &MeshNode, size: u64) -> String {
    served_checkpoint(node, &node.org, size)
}

/// The checkpoint of `org` that `node` serves once it covers `size` records (for another
/// organisation, the one it received by gossip or sync).
fn served_checkpoint(node: &MeshNode, org: &str, size: u64) -> String {
    let url = format!("{}/checkpoint/{org}", node.public_url());
    wait_for(
        CHECKPOINT_TIMEOUT,
        &format!("{}'s checkpoint of {org} of {size} records", node.org),
        || {
            let text = reqwest::blocking::get(&url).ok()?.text().ok()?;
            (text.lines().nth(1) == Some(size.to_string().as_str())).then_some(text)
        },
    )
}

#[test]
fn two_nodes_of_one_network_serve_the_same_history() {
    let mesh = Mesh::start("mirror_check", false);
    mesh.wait_connected(&[0, 1, 2], 2);
    record(&mesh.nodes[0], 3);
    let early = checkpoint_of(&mesh.nodes[0], 3);
    record(&mesh.nodes[0], 4);
    record(&mesh.nodes[1], 2);
    mesh.wait_converged(&[0, 1, 2]);
    let late = checkpoint_of(&mesh.nodes[0], 7);
    checkpoint_of(&mesh.nodes[1], 2);
    // Each node's own checkpoint reaches the other (gossip, or the `Witnessed` sync answer).
    assert_eq!(served_checkpoint(&mesh.nodes[1], DONOR, 7), late);
    served_checkpoint(&mesh.nodes[0], IMPLEMENTER, 2);
    let (donor, implementer) = (mesh.nodes[0].public_url(), mesh.nodes[1].public_url());
    for (org, count) in [(DONOR, 7), (IMPLEMENTER, 2)] {
        wait_until(
            REPLICATION_TIMEOUT,
            &format!("{org}'s {count} records on both nodes"),
            || {
                mesh.nodes[..2].iter().all(|node| {
                    node.heads()
                        .iter()
                        .any(|(o, seq, _)| o == org && seq + 1 == count)
                })
            },
        );
    }

    let output = mesh
        .cli
        .run([
            "mirror-check",
            &donor,
            &implementer,
            "--network-id",
            &mesh.network_id,
        ])
        .assert_no_panic()
        .assert_exit(0);
    let text = output.stdout();
    assert!(text.contains("SAME HISTORY"), "{text}");
    let line = |org: &str| {
        text.lines()
            .find(|line| line.starts_with(org))
            .unwrap_or_else(|| panic!("no line for {org}:\n{text}"))
            .to_owned()
    };
    assert!(
        line(DONOR)
            .contains("same history: both publish its checkpoint of 7 record(s) with one root"),
        "{text}"
    );
    assert!(
        line(IMPLEMENTER)
            .contains("same history: both publish its checkpoint of 2 record(s) with one root"),
        "{text}"
    );
    // The auditor's node is not asked: nobody publishes its (empty) chain's checkpoint.
    assert!(line(AUDITOR).contains("neither node publishes"), "{text}");

    // The donor's checkpoint of 7 extends its checkpoint of 3: proved with the node's proof.
    let early_file = mesh.dir.write("early.checkpoint", early.as_bytes());
    let late_file = mesh.dir.write("late.checkpoint", late.as_bytes());
    let output = mesh
        .cli
        .run([
            "checkpoint",
            "check",
            "--old",
            path_str(&early_file),
            "--new",
            path_str(&late_file),
            "--node",
            &implementer,
            "--network-id",
            &mesh.network_id,
        ])
        .assert_no_panic()
        .assert_exit(0);
    assert!(
        output.stdout().contains(&format!(
            "CONSISTENT {DONOR}'s checkpoint of 7 record(s) extends the one of 3"
        )),
        "{}",
        output.stdout()
    );

    // A node that does not answer: could not check.
    let gone = format!("http://127.0.0.1:{}", free_port());
    mesh.cli
        .run([
            "mirror-check",
            &donor,
            &gone,
            "--network-id",
            &mesh.network_id,
        ])
        .assert_no_panic()
        .assert_exit(2);
}
