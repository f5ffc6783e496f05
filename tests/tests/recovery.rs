//! No self-inflicted fork after a power loss (issue 17), with real node processes: a node whose
//! fsync is held back (the test hook `AIDLEDGER_TEST_HOLD_BEFORE_FSYNC_MS`) commits a record
//! that its peers, syncing all the while, never receive; the node is killed in that window and
//! brought back with its disk as a power loss leaves it (the files as they were at the last
//! fsync); it signs its next record at the lost position, and no node holds an equivocation
//! proof. Before durable-only serving, the peers fetched the record in that window by range
//! sync, and the new record made a fork.

use std::path::Path;
use std::time::{Duration, Instant};

use aidledger_spec::codec;
use aidledger_spec::record::Statement;
use aidledger_spec::Body;
use aidledger_tests::network::{Mesh, REPLICATION_TIMEOUT};
use aidledger_tests::{wait_until, DONOR};

/// The node's test hook: the writer waits this long before each group's flush and fsyncs.
const HOLD_FSYNC: &str = "AIDLEDGER_TEST_HOLD_BEFORE_FSYNC_MS";

fn statement(text: &str) -> Vec<u8> {
    codec::encode(&Body::Statement(Statement {
        title: "Field report".into(),
        language: "en".into(),
        text: text.into(),
    }))
}

fn donor_head(heads: &[(String, u64, String)]) -> Option<(u64, String)> {
    heads
        .iter()
        .find(|(org, _, _)| org == DONOR)
        .map(|(_, seq, id)| (*seq, id.clone()))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Three nodes where the donor recorded `count` statements and every node holds them.
fn mesh_with_donor_records(name: &str, count: usize) -> Mesh {
    let mesh = Mesh::start(name, false);
    mesh.wait_connected(&[0, 1, 2], 2);
    post_reports(&mesh, 0..count);
    mesh
}

/// The donor records statements `report N` for each N, and every node gets them.
fn post_reports(mesh: &Mesh, numbers: std::ops::Range<usize>) {
    for index in numbers {
        let (status, answer) = mesh.nodes[0].post_body(statement(&format!("report {index}")));
        assert_eq!(status, 200, "{answer}");
    }
    mesh.wait_converged(&[0, 1, 2]);
}

/// After two more heads exchanges (one a second), no node knows of a fork.
fn assert_no_fork_anywhere(mesh: &Mesh) {
    std::thread::sleep(Duration::from_secs(2));
    for node in &mesh.nodes {
        let status = node.status().expect("status");
        assert_eq!(
            status["forks"],
            serde_json::json!([]),
            "{}: {status}",
            node.org
        );
    }
}

#[test]
fn a_record_lost_before_its_fsync_is_never_served_so_the_restart_makes_no_fork() {
    let mut mesh = mesh_with_donor_records("recovery_no_fork", 3);

    // The donor again, with every fsync held back for a while.
    mesh.nodes[0].terminate();
    mesh.nodes[0].set_env(HOLD_FSYNC, Some("8000"));
    mesh.nodes[0].start();
    mesh.wait_connected(&[0, 1, 2], 2);
    // What the disk holds now (the open fsynced everything, with the running mark set): what
    // a power loss would leave of the next record.
    let snapshot = mesh.dir.join("donor-at-the-last-fsync");
    copy_dir(&mesh.nodes[0].data_dir, &snapshot);

    let donor_submit = mesh.nodes[0].submit_url();
    let token = mesh.nodes[0].token();
    let submitting = std::thread::spawn(move || {
        // Answered only after the held fsync (or never: the node is killed first).
        let _ = reqwest::blocking::Client::new()
            .post(format!("{donor_submit}/v1/records"))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(statement("lost with the power"))
            .timeout(Duration::from_secs(30))
            .send();
    });
    wait_until(
        REPLICATION_TIMEOUT,
        "the donor to commit the record",
        || donor_head(&mesh.nodes[0].heads()).is_some_and(|(seq, _)| seq == 3),
    );
    // Several heads exchanges (one a second) while the record is committed, not durable.
    let watched_until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < watched_until {
        for peer in &mesh.nodes[1..] {
            let head = donor_head(&peer.heads());
            assert_eq!(
                head.map(|(seq, _)| seq),
                Some(2),
                "{} was served a record that is not durable",
                peer.org
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    // The power loss: the process dies, and the disk is as it was at the last fsync.
    mesh.nodes[0].kill9();
    let _ = submitting.join();
    std::fs::remove_dir_all(&mesh.nodes[0].data_dir).expect("remove the donor's directory");
    copy_dir(&snapshot, &mesh.nodes[0].data_dir);
    mesh.nodes[0].set_env(HOLD_FSYNC, None);
    mesh.nodes[0].start();
    assert!(
        mesh.nodes[0].stderr().contains("did not shut down cleanly"),
        "the start says it was unclean: {}",
        mesh.nodes[0].stderr()
    );

    let (status, answer) = mesh.nodes[0].post_body(statement("signed after the restart"));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["seq"], 3,
        "the lost position is signed again: {answer}"
    );
    let new_id = answer["id"].as_str().expect("an id").to_owned();
    for node in &mesh.nodes {
        wait_until(
            REPLICATION_TIMEOUT,
            &format!("{} to hold the new seq 3", node.org),
            || donor_head(&node.heads()) == Some((3, new_id.clone())),
        );
    }
    assert_no_fork_anywhere(&mesh);
}

#[test]
fn a_node_restored_from_an_old_backup_fetches_its_own_records_before_signing_again() {
    let mut mesh = mesh_with_donor_records("recovery_backup", 2);
    mesh.nodes[0].terminate();
    let backup = mesh.dir.join("donor-backup");
    copy_dir(&mesh.nodes[0].data_dir, &backup);
    mesh.nodes[0].start();
    post_reports(&mesh, 2..4);
    let peers_view = donor_head(&mesh.nodes[1].heads()).expect("the donor's chain");
    assert_eq!(peers_view.0, 3);

    // The operator restores the backup: the node holds seq 0 and 1, its peers 0 to 3.
    mesh.nodes[0].terminate();
    std::fs::remove_dir_all(&mesh.nodes[0].data_dir).expect("remove the donor's directory");
    copy_dir(&backup, &mesh.nodes[0].data_dir);
    mesh.nodes[0].start();
    // Range sync brings its own records back from the peers, with their ids.
    wait_until(
        REPLICATION_TIMEOUT,
        "the donor to fetch its own records",
        || donor_head(&mesh.nodes[0].heads()) == Some(peers_view.clone()),
    );
    let (status, answer) =
        aidledger_tests::wait_for(REPLICATION_TIMEOUT, "the donor to sign again", || {
            let (status, answer) = mesh.nodes[0].post_body(statement("after the restore"));
            (status != 503).then_some((status, answer))
        });
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["seq"], 4,
        "signed after the fetched records, not over them: {answer}"
    );
    assert_no_fork_anywhere(&mesh);
}
