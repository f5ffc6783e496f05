//! Every chain's Merkle tree in a real sled store: its roots and proofs equal those of the
//! spec's in-memory tree over the chain's record ids, across group appends, reopening, a store
//! that had no tree, and revocations that rewind a chain (the old tree kept) followed by new
//! appends. And the trees beside them that keep what witnesses showed (cosigned checkpoints,
//! split-view proofs).

use std::path::{Path, PathBuf};

use aidledger_spec::genesis::{AdminRule, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::merkle::{verify_consistency, MemoryTree, MerkleError};
use aidledger_spec::record::Statement;
use aidledger_spec::{
    sign_record, Body, BodyKind, Digest, Genesis, PublicKey, RecordDraft, RecordId, Rejection,
    VerifiedRecord, Verifier,
};
use aidledger_store::index::IndexResult;
use aidledger_store::{
    AppendIndex, GroupIndexer, IndexTrees, IndexedRecord, OpenMode, Store, StoreError, StoreReader,
};
use ed25519_dalek::SigningKey;

const DONOR: &str = "GB-GOV-1";
const IMPLEMENTER: &str = "XM-DAC-41122";

fn key_of(org: &str) -> SigningKey {
    SigningKey::from_bytes(&[if org == DONOR { 1 } else { 2 }; 32])
}

fn genesis() -> Genesis {
    let member = |id: &str| Member {
        id: id.into(),
        name: id.into(),
        roles: vec![Role::Donor],
        signing_keys: vec![PublicKey(key_of(id).verifying_key().to_bytes())],
        node_keys: vec![],
    };
    let mut genesis = Genesis {
        format_version: GENESIS_FORMAT_VERSION,
        name: "merkle test network".into(),
        created_ms: 1_700_000_000_000,
        members: vec![member(DONOR), member(IMPLEMENTER)],
        admin_rule: AdminRule {
            admins: vec![DONOR.into(), IMPLEMENTER.into()],
            threshold: 1,
        },
    };
    genesis.normalise();
    genesis.check().expect("a valid genesis");
    genesis
}

/// An index that indexes nothing: these tests are about the store's own trees.
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

    fn indexes(&self, _: BodyKind) -> bool {
        false
    }
}

fn data_dir(root: &Path) -> PathBuf {
    let dir = root.join("data");
    std::fs::create_dir_all(&dir).expect("a directory");
    std::fs::write(dir.join("genesis.bin"), genesis().encode()).expect("genesis written");
    dir
}

