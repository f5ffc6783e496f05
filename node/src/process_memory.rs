//! How the node's process uses memory: mimalloc's purge delay and transparent huge pages off.
//! The daemon applies it first in `main`; the benches that serve the node's pages or take its
//! appends in their own process (`benches/explorer.rs`, `benches/durable_append.rs`) apply it
//! too, so that they measure the node as it runs. Both need mimalloc as the global allocator
//! (the purge delay is mimalloc's option; the binary that calls [`configure`] must link it).

/// mimalloc's purge delay in milliseconds, unless `MIMALLOC_PURGE_DELAY` is set: how long pages
/// that became free stay resident before they go back to the OS. mimalloc v3 (libmimalloc-sys
/// 0.1.49 builds 3.3.2) waits 1,000 ms by default; sled frees and allocates at such a rate (a
/// node version per write, its page cache evicting) that what was freed in the last second
/// stayed resident: ~85 MiB of a fresh node's peak (~800 → ~715 MiB) while it synced 1,000,000
/// records. 10 ms is v2's default: it returned as much as 0 did, 100 ms hardly any; 0 (a
/// `madvise` at every free of a span) made that sync much slower, 10 ms ~10 % slower in
/// neighbouring runs on a busy machine (BENCHMARKS.md, "Memory under mimalloc", has the runs;
/// `MIMALLOC_PURGE_DELAY=1000` restores mimalloc's default).
pub const MIMALLOC_PURGE_DELAY_MS: std::os::raw::c_long = 10;

/// mimalloc's own switch for transparent huge pages; when it is set, the node leaves the
/// process's THP setting to it (`MIMALLOC_ALLOW_THP=1` keeps them).
pub const MIMALLOC_ALLOW_THP_ENV: &str = "MIMALLOC_ALLOW_THP";

/// Turns transparent huge pages off for this process (`PR_SET_THP_DISABLE`), unless
/// [`MIMALLOC_ALLOW_THP_ENV`] is set. With the kernel's THP in `madvise` mode mimalloc's
/// memory was backed by 2 MiB pages that stayed resident whole while sled's small nodes were
/// freed and allocated all over them: a fresh node syncing 200,000 records peaked at 408 MiB
/// with them and 289 MiB without, 1,000,000 records 851 against 745 MiB, the sync's time
/// within a loaded machine's noise (BENCHMARKS.md, issue 22, "Where the fresh node's memory
/// goes"). The flag applies to every later page fault of the process; mimalloc's option
/// `allow_thp=0` sets the same flag, but only when read from the environment before `main`.
pub fn disable_transparent_huge_pages() {
    if std::env::var_os(MIMALLOC_ALLOW_THP_ENV).is_some() {
        return;
    }
    if let Err(error) = rustix::thread::disable_transparent_huge_pages(true) {
        crate::log_line!("aidledger-node: cannot turn transparent huge pages off: {error}");
    }
}

/// Applies both settings. Only first in `main`, before any thread exists: mimalloc's option
/// table is written without synchronisation (`aidledger_os::allocator::set_purge_delay`), so a
/// call while other threads allocate is a data race in mimalloc.
pub fn configure() {
    aidledger_os::allocator::set_purge_delay(MIMALLOC_PURGE_DELAY_MS);
    disable_transparent_huge_pages();
}
