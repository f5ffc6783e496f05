//! Split-view proofs (FORMAT.md §25): two checkpoints an organisation signed for one chain
//! that cannot both be true, carried with what shows it, so that anyone can check it offline
//! with nothing but the organisation's keys.
//!
//! Two shapes. **Same size, different roots**: nothing more is needed. **Sizes m < n**: a
//! failing consistency proof would prove nothing (anyone can write hashes that fail), so the
//! proof carries the root the larger tree has at size m and a consistency proof that VERIFIES
//! from that root to the larger checkpoint's root (`merkle::verify_consistency`). By the
//! collision resistance of SHA-256 that root is the only root the larger tree can have at m;
//! when it differs from the smaller checkpoint's root, no tree has both checkpoints' roots.

use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::codec::{write_bytes, write_variant, Codec, DecodeError, Reader};
use crate::ids::{Digest, NetworkId, PublicKey};
use crate::limits::NOTE_BYTES_MAX;
use crate::merkle::{ConsistencyProof, MerkleError};

/// What shows that the two checkpoints cannot both be true.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SplitEvidence {
    /// Variant 0: both checkpoints have the same size; their roots differ.
    SameSize,
    /// Variant 1: the first checkpoint's size m is below the second's n. `prefix_root` is the
    /// root of the second tree at size m, `proof` the consistency proof (sizes m and n) from
    /// it to the second checkpoint's root; `prefix_root` differs from the first's root.
    Prefix {
        /// The root of the larger tree's first m leaves.
        prefix_root: Digest,
        /// The consistency proof from `prefix_root` (size m) to the second root (size n).
        proof: ConsistencyProof,
    },
}

/// Two signed checkpoint notes of one origin and the evidence that they conflict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitViewProof {
    /// The first checkpoint note, whole (the smaller one, when the sizes differ).
    pub first: String,
    /// The second checkpoint note, whole.
    pub second: String,
    /// Why they conflict.
    pub evidence: SplitEvidence,
}

/// Why a split-view proof proves nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitViewError {
    /// The first note is not a checkpoint the organisation signed.
    #[error("first checkpoint: {0}")]
    First(CheckpointError),
    /// The second note is not a checkpoint the organisation signed.
    #[error("second checkpoint: {0}")]
    Second(CheckpointError),
    /// The two checkpoints are of different chains.
    #[error("the checkpoints are of different origins")]
    DifferentOrigins,
    /// The evidence does not fit the sizes: `SameSize` for different sizes, `Prefix` for a
    /// first size not below the second, or a proof whose sizes are not the checkpoints'.
    #[error("the evidence is for sizes other than the checkpoints' ({first} and {second})")]
    Sizes {
        /// The first checkpoint's size.
        first: u64,
        /// The second checkpoint's size.
        second: u64,
    },
    /// The consistency proof does not verify from the prefix root to the second root.
    #[error("the consistency proof does not verify: {0}")]
    Proof(MerkleError),
    /// The checkpoints agree (same size and root, or the prefix root is the first root).
    #[error("the checkpoints are consistent: no split view")]
    Consistent,
}

/// A checked split view: the chain and its two conflicting checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitView {
    /// The network of the chain.
    pub network: NetworkId,
    /// The organisation whose chain it is.
    pub org: String,
    /// The first checkpoint.
    pub first: Checkpoint,
    /// The second checkpoint.
    pub second: Checkpoint,
}

impl SplitViewProof {
    /// Checks the proof offline. `org_keys` are the keys the organisation could sign
    /// checkpoints with at either size (FORMAT.md §23.3); the chain is the one the notes name.
    /// A valid proof shows the organisation signed two histories of one chain. It does not
    /// look at governance: a revocation (FORMAT.md §22) can explain two checkpoints that
    /// differ after its position, and a verifier must give it that chance (§25).
    pub fn check(&self, org_keys: &[PublicKey]) -> Result<SplitView, SplitViewError> {
        let first =
            SignedCheckpoint::open_any(&self.first, org_keys).map_err(SplitViewError::First)?;
        let second =
            SignedCheckpoint::open_any(&self.second, org_keys).map_err(SplitViewError::Second)?;
        let (first, second) = (first.checkpoint, second.checkpoint);
        if first.origin != second.origin {
            return Err(SplitViewError::DifferentOrigins);
        }
        let sizes = SplitViewError::Sizes {
            first: first.size,
            second: second.size,
        };
        match &self.evidence {
            SplitEvidence::SameSize => {
                if first.size != second.size {
                    return Err(sizes);
                }
                if first.root == second.root {
                    return Err(SplitViewError::Consistent);
                }
            }
            SplitEvidence::Prefix { prefix_root, proof } => {
                if first.size >= second.size
                    || proof.old_size != first.size
                    || proof.new_size != second.size
                {
                    return Err(sizes);
                }
                proof
                    .verify(prefix_root, &second.root)
                    .map_err(SplitViewError::Proof)?;
                if *prefix_root == first.root {
                    return Err(SplitViewError::Consistent);
                }
            }
        }
        // open_any read the origin, so this cannot fail; the error is kept, not unwrapped.
        let (network, org) = first.chain().map_err(SplitViewError::First)?;
        Ok(SplitView {
            network,
            org,
            first,
            second,
        })
    }
}

impl Codec for SplitEvidence {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            SplitEvidence::SameSize => write_variant(out, 0),
            SplitEvidence::Prefix { prefix_root, proof } => {
                write_variant(out, 1);
                prefix_root.write(out);
                proof.write(out);
            }
        }
    }

    fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.variant("a split view's evidence")? {
            0 => Ok(SplitEvidence::SameSize),
            1 => Ok(SplitEvidence::Prefix {
                prefix_root: Digest::read(reader)?,
                proof: ConsistencyProof::read(reader)?,
            }),
            index => Err(DecodeError::UnknownVariant {
                what: "a split view's evidence",
                index,
            }),
        }
    }
}

impl Codec for SplitViewProof {
    fn write(&self, out: &mut Vec<u8>) {
        write_bytes(out, self.first.as_bytes());
        write_bytes(out, self.second.as_bytes());
        self.evidence.write(out);
    }

    fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SplitViewProof {
            first: reader
                .text::<NOTE_BYTES_MAX>("a split view's first checkpoint")?
                .to_owned(),
            second: reader
                .text::<NOTE_BYTES_MAX>("a split view's second checkpoint")?
                .to_owned(),
            evidence: SplitEvidence::read(reader)?,
        })
    }
}