/// The store's sled database opened directly, as a test that writes what an older version or
/// a crash would have left. sled lets go of its file lock a moment after a store is dropped.
fn raw_sled(dir: &Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::open(dir.join("store")) {
            Ok(db) => return db,
            Err(error) if std::time::Instant::now() > deadline => panic!("sled opens: {error}"),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
}

/// The start of an author's keys in `merkle`: its length, then its bytes (FORMAT.md §19).
fn prefix(author: &str) -> Vec<u8> {
    let mut key = vec![author.len() as u8];
    key.extend_from_slice(author.as_bytes());
    key
}

fn open(dir: &Path) -> Store {
    let lock = aidledger_store::DirLock::acquire(dir).expect("the lock");
    Store::open_with_lock(dir, lock, OpenMode::CreateIfMissing, NoIndex).expect("opens")
}

/// `org`'s records at `seqs`, after `prev`, their statements marked with `variant` (so that a
/// chain continued after a revocation has other records at the same positions).
fn records(
    org: &str,
    seqs: std::ops::Range<u64>,
    prev: RecordId,
    variant: &str,
) -> Vec<VerifiedRecord> {
    let verifier = Verifier::new(genesis());
    let network_id = genesis().network_id();
    let mut prev = prev;
    seqs.map(|seq| {
        let draft = RecordDraft {
            network_id,
            author: org.into(),
            seq,
            prev,
            timestamp_ms: 1_700_000_000_000 + seq,
            body: Body::Statement(Statement {
                title: format!("{variant} {seq}"),
                language: "en".into(),
                text: format!("{org} says {variant} {seq}"),
            }),
        };
        let (_, bytes) = sign_record(&draft, &key_of(org)).expect("signs");
        let record = verifier.verify(bytes).expect("a valid record");
        prev = record.id();
        record
    })
    .collect()
}

/// Checks every root, inclusion proof and consistency proof the store gives for `org` against
/// the spec's in-memory tree over `ids` (the chain's record ids in seq order).
#[track_caller]
fn check_chain(store: &StoreReader, org: &str, ids: &[RecordId]) {
    let tree = MemoryTree::of_record_ids(ids);
    let size = ids.len() as u64;
    assert_eq!(store.chain_size(org).expect("a size"), size);
    for n in 0..=size {
        let root = tree.root(n).expect("in memory");
        assert_eq!(
            store.merkle_root(org, n).expect("a root"),
            root,
            "root of {n}"
        );
        for seq in 0..n {
            let proof = store.inclusion_proof(org, seq, n).expect("a proof");
            assert_eq!(proof.path, tree.inclusion_proof(seq, n).expect("in memory"));
            let leaf = aidledger_spec::merkle::leaf_hash(&ids[seq as usize]);
            assert_eq!(proof.verify(&leaf, &root), Ok(()), "{seq} in {n}");
        }
        for m in 1..=n {
            let proof = store.consistency_proof(org, m, n).expect("a proof");
            assert_eq!(proof.path, tree.consistency_proof(m, n).expect("in memory"));
            let old_root = tree.root(m).expect("in memory");
            assert_eq!(proof.verify(&old_root, &root), Ok(()), "{m} to {n}");
        }
    }
    assert!(matches!(
        store.merkle_root(org, size + 1),
        Err(StoreError::Merkle(MerkleError::SizeBeyondTree { .. }))
    ));
    assert!(matches!(
        store.inclusion_proof(org, size, size),
        Err(StoreError::Merkle(MerkleError::IndexOutOfRange { .. }))
    ));
}

fn ids(records: &[VerifiedRecord]) -> Vec<RecordId> {
    records.iter().map(|record| record.id()).collect()
}

#[test]
fn group_appends_and_reopening_keep_every_chain_s_tree() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = data_dir(root.path());
    let donor = records(DONOR, 0..70, RecordId::ZERO, "a");
    let implementer = records(IMPLEMENTER, 0..9, RecordId::ZERO, "a");
    {
        let store = open(&dir);
        check_chain(&store, DONOR, &[]);
        store.append(&donor[0]).expect("appends");
        // Groups of several sizes, two chains interleaved in one group.
        let mut group = donor[1..5].to_vec();
        group.extend_from_slice(&implementer[..3]);
        store.append_group(&group).expect("appends");
        check_chain(&store, DONOR, &ids(&donor[..5]));
        check_chain(&store, IMPLEMENTER, &ids(&implementer[..3]));
        store.append_group(&donor[5..20]).expect("appends");
        store.append_durable(&implementer[3..]).expect("appends");
        store.append_durable(&donor[20..]).expect("appends");
        check_chain(&store, DONOR, &ids(&donor));
    }
    let store = open(&dir);
    check_chain(&store, DONOR, &ids(&donor));
    check_chain(&store, IMPLEMENTER, &ids(&implementer));
}

