//! The node's data directory: file names, the exclusive lock, private files and `endpoints.json`.
//!
//! Layout (docs/INTERFACES.md): `genesis.bin`, `org.key`, `org.id`, `store/`, `submit.token`,
//! `endpoints.json`, `node.lock`, and after a key rotation the organisation's earlier keys as
//! `org.key.<public key hex>`. Files that must survive a crash whole are written to a
//! temporary name, fsynced, renamed, and the directory fsynced, so a reader sees the old
//! file or the new one, never half of one.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aidledger_spec::governance::Authority;
use aidledger_spec::PublicKey;
use ed25519_dalek::SigningKey;

/// The genesis' canonical bytes.
pub const GENESIS_FILE: &str = "genesis.bin";
/// The organisation's signing key: hex of the 32-byte seed, one line, mode 0600.
pub const KEY_FILE: &str = "org.key";
/// The organisation this directory's node signs for, one line (written at the first start;
/// directories made before it existed name the organisation by their key in the genesis).
pub const ORG_FILE: &str = "org.id";
/// Prefix of the files that keep the organisation's earlier signing keys, followed by the
/// public key in hex: `POST /v1/key/rotate` keeps the key it replaces, and the node picks at
/// start whichever key the network's authority lets sign the chain's next position.
pub const KEY_BACKUP_PREFIX: &str = "org.key.";
/// The sled database directory.
pub const STORE_DIR: &str = "store";
/// The submit API's bearer token, 64 hex characters, mode 0600, new at every start.
pub const TOKEN_FILE: &str = "submit.token";
/// The listeners' URLs and the node's pid, present while the node runs.
pub const ENDPOINTS_FILE: &str = "endpoints.json";
/// The file the running node (or a reader of a stopped node's directory) holds locked.
pub const LOCK_FILE: &str = "node.lock";
/// Mode of every file the node writes: its keys and token are secrets, and the rest (the
/// store, the lock, the config) is nobody else's business either.
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Mode of the data directory and `store/`, whatever the umask.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// Permission bits that must be clear on a key file: any access by group or others.
const KEY_FILE_FORBIDDEN_BITS: u32 = 0o077;
/// Length of an ed25519 seed, in bytes.
const SEED_BYTES: usize = 32;

/// Why the lock of a data directory could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error("{dir} is in use by a running node (its {LOCK_FILE} is locked)")]
    InUse {
        /// The data directory.
        dir: PathBuf,
    },
    /// The lock file could not be opened or locked.
    #[error("cannot lock {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}

/// An exclusive `flock` on `DIR/node.lock`, released when dropped (or when the process dies,
/// so a node killed with -9 never leaves a stale lock behind).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock without waiting.
    pub fn acquire(dir: &Path) -> Result<DirLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_error = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(PRIVATE_FILE_MODE)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::InUse {
                dir: dir.to_path_buf(),
            }),
            Err(TryLockError::Error(source)) => Err(io_error(source)),
        }
    }
}

/// Creates `dir` (and missing parents) with mode 0700 whatever the umask; an existing
/// directory is left as it is.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(dir)
}

/// Writes `bytes` to `path` atomically and durably with the given mode: temporary file,
/// fsync, rename over `path`, fsync of the directory.
pub fn write_file_atomically(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let temporary = temporary_path(path);
    // A temporary file left by a crash may have another mode; start from nothing.
    match fs::remove_file(&temporary) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, path)?;
    sync_parent_dir(path)
}

/// Fsyncs the directory that holds `path`, so that a created, renamed or removed entry survives
/// a power loss.
pub fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    sync_dir(parent)
}

/// Fsyncs a directory.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|name| name.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Why a key file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("cannot read key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// Group or others may read or write the file: the key may already be in other hands,
    /// and the node does not sign with it until its owner has looked (docs/INTERFACES.md).
    #[error("key file {path} has mode {mode:04o}: group and others must have no access; check who could have read it, then run: chmod 600 {path}")]
    Exposed {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold 64 hex digits.
    #[error("key file {path} does not hold a key (expected {} hex digits on one line)", SEED_BYTES * 2)]
    Malformed {
        /// The key file.
        path: PathBuf,
    },
}

