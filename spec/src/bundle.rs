//! The bundle file: a self-contained export (genesis, every record, equivocation proofs) that
//! an auditor verifies offline.
//!
//! Layout: the 8-byte magic `AIDLBNDL`, a u16 version, then frames of `kind: u8`,
//! `length: u64`, `payload`. The genesis frame comes first, then record and proof frames, then
//! one end frame whose payload holds the counts of records and proofs, so that a cut-off file is
//! told apart from a complete one. All integers little endian.

use std::io::{self, Read, Write};

use crate::codec::{self, Codec};
use crate::limits::RECORD_SIZE_BYTES_MAX;

/// The first 8 bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"AIDLBNDL";
/// The bundle format version this crate writes and reads.
pub const BUNDLE_VERSION: u16 = 1;
/// Largest frame payload: one record, or a proof of two records.
pub const FRAME_SIZE_BYTES_MAX: u64 = 2 * RECORD_SIZE_BYTES_MAX as u64 + 64;

const KIND_GENESIS: u8 = 1;
const KIND_RECORD: u8 = 2;
const KIND_PROOF: u8 = 3;
const KIND_END: u8 = 0xff;

/// Two records of one author at one sequence number: the proof of a fork.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct EquivocationProof {
    /// One record's wire bytes.
    pub first: Vec<u8>,
    /// The other record's wire bytes.
    pub second: Vec<u8>,
}

/// The end frame's payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct BundleEnd {
    /// Record frames in the bundle.
    pub records: u64,
    /// Proof frames in the bundle.
    pub proofs: u64,
}

/// One item of a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleItem {
    /// A record's wire bytes.
    Record(Vec<u8>),
    /// An equivocation proof.
    Proof(EquivocationProof),
}

/// Byte offset of the genesis frame's payload: after the magic, the version and one frame header.
pub const GENESIS_PAYLOAD_OFFSET: u64 = 8 + 2 + 9;

/// Why a bundle could not be read. Every variant but [`BundleError::Io`] means the bytes were
/// read and break the format (section 13 of FORMAT.md): it names the byte offset and the rule
/// ([`BundleError::offset`], [`BundleError::rule`]), so a caller can tell damaged data from a
/// file it could not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Reading failed.
    #[error("cannot read the bundle: {0}")]
    Io(#[from] io::Error),
    /// Not a bundle at all.
    #[error("not an aidledger bundle at byte 0: the file does not start with {:?}", std::str::from_utf8(&MAGIC).unwrap_or(""))]
    BadMagic,
    /// A bundle version this build does not read.
    #[error(
        "bundle version {0} at byte 8 is not supported (this build reads version {BUNDLE_VERSION})"
    )]
    UnsupportedVersion(u16),
    /// The file ends before the end frame.
    #[error("the bundle is truncated at byte {offset}: {what}")]
    Truncated {
        /// Where the file ended.
        offset: u64,
        /// What was being read.
        what: &'static str,
    },
    /// A frame is malformed.
    #[error("bad frame at byte {offset}: {problem}")]
    BadFrame {
        /// Where the frame starts.
        offset: u64,
        /// What is wrong.
        problem: String,
    },
    /// The end frame's counts do not match what was read.
    #[error("end frame at byte {offset}: the bundle says it holds {expected_records} records and {expected_proofs} proofs, but {found_records} and {found_proofs} were read")]
    CountMismatch {
        /// Where the end frame starts.
        offset: u64,
        /// Records announced.
        expected_records: u64,
        /// Proofs announced.
        expected_proofs: u64,
        /// Records read.
        found_records: u64,
        /// Proofs read.
        found_proofs: u64,
    },
    /// Bytes follow the end frame.
    #[error("bytes after the end frame, from byte {offset}")]
    TrailingBytes {
        /// The first byte after the end frame.
        offset: u64,
    },
}

impl BundleError {
    /// Where in the file the format is broken; `None` for [`BundleError::Io`], where nothing
    /// was read that could be judged.
    pub fn offset(&self) -> Option<u64> {
        match self {
            BundleError::Io(_) => None,
            BundleError::BadMagic => Some(0),
            BundleError::UnsupportedVersion(_) => Some(8),
            BundleError::Truncated { offset, .. }
            | BundleError::BadFrame { offset, .. }
            | BundleError::CountMismatch { offset, .. }
            | BundleError::TrailingBytes { offset } => Some(*offset),
        }
    }

    /// The rule of FORMAT.md section 13 the bytes break, as a stable code; `None` for
    /// [`BundleError::Io`].
    pub fn rule(&self) -> Option<&'static str> {
        Some(match self {
            BundleError::Io(_) => return None,
            BundleError::BadMagic => "bad-magic",
            BundleError::UnsupportedVersion(_) => "unsupported-version",
            BundleError::Truncated { .. } => "truncated",
            BundleError::BadFrame { .. } => "bad-frame",
            BundleError::CountMismatch { .. } => "end-count-mismatch",
            BundleError::TrailingBytes { .. } => "trailing-bytes",
        })
    }
}

/// Writes a bundle frame by frame.
pub struct BundleWriter<W: Write> {
    out: W,
    records: u64,
    proofs: u64,
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle with the genesis' canonical bytes.
    pub fn new(mut out: W, genesis_bytes: &[u8]) -> io::Result<Self> {
        out.write_all(&MAGIC)?;
        out.write_all(&BUNDLE_VERSION.to_le_bytes())?;
        write_frame(&mut out, KIND_GENESIS, genesis_bytes)?;
        Ok(BundleWriter {
            out,
            records: 0,
            proofs: 0,
        })
    }

