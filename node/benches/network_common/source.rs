//! The source node of the million-record benches: `total` records of four chains, signed,
//! verified and appended straight into a data directory's store; kept in a cache directory
//! for later runs (the records are the same every run: fixed keys and timestamps).

use std::path::Path;
use std::sync::mpsc;

use aidledger_node::ExplorerIndex;
use aidledger_spec::record::Statement;
use aidledger_spec::{sign_record, Body, Genesis, RecordDraft, RecordId, VerifiedRecord, Verifier};
use aidledger_store::datadir::DirLock;
use aidledger_store::{OpenMode, Store};

use super::{signing_key, ORGS};

/// Records per signature batch and store append.
const CHUNK_RECORDS: usize = 4096;
/// Chunks waiting to be appended.
const CHUNKS_QUEUED_MAX: usize = 8;

/// Copies the source node's directory of `total` records from `cache`, or makes it and keeps a
/// copy there (marked complete only once the copy is whole).
pub fn cached_source(root: &Path, genesis: &Genesis, total: u64, cache: &Path) {
    let kept = cache.join(format!("node0-{total}"));
    let complete = cache.join(format!("node0-{total}.complete"));
    let source = root.join("node0");
    if complete.exists() {
        copy_dir(&kept, &source);
        return;
    }
    fill_source(root, genesis, total);
    if kept.exists() {
        std::fs::remove_dir_all(&kept).expect("remove an incomplete copy");
    }
    copy_dir(&source, &kept);
    std::fs::write(&complete, b"").expect("mark the copy complete");
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Writes the source node's directory: genesis, keys, and `total` records of four chains,
/// signed, verified and appended straight into its store.
pub fn fill_source(root: &Path, genesis: &Genesis, total: u64) {
    let dir = root.join("node0");
    std::fs::create_dir_all(&dir).expect("node0/");
    std::fs::write(dir.join("genesis.bin"), genesis.encode()).expect("genesis.bin");
    let key_text = |key: ed25519_dalek::SigningKey| format!("{}\n", hex::encode(key.to_bytes()));
    std::fs::write(dir.join("org.key"), key_text(signing_key(0))).expect("org.key");
    std::fs::write(dir.join("node.key"), key_text(super::node_key(0))).expect("node.key");
    for file in ["org.key", "node.key"] {
        super::owner_only(&dir.join(file));
    }
    let lock = DirLock::acquire(&dir).expect("lock");
    let store =
        Store::open_with_lock(&dir, lock, OpenMode::CreateIfMissing, ExplorerIndex).expect("store");
    let per_chain = total / ORGS.len() as u64;
    let (sender, receiver) = mpsc::sync_channel::<Vec<VerifiedRecord>>(CHUNKS_QUEUED_MAX);
    std::thread::scope(|scope| {
        for pair in [[0usize, 2], [1, 3]] {
            let (sender, genesis) = (sender.clone(), genesis.clone());
            scope.spawn(move || {
                let verifier = Verifier::new(genesis.clone());
                for index in pair {
                    sign_chain(&genesis, &verifier, index, per_chain, &sender);
                }
            });
        }
        drop(sender);
        for chunk in receiver {
            store.append_group(&chunk).expect("append");
        }
    });
    store.make_durable().expect("flush");
}

fn sign_chain(
    genesis: &Genesis,
    verifier: &Verifier,
    index: usize,
    count: u64,
    sender: &mpsc::SyncSender<Vec<VerifiedRecord>>,
) {
    let key = signing_key(index);
    let mut prev = RecordId::ZERO;
    let mut chunk = Vec::with_capacity(CHUNK_RECORDS);
    for seq in 0..count {
        let draft = RecordDraft {
            network_id: genesis.network_id(),
            author: ORGS[index].into(),
            seq,
            prev,
            timestamp_ms: 1_700_000_000_000 + seq,
            body: Body::Statement(Statement {
                title: "Field report".into(),
                language: "en".into(),
                text: format!("Distribution {seq}: 40 households received water kits."),
            }),
        };
        let (id, bytes) = sign_record(&draft, &key).expect("sign");
        prev = id;
        chunk.push(bytes);
        if chunk.len() == CHUNK_RECORDS || seq + 1 == count {
            let verified = verifier
                .verify_batch(std::mem::take(&mut chunk))
                .into_iter()
                .map(|verdict| verdict.expect("a valid record"))
                .collect();
            sender.send(verified).expect("the appender");
        }
    }
}
