//! No self-inflicted fork (issue 17): peers are served durable records only, a node's store
//! knows whether its last run ended cleanly, and after an unclean end it finds and discards a
//! chain tail in which a record did not survive (a large record lost with its sled blob file
//! below a head that survived). Real sled files; the crash is a store dropped without
//! `close_cleanly`, the loss a blob file removed or a record key deleted by hand.

mod common;

use std::path::Path;

use aidledger_node::network::tasks::read_range;
use aidledger_node::network::wire::SyncResponse;
use aidledger_node::ExplorerIndex;
use aidledger_spec::chain::ChainVerifier;
use aidledger_spec::{Body, RecordId, VerifiedRecord};
use aidledger_store::OpenMode;
use aidledger_store::{DirLock, Store};
use common::{chain, record, statement, DONOR, IMPLEMENTER};

/// Opens a data directory's store as the node does (which sets the running mark).
fn open_as_node(dir: &Path) -> Store {
    let lock = DirLock::acquire(dir).expect("lock");
    Store::open_with_lock(dir, lock, OpenMode::CreateIfMissing, ExplorerIndex).expect("open")
}

fn served_seqs(store: &Store, author: &str) -> Vec<u64> {
    match read_range(store, author, 0, 1_000) {
        SyncResponse::Records(records) => records
            .iter()
            .map(|bytes| {
                aidledger_spec::SignedRecord::parse(bytes.clone())
                    .expect("a record")
                    .header
                    .seq
            })
            .collect(),
        other => panic!("not records: {other:?}"),
    }
}

/// The store's chains verified from scratch: every record present, linked and counted.
fn assert_whole(store: &Store) {
    let report = common::verify_store(store);
    assert!(
        report.is_valid(),
        "{:?}",
        report.problems().collect::<Vec<_>>()
    );
    let counted: u64 = report.chains.iter().map(|chain| chain.length).sum();
    assert_eq!(store.record_count().expect("count"), counted);
}

#[test]
fn peers_are_served_only_what_an_fsync_covered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = common::bare_data_dir(dir.path());
    let store = open_as_node(&data);
    let records = chain(DONOR, 6);
    store.append_durable(&records[..3]).expect("durable append");
    store.append_group(&records[3..]).expect("append");
    // Committed (readable), not yet fsynced: a peer sees the first three only.
    assert_eq!(
        store.head(DONOR).expect("head").map(|head| head.seq),
        Some(5)
    );
    assert_eq!(
        store
            .durable_head(DONOR)
            .expect("durable")
            .map(|head| head.seq),
        Some(2)
    );
    assert_eq!(served_seqs(&store, DONOR), vec![0, 1, 2]);
    store.make_durable().expect("fsync");
    assert_eq!(served_seqs(&store, DONOR), vec![0, 1, 2, 3, 4, 5]);

    // A revocation frees positions: nothing from there on is durable until the next fsync.
    store
        .revoke_from(
            DONOR,
            4,
            &aidledger_spec::Rejection::KeyRevoked {
                author: DONOR.into(),
                key: aidledger_spec::PublicKey([0; 32]),
                from_seq: 4,
                by: RecordId::ZERO,
            },
        )
        .expect("revoke");
    let again = record(DONOR, 4, records[3].id(), statement("after the revocation"));
    store
        .append_group(std::slice::from_ref(&again))
        .expect("append");
    assert!(
        served_seqs(&store, DONOR).len() <= 4,
        "{:?}",
        served_seqs(&store, DONOR)
    );
    store.make_durable().expect("fsync");
    assert_eq!(served_seqs(&store, DONOR), vec![0, 1, 2, 3, 4]);
}

/// The records of a bundle the node's export writes.
fn exported_records(store: &Store) -> usize {
    let bytes = aidledger_store::export::write_bundle(store, Vec::new()).expect("export");
    aidledger_spec::bundle::BundleReader::new(bytes.as_slice())
        .expect("a bundle")
        .filter(|item| matches!(item, Ok(aidledger_spec::bundle::BundleItem::Record(_))))
        .count()
}

#[test]
fn an_export_holds_only_durable_records() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = common::bare_data_dir(dir.path());
    let store = open_as_node(&data);
    let records = chain(DONOR, 5);
    store.append_durable(&records[..2]).expect("durable append");
    store.append_group(&records[2..]).expect("append");
    assert_eq!(
        exported_records(&store),
        2,
        "the three records not yet fsynced are left out"
    );
    store.make_durable().expect("fsync");
    assert_eq!(exported_records(&store), 5);
}

