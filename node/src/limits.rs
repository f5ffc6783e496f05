//! Every bound of the node's resources, in one place (TigerBeetle's rule: every queue, pool
//! and connection count has a static, named limit). Limits that belong to one module's logic
//! are defined there and re-exported here, so this file is the whole list; [`summary`] is what
//! `GET /v1/status` shows under `"limits"`.
//!
//! What happens beyond each limit is in the README's operator section: connections over a
//! cap are closed at once, exports over the cap and submissions the node cannot make durable
//! yet are answered 503 with `Retry-After`, and queues that overflow drop what range sync
//! repairs.

use std::io;
use std::sync::OnceLock;

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use serde::Serialize;
use serde_json::{json, Value};

pub use crate::explorer::cache::{EXPLORER_CACHE_BYTES_MAX, EXPLORER_CACHE_ENTRY_BYTES_MAX};
pub use crate::export::{EXPORT_CHANNEL_CHUNKS_MAX, EXPORT_CHUNK_BYTES};
pub use crate::network::behaviour::{
    GOSSIP_SIZE_BYTES_MAX, IDLE_CONNECTION_TIMEOUT_MS as P2P_IDLE_CONNECTION_TIMEOUT_MS,
    SYNC_STREAMS_MAX,
};
pub use crate::public::{PAGE_LIMIT_MAX, PAGE_SIZE_BYTES_MAX};
pub use crate::submit::{BATCH_RECORDS_MAX, BATCH_SIZE_BYTES_MAX, INLINE_CHECK_BODY_BYTES_MAX};
pub use crate::writer::{
    COMMITTED_QUEUE_RECORDS_MAX, GROUP_RECORDS_MAX, GROUP_SIZE_BYTES_MAX,
    SUBMIT_QUEUE_REQUESTS_MAX, SYNC_QUEUE_GROUPS_MAX,
};
pub use aidledger_store::limits::{
    INDEX_REBUILD_GROUP_RECORDS, MERKLE_BLOCK_LEVELS, MERKLE_BUILD_BATCH_NODES,
    PENDING_RECORDS_MAX, PENDING_SIZE_BYTES_MAX, SLED_LOCK_RETRY, SLED_LOCK_WAIT, SPLIT_VIEWS_MAX,
    SPLIT_VIEW_BYTES_MAX, STORE_CACHE_BYTES, STORE_CACHE_BYTES_MAX, STORE_CACHE_BYTES_MIN,
    TAIL_CHECK_RECORDS,
};

/// Most records one append group writes with their explorer index entries in its own
/// transaction; a larger group (a range sync of a chain that is behind, a batch submission, a
/// burst of many clients) is appended without them and indexed by the index follower
/// (`explorer::follower`, `store::follow`): indexing a statement costs several times its
/// append (BENCHMARKS.md, issue 22). One client's records and gossip's batches stay below it.
pub const INDEX_INLINE_GROUP_RECORDS_MAX: usize = 64;
/// Most records the index follower indexes in one transaction, which holds the store's append
/// lock: about 25-50 ms of a writer's wait for statements, less for most other kinds.
pub const INDEX_FOLLOW_CHUNK_RECORDS: u64 = 256;
/// How often the index follower looks whether the index is behind and the chains are quiet.
pub const INDEX_FOLLOW_POLL_MS: u64 = 50;
/// Longest the index follower waits for quiet chains (no record appended between two of its
/// looks) before it indexes one chunk anyway, so that a steady stream of appends cannot keep
/// the index behind for ever.
pub const INDEX_FOLLOW_WAIT_MS_MAX: u64 = 1_000;

