//! The witness's CPU cost (issue 21 target: cosigning 100 chains at one checkpoint per second
//! each takes under 5 % of a core). A stand-in node in this process serves a network of
//! `WITNESS_BENCH_CHAINS` members (default 100) whose chains each grow by one record a second
//! (notes signed in advance, consistency proofs from in-memory trees); the `aidledger witness`
//! binary of the same profile runs against it with a round a second. After a warm-up its CPU
//! time (utime + stime of /proc/PID/stat, 100 ticks a second) is read over
//! `WITNESS_BENCH_SECONDS` (default 60), with the number of cosignatures it logged.
//!
//! `cargo bench -p aidledger-cli --bench witness_cpu` (release), or `--profile dev` for a
//! quick upper bound with the debug binary.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::genesis::{AdminRule, Genesis, Member, Role};
use aidledger_spec::merkle::MemoryTree;
use aidledger_spec::{signature, Digest, RecordId};
use ed25519_dalek::SigningKey;
use serde_json::json;

/// Seconds before the measurement starts: the first round cosigns every chain's first
/// checkpoint and reads the keys.
const WARM_UP_SECONDS: u64 = 10;
/// Clock ticks a second of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

struct Chain {
    org: String,
    tree: MemoryTree,
    /// `notes[size - 1]`: the checkpoint note of `size` records.
    notes: Vec<String>,
}

struct StandIn {
    export: Vec<u8>,
    chains: BTreeMap<String, Chain>,
    started: Instant,
    max_size: u64,
}

impl StandIn {
    /// Every chain's size now: one record more each second.
    fn size(&self) -> u64 {
        (1 + self.started.elapsed().as_secs()).min(self.max_size)
    }

