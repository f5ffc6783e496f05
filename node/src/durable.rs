//! The fsyncs that make a sled 0.34 flush durable (see `node/DURABILITY.md`).
//!
//! sled's `flush` writes its log buffers and calls `sync_file_range` on them, which neither
//! flushes the file's metadata (its size, when the log grew) nor the disk's write cache, and
//! sled writes values above its blob threshold to files in `blobs/` with no fsync at all. So
//! after each flush this module fsyncs, in order: the `db` file (through a second descriptor:
//! fsync works on the inode, whatever descriptor it comes through), every blob file not yet
//! synced and then the `blobs/` directory, and the store directory when its entries changed
//! (sled renames `snap.*` files into place without syncing the directory).

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::datadir::sync_dir;

/// sled's file names in its directory (sled 0.34.7, `config.rs`).
const SLED_DB_FILE: &str = "db";
const SLED_CONF_FILE: &str = "conf";
const SLED_BLOBS_DIR: &str = "blobs";

/// The files of one sled directory and what of them is known to be synced.
pub(crate) struct DurableFiles {
    store_dir: PathBuf,
    db_file: File,
    synced: Mutex<SyncedEntries>,
}

#[derive(Default)]
struct SyncedEntries {
    /// Blob file names already fsynced; pruned to the files that still exist at each scan.
    blobs: HashSet<OsString>,
    /// The store directory's entries when it was last fsynced.
    store_dir_entries: Vec<OsString>,
}

impl DurableFiles {
    /// Opens the files of an opened sled directory and syncs what sled created without syncing
    /// (`conf`, the directory entries), so that a store that was just created survives a power loss.
    pub(crate) fn open(store_dir: &Path) -> io::Result<DurableFiles> {
        let db_file = File::open(store_dir.join(SLED_DB_FILE))?;
        let files = DurableFiles {
            store_dir: store_dir.to_path_buf(),
            db_file,
            synced: Mutex::default(),
        };
        File::open(store_dir.join(SLED_CONF_FILE))?.sync_all()?;
        files.sync_after_flush()?;
        // The store directory itself is an entry of the data directory.
        crate::datadir::sync_parent_dir(store_dir)?;
        Ok(files)
    }

    /// Everything after `Db::flush` that makes the flushed state survive a power loss.
    pub(crate) fn sync_after_flush(&self) -> io::Result<()> {
        self.db_file.sync_all()?;
        // A poisoned lock only means another thread panicked mid-sync; the sets stay usable
        // (worst case a file is synced twice).
        let mut synced = self
            .synced
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.sync_new_blobs(&mut synced.blobs)?;
        self.sync_store_dir_if_changed(&mut synced.store_dir_entries)
    }

    fn sync_new_blobs(&self, synced: &mut HashSet<OsString>) -> io::Result<()> {
        let blobs_dir = self.store_dir.join(SLED_BLOBS_DIR);
        let mut present = HashSet::new();
        let mut synced_any = false;
        for entry in fs::read_dir(&blobs_dir)? {
            let name = entry?.file_name();
            if !synced.contains(&name) {
                match File::open(blobs_dir.join(&name)) {
                    Ok(file) => file.sync_all()?,
                    // sled removes blobs it no longer needs; one gone since the listing needs no sync.
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                }
                synced_any = true;
            }
            present.insert(name);
        }
        *synced = present;
        if synced_any {
            sync_dir(&blobs_dir)?;
        }
        Ok(())
    }

    fn sync_store_dir_if_changed(&self, known: &mut Vec<OsString>) -> io::Result<()> {
        let mut entries = fs::read_dir(&self.store_dir)?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<io::Result<Vec<_>>>()?;
        entries.sort();
        if entries != *known {
            sync_dir(&self.store_dir)?;
            *known = entries;
        }
        Ok(())
    }
}
