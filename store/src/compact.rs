//! Compaction after a redaction: sled 0.34 rewrites a value by logging the new one, and the old
//! bytes stay in its segment files until their space is reused, with no call to force it. So
//! that a forgotten body leaves the disk, a node's open copies every tree into a fresh sled
//! database and puts it in the old one's place, when a redaction marked the store
//! (`compaction_due` in `meta`, set in the redaction's transaction). Until then the bytes may
//! remain in `store/`'s files: the bound is the node's next start (FORMAT.md §27,
//! README "Redaction"); `aidledger-node` says so in its status while one is due.
//!
//! Crash safety: the copy is made in `store.compacting/` and flushed; then `store/` is renamed
//! to `store.old/`, the copy to `store/`, and `store.old/` removed. An open that finds a copy
//! beside a whole `store/` removes the copy (the mark is still in `store/`, and it compacts
//! again); one that finds no `store/` but both others finishes the swap.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::keys::{index_generation, index_tree_name, META_COMPACTION_DUE};
use crate::limits::COMPACT_BATCH_ENTRIES;
use crate::open::{open_sled, OpenError};

/// Where the copy is made, beside `store/`.
const COMPACTING_DIR: &str = "store.compacting";
/// Where the old store waits for its removal, beside `store/`.
const OLD_DIR: &str = "store.old";

/// Compacts the store in `store_dir` if a redaction marked it; returns whether it did. The
/// trees of the append index `index_name`'s earlier generations (a redaction started the
/// index again in a fresh tree, `store::redaction`) are left out of the copy: they hold the
/// words of forgotten bodies.
pub(crate) fn compact_if_due(
    store_dir: &Path,
    index_name: &str,
    cache_bytes: u64,
) -> Result<bool, OpenError> {
    let io_error = |source: io::Error| OpenError::Sled {
        path: store_dir.to_path_buf(),
        detail: format!("compaction after a redaction: {source}"),
    };
    let (compacting, old) = beside(store_dir);
    finish_interrupted(store_dir, &compacting, &old).map_err(io_error)?;
    if !store_dir.join("db").is_file() {
        return Ok(false);
    }
    {
        let source = open_sled(store_dir, cache_bytes)?;
        let due = source
            .open_tree("meta")
            .and_then(|meta| meta.contains_key(META_COMPACTION_DUE))
            .map_err(|error| sled_error(store_dir, error))?;
        if !due {
            return Ok(false);
        }
        let current = source
            .open_tree("meta")
            .map_err(|error| sled_error(store_dir, error))
            .and_then(|meta| {
                index_generation(&meta).map_err(|error| OpenError::Sled {
                    path: store_dir.to_path_buf(),
                    detail: error.to_string(),
                })
            })
            .map(|generation| index_tree_name(index_name, generation))?;
        let retired = |name: &[u8]| {
            let name = String::from_utf8_lossy(name);
            name != current && (name == index_name || name.starts_with(&format!("{index_name}.")))
        };
        let copy = open_sled(&compacting, cache_bytes)?;
        copy_trees(&source, &copy, retired).map_err(|error| sled_error(&compacting, error))?;
        copy.open_tree("meta")
            .and_then(|meta| meta.remove(META_COMPACTION_DUE))
            .map_err(|error| sled_error(&compacting, error))?;
        copy.flush()
            .map_err(|error| sled_error(&compacting, error))?;
    }
    // A sled flush alone is not durable (`node/DURABILITY.md`): every file and directory of
    // the copy is synced before the old store is let go.
    sync_all_under(&compacting).map_err(io_error)?;
    fs::rename(store_dir, &old).map_err(io_error)?;
    sync_parent(store_dir).map_err(io_error)?;
    fs::rename(&compacting, store_dir).map_err(io_error)?;
    sync_parent(store_dir).map_err(io_error)?;
    fs::remove_dir_all(&old).map_err(io_error)?;
    Ok(true)
}

fn beside(store_dir: &Path) -> (PathBuf, PathBuf) {
    (
        store_dir.with_file_name(COMPACTING_DIR),
        store_dir.with_file_name(OLD_DIR),
    )
}