    fn answer(&self, path: &str) -> (u16, Vec<u8>) {
        if path == "/api/export" {
            return (200, self.export.clone());
        }
        if let Some(org) = path.strip_prefix("/checkpoint/") {
            return match self.chains.get(org) {
                Some(chain) => (
                    200,
                    chain.notes[self.size() as usize - 1].clone().into_bytes(),
                ),
                None => (404, Vec::new()),
            };
        }
        if let Some(rest) = path.strip_prefix("/api/consistency/") {
            let (org, query) = rest.split_once('?').unwrap_or((rest, ""));
            let number = |key: &str| {
                query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix(key))
                    .and_then(|value| value.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let (from, to) = (number("from="), number("to="));
            let Some(chain) = self.chains.get(org) else {
                return (404, Vec::new());
            };
            let Ok(proof) = chain.tree.consistency_proof(from, to) else {
                return (400, Vec::new());
            };
            let body = json!({
                "org": chain.org, "from": from, "to": to,
                "from_root": chain.tree.root(from).map(|root| root.to_hex()).unwrap_or_default(),
                "to_root": chain.tree.root(to).map(|root| root.to_hex()).unwrap_or_default(),
                "proof": proof.iter().map(Digest::to_hex).collect::<Vec<_>>(),
            });
            return (200, body.to_string().into_bytes());
        }
        (404, Vec::new())
    }
}

/// Answers the requests of one connection, kept alive as a node's server keeps it (the
/// witness's client reuses its connections).
fn handle(stand_in: &StandIn, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buffer = [0u8; 4096];
    loop {
        let mut request = Vec::new();
        while !request.windows(4).any(|window| window == b"\r\n\r\n") {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(read) => request.extend_from_slice(&buffer[..read]),
            }
        }
        let text = String::from_utf8_lossy(&request);
        let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let (status, body) = stand_in.answer(&path);
        // One write: a head and a body written apart wait on Nagle and delayed ACKs.
        let mut answer = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        answer.extend_from_slice(&body);
        if stream.write_all(&answer).is_err() {
            return;
        }
    }
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("a stat line") + 2..]
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn main() {
    let chains = env_number("WITNESS_BENCH_CHAINS", 100) as usize;
    let seconds = env_number("WITNESS_BENCH_SECONDS", 60);
    let max_size = WARM_UP_SECONDS + seconds + 5;
    let keys: Vec<SigningKey> = (0..chains)
        .map(|index| {
            let mut seed = [0x5au8; 32];
            seed[..8].copy_from_slice(&(index as u64).to_le_bytes());
            SigningKey::from_bytes(&seed)
        })
        .collect();
    let members: Vec<Member> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| Member {
            id: format!("XI-BENCH-{index:04}"),
            name: format!("Bench member {index}"),
            roles: vec![Role::Donor],
            signing_keys: vec![signature::public_key_of(key)],
            node_keys: vec![],
        })
        .collect();
    let mut genesis = Genesis {
        format_version: 1,
        name: "witness bench".into(),
        created_ms: 1_800_000_000_000,
        admin_rule: AdminRule {
            admins: vec![members[0].id.clone()],
            threshold: 1,
        },
        members,
    };
    genesis.normalise();
    let network = genesis.network_id();
    let mut export = Vec::new();
    BundleWriter::new(&mut export, &genesis.encode())
        .expect("bundle")
        .finish()
        .expect("finish");
    eprintln!("signing {chains} chains × {max_size} checkpoints…");
    let chains_map: BTreeMap<String, Chain> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| {
            let org = format!("XI-BENCH-{index:04}");
            let ids: Vec<RecordId> = (0..max_size)
                .map(|seq| {
                    let mut id = [0u8; 32];
                    id[..8].copy_from_slice(&(index as u64).to_le_bytes());
                    id[8..16].copy_from_slice(&seq.to_le_bytes());
                    Digest(id)
                })
                .collect();
            let tree = MemoryTree::of_record_ids(&ids);
            let notes = (1..=max_size)
                .map(|size| {
                    Checkpoint::new(&network, &org, size, tree.root(size).expect("root"))
                        .sign(key)
                        .expect("sign")
                        .to_text()
                })
                .collect();
            (org.clone(), Chain { org, tree, notes })
        })
        .collect();
    let stand_in = Arc::new(StandIn {
        export,
        chains: chains_map,
        started: Instant::now(),
        max_size,
    });
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let node = format!("http://{}", listener.local_addr().expect("address"));
    {
        let stand_in = Arc::clone(&stand_in);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let stand_in = Arc::clone(&stand_in);
                std::thread::spawn(move || handle(&stand_in, stream));
            }
        });
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("witness.key");
    let status = Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args([
            "witness",
            "key",
            "--name",
            "witness.example.org/bench",
            "--out",
        ])
        .arg(&key_file)
        .stdout(Stdio::null())
        .status()
        .expect("witness key");
    assert!(status.success());
    let config = dir.path().join("witness.json");
    std::fs::write(
        &config,
        json!({
            "name": "witness.example.org/bench",
            "key_file": "witness.key",
            "state_dir": "state",
            "network_id": network.to_hex(),
            "nodes": [node],
            "listen": "127.0.0.1:0",
            "interval_ms": 1000,
        })
        .to_string(),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .arg("witness")
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the witness");
    let cosigned = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    {
        let (cosigned, refused) = (Arc::clone(&cosigned), Arc::clone(&refused));
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("cosigned") {
                    cosigned.fetch_add(1, Ordering::Relaxed);
                } else if line.starts_with("refused") || line.starts_with("error") {
                    refused.fetch_add(1, Ordering::Relaxed);
                    eprintln!("{line}");
                }
            }
        });
    }
    std::thread::sleep(Duration::from_secs(WARM_UP_SECONDS));
    let (ticks, count, at) = (
        cpu_ticks(child.id()),
        cosigned.load(Ordering::Relaxed),
        Instant::now(),
    );
    std::thread::sleep(Duration::from_secs(seconds));
    let (ticks, count, elapsed) = (
        cpu_ticks(child.id()) - ticks,
        cosigned.load(Ordering::Relaxed) - count,
        at.elapsed().as_secs_f64(),
    );
    let _ = child.kill();
    let _ = child.wait();
    let cpu = ticks as f64 / TICKS_PER_SECOND;
    println!(
        "witness: {chains} chains, {count} cosignatures in {elapsed:.1} s ({:.1}/s), CPU {cpu:.2} s = {:.2} % of a core, {:.0} µs of CPU a cosignature; {} refusals or errors",
        count as f64 / elapsed,
        100.0 * cpu / elapsed,
        1e6 * cpu / count.max(1) as f64,
        refused.load(Ordering::Relaxed),
    );
}
