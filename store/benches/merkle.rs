//! The cost of every chain's Merkle tree (issue 21): durable and non-durable append throughput
//! of one chain, then roots and proofs at its full size. Run:
//! `cargo bench -p aidledger-store --bench merkle` (`MERKLE_BENCH_RECORDS`, default 1,000,000;
//! `MERKLE_BENCH_FAST_RECORDS`, default 200,000, for the non-durable phase).
//!
//! Records are signed and verified outside the timed part, a group of 256 at a time (the node
//! writer's `GROUP_RECORDS_MAX`); the timed part is `append_group` and, in the durable phase,
//! `make_durable` after each group, as the node's writer does. To compare with a store without
//! the tree, the same file is run against the commit before the store's tree with the part
//! between the `merkle-only` marks removed (BENCHMARKS.md says how).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{cpu_time, env_u64};

use aidledger_spec::genesis::{AdminRule, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::record::Statement;
use aidledger_spec::{
    sign_record, Body, Genesis, PublicKey, RecordDraft, RecordId, VerifiedRecord, Verifier,
};
use aidledger_store::index::IndexResult;
use aidledger_store::{
    AppendIndex, GroupIndexer, IndexTrees, IndexedRecord, OpenMode, Store, StoreError,
};
use ed25519_dalek::SigningKey;

const DURABLE_ORG: &str = "GB-GOV-1";
const FAST_ORG: &str = "XM-DAC-41122";
/// Records a group, as the node's writer groups them.
const GROUP_RECORDS: u64 = 256;
/// Proofs of each kind timed at the full size.
const PROOF_SAMPLES: usize = 10_000;
/// Records between two lines of the durable phase's progress.
const PHASE_RECORDS: u64 = 100_000;

fn main() {
    let records = env_u64("MERKLE_BENCH_RECORDS", 1_000_000);
    let fast_records = env_u64("MERKLE_BENCH_FAST_RECORDS", 200_000);
    println!(
        "merkle bench: {} cores, {records} durable records, {fast_records} non-durable",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = root.path().join("data");
    std::fs::create_dir_all(&dir).expect("a directory");
    let (genesis, keys) = genesis_and_keys();
    std::fs::write(dir.join("genesis.bin"), genesis.encode()).expect("genesis written");
    let verifier = Verifier::new(genesis.clone());
    let store = open(&dir);

    let durable = append_chain(&store, &verifier, &keys[0], DURABLE_ORG, records, true);
    println!(
        "durable appends (group of {GROUP_RECORDS}, make_durable each): {:.0} records/s over {records}, {:.1} µs CPU a record, group p50 {:?} p99 {:?}",
        records as f64 / durable.total.as_secs_f64(),
        durable.cpu.as_secs_f64() * 1e6 / records as f64,
        percentile(&mut durable.groups.clone(), 50),
        percentile(&mut durable.groups.clone(), 99),
    );
    let fast = append_chain(&store, &verifier, &keys[1], FAST_ORG, fast_records, false);
    println!(
        "non-durable appends (group of {GROUP_RECORDS}, one make_durable at the end): {:.0} records/s over {fast_records}, {:.1} µs CPU a record",
        fast_records as f64 / fast.total.as_secs_f64(),
        fast.cpu.as_secs_f64() * 1e6 / fast_records as f64,
    );
    println!(
        "store directory: {} MiB",
        directory_bytes(&dir) / (1024 * 1024)
    );
    // merkle-only: begin
    proofs(&store, DURABLE_ORG, records);
    drop(store);
    build_at_open(&dir, records + fast_records);
    // merkle-only: end
}

fn genesis_and_keys() -> (Genesis, [SigningKey; 2]) {
    let keys = [
        SigningKey::from_bytes(&[42; 32]),
        SigningKey::from_bytes(&[43; 32]),
    ];
    let member = |id: &str, key: &SigningKey| Member {
        id: id.into(),
        name: id.into(),
        roles: vec![Role::Donor],
        signing_keys: vec![PublicKey(key.verifying_key().to_bytes())],
        node_keys: vec![],
    };
    let mut genesis = Genesis {
        format_version: GENESIS_FORMAT_VERSION,
        name: "merkle benchmark".into(),
        created_ms: 1,
        members: vec![member(DURABLE_ORG, &keys[0]), member(FAST_ORG, &keys[1])],
        admin_rule: AdminRule {
            admins: vec![DURABLE_ORG.into()],
            threshold: 1,
        },
    };
    genesis.normalise();
    genesis.check().expect("a valid genesis");
    (genesis, keys)
}

/// An index that indexes nothing: the bench measures the store's own trees.
struct NoIndex;

struct NoGroup;

impl GroupIndexer for NoGroup {
    fn index(&self, _: &IndexedRecord<'_>) -> IndexResult {
        Ok(())
    }

    fn finish(&self) -> IndexResult {
        Ok(())
    }
}

impl AppendIndex for NoIndex {
    fn tree_name(&self) -> &'static str {
        "no_index"
    }

    fn group<'a>(&self, _: IndexTrees<'a>) -> Box<dyn GroupIndexer + 'a> {
        Box::new(NoGroup)
    }

    fn is_current(&self, _: &sled::Tree) -> Result<bool, StoreError> {
        Ok(true)
    }

    fn mark_current(&self, _: &sled::Tree) -> Result<(), StoreError> {
        Ok(())
    }

    fn mark_stale(&self, _: &sled::Tree) -> Result<(), StoreError> {
        Ok(())
    }

    fn indexes(&self, _: aidledger_spec::BodyKind) -> bool {
        false
    }
}

fn open(dir: &Path) -> Store {
    let lock = aidledger_store::DirLock::acquire(dir).expect("the lock");
    Store::open_with_lock(dir, lock, OpenMode::CreateIfMissing, NoIndex).expect("opens")
}

