//! The aidledger store: every organisation's chain in sled, and the node's data directory.
//!
//! A crate of its own so that what reads a stopped node's directory (the CLI) links the store
//! and not the daemon, and so that the store imports nothing from its users: an index that
//! must be written in the same transaction as the chains (the node's explorer) hooks into
//! appends, revocations and rebuilds through [`AppendIndex`], which the store defines.

#![forbid(unsafe_code)]

pub mod datadir;
mod durable;
pub mod export;
pub mod index;
pub mod limits;
pub mod store;

pub use datadir::{DirLock, Endpoints};
pub use index::{AppendIndex, GroupIndexer, IndexTrees, IndexedRecord};
pub use store::{
    chain_key, AppendError, DiscardedTail, Head, OpenError, OpenMode, RevokedRecord, StartState,
    Store, StoreError, StoredRecord,
};
