//! Sustained gossip between three release-build nodes on loopback: 64 clients submit records
//! to the first node as fast as it acknowledges them (durably); the two others are polled for
//! the first node's head. Reports records/s from the first submit to the last record stored on
//! both other nodes, and per-record latency from submit to stored on all (p50/p99; the poll
//! interval, [`POLL_INTERVAL`], bounds the resolution). Run:
//! `cargo bench -p aidledger-node --bench gossip_three_nodes` (< 1 minute).
//! `GOSSIP_BENCH_RECORDS` changes the count.

mod network_common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aidledger_spec::record::Statement;
use aidledger_spec::{codec, Body};
use network_common::{genesis, start_node, status, wait, NodeProcess, ORGS};

/// Concurrent submitting clients.
const CLIENTS: usize = 64;
/// How often the receiving nodes are polled.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

fn main() {
    let total: u64 = std::env::var("GOSSIP_BENCH_RECORDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20_000);
    let root = tempfile::tempdir().expect("temporary directory");
    let genesis = genesis();
    let first = start_node(root.path(), &genesis, 0, &[]);
    let second = start_node(root.path(), &genesis, 1, std::slice::from_ref(&first.p2p));
    let third = start_node(
        root.path(),
        &genesis,
        2,
        &[first.p2p.clone(), second.p2p.clone()],
    );
    for node in [&first, &second, &third] {
        wait(Duration::from_secs(60), || {
            (status(&node.public)?["peers"].as_array()?.len() == 2).then_some(())
        });
    }
    let submitted: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let started = Instant::now();
    let [stored_second, stored_third] = std::thread::scope(|scope| {
        let observers = [&second, &third].map(|node| scope.spawn(move || observe(node, total)));
        submit_all(&first, total, &submitted);
        observers.map(|observer| observer.join().expect("observer"))
    });
    let submitted = submitted.lock().expect("submitted");
    let mut latencies: Vec<Duration> = (0..total)
        .map(|seq| stored_second[seq as usize].max(stored_third[seq as usize]) - submitted[&seq])
        .collect();
    let last_stored = stored_second
        .iter()
        .chain(&stored_third)
        .max()
        .copied()
        .unwrap_or(started);
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!("gossip_three_nodes: {total} records submitted to one node by {CLIENTS} clients");
    println!(
        "{:<44} {:>10.0}",
        "records/s, submit to stored on all 3",
        total as f64 / (last_stored - started).as_secs_f64()
    );
    println!(
        "{:<44} {:>10.1?}",
        "latency p50, submit to stored on all",
        percentile(0.50)
    );
    println!(
        "{:<44} {:>10.1?}",
        "latency p99, submit to stored on all",
        percentile(0.99)
    );
}

/// Submits `total` statements from [`CLIENTS`] threads, noting when each seq was submitted.
fn submit_all(node: &NodeProcess, total: u64, submitted: &Mutex<HashMap<u64, Instant>>) {
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            scope.spawn(move || {
                let http = reqwest::blocking::Client::new();
                for index in (client as u64..total).step_by(CLIENTS) {
                    let body = codec::encode(&Body::Statement(Statement {
                        title: "Field report".into(),
                        language: "en".into(),
                        text: format!("Distribution {index}: 40 households received water kits."),
                    }));
                    let sent = Instant::now();
                    let answer: serde_json::Value = http
                        .post(format!("{}/v1/records", node.submit))
                        .bearer_auth(&node.token)
                        .body(body)
                        .send()
                        .and_then(|response| response.json())
                        .expect("submit");
                    let seq = answer["seq"].as_u64().expect("seq");
                    submitted.lock().expect("submitted").insert(seq, sent);
                }
            });
        }
    });
}

/// Polls `node` for the first member's head; returns when each seq was first seen stored.
fn observe(node: &NodeProcess, total: u64) -> Vec<Instant> {
    let mut stored = Vec::with_capacity(total as usize);
    let deadline = Instant::now() + Duration::from_secs(600);
    while (stored.len() as u64) < total {
        assert!(Instant::now() < deadline, "records did not all arrive");
        let head = status(&node.public).and_then(|status| {
            status["heads"]
                .as_array()?
                .iter()
                .find(|head| head["org"] == ORGS[0])?["seq"]
                .as_u64()
        });
        let now = Instant::now();
        if let Some(head) = head {
            while (stored.len() as u64) <= head.min(total - 1) {
                stored.push(now);
            }
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    stored
}
