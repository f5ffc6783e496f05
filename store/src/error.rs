//! The store's errors: [`StoreError`] for any read or write of an open store, [`AppendError`]
//! for an append refused. (Opening has its own, `OpenError`.)

use aidledger_spec::{NetworkId, RecordId};

/// A failure while reading or writing an open store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// sled failed (I/O, or a checksum it found wrong).
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// An fsync or directory listing failed.
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Bytes in the store are not what this module writes.
    #[error("the store is corrupt: {0}")]
    Corrupt(String),
    /// Making the store durable stopped short for a reason that loses nothing (a file or
    /// directory could not be opened or listed: no descriptor left); no fsync failed, and a
    /// later `make_durable` covers what this one did not.
    #[error("the store could not be made durable yet ({0}); nothing was lost")]
    NotYetDurable(String),
    /// A writer of the chains (an append or a revocation) failed partway or panicked, and
    /// records written ahead of their heads may be left: the store moves no head until it is
    /// opened again, which removes them (see the module doc).
    #[error(
        "a write to the chains failed partway and may have left records above their chains' \
         heads; the store takes no more appends or revocations until the node restarts, \
         which removes them"
    )]
    StoppedUntilReopen,
    /// A value given to be stored is over its bound.
    #[error("{what} of {bytes} bytes is over the store's bound of {max} bytes")]
    TooLarge {
        /// What was given.
        what: &'static str,
        /// Its size.
        bytes: usize,
        /// The bound.
        max: usize,
    },
    /// The store already holds as many of these as it keeps.
    #[error("the store already holds {max} {what}, as many as it keeps")]
    TooMany {
        /// What is full.
        what: &'static str,
        /// The bound.
        max: u64,
    },
    /// A Merkle root or proof asked of sizes or an index that have none (FORMAT.md §22).
    #[error(transparent)]
    Merkle(#[from] aidledger_spec::merkle::MerkleError),
    /// A scan found that a chain it was reading changed under it: a revocation rewound the
    /// chain at or below the record it returned last, so what it would return next might not
    /// link to what it returned.
    #[error(
        "{author}'s chain changed at seq {seq} while it was being read (a revocation rewound \
         it); read it again"
    )]
    ChainChanged {
        /// The chain.
        author: String,
        /// The seq of the record the scan returned last.
        seq: u64,
    },
}

/// Why an append was refused: no record of the group is in a chain (what it wrote ahead of its
/// heads was removed, or is removed at the next open: see [`StoreError::StoppedUntilReopen`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    /// The record belongs to another network.
    #[error("record {id} belongs to network {found}, not to this store's network")]
    WrongNetwork {
        /// The record.
        id: RecordId,
        /// Its network.
        found: NetworkId,
    },
    /// The author id cannot be a key (longer than 255 bytes).
    #[error("author id of record {id} is too long to store")]
    AuthorTooLong {
        /// The record.
        id: RecordId,
    },
    /// The record's seq is not the head's seq + 1 (or 0 for an empty chain).
    #[error("record {id} of {author} has seq {seq}, but the chain's next seq is {expected_seq}")]
    NotNext {
        /// The record.
        id: RecordId,
        /// Its author.
        author: String,
        /// Its seq.
        seq: u64,
        /// The seq that would extend the chain.
        expected_seq: u64,
    },
    /// The record's prev is not the head's id (or not zero for seq 0).
    #[error(
        "the record of {author} at seq {seq} names predecessor {found}, but the head is {expected}"
    )]
    WrongPredecessor {
        /// Its author.
        author: String,
        /// Its seq.
        seq: u64,
        /// The head's id (zero for an empty chain).
        expected: RecordId,
        /// The predecessor the record names.
        found: RecordId,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
