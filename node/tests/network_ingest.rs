//! Records from peers through the writer (`Writer::ingest`): appends, duplicates, records ahead
//! of a gap held until it fills, equivocations stored as proofs, and records that name another
//! predecessor; and the range sync state machine driven by hand.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use aidledger_node::governance::Governance;
use aidledger_node::network::sync::{Action, Syncer, BUFFERED_BATCHES_MAX};
use aidledger_node::network::wire::{SyncRequest, WireHead};
use aidledger_node::writer::{IngestOutcome, Placement, SigningKeys, SubmitError, Writer};
use aidledger_spec::withheld::ChainRecord;
use aidledger_spec::{SignedRecord, VerifiedRecord};
use aidledger_store::Store;
use common::{chain, key_of, open_new_store, panic_always, record, statement, DONOR, IMPLEMENTER};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    store: Arc<Store>,
    writer: Writer,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(open_new_store(&common::bare_data_dir(dir.path())));
        let governance = Arc::new(Governance::load(store.clone()).unwrap());
        let writer = Writer::start(
            store.clone(),
            governance,
            DONOR.into(),
            SigningKeys::single(key_of(DONOR)),
        )
        .unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        Fixture {
            runtime,
            store,
            writer,
            _dir: dir,
        }
    }

    fn ingest(&self, records: &[VerifiedRecord]) -> IngestOutcome {
        self.runtime
            .block_on(self.writer.ingest(records.to_vec(), Vec::new()))
            .unwrap()
    }

    fn head_seq(&self, org: &str) -> Option<u64> {
        self.store.head(org).unwrap().map(|head| head.seq)
    }
}

#[test]
fn holds_records_ahead_of_a_gap_and_appends_them_when_it_fills() {
    let fixture = Fixture::new();
    let records = chain(IMPLEMENTER, 6);
    let ahead = fixture.ingest(&records[3..5]);
    assert_eq!(ahead.placements, vec![Placement::Pending; 2]);
    assert_eq!(
        (fixture.store.pending_count(), fixture.head_seq(IMPLEMENTER)),
        (2, None)
    );
    let filled = fixture.ingest(&records[..3]);
    assert_eq!(filled.stored, 5, "three given and two promoted: {filled:?}");
    assert_eq!(fixture.head_seq(IMPLEMENTER), Some(4));
    assert_eq!(fixture.store.pending_count(), 0);
    let again = fixture.ingest(&[records[5].clone(), records[5].clone(), records[0].clone()]);
    assert_eq!(
        again.placements,
        vec![
            Placement::Stored,
            Placement::Duplicate,
            Placement::Duplicate
        ]
    );
    assert_eq!(fixture.store.record_count().unwrap(), 6);
    assert!(common::verify_store(&fixture.store).is_valid());
}

#[test]
fn a_second_record_at_a_stored_seq_becomes_one_proof() {
    let fixture = Fixture::new();
    let records = chain(IMPLEMENTER, 3);
    fixture.ingest(&records);
    let other = record(IMPLEMENTER, 1, records[0].id(), statement("another story"));
    let outcome = fixture.ingest(std::slice::from_ref(&other));
    assert_eq!(outcome.placements, vec![Placement::Equivocation]);
    assert_eq!(outcome.proofs.len(), 1);
    assert_eq!(
        fixture.store.forks().unwrap(),
        vec![(IMPLEMENTER.to_string(), 1)]
    );
    let repeated = fixture.ingest(&[other]);
    assert!(repeated.proofs.is_empty(), "the same proof is stored once");
    assert_eq!(fixture.store.proof_count(), 1);
    assert_eq!(
        fixture.head_seq(IMPLEMENTER),
        Some(2),
        "the chain kept its branch"
    );
}

#[test]
fn a_next_record_naming_another_predecessor_is_detached_not_stored() {
    let fixture = Fixture::new();
    let records = chain(IMPLEMENTER, 2);
    fixture.ingest(&records);
    let elsewhere = record(IMPLEMENTER, 1, records[0].id(), statement("fork"));
    let next = record(IMPLEMENTER, 2, elsewhere.id(), statement("after the fork"));
    let outcome = fixture.ingest(&[next]);
    assert_eq!(outcome.placements, vec![Placement::Detached]);
    assert_eq!(outcome.detached, vec![(IMPLEMENTER.to_string(), 2)]);
    assert_eq!(fixture.store.record_count().unwrap(), 2);
}