/// Most records (transactions and their corrections) the explorer reads to say the money
/// statuses of one page: an activity's links and findings, or a transaction's link. The
/// statuses come from the money model over every record a link depends on, so a page over
/// more says it did not compute them and points to `aidledger reconcile`, which reads every
/// record; it never shows statuses of a part.
pub const MONEY_PAGE_RECORDS_MAX: usize = 20_000;
/// Most records listed under a transaction's activity for its record page to compute an
/// activity link's status (an explicit link is always computed: a few point reads). Over it
/// the record page points to the activity page, which computes every link of the activity
/// (up to [`MONEY_PAGE_RECORDS_MAX`]): record pages are the most read and stay a few reads
/// (reading 250 records for each made them 100 times slower; BENCHMARKS.md).
pub const RECORD_PAGE_LINK_RECORDS_MAX: usize = 100;
/// Most open connections of the public listener (explorer and `/api`). Each costs a file
/// descriptor and a task; one more is closed as soon as it is accepted.
pub const PUBLIC_CONNECTIONS_MAX: usize = 256;
/// Most open connections of the submit API (loopback, one organisation's tools).
pub const SUBMIT_CONNECTIONS_MAX: usize = 64;
/// How long a connection may take to send a request's head, counted from when the node
/// starts waiting for it: after the accept, and after each answer on a kept-alive
/// connection, so this is also how long an idle keep-alive connection stays open.
pub const HTTP_REQUEST_HEAD_TIMEOUT_MS: u64 = 10_000;
/// How long a connection may move no byte in either direction while the node waits to read
/// from it (a request body that stops coming, a client gone quiet).
pub const HTTP_IDLE_TIMEOUT_MS: u64 = 60_000;
/// How long one write to a client may wait for it to read (its socket buffer full): a client
/// that stops reading an export or a page is dropped after this.
pub const HTTP_WRITE_TIMEOUT_MS: u64 = 10_000;
/// Pause after a failed `accept` (no descriptor left: a tight retry loop would only spin).
pub const HTTP_ACCEPT_RETRY_MS: u64 = 100;
/// Most `/api/export` streams at once; one more is answered 503 with `Retry-After`. Each
/// holds a blocking thread while it reads the store.
pub const EXPORTS_MAX: usize = 16;
/// The `Retry-After` of every 503 that asks to come back (exports over the cap, a store that
/// could not be made durable yet, a full queue).
pub const RETRY_AFTER_SECONDS: u64 = 1;
/// Threads of the submit API's own blocking pool (policy checks, status reads), apart from
/// tokio's pool that public reads and exports use, so those can never starve submissions.
pub const SUBMIT_POOL_THREADS: usize = 2;
/// Most jobs waiting for the submit pool: one per submit connection, so a job is refused
/// only if something other than a request holds the pool.
pub const SUBMIT_POOL_QUEUE_MAX: usize = SUBMIT_CONNECTIONS_MAX;
/// Threads of tokio's blocking pool (public reads, exports, network verification and store
/// reads). Public reads are at most one per public connection, exports at most
/// [`EXPORTS_MAX`], so public traffic leaves room for the network's work.
pub const BLOCKING_THREADS_MAX: usize = 512;
/// libp2p connections still in their handshake (TCP accepted, noise or multistream not
/// done), incoming and outgoing each; more are closed at once.
pub const P2P_PENDING_INCOMING_MAX: u32 = 32;
/// See [`P2P_PENDING_INCOMING_MAX`].
pub const P2P_PENDING_OUTGOING_MAX: u32 = 32;
/// Established libp2p connections with one peer (two nodes that dial each other at once
/// hold two for a moment).
pub const P2P_ESTABLISHED_PER_PEER_MAX: u32 = 4;
/// Established libp2p connections in all (member nodes; a network has a few dozen).
pub const P2P_ESTABLISHED_MAX: u32 = 128;
/// How long the writer keeps retrying to make the store durable when that failed for a
/// reason that loses nothing (no file descriptor left, a directory listing failed) before it
/// answers the waiting submissions 503; the next group's sync covers their records.
pub const DURABLE_RETRY_MS_MAX: u64 = 5_000;
/// Pause between two such retries.
pub const DURABLE_RETRY_DELAY_MS: u64 = 50;
/// Free space the data directory's filesystem must keep: below it the writer refuses new
/// records (507, with the free and needed bytes) instead of appending. sled 0.34 does not
/// recover from a full disk (a flush after ENOSPC can wait forever, issue 17's reliability
/// bench), so the store must never meet it: twice the largest group (`GROUP_SIZE_BYTES_MAX`,
/// 64 MiB), which sled's log may write once and copy once when it compacts.
pub const DISK_FREE_BYTES_MIN: u64 = 2 * crate::writer::GROUP_SIZE_BYTES_MAX as u64;
/// File descriptors kept for the store (sled's files, blob files being synced), the listeners
/// and the runtime, on top of the connection caps.
pub const OPEN_FILES_RESERVE: u64 = 256;

// A rebuilt explorer index is grouped like one the writer wrote (explorer/index.rs: one
// activity listing per group) only if the store rebuilds it in groups of the writer's size.
const _: () = assert!(INDEX_REBUILD_GROUP_RECORDS == GROUP_RECORDS_MAX);

/// Descriptors the node needs at its caps: every connection cap plus the reserve. A soft
/// limit below this is reported (`open_files.sufficient: false`) and warned about at start.
pub const fn open_files_needed() -> u64 {
    (PUBLIC_CONNECTIONS_MAX + SUBMIT_CONNECTIONS_MAX) as u64
        + (P2P_PENDING_INCOMING_MAX + P2P_PENDING_OUTGOING_MAX + P2P_ESTABLISHED_MAX) as u64
        + OPEN_FILES_RESERVE
}

