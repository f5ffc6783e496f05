//! Store tests on real sled files: round trips across reopen, refused appends, reads by range,
//! the lock, and clear errors (never panics) for missing or corrupted directories.

mod common;

use aidledger_store::datadir::DirLock;
use std::sync::atomic::{AtomicBool, Ordering};

use aidledger_node::ExplorerIndex;
use aidledger_spec::{RecordId, Rejection, VerifiedRecord};
use aidledger_store::{AppendError, OpenError, OpenMode, Store, StoreError};
use common::*;

#[test]
fn append_then_reopen_round_trips() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let donor = chain(DONOR, 5);
    let implementer = chain(IMPLEMENTER, 3);
    {
        let store = open_new_store(&dir);
        store.append_durable(&donor[..2]).unwrap();
        store.append(&implementer[0]).unwrap();
        store.append_durable(&donor[2..]).unwrap();
        store.append_durable(&implementer[1..]).unwrap();
    }
    let store = Store::open(&dir, ExplorerIndex).unwrap();
    assert_eq!(store.record_count().unwrap(), 8);
    for record in donor.iter().chain(&implementer) {
        assert_eq!(
            store.get(&record.id()).unwrap().as_deref(),
            Some(record.bytes())
        );
        let header = record.header();
        assert_eq!(
            store.position(&record.id()).unwrap(),
            Some((header.author.clone(), header.seq))
        );
    }
    let head = store.head(DONOR).unwrap().unwrap();
    assert_eq!((head.seq, head.id), (4, donor[4].id()));
    assert_eq!(store.head(AUDITOR).unwrap(), None);
    let chain_seqs: Vec<u64> = store
        .chain_range(DONOR, 2)
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(chain_seqs, vec![2, 3, 4]);
    let newest: Vec<u64> = store
        .chain_newest_first(DONOR, Some(4), 2)
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(newest, vec![3, 2]);
    let all_newest: Vec<u64> = store
        .chain_newest_first(DONOR, None, 10)
        .map(|entry| entry.unwrap().0)
        .collect();
    assert_eq!(all_newest, vec![4, 3, 2, 1, 0]);
    let order: Vec<(String, u64)> = store
        .iter_records()
        .map(|entry| entry.map(|stored| (stored.author, stored.seq)).unwrap())
        .collect();
    let mut expected: Vec<(String, u64)> = (0..5).map(|seq| (DONOR.to_string(), seq)).collect();
    expected.extend((0..3).map(|seq| (IMPLEMENTER.to_string(), seq)));
    assert_eq!(order, expected, "chains in key order, each in seq order");
    assert!(verify_store(&store).is_valid());
}

#[test]
fn refuses_appends_that_do_not_extend_the_head() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let store = open_new_store(&dir);
    let records = chain(DONOR, 3);
    // A gap: seq 1 on an empty chain.
    assert!(matches!(
        store.append(&records[1]),
        Err(AppendError::NotNext {
            seq: 1,
            expected_seq: 0,
            ..
        })
    ));
    store.append(&records[0]).unwrap();
    // The same record again.
    assert!(matches!(
        store.append(&records[0]),
        Err(AppendError::NotNext {
            seq: 0,
            expected_seq: 1,
            ..
        })
    ));
    // The right seq but another predecessor (a fork of seq 1).
    let fork = record(DONOR, 1, records[2].id(), statement("fork"));
    assert!(matches!(
        store.append(&fork),
        Err(AppendError::WrongPredecessor { seq: 1, .. })
    ));
    // A group that is bad in its second record writes nothing at all.
    let bad_group = [records[1].clone(), records[1].clone()];
    assert!(store.append_group(&bad_group).is_err());
    assert_eq!(store.record_count().unwrap(), 1);
    assert_eq!(store.get(&records[1].id()).unwrap(), None);
    assert_eq!(store.head(DONOR).unwrap().unwrap().seq, 0);
    store.append_group(&records[1..]).unwrap();
    assert_eq!(store.record_count().unwrap(), 3);
}

#[test]
fn stores_equivocation_proofs() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let store = open_new_store(&dir);
    let first = record(DONOR, 0, RecordId::ZERO, statement("one"));
    let second = record(DONOR, 0, RecordId::ZERO, statement("two"));
    store.add_proof(&first, &second).unwrap();
    store.make_durable().unwrap();
    drop(store);
    let store = Store::open(&dir, ExplorerIndex).unwrap();
    let proofs: Vec<_> = store.proofs().map(Result::unwrap).collect();
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0].first, first.bytes());
    assert_eq!(proofs[0].second, second.bytes());
}

