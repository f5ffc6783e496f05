//! An organisation's page: its chain, newest first, and from the index the totals of what it
//! reports and, apart, of what others report about it.

use super::*;
use crate::witnessed::report::{self, WitnessedChain};

/// An organisation's page.
#[derive(Debug, Serialize)]
pub struct OrgPage {
    /// The member.
    pub org: MemberView,
    /// Its chain.
    pub chain: ChainView,
    /// What it reports: totals of its own transactions by type and currency (corrections
    /// applied).
    pub totals: Vec<TotalView>,
    /// Its transactions whose content a redaction withheld: their amounts are unknown, so the
    /// totals cannot count them; the page says "plus N redacted".
    pub redacted_transactions: u64,
    /// What others report about it: transactions of other members naming it as provider or
    /// receiver, by reporting organisation. Never added to `totals`.
    pub others: Reported,
    /// One page of the chain, newest first.
    pub records: Vec<Summary>,
    /// The `before_seq` of the next (older) page.
    pub next_before_seq: Option<u64>,
    /// The cosigned checkpoint of its chain this node collected from witnesses or peers.
    pub witnessed: Option<WitnessedChain>,
    /// Split-view proofs of its chain (FORMAT.md §25): two checkpoints it signed that cannot
    /// both be true, or (explained) a revocation of its records.
    pub split_views: Vec<SplitViewSummary>,
    /// The pictures of its money, from the activities this page's records name.
    #[serde(skip)]
    pub pictures: OrgPictures,
}

/// Reads one page of an organisation: a range query from `before_seq` down, and its totals
/// from the index.
pub fn org_page(
    store: &StoreReader,
    authority: &Authority,
    org: &str,
    before_seq: Option<u64>,
) -> Result<OrgPage, Problem> {
    let member = authority.member(org).ok_or_else(|| {
        Problem::NotFound(format!(
            "organisation {org:?} is not a member of this network"
        ))
    })?;
    let forks = store.forks()?;
    let mut records = Vec::new();
    let mut activities: Vec<String> = Vec::new();
    for entry in store.chain_newest_first(org, before_seq, ORG_PAGE_RECORDS) {
        let (_, bytes) = entry?;
        if is_withheld(&bytes) {
            records.push(redacted_summary(store, bytes.to_vec())?);
            continue;
        }
        let decoded = decode(bytes.to_vec())?;
        if let Body::Transaction(transaction) = &decoded.body {
            if activities.len() < ORG_PICTURE_ACTIVITIES_MAX
                && !activities.contains(&transaction.activity_id)
            {
                activities.push(transaction.activity_id.clone());
            }
        }
        records.push(summary_of(&decoded));
    }
    let pictures = org_pictures(store, org, activities, today_utc())?;
    let next_before_seq = records
        .last()
        .map(|record| record.seq)
        .filter(|seq| *seq > 0);
    let split_views = report::split_views(store, authority)?
        .into_iter()
        .filter(|view| view.org == org)
        .map(|view| SplitViewSummary {
            first_size: view.first_size,
            second_size: view.second_size,
            explained: view.explained,
        })
        .collect();
    Ok(OrgPage {
        witnessed: report::witnessed_chain(store, authority, org)?,
        split_views,
        org: MemberView::of(member),
        chain: chain_view(store, org, &forks)?,
        totals: org_totals(store, org)?,
        redacted_transactions: store
            .redacted_in_chain(org)?
            .iter()
            .filter(|redacted| redacted.body_kind == aidledger_spec::BodyKind::Transaction as u16)
            .count() as u64,
        others: reported(
            store,
            SortKey::tagged(tag::NAMED_BY_OTHERS).text(org).into_bytes(),
        )?,
        records,
        next_before_seq,
        pictures,
    })
}

/// A split-view proof of the organisation's chain, as its page says it.
#[derive(Debug, Serialize)]
pub struct SplitViewSummary {
    /// The first checkpoint's size.
    pub first_size: u64,
    /// The second checkpoint's size.
    pub second_size: u64,
    /// A revocation of the chain's records explains it (FORMAT.md §25.2).
    pub explained: bool,
}

fn org_totals(store: &StoreReader, org: &str) -> Result<Vec<TotalView>, StoreError> {
    totals_under(
        store,
        &SortKey::tagged(tag::ORG_TOTAL).text(org).into_bytes(),
    )
}
