//! The fsyncs that make a sled 0.34 flush durable (see `node/DURABILITY.md`).
//!
//! sled's `flush` writes its log buffers and calls `sync_file_range` on them, which neither
//! flushes the file's metadata (its size, when the log grew) nor the disk's write cache, and
//! sled writes values above its blob threshold to files in `blobs/` with no fsync at all. So
//! after each flush this module syncs, in order: the `db` file with fdatasync (through a second
//! descriptor: it works on the inode, whatever descriptor it comes through), every blob file not yet
//! synced and then the `blobs/` directory, and the store directory when its entries changed
//! (sled renames `snap.*` files into place without syncing the directory).
//!
//! The two directories are opened once, at open, and listed and fsynced through those
//! descriptors: a sync needs no new descriptor except one per new blob file, so a process
//! that ran out of descriptors (idle connections, issue 17) still syncs ordinary records.
//! Only a failed fsync is a failure of durability ([`SyncError::Fsync`]); failing to open a
//! blob file or to list a directory loses nothing, and asking again may succeed
//! ([`SyncError::NotYetDurable`]).

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::StoreError;

/// sled's file names in its directory (sled 0.34.7, `config.rs`).
const SLED_DB_FILE: &str = "db";
const SLED_CONF_FILE: &str = "conf";
const SLED_BLOBS_DIR: &str = "blobs";
/// Bytes of the buffer that directory entries are read into, reused at every listing.
const DIR_ENTRIES_BUFFER_BYTES: usize = 64 * 1024;

/// Why a sync did not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SyncError {
    /// An fsync failed: the kernel may have dropped the dirty pages, so what is on disk is
    /// unknown until sled recovers it at the next open.
    #[error("fsync of {path} failed: {source}")]
    Fsync {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// A file or directory could not be opened or listed (no descriptor left, for one): no
    /// fsync failed, so nothing is lost, and the records are durable once a sync succeeds.
    #[error("cannot {what}: {source}")]
    NotYetDurable {
        /// What was being done.
        what: String,
        /// What the OS said.
        source: io::Error,
    },
}

impl From<SyncError> for StoreError {
    fn from(error: SyncError) -> StoreError {
        match error {
            SyncError::Fsync { source, .. } => StoreError::Io(source),
            not_yet @ SyncError::NotYetDurable { .. } => {
                StoreError::NotYetDurable(not_yet.to_string())
            }
        }
    }
}

/// The files of one sled directory and what of them is known to be synced.
pub(crate) struct DurableFiles {
    store_dir: PathBuf,
    db_file: File,
    synced: Mutex<SyncedEntries>,
}