#[test]
fn open_names_each_problem_of_the_directory() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("nowhere");
    assert!(matches!(
        Store::open(&missing, ExplorerIndex),
        Err(OpenError::MissingDir(_))
    ));
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(matches!(
        Store::open(&empty, ExplorerIndex),
        Err(OpenError::MissingGenesis(_))
    ));
    std::fs::write(empty.join("genesis.bin"), b"not a genesis").unwrap();
    let error = Store::open(&empty, ExplorerIndex).err().unwrap();
    assert!(matches!(error, OpenError::CorruptGenesis { .. }), "{error}");
    std::fs::write(empty.join("genesis.bin"), genesis().encode()).unwrap();
    assert!(matches!(
        Store::open(&empty, ExplorerIndex),
        Err(OpenError::MissingStore(_))
    ));
}

#[test]
fn a_locked_directory_is_in_use() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    drop(open_new_store(&dir));
    let held = DirLock::acquire(&dir).unwrap();
    let error = Store::open(&dir, ExplorerIndex).err().unwrap();
    assert!(
        error.to_string().contains("in use by a running node"),
        "{error}"
    );
    drop(held);
    Store::open(&dir, ExplorerIndex).unwrap();
}

#[test]
fn a_store_of_another_network_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    drop(open_new_store(&dir));
    let mut other = genesis();
    other.name = "another network".into();
    std::fs::write(dir.join("genesis.bin"), other.encode()).unwrap();
    assert!(matches!(
        Store::open(&dir, ExplorerIndex),
        Err(OpenError::WrongNetwork { .. })
    ));
}

#[test]
fn corrupted_store_bytes_give_an_error_not_a_panic() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    {
        let store = open_new_store(&dir);
        store.append_durable(&chain(DONOR, 50)).unwrap();
    }
    let db_path = dir.join("store").join("db");
    let mut bytes = std::fs::read(&db_path).unwrap();
    // Overwrite everything after the first segment header with a pattern.
    for (index, byte) in bytes.iter_mut().enumerate().skip(64) {
        *byte = (index % 251) as u8;
    }
    std::fs::write(&db_path, &bytes).unwrap();
    // sled recovers an unreadable log as an empty database: the store must notice.
    let error = Store::open(&dir, ExplorerIndex)
        .err()
        .expect("a corrupted store must not open as empty");
    assert!(error.to_string().contains("corrupted"), "{error}");
}

#[test]
fn open_with_lock_existing_needs_a_store() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let lock = DirLock::acquire(&dir).unwrap();
    assert!(matches!(
        Store::open_with_lock(&dir, lock, OpenMode::Existing, ExplorerIndex),
        Err(OpenError::MissingStore(_))
    ));
}

/// What a crash between an append's write ahead and its transaction leaves: records above the
/// head, with index entries. They were never acknowledged, so the store must not show them,
/// and the chain must continue at those positions with other records.
#[test]
fn records_above_a_head_are_removed_at_open() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let signed = chain(DONOR, 5);
    let other = chain(IMPLEMENTER, 1);
    {
        let store = open_new_store(&dir);
        store.append_durable(&signed[..2]).unwrap();
        store.append_durable(&other).unwrap();
    }
    {
        let db = raw_sled(&dir);
        let records = db.open_tree("records").unwrap();
        let index = db.open_tree("index").unwrap();
        for record in &signed[2..] {
            let key = aidledger_store::chain_key(DONOR, record.header().seq).unwrap();
            records.insert(&key, record.bytes()).unwrap();
            index.insert(record.id().0, key).unwrap();
        }
        // And a write cut short, whose header does not parse.
        let cut = aidledger_store::chain_key(DONOR, 5).unwrap();
        records.insert(&cut, &signed[4].bytes()[..10]).unwrap();
        db.flush().unwrap();
    }
    // A reader of the stopped node's directory sees only the chain as far as its head.
    let store = Store::open(&dir, ExplorerIndex).unwrap();
    let seqs: Vec<u64> = store.chain_range(DONOR, 0).map(|r| r.unwrap().0).collect();
    assert_eq!(seqs, vec![0, 1]);
    for record in &signed[2..] {
        assert_eq!(store.get(&record.id()).unwrap(), None);
        assert_eq!(store.position(&record.id()).unwrap(), None);
    }
    assert_eq!(store.iter_records().count(), 3);
    assert!(verify_store(&store).is_valid());
    drop(store);
    // The chain continues at seq 2 with another record; the old ids stay unknown.
    let store = open_new_store(&dir);
    let next = record(DONOR, 2, signed[1].id(), statement("after the crash"));
    store.append_durable(std::slice::from_ref(&next)).unwrap();
    assert_eq!(
        store.get(&next.id()).unwrap().as_deref(),
        Some(next.bytes())
    );
    assert_eq!(store.get(&signed[2].id()).unwrap(), None);
    assert_eq!(
        store.get(&other[0].id()).unwrap().as_deref(),
        Some(other[0].bytes())
    );
    assert_eq!(store.record_count().unwrap(), 4);
    assert!(verify_store(&store).is_valid());
}

