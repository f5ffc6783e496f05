//! Governance end to end, with real node processes on loopback (issue 7, "What must be shown"):
//! a hijacked member's key revoked from the false statement on and replaced by a key the member
//! made offline; a fourth organisation added by two of three admins, then removed; and a
//! proposal short of the threshold that changes nothing.
//!
//! The mesh's three genesis members (donor, implementer, auditor) are all admins, with the
//! default majority threshold: 2 of 3. Proposals and approvals go through the CLI
//! (`aidledger gov …` against an admin's data directory), as an operator would do it.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use aidledger_node::network::probe::Probe;
use aidledger_spec::record::Statement;
use aidledger_spec::{codec, sign_record, Body, Genesis, RecordDraft, RecordId};
use aidledger_tests::network::{Mesh, MeshNode, REPLICATION_TIMEOUT};
use aidledger_tests::{path_str, wait_for, wait_until, Output, IMPLEMENTER};
use ed25519_dalek::SigningKey;
use serde_json::Value;

/// The organisation that joins after the genesis (a Dutch chamber of commerce number).
const NEWCOMER: &str = "NL-KVK-41150535";

/// Index of each genesis member's node in [`Mesh::nodes`].
const DONOR_NODE: usize = 0;
const IMPLEMENTER_NODE: usize = 1;
const AUDITOR_NODE: usize = 2;

fn statement(text: &str) -> Body {
    Body::Statement(Statement {
        title: "Field report".into(),
        language: "en".into(),
        text: text.into(),
    })
}

/// Records a statement through `node`'s submit API; returns its id and seq.
#[track_caller]
fn submit(node: &MeshNode, text: &str) -> (String, u64) {
    let (status, answer) = node.post_body(codec::encode(&statement(text)));
    assert_eq!(status, 200, "{} refused a statement: {answer}", node.org);
    record_of(&answer)
}

#[track_caller]
fn record_of(answer: &Value) -> (String, u64) {
    let id = answer["id"].as_str().expect("the answer has an id");
    let seq = answer["seq"].as_u64().expect("the answer has a seq");
    (id.to_string(), seq)
}

/// `GET {public}{path}` of `node`'s explorer: whether it came from the explorer's cache
/// (`x-explorer-cache`), and the JSON.
#[track_caller]
fn explorer_read(node: &MeshNode, path: &str) -> (String, Value) {
    let response = aidledger_tests::network::http()
        .get(format!("{}{path}", node.public_url()))
        .send()
        .expect("the explorer answers");
    assert_eq!(response.status(), 200, "GET {path} of {}", node.org);
    let how = response
        .headers()
        .get("x-explorer-cache")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("absent")
        .to_string();
    (how, response.json().expect("JSON"))
}

/// The member ids the explorer's home page lists.
fn members_of(home: &Value) -> Vec<String> {
    home["members"]
        .as_array()
        .expect("the home page lists members")
        .iter()
        .filter_map(|member| member["id"].as_str().map(str::to_string))
        .collect()
}

/// Waits until every node of `nodes` holds record `id`.
#[track_caller]
fn wait_held_by(nodes: &[MeshNode], id: &str, what: &str) {
    for node in nodes {
        wait_until(
            REPLICATION_TIMEOUT,
            &format!("{what} ({id}) to reach {}", node.org),
            || node.has_record(id),
        );
    }
}

/// `aidledger gov ARGS… --data-dir DIR` of `node`.
fn gov(mesh: &Mesh, node: &MeshNode, args: &[&str]) -> Output {
    let mut all = vec!["gov"];
    all.extend_from_slice(args);
    all.extend(["--data-dir", path_str(&node.data_dir)]);
    mesh.cli.run(all)
}

/// An admin proposes a change (`gov propose CHANGE FLAGS…`); returns the proposal's id.
#[track_caller]
fn propose(mesh: &Mesh, admin: usize, change: &[&str]) -> String {
    let mut args = vec!["propose"];
    args.extend_from_slice(change);
    gov(mesh, &mesh.nodes[admin], &args)
        .assert_exit(0)
        .assert_no_panic()
        .stdout_hex32()
}

