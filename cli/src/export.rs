//! `export`: copies a source into a bundle file, written under a temporary name and renamed
//! only when complete, so a failed export never leaves a bundle that looks whole.

use std::io::BufWriter;
use std::path::Path;

use aidledger_spec::bundle::{BundleItem, BundleWriter, BUNDLE_VERSION_1};
use aidledger_spec::{Genesis, NetworkId};

use crate::checked::{check_network, NetworkMismatch};
use crate::source::{Source, SourceError};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The source could not be read, or its bytes are damaged (see
    /// [`SourceError::is_invalid_data`]). Not `transparent`, so that the binary finds the
    /// [`SourceError`] among the causes and picks the exit code from it.
    #[error("{0}")]
    Source(#[from] SourceError),
    /// The source belongs to another network than the one pinned.
    #[error("{0}")]
    OtherNetwork(#[from] NetworkMismatch),
    /// `--out` names a file that is not a bundle (a key, a genesis…): it is left alone.
    #[error(transparent)]
    OutFile(#[from] crate::out_file::OutFileError),
    /// The bundle could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The bundle file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// Writes every record and proof of `source` to the bundle `out`, after checking its genesis
/// against `pinned`; returns the genesis. The records are copied, not verified: `verify` the
/// bundle for a verdict. Damaged input bytes fail the export with [`SourceError::Damaged`].
pub fn export_bundle(
    source: &Source,
    out: &Path,
    pinned: Option<NetworkId>,
) -> Result<Genesis, ExportError> {
    let write_error = |source: std::io::Error| ExportError::Write {
        path: out.display().to_string(),
        source,
    };
    crate::out_file::check_bundle_replaceable(out)?;
    let (genesis, version, items) = source.open_versioned()?;
    check_network(&genesis, pinned)?;
    let directory = out
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temporary = tempfile::NamedTempFile::new_in(directory).map_err(write_error)?;
    // The copy keeps the source's version: a version 1 source is copied byte for byte, a
    // version 2 one with its checkpoints and split views.
    let out_file = BufWriter::new(temporary);
    let mut writer = if version == BUNDLE_VERSION_1 {
        BundleWriter::new(out_file, &genesis.encode())
    } else {
        BundleWriter::new_v2(out_file, &genesis.encode())
    }
    .map_err(write_error)?;
    for item in items {
        match item? {
            BundleItem::Record(bytes) => writer.record(&bytes),
            BundleItem::Proof(proof) => writer.proof(&proof),
            BundleItem::Checkpoint(note) => writer.checkpoint(&note),
            BundleItem::SplitView(proof) => writer.split_view(&proof),
        }
        .map_err(write_error)?;
    }
    let temporary = writer
        .finish()
        .map_err(write_error)?
        .into_inner()
        .map_err(|error| write_error(error.into_error()))?;
    temporary.as_file().sync_all().map_err(write_error)?;
    // Again: an export can take minutes, and something may have been put there meanwhile.
    crate::out_file::check_bundle_replaceable(out)?;
    temporary
        .persist(out)
        .map_err(|error| write_error(error.error))?;
    Ok(genesis)
}