#[test]
fn range_sync_pipelines_contiguous_ranges_and_ingests_in_order() {
    let peer = libp2p::PeerId::random();
    let mut syncer = Syncer::default();
    let heads = [WireHead {
        author: IMPLEMENTER.into(),
        seq: 2999,
        id: [0; 32],
    }];
    let actions = syncer.on_heads(peer, &heads, |_| None, &HashSet::new());
    let [Action::Request {
        request:
            SyncRequest::Range {
                from_seq: 0,
                limit: 1024,
                ..
            },
        ..
    }] = actions.as_slice()
    else {
        panic!("expected one range request from 0: {actions:?}");
    };
    // The peer answers with fewer records than asked: the next request starts where it ended.
    let actions = syncer.on_records(IMPLEMENTER, 0, vec![vec![0u8]; 500]);
    assert!(
        matches!(actions[0], Action::Verify { from_seq: 0, .. }),
        "{actions:?}"
    );
    assert!(
        matches!(
            actions[1],
            Action::Request {
                request: SyncRequest::Range { from_seq: 500, .. },
                ..
            }
        ),
        "{actions:?}"
    );
    // A later batch verified first waits for the earlier one.
    let mut waiting = syncer.on_records(IMPLEMENTER, 500, vec![vec![0u8]; 500]);
    waiting.retain(|action| matches!(action, Action::Ingest { .. }));
    assert!(waiting.is_empty());
    let verified = |count: usize| {
        vec![
            ChainRecord::Full(record(
                IMPLEMENTER,
                0,
                aidledger_spec::RecordId::ZERO,
                statement("x")
            ));
            count
        ]
    };
    assert!(syncer
        .on_verified(IMPLEMENTER, 500, verified(500))
        .iter()
        .all(|action| !matches!(action, Action::Ingest { .. })));
    let actions = syncer.on_verified(IMPLEMENTER, 0, verified(500));
    assert!(actions
        .iter()
        .any(|action| matches!(action, Action::Ingest { .. })));
    const { assert!(BUFFERED_BATCHES_MAX >= 2) };
    assert_eq!(syncer.fetching(), 1);
    syncer.peer_gone(&peer);
    assert_eq!(syncer.fetching(), 0);
}

/// The writer signs a group while the previous one is appended by another thread: hundreds of
/// concurrent submissions (several groups in flight, each signed on two threads) followed in
/// the queue by ingests of a peer's chain (which drain the append thread first) must still
/// give distinct consecutive seqs, every record stored, and chains that verify.
#[test]
fn pipelined_groups_and_ingests_keep_every_chain_whole() {
    const SUBMITTED: u64 = 700;
    let fixture = Fixture::new();
    let peer = chain(IMPLEMENTER, 300);
    let seqs = fixture.runtime.block_on(async {
        let submits = (0..SUBMITTED).map(|index| {
            let body = statement(&format!("statement {index}"));
            fixture.writer.submit(body, 64)
        });
        let ingests = peer
            .chunks(100)
            .map(|chunk| fixture.writer.ingest(chunk.to_vec(), Vec::new()));
        let (answers, ingested) = tokio::join!(
            futures_util::future::join_all(submits),
            futures_util::future::join_all(ingests)
        );
        for outcome in ingested {
            outcome.expect("an ingest is answered");
        }
        answers
            .into_iter()
            .map(|answer| answer.expect("a submission is committed").seq)
            .collect::<Vec<u64>>()
    });
    let distinct: HashSet<u64> = seqs.iter().copied().collect();
    assert_eq!(distinct, (0..SUBMITTED).collect::<HashSet<u64>>());
    assert_eq!(fixture.head_seq(DONOR), Some(SUBMITTED - 1));
    assert_eq!(fixture.head_seq(IMPLEMENTER), Some(299));
    assert_eq!(fixture.store.record_count().unwrap(), SUBMITTED + 300);
    let report = common::verify_store(&fixture.store);
    assert!(report.is_valid(), "{report:?}");
}