/// A group refused inside its transaction (here by a corrupt explorer key) leaves nothing of
/// what it wrote ahead of it, and the same group appends once the store is mended.
#[test]
fn a_group_refused_in_its_transaction_leaves_no_record() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let records: Vec<_> = {
        let mut prev = RecordId::ZERO;
        (0..4)
            .map(|seq| {
                let next = record(DONOR, seq, prev, transaction("EUR", None));
                prev = next.id();
                next
            })
            .collect()
    };
    open_new_store(&dir).append_durable(&records[..1]).unwrap();
    // The donor's total of EUR disbursements, which every one of the group's appends reads.
    let total_key = aidledger_spec::sortkey::SortKey::tagged(b't')
        .text(DONOR)
        .u8(3)
        .text("EUR")
        .into_bytes();
    let set_total = |value: &[u8]| -> Option<Vec<u8>> {
        let db = raw_sled(&dir);
        let before = db
            .open_tree("explorer")
            .unwrap()
            .insert(&total_key, value)
            .unwrap();
        db.flush().unwrap();
        before.map(|value| value.to_vec())
    };
    let good = set_total(b"not a total").expect("the first append wrote the total");
    {
        let store = open_new_store(&dir);
        let refused = store.append_group(&records[1..]);
        assert!(
            matches!(&refused, Err(AppendError::Store(error)) if error.to_string().contains("explorer total")),
            "{refused:?}"
        );
        assert_eq!(store.head(DONOR).unwrap().unwrap().seq, 0);
        assert_eq!(store.record_count().unwrap(), 1);
        assert_eq!(store.iter_records().count(), 1);
        for record in &records[1..] {
            assert_eq!(store.get(&record.id()).unwrap(), None);
            assert_eq!(store.position(&record.id()).unwrap(), None);
        }
    }
    set_total(&good);
    let store = open_new_store(&dir);
    store.append_durable(&records[1..]).unwrap();
    assert_eq!(store.head(DONOR).unwrap().unwrap().seq, 3);
    assert!(verify_store(&store).is_valid());
}

/// Appends `records` with a fault that panics once between the write-ahead and the
/// transaction, as a bug there would; returns whether the append panicked.
fn append_panicking_after_write_ahead(
    store: &Store,
    fault: fn() -> Result<(), StoreError>,
    records: &[VerifiedRecord],
) -> bool {
    store.set_fault_after_write_ahead(fault);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.append_group(records))).is_err()
}

/// A panic between an append's write-ahead and its transaction leaves records above the head.
/// The store must then move no head (another record at those positions would leave the old
/// ids' index entries naming it), no read may show them (they were never acknowledged, and the
/// chain goes on at those positions with other records: showing them would hand out two
/// records at one seq), and reopening removes them.
#[test]
fn a_panic_after_the_write_ahead_stops_the_store_until_reopen() {
    static PANICKED: AtomicBool = AtomicBool::new(false);
    fn panic_once() -> Result<(), StoreError> {
        if !PANICKED.swap(true, Ordering::SeqCst) {
            panic!("an injected fault");
        }
        Ok(())
    }
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let signed = chain(DONOR, 4);
    let next = record(DONOR, 2, signed[1].id(), statement("another seq 2"));
    {
        let store = open_new_store(&dir);
        store.append_durable(&signed[..2]).unwrap();
        assert!(append_panicking_after_write_ahead(
            &store,
            panic_once,
            &signed[2..]
        ));
        assert_eq!(store.head(DONOR).unwrap().unwrap().seq, 1);
        assert_eq!(store.record_count().unwrap(), 2);
        let seqs: Vec<u64> = store.chain_range(DONOR, 0).map(|r| r.unwrap().0).collect();
        assert_eq!(seqs, vec![0, 1], "range sync reads stop at the head");
        let newest: Vec<u64> = store
            .chain_newest_first(DONOR, None, 10)
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(newest, vec![1, 0]);
        for record in &signed[2..] {
            assert_eq!(store.get(&record.id()).unwrap(), None);
            assert_eq!(store.position(&record.id()).unwrap(), None);
            assert_eq!(store.record_at(DONOR, record.header().seq).unwrap(), None);
        }
        assert_eq!(store.iter_records().count(), 2);
        assert_eq!(store.ids_from(&RecordId::ZERO, 10).unwrap().len(), 2);
        let refused = store.append(&next);
        assert!(
            matches!(
                refused,
                Err(AppendError::Store(StoreError::StoppedUntilReopen))
            ),
            "{refused:?}"
        );
        let refused = store.revoke_from(DONOR, 1, &Rejection::BadSignature);
        assert!(
            matches!(refused, Err(StoreError::StoppedUntilReopen)),
            "{refused:?}"
        );
        assert_eq!(store.head(DONOR).unwrap().unwrap().seq, 1);
        store.make_durable().unwrap();
    }
    let store = open_new_store(&dir);
    for record in &signed[2..] {
        assert_eq!(store.get(&record.id()).unwrap(), None);
        assert_eq!(store.position(&record.id()).unwrap(), None);
    }
    store.append_durable(std::slice::from_ref(&next)).unwrap();
    assert_eq!(
        store.get(&next.id()).unwrap().as_deref(),
        Some(next.bytes())
    );
    assert_eq!(store.get(&signed[2].id()).unwrap(), None);
    assert_eq!(store.record_count().unwrap(), 3);
    assert!(verify_store(&store).is_valid());
}