/// The process's open-files limit (`RLIMIT_NOFILE`) as the node found and left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OpenFiles {
    /// The soft limit at start.
    pub soft_at_start: u64,
    /// The soft limit now (the hard limit, if raising it worked).
    pub soft: u64,
    /// The hard limit.
    pub hard: u64,
    /// What the node needs at its caps ([`open_files_needed`]).
    pub needed: u64,
}

static OPEN_FILES: OnceLock<OpenFiles> = OnceLock::new();

/// Raises the soft open-files limit to the hard one, once per process, and remembers both
/// for the status. A soft limit of 1,024 (the usual default) is what let a few hundred idle
/// connections exhaust the descriptors the store's sync needs (issue 17).
pub fn raise_open_files_limit() -> io::Result<OpenFiles> {
    if let Some(done) = OPEN_FILES.get() {
        return Ok(*done);
    }
    let limit = getrlimit(Resource::Nofile);
    // Linux always has both bounds; `None` (unlimited) counts as the largest value.
    let bound = |value: Option<u64>| value.unwrap_or(u64::MAX);
    let (soft_at_start, hard) = (bound(limit.current), bound(limit.maximum));
    let mut soft = soft_at_start;
    if soft < hard {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        // Raising the soft limit up to the hard one needs no privilege.
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => soft = hard,
            Err(error) => crate::log_line!(
                "aidledger-node: cannot raise the open-files limit from {soft_at_start} to {hard}: {error}"
            ),
        }
    }
    let found = OpenFiles {
        soft_at_start,
        soft,
        hard,
        needed: open_files_needed(),
    };
    if found.soft < found.needed {
        crate::log_line!(
            "aidledger-node: the open-files limit is {} (hard {}), below the {} the node needs \
             at its connection caps; raise it (ulimit -n, LimitNOFILE=)",
            found.soft,
            found.hard,
            found.needed
        );
    }
    Ok(*OPEN_FILES.get_or_init(|| found))
}

/// The open-files limit as raised at start, if it was read.
pub fn open_files() -> Option<OpenFiles> {
    OPEN_FILES.get().copied()
}

/// The limits for `GET /v1/status` (and `aidledger status`).
pub fn summary() -> Value {
    json!({
        "open_files": open_files().map(|limit| json!({
            "soft_at_start": limit.soft_at_start,
            "soft": limit.soft,
            "hard": limit.hard,
            "needed": limit.needed,
            "sufficient": limit.soft >= limit.needed,
        })),
        "public_connections_max": PUBLIC_CONNECTIONS_MAX,
        "submit_connections_max": SUBMIT_CONNECTIONS_MAX,
        "http_request_head_timeout_ms": HTTP_REQUEST_HEAD_TIMEOUT_MS,
        "http_idle_timeout_ms": HTTP_IDLE_TIMEOUT_MS,
        "http_write_timeout_ms": HTTP_WRITE_TIMEOUT_MS,
        "exports_max": EXPORTS_MAX,
        "submit_pool_threads": SUBMIT_POOL_THREADS,
        "submit_pool_queue_max": SUBMIT_POOL_QUEUE_MAX,
        "blocking_threads_max": BLOCKING_THREADS_MAX,
        "submit_queue_requests_max": SUBMIT_QUEUE_REQUESTS_MAX,
        "p2p_pending_incoming_max": P2P_PENDING_INCOMING_MAX,
        "p2p_pending_outgoing_max": P2P_PENDING_OUTGOING_MAX,
        "p2p_established_per_peer_max": P2P_ESTABLISHED_PER_PEER_MAX,
        "p2p_established_max": P2P_ESTABLISHED_MAX,
        "durable_retry_ms_max": DURABLE_RETRY_MS_MAX,
        "money_page_records_max": MONEY_PAGE_RECORDS_MAX,
        "record_page_link_records_max": RECORD_PAGE_LINK_RECORDS_MAX,
        "index_inline_group_records_max": INDEX_INLINE_GROUP_RECORDS_MAX,
        "index_follow_chunk_records": INDEX_FOLLOW_CHUNK_RECORDS,
        "explorer_cache_bytes_max": EXPLORER_CACHE_BYTES_MAX,
        "explorer_cache_entry_bytes_max": EXPLORER_CACHE_ENTRY_BYTES_MAX,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_caps_fit_in_the_usual_soft_limit() {
        // A node whose hard limit is the usual 1,024 must still run at its caps.
        assert!(open_files_needed() <= 1024, "{}", open_files_needed());
    }

    #[test]
    fn raising_the_limit_leaves_soft_at_most_hard() {
        let limit = raise_open_files_limit().expect("getrlimit works on Linux");
        assert!(limit.soft <= limit.hard);
        assert!(limit.soft >= limit.soft_at_start);
        assert_eq!(open_files(), Some(limit));
    }
}