#[test]
fn a_store_without_the_tree_has_it_built_at_open() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = data_dir(root.path());
    let donor = records(DONOR, 0..21, RecordId::ZERO, "a");
    let implementer = records(IMPLEMENTER, 0..4, RecordId::ZERO, "a");
    {
        let store = open(&dir);
        store.append_group(&donor).expect("appends");
        store.append_durable(&implementer).expect("appends");
    }
    {
        // What a store of an earlier version holds: no tree, no mark.
        let db = raw_sled(&dir);
        assert!(db.drop_tree("merkle").expect("dropped"));
        db.open_tree("meta")
            .expect("meta")
            .remove("merkle_built")
            .expect("removed");
        db.flush().expect("flushed");
    }
    // A reader's open builds it too (the CLI reading a stopped node's directory).
    {
        let reader = StoreReader::open(&dir).expect("opens");
        check_chain(&reader, DONOR, &ids(&donor));
    }
    let store = open(&dir);
    check_chain(&store, DONOR, &ids(&donor));
    check_chain(&store, IMPLEMENTER, &ids(&implementer));
    drop(store);
    {
        // An older version appended records 10 to 20 to the store: its tree head is at 9 and
        // the block 0..16 has no node.
        let db = raw_sled(&dir);
        let merkle = db.open_tree("merkle").expect("the tree");
        let mut tree_head = prefix(DONOR);
        tree_head.push(0xff);
        let mut older = 9u64.to_le_bytes().to_vec();
        older.extend_from_slice(&donor[9].id().0);
        assert!(merkle.insert(tree_head, older).expect("written").is_some());
        let mut block = prefix(DONOR);
        block.push(4);
        block.extend_from_slice(&0u64.to_be_bytes());
        assert!(merkle.remove(block).expect("removed").is_some());
        db.flush().expect("flushed");
    }
    let store = open(&dir);
    check_chain(&store, DONOR, &ids(&donor));
    let more = records(DONOR, 21..30, donor[20].id(), "a");
    store
        .append_group(&more)
        .expect("appends on the built tree");
    let mut all = ids(&donor);
    all.extend(ids(&more));
    check_chain(&store, DONOR, &all);
}

#[test]
fn a_revocation_keeps_the_old_tree_and_the_chain_continues() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = data_dir(root.path());
    let first = records(DONOR, 0..20, RecordId::ZERO, "a");
    let by = Digest([7; 32]);
    let store = open(&dir);
    store.append_durable(&first).expect("appends");
    let old_tree = MemoryTree::of_record_ids(&ids(&first));
    let old_root = old_tree.root(20).expect("in memory");

    // Governance revokes from 13: the chain is 13 long, the tree of 20 is kept.
    let removed = Rejection::MemberRemoved {
        author: DONOR.into(),
        from_seq: 13,
        by,
    };
    store.revoke_from(DONOR, 13, &removed).expect("revokes");
    check_chain(&store, DONOR, &ids(&first[..13]));
    let rewinds = store.merkle_rewinds(DONOR).expect("rewinds");
    assert_eq!(rewinds.len(), 1);
    let rewind = rewinds[0];
    assert_eq!(
        (
            rewind.epoch,
            rewind.from_seq,
            rewind.size,
            rewind.root,
            rewind.by
        ),
        (0, 13, 20, old_root, Some(by))
    );
    assert_eq!(store.merkle_rewinds(IMPLEMENTER).expect("none"), vec![]);

    // The old tree still proves its records, the revoked ones too, and agrees up to 13.
    let check_old_tree = |store: &StoreReader| {
        assert_eq!(store.rewound_root(DONOR, 0, 20).expect("a root"), old_root);
        for seq in 0..20 {
            let proof = store
                .rewound_inclusion_proof(DONOR, 0, seq, 20)
                .expect("a proof");
            let leaf = aidledger_spec::merkle::leaf_hash(&first[seq as usize].id());
            assert_eq!(
                proof.verify(&leaf, &old_root),
                Ok(()),
                "revoked tree, {seq}"
            );
        }
        let agree = store
            .rewound_consistency_proof(DONOR, 0, 13, 20)
            .expect("a proof");
        let root_13 = old_tree.root(13).expect("in memory");
        assert_eq!(agree.verify(&root_13, &old_root), Ok(()));
        assert!(store.rewound_root(DONOR, 0, 21).is_err());
    };
    check_old_tree(&store);

    // The chain continues at 13 with other records.
    let second = records(DONOR, 13..26, first[12].id(), "b");
    store.append_group(&second[..5]).expect("appends");
    store.append_durable(&second[5..]).expect("appends");
    let mut now: Vec<RecordId> = ids(&first[..13]);
    now.extend(ids(&second));
    check_chain(&store, DONOR, &now);
    check_old_tree(&store);
    // The new tree extends the tree of 13, not the tree of 20.
    let new_root = store.merkle_root(DONOR, 26).expect("a root");
    let from_13 = store.consistency_proof(DONOR, 13, 26).expect("a proof");
    assert_eq!(
        from_13.verify(&old_tree.root(13).expect("in memory"), &new_root),
        Ok(())
    );
    let from_20 = store.consistency_proof(DONOR, 20, 26).expect("a proof");
    assert!(verify_consistency(20, 26, &old_root, &new_root, &from_20.path).is_err());

    // A second revocation, below the first: both old trees stay provable.
    let second_tree = MemoryTree::of_record_ids(&now);
    store
        .revoke_from(DONOR, 10, &Rejection::BadSignature)
        .expect("revokes");
    check_chain(&store, DONOR, &now[..10]);
    let rewinds = store.merkle_rewinds(DONOR).expect("rewinds");
    assert_eq!(rewinds.len(), 2);
    assert_eq!(
        (
            rewinds[1].epoch,
            rewinds[1].from_seq,
            rewinds[1].size,
            rewinds[1].by
        ),
        (1, 10, 26, None)
    );
    assert_eq!(rewinds[1].root, second_tree.root(26).expect("in memory"));
    check_old_tree(&store);
    for seq in 0..26 {
        let proof = store
            .rewound_inclusion_proof(DONOR, 1, seq, 26)
            .expect("a proof");
        let leaf = aidledger_spec::merkle::leaf_hash(&now[seq as usize]);
        assert_eq!(proof.verify(&leaf, &rewinds[1].root), Ok(()));
    }
    drop(store);

    // All of it survives a reopen, and the chain goes on.
    let store = open(&dir);
    check_chain(&store, DONOR, &now[..10]);
    check_old_tree(&store);
    let third = records(DONOR, 10..17, now[9], "c");
    store.append_durable(&third).expect("appends");
    let mut last: Vec<RecordId> = now[..10].to_vec();
    last.extend(ids(&third));
    check_chain(&store, DONOR, &last);
    check_old_tree(&store);
}