/// A chain's first group is written only by the transaction that creates its head: the open
/// removes records above heads, and a record of a chain without one would stay for good.
#[test]
fn a_chains_first_group_is_not_written_ahead() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let donor = chain(DONOR, 2);
    let other = chain(IMPLEMENTER, 1);
    {
        let store = open_new_store(&dir);
        store.append_durable(&other).unwrap();
        assert!(append_panicking_after_write_ahead(
            &store,
            panic_always,
            &donor
        ));
        for record in &donor {
            assert_eq!(store.get(&record.id()).unwrap(), None);
        }
        assert_eq!(store.iter_records().count(), 1);
        store.make_durable().unwrap();
    }
    // Nothing of the failed group is on disk after a reopen (which removes records above
    // heads only, and this chain has none): reads would not show it, the raw trees do.
    drop(open_new_store(&dir));
    {
        let db = raw_sled(&dir);
        for tree in ["records", "index"] {
            assert_eq!(db.open_tree(tree).unwrap().len(), 1, "leftovers in {tree}");
        }
    }
    let store = open_new_store(&dir);
    assert_eq!(store.iter_records().count(), 1);
    store.append_durable(&donor).unwrap();
    assert_eq!(store.record_count().unwrap(), 3);
    assert!(verify_store(&store).is_valid());
}

/// An index entry can outlive its record or name a position another record took (a power loss
/// can keep a small index entry and lose a record sled wrote as a blob). A read by id must
/// then not hand out the other record under that id.
#[test]
fn an_index_entry_naming_another_record_finds_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let signed = chain(DONOR, 2);
    let lost = record(DONOR, 1, signed[0].id(), statement("lost in the crash"));
    let gone = record(DONOR, 2, signed[1].id(), statement("never stored"));
    open_new_store(&dir).append_durable(&signed).unwrap();
    {
        let db = raw_sled(&dir);
        let index = db.open_tree("index").unwrap();
        for (orphan, seq) in [(&lost, 1), (&gone, 2)] {
            let key = aidledger_store::chain_key(DONOR, seq).unwrap();
            index.insert(orphan.id().0, key).unwrap();
        }
        db.flush().unwrap();
    }
    let store = Store::open(&dir, ExplorerIndex).unwrap();
    for orphan in [&lost, &gone] {
        assert_eq!(store.get(&orphan.id()).unwrap(), None);
        assert_eq!(store.position(&orphan.id()).unwrap(), None);
    }
    let listed = store.ids_from(&RecordId::ZERO, 10).unwrap();
    let mut expected: Vec<RecordId> = signed.iter().map(|record| record.id()).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(
        store.get(&signed[1].id()).unwrap().as_deref(),
        Some(signed[1].bytes())
    );
}