struct SyncedEntries {
    /// The store directory, open since the start (listed and fsynced through it).
    store_dir: File,
    /// The `blobs/` directory, likewise.
    blobs_dir: File,
    /// Where directory entries are read, allocated once.
    buffer: Vec<MaybeUninit<u8>>,
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
        let synced = SyncedEntries {
            store_dir: File::open(store_dir)?,
            blobs_dir: File::open(store_dir.join(SLED_BLOBS_DIR))?,
            buffer: vec![MaybeUninit::uninit(); DIR_ENTRIES_BUFFER_BYTES],
            blobs: HashSet::new(),
            store_dir_entries: Vec::new(),
        };
        let files = DurableFiles {
            store_dir: store_dir.to_path_buf(),
            db_file,
            synced: Mutex::new(synced),
        };
        File::open(store_dir.join(SLED_CONF_FILE))?.sync_all()?;
        files
            .sync_after_flush()
            .map_err(|error| io::Error::other(error.to_string()))?;
        // The store directory itself is an entry of the data directory.
        crate::datadir::sync_parent_dir(store_dir)?;
        Ok(files)
    }

    /// Everything after `Db::flush` that makes the flushed state survive a power loss.
    pub(crate) fn sync_after_flush(&self) -> Result<(), SyncError> {
        // fdatasync, not fsync: it writes the data and the metadata needed to read it back
        // (the file's size when the log grew), and skips only timestamps, which nothing reads;
        // sled's log grows in place within its segments, so most syncs change no size at all
        // and need no journal commit (BENCHMARKS.md, issue 22).
        self.db_file
            .sync_data()
            .map_err(|source| self.fsync_error(SLED_DB_FILE, source))?;
        // A poisoned lock only means another thread panicked mid-sync; the sets stay usable
        // (worst case a file is synced twice).
        let mut synced = self
            .synced
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.sync_new_blobs(&mut synced)?;
        self.sync_store_dir_if_changed(&mut synced)
    }

    fn fsync_error(&self, name: &str, source: io::Error) -> SyncError {
        SyncError::Fsync {
            path: self.store_dir.join(name),
            source,
        }
    }

    fn sync_new_blobs(&self, synced: &mut SyncedEntries) -> Result<(), SyncError> {
        let blobs_dir = self.store_dir.join(SLED_BLOBS_DIR);
        let names = list_dir(&synced.blobs_dir, &mut synced.buffer).map_err(|source| {
            SyncError::NotYetDurable {
                what: format!("list {}", blobs_dir.display()),
                source,
            }
        })?;
        let mut present = HashSet::new();
        let mut synced_any = false;
        for name in names {
            if !synced.blobs.contains(&name) {
                let path = blobs_dir.join(&name);
                match File::open(&path) {
                    Ok(file) => file.sync_all().map_err(|source| SyncError::Fsync {
                        path: path.clone(),
                        source,
                    })?,
                    // sled removes blobs it no longer needs; one gone since the listing needs no sync.
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(source) => {
                        // The blobs synced so far stay known: the retry syncs only the rest.
                        synced.blobs.extend(present);
                        return Err(SyncError::NotYetDurable {
                            what: format!("open {} to fsync it", path.display()),
                            source,
                        });
                    }
                }
                synced_any = true;
            }
            present.insert(name);
        }
        if synced_any {
            synced
                .blobs_dir
                .sync_all()
                .map_err(|source| SyncError::Fsync {
                    path: blobs_dir,
                    source,
                })?;
        }
        synced.blobs = present;
        Ok(())
    }

    fn sync_store_dir_if_changed(&self, synced: &mut SyncedEntries) -> Result<(), SyncError> {
        let mut entries = list_dir(&synced.store_dir, &mut synced.buffer).map_err(|source| {
            SyncError::NotYetDurable {
                what: format!("list {}", self.store_dir.display()),
                source,
            }
        })?;
        entries.sort();
        if entries != synced.store_dir_entries {
            synced
                .store_dir
                .sync_all()
                .map_err(|source| SyncError::Fsync {
                    path: self.store_dir.clone(),
                    source,
                })?;
            synced.store_dir_entries = entries;
        }
        Ok(())
    }
}

/// The names in an open directory (without `.` and `..`), read through its own descriptor
/// from the start: no descriptor is opened, so this works when none is left.
fn list_dir(dir: &File, buffer: &mut [MaybeUninit<u8>]) -> io::Result<Vec<OsString>> {
    rustix::fs::seek(dir, rustix::fs::SeekFrom::Start(0))?;
    let mut entries = rustix::fs::RawDir::new(dir, buffer);
    let mut names = Vec::new();
    while let Some(entry) = entries.next() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_os_string());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_listed_again_from_the_start_through_one_descriptor() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let handle = File::open(dir.path()).expect("open the directory");
        let mut buffer = vec![MaybeUninit::uninit(); DIR_ENTRIES_BUFFER_BYTES];
        assert!(list_dir(&handle, &mut buffer).expect("list").is_empty());
        for name in ["a", "b"] {
            File::create(dir.path().join(name)).expect("create a file");
        }
        let mut names = list_dir(&handle, &mut buffer).expect("list");
        names.sort();
        assert_eq!(names, [OsString::from("a"), OsString::from("b")]);
        // The second listing starts from the beginning again, not where the first ended.
        assert_eq!(list_dir(&handle, &mut buffer).expect("list").len(), 2);
    }

    #[test]
    fn only_a_failed_fsync_is_a_failure_of_durability() {
        let fsync = SyncError::Fsync {
            path: PathBuf::from("db"),
            source: io::Error::from_raw_os_error(libc::EIO),
        };
        assert!(matches!(StoreError::from(fsync), StoreError::Io(_)));
        let no_descriptor = SyncError::NotYetDurable {
            what: "list blobs".into(),
            source: io::Error::from_raw_os_error(libc::EMFILE),
        };
        assert!(matches!(
            StoreError::from(no_descriptor),
            StoreError::NotYetDurable(_)
        ));
    }
}
