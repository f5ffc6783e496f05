//! The aidledger store: every organisation's chain in sled, with an id index, the heads, the
//! equivocation proofs and a little metadata; and the node's data directory ([`datadir`]).
//!
//! A crate of its own so that what reads a stopped node's directory (the CLI) links the store
//! and not the daemon, and so that the store imports nothing from its users: an index that
//! must be written in the same transaction as the chains (the node's explorer) hooks into
//! appends, revocations and rebuilds through [`AppendIndex`], which the store defines.
//!
//! Two handles: [`StoreReader`] reads (what the explorer, the public API and the CLI get; it
//! has no method that writes) and [`Store`] writes (the node's writer thread, its ingest and
//! its governance), reading too through the reader it dereferences to.
//!
//! Trees and their keys (all integers big endian, so that sled's byte order is chain order):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `records` | author length (u8), author bytes, seq (u64) | the record's wire bytes, or its withheld envelope once a redaction order covers it (`store::redaction`) |
//! | `index` | record id (32 bytes) | the `records` key |
//! | `heads` | author bytes | seq (u64 little endian), record id (32 bytes) |
//! | `proofs` | `records` key, first id, second id | the encoded `EquivocationProof` |
//! | `pending` | `records` key, record id | wire bytes of a verified record waiting for its predecessor |
//! | `meta` | name | `network_id` (32 bytes), `record_count` (u64 little endian), `store_format` (u32 little endian); `index_behind` ‖ `0x00` ‖ author: the first seq of a chain its index does not cover yet (u64 little endian; `store::follow`) |
//! | the index's (the node's: `explorer`) | the [`AppendIndex`]'s own | e.g. the explorer's totals and reverse references (`node/src/explorer/index/`) |
//! | `governance` | `records` key | empty: the chain records that are governance records (kinds 5–7) |
//! | `orders` | `records` key | empty: the chain records that are redaction orders (kind 9) |
//! | `redacted` | `records` key, record id | the order that covers that record ([`RedactionMark`]); `meta` `compaction_due` until the next open compacts sled (`store::compact`); `meta` `index_generation` names the index's tree in force (a redaction starts the index again in a fresh one) |
//! | `revoked` | `records` key, record id | the revocation note (the typed `Rejection`, or a migrated format 1 note), then the wire bytes |
//! | `revoked_index` | record id (32 bytes) | the `revoked` key |
//! | `merkle` | author (short string), level (u8, 4 or more), index (u64) | the hash of that complete subtree of the author's Merkle tree (32 bytes); below level 4 hashed from the records |
//! | `merkle` | author, `ff` | the chain's tree head: the head the tree was last written to |
//! | `merkle_rewinds` | author, epoch (u64) | a revocation's rewind of the tree: from_seq, old size, old root, governance record |
//! | `merkle_rewound` | author, epoch, level, index | a node that rewind replaced, or (level 0) a revoked record's leaf (32 bytes) |
//! | `checkpoints` | author bytes | the latest cosigned checkpoint note collected for that chain (UTF-8 text) |
//! | `split_views` | SHA-256 of the proof's bytes | a split-view proof (FORMAT.md §25.1) |
//!
//! An append refuses a record that does not extend its author's head, and moves the heads in
//! one sled transaction with `meta`, `governance`, `merkle` and the tree of the store's [`AppendIndex`]. The records of chains that
//! already have a head, and their `index` entries, are written just before that transaction
//! (one insert each, after the head check, under the store's chain-writer lock, so that
//! nothing at or below a head is ever overwritten): inside it, sled reads every key before it
//! writes it, and these two are most of the keys an import writes (BENCHMARKS.md). A record
//! above its chain's head is not part of the store: every read of the chains (by id, by
//! position, by range, whole-store scans) stops at the heads; if the transaction fails, the
//! append removes what it wrote ahead; after a crash between the two, [`Store::open_with_lock`]
//! removes every record above a head. If what was written ahead cannot be removed (sled
//! failed, or a writer panicked while holding the lock), the store moves no head until it is
//! opened again ([`StoreError::StoppedUntilReopen`]).
//!
//! A read takes a record, then its head; a record at or below its head changes only when
//! positions are freed (a revocation, or a failed append's removal), and the store counts
//! those: a read by id or position that saw the count change reads again, and a scan starts
//! again where it stands, or ends with [`StoreError::ChainChanged`] if the record it returned
//! last was moved out (`store::scan`).
//!
//! [`Store::revoke_from`] is the only way records leave a chain: when the network's governance
//! revokes a key or removes a member from a position on, the records from there on move in one
//! transaction to `revoked` (kept as evidence, still readable by id with [`StoreReader::get`]; see
//! [`StoreReader::revocation`]) and the head goes back, so that the organisation can continue its
//! chain at that position. Appends are not durable until
//! [`Store::make_durable`] (see `node/DURABILITY.md`); the node's writer calls it once per group.
//!
//! `pending` holds records received from peers ahead of a gap in their chain, at most
//! [`PENDING_RECORDS_MAX`] records and [`PENDING_SIZE_BYTES_MAX`] bytes; they are not part of
//! any chain (nor of `record_count`, exports or heads) until the gap is filled.

pub mod datadir;
mod durable;
pub mod export;
pub mod index;
pub mod limits;

mod append;
mod bundle;
mod compact;
mod error;
mod follow;
mod format;
mod keys;
mod merkle;
mod merkle_keys;
mod open;
mod pending;
mod proofs;
mod reader;
mod recovery;
mod redaction;
mod revocation;
mod scan;
mod witnessed;
mod writer;

pub use datadir::{DirLock, Endpoints};
pub use error::{AppendError, StoreError};
pub use follow::IndexBehind;
pub use index::{AppendIndex, GroupIndexer, IndexTree, IndexTrees, IndexedRecord};
pub use keys::chain_key;
pub use limits::{
    PENDING_RECORDS_MAX, PENDING_SIZE_BYTES_MAX, SPLIT_VIEWS_MAX, SPLIT_VIEW_BYTES_MAX,
    STORE_CACHE_BYTES, STORE_CACHE_BYTES_MAX, STORE_CACHE_BYTES_MIN, TAIL_CHECK_RECORDS,
};
pub use merkle_keys::MerkleRewind;
pub use open::{OpenError, OpenMode};
pub use reader::{Head, StoreReader, StoredRecord};
pub use recovery::{DiscardedTail, StartState};
pub use redaction::{Redacted, RedactedInChain, RedactionMark};
pub use revocation::RevokedRecord;
pub use writer::Store;
