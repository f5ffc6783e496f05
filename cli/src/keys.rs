//! Key files: the hex of a 32-byte ed25519 seed on one line, readable by the owner only.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use aidledger_spec::PublicKey;
use aidledger_store::datadir::key_file_text;
use ed25519_dalek::SigningKey;

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file exists; keys are never overwritten.
    #[error("{0} already exists; refusing to overwrite a key")]
    Exists(String),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The reason.
        source: std::io::Error,
    },
    /// No randomness could be had.
    #[error("the operating system gave no randomness: {0}")]
    Random(String),
}

/// Makes a new key and writes it to `path` with mode 0600. Returns the public key.
pub fn generate_key_file(path: &Path) -> Result<PublicKey, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|error| KeyError::Random(error.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    write_key_file(path, &key)?;
    Ok(aidledger_spec::signature::public_key_of(&key))
}

/// Writes a key file, creating it new with owner-only permissions.
pub fn write_key_file(path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists(path.display().to_string())
        } else {
            io(error)
        }
    })?;
    file.write_all(key_file_text(key).as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Reads a key file (the node's reader: one format for both).
pub use aidledger_store::datadir::read_key_file;
