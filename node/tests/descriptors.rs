//! The store's sync without a file descriptor to spare (issue 17): it makes ordinary records
//! durable without opening anything, and when a large record's blob file cannot be opened to
//! be fsynced it reports `NotYetDurable` (nothing lost, retry), never a failed fsync; once
//! descriptors are free again the same sync succeeds.
//!
//! A test binary of its own: it lowers this process's open-files limit and uses it all up.

mod common;

use std::fs::File;

use aidledger_store::StoreError;
use common::*;

/// The soft limit this test runs under: small, so using it up is quick.
const SOFT_OPEN_FILES: u64 = 256;
/// A statement above sled's blob threshold (about 128 KiB), so it is written as a blob file.
const BLOB_TEXT_BYTES: usize = 512 * 1024;

fn lower_open_files_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let lowered = Rlimit {
        current: Some(
            limit
                .maximum
                .map_or(SOFT_OPEN_FILES, |hard| SOFT_OPEN_FILES.min(hard)),
        ),
        maximum: limit.maximum,
    };
    setrlimit(Resource::Nofile, lowered).unwrap();
}

/// Opens `/dev/null` until the process has no descriptor left.
fn use_up_descriptors() -> Vec<File> {
    let mut held = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(file) => held.push(file),
            Err(error) if error.raw_os_error() == Some(libc::EMFILE) => return held,
            Err(error) => panic!("open /dev/null: {error}"),
        }
        assert!(
            held.len() <= SOFT_OPEN_FILES as usize,
            "the limit did not hold"
        );
    }
}

#[test]
fn a_sync_without_descriptors_loses_nothing_and_succeeds_once_they_are_free() {
    lower_open_files_limit();
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let store = open_new_store(&dir);
    let records = chain(DONOR, 2);
    store.append(&records[0]).unwrap();
    store.make_durable().unwrap();

    // An ordinary record: appended and synced with no descriptor to spare.
    let held = use_up_descriptors();
    store.append(&records[1]).unwrap();
    let ordinary = store.make_durable();
    drop(held);
    ordinary.expect("a sync of ordinary records opens nothing");

    // A large record's blob file is written at the append; its fsync needs a descriptor.
    let large = record(
        DONOR,
        2,
        records[1].id(),
        statement(&"x".repeat(BLOB_TEXT_BYTES)),
    );
    store.append(&large).unwrap();
    let held = use_up_descriptors();
    let starved = store.make_durable();
    drop(held);
    assert!(
        matches!(starved, Err(StoreError::NotYetDurable(_))),
        "no descriptor for the blob is not a failed fsync: {starved:?}"
    );
    store.make_durable().expect("the retry syncs the blob");
    assert!(!store.is_stopped(), "the store goes on");
    assert_eq!(store.head(DONOR).unwrap().unwrap().seq, 2);
    assert!(verify_store(&store).is_valid());
}