/// Finishes or discards what a crash during a compaction left (see the module doc).
fn finish_interrupted(store_dir: &Path, compacting: &Path, old: &Path) -> io::Result<()> {
    match (store_dir.is_dir(), compacting.is_dir(), old.is_dir()) {
        (false, true, true) => {
            fs::rename(compacting, store_dir)?;
            sync_parent(store_dir)?;
            fs::remove_dir_all(old)
        }
        (true, copy, old_left) => {
            if copy {
                fs::remove_dir_all(compacting)?;
            }
            if old_left {
                fs::remove_dir_all(old)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Copies every tree of `source` but the `retired` ones into `copy`, in batches.
fn copy_trees(
    source: &sled::Db,
    copy: &sled::Db,
    retired: impl Fn(&[u8]) -> bool,
) -> sled::Result<()> {
    for name in source.tree_names() {
        if retired(&name) {
            continue;
        }
        let from = source.open_tree(&name)?;
        let to = copy.open_tree(&name)?;
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        for entry in from.iter() {
            let (key, value) = entry?;
            batch.insert(key, value);
            in_batch += 1;
            if in_batch == COMPACT_BATCH_ENTRIES {
                to.apply_batch(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
        }
        to.apply_batch(batch)?;
    }
    Ok(())
}

/// fsyncs every file and directory under `dir`, and `dir` itself.
fn sync_all_under(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sync_all_under(&path)?;
        } else {
            fs::File::open(&path)?.sync_all()?;
        }
    }
    fs::File::open(dir)?.sync_all()
}

fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) => fs::File::open(parent)?.sync_all(),
        None => Ok(()),
    }
}

fn sled_error(path: &Path, error: sled::Error) -> OpenError {
    OpenError::Sled {
        path: path.to_path_buf(),
        detail: format!("compaction after a redaction: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::STORE_CACHE_BYTES;

    fn files_contain(dir: &Path, needle: &[u8]) -> bool {
        fs::read_dir(dir).expect("dir").any(|entry| {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                return files_contain(&path, needle);
            }
            let bytes = fs::read(&path).expect("file");
            bytes.windows(needle.len()).any(|window| window == needle)
        })
    }

    #[test]
    fn a_compaction_leaves_no_overwritten_bytes_and_keeps_every_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store_dir = dir.path().join("store");
        let secret = b"Name of a partner at risk";
        {
            let db = open_sled(&store_dir, STORE_CACHE_BYTES).expect("open");
            let records = db.open_tree("records").expect("tree");
            records.insert(b"k", &secret[..]).expect("insert");
            db.flush().expect("flush");
            records.insert(b"k", &b"withheld"[..]).expect("overwrite");
            records.insert(b"other", &b"kept"[..]).expect("insert");
            // The index's first generation held the words too; the second is in force.
            db.open_tree("explorer")
                .expect("old index")
                .insert(b"S-term", &secret[..])
                .expect("insert");
            db.open_tree("explorer.1")
                .expect("index")
                .insert(b"v", &b"6"[..])
                .expect("insert");
            let meta = db.open_tree("meta").expect("meta");
            meta.insert(META_COMPACTION_DUE, &[][..]).expect("mark");
            meta.insert(
                crate::keys::META_INDEX_GENERATION,
                crate::keys::count_bytes(1),
            )
            .expect("generation");
            db.flush().expect("flush");
        }
        assert!(
            files_contain(&store_dir, secret),
            "sled keeps the overwritten bytes until a compaction (else this test shows nothing)"
        );
        assert!(compact_if_due(&store_dir, "explorer", STORE_CACHE_BYTES).expect("compact"));
        assert!(!files_contain(dir.path(), secret));
        {
            let db = open_sled(&store_dir, STORE_CACHE_BYTES).expect("reopen");
            let records = db.open_tree("records").expect("tree");
            assert_eq!(
                records.get(b"k").expect("get").as_deref(),
                Some(&b"withheld"[..])
            );
            assert_eq!(
                records.get(b"other").expect("get").as_deref(),
                Some(&b"kept"[..])
            );
            let meta = db.open_tree("meta").expect("meta");
            assert!(!meta.contains_key(META_COMPACTION_DUE).expect("get"));
            let names: Vec<Vec<u8>> = db.tree_names().iter().map(|name| name.to_vec()).collect();
            assert!(
                names.contains(&b"explorer.1".to_vec()),
                "the index in force is kept"
            );
            assert!(
                !names.contains(&b"explorer".to_vec()),
                "the retired one is left out"
            );
        }
        assert!(!compact_if_due(&store_dir, "explorer", STORE_CACHE_BYTES).expect("nothing due"));
    }

    #[test]
    fn an_interrupted_swap_is_finished_at_the_next_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store_dir = dir.path().join("store");
        let (compacting, old) = beside(&store_dir);
        fs::create_dir_all(&compacting).expect("copy");
        fs::write(compacting.join("marker"), b"the copy").expect("write");
        fs::create_dir_all(&old).expect("old");
        finish_interrupted(&store_dir, &compacting, &old).expect("finish");
        assert_eq!(
            fs::read(store_dir.join("marker")).expect("moved"),
            b"the copy"
        );
        assert!(!old.exists() && !compacting.exists());
    }
}
