//! The aidledger node as a library: the sled store of signed chains, the single writer with
//! group commit, and the submit and public HTTP APIs; `main.rs` is a thin binary over it.
//!
//! The store and the data directory are the `aidledger_store` crate; the node opens its
//! store with the explorer's index ([`ExplorerIndex`]). A running node is reached through
//! `aidledger_store::datadir::{Endpoints, read_token}`.

pub mod api;
pub mod checkpoints;
pub mod explorer;
pub mod export;
pub mod governance;
pub mod http;
pub mod limits;
pub mod network;
pub mod node;
pub mod policy;
pub mod pool;
pub mod process_memory;
pub mod proofs;
pub mod public;
pub mod redactor;
pub mod signing_gate;
pub mod stderr_log;
pub mod submit;
pub mod view;
pub mod witnessed;
pub mod writer;

pub use explorer::hook::ExplorerIndex;
pub use node::{
    start, start_with_network, NetworkOptions, NodeConfig, RunningNode, ShutdownError, StartError,
};
pub use view::RecordView;
