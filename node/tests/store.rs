//! Store tests on real sled files: round trips across reopen, refused appends, reads by range,
//! the lock, and clear errors (never panics) for missing or corrupted directories.

mod common;

use aidledger_node::datadir::DirLock;
use aidledger_node::{AppendError, OpenError, OpenMode, Store};
use aidledger_spec::RecordId;
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
    let store = Store::open(&dir).unwrap();
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
    let store = Store::open(&dir).unwrap();
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
        Store::open(&missing),
        Err(OpenError::MissingDir(_))
    ));
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(matches!(
        Store::open(&empty),
        Err(OpenError::MissingGenesis(_))
    ));
    std::fs::write(empty.join("genesis.bin"), b"not a genesis").unwrap();
    let error = Store::open(&empty).err().unwrap();
    assert!(matches!(error, OpenError::CorruptGenesis { .. }), "{error}");
    std::fs::write(empty.join("genesis.bin"), genesis().encode()).unwrap();
    assert!(matches!(
        Store::open(&empty),
        Err(OpenError::MissingStore(_))
    ));
}

#[test]
fn a_locked_directory_is_in_use() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    drop(open_new_store(&dir));
    let held = DirLock::acquire(&dir).unwrap();
    let error = Store::open(&dir).err().unwrap();
    assert!(
        error.to_string().contains("in use by a running node"),
        "{error}"
    );
    drop(held);
    Store::open(&dir).unwrap();
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
        Store::open(&dir),
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
    let error = Store::open(&dir)
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
        Store::open_with_lock(&dir, lock, OpenMode::Existing),
        Err(OpenError::MissingStore(_))
    ));
}