/// A scan paused across a revocation reads the lowered head again: the records an append
/// then writes ahead at the freed positions (here one whose transaction never ran) do not
/// come out of a scan that started before.
#[test]
fn a_scan_paused_across_a_revocation_stops_at_the_lowered_head() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let donor = chain(DONOR, 4);
    let store = open_new_store(&dir);
    store.append_durable(&donor).unwrap();
    let mut export = store.iter_records();
    let mut chain_read = store.chain_range(DONOR, 0);
    assert_eq!(export.next().unwrap().unwrap().seq, 0);
    assert_eq!(chain_read.next().unwrap().unwrap().0, 0);
    let moved = store
        .revoke_from(DONOR, 1, &Rejection::BadSignature)
        .unwrap();
    assert_eq!(moved.len(), 3);
    let replacement = record(DONOR, 1, donor[0].id(), statement("after the revocation"));
    let next = record(DONOR, 2, replacement.id(), statement("written ahead"));
    store
        .append_durable(std::slice::from_ref(&replacement))
        .unwrap();
    assert!(append_panicking_after_write_ahead(
        &store,
        panic_always,
        std::slice::from_ref(&next)
    ));
    // The scans started again at seq 1 when the revocation freed it: they return the record
    // that is there now, and nothing above the lowered head.
    let expected = [donor[0].bytes(), replacement.bytes()];
    let exported: Vec<Vec<u8>> = export.map(|record| record.unwrap().bytes).collect();
    let ranged: Vec<Vec<u8>> = chain_read.map(|record| record.unwrap().1).collect();
    assert_eq!(exported, expected[1..]);
    assert_eq!(ranged, expected[1..]);
    assert_eq!(store.get(&next.id()).unwrap(), None);
}

/// Statements of `length` records of DONOR from `from_seq` on after `prev`, each large enough
/// that a few hundred fill several sled leaves (a sled iterator copies the leaf it stands on
/// and serves the following records from that copy).
fn large_statements(
    label: &str,
    from_seq: u64,
    prev: RecordId,
    length: u64,
) -> Vec<VerifiedRecord> {
    let text = "x".repeat(800);
    let mut prev = prev;
    (from_seq..from_seq + length)
        .map(|seq| {
            let made = record(
                DONOR,
                seq,
                prev,
                statement(&format!("{label} {seq} {text}")),
            );
            prev = made.id();
            made
        })
        .collect()
}

fn append_in_groups(store: &Store, records: &[VerifiedRecord]) {
    for group in records.chunks(50) {
        store.append_durable(group).unwrap();
    }
}

/// A store holding 300 large records of DONOR (in a temporary directory that lives as long
/// as the returned guard).
fn store_of_300_large_records() -> (tempfile::TempDir, Store, Vec<VerifiedRecord>) {
    let root = tempfile::tempdir().unwrap();
    let store = open_new_store(&bare_data_dir(root.path()));
    let old = large_statements("old", 0, RecordId::ZERO, 300);
    append_in_groups(&store, &old);
    (root, store, old)
}

/// Revokes DONOR's chain from seq 1 on and writes 299 other records there; returns them.
fn rewind_and_rewrite(store: &Store, old: &[VerifiedRecord]) -> Vec<VerifiedRecord> {
    store
        .revoke_from(DONOR, 1, &Rejection::BadSignature)
        .unwrap();
    let new = large_statements("new", 1, old[0].id(), 299);
    append_in_groups(store, &new);
    new
}

/// A paused scan whose chain is rewound below where it stands, then written again, returns
/// the new records from there on: none of the revoked ones from the leaf it had copied, so
/// the records it returns link.
#[test]
fn a_paused_scan_across_a_rewind_returns_the_new_records_and_they_link() {
    let (_root, store, old) = store_of_300_large_records();
    let mut export = store.iter_records();
    assert_eq!(export.next().unwrap().unwrap().bytes, old[0].bytes());
    let new = rewind_and_rewrite(&store, &old);
    let rest: Vec<Vec<u8>> = export.map(|record| record.unwrap().bytes).collect();
    let expected: Vec<&[u8]> = new.iter().map(|record| record.bytes()).collect();
    assert_eq!(rest, expected);
}

/// A paused scan that already returned records a revocation then moved out cannot go on
/// with the records written at their positions since (they would not link to what it
/// returned): it ends with an error naming the chain, forward and newest first alike.
#[test]
fn a_paused_scan_past_a_rewound_position_ends_with_an_error() {
    let (_root, store, old) = store_of_300_large_records();
    let mut export = store.iter_records();
    for record in &old[..150] {
        assert_eq!(export.next().unwrap().unwrap().bytes, record.bytes());
    }
    let mut newest_first = store.chain_newest_first(DONOR, None, 300);
    for record in old[150..].iter().rev() {
        assert_eq!(newest_first.next().unwrap().unwrap().1, record.bytes());
    }
    rewind_and_rewrite(&store, &old);
    let forward: Vec<_> = export
        .map(|record| record.map(|record| record.seq))
        .collect();
    let backward: Vec<_> = newest_first
        .map(|record| record.map(|(seq, _)| seq))
        .collect();
    for (rest, last_seq) in [(forward, 149), (backward, 150)] {
        assert_eq!(rest.len(), 1, "only the error");
        match &rest[0] {
            Err(StoreError::ChainChanged { author, seq }) => {
                assert_eq!((author.as_str(), *seq), (DONOR, last_seq));
            }
            other => panic!("{other:?}"),
        }
    }
}

