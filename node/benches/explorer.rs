//! Explorer load benchmark: a store of `EXPLORER_BENCH_RECORDS` records (default 1,000,000)
//! over four chains, served by the public router, and 100 concurrent HTTP/1.1 clients asking
//! for the home page, an organisation's first and a deep page, and a record page. Prints
//! requests/s and latency percentiles for each (BENCHMARKS.md keeps the numbers).
//!
//! `cargo bench -p aidledger-node --bench explorer`. The store is built once in
//! `EXPLORER_BENCH_DIR` (default `target/explorer-bench`) and reused by later runs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aidledger_node::{DirLock, OpenMode, Store};
use aidledger_spec::genesis::{AdminRule, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::record::{Money, Party, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::{sign_record, Body, Genesis, PublicKey, RecordDraft, RecordId, Verifier};
use ed25519_dalek::SigningKey;

/// Concurrent clients.
const CLIENTS: usize = 100;
/// How long each scenario runs.
const SCENARIO_DURATION: Duration = Duration::from_secs(8);
/// Records signed, verified and appended per group while building.
const BUILD_GROUP_RECORDS: usize = 4096;
/// Chains in the store.
const ORGS: [&str; 4] = ["GB-GOV-1", "DK-CVR-20699310", "XM-DAC-41122", "XI-IATI-AUD"];
/// Distinct activity ids the transactions spread over.
const ACTIVITIES: u64 = 1000;

fn key_of(index: usize) -> SigningKey {
    SigningKey::from_bytes(&[u8::try_from(index).unwrap_or(0) * 17 + 5; 32])
}

fn genesis() -> Genesis {
    let members = ORGS
        .iter()
        .enumerate()
        .map(|(index, id)| Member {
            id: (*id).into(),
            name: format!("Organisation {index}"),
            roles: vec![Role::Donor],
            signing_keys: vec![PublicKey(key_of(index).verifying_key().to_bytes())],
            node_keys: vec![],
        })
        .collect();
    let mut genesis = Genesis {
        format_version: GENESIS_FORMAT_VERSION,
        name: "explorer bench".into(),
        created_ms: 1_700_000_000_000,
        members,
        admin_rule: AdminRule {
            admins: vec![ORGS[0].into()],
            threshold: 1,
        },
    };
    genesis.normalise();
    genesis
}

fn body(org: &str, seq: u64) -> Body {
    let date = Date {
        year: 2024,
        month: 1 + (seq % 12) as u8,
        day: 1 + (seq % 28) as u8,
    };
    Body::Transaction(Transaction {
        activity_id: format!("{org}-ACT-{}", seq % ACTIVITIES),
        transaction_type: [2, 3, 4][(seq % 3) as usize],
        value: Money {
            amount: format!("{}.{:02}", 1000 + seq % 100_000, seq % 100),
            currency: ["GBP", "EUR", "USD"][(seq % 3) as usize].into(),
        },
        value_date: date,
        transaction_date: date,
        provider: Some(Party {
            org_ref: org.into(),
            ..Party::default()
        }),
        receiver: Some(Party {
            org_ref: "XM-RECEIVER".into(),
            ..Party::default()
        }),
        description: format!("tranche {seq} for water points"),
        acknowledges: None,
        iati: None,
    })
}

/// Appends `per_org` records to every chain: signing and verifying on two threads.
fn build(store: &Store, per_org: u64) {
    let verifier = Verifier::new(store.genesis().clone());
    let network_id = store.genesis().network_id();
    let started = Instant::now();
    let mut prevs = vec![RecordId::ZERO; ORGS.len()];
    let mut seq = 0u64;
    while seq < per_org {
        let count = (BUILD_GROUP_RECORDS as u64 / ORGS.len() as u64).min(per_org - seq);
        let groups: Vec<Vec<_>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ORGS
                .iter()
                .enumerate()
                .map(|(index, org)| {
                    let (verifier, mut prev) = (&verifier, prevs[index]);
                    scope.spawn(move || {
                        let key = key_of(index);
                        let mut bytes = Vec::new();
                        for offset in 0..count {
                            let draft = RecordDraft {
                                network_id,
                                author: (*org).into(),
                                seq: seq + offset,
                                prev,
                                timestamp_ms: 1_700_000_000_000 + seq + offset,
                                body: body(org, seq + offset),
                            };
                            let (id, record) = sign_record(&draft, &key).expect("sign");
                            prev = id;
                            bytes.push(record);
                        }
                        verifier
                            .verify_batch(bytes)
                            .into_iter()
                            .map(|verdict| verdict.expect("a bench record verifies"))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a builder thread"))
                .collect()
        });
        for (index, group) in groups.iter().enumerate() {
            prevs[index] = group.last().map_or(prevs[index], |record| record.id());
        }
        let all: Vec<_> = groups.into_iter().flatten().collect();
        store.append_group(&all).expect("append");
        seq += count;
        if seq % 25_000 < count {
            eprintln!(
                "built {} records in {:.0?}",
                seq * ORGS.len() as u64,
                started.elapsed()
            );
        }
    }
    store.make_durable().expect("flush");
}

fn open_store() -> Store {
    let records: u64 = std::env::var("EXPLORER_BENCH_RECORDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::var_os("EXPLORER_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/explorer-bench")
        });
    std::fs::create_dir_all(&dir).expect("create the bench directory");
    let genesis_path = dir.join("genesis.bin");
    if !genesis_path.exists() {
        std::fs::write(&genesis_path, genesis().encode()).expect("write genesis.bin");
    }
    let lock = DirLock::acquire(&dir).expect("lock the bench directory");
    let store = Store::open_with_lock(&dir, lock, OpenMode::CreateIfMissing).expect("open");
    let have = store.record_count().expect("count");
    if have < records {
        let per_org = (records - have) / ORGS.len() as u64;
        assert_eq!(
            have,
            0,
            "a partly built bench store: remove {}",
            dir.display()
        );
        build(&store, per_org);
    }
    eprintln!(
        "store: {} records in {}",
        store.record_count().unwrap(),
        dir.display()
    );
    store
}

struct Outcome {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

async fn run_scenario(client: &reqwest::Client, url: String) -> Outcome {
    let started = Instant::now();
    let deadline = started + SCENARIO_DURATION;
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let response = client.get(&url).send().await.expect("request");
                assert!(
                    response.status().is_success(),
                    "{url}: {}",
                    response.status()
                );
                let _ = response.bytes().await.expect("body");
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a client task"));
    }
    latencies.sort();
    Outcome {
        requests: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 * fraction) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(index).copied().unwrap_or_default()
}

fn main() {
    let store = Arc::new(open_store());
    let org = ORGS[0];
    let length = store.head(org).unwrap().map_or(0, |head| head.seq + 1);
    let record = store
        .record_at(org, length / 2)
        .unwrap()
        .map(|bytes| aidledger_spec::SignedRecord::parse(bytes).unwrap().id)
        .expect("a middle record");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = aidledger_node::public::router(store.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(CLIENTS)
            .build()
            .unwrap();
        let scenarios = [
            ("home /", format!("{base}/")),
            ("organisation, first page", format!("{base}/org/{org}")),
            (
                "organisation, deep page",
                format!("{base}/org/{org}?before_seq=1000"),
            ),
            ("record page", format!("{base}/record/{record}")),
            (
                "record JSON /api/record",
                format!("{base}/api/record/{record}"),
            ),
        ];
        println!("| page | requests/s | p50 | p99 | max |\n|---|---:|---:|---:|---:|");
        for (name, url) in scenarios {
            let outcome = run_scenario(&client, url).await;
            let rate = outcome.requests as f64 / outcome.elapsed.as_secs_f64();
            println!(
                "| {name} | {rate:.0} | {:.1} ms | {:.1} ms | {:.1} ms |",
                percentile(&outcome.latencies, 0.50).as_secs_f64() * 1e3,
                percentile(&outcome.latencies, 0.99).as_secs_f64() * 1e3,
                outcome
                    .latencies
                    .last()
                    .copied()
                    .unwrap_or_default()
                    .as_secs_f64()
                    * 1e3,
            );
        }
    });
}