/// An admin approves a proposal once its node holds it; returns the approval's id.
#[track_caller]
fn approve(mesh: &Mesh, admin: usize, proposal: &str) -> String {
    let node = &mesh.nodes[admin];
    wait_held_by(std::slice::from_ref(node), proposal, "the proposal");
    gov(mesh, node, &["approve", proposal])
        .assert_exit(0)
        .assert_no_panic()
        .stdout_hex32()
}

/// Waits until proposal `id` is in `state` on every node of `nodes`.
#[track_caller]
fn wait_proposal_state(nodes: &[MeshNode], id: &str, state: &str) {
    for node in nodes {
        wait_until(
            REPLICATION_TIMEOUT,
            &format!("proposal {id} to be {state} on {}", node.org),
            || node.proposal_state(id).as_deref() == Some(state),
        );
    }
}

/// Reads a key file (hex of the 32-byte seed).
fn key(path: &Path) -> SigningKey {
    SigningKey::from_bytes(&aidledger_tests::read_key_seed(path))
}

fn public_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// A probe peer (holding the auditor's second transport key, which the genesis lists) connected
/// to node `target`: the way a test puts records signed outside any node onto the network.
fn probe_towards(mesh: &Mesh, target: usize) -> Probe {
    let probe =
        Probe::start(&key(&mesh.key_file("probe.node.key")), &genesis_of(mesh)).expect("probe");
    probe
        .dial_str(&format!(
            "/ip4/127.0.0.1/tcp/{}",
            mesh.nodes[target].p2p_port
        ))
        .expect("dial");
    wait_until(
        REPLICATION_TIMEOUT,
        &format!("{} to subscribe towards the probe", mesh.nodes[target].org),
        || !probe.state().subscribed.is_empty(),
    );
    probe
}

fn genesis_of(mesh: &Mesh) -> Genesis {
    Genesis::decode(&std::fs::read(&mesh.genesis).expect("read the genesis")).expect("genesis")
}

/// Signs a statement of `author` at (`seq`, `prev`) with `key`; returns its id and bytes.
fn signed_statement(
    genesis: &Genesis,
    author: &str,
    seq: u64,
    prev: RecordId,
    key: &SigningKey,
) -> (String, Vec<u8>) {
    let draft = RecordDraft {
        network_id: genesis.network_id(),
        author: author.into(),
        seq,
        prev,
        timestamp_ms: now_ms(),
        body: statement("signed outside any node"),
    };
    let (id, bytes) = sign_record(&draft, key).expect("sign");
    (id.to_hex(), bytes)
}

/// Publishes `records` (id, bytes) of `author` through a new probe to node `target`, then a
/// marker, and waits until the node has judged them all; then no node of the mesh but the
/// author's may hold any of them.
///
/// A record that breaks only an authority rule is ignored, not penalised (a peer may not have
/// seen the governance record yet), so its refusal leaves no trace to wait for. The marker is
/// the last record with its signature broken, which the node rejects outright and counts;
/// gossip from one peer is judged in the order it arrives, so once the marker is rejected the
/// records before it have been judged too. (One marker only: after a rejection the node scores
/// the probe down and may ignore what it sends next.)
#[track_caller]
fn publish_expecting_refusal(
    mesh: &Mesh,
    target: usize,
    author: &str,
    records: Vec<(String, Vec<u8>)>,
) {
    let probe = probe_towards(mesh, target);
    let mut marker = records.last().expect("a record to publish").1.clone();
    let last = marker.len() - 1;
    marker[last] ^= 0x01;
    for (_, bytes) in &records {
        probe.publish_record(bytes.clone());
    }
    probe.publish_record(marker);
    let probe_id = probe.peer_id().to_string();
    let node = &mesh.nodes[target];
    wait_for(
        REPLICATION_TIMEOUT,
        &format!(
            "{} to judge {} record(s) and reject the marker after them",
            node.org,
            records.len()
        ),
        || {
            let status = node.status()?;
            let peer = status["peers"]
                .as_array()?
                .iter()
                .find(|peer| peer["peer_id"] == probe_id.as_str())?
                .clone();
            (peer["rejected"].as_u64()? >= 1).then_some(())
        },
    );
    // The author's own node may hold what it signed itself; every other node must not.
    for node in mesh.nodes.iter().filter(|node| node.org != author) {
        for (id, _) in &records {
            assert!(
                !node.has_record(id),
                "{} stored record {id}, which the authority refuses",
                node.org
            );
        }
    }
    // The probe goes; the members are left with each other.
    drop(probe);
}