/// The mode of a key file that group or others may access, or `None` (also when it cannot be
/// read: reading it then says why).
pub fn exposed_key_mode(path: &Path) -> Option<u32> {
    let mode = fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & KEY_FILE_FORBIDDEN_BITS != 0).then_some(mode)
}

/// Reads a key file of the data directory, refusing one that group or others may access
/// ([`KeyFileError::Exposed`]).
pub fn read_private_key_file(path: &Path) -> Result<SigningKey, KeyFileError> {
    if let Some(mode) = exposed_key_mode(path) {
        return Err(KeyFileError::Exposed {
            path: path.to_path_buf(),
            mode,
        });
    }
    read_key_file(path)
}

/// Reads a key file: hex of the 32-byte ed25519 seed, one line.
pub fn read_key_file(path: &Path) -> Result<SigningKey, KeyFileError> {
    let text = fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut seed = [0u8; SEED_BYTES];
    hex::decode_to_slice(text.trim(), &mut seed).map_err(|_| KeyFileError::Malformed {
        path: path.to_path_buf(),
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The text of a key file for `key`.
pub fn key_file_text(key: &SigningKey) -> String {
    format!("{}\n", hex::encode(key.to_bytes()))
}

/// The directory's signing keys: `org.key` first, then every kept earlier key
/// (`org.key.<public key hex>`) in name order.
pub fn read_signing_keys(dir: &Path) -> Result<Vec<SigningKey>, KeyFileError> {
    let mut keys = vec![read_private_key_file(&dir.join(KEY_FILE))?];
    for path in backup_key_files(dir)? {
        keys.push(read_private_key_file(&path)?);
    }
    Ok(keys)
}

/// The paths of the kept earlier keys (`org.key.<public key hex>`), in name order.
fn backup_key_files(dir: &Path) -> Result<Vec<PathBuf>, KeyFileError> {
    let entries = fs::read_dir(dir).map_err(|source| KeyFileError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut backups = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| KeyFileError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(public) = name.strip_prefix(KEY_BACKUP_PREFIX) else {
            continue;
        };
        // A temporary file of an interrupted write is not a key.
        if public.len() == SEED_BYTES * 2 && public.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            backups.push(entry.path());
        }
    }
    backups.sort();
    Ok(backups)
}

/// Why retired key files could not be removed.
#[derive(Debug, thiserror::Error)]
pub enum RetireError {
    /// A kept key could not be read.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// A file could not be removed, or the directory not synced.
    #[error("cannot remove the retired key file {path}: {source}")]
    Io {
        /// The file (or the directory).
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}

/// Whether `key` may sign no position of `org`'s chain from `next_seq` on: every span the
/// authority gives it has ended at or before `next_seq` (rotated out or revoked). A key the
/// authority does not know (a replacement not granted yet) is not retired.
pub fn is_retired(authority: &Authority, org: &str, next_seq: u64, key: &PublicKey) -> bool {
    let Some(member) = authority.member(org) else {
        return false;
    };
    let mut spans = member
        .keys
        .iter()
        .filter(|span| span.key == *key)
        .peekable();
    spans.peek().is_some() && spans.all(|span| span.end.is_some_and(|end| end.from_seq <= next_seq))
}

/// After a durable key rotation to `new_key` at `rotation_seq`: removes the files of the keys
/// it retired ([`remove_retired_keys`] from the position after the rotation).
pub fn remove_keys_retired_by(
    dir: &Path,
    authority: &Authority,
    new_key: &PublicKey,
    rotation_seq: u64,
) -> Result<Vec<PublicKey>, RetireError> {
    match authority.key_owner(new_key) {
        Some(org) => remove_retired_keys(dir, authority, org, rotation_seq + 1),
        // The authority does not know the key yet: nothing is known to be retired.
        None => Ok(Vec::new()),
    }
}

/// Removes every kept earlier key (`org.key.<hex>`) that can sign nothing any more: positions
/// are never signed twice, so a key whose spans all end at or before `next_seq` could only
/// sign a fork, and a stolen copy of the directory must not be able to. `org.key` itself is
/// never removed. Returns the removed keys; the directory is synced when one was removed.
pub fn remove_retired_keys(
    dir: &Path,
    authority: &Authority,
    org: &str,
    next_seq: u64,
) -> Result<Vec<PublicKey>, RetireError> {
    let mut removed = Vec::new();
    for path in backup_key_files(dir)? {
        let key = public_key(&read_key_file(&path)?);
        if !is_retired(authority, org, next_seq, &key) {
            continue;
        }
        fs::remove_file(&path).map_err(|source| RetireError::Io {
            path: path.clone(),
            source,
        })?;
        removed.push(key);
    }
    if !removed.is_empty() {
        sync_dir(dir).map_err(|source| RetireError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    Ok(removed)
}

/// Makes `new` the directory's signing key, keeping `old` as `org.key.<old public key hex>`
/// first: each file is written atomically and durably, so that a crash at any point leaves
/// both keys on disk or only the old one in `org.key`.
pub fn install_signing_key(dir: &Path, new: &SigningKey, old: &SigningKey) -> io::Result<()> {
    let backup = dir.join(format!("{KEY_BACKUP_PREFIX}{}", public_key(old)));
    write_file_atomically(&backup, key_file_text(old).as_bytes(), PRIVATE_FILE_MODE)?;
    write_file_atomically(
        &dir.join(KEY_FILE),
        key_file_text(new).as_bytes(),
        PRIVATE_FILE_MODE,
    )
}

/// Reads `DIR/org.id`, if the directory has one.
pub fn read_org_file(dir: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(dir.join(ORG_FILE)) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Writes `DIR/org.id`.
pub fn write_org_file(dir: &Path, org: &str) -> io::Result<()> {
    write_file_atomically(
        &dir.join(ORG_FILE),
        format!("{org}\n").as_bytes(),
        PRIVATE_FILE_MODE,
    )
}

/// The public key of a signing key, as the genesis lists it.
pub fn public_key(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// The content of `DIR/endpoints.json`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Endpoints {
    /// Base URL of the submit API, `http://127.0.0.1:PORT`.
    pub submit: String,
    /// Base URL of the public API.
    pub public: String,
    /// The node's process id.
    pub pid: u32,
}

/// Why `endpoints.json` or `submit.token` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EndpointsError {
    /// The file is missing: the node is not running (or never wrote it).
    #[error("{path} does not exist: is the node running?")]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file's content is not what the node writes.
    #[error("{path} is malformed: {problem}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

impl Endpoints {
    /// Reads `DIR/endpoints.json` of a running node.
    pub fn read(data_dir: &Path) -> Result<Endpoints, EndpointsError> {
        let path = data_dir.join(ENDPOINTS_FILE);
        let text = read_text(&path)?;
        serde_json::from_str(&text).map_err(|error| EndpointsError::Malformed {
            path,
            problem: error.to_string(),
        })
    }
}

/// Reads `DIR/submit.token` of a running node.
pub fn read_token(data_dir: &Path) -> Result<String, EndpointsError> {
    let path = data_dir.join(TOKEN_FILE);
    let token = read_text(&path)?.trim().to_owned();
    if token.len() != 64 || !token.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(EndpointsError::Malformed {
            path,
            problem: "expected 64 hex digits".into(),
        });
    }
    Ok(token)
}

fn read_text(path: &Path) -> Result<String, EndpointsError> {
    fs::read_to_string(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => EndpointsError::Missing {
            path: path.to_path_buf(),
        },
        _ => EndpointsError::Io {
            path: path.to_path_buf(),
            source,
        },
    })
}
