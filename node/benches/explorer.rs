//! Explorer load benchmark: a store of `EXPLORER_BENCH_RECORDS` records (default 1,000,000)
//! over four chains, served by the public router, and 100 concurrent keep-alive HTTP/1.1
//! clients asking for the home page, an organisation's first and a deep page, and record pages
//! (1,000 records spread over the chains, each client going through them from its own
//! offset), and search (ten queries over receivers' names, activity titles and ids). Prints
//! requests/s and latency percentiles for each (BENCHMARKS.md keeps the numbers). The clients (requests written and answers parsed on the raw socket) are tasks of
//! the server's runtime, which has a worker per core: both in this process, on the same cores.
//!
//! The router keeps its explorer response cache (`explorer::cache`), as a node's does:
//! `EXPLORER_BENCH_CACHE_BYTES=0` turns it off, for the figure of pages rendered for every
//! request (each scenario's first pass over its paths renders them in either case).
//!
//! `EXPLORER_BENCH_APPENDS_PER_S=N` appends N records a second to the last chain while the
//! scenarios run (as a live network would: each append makes every cached page stale); they
//! stay in the store, which grows by that much.
//!
//! `EXPLORER_BENCH_INDEX_SIZE=1` prints the explorer index's keys and bytes by tag first.
//! `EXPLORER_BENCH_STORE_CACHE_MIB=N` opens the store with sled's page cache at N MiB (the
//! node's `--store-cache-mib`).
//! `EXPLORER_BENCH_CLIENTS=N` runs N clients instead of 100; `EXPLORER_BENCH_ONLY=TEXT` only the
//! scenarios whose name holds TEXT.
//!
//! `cargo bench -p aidledger-node --bench explorer`. The store is built once in
//! `EXPLORER_BENCH_DIR` (default `target/explorer-bench`) and reused by later runs.
//!
//! With `EXPLORER_BENCH_SERVE=ADDR` it runs no clients: it builds or opens the store, writes
//! the record pages' paths to the file `EXPLORER_BENCH_PATHS` (if set), one a line, the search
//! scenario's to `EXPLORER_BENCH_SEARCH_PATHS` (if set), and serves
//! the public router on ADDR until it is killed, so that a load generator in another process
//! (`bench/explorer-load`: wrk, each pinned to its own core) measures the pages from outside.
//!
//! With `EXPLORER_BENCH_RENDER=N` it runs no clients either: it renders the 1,000 record pages
//! N times over (after one pass to warm sled's page cache) through the public router in
//! process, one at a time on one thread, with the response cache off, and prints the
//! microseconds of one record page's rendering (every pass's mean, and the best pass's): the
//! cost of a cache miss, without the socket.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aidledger_node::governance::Governance;
use aidledger_node::ExplorerIndex;
use aidledger_spec::genesis::{AdminRule, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::record::{Money, Party, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::{sign_record, Body, Genesis, PublicKey, RecordDraft, RecordId, Verifier};
use aidledger_store::{DirLock, OpenMode, Store};
use ed25519_dalek::SigningKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The node's allocator (node/src/main.rs), so that the pages are served as the daemon serves
/// them. The load generator in this process uses it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Concurrent clients (`EXPLORER_BENCH_CLIENTS` sets another number: the search scenario is
/// also reported at 1 and 10).
const CLIENTS: usize = 100;
/// How long each scenario runs.
const SCENARIO_DURATION: Duration = Duration::from_secs(8);
/// Records signed, verified and appended per group while building.
const BUILD_GROUP_RECORDS: usize = 4096;
/// Chains in the store.
const ORGS: [&str; 4] = ["GB-GOV-1", "DK-CVR-20699310", "XM-DAC-41122", "XI-IATI-AUD"];
/// Record pages the record scenarios ask for, spread evenly over the chains.
const RECORD_PAGES: u64 = 1000;
/// Distinct activity ids the transactions spread over.
const ACTIVITIES: u64 = 1000;
/// Distinct receivers the transactions name (not members: names and ids for search).
const RECEIVERS: u64 = 1000;
/// One record in this many of a chain is an activity record (kind 8) of one of its
/// activities, with a title and a description to search; never at the seqs the record
/// scenarios read (multiples of their step, see [`spread_record_ids`]).
const ACTIVITY_RECORD_EVERY: u64 = 250;
/// The seq (modulo [`ACTIVITY_RECORD_EVERY`]) of a chain's activity records.
const ACTIVITY_RECORD_AT: u64 = 7;
/// Words the receivers' names and the activities' titles are made of.
const PLACES: [&str; 10] = [
    "Gaziantep",
    "Kigoma",
    "Cox's Bazar",
    "Maiduguri",
    "Kakuma",
    "Zaatari",
    "Goma",
    "Tigray",
    "Kharkiv",
    "Mopti",
];
const KINDS: [&str; 5] = [
    "Local NGO Network",
    "Water Trust",
    "Health Alliance",
    "Relief Committee",
    "Women's Cooperative",
];
/// The search scenario's queries: a receiver's name, an activity title's word, words of two
/// fields, an unknown organisation's id and a part of it, an activity id from a segment, a
/// common word (many hits, ranked and paged).
const SEARCH_QUERIES: [&str; 10] = [
    "local+ngo",
    "gaziantep",
    "kigoma+water",
    "XM-RCV-417",
    "rcv-52",
    "ACT-173",
    "women+cooperative+goma",
    "sanitation",
    "water",
    "tigray+relief&page=2",
];

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
    if seq % ACTIVITY_RECORD_EVERY == ACTIVITY_RECORD_AT {
        return activity_body(org, (seq / ACTIVITY_RECORD_EVERY) % ACTIVITIES);
    }
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
            org_ref: format!("XM-RCV-{}", seq % RECEIVERS),
            name: receiver_name(seq % RECEIVERS),
            ..Party::default()
        }),
        description: format!("tranche {seq} for water points"),
        acknowledges: None,
        iati: None,
    })
}

