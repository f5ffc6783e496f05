//! The writer keeps a free-space reserve on the store's filesystem (issue 17's reliability
//! bench: sled does not recover from a full disk, so the store must never meet one): below it,
//! submissions, key rotations and peers' records are refused with the free and needed bytes,
//! nothing is stored, and the writer goes on once there is room.

mod common;

use std::sync::Arc;

use aidledger_node::governance::Governance;
use aidledger_node::writer::{SigningKeys, SubmitError, Writer};
use common::{chain, key_of, open_new_store, statement, DONOR, IMPLEMENTER};

fn writer(store: &Arc<aidledger_store::Store>, reserve_bytes: u64) -> Writer {
    let governance = Arc::new(Governance::load(store.clone()).expect("governance"));
    Writer::start(
        store.clone(),
        governance,
        DONOR.into(),
        SigningKeys::single(key_of(DONOR)),
    )
    .expect("writer")
    .with_disk_free_bytes_min(reserve_bytes)
}

#[test]
fn below_the_free_space_reserve_nothing_is_taken_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(open_new_store(&common::bare_data_dir(dir.path())));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let free = store.free_bytes().expect("statvfs");
    assert!(free > 0);

    // A reserve larger than the disk's free space: everything is refused, with the numbers.
    let full = writer(&store, free.saturating_mul(2));
    let body = statement("while the disk is nearly full");
    let refused = runtime.block_on(full.submit(body.clone(), 64));
    assert!(
        matches!(refused, Err(SubmitError::DiskNearlyFull { needed_bytes, .. }) if needed_bytes == free.saturating_mul(2)),
        "{refused:?}"
    );
    assert!(matches!(
        runtime.block_on(full.rotate_key()),
        Err(SubmitError::DiskNearlyFull { .. })
    ));
    let from_peer = runtime.block_on(full.ingest(chain(IMPLEMENTER, 2), Vec::new()));
    assert!(
        matches!(from_peer, Err(SubmitError::DiskNearlyFull { .. })),
        "{from_peer:?}"
    );
    assert_eq!(store.record_count().expect("count"), 0);
    assert!(
        full.failure().is_none(),
        "a refusal is not a failure of the writer"
    );
    runtime.block_on(full.stop());

    // With room, the same writer code takes records again.
    let roomy = writer(&store, 0);
    let committed = runtime.block_on(roomy.submit(body, 64)).expect("stored");
    assert_eq!(committed.seq, 0);
    runtime.block_on(roomy.stop());
}
