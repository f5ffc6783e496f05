//! The bundle file: a self-contained export (genesis, every record, equivocation proofs and,
//! from version 2, checkpoint notes and split-view proofs) that an auditor verifies offline.
//!
//! Layout: the 8-byte magic `AIDLBNDL`, a u16 version, then frames of `kind: u8`,
//! `length: u64`, `payload`. The genesis frame comes first, then the other frames, then one end
//! frame whose payload holds the count of each kind of frame, so that a cut-off file is told
//! apart from a complete one. All integers little endian.
//!
//! Version 1 holds records and equivocation proofs; version 2 adds checkpoint (`04`) and
//! split-view (`05`) frames and two more counts in its end frame. A writer writes version 1
//! unless it is asked for version 2 ([`BundleWriter::new_v2`]): a bundle with neither
//! checkpoints nor split views stays byte for byte what it always was (FORMAT.md §13).

use std::io::{self, Read, Write};

use crate::codec::{self, Codec};
use crate::limits::{NOTE_BYTES_MAX, RECORD_SIZE_BYTES_MAX};
use crate::splitview::SplitViewProof;

/// The first 8 bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"AIDLBNDL";
/// Bundle version 1: records and equivocation proofs.
pub const BUNDLE_VERSION_1: u16 = 1;
/// Bundle version 2: version 1 plus checkpoint notes and split-view proofs.
pub const BUNDLE_VERSION_2: u16 = 2;
/// The newest bundle version this crate writes and reads (it reads every version from 1).
pub const BUNDLE_VERSION: u16 = BUNDLE_VERSION_2;
/// Largest frame payload: one record, or a proof of two records (a checkpoint note or a
/// split-view proof is far smaller).
pub const FRAME_SIZE_BYTES_MAX: u64 = 2 * RECORD_SIZE_BYTES_MAX as u64 + 64;
/// Largest checkpoint frame payload: one note.
pub const CHECKPOINT_FRAME_BYTES_MAX: u64 = NOTE_BYTES_MAX as u64;

const KIND_GENESIS: u8 = 1;
const KIND_RECORD: u8 = 2;
const KIND_PROOF: u8 = 3;
const KIND_CHECKPOINT: u8 = 4;
const KIND_SPLIT_VIEW: u8 = 5;
const KIND_END: u8 = 0xff;

/// Two records of one author at one sequence number: the proof of a fork.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct EquivocationProof {
    /// One record's wire bytes.
    pub first: Vec<u8>,
    /// The other record's wire bytes.
    pub second: Vec<u8>,
}

/// The end frame's counts. Version 1 writes the first two (16 bytes), version 2 all four
/// (32 bytes); a version 1 bundle has no checkpoints or split views.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct BundleEnd {
    /// Record frames in the bundle.
    pub records: u64,
    /// Proof frames in the bundle.
    pub proofs: u64,
    /// Checkpoint frames in the bundle (version 2).
    pub checkpoints: u64,
    /// Split-view frames in the bundle (version 2).
    pub split_views: u64,
}

impl BundleEnd {
    fn encode(&self, version: u16) -> Vec<u8> {
        if version == BUNDLE_VERSION_1 {
            codec::encode(&(self.records, self.proofs))
        } else {
            codec::encode(self)
        }
    }

    fn decode(version: u16, payload: &[u8]) -> Result<BundleEnd, codec::DecodeError> {
        if version == BUNDLE_VERSION_1 {
            let (records, proofs): (u64, u64) = codec::decode_exact(payload)?;
            Ok(BundleEnd {
                records,
                proofs,
                ..BundleEnd::default()
            })
        } else {
            codec::decode_exact(payload)
        }
    }

    /// The counts in words, for the end-count error.
    fn words(&self, version: u16) -> String {
        if version == BUNDLE_VERSION_1 {
            format!("{} records and {} proofs", self.records, self.proofs)
        } else {
            format!(
                "{} records, {} proofs, {} checkpoints and {} split views",
                self.records, self.proofs, self.checkpoints, self.split_views
            )
        }
    }
}

/// One item of a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleItem {
    /// A record's wire bytes.
    Record(Vec<u8>),
    /// An equivocation proof.
    Proof(EquivocationProof),
    /// A checkpoint note, whole (FORMAT.md §23: text, blank line, signature lines), as the
    /// bundle's writer held it; UTF-8, not yet opened or checked (version 2).
    Checkpoint(String),
    /// A split-view proof (FORMAT.md §25), decoded, not yet checked (version 2).
    SplitView(SplitViewProof),
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
        "bundle version {0} at byte 8 is not supported (this build reads versions {BUNDLE_VERSION_1} to {BUNDLE_VERSION})"
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
    #[error("end frame at byte {offset}: the bundle says it holds {}, but {} were read", expected.words(*version), found.words(*version))]
    CountMismatch {
        /// Where the end frame starts.
        offset: u64,
        /// The bundle's version (which counts its end frame holds).
        version: u16,
        /// The counts announced.
        expected: BundleEnd,
        /// The frames read.
        found: BundleEnd,
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
    version: u16,
    counts: BundleEnd,
}

impl<W: Write> BundleWriter<W> {
    /// Starts a version 1 bundle with the genesis' canonical bytes: records and equivocation
    /// proofs only, byte for byte what every earlier build wrote.
    pub fn new(out: W, genesis_bytes: &[u8]) -> io::Result<Self> {
        Self::start(out, genesis_bytes, BUNDLE_VERSION_1)
    }

