//! The home page: the network, its members and chains, and the latest records.

use super::*;

/// The home page.
#[derive(Debug, Serialize)]
pub struct Home {
    /// Network name.
    pub name: String,
    /// Network id, hex.
    pub network_id: String,
    /// When the network was founded.
    pub created_ms: u64,
    /// Records stored.
    pub record_count: u64,
    /// Verified records from peers waiting for a predecessor (not in any chain yet).
    pub pending_records: u64,
    /// Stored records not yet in the index (a large sync or batch; `explorer::follower`):
    /// totals and search miss them until it catches up.
    pub index_behind_records: u64,
    /// The members, including those added or removed by governance.
    pub members: Vec<MemberView>,
    /// Records the network's governance declared not valid (kept as evidence).
    pub revoked_records: u64,
    /// Governance changes in effect.
    pub governance_changes: usize,
    /// Each member's chain.
    pub chains: Vec<ChainView>,
    /// Whether no chain is forked.
    pub all_chains_intact: bool,
    /// Organisations of which the node holds a split-view proof that no revocation explains
    /// (FORMAT.md §25), each once.
    pub split_views: Vec<String>,
    /// The newest records by claimed time among each chain's newest by position.
    pub latest: Vec<Summary>,
}

/// Reads the home page: O(members × [`HOME_LATEST_RECORDS`]) reads, whatever the store's size.
pub fn home(store: &StoreReader, authority: &Authority) -> Result<Home, Problem> {
    let genesis = store.genesis();
    let forks = store.forks()?;
    let mut chains = Vec::new();
    // Each chain's newest records are candidates; only their headers are read to order them
    // (claimed times need not grow with seq), and only the shown ones are decoded whole.
    let mut candidates = Vec::new();
    for member in authority.members() {
        chains.push(chain_view(store, &member.id, &forks)?);
        for entry in store.chain_newest_first(&member.id, None, HOME_LATEST_RECORDS) {
            let (_, bytes) = entry?;
            let (header, header_size_bytes): (RecordHeader, usize) = codec::decode_prefix(&bytes)
                .map_err(|error| {
                StoreError::Corrupt(format!("a stored record does not decode: {error}"))
            })?;
            let id = record_id_of_header_bytes(&bytes[..header_size_bytes]);
            candidates.push((header.timestamp_ms, id, bytes));
        }
    }
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1 .0.cmp(&b.1 .0)));
    let latest = candidates
        .into_iter()
        .take(HOME_LATEST_RECORDS)
        .map(|(_, _, bytes)| summary_of_stored(store, bytes.to_vec()))
        .collect::<Result<Vec<_>, StoreError>>()?;
    // Read only when there is one: the home page is read often, split views are rare.
    let mut split_views = Vec::new();
    if store.split_view_count() > 0 {
        for view in crate::witnessed::report::split_views(store, authority)? {
            if !view.explained && !split_views.contains(&view.org) {
                split_views.push(view.org);
            }
        }
    }
    Ok(Home {
        split_views,
        name: genesis.name.clone(),
        network_id: store.network_id().to_hex(),
        created_ms: genesis.created_ms,
        record_count: store.record_count()?,
        pending_records: store.pending_count(),
        index_behind_records: store.index_behind_records()?,
        members: authority.members().map(MemberView::of).collect(),
        revoked_records: store.revoked_count(),
        governance_changes: authority.steps().len(),
        all_chains_intact: forks.is_empty(),
        chains,
        latest,
    })
}