/// `aidledger status --node URL --json` of `node`.
#[track_caller]
fn cli_status(mesh: &Mesh, node: &MeshNode) -> Value {
    mesh.cli
        .run(["status", "--node", &node.public_url(), "--json"])
        .assert_exit(0)
        .json()
}

/// The member `org` in a node's authority, `None` if it is not a member there.
fn member_in(node: &MeshNode, org: &str) -> Option<Value> {
    let governance = node.governance()?;
    let member = &governance["authority"]["members"][org];
    (!member.is_null()).then(|| member.clone())
}

/// The hijack: an attacker who holds the implementer's key publishes a false statement; the
/// two other admins revoke that key from the statement's seq on, with a replacement key the
/// implementer made offline; the implementer continues its chain at that seq with the new key.
///
/// The attacker uses the key twice: first through the implementer's own node and its submit
/// token (a hijacked account: the node signs the false statement with the implementer's key),
/// then with a copy of the key file, signing a second false statement outside any node and
/// putting it on the network through a member's peer (the test's probe). Both replicate like
/// any record, which is exactly what a stolen key lets a thief do.
#[test]
fn a_hijacked_key_is_revoked_from_the_false_statement_and_the_member_continues_with_a_new_key() {
    let mut mesh = Mesh::start("gov_hijack", false);
    mesh.wait_connected(&[0, 1, 2], 2);
    let victim = &mesh.nodes[IMPLEMENTER_NODE];
    let earlier: Vec<(String, u64)> = (0..2)
        .map(|index| submit(victim, &format!("water point {index} handed over")))
        .collect();
    let (false_id, false_seq) = submit(victim, "The donor never paid the first tranche.");
    assert_eq!(false_seq, 2, "the false statement follows two records");
    wait_held_by(&mesh.nodes, &false_id, "the false statement");
    let stolen_key = key(&mesh.key_file(&format!("{IMPLEMENTER}.key")));
    let (forged_id, forged) = signed_statement(
        &genesis_of(&mesh),
        IMPLEMENTER,
        false_seq + 1,
        RecordId::from_hex(&false_id).expect("hex id"),
        &stolen_key,
    );
    let probe = probe_towards(&mesh, DONOR_NODE);
    probe.publish_record(forged);
    wait_held_by(
        &mesh.nodes,
        &forged_id,
        "the statement signed with the stolen key",
    );
    drop(probe);
    let false_ids = [false_id.clone(), forged_id];

    // The implementer makes a replacement key offline and proves it holds it.
    let old_key = public_hex(&stolen_key);
    let new_key_file = mesh.key_file(&format!("{IMPLEMENTER}.replacement.key"));
    let new_key = mesh.keygen(&format!("{IMPLEMENTER}.replacement.key"));
    let grant_file = mesh.dir.join("replacement.grant");
    mesh.cli
        .run([
            "key",
            "grant",
            "--key",
            path_str(&new_key_file),
            "--member",
            IMPLEMENTER,
            "--genesis",
            path_str(&mesh.genesis),
            "--out",
            path_str(&grant_file),
        ])
        .assert_exit(0);

    // The donor proposes the revocation from the false statement's seq; the auditor approves.
    let from_seq = false_seq.to_string();
    let revocation = propose(
        &mesh,
        DONOR_NODE,
        &[
            "revoke-key",
            "--member",
            IMPLEMENTER,
            "--key",
            &old_key,
            "--from-seq",
            &from_seq,
            "--replacement-grant",
            path_str(&grant_file),
        ],
    );
    approve(&mesh, AUDITOR_NODE, &revocation);
    wait_proposal_state(&mesh.nodes, &revocation, "effective");

    // The hijacked account can no longer sign: the node's key is revoked from seq 2 on.
    let victim = &mesh.nodes[IMPLEMENTER_NODE];
    let (status, answer) = victim.post_body(codec::encode(&statement("another lie")));
    assert_ne!(
        status, 200,
        "the implementer's node still signs with the revoked key: {answer}"
    );

    // Every node set the implementer's chain back to the record before the false statement.
    for node in &mesh.nodes {
        wait_until(
            REPLICATION_TIMEOUT,
            &format!("{}'s head of {IMPLEMENTER} to be seq 1", node.org),
            || {
                node.heads()
                    .iter()
                    .any(|(org, seq, id)| org == IMPLEMENTER && *seq == 1 && *id == earlier[1].0)
            },
        );
    }

    // The implementer's node restarts with the replacement key and records at seq 2 again.
    let victim = &mut mesh.nodes[IMPLEMENTER_NODE];
    victim.terminate();
    victim.set_arg("--key", path_str(&new_key_file));
    victim.start();
    mesh.wait_connected(&[0, 1, 2], 2);
    let (renewed_id, renewed_seq) = submit(
        &mesh.nodes[IMPLEMENTER_NODE],
        "Correction of the record: the first tranche was paid on time.",
    );
    assert_eq!(
        renewed_seq, false_seq,
        "the chain continues at the revoked seq"
    );
    wait_held_by(&mesh.nodes, &renewed_id, "the record with the new key");
    mesh.wait_converged(&[0, 1, 2]);

    for node in &mesh.nodes {
        let url = node.public_url();
        let governance = node.governance().expect("GET /api/governance");
        let spans = governance["authority"]["members"][IMPLEMENTER]["keys"].clone();
        assert!(
            spans.to_string().contains(&new_key),
            "{}: the authority does not grant the replacement key: {spans}",
            node.org
        );

        // verify: the network is valid, and both false statements are listed as revoked.
        let verify = mesh
            .cli
            .run(["verify", "--node", &url, "--network-id", &mesh.network_id])
            .assert_exit(0);
        let report = mesh
            .cli
            .run([
                "verify",
                "--node",
                &url,
                "--network-id",
                &mesh.network_id,
                "--json",
            ])
            .assert_exit(0)
            .json();
        for false_id in &false_ids {
            let revoked_line = verify
                .stdout()
                .lines()
                .find(|line| line.contains(false_id.as_str()));
            assert!(
                verify.stdout().to_lowercase().contains("revoked")
                    && revoked_line.is_some_and(|line| line.contains("revocation")),
                "verify on {} does not list {false_id} as revoked\n{}",
                node.org,
                verify.describe()
            );
            let listed = report["revoked"].as_array().is_some_and(|revoked| {
                revoked
                    .iter()
                    .any(|entry| entry["record_id"] == false_id.as_str())
            });
            assert!(
                listed,
                "verify --json on {} does not list {false_id} under \"revoked\": {report}",
                node.org
            );

            // provenance: signed after the revocation point, not valid.
            let provenance = mesh.cli.run(["provenance", false_id, "--node", &url]);
            let text = provenance.text_lowercase();
            assert!(
                text.contains("revocation") && text.contains("not valid"),
                "provenance on {} does not say {false_id} was signed after the revocation point\n{}",
                node.org,
                provenance.describe()
            );
            assert_eq!(
                provenance.code(),
                Some(1),
                "provenance on {} should exit 1 for a revoked record\n{}",
                node.org,
                provenance.describe()
            );
        }

        // The implementer's earlier records and its new one are valid.
        let valid: Vec<&String> = earlier
            .iter()
            .map(|(id, _)| id)
            .chain([&renewed_id])
            .collect();
        for id in &valid {
            let provenance = mesh
                .cli
                .run(["provenance", id, "--node", &url])
                .assert_exit(0);
            assert!(
                !provenance.text_lowercase().contains("not valid"),
                "provenance on {} calls {id} not valid\n{}",
                node.org,
                provenance.describe()
            );
        }

        // The explorer's record pages (their JSON form) say the same; the false statements
        // are kept as evidence.
        for false_id in &false_ids {
            let (code, page) = public_json(node, &format!("/api/record/{false_id}"));
            assert_eq!(
                code, 200,
                "{}: the explorer has no page for the revoked record: /api/record/{false_id}: {page}",
                node.org
            );
            assert_eq!(
                (&page["validity"]["valid"], &page["validity"]["code"]),
                (&Value::Bool(false), &Value::from("key-revoked")),
                "{}: the explorer does not mark {false_id} revoked: {page}",
                node.org
            );
        }
        for id in valid {
            let (code, page) = public_json(node, &format!("/api/record/{id}"));
            assert_eq!(
                (code, &page["validity"]["valid"]),
                (200, &Value::Bool(true)),
                "{}: the explorer does not call {id} valid: {page}",
                node.org
            );
        }
    }
}