    /// Adds a record.
    pub fn record(&mut self, record_bytes: &[u8]) -> io::Result<()> {
        self.records += 1;
        write_frame(&mut self.out, KIND_RECORD, record_bytes)
    }

    /// Adds an equivocation proof.
    pub fn proof(&mut self, proof: &EquivocationProof) -> io::Result<()> {
        self.proofs += 1;
        write_frame(&mut self.out, KIND_PROOF, &codec::encode(proof))
    }

    /// Writes the end frame and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        let end = BundleEnd {
            records: self.records,
            proofs: self.proofs,
        };
        write_frame(&mut self.out, KIND_END, &codec::encode(&end))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn write_frame<W: Write>(out: &mut W, kind: u8, payload: &[u8]) -> io::Result<()> {
    out.write_all(&[kind])?;
    out.write_all(&(payload.len() as u64).to_le_bytes())?;
    out.write_all(payload)
}

/// Reads a bundle item by item, holding one frame at a time.
pub struct BundleReader<R: Read> {
    input: R,
    offset: u64,
    genesis_bytes: Vec<u8>,
    records: u64,
    proofs: u64,
    ended: bool,
}

impl<R: Read> BundleReader<R> {
    /// Reads the magic, version and genesis frame.
    pub fn new(mut input: R) -> Result<Self, BundleError> {
        let mut magic = [0u8; 8];
        read_exact_or(&mut input, &mut magic, 0, "the magic").map_err(|error| match error {
            BundleError::Truncated { .. } => BundleError::BadMagic,
            other => other,
        })?;
        if magic != MAGIC {
            return Err(BundleError::BadMagic);
        }
        let mut version = [0u8; 2];
        read_exact_or(&mut input, &mut version, 8, "the version")?;
        let version = u16::from_le_bytes(version);
        if version != BUNDLE_VERSION {
            return Err(BundleError::UnsupportedVersion(version));
        }
        let mut reader = BundleReader {
            input,
            offset: 10,
            genesis_bytes: Vec::new(),
            records: 0,
            proofs: 0,
            ended: false,
        };
        let start = reader.offset;
        let (kind, payload) = reader.frame()?;
        if kind != KIND_GENESIS {
            return Err(BundleError::BadFrame {
                offset: start,
                problem: format!("expected the genesis frame, found kind {kind}"),
            });
        }
        reader.genesis_bytes = payload;
        Ok(reader)
    }

    /// The genesis' bytes (not yet checked).
    pub fn genesis_bytes(&self) -> &[u8] {
        &self.genesis_bytes
    }

    /// The next item; `None` after a complete end frame.
    pub fn next_item(&mut self) -> Result<Option<BundleItem>, BundleError> {
        if self.ended {
            return Ok(None);
        }
        let start = self.offset;
        let (kind, payload) = self.frame()?;
        match kind {
            KIND_RECORD => {
                self.records += 1;
                Ok(Some(BundleItem::Record(payload)))
            }
            KIND_PROOF => {
                self.proofs += 1;
                // Each side under one record's bound (`Codec`), as a gossiped proof is read.
                let proof = EquivocationProof::from_bytes(&payload).map_err(|error| {
                    BundleError::BadFrame {
                        offset: start,
                        problem: format!("equivocation proof: {error}"),
                    }
                })?;
                Ok(Some(BundleItem::Proof(proof)))
            }
            KIND_END => {
                let end: BundleEnd =
                    codec::decode_exact(&payload).map_err(|error| BundleError::BadFrame {
                        offset: start,
                        problem: format!("end frame: {error}"),
                    })?;
                if end.records != self.records || end.proofs != self.proofs {
                    return Err(BundleError::CountMismatch {
                        offset: start,
                        expected_records: end.records,
                        expected_proofs: end.proofs,
                        found_records: self.records,
                        found_proofs: self.proofs,
                    });
                }
                let mut extra = [0u8; 1];
                if self.input.read(&mut extra)? != 0 {
                    return Err(BundleError::TrailingBytes {
                        offset: self.offset,
                    });
                }
                self.ended = true;
                Ok(None)
            }
            other => Err(BundleError::BadFrame {
                offset: start,
                problem: format!("unknown frame kind {other}"),
            }),
        }
    }

    fn frame(&mut self) -> Result<(u8, Vec<u8>), BundleError> {
        let start = self.offset;
        let mut head = [0u8; 9];
        read_exact_or(&mut self.input, &mut head, start, "a frame header")?;
        let length = u64::from_le_bytes(head[1..].try_into().unwrap_or_default());
        if length > FRAME_SIZE_BYTES_MAX {
            return Err(BundleError::BadFrame {
                offset: start,
                problem: format!(
                    "frame of {length} bytes exceeds the {FRAME_SIZE_BYTES_MAX}-byte limit"
                ),
            });
        }
        // `length` is bounded above, so this allocation is too.
        let mut payload = vec![0u8; length as usize];
        read_exact_or(
            &mut self.input,
            &mut payload,
            start + 9,
            "a frame's payload",
        )?;
        self.offset = start + 9 + length;
        Ok((head[0], payload))
    }
}

impl<R: Read> Iterator for BundleReader<R> {
    type Item = Result<BundleItem, BundleError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_item() {
            Ok(item) => item.map(Ok),
            Err(error) => {
                self.ended = true;
                Some(Err(error))
            }
        }
    }
}

fn read_exact_or<R: Read>(
    input: &mut R,
    buffer: &mut [u8],
    offset: u64,
    what: &'static str,
) -> Result<(), BundleError> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => {
                return Err(BundleError::Truncated {
                    offset: offset + filled as u64,
                    what,
                })
            }
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(BundleError::Io(error)),
        }
    }
    Ok(())
}
