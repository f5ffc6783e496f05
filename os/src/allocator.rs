//! The one mimalloc option the node sets, through mimalloc's C API (the `mimalloc` crate wraps
//! only the allocator; its `extended` feature would add a dependency for two declarations).
//! The symbols come from the static mimalloc that libmimalloc-sys links into every binary whose
//! global allocator is `mimalloc::MiMalloc` (both of ours); a binary without it does not link.

use std::os::raw::{c_int, c_long};

/// `mi_option_purge_delay` in `mi_option_t` of mimalloc.h: 15 in both v2 (2.3.2) and v3
/// (3.3.2), the two versions libmimalloc-sys 0.1.49 can build.
const MI_OPTION_PURGE_DELAY: c_int = 15;
/// The mimalloc major versions whose header was checked for that index (mimalloc keeps an
/// option's number across releases: retired options stay as `mi_option_deprecated_*`).
const MI_MAJOR_VERSIONS_CHECKED: [c_int; 2] = [2, 3];
/// `mi_version()` is major × 10,000 + minor × 100 + patch (`MI_MALLOC_VERSION`).
const MI_VERSION_MAJOR_UNIT: c_int = 10_000;
/// The environment variable mimalloc reads the option from at process start.
const PURGE_DELAY_ENV: &str = "MIMALLOC_PURGE_DELAY";

extern "C" {
    fn mi_version() -> c_int;
    fn mi_option_set(option: c_int, value: c_long);
}

/// Sets mimalloc's purge delay to `milliseconds`, unless the environment sets it (mimalloc
/// has then read it) or mimalloc is of a version whose option numbers were not checked.
/// Call first in `main`, before any thread exists.
pub fn set_purge_delay(milliseconds: c_long) {
    if std::env::var_os(PURGE_DELAY_ENV).is_some() {
        return;
    }
    // SAFETY: both functions are part of the static mimalloc that libmimalloc-sys links
    // (the global allocator), with these C signatures (`int mi_version(void)`, `void
    // mi_option_set(mi_option_t, long)`; `mi_option_t` is a C enum, an `int`).
    // `mi_version` only returns a constant. `mi_option_set` stores the value in mimalloc's
    // option table, ignoring an index outside it; the index is the purge delay's for the
    // versions checked, and any other version is left alone. The purge delay is read
    // whenever mimalloc frees pages (`mi_option_get`, not cached at start), so a value set
    // now applies from now on. The store is not atomic (mimalloc: "not thread safe"): the
    // caller runs it as the first statement of `main`, before any thread exists, so no other
    // thread can read the option while it is written.
    #[allow(unsafe_code)]
    unsafe {
        if MI_MAJOR_VERSIONS_CHECKED.contains(&(mi_version() / MI_VERSION_MAJOR_UNIT)) {
            mi_option_set(MI_OPTION_PURGE_DELAY, milliseconds);
        }
    }
}