/// A GET on a node's public API, as JSON.
fn public_json(node: &MeshNode, path: &str) -> (u16, Value) {
    let response = reqwest::blocking::get(format!("{}{path}", node.public_url()))
        .unwrap_or_else(|error| panic!("GET {path} on {}: {error}", node.org));
    let code = response.status().as_u16();
    (code, response.json().unwrap_or(Value::Null))
}

/// A fourth organisation added by two of three admins joins, syncs every chain and records;
/// removed again, its node is cut off and its later records are refused everywhere.
#[test]
fn a_fourth_organisation_added_by_two_admins_joins_and_is_cut_off_when_removed() {
    let mut mesh = Mesh::start("gov_membership", false);
    mesh.wait_connected(&[0, 1, 2], 2);
    let (donor_first, _) = submit(&mesh.nodes[DONOR_NODE], "before the newcomer: donor");
    let (auditor_first, _) = submit(&mesh.nodes[AUDITOR_NODE], "before the newcomer: auditor");
    wait_held_by(&mesh.nodes, &donor_first, "the donor's first record");
    wait_held_by(&mesh.nodes, &auditor_first, "the auditor's first record");
    // A running node keeps an explorer page while nothing is written (its index follower
    // looks every 50 ms and writes nothing then): read again later, it comes from the cache.
    // The records' checkpoints, cosigned, arrive by gossip a moment after them (a write):
    // first the node settles (three hits in a row), then it must stay settled.
    let implementer = &mesh.nodes[IMPLEMENTER_NODE];
    let hits_in_a_row = |reads: usize| {
        (0..reads).all(|_| {
            std::thread::sleep(std::time::Duration::from_millis(300));
            explorer_read(implementer, "/api/home").0 == "hit"
        })
    };
    wait_until(
        REPLICATION_TIMEOUT,
        "a quiet node to serve its home page from the explorer's cache",
        || hits_in_a_row(3),
    );
    let (_, home_before) = explorer_read(implementer, "/api/home");
    assert!(!members_of(&home_before).contains(&NEWCOMER.to_string()));
    assert!(
        hits_in_a_row(5),
        "a quiet node rendered its home page again within 1.5 s"
    );
    let addition = propose_newcomer(&mesh);
    approve(&mesh, IMPLEMENTER_NODE, &addition);
    wait_proposal_state(&mesh.nodes, &addition, "effective");
    // The governance change reaches the explorer's pages at once (a new view: a new
    // generation of the cache), on every node.
    for node in &mesh.nodes {
        let (_, home) = explorer_read(node, "/api/home");
        assert!(
            members_of(&home).contains(&NEWCOMER.to_string()),
            "{}'s explorer does not list the newcomer: {home}",
            node.org
        );
    }

    // Its node starts from the genesis alone, is let in, and syncs every chain.
    let mut newcomer = mesh.joining_node(NEWCOMER);
    newcomer.start();
    mesh.nodes.push(newcomer);
    let newcomer_node = mesh.nodes.len() - 1;
    mesh.wait_connected(&[0, 1, 2, 3], 3);
    mesh.wait_converged(&[0, 1, 2, 3]);
    let newcomer = &mesh.nodes[newcomer_node];
    let (joined_id, joined_seq) = wait_for(
        REPLICATION_TIMEOUT,
        "the newcomer's node to sign once it knows it is a member",
        || {
            let (status, answer) = newcomer.post_body(codec::encode(&statement("we joined")));
            (status == 200).then(|| record_of(&answer))
        },
    );
    assert_eq!(joined_seq, 0);
    wait_held_by(&mesh.nodes, &joined_id, "the newcomer's first record");
    let newcomer_peer = newcomer
        .status()
        .and_then(|status| status["peer_id"].as_str().map(str::to_string))
        .expect("the newcomer's peer id");

    // The donor proposes its removal from seq 1 on; the auditor approves.
    let removal = propose(
        &mesh,
        DONOR_NODE,
        &["remove-member", "--member", NEWCOMER, "--from-seq", "1"],
    );
    approve(&mesh, AUDITOR_NODE, &removal);
    wait_proposal_state(&mesh.nodes[..3], &removal, "effective");

    // Every member disconnects it, and refuses it when it dials again.
    for node in &mesh.nodes[..3] {
        wait_until(
            REPLICATION_TIMEOUT,
            &format!("{} to disconnect the removed member's node", node.org),
            || {
                node.peer_ids()
                    .is_some_and(|peers| peers.len() == 2 && !peers.contains(&newcomer_peer))
            },
        );
        let status = cli_status(&mesh, node);
        let peers = status["peers"].to_string();
        assert!(
            !peers.contains(&newcomer_peer),
            "aidledger status of {} still lists the removed node: {status}",
            node.org
        );
        assert!(
            member_in(node, NEWCOMER).is_some_and(|member| !member["removed"].is_null()),
            "{} does not record the removal: {:?}",
            node.org,
            node.governance()
        );
    }
    wait_until(
        REPLICATION_TIMEOUT,
        "the removed member's node to have no peer",
        || {
            mesh.nodes[newcomer_node]
                .peer_ids()
                .is_some_and(|peers| peers.is_empty())
        },
    );

    // Its later records are refused by the others and never stored: the one its own node
    // signs (cut off before the approval reached it, it may not know it was removed) and one
    // signed with its key elsewhere, both put to the donor's node by a member's peer.
    let newcomer_key = key(&mesh.key_file(&format!("{NEWCOMER}.key")));
    let prev = RecordId::from_hex(&joined_id).expect("hex id");
    let mut later = vec![signed_statement(
        &genesis_of(&mesh),
        NEWCOMER,
        1,
        prev,
        &newcomer_key,
    )];
    let (status, answer) =
        mesh.nodes[newcomer_node].post_body(codec::encode(&statement("after our removal")));
    if status == 200 {
        let (own_id, _) = record_of(&answer);
        let (code, bytes) = raw_record(&mesh.nodes[newcomer_node], &own_id);
        assert_eq!(code, 200, "the removed node serves the record it signed");
        later.push((own_id, bytes));
    }
    publish_expecting_refusal(&mesh, DONOR_NODE, NEWCOMER, later);
    mesh.wait_connected(&[0, 1, 2], 2);

    // An auditor of any member's node: the network verifies, and the removed member's chain
    // there ends with the record it made while it was a member.
    for node in &mesh.nodes[..3] {
        let url = node.public_url();
        let report = mesh
            .cli
            .run([
                "verify",
                "--node",
                &url,
                "--network-id",
                &mesh.network_id,
                "--json",
            ])
            .assert_exit(0)
            .json();
        let chain = report["report"]["chains"]
            .as_array()
            .and_then(|chains| chains.iter().find(|chain| chain["author"] == NEWCOMER))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            chain["length"], 1,
            "{}: the removed member's chain holds only its record from before the removal: {chain}",
            node.org
        );
    }
}

