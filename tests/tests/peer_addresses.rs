//! Peer addresses a node cannot use, refused at start with exit 2 and the value named: a
//! `--listen` port another node listens on (libp2p-tcp's listeners set SO_REUSEPORT, so two
//! nodes used to share it; probed once the directory is locked), and, before anything is made
//! or saved, a bootstrap peer the transport cannot dial or a witness that is not an http:// or
//! https:// URL, from a flag, a config file or the data directory's saved `config.json`.

use std::fs;

use aidledger_tests::{
    assert_starts_refused, path_str, saved_settings, Network, NodeProcess, IMPLEMENTER,
};

/// The node's `/api/status` (where it listens, its peer id).
fn network_status(node: &NodeProcess) -> serde_json::Value {
    let (code, body) = node.public_get("/api/status");
    assert_eq!(code, 200);
    serde_json::from_slice(&body).expect("status JSON")
}

/// What a node says of a bootstrap peer it cannot dial.
fn bootstrap_refused(addr: &str, why: &str) -> String {
    format!(
        "the bootstrap peer {addr} (--bootstrap, or bootstrap in a config file or the data \
         directory's config.json) cannot be dialled: {why}; a peer is /ip4/ADDR/tcp/PORT or \
         /ip6/ADDR/tcp/PORT, optionally followed by /p2p/PEER_ID"
    )
}

/// What a node says of a witness that is not an http:// or https:// URL.
fn witness_refused(witness: &str) -> String {
    format!(
        "the witness {witness:?} (--witness, or witness in a config file or the data directory's \
         config.json) does not start with http:// or https://: a witness is its base URL"
    )
}

/// libp2p-tcp's listeners set SO_REUSEPORT: a second node told to listen on a first one's p2p
/// port used to start beside it, and the kernel split the incoming dials between the two. It
/// is refused before any thread of the node starts (exit 2, the address named).
#[test]
fn a_second_node_on_a_p2p_port_a_node_listens_on_is_refused() {
    let mut network = Network::start("ops_p2p_port_shared");
    let listen = network_status(&network.node)["listen"][0]
        .as_str()
        .expect("the first node's p2p address")
        .to_owned();
    assert!(listen.starts_with("/ip4/127.0.0.1/tcp/"), "{listen}");
    let second = network.dir.join(format!("nodes/{IMPLEMENTER}"));
    let output = NodeProcess::run_expecting_refusal(
        &second,
        [
            "--genesis",
            path_str(&network.genesis),
            "--org",
            IMPLEMENTER,
            "--key",
            path_str(&network.organisations[1].key_file),
            "--listen",
            &listen,
        ],
    )
    .assert_exit(2)
    .assert_no_panic();
    assert!(
        output.stderr().contains(&format!(
            "cannot listen on {listen}: the address is already in use (another node, or \
             another program; choose another port with --listen)"
        )),
        "{}",
        output.describe()
    );
    // Run again on a free port, the refused first start goes on from where it stopped.
    let mut again = NodeProcess::start_first(
        &second,
        &network.genesis,
        IMPLEMENTER,
        &network.organisations[1].key_file,
    );
    assert_eq!(again.record_count(), 0);
    again.terminate();
    // The running node's own directory started again, on its own port: the directory's lock
    // is what is named (it is taken before the ports are probed).
    let output = NodeProcess::run_expecting_refusal(&network.data_dir(), ["--listen", &listen])
        .assert_exit(2)
        .assert_no_panic();
    assert!(
        output.stderr().contains("is in use by a running node"),
        "{}",
        output.describe()
    );
    // The first node is untouched.
    assert!(network.node.is_running());
    assert_eq!(network_status(&network.node)["listen"][0], listen.as_str());
}

#[test]
fn a_bootstrap_peer_or_witness_the_node_cannot_use_is_refused_at_start() {
    let mut network = Network::start("ops_bad_peers");
    let data_dir = network.data_dir();
    let peer_id = network_status(&network.node)["peer_id"]
        .as_str()
        .expect("the node's peer id")
        .to_owned();
    network.node.terminate();
    let before = saved_settings(&data_dir);
    let no_port = bootstrap_refused("/ip4/1.2.3.4", "it has no tcp port");
    let bad_file = data_dir.with_file_name("ops_bad_peers.json");
    fs::write(
        &bad_file,
        r#"{"bootstrap": ["/ip4/10.0.0.2/tcp/4100", "/ip4/1.2.3.4"]}"#,
    )
    .expect("write a config file");
    let bad_witness_file = data_dir.with_file_name("ops_bad_witness.json");
    fs::write(&bad_witness_file, r#"{"witness": ["ftp://w.example.org"]}"#)
        .expect("write a config file");
    let refusals: [(Vec<&str>, String); 6] = [
        (vec!["--bootstrap", "/ip4/1.2.3.4"], no_port.clone()),
        (
            vec!["--bootstrap", "/dns4/peer.example.org/tcp/4100"],
            "it names a host by DNS, which the node does not resolve".to_owned(),
        ),
        (
            vec!["--bootstrap", "/ip4/0.0.0.0/tcp/4100"],
            "0.0.0.0 means every address of this machine, not one to dial".to_owned(),
        ),
        (vec!["--config", path_str(&bad_file)], no_port.clone()),
        (vec!["--witness", "notaurl"], witness_refused("notaurl")),
        (
            vec!["--config", path_str(&bad_witness_file)],
            witness_refused("ftp://w.example.org"),
        ),
    ];
    assert_starts_refused(&data_dir, refusals);
    assert_eq!(saved_settings(&data_dir), before);

    // A value saved by an earlier version that did not check it is refused the same way.
    let mut saved = before.clone();
    saved["bootstrap"] = serde_json::json!(["/ip4/1.2.3.4"]);
    let saved_path = data_dir.join("config.json");
    fs::write(&saved_path, saved.to_string()).expect("write config.json");
    let output = NodeProcess::run_expecting_refusal(&data_dir, Vec::<&str>::new())
        .assert_exit(2)
        .assert_no_panic();
    assert!(output.stderr().contains(&no_port), "{}", output.describe());
    // A flag given again wins over it.
    let peer = format!("/ip4/127.0.0.1/tcp/9/p2p/{peer_id}");
    network.node.restart_with(&[
        "--bootstrap",
        &peer,
        "--bootstrap",
        "/ip6/::1/tcp/9",
        "--witness",
        "http://127.0.0.1:9/",
    ]);
    network.node.terminate();
    let saved = saved_settings(&data_dir);
    assert_eq!(
        saved["bootstrap"],
        serde_json::json!([peer, "/ip6/::1/tcp/9"])
    );
    assert_eq!(saved["witness"], serde_json::json!(["http://127.0.0.1:9/"]));
}