    /// Starts a version 2 bundle, which may also hold checkpoint notes and split-view proofs.
    pub fn new_v2(out: W, genesis_bytes: &[u8]) -> io::Result<Self> {
        Self::start(out, genesis_bytes, BUNDLE_VERSION_2)
    }

    fn start(mut out: W, genesis_bytes: &[u8], version: u16) -> io::Result<Self> {
        out.write_all(&MAGIC)?;
        out.write_all(&version.to_le_bytes())?;
        write_frame(&mut out, KIND_GENESIS, genesis_bytes)?;
        Ok(BundleWriter {
            out,
            version,
            counts: BundleEnd::default(),
        })
    }

    /// The version this writer writes.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Adds a record.
    pub fn record(&mut self, record_bytes: &[u8]) -> io::Result<()> {
        self.counts.records += 1;
        write_frame(&mut self.out, KIND_RECORD, record_bytes)
    }

    /// Adds an equivocation proof.
    pub fn proof(&mut self, proof: &EquivocationProof) -> io::Result<()> {
        self.counts.proofs += 1;
        write_frame(&mut self.out, KIND_PROOF, &codec::encode(proof))
    }

    /// Adds a checkpoint note, whole (version 2 only; at most [`CHECKPOINT_FRAME_BYTES_MAX`]
    /// bytes). The note is written as given: a reader opens and checks it.
    pub fn checkpoint(&mut self, note: &str) -> io::Result<()> {
        self.require_v2("checkpoint notes")?;
        if note.len() as u64 > CHECKPOINT_FRAME_BYTES_MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a checkpoint note of {} bytes exceeds the {CHECKPOINT_FRAME_BYTES_MAX}-byte limit",
                    note.len()
                ),
            ));
        }
        self.counts.checkpoints += 1;
        write_frame(&mut self.out, KIND_CHECKPOINT, note.as_bytes())
    }

    /// Adds a split-view proof (version 2 only).
    pub fn split_view(&mut self, proof: &SplitViewProof) -> io::Result<()> {
        self.require_v2("split-view proofs")?;
        self.counts.split_views += 1;
        write_frame(&mut self.out, KIND_SPLIT_VIEW, &proof.to_bytes())
    }

    fn require_v2(&self, what: &str) -> io::Result<()> {
        if self.version < BUNDLE_VERSION_2 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a version {} bundle holds no {what}", self.version),
            ));
        }
        Ok(())
    }

    /// Writes the end frame and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        write_frame(&mut self.out, KIND_END, &self.counts.encode(self.version))?;
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
    version: u16,
    genesis_bytes: Vec<u8>,
    counts: BundleEnd,
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
        if !(BUNDLE_VERSION_1..=BUNDLE_VERSION).contains(&version) {
            return Err(BundleError::UnsupportedVersion(version));
        }
        let mut reader = BundleReader {
            input,
            offset: 10,
            version,
            genesis_bytes: Vec::new(),
            counts: BundleEnd::default(),
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

    /// The bundle's version.
    pub fn version(&self) -> u16 {
        self.version
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
                self.counts.records += 1;
                Ok(Some(BundleItem::Record(payload)))
            }
            KIND_PROOF => {
                self.counts.proofs += 1;
                // Each side under one record's bound (`Codec`), as a gossiped proof is read.
                let proof = EquivocationProof::from_bytes(&payload).map_err(|error| {
                    BundleError::BadFrame {
                        offset: start,
                        problem: format!("equivocation proof: {error}"),
                    }
                })?;
                Ok(Some(BundleItem::Proof(proof)))
            }
            KIND_CHECKPOINT if self.version >= BUNDLE_VERSION_2 => {
                self.counts.checkpoints += 1;
                let note = String::from_utf8(payload).map_err(|error| BundleError::BadFrame {
                    offset: start,
                    problem: format!("checkpoint note: not UTF-8: {error}"),
                })?;
                Ok(Some(BundleItem::Checkpoint(note)))
            }
            KIND_SPLIT_VIEW if self.version >= BUNDLE_VERSION_2 => {
                self.counts.split_views += 1;
                let proof = SplitViewProof::from_bytes(&payload).map_err(|error| {
                    BundleError::BadFrame {
                        offset: start,
                        problem: format!("split-view proof: {error}"),
                    }
                })?;
                Ok(Some(BundleItem::SplitView(proof)))
            }
            KIND_END => {
                let end = BundleEnd::decode(self.version, &payload).map_err(|error| {
                    BundleError::BadFrame {
                        offset: start,
                        problem: format!("end frame: {error}"),
                    }
                })?;
                if end != self.counts {
                    return Err(BundleError::CountMismatch {
                        offset: start,
                        version: self.version,
                        expected: end,
                        found: self.counts,
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
                problem: format!(
                    "unknown frame kind {other} in a version {} bundle",
                    self.version
                ),
            }),
        }
    }

    fn frame(&mut self) -> Result<(u8, Vec<u8>), BundleError> {
        let start = self.offset;
        let mut head = [0u8; 9];
        read_exact_or(&mut self.input, &mut head, start, "a frame header")?;
        let length = u64::from_le_bytes(head[1..].try_into().unwrap_or_default());
        let limit = if head[0] == KIND_CHECKPOINT && self.version >= BUNDLE_VERSION_2 {
            CHECKPOINT_FRAME_BYTES_MAX
        } else {
            FRAME_SIZE_BYTES_MAX
        };
        if length > limit {
            return Err(BundleError::BadFrame {
                offset: start,
                problem: format!("frame of {length} bytes exceeds the {limit}-byte limit"),
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