struct Timings {
    total: Duration,
    groups: Vec<Duration>,
    /// CPU time of the whole process (every thread: the appending one and sled's) during the
    /// timed parts: steadier than wall time on a machine other work shares.
    cpu: Duration,
}

/// Appends `count` statements of `org`, a group at a time, timing only the store's work.
fn append_chain(
    store: &Store,
    verifier: &Verifier,
    key: &SigningKey,
    org: &str,
    count: u64,
    durable: bool,
) -> Timings {
    let network_id = verifier.genesis().network_id();
    let mut prev = RecordId::ZERO;
    let mut timings = Timings {
        total: Duration::ZERO,
        groups: Vec::new(),
        cpu: Duration::ZERO,
    };
    let mut phase = Duration::ZERO;
    let mut seq = 0;
    while seq < count {
        let end = (seq + GROUP_RECORDS).min(count);
        let bytes: Vec<Vec<u8>> = (seq..end)
            .map(|at| {
                let draft = RecordDraft {
                    network_id,
                    author: org.into(),
                    seq: at,
                    prev,
                    timestamp_ms: 1_700_000_000_000 + at,
                    body: Body::Statement(Statement {
                        title: format!("statement {at}"),
                        language: "en".into(),
                        text: format!("{org} states the {at}th thing, about a hundred bytes of text as a small record has"),
                    }),
                };
                let (id, bytes) = sign_record(&draft, key).expect("signs");
                prev = id;
                bytes
            })
            .collect();
        let group: Vec<VerifiedRecord> = verifier
            .verify_batch(bytes)
            .into_iter()
            .map(|verdict| verdict.expect("a valid record"))
            .collect();
        let (started, cpu_before) = (Instant::now(), cpu_time());
        store.append_group(&group).expect("appends");
        if durable {
            store.make_durable().expect("durable");
        }
        let took = started.elapsed();
        timings.cpu += cpu_time().saturating_sub(cpu_before);
        timings.groups.push(took);
        timings.total += took;
        phase += took;
        let crossed = seq / PHASE_RECORDS != end / PHASE_RECORDS;
        seq = end;
        if durable && crossed {
            println!(
                "  {org} {seq}: {:.0} records/s over the last {PHASE_RECORDS}",
                PHASE_RECORDS as f64 / phase.as_secs_f64()
            );
            phase = Duration::ZERO;
        }
    }
    if !durable {
        let (started, cpu_before) = (Instant::now(), cpu_time());
        store.make_durable().expect("durable");
        timings.total += started.elapsed();
        timings.cpu += cpu_time().saturating_sub(cpu_before);
    }
    timings
}

fn percentile(samples: &mut [Duration], percent: usize) -> Duration {
    samples.sort();
    samples
        .get((samples.len() * percent / 100).min(samples.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

// merkle-only: begin
/// A small deterministic generator (xorshift64*), for positions to prove.
struct Positions(u64);

impl Positions {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

fn report(what: &str, mut samples: Vec<Duration>) {
    let max = samples.iter().max().copied().unwrap_or_default();
    println!(
        "{what:<52} p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>8.1} µs",
        percentile(&mut samples, 50).as_secs_f64() * 1e6,
        percentile(&mut samples, 99).as_secs_f64() * 1e6,
        max.as_secs_f64() * 1e6,
    );
}

/// Roots, inclusion and consistency proofs of `org`'s chain at its full `size`, each timed.
fn proofs(store: &Store, org: &str, size: u64) {
    let mut positions = Positions(0x9e37_79b9_7f4a_7c15);
    let root = store.merkle_root(org, size).expect("a root");
    let (mut roots, mut inclusions, mut consistencies, mut verifies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..PROOF_SAMPLES {
        let at = 1 + positions.below(size);
        let started = Instant::now();
        let _ = store.merkle_root(org, at).expect("a root");
        roots.push(started.elapsed());

        let seq = positions.below(size);
        let started = Instant::now();
        let proof = store.inclusion_proof(org, seq, size).expect("a proof");
        inclusions.push(started.elapsed());
        let record = store.record_at(org, seq).expect("read").expect("present");
        let id = aidledger_spec::signed::record_id_of_bytes(&record).expect("an id");
        let started = Instant::now();
        proof
            .verify(&aidledger_spec::merkle::leaf_hash(&id), &root)
            .expect("verifies");
        verifies.push(started.elapsed());

        let old = 1 + positions.below(size);
        let started = Instant::now();
        let _ = store.consistency_proof(org, old, size).expect("a proof");
        consistencies.push(started.elapsed());
    }
    println!("at size {size}, {PROOF_SAMPLES} samples each:");
    report("root at a random size", roots);
    report("inclusion proof of a random record", inclusions);
    report("consistency proof from a random size", consistencies);
    report("inclusion proof verification", verifies);
}

/// Times the open of a store whose tree is missing (one written before the tree existed):
/// the open builds every chain's tree.
fn build_at_open(dir: &Path, records: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let db = loop {
        // sled lets go of its file lock a moment after the store is dropped.
        match sled::open(dir.join("store")) {
            Ok(db) => break db,
            Err(error) if Instant::now() > deadline => panic!("sled opens: {error}"),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    db.drop_tree("merkle").expect("dropped");
    db.open_tree("meta")
        .expect("meta")
        .remove("merkle_built")
        .expect("removed");
    db.flush().expect("flushed");
    drop(db);
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let store = open(dir);
    let took = started.elapsed();
    println!(
        "open that builds the trees of {records} records: {took:.2?} ({:.0} records/s)",
        records as f64 / took.as_secs_f64()
    );
    drop(store);
}
// merkle-only: end

fn directory_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => directory_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}