/// An append whose transaction is refused after its write-ahead removes what it wrote. A scan
/// that copied the sled leaf holding those records before (here while it stood on an earlier
/// chain) must not return them once a later append has moved that chain's head over their
/// positions: they were never committed.
#[test]
fn a_scan_never_returns_what_a_refused_append_wrote_ahead() {
    type Scan = Box<dyn Iterator<Item = Result<aidledger_store::StoredRecord, StoreError>> + Send>;
    static SCAN: std::sync::Mutex<Option<Scan>> = std::sync::Mutex::new(None);
    static REFUSED: AtomicBool = AtomicBool::new(false);
    fn read_then_refuse_once() -> Result<(), StoreError> {
        if REFUSED.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        // The scan's first read copies the leaf, which holds the records just written ahead.
        let mut scan = SCAN.lock().unwrap();
        let first = scan.as_mut().unwrap().next().unwrap().unwrap();
        assert_eq!((first.author.as_str(), first.seq), (DONOR, 0));
        Err(StoreError::Corrupt("an injected refusal".into()))
    }
    let root = tempfile::tempdir().unwrap();
    let store = open_new_store(&bare_data_dir(root.path()));
    let donor = chain(DONOR, 2);
    let implementer = chain(IMPLEMENTER, 3);
    store.append_durable(&donor).unwrap();
    store.append_durable(&implementer[..2]).unwrap();
    *SCAN.lock().unwrap() = Some(Box::new(store.iter_records()));
    store.set_fault_after_write_ahead(read_then_refuse_once);
    let refused = store.append_group(&implementer[2..]);
    assert!(
        matches!(refused, Err(AppendError::Store(StoreError::Corrupt(_)))),
        "{refused:?}"
    );
    let other = record(
        IMPLEMENTER,
        2,
        implementer[1].id(),
        statement("another seq 2"),
    );
    store.append_durable(std::slice::from_ref(&other)).unwrap();
    let scan = SCAN.lock().unwrap().take().unwrap();
    let rest: Vec<Vec<u8>> = scan.map(|record| record.unwrap().bytes).collect();
    assert!(
        !rest.iter().any(|bytes| bytes == implementer[2].bytes()),
        "the scan returned the refused record"
    );
    let expected = [
        donor[1].bytes(),
        implementer[0].bytes(),
        implementer[1].bytes(),
        other.bytes(),
    ];
    assert_eq!(rest, expected);
    assert_eq!(store.get(&implementer[2].id()).unwrap(), None);
}

/// A revocation note as store format 1 wrote it (the encoder of that version, copied): the
/// code with a one-byte length, `by` (32 bytes, zero for none), the text with a big-endian
/// `u32` length, then the record's bytes.
fn format_1_value(code: &str, by: Option<RecordId>, text: &str, bytes: &[u8]) -> Vec<u8> {
    let code = &code.as_bytes()[..code.len().min(usize::from(u8::MAX))];
    let text = text.as_bytes();
    let text = &text[..text.len().min(u32::MAX as usize)];
    let mut value = Vec::with_capacity(1 + code.len() + 32 + 4 + text.len() + bytes.len());
    value.push(code.len() as u8);
    value.extend_from_slice(code);
    value.extend_from_slice(&by.unwrap_or(RecordId::ZERO).0);
    value.extend_from_slice(&(text.len() as u32).to_be_bytes());
    value.extend_from_slice(text);
    value.extend_from_slice(bytes);
    value
}

fn key_revoked(from_seq: u64, by: RecordId) -> Rejection {
    Rejection::KeyRevoked {
        author: DONOR.into(),
        key: aidledger_spec::PublicKey([7; 32]),
        from_seq,
        by,
    }
}