#[test]
fn a_tail_discarded_after_an_unclean_stop_takes_its_nodes_with_it() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = data_dir(root.path());
    let first = records(DONOR, 0..40, RecordId::ZERO, "a");
    {
        // Dropped without `close_cleanly`: the next open is unclean.
        let store = open(&dir);
        store.append_durable(&first).expect("appends");
    }
    let count_of = |level: u8| {
        let db = raw_sled(&dir);
        let mut key = prefix(DONOR);
        key.push(level);
        let count = db
            .open_tree("merkle")
            .expect("the tree")
            .scan_prefix(key)
            .count();
        drop(db);
        std::thread::sleep(std::time::Duration::from_millis(50));
        count
    };
    // Blocks 0..16 and 16..32, and the subtree 0..32 over them.
    assert_eq!((count_of(4), count_of(5)), (2, 1));
    {
        // The record at 20 did not survive the stop.
        let db = raw_sled(&dir);
        let key = aidledger_store::chain_key(DONOR, 20).expect("a key");
        assert!(db
            .open_tree("records")
            .expect("records")
            .remove(key)
            .expect("removed")
            .is_some());
        db.flush().expect("flushed");
    }
    let store = open(&dir);
    assert_eq!(store.start_state().discarded.len(), 1);
    check_chain(&store, DONOR, &ids(&first[..20]));
    // Nothing was kept: the tail was never served.
    assert_eq!(store.merkle_rewinds(DONOR).expect("none"), vec![]);
    drop(store);
    // The nodes over positions from 20 on went with the tail; the block 0..16 stays.
    assert_eq!((count_of(4), count_of(5)), (1, 0));
    let store = open(&dir);
    let second = records(DONOR, 20..50, first[19].id(), "b");
    store.append_durable(&second).expect("appends");
    let mut now = ids(&first[..20]);
    now.extend(ids(&second));
    check_chain(&store, DONOR, &now);
}

