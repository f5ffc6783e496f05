//! Verification of inclusion and consistency proofs, step by step as RFC 9162 §2.1.3.2 and
//! §2.1.4.2 write them, after a check of the proof's length (FORMAT.md §22.3).

use super::{consistency_proof_length, inclusion_proof_length, node_hash, MerkleError};
use crate::ids::Digest;

/// Checks that `path` proves the leaf hash `leaf` at `index` in the tree of `size` whose root
/// is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Digest,
    index: u64,
    size: u64,
    path: &[Digest],
    root: &Digest,
) -> Result<(), MerkleError> {
    let expected = inclusion_proof_length(index, size)?;
    if path.len() != expected {
        return Err(MerkleError::WrongProofLength {
            got: path.len(),
            expected,
        });
    }
    // RFC 9162 §2.1.3.2, steps 2 to 5.
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s_n == 0 {
            return Err(MerkleError::WrongProofLength {
                got: path.len(),
                expected,
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(MerkleError::WrongProofLength {
            got: path.len(),
            expected,
        });
    }
    if r != *root {
        return Err(MerkleError::RootMismatch {
            computed: r,
            expected: *root,
        });
    }
    Ok(())
}

/// Checks that `path` proves the tree of `new_size` with root `new_root` extends the tree of
/// `old_size` with root `old_root` (RFC 9162 §2.1.4.2). Equal sizes need the empty proof and
/// equal roots; an old size of 0 is refused ([`MerkleError::EmptyOldTree`]).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Digest,
    new_root: &Digest,
    path: &[Digest],
) -> Result<(), MerkleError> {
    let expected = consistency_proof_length(old_size, new_size)?;
    if path.len() != expected {
        return Err(MerkleError::WrongProofLength {
            got: path.len(),
            expected,
        });
    }
    if old_size == new_size {
        if old_root != new_root {
            return Err(MerkleError::NewRootMismatch {
                computed: *old_root,
                expected: *new_root,
            });
        }
        return Ok(());
    }
    // RFC 9162 §2.1.4.2: step 2, the old root leads a proof from a power of two.
    let mut hashes = path.iter();
    let seed = if old_size.is_power_of_two() {
        *old_root
    } else {
        match hashes.next() {
            Some(first) => *first,
            None => {
                return Err(MerkleError::WrongProofLength {
                    got: path.len(),
                    expected,
                })
            }
        }
    };
    // Steps 3 to 7.
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (seed, seed);
    for c in hashes {
        if s_n == 0 {
            return Err(MerkleError::WrongProofLength {
                got: path.len(),
                expected,
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(MerkleError::WrongProofLength {
            got: path.len(),
            expected,
        });
    }
    if f_r != *old_root {
        return Err(MerkleError::OldRootMismatch {
            computed: f_r,
            expected: *old_root,
        });
    }
    if s_r != *new_root {
        return Err(MerkleError::NewRootMismatch {
            computed: s_r,
            expected: *new_root,
        });
    }
    Ok(())
}