/// A data directory that the previous version left (its revocation notes in format 1, no
/// `store_format` key in `meta`) opens with every revocation read back as it was written,
/// migrated once; revocations after that keep their typed rejection, across reopens too.
#[test]
fn a_store_of_format_1_keeps_its_revocations_and_new_ones_are_typed() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let donor = chain(DONOR, 4);
    let old_reason = key_revoked(2, donor[0].id());
    {
        let store = open_new_store(&dir);
        store.append_durable(&donor).unwrap();
        store.revoke_from(DONOR, 2, &old_reason).unwrap();
        store.make_durable().unwrap();
    }
    // What format 1 held: seq 2 as that version wrote a key revocation, seq 3 with a note
    // that names no governance record.
    let old_notes = [
        (
            &donor[2],
            "key-revoked",
            Some(donor[0].id()),
            old_reason.to_string(),
        ),
        (
            &donor[3],
            "bad-signature",
            None,
            "bad signature".to_string(),
        ),
    ];
    {
        let db = raw_sled(&dir);
        let revoked = db.open_tree("revoked").unwrap();
        let entries: Vec<_> = revoked.iter().map(|entry| entry.unwrap()).collect();
        assert_eq!(entries.len(), 2);
        for (key, value) in entries {
            let (record, code, by, text) = old_notes
                .iter()
                .find(|(record, ..)| value.ends_with(record.bytes()))
                .unwrap();
            revoked
                .insert(key, format_1_value(code, *by, text, record.bytes()))
                .unwrap();
        }
        heads_and_count_as_format_2(&db);
        let meta = db.open_tree("meta").unwrap();
        assert!(meta.remove("store_format").unwrap().is_some());
        db.flush().unwrap();
    }
    let new_reason = key_revoked(1, donor[0].id());
    {
        let store = Store::open(&dir, ExplorerIndex).unwrap();
        for (record, code, by, text) in &old_notes {
            let read = store.revocation(&record.id()).unwrap().unwrap();
            assert_eq!(
                (read.code.as_str(), read.by, read.reason.as_str()),
                (*code, *by, text.as_str())
            );
            assert_eq!(
                (read.rejection, read.bytes),
                (None, record.bytes().to_vec())
            );
        }
        assert_eq!(store.revoked_count(), 2);
        store.revoke_from(DONOR, 1, &new_reason).unwrap();
        store.make_durable().unwrap();
    }
    {
        let db = raw_sled(&dir);
        let meta = db.open_tree("meta").unwrap();
        assert_eq!(
            meta.get("store_format").unwrap().as_deref(),
            Some(&3u32.to_le_bytes()[..])
        );
    }
    let store = Store::open(&dir, ExplorerIndex).unwrap();
    assert_eq!(store.head(DONOR).unwrap().unwrap().seq, 0);
    let typed = store.revocation(&donor[1].id()).unwrap().unwrap();
    assert_eq!(typed.rejection.as_ref(), Some(&new_reason));
    assert_eq!(
        (typed.code.as_str(), typed.by, typed.reason),
        ("key-revoked", Some(donor[0].id()), new_reason.to_string())
    );
    assert_eq!(typed.bytes, donor[1].bytes());
    for (record, code, by, text) in &old_notes {
        let read = store.revocation(&record.id()).unwrap().unwrap();
        assert_eq!((read.code.as_str(), read.by), (*code, *by));
        assert_eq!(
            (read.reason.as_str(), read.rejection),
            (text.as_str(), None)
        );
    }
    let listed: Vec<u64> = store
        .revoked_records()
        .map(|entry| entry.unwrap().seq)
        .collect();
    assert_eq!(listed, vec![1, 2, 3]);
}

/// A store of a format newer than this code's is refused at open rather than misread.
#[test]
fn a_store_of_a_newer_format_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    drop(open_new_store(&dir));
    {
        let db = raw_sled(&dir);
        let meta = db.open_tree("meta").unwrap();
        meta.insert("store_format", &4u32.to_le_bytes()[..])
            .unwrap();
        db.flush().unwrap();
    }
    let error = Store::open(&dir, ExplorerIndex).err().unwrap();
    assert!(error.to_string().contains("format 4"), "{error}");
}

/// Rewrites the `heads` values and `record_count` of a store of this version as store formats
/// 1 and 2 wrote them (that version's encoder, copied): seq or count as a big-endian `u64`,
/// a head's record id after its seq.
fn heads_and_count_as_format_2(db: &sled::Db) {
    let heads = db.open_tree("heads").unwrap();
    for entry in heads.iter() {
        let (author, value) = entry.unwrap();
        assert_eq!(value.len(), 40);
        let seq = u64::from_le_bytes(value[..8].try_into().unwrap());
        let mut old = seq.to_be_bytes().to_vec();
        old.extend_from_slice(&value[8..]);
        heads.insert(author, old).unwrap();
    }
    let meta = db.open_tree("meta").unwrap();
    let count = meta.get("record_count").unwrap().unwrap();
    let count = u64::from_le_bytes(count.as_ref().try_into().unwrap());
    meta.insert("record_count", &count.to_be_bytes()[..])
        .unwrap();
}