/// Groups the signing thread appends itself (here a key rotation) reach the sync thread in
/// chain order with the groups the append thread appends, so records are published in seq
/// order: never a record signed with the rotated-to key before the rotation that grants it.
/// The 300 submissions ahead keep the writer busy, so that the last submissions, the rotation
/// and the submissions after it are taken as one batch of messages.
#[test]
fn records_are_published_in_chain_order_around_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open_new_store(&common::bare_data_dir(dir.path())));
    let governance = Arc::new(Governance::load(store.clone()).unwrap());
    let keys = SigningKeys {
        dir: Some(dir.path().join("keys")),
        keys: vec![key_of(DONOR)],
    };
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    let writer = Writer::start(store.clone(), governance, DONOR.into(), keys).unwrap();
    let mut published = writer.committed_records();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rotated = runtime.block_on(async {
        let before = (0..300).map(|index| writer.submit(statement(&format!("before {index}")), 64));
        let after = (0..5).map(|index| writer.submit(statement(&format!("after {index}")), 64));
        let (before, rotated, after) = tokio::join!(
            futures_util::future::join_all(before),
            writer.rotate_key(),
            futures_util::future::join_all(after)
        );
        for answer in before.into_iter().chain(after) {
            answer.expect("a submission is committed");
        }
        rotated.expect("the rotation is committed")
    });
    // Answers go out before the records are broadcast: wait for all 306.
    let seqs: Vec<u64> = runtime.block_on(async {
        let mut seqs = Vec::new();
        while seqs.len() < 306 {
            let wait = tokio::time::timeout(std::time::Duration::from_secs(10), published.recv());
            let bytes = wait.await.expect("a record is published").unwrap();
            seqs.push(SignedRecord::parse(bytes.to_vec()).unwrap().header.seq);
        }
        seqs
    });
    assert_eq!(
        seqs,
        (0..306).collect::<Vec<u64>>(),
        "published out of order"
    );
    assert!(
        rotated.seq < 305,
        "the rotation was the last record: nothing after it"
    );
    // Every record verifies under the authority the rotation derives (old key, then new).
    let view = Governance::load(store.clone()).unwrap().current();
    for entry in store.chain_range(DONOR, 0) {
        view.verifier
            .verify(entry.unwrap().1)
            .expect("a stored record verifies");
    }
}

/// A panic inside an append (a bug) answers that group with an error instead of ending the
/// append thread; the writer then refuses every submission and ingest at once, saying that the
/// node must restart, and nothing of the groups after the panic is stored.
#[test]
fn a_panic_inside_an_append_stops_the_writer_with_its_reason() {
    let fixture = Fixture::new();
    let submit = |text: &str| {
        fixture
            .runtime
            .block_on(fixture.writer.submit(statement(text), 64))
    };
    submit("before").expect("the first record is stored");
    fixture.store.set_fault_after_write_ahead(panic_always);
    for text in ["during", "after"] {
        match submit(text) {
            Err(SubmitError::Storage(reason)) => {
                assert!(reason.contains("until the node restarts"), "{reason}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    let ingested = fixture
        .runtime
        .block_on(fixture.writer.ingest(chain(IMPLEMENTER, 1), Vec::new()));
    assert!(
        matches!(&ingested, Err(SubmitError::Storage(reason)) if reason.contains("restarts")),
        "{ingested:?}"
    );
    assert_eq!(fixture.head_seq(DONOR), Some(0));
    assert_eq!(fixture.head_seq(IMPLEMENTER), None);
}

/// The same for a peer's records, which the signing thread appends itself: a panic in their
/// append is answered with the reason, and so is every submission after it.
#[test]
fn a_panic_inside_an_ingest_append_stops_the_writer_with_its_reason() {
    let fixture = Fixture::new();
    let records = chain(IMPLEMENTER, 4);
    fixture.ingest(&records[..2]);
    fixture.store.set_fault_after_write_ahead(panic_always);
    let ingested = fixture
        .runtime
        .block_on(fixture.writer.ingest(records[2..].to_vec(), Vec::new()));
    let submitted = fixture
        .runtime
        .block_on(fixture.writer.submit(statement("after"), 64));
    for answer in [format!("{ingested:?}"), format!("{submitted:?}")] {
        assert!(
            answer.contains("Storage") && answer.contains("until the node restarts"),
            "{answer}"
        );
    }
    assert_eq!(fixture.head_seq(IMPLEMENTER), Some(1));
    assert_eq!(fixture.head_seq(DONOR), None);
}