/// A record's wire bytes from a node's public API.
fn raw_record(node: &MeshNode, id: &str) -> (u16, Vec<u8>) {
    let response = reqwest::blocking::get(format!("{}/api/records/{id}/raw", node.public_url()))
        .expect("GET raw");
    let code = response.status().as_u16();
    (
        code,
        response.bytes().map(|b| b.to_vec()).unwrap_or_default(),
    )
}

/// An addition proposed by one admin, with no second approval, stays pending at 1 of 2: the
/// proposed member's node is refused and its records are refused.
/// Keys for the newcomer (kept in the mesh's directory as `{NEWCOMER}.key` and
/// `{NEWCOMER}.node.key`) and the donor's proposal to add it; returns the proposal id.
fn propose_newcomer(mesh: &Mesh) -> String {
    let signing_key = mesh.keygen(&format!("{NEWCOMER}.key"));
    let node_key = mesh.keygen(&format!("{NEWCOMER}.node.key"));
    propose(
        mesh,
        DONOR_NODE,
        &[
            "add-member",
            "--id",
            NEWCOMER,
            "--name",
            "Dutch Water Works",
            "--role",
            "implementer",
            "--signing-key",
            &signing_key,
            "--node-key",
            &node_key,
        ],
    )
}

#[test]
fn a_proposal_short_of_the_threshold_changes_nothing() {
    let mesh = Mesh::start("gov_threshold", false);
    mesh.wait_connected(&[0, 1, 2], 2);
    let addition = propose_newcomer(&mesh);
    wait_held_by(&mesh.nodes, &addition, "the proposal");
    wait_proposal_state(&mesh.nodes, &addition, "pending");
    for node in &mesh.nodes {
        let governance = node.governance().expect("GET /api/governance");
        let proposal = governance["proposals"]
            .as_array()
            .and_then(|proposals| proposals.iter().find(|p| p["id"] == addition.as_str()))
            .expect("the proposal is listed");
        assert_eq!(
            (
                &proposal["state"]["approvals"],
                &proposal["state"]["threshold"]
            ),
            (&Value::from(1), &Value::from(2)),
            "{}: {proposal}",
            node.org
        );
        assert!(
            member_in(node, NEWCOMER).is_none(),
            "{} made the newcomer a member below the threshold",
            node.org
        );
        let status = gov(&mesh, node, &["status"]).assert_exit(0);
        let line = status
            .stdout()
            .lines()
            .find(|line| line.contains(&addition[..16]))
            .unwrap_or_else(|| {
                panic!(
                    "gov status does not list the proposal\n{}",
                    status.describe()
                )
            });
        assert!(
            line.to_lowercase().contains("pending") && line.contains("1 of 2"),
            "gov status on {} does not show the proposal pending at 1 of 2\n{}",
            node.org,
            status.describe()
        );
        let json = gov(&mesh, node, &["status", "--json"])
            .assert_exit(0)
            .json();
        assert!(
            json.to_string().contains(&addition),
            "gov status --json on {} lacks the proposal: {json}",
            node.org
        );
    }

    // The proposed member's node dials every member and is refused by each.
    let mut newcomer = mesh.joining_node(NEWCOMER);
    newcomer.start();
    for node in &mesh.nodes {
        wait_for(
            REPLICATION_TIMEOUT,
            &format!("{} to refuse the proposed member's node", node.org),
            || (node.status()?["refused_connections"].as_u64()? > 0).then_some(()),
        );
    }
    assert_eq!(
        newcomer.peer_ids(),
        Some(Vec::new()),
        "the newcomer has peers"
    );
    let (status, answer) = newcomer.post_body(codec::encode(&statement("we are members")));
    assert_ne!(
        status, 200,
        "the newcomer's node signed with an ungranted key: {answer}"
    );

    // A record signed with its key and put to the donor's node is refused and not stored.
    let newcomer_key = key(&mesh.key_file(&format!("{NEWCOMER}.key")));
    let forged = signed_statement(
        &genesis_of(&mesh),
        NEWCOMER,
        0,
        RecordId::ZERO,
        &newcomer_key,
    );
    publish_expecting_refusal(&mesh, DONOR_NODE, NEWCOMER, vec![forged]);
    mesh.wait_connected(&[0, 1, 2], 2);
    for node in &mesh.nodes {
        assert!(
            node.heads().iter().all(|(org, _, _)| org != NEWCOMER),
            "{} holds a chain of the newcomer",
            node.org
        );
    }
}
