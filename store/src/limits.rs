//! The store's bounds, each a named constant (the node's own are in `node/src/limits.rs`,
//! which re-exports these so that it stays the whole list).

use std::time::Duration;

/// sled's page cache unless the node is told otherwise (`aidledger-node --store-cache-mib`): the
/// bound on the store's memory, whatever the number of records (sled's default is 1 GiB; a node
/// syncing a million records stays within this instead). sled counts its pages serialized; in
/// the heap they take about 1.4 times this (BENCHMARKS.md, issue 22).
pub const STORE_CACHE_BYTES: u64 = 256 * 1024 * 1024;
/// The smallest cache a node may be given. With 16 MiB a fresh node synced 1,000,000 records at
/// a peak of 246–264 MiB, 10–15 % slower than with the default, and its explorer index caught
/// up ~20 % slower after a sync (BENCHMARKS.md, issue 22). Smaller was not measured.
pub const STORE_CACHE_BYTES_MIN: u64 = 16 * 1024 * 1024;
/// The largest cache a node may be given: more than any store of this project has needed.
pub const STORE_CACHE_BYTES_MAX: u64 = 64 * 1024 * 1024 * 1024;
/// Most records waiting for a predecessor; more are dropped (range sync fetches them later).
pub const PENDING_RECORDS_MAX: u64 = 10_000;
/// Most bytes of records waiting for a predecessor.
pub const PENDING_SIZE_BYTES_MAX: u64 = 256 * 1024 * 1024;
/// How far below each head the tail is checked after an unclean start. What can be in flight
/// (appended but not yet fsynced) when the machine stops is bounded by the node writer's
/// queues: the group being appended, `APPEND_QUEUE_GROUPS_MAX` (2) signed groups and the sync
/// thread's batch of `SYNC_QUEUE_GROUPS_MAX` + 1 (5) groups, each of at most
/// `GROUP_RECORDS_MAX` (256) records: 2,048. Twice that, for ingests from peers.
pub const TAIL_CHECK_RECORDS: u64 = 4096;
/// Records indexed per transaction when an [`crate::AppendIndex`] is rebuilt from the chains:
/// as many as the node's writer appends in one group (its `GROUP_RECORDS_MAX`, which the
/// node checks at compile time), so that a rebuilt index is grouped like a written one.
pub const INDEX_REBUILD_GROUP_RECORDS: usize = 256;
/// How long an open waits for sled's own file lock. sled releases it only when the last of its
/// background tasks lets go of the database, which can be a moment after the store that held
/// it was dropped (a store reopened in the same process: the CLI, the tests). The caller
/// holds the data directory's lock, so a sled lock still held is a closing store's.
pub const SLED_LOCK_WAIT: Duration = Duration::from_secs(5);
/// Pause between two tries to take sled's file lock.
pub const SLED_LOCK_RETRY: Duration = Duration::from_millis(10);
/// Levels of a chain's Merkle tree that are not stored: a subtree of fewer than 2^this leaves
/// (a block of 16 records) is hashed from its records' ids when a proof needs it (one range
/// read), so an append writes one node for every 8 records instead of two a record (which
/// cost 40% of the append throughput; BENCHMARKS.md, issue 21).
pub const MERKLE_BLOCK_LEVELS: u8 = 4;
/// Merkle nodes written per batch when a chain's tree is built at open (a store made before
/// the tree existed): about 64 KiB of keys and hashes a batch, 8,192 records.
pub const MERKLE_BUILD_BATCH_NODES: usize = 1024;
/// Most bytes of a stored split-view proof (FORMAT.md §25.1): its two notes of at most
/// `NOTE_BYTES_MAX` bytes each with their counts, the evidence's tag, prefix root, sizes and
/// at most `MERKLE_PROOF_HASHES_MAX` hashes with their count.
pub const SPLIT_VIEW_BYTES_MAX: usize = 2 * (8 + aidledger_spec::limits::NOTE_BYTES_MAX)
    + 4
    + 32
    + 3 * 8
    + 32 * aidledger_spec::limits::MERKLE_PROOF_HASHES_MAX;
/// Records one transaction of a redaction withholds (`Store::redact`): each is a read and a
/// rewrite of a record and a mark, so a group holds the lock of appends for a few
/// milliseconds; an order of 10,000 records is 40 groups, with appends between them.
pub const REDACT_GROUP_RECORDS: usize = 256;
/// Entries per batch when a compaction copies a tree into a fresh database (`store::compact`).
pub const COMPACT_BATCH_ENTRIES: usize = 4096;
/// Most split-view proofs a store keeps: one already shows that an organisation signed two
/// histories; this many leave room for every organisation of a network to be shown several
/// times, while an organisation that signs forks without end cannot fill the disk.
pub const SPLIT_VIEWS_MAX: u64 = 1024;