#[test]
fn a_clean_close_is_a_clean_start_and_a_drop_is_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = common::bare_data_dir(dir.path());
    let store = open_as_node(&data);
    assert!(!store.start_state().unclean, "a new store");
    store.append_durable(&chain(DONOR, 2)).expect("append");
    store.close_cleanly().expect("close");
    drop(store);
    let store = open_as_node(&data);
    assert!(!store.start_state().unclean, "after close_cleanly");
    drop(store); // a crash: no close
    let store = open_as_node(&data);
    assert_eq!(
        store.start_state(),
        &aidledger_store::StartState {
            unclean: true,
            discarded: vec![],
        }
    );
    assert_whole(&store);
}

/// A chain of the donor whose record at seq 2 is a treaty text of 300 KiB: above sled's blob
/// threshold, so sled keeps it in a file of its own under `store/blobs/`.
fn chain_with_a_large_treaty() -> Vec<VerifiedRecord> {
    let mut records = chain(DONOR, 2);
    let text = "Article 1. ".repeat(300 * 1024 / 11);
    let treaty = Body::TreatyText(common::treaty(&[DONOR, IMPLEMENTER], &text));
    records.push(record(DONOR, 2, records[1].id(), treaty));
    for seq in 3..5 {
        let prev = records.last().expect("a record").id();
        records.push(record(
            DONOR,
            seq,
            prev,
            statement(&format!("after the treaty {seq}")),
        ));
    }
    records
}

#[test]
fn an_unclean_start_discards_a_tail_whose_large_record_lost_its_blob() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = common::bare_data_dir(dir.path());
    let store = open_as_node(&data);
    let records = chain_with_a_large_treaty();
    store.append_durable(&records).expect("append");
    store
        .append_durable(&chain(IMPLEMENTER, 3))
        .expect("append");
    drop(store); // a crash: the running mark stays

    // The power loss: the treaty's blob file is gone, as sled leaves it when the file did not
    // reach the disk although the log entries after it did.
    let blobs = data.join(aidledger_store::datadir::STORE_DIR).join("blobs");
    let removed: Vec<_> = std::fs::read_dir(&blobs)
        .expect("sled keeps large values in blob files")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert!(!removed.is_empty(), "the treaty went to a blob file");
    for path in &removed {
        std::fs::remove_file(path).expect("remove the blob");
    }

    let store = open_as_node(&data);
    let state = store.start_state();
    assert!(state.unclean);
    assert_eq!(state.discarded.len(), 1, "{state:?}");
    assert_eq!(
        (
            state.discarded[0].author.as_str(),
            state.discarded[0].from_seq,
            state.discarded[0].old_head_seq
        ),
        (DONOR, 2, 4)
    );
    assert_eq!(
        store.head(DONOR).expect("head").map(|head| head.seq),
        Some(1)
    );
    assert_eq!(
        store.head(IMPLEMENTER).expect("head").map(|head| head.seq),
        Some(2)
    );
    assert_whole(&store);
    // No index entry names a discarded record; the chain continues at seq 2.
    for lost in &records[2..] {
        assert_eq!(store.get(&lost.id()).expect("get"), None);
    }
    let next = record(DONOR, 2, records[1].id(), statement("a new seq 2"));
    store
        .append_durable(std::slice::from_ref(&next))
        .expect("append at the freed seq");
    assert_eq!(
        store.get(&next.id()).expect("get"),
        Some(next.bytes().to_vec())
    );
    assert_whole(&store);
}

#[test]
fn an_unclean_start_finds_a_record_missing_below_a_head() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = common::bare_data_dir(dir.path());
    let store = open_as_node(&data);
    let records = chain(IMPLEMENTER, 8);
    store.append_durable(&records).expect("append");
    drop(store);
    {
        let db = common::raw_sled(&data);
        let tree = db.open_tree("records").expect("records tree");
        let key = aidledger_store::chain_key(IMPLEMENTER, 5).expect("a key");
        assert!(tree.remove(key).expect("remove").is_some());
        db.flush().expect("flush");
    }
    let store = open_as_node(&data);
    assert_eq!(store.start_state().discarded.len(), 1);
    assert_eq!(
        store.head(IMPLEMENTER).expect("head").map(|head| head.seq),
        Some(4)
    );
    assert_whole(&store);
    let mut verifier = ChainVerifier::new(store.genesis());
    for stored in store.iter_records() {
        verifier.add(common::verifier().verify(stored.expect("a record").bytes));
    }
    assert!(verifier.finish().is_valid());
}
