//! Child processes for the CLI's demo and for the test harnesses, so that each is written once:
//! [`ChildGuard`] owns a child and stops it when dropped (a failing demo or test leaves no node
//! behind), with a graceful stop (SIGTERM, then SIGKILL after a timeout) and [`stop_all`] for
//! several at once; [`wait_for`] and [`wait_until`] poll a condition until a deadline instead of
//! sleeping, always with the arguments in the order timeout, what is awaited, the probe.
//!
//! A crate of its own because its users are on both sides of the workspace: the `aidledger`
//! binary (the demo), the end-to-end harness (`tests/`) and the node's own integration tests,
//! none of which may depend on the others.

mod guard;
mod wait;

pub use guard::{stop_all, ChildGuard, Signal};
pub use wait::{wait_for, wait_for_polling, wait_until, TimedOut, POLL_PAUSE_MAX};