/// The witnessed trees (store/src/witnessed.rs): one cosigned checkpoint an organisation,
/// replaced by the next, sorted by organisation; split-view proofs kept once each, sorted by
/// their SHA-256; both kept across a reopen; over-long values refused.
#[test]
fn cosigned_checkpoints_and_split_views_are_kept() {
    use sha2::{Digest as _, Sha256};
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = data_dir(root.path());
    {
        let store = open(&dir);
        assert!(store.cosigned_checkpoints().expect("reads").is_empty());
        assert!(store.split_views().expect("reads").is_empty());
        store
            .put_cosigned_checkpoint(IMPLEMENTER, "implementer note 1\n")
            .expect("stored");
        store
            .put_cosigned_checkpoint(DONOR, "donor note 1\n")
            .expect("stored");
        store
            .put_cosigned_checkpoint(IMPLEMENTER, "implementer note 2\n")
            .expect("replaced");
        assert_eq!(
            store.cosigned_checkpoints().expect("reads"),
            vec![
                "donor note 1\n".to_string(),
                "implementer note 2\n".to_string()
            ]
        );
        assert_eq!(
            store.cosigned_checkpoint(DONOR).expect("reads").as_deref(),
            Some("donor note 1\n")
        );
        assert_eq!(store.cosigned_checkpoint("XX-NONE").expect("reads"), None);
        let too_long = "x".repeat(aidledger_spec::limits::NOTE_BYTES_MAX + 1);
        assert!(matches!(
            store.put_cosigned_checkpoint(DONOR, &too_long),
            Err(StoreError::TooLarge { .. })
        ));

        let proofs: Vec<Vec<u8>> = (0u8..5).map(|n| vec![n; 10 + usize::from(n)]).collect();
        for proof in &proofs {
            assert!(store.add_split_view(proof).expect("stored"), "new");
        }
        assert!(
            !store.add_split_view(&proofs[2]).expect("read"),
            "a duplicate"
        );
        assert!(store.has_split_view(&proofs[3]).expect("reads"));
        assert!(!store.has_split_view(b"not stored").expect("reads"));
        assert_eq!(store.split_view_count(), 5);
        let too_long = vec![0; aidledger_store::SPLIT_VIEW_BYTES_MAX + 1];
        assert!(matches!(
            store.add_split_view(&too_long),
            Err(StoreError::TooLarge { .. })
        ));
        store.make_durable().expect("durable");
    }
    let reader = StoreReader::open(&dir).expect("reopens");
    let mut expected: Vec<Vec<u8>> = (0u8..5).map(|n| vec![n; 10 + usize::from(n)]).collect();
    expected.sort_by_key(|bytes| Sha256::digest(bytes));
    assert_eq!(reader.split_views().expect("reads"), expected);
    assert_eq!(
        reader.cosigned_checkpoints().expect("reads"),
        vec![
            "donor note 1\n".to_string(),
            "implementer note 2\n".to_string()
        ]
    );
}