/// A receiver's name: a place and a kind of organisation (`Gaziantep Local NGO Network 17`).
fn receiver_name(receiver: u64) -> String {
    let place = PLACES[(receiver % PLACES.len() as u64) as usize];
    let kind = KINDS[((receiver / PLACES.len() as u64) % KINDS.len() as u64) as usize];
    format!("{place} {kind} {receiver}")
}

/// An activity record of one of `org`'s activities: a title naming a place, a description.
fn activity_body(org: &str, activity: u64) -> Body {
    use aidledger_spec::activity::{Activity, ActivityDescription, Narrative};
    let place = PLACES[(activity % PLACES.len() as u64) as usize];
    Body::Activity(Activity {
        iati_identifier: format!("{org}-ACT-{activity}"),
        reporting_org: org.into(),
        titles: vec![Narrative {
            language: "en".into(),
            text: format!("{place} water, sanitation and hygiene programme {activity}"),
        }],
        descriptions: vec![ActivityDescription {
            type_code: "1".into(),
            language: "en".into(),
            text: format!(
                "Boreholes, latrines and hand-washing stations for camps around {place}, \
                 with training of local committees and repairs of the water network"
            ),
        }],
        status: "2".into(),
        dates: Vec::new(),
        recipient_countries: Vec::new(),
        recipient_regions: Vec::new(),
        sectors: Vec::new(),
        participating_orgs: Vec::new(),
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
    let store = Store::open_with_cache(
        &dir,
        lock,
        OpenMode::CreateIfMissing,
        ExplorerIndex,
        store_cache_bytes(),
    )
    .expect("open");
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

/// Body bytes received by all clients (for the mean size of an answer).
static ANSWER_BYTES: AtomicU64 = AtomicU64::new(0);

struct Outcome {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// One client: a keep-alive HTTP/1.1 connection asking for `paths` in turn (from its own
/// offset) and reading each whole answer before the next request. Requests are written and
/// answers parsed (`httparse`, hyper's parser) on the raw socket, like `wrk` does: the load
/// generator shares the cores with the server, so it should cost as little as it can.
async fn client(
    server: SocketAddr,
    paths: Arc<Vec<String>>,
    offset: usize,
    deadline: Instant,
) -> Vec<Duration> {
    let mut stream = TcpStream::connect(server).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut buffer = Vec::with_capacity(64 * 1024);
    let mut latencies = Vec::new();
    let mut next = offset;
    while Instant::now() < deadline {
        let path = &paths[next % paths.len()];
        next += 1;
        let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
        let sent = Instant::now();
        stream.write_all(request.as_bytes()).await.expect("send");
        buffer.clear();
        let (head_bytes, body_bytes) = loop {
            assert!(
                stream.read_buf(&mut buffer).await.expect("read") > 0,
                "{path}: closed"
            );
            if let Some(sizes) = parse_head(&buffer, path) {
                break sizes;
            }
        };
        while buffer.len() < head_bytes + body_bytes {
            assert!(
                stream.read_buf(&mut buffer).await.expect("read") > 0,
                "{path}: closed"
            );
        }
        assert!(body_bytes > 0, "{path}: empty answer");
        latencies.push(sent.elapsed());
        ANSWER_BYTES.fetch_add(body_bytes as u64, Ordering::Relaxed);
    }
    latencies
}

/// The sizes of an answer's head and body once its head is complete; panics on anything but
/// a 200 with a content length.
fn parse_head(buffer: &[u8], path: &str) -> Option<(usize, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head_bytes = match response.parse(buffer).expect("an HTTP answer") {
        httparse::Status::Complete(size) => size,
        httparse::Status::Partial => return None,
    };
    assert_eq!(response.code, Some(200), "{path}");
    let length = response
        .headers
        .iter()
        .find(|header| header.name.eq_ignore_ascii_case("content-length"))
        .and_then(|header| std::str::from_utf8(header.value).ok()?.parse().ok())
        .expect("a content length");
    Some((head_bytes, length))
}

/// Runs the clients as tasks of the server's runtime: client and server tasks share its worker
/// per core. (Clients on a thread of their own were measured too: with more busy threads than
/// cores, a request's wait for a time slice of the OS scheduler doubled the p99.)
async fn run_scenario(server: SocketAddr, paths: Vec<String>) -> Outcome {
    let paths = Arc::new(paths);
    let started = Instant::now();
    let deadline = started + SCENARIO_DURATION;
    let clients = std::env::var("EXPLORER_BENCH_CLIENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(CLIENTS);
    let tasks: Vec<_> = (0..clients)
        .map(|offset| tokio::spawn(client(server, paths.clone(), offset, deadline)))
        .collect();
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

/// Record ids spread over every chain: [`RECORD_PAGES`] of them, evenly spaced.
fn spread_record_ids(store: &Store) -> Vec<RecordId> {
    let per_org = RECORD_PAGES / ORGS.len() as u64;
    let mut ids = Vec::new();
    for org in ORGS {
        let length = store.head(org).unwrap().map_or(0, |head| head.seq + 1);
        let step = (length / per_org).max(1);
        for seq in (0..length).step_by(step as usize).take(per_org as usize) {
            let bytes = store.record_at(org, seq).unwrap().expect("a stored record");
            ids.push(aidledger_spec::SignedRecord::parse(bytes).unwrap().id);
        }
    }
    ids
}

/// Prints the explorer index's keys by tag, with their key and value bytes (the search
/// terms are the `S` keys), so the index's size is seen beside the speed.
fn print_index_size(store: &Store) {
    let mut by_tag = std::collections::BTreeMap::<u8, (u64, u64)>::new();
    for entry in store.reader().index_tree().scan_prefix(b"") {
        let (key, value) = entry.expect("read the index");
        let counted = by_tag.entry(key.first().copied().unwrap_or(0)).or_default();
        counted.0 += 1;
        counted.1 += (key.len() + value.len()) as u64;
    }
    let parts: Vec<String> = by_tag
        .iter()
        .map(|(tag, (keys, bytes))| format!("{}: {keys} keys, {bytes} B", char::from(*tag)))
        .collect();
    eprintln!("explorer index by tag: {}", parts.join("; "));
}

fn main() {
    // The daemon's memory settings (mimalloc's purge delay, no transparent huge pages), first.
    aidledger_node::process_memory::configure();
    let store = Arc::new(open_store());
    if std::env::var_os("EXPLORER_BENCH_INDEX_SIZE").is_some() {
        print_index_size(&store);
    }
    let org = ORGS[0];
    let records = spread_record_ids(&store);
    // `EXPLORER_BENCH_SERVE=ADDR`: only serve, for a load generator in another process
    // (`bench/explorer-load` runs wrk pinned to another core).
    if let Ok(address) = std::env::var("EXPLORER_BENCH_SERVE") {
        serve_only(store, &records, &address);
        return;
    }
    if let Ok(passes) = std::env::var("EXPLORER_BENCH_RENDER") {
        let passes = passes
            .parse()
            .expect("EXPLORER_BENCH_RENDER: a number of passes");
        render_only(store, &records, passes);
        return;
    }
    let _appender = Appender::start(store.clone());
    // The daemon's runtime (its event interval is part of what is measured).
    let runtime = aidledger_node::node::runtime().expect("runtime");
    let server = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        // The node's own router: with its governance state, as `aidledger-node` serves it.
        let governance = Arc::new(Governance::load(store.clone()).expect("governance state"));
        let router = aidledger_node::public::router_with_explorer_cache(
            store.reader(),
            governance,
            cache_bytes(),
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        address
    });
    let paths = |make: &dyn Fn(&RecordId) -> String| records.iter().map(make).collect::<Vec<_>>();
    let scenarios = [
        ("home /", vec!["/".to_owned()]),
        ("organisation, first page", vec![format!("/org/{org}")]),
        (
            "organisation, deep page",
            vec![format!("/org/{org}?before_seq=1000")],
        ),
        (
            "record page (1,000 records over 4 chains)",
            paths(&|id| format!("/record/{id}")),
        ),
        (
            "record JSON /api/record (same records)",
            paths(&|id| format!("/api/record/{id}")),
        ),
        (
            "search /search (10 queries: names, title words, ids, a common word)",
            SEARCH_QUERIES
                .iter()
                .map(|query| format!("/search?q={query}"))
                .collect(),
        ),
    ];
    println!("| page | requests/s | p50 | p99 | max | body |\n|---|---:|---:|---:|---:|---:|");
    // `EXPLORER_BENCH_ONLY=record` runs only the scenarios whose name contains it (profiling).
    let only = std::env::var("EXPLORER_BENCH_ONLY").unwrap_or_default();
    for (name, paths) in scenarios {
        if !name.contains(only.as_str()) {
            continue;
        }
        ANSWER_BYTES.store(0, Ordering::Relaxed);
        let outcome = runtime.block_on(run_scenario(server, paths));
        let body_bytes = ANSWER_BYTES.load(Ordering::Relaxed) / outcome.requests.max(1) as u64;
        let rate = outcome.requests as f64 / outcome.elapsed.as_secs_f64();
        println!(
            "| {name} | {rate:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} KB |",
            percentile(&outcome.latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&outcome.latencies, 0.99).as_secs_f64() * 1e3,
            outcome
                .latencies
                .last()
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1e3,
            body_bytes as f64 / 1e3,
        );
    }
}

/// `EXPLORER_BENCH_APPENDS_PER_S` records a second appended to the last chain, one at a time
/// with their index entries (as gossip's are), until dropped.
struct Appender {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Appender {
    fn start(store: Arc<Store>) -> Appender {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let per_second: u64 =
            std::env::var("EXPLORER_BENCH_APPENDS_PER_S")
                .ok()
                .map_or(0, |text| {
                    text.parse()
                        .expect("EXPLORER_BENCH_APPENDS_PER_S: a number")
                });
        if per_second == 0 {
            return Appender { stop, thread: None };
        }
        eprintln!("appending {per_second} records a second to {}", ORGS[3]);
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let verifier = Verifier::new(store.genesis().clone());
            let key = key_of(ORGS.len() - 1);
            let org = ORGS[ORGS.len() - 1];
            let pause = Duration::from_micros(1_000_000 / per_second);
            let mut appended = 0;
            while !stopping.load(Ordering::Relaxed) {
                let head = store.head(org).expect("head").expect("a chain");
                let seq = head.seq + 1;
                let draft = RecordDraft {
                    network_id: store.genesis().network_id(),
                    author: org.into(),
                    seq,
                    prev: head.id,
                    timestamp_ms: 1_700_000_000_000 + seq,
                    body: body(org, seq),
                };
                let (_, bytes) = sign_record(&draft, &key).expect("sign");
                let record = verifier.verify(bytes).expect("a bench record verifies");
                store.append_durable(&[record]).expect("append");
                appended += 1;
                std::thread::sleep(pause);
            }
            appended
        });
        Appender {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let appended = thread.join().expect("the appender");
            eprintln!("appended {appended} records during the run");
        }
    }
}

/// sled's page cache: the node's default, unless `EXPLORER_BENCH_STORE_CACHE_MIB` says
/// otherwise (as `aidledger-node --store-cache-mib` does).
fn store_cache_bytes() -> u64 {
    use aidledger_store::{STORE_CACHE_BYTES, STORE_CACHE_BYTES_MAX, STORE_CACHE_BYTES_MIN};
    std::env::var("EXPLORER_BENCH_STORE_CACHE_MIB").map_or(STORE_CACHE_BYTES, |mib| {
        let bytes = mib
            .parse::<u64>()
            .ok()
            .and_then(|mib| mib.checked_mul(1024 * 1024))
            .filter(|bytes| (STORE_CACHE_BYTES_MIN..=STORE_CACHE_BYTES_MAX).contains(bytes));
        bytes.expect("EXPLORER_BENCH_STORE_CACHE_MIB: MiB within the node's bounds (16 to 65536)")
    })
}

/// The explorer response cache's bound: the node's, unless `EXPLORER_BENCH_CACHE_BYTES` says
/// otherwise (0: no cache).
fn cache_bytes() -> usize {
    let bytes = std::env::var("EXPLORER_BENCH_CACHE_BYTES").map_or(
        aidledger_node::limits::EXPLORER_CACHE_BYTES_MAX,
        |text| {
            text.parse()
                .expect("EXPLORER_BENCH_CACHE_BYTES: a number of bytes")
        },
    );
    eprintln!("explorer response cache: {bytes} bytes at most (0: off)");
    bytes
}

/// Serves the public router on `address` until the process is killed, after writing the
/// record pages' paths to `EXPLORER_BENCH_PATHS` and the search scenario's to
/// `EXPLORER_BENCH_SEARCH_PATHS` for the load generator.
fn serve_only(store: Arc<Store>, records: &[RecordId], address: &str) {
    if let Some(file) = std::env::var_os("EXPLORER_BENCH_PATHS") {
        let lines: String = records.iter().map(|id| format!("/record/{id}\n")).collect();
        std::fs::write(&file, lines).expect("write the record paths");
    }
    if let Some(file) = std::env::var_os("EXPLORER_BENCH_SEARCH_PATHS") {
        let lines: String = SEARCH_QUERIES
            .iter()
            .map(|query| format!("/search?q={query}\n"))
            .collect();
        std::fs::write(&file, lines).expect("write the search paths");
    }
    let runtime = aidledger_node::node::runtime().expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .unwrap_or_else(|error| panic!("listen on {address}: {error}"));
        let governance = Arc::new(Governance::load(store.clone()).expect("governance state"));
        let router = aidledger_node::public::router_with_explorer_cache(
            store.reader(),
            governance,
            cache_bytes(),
        );
        println!("serving http://{address}");
        axum::serve(listener, router).await.expect("serve");
    });
}

/// Renders the record pages `passes` times through the public router in process (response
/// cache off), one request at a time on a one-thread runtime, and prints the microseconds per
/// page of each pass.
fn render_only(store: Arc<Store>, records: &[RecordId], passes: usize) {
    use tower::ServiceExt as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let governance = Arc::new(Governance::load(store.clone()).expect("governance state"));
    let router = aidledger_node::public::router_with_explorer_cache(store.reader(), governance, 0);
    let render_pass = || {
        runtime.block_on(async {
            let mut bytes = 0;
            for id in records {
                let request = axum::http::Request::get(format!("/record/{id}"))
                    .header("host", "bench")
                    .body(axum::body::Body::empty())
                    .expect("a request");
                let response = router.clone().oneshot(request).await.expect("an answer");
                assert_eq!(response.status(), 200, "/record/{id}");
                bytes += axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("the body")
                    .len();
            }
            bytes
        })
    };
    let bytes = render_pass(); // sled's page cache warmed
    let mut per_page = Vec::new();
    for _ in 0..passes {
        let started = Instant::now();
        render_pass();
        let micros = started.elapsed().as_secs_f64() * 1e6 / records.len() as f64;
        per_page.push(micros);
        eprintln!("pass: {micros:.1} µs per record page");
    }
    let mean = per_page.iter().sum::<f64>() / per_page.len().max(1) as f64;
    let best = per_page.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "record page render (cache off, in process, {} pages x {passes}): mean {mean:.1} µs, best pass {best:.1} µs, {:.1} KB a page",
        records.len(),
        bytes as f64 / records.len().max(1) as f64 / 1e3
    );
}
