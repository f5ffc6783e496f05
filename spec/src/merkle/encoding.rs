//! Proofs as exchanged, in the layout of FORMAT.md §2 (§22.4).

use super::{verify_consistency, verify_inclusion, MerkleError};
use crate::codec::{read_list, write_list, Codec, DecodeError, Reader};
use crate::ids::Digest;
use crate::limits::MERKLE_PROOF_HASHES_MAX;

/// An inclusion proof as exchanged (FORMAT.md §22): the leaf's index, the tree size, and the
/// path, bottom up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf's index: the record's `seq`.
    pub leaf_index: u64,
    /// The tree size the proof is for.
    pub tree_size: u64,
    /// The sibling hashes, from the leaf up.
    pub path: Vec<Digest>,
}

impl InclusionProof {
    /// Checks the proof for the leaf hash `leaf` against the root of its tree size.
    pub fn verify(&self, leaf: &Digest, root: &Digest) -> Result<(), MerkleError> {
        verify_inclusion(leaf, self.leaf_index, self.tree_size, &self.path, root)
    }
}

/// A consistency proof as exchanged (FORMAT.md §22): the two tree sizes and the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older (smaller) tree's size.
    pub old_size: u64,
    /// The newer tree's size.
    pub new_size: u64,
    /// The proof's hashes, in RFC 9162's order.
    pub path: Vec<Digest>,
}

impl ConsistencyProof {
    /// Checks the proof against the two trees' roots.
    pub fn verify(&self, old_root: &Digest, new_root: &Digest) -> Result<(), MerkleError> {
        verify_consistency(self.old_size, self.new_size, old_root, new_root, &self.path)
    }
}

impl Codec for Digest {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }

    fn read(reader: &mut Reader<'_>) -> Result<Digest, DecodeError> {
        reader.array("a hash").map(Digest)
    }
}

impl Codec for InclusionProof {
    fn write(&self, out: &mut Vec<u8>) {
        self.leaf_index.write(out);
        self.tree_size.write(out);
        write_list(out, &self.path);
    }

    fn read(reader: &mut Reader<'_>) -> Result<InclusionProof, DecodeError> {
        Ok(InclusionProof {
            leaf_index: reader.u64("an inclusion proof's leaf index")?,
            tree_size: reader.u64("an inclusion proof's tree size")?,
            path: read_list::<Digest, MERKLE_PROOF_HASHES_MAX>(
                reader,
                "an inclusion proof's path",
            )?,
        })
    }
}

impl Codec for ConsistencyProof {
    fn write(&self, out: &mut Vec<u8>) {
        self.old_size.write(out);
        self.new_size.write(out);
        write_list(out, &self.path);
    }

    fn read(reader: &mut Reader<'_>) -> Result<ConsistencyProof, DecodeError> {
        Ok(ConsistencyProof {
            old_size: reader.u64("a consistency proof's old size")?,
            new_size: reader.u64("a consistency proof's new size")?,
            path: read_list::<Digest, MERKLE_PROOF_HASHES_MAX>(
                reader,
                "a consistency proof's path",
            )?,
        })
    }
}
