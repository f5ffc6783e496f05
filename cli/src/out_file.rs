//! Files a command writes with `--out`: a command may write over an earlier file of its own
//! kind (a bundle over a bundle, so that the explorer's "Check it yourself" commands can be run
//! again) or an empty file, never over anything else, nor through a symbolic link or onto
//! something that is not a regular file. A user who typed `--out fcdo.key` by mistake keeps
//! the key.

use std::io::Read;
use std::path::Path;

/// Why a file may not be written over.
#[derive(Debug, thiserror::Error)]
pub enum OutFileError {
    /// The path holds something that is not a file of the kind written.
    #[error(
        "{path} exists and is not {kind}: refusing to overwrite it (choose another --out, or \
         remove the file first)"
    )]
    OtherContent {
        /// The path given.
        path: String,
        /// What the command writes ("a bundle", "a proof packet", …).
        kind: &'static str,
    },
    /// The existing file could not be read to tell.
    #[error("cannot read {path} to check what it holds before overwriting it: {source}")]
    Unreadable {
        /// The path given.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// Checks that `path` is free or holds a file that `is_same_kind` recognises from its first
/// `head_bytes` bytes (fewer if the file is shorter).
pub fn check_replaceable(
    path: &Path,
    kind: &'static str,
    head_bytes: usize,
    is_same_kind: impl Fn(&[u8]) -> bool,
) -> Result<(), OutFileError> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(OutFileError::Unreadable {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let other = || OutFileError::OtherContent {
        path: path.display().to_string(),
        kind,
    };
    if !metadata.is_file() {
        return Err(other());
    }
    // An empty file holds nothing to lose (`--out "$(mktemp)"`).
    if metadata.len() == 0 {
        return Ok(());
    }
    let mut head = Vec::with_capacity(head_bytes);
    std::fs::File::open(path)
        .and_then(|file| file.take(head_bytes as u64).read_to_end(&mut head))
        .map_err(|source| OutFileError::Unreadable {
            path: path.display().to_string(),
            source,
        })?;
    if is_same_kind(&head) {
        Ok(())
    } else {
        Err(other())
    }
}

/// [`check_replaceable`] for a bundle (`export --out`): its magic.
pub fn check_bundle_replaceable(path: &Path) -> Result<(), OutFileError> {
    let magic = aidledger_spec::bundle::MAGIC;
    check_replaceable(path, "a bundle", magic.len(), |head| head == magic)
}

/// [`check_replaceable`] for a proof packet (`proof --out`): either version's magic.
pub fn check_packet_replaceable(path: &Path) -> Result<(), OutFileError> {
    use aidledger_spec::packet::{MAGIC, MAGIC_V2};
    check_replaceable(path, "a proof packet", MAGIC.len(), |head| {
        head == MAGIC || head == MAGIC_V2
    })
}

/// [`check_replaceable`] for a split-view proof (`--split-view-out`): one that decodes.
pub fn check_split_view_replaceable(path: &Path) -> Result<(), OutFileError> {
    use aidledger_spec::codec::Codec;
    use aidledger_spec::splitview::SplitViewProof;
    check_replaceable(
        path,
        "a split-view proof",
        aidledger_store::SPLIT_VIEW_BYTES_MAX + 1,
        |bytes| SplitViewProof::from_bytes(bytes).is_ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_path_or_a_file_of_the_kind_may_be_written_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        assert!(check_bundle_replaceable(&path).is_ok());
        std::fs::write(&path, b"AIDLBNDL and the rest").unwrap();
        assert!(check_bundle_replaceable(&path).is_ok());
        assert!(check_packet_replaceable(&path).is_err());
        std::fs::write(&path, b"AIDLPKT2...").unwrap();
        assert!(check_packet_replaceable(&path).is_ok());
        std::fs::write(&path, b"").unwrap();
        assert!(check_bundle_replaceable(&path).is_ok());
        for other in [&b"0123abcd\n"[..], b"AIDL"] {
            std::fs::write(&path, other).unwrap();
            let error = check_bundle_replaceable(&path).unwrap_err().to_string();
            assert!(
                error.contains("exists and is not a bundle: refusing to overwrite it"),
                "{error}"
            );
        }
        assert!(check_bundle_replaceable(dir.path()).is_err());
    }
}
