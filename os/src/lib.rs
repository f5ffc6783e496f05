//! The operating-system and allocator calls that neither `std` nor `rustix` wraps safely, each
//! behind a safe function with its SAFETY argument. This is the workspace's only unsafe code:
//! every other crate forbids it (`[workspace.lints]`), and the tidy test
//! (tests/tests/tidy.rs) checks that `unsafe` appears nowhere else outside tests.
//!
//! - [`allocator::set_purge_delay`]: mimalloc's purge delay (the node's memory, issue 17).
//! - [`end_quietly_on_closed_pipe`]: SIGPIPE back to its default for a command-line tool.
//! - [`peak_child_rss_kib`]: the largest resident set of any waited-for child (benchmarks).
//! - [`measure::LargestAllocation`]: a global allocator for tests that shows a hostile length
//!   prefix was refused before any buffer of that length was allocated.

pub mod allocator;
pub mod measure;

/// Rust ignores SIGPIPE, so a write to a closed pipe (`aidledger status --json | head -1`)
/// fails and `println!` panics with "Broken pipe". A command-line tool should end quietly
/// instead, as `cat` does: the default action of SIGPIPE ends the process without a message.
/// Call first in `main`, before any thread exists.
pub fn end_quietly_on_closed_pipe() {
    // SAFETY: `signal` with SIG_DFL installs no handler and touches no Rust state; the caller
    // runs it first in `main`, before any thread is started.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The largest resident set of any child process waited for so far, in KiB (Linux's unit for
/// `ru_maxrss`); `None` if `getrusage` fails.
pub fn peak_child_rss_kib() -> Option<u64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a `rusage` into the zeroed struct we own and reads nothing else;
    // RUSAGE_CHILDREN is a valid `who`. We read the struct only if it reports success.
    #[allow(unsafe_code)]
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    u64::try_from(usage.ru_maxrss).ok()
}
