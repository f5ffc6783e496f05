//! The aidledger node as a library: the sled store of signed chains, the single writer with
//! group commit, and the submit and public HTTP APIs; `main.rs` is a thin binary over it.
//!
//! Readers of a stopped node's directory (the CLI) use [`Store::open`]; a running node is
//! reached through [`datadir::Endpoints`] and [`datadir::read_token`].

pub mod api;
pub mod datadir;
mod durable;
pub mod explorer;
pub mod export;
pub mod governance;
pub mod http;
pub mod limits;
pub mod network;
pub mod node;
pub mod policy;
pub mod pool;
pub mod public;
pub mod signing_gate;
pub mod store;
pub mod submit;
pub mod view;
pub mod writer;

pub use datadir::{DirLock, Endpoints};
pub use node::{
    start, start_with_network, NetworkOptions, NodeConfig, RunningNode, ShutdownError, StartError,
};
pub use store::{
    AppendError, Head, OpenError, OpenMode, RevokedRecord, Store, StoreError, StoredRecord,
};
pub use view::RecordView;