/// A data directory of store format 2 (heads and record count big endian) opens with its
/// heads and count as they were, migrated once to format 3; appends go on from those heads,
/// and a head that format 2 could not have written is an error naming it, not a panic.
#[test]
fn a_store_of_format_2_keeps_its_heads_and_count() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let donor = chain(DONOR, 6);
    let recipient = chain(IMPLEMENTER, 2);
    {
        let store = open_new_store(&dir);
        store.append_durable(&donor[..4]).unwrap();
        store.append_durable(&recipient).unwrap();
        store.make_durable().unwrap();
    }
    let set_format_2 = || {
        let db = raw_sled(&dir);
        heads_and_count_as_format_2(&db);
        db.open_tree("meta")
            .unwrap()
            .insert("store_format", &2u32.to_le_bytes()[..])
            .unwrap();
        db.flush().unwrap();
    };
    set_format_2();
    {
        let store = Store::open(&dir, ExplorerIndex).unwrap();
        let head = store.head(DONOR).unwrap().unwrap();
        assert_eq!((head.seq, head.id), (3, donor[3].id()));
        let head = store.head(IMPLEMENTER).unwrap().unwrap();
        assert_eq!((head.seq, head.id), (1, recipient[1].id()));
        assert_eq!(store.record_count().unwrap(), 6);
        store.append_durable(&donor[4..]).unwrap();
        assert_eq!(store.record_count().unwrap(), 8);
        assert!(verify_store(&store).is_valid());
    }
    {
        let db = raw_sled(&dir);
        let meta = db.open_tree("meta").unwrap();
        assert_eq!(
            meta.get("store_format").unwrap().as_deref(),
            Some(&3u32.to_le_bytes()[..])
        );
        // Little endian now: seq 5 of the donor's head.
        let head = db.open_tree("heads").unwrap().get(DONOR).unwrap().unwrap();
        assert_eq!(&head[..8], &5u64.to_le_bytes()[..]);
        assert_eq!(&head[8..], &donor[5].id().0[..]);
    }
    // Reopening a migrated store changes nothing.
    {
        let store = Store::open(&dir, ExplorerIndex).unwrap();
        assert_eq!(store.head(DONOR).unwrap().unwrap().seq, 5);
        assert_eq!(store.record_count().unwrap(), 8);
    }
    // A format 2 head of the wrong length is refused at open, naming the chain.
    set_format_2();
    {
        let db = raw_sled(&dir);
        db.open_tree("heads")
            .unwrap()
            .insert(DONOR, &[1u8; 39][..])
            .unwrap();
        db.flush().unwrap();
    }
    let error = Store::open(&dir, ExplorerIndex).err().unwrap();
    assert!(
        error.to_string().contains(DONOR) && error.to_string().contains("format 2"),
        "{error}"
    );
}

/// A data directory written by the code of store format 2 (commit 9112b22: `bare_data_dir`,
/// then the donor's chain of 4 and the implementer's of 2 appended and made durable; its
/// sled files are in `tests/fixtures/store-format-2`) opens with those heads and that count,
/// migrated to format 3, and its chains go on.
#[test]
fn a_data_directory_written_by_format_2_code_opens_migrated() {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-format-2");
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    std::fs::create_dir_all(dir.join("store")).unwrap();
    for file in ["genesis.bin", "store/conf", "store/db"] {
        std::fs::copy(fixture.join(file), dir.join(file)).unwrap();
    }
    {
        let db = raw_sled(&dir);
        let meta = db.open_tree("meta").unwrap();
        assert_eq!(
            meta.get("store_format").unwrap().as_deref(),
            Some(&2u32.to_le_bytes()[..])
        );
        let head = db.open_tree("heads").unwrap().get(DONOR).unwrap().unwrap();
        assert_eq!(&head[..8], &3u64.to_be_bytes()[..]);
    }
    let donor = chain(DONOR, 6);
    let implementer = chain(IMPLEMENTER, 2);
    let store = Store::open(&dir, ExplorerIndex).unwrap();
    let head = store.head(DONOR).unwrap().unwrap();
    assert_eq!((head.seq, head.id), (3, donor[3].id()));
    let head = store.head(IMPLEMENTER).unwrap().unwrap();
    assert_eq!((head.seq, head.id), (1, implementer[1].id()));
    assert_eq!(store.record_count().unwrap(), 6);
    store.append_durable(&donor[4..]).unwrap();
    assert_eq!(store.record_count().unwrap(), 8);
    assert!(verify_store(&store).is_valid());
    drop(store);
    let db = raw_sled(&dir);
    assert_eq!(
        db.open_tree("meta")
            .unwrap()
            .get("store_format")
            .unwrap()
            .as_deref(),
        Some(&3u32.to_le_bytes()[..])
    );
}