/// The export (store/src/export.rs): a store with nothing witnessed writes a version 1 bundle;
/// with a cosigned checkpoint and a split view, version 2 carrying the split view after the
/// records' proofs and the checkpoints its chains reach, after every record; a checkpoint
/// beyond the exported chain, or of another history, is left out.
#[test]
fn the_export_carries_the_checkpoints_its_chains_reach_and_the_split_views() {
    use aidledger_spec::bundle::{BundleItem, BundleReader};
    use aidledger_spec::checkpoint::Checkpoint;
    use aidledger_spec::codec::Codec;
    use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
    use aidledger_store::export::{in_bundle_order, write_bundle};

    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = data_dir(root.path());
    let donor = records(DONOR, 0..5, RecordId::ZERO, "a");
    let implementer = records(IMPLEMENTER, 0..2, RecordId::ZERO, "a");
    let network = genesis().network_id();
    let note = |org: &str, chain: &[VerifiedRecord], size: u64| {
        let root = MemoryTree::of_record_ids(&ids(chain))
            .root(size)
            .expect("held");
        Checkpoint::new(&network, org, size, root)
            .sign(&key_of(org))
            .expect("signs")
            .to_text()
    };
    let store = open(&dir);
    store.append_durable(&donor).expect("appends");
    store.append_durable(&implementer).expect("appends");
    let items = |store: &Store| -> (u16, Vec<BundleItem>) {
        let bytes = write_bundle(store, Vec::new()).expect("writes");
        let reader = BundleReader::new(bytes.as_slice()).expect("a bundle");
        let version = reader.version();
        (version, reader.collect::<Result<_, _>>().expect("reads"))
    };
    let (version, before) = items(&store);
    assert_eq!(version, 1, "nothing witnessed: version 1");
    assert_eq!(before.len(), 7);

    let donor_note = note(DONOR, &donor, 4);
    // A checkpoint of 3 records of a chain the store holds 2 of: the node is behind.
    let longer = records(IMPLEMENTER, 0..3, RecordId::ZERO, "a");
    let ahead = note(IMPLEMENTER, &longer, 3);
    store
        .put_cosigned_checkpoint(DONOR, &donor_note)
        .expect("stored");
    store
        .put_cosigned_checkpoint(IMPLEMENTER, &ahead)
        .expect("stored");
    let fork = records(DONOR, 0..4, RecordId::ZERO, "b");
    let split = SplitViewProof {
        first: note(DONOR, &fork, 4),
        second: donor_note.clone(),
        evidence: SplitEvidence::SameSize,
    };
    store.add_split_view(&split.to_bytes()).expect("stored");
    store.add_split_view(b"not a proof").expect("stored");
    store.make_durable().expect("durable");
    let (version, after) = items(&store);
    assert_eq!(version, 2);
    let mut expected = vec![BundleItem::SplitView(split)];
    expected.extend(before);
    expected.push(BundleItem::Checkpoint(donor_note));
    assert_eq!(after, expected);
    // A stopped node's data directory (the CLI's --data-dir source) yields the same items.
    let witnessed = store.witnessed_for_export(false).expect("reads");
    assert_eq!(witnessed.bundle_version(), 2);
    let from_dir: Vec<BundleItem> = in_bundle_order(store.bundle_items(), witnessed)
        .collect::<Result<_, _>>()
        .expect("reads");
    assert_eq!(from_dir, expected);

    // A checkpoint the chain reaches but of another history is left out; the true one is
    // carried (after the donor's: sorted by organisation).
    let other = records(IMPLEMENTER, 0..2, RecordId::ZERO, "b");
    store
        .put_cosigned_checkpoint(IMPLEMENTER, &note(IMPLEMENTER, &other, 2))
        .expect("stored");
    assert_eq!(items(&store).1, expected);
    let true_note = note(IMPLEMENTER, &implementer, 2);
    store
        .put_cosigned_checkpoint(IMPLEMENTER, &true_note)
        .expect("stored");
    expected.push(BundleItem::Checkpoint(true_note));
    assert_eq!(items(&store).1, expected);
}

/// Review of the explorer cache (`node/src/explorer/cache.rs`): the change count is the
/// cache's validity. The index follower calls `index_deferred` every 50 ms
/// (`INDEX_FOLLOW_POLL_MS`) while the chains are quiet; with nothing to index it writes
/// nothing, so it must not count a change, or every cached page of a running node is dropped
/// twenty times a second.
#[test]
fn an_index_pass_with_nothing_to_index_counts_no_change() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = data_dir(root.path());
    let store = open(&dir);
    store
        .append(&records(DONOR, 0..1, RecordId::ZERO, "a")[0])
        .expect("appends");
    while store.index_deferred(100).expect("indexes") > 0 {}
    let before = store.changes();
    for _ in 0..20 {
        assert_eq!(store.index_deferred(100).expect("indexes"), 0);
    }
    assert_eq!(store.changes(), before, "nothing was written");
    // Nor does an empty group (a peer's batch of records stored already).
    store.append_group(&[]).expect("appends nothing");
    assert_eq!(store.changes(), before, "an empty group writes nothing");
}

/// The same record held pending again (gossip repeats itself) changes nothing a reader sees,
/// so it counts no change; the first time, and its removal when its predecessor arrives, do.
#[test]
fn a_pending_record_counts_a_change_when_it_comes_and_when_it_goes_not_when_it_repeats() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = data_dir(root.path());
    let store = open(&dir);
    let chain = records(DONOR, 0..2, RecordId::ZERO, "p");
    let before = store.changes();
    assert!(store.add_pending(&chain[1]).expect("held pending"));
    assert_eq!(store.changes(), before + 1);
    assert!(store.add_pending(&chain[1]).expect("held pending"));
    assert_eq!(store.changes(), before + 1, "the same bytes again");
    store.append(&chain[0]).expect("appends");
    let appended = store.changes();
    assert!(appended > before + 1, "an append is a change");
    assert_eq!(store.take_pending(DONOR, 1).expect("taken").len(), 1);
    assert!(store.changes() > appended, "taking it out is a change");
}
