//! The node's status as `GET /api/status` on the public listener: peers, heads per author,
//! records behind the peers, forks, and whether the node takes records. The network task keeps
//! a snapshot; the handler adds what the store and the writer know.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

use crate::api::{self, ApiError};
use crate::witnessed::report;
use crate::writer::Writer;
use aidledger_store::Store;

/// A connected member node.
#[derive(Clone, Debug, Serialize)]
pub struct PeerStatus {
    /// Its libp2p peer id.
    pub peer_id: String,
    /// Its organisation (whose node keys, under the current governance state, list it).
    pub org: String,
    /// Its gossipsub score (negative after invalid messages).
    pub score: Option<f64>,
    /// Invalid records, proofs or sync responses it sent since this node started.
    pub rejected: u64,
    /// The heads it last reported: author → seq.
    pub heads: BTreeMap<String, u64>,
}

/// What the network task knows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NetworkStatus {
    /// This node's peer id.
    pub peer_id: String,
    /// Where it listens.
    pub listen: Vec<String>,
    /// Connected member nodes.
    pub peers: Vec<PeerStatus>,
    /// Connections refused because the peer is not a current member node (removed members'
    /// nodes included), or because a connection limit of `crate::limits` was reached.
    pub refused_connections: u64,
    /// Invalid messages received (all peers).
    pub rejected_messages: u64,
    /// Chains being fetched by range sync.
    pub syncing_chains: usize,
}

/// The snapshot shared between the network task and the status handler.
pub type SharedStatus = Arc<RwLock<NetworkStatus>>;

struct StatusState {
    store: Arc<Store>,
    writer: Arc<Writer>,
    org: String,
    network: SharedStatus,
}

/// The `/api/status` route (merged into the public router).
pub fn router(
    store: Arc<Store>,
    writer: Arc<Writer>,
    org: String,
    network: SharedStatus,
) -> Router {
    let state = Arc::new(StatusState {
        store,
        writer,
        org,
        network,
    });
    Router::new()
        .route("/api/status", get(status))
        .with_state(state)
}

async fn status(State(state): State<Arc<StatusState>>) -> Result<Json<Value>, ApiError> {
    let network = state
        .network
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let view = state.writer.governance().current();
    let (heads, (records, index_behind, redaction), pending, forks, (witnessed, split_views)) =
        api::blocking(&state.store, move |store| {
            let heads = store.heads().collect::<Result<Vec<_>, _>>()?;
            let authority = view.authority();
            Ok((
                heads,
                (
                    store.record_count()?,
                    store.index_behind_records()?,
                    (store.redacted_count(), store.compaction_due()?),
                ),
                store.pending_count(),
                store.forks()?,
                (
                    report::witnessed_chains(store, authority)?,
                    report::split_views(store, authority)?,
                ),
            ))
        })
        .await?;
    let behind_by_author = behind_per_author(&network, &heads);
    let next_seq = heads
        .iter()
        .find(|(author, _)| *author == state.org)
        .map_or(0, |(_, head)| head.seq + 1);
    let signing_key = {
        let view = state.writer.governance().current();
        signing_key(view.authority(), &state.org, next_seq)
    };
    Ok(Json(json!({
        "org": state.org,
        "network_id": state.store.network_id(),
        "peer_id": network.peer_id,
        // The key that may sign this organisation's next record: the one `org.key` must hold.
        "signing_key": signing_key,
        "listen": network.listen,
        "records": records,
        // Records stored but not yet in the explorer's index (a large sync or batch; its
        // follower catches up once the chains are quiet: `explorer::follower`); 0 when search
        // and totals cover all.
        "index_behind": index_behind,
        // Records redaction orders named (FORMAT.md §27), and whether sled's files may still
        // hold forgotten bytes until the node's next start compacts them.
        "redacted": redaction.0,
        "compaction_due": redaction.1,
        // Only whether: the reason (a path, an I/O error) is for the operator's /v1/status.
        "accepting_records": state.writer.failure().is_none(),
        // While a member peer holds more of this organisation's chain than this node.
        "signing_paused": state.writer.signing_paused().is_err(),
        "pending": pending,
        "heads": heads.iter().map(|(author, head)| json!({"org": author, "seq": head.seq, "id": head.id})).collect::<Vec<_>>(),
        "behind": behind_by_author.values().sum::<u64>(),
        "behind_by_org": behind_by_author,
        "forks": forks.iter().map(|(author, seq)| json!({"org": author, "seq": seq})).collect::<Vec<_>>(),
        // Per organisation, the cosigned checkpoint this node collected: its size, and how many
        // of the witness policy's witnesses cosigned it (k of n, threshold).
        "witnessed": witnessed,
        // Split-view proofs (FORMAT.md §25), without their bytes (`/api/split-views` has them).
        "split_views": split_views.iter().map(|view| json!({
            "org": view.org,
            "first_size": view.first_size,
            "second_size": view.second_size,
            "explained": view.explained,
            "checks": view.checks,
        })).collect::<Vec<_>>(),
        "peers": network.peers,
        "refused_connections": network.refused_connections,
        "rejected_messages": network.rejected_messages,
        "syncing_chains": network.syncing_chains,
        // The bounds an operator checks the host against (the open-files limit above all).
        "limits": crate::limits::summary(),
    })))
}

/// The key `authority` lets sign `org`'s position `next_seq` (`None`: none may, e.g. a
/// removed member, or a revoked key whose replacement is not granted yet).
pub fn signing_key(
    authority: &aidledger_spec::governance::Authority,
    org: &str,
    next_seq: u64,
) -> Option<aidledger_spec::PublicKey> {
    let member = authority.member(org)?;
    member
        .keys
        .iter()
        .map(|span| span.key)
        .find(|key| authority.check(org, next_seq, key).is_ok())
}

/// For each chain, how many records the most advanced peer holds beyond ours.
fn behind_per_author(
    network: &NetworkStatus,
    heads: &[(String, aidledger_store::Head)],
) -> BTreeMap<String, u64> {
    let mut behind = BTreeMap::new();
    for peer in &network.peers {
        for (author, peer_seq) in &peer.heads {
            let local_next = heads
                .iter()
                .find(|(held, _)| held == author)
                .map_or(0, |(_, head)| head.seq + 1);
            let missing = (peer_seq + 1).saturating_sub(local_next);
            let entry = behind.entry(author.clone()).or_insert(0);
            *entry = missing.max(*entry);
        }
    }
    behind.retain(|_, missing| *missing > 0);
    behind
}
