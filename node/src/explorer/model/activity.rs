//! An IATI activity's page: the money model's findings and links first, then what its
//! publisher reports and what others report about it (two sets of totals, never one sum),
//! and its records page by page from the index's listings.

use super::*;

/// One transaction of an activity.
#[derive(Debug, Serialize)]
pub struct ActivityRecord {
    /// The record.
    pub record: Summary,
    /// The transaction (a correction's replacement for a correction).
    pub transaction: Value,
    /// Records acknowledging it.
    pub acknowledged_by: Vec<RecordId>,
    /// Records correcting it.
    pub corrected_by: Vec<RecordId>,
    /// The status of its link (the money model's text: `short 5000.00 GBP`, `full`,
    /// `withdrawn`, …); none for a correction, a withdrawn receipt, or when the statuses
    /// were not computed.
    pub link_status: Option<String>,
}

/// The totals of one organisation in an activity.
#[derive(Debug, Serialize)]
pub struct OrgTotals {
    /// The organisation.
    pub org: String,
    /// Its name when it is a member of the network (empty otherwise).
    pub name: String,
    /// By type and currency.
    pub totals: Vec<TotalView>,
}

/// What one side reports about an activity: totals over its organisations, and by
/// organisation.
#[derive(Debug, Default, Serialize)]
pub struct Reported {
    /// Totals by type and currency over the organisations of this side.
    pub totals: Vec<TotalView>,
    /// Totals by organisation, type and currency.
    pub organisations: Vec<OrgTotals>,
}

/// An activity's page.
#[derive(Debug, Serialize)]
pub struct ActivityPage {
    /// The IATI activity id.
    pub activity: String,
    /// What it is about: each author's latest activity record (titles, descriptions, status,
    /// dates, places, sectors, organisations).
    pub about: Vec<ActivityAbout>,
    /// The money model's findings and links of the activity (first: what an auditor looks
    /// for).
    pub money: ActivityMoney,
    /// What its publisher(s) report: transactions whose `activity_id` is the activity.
    pub own: Reported,
    /// What others report about it: transactions of other activities naming it as the
    /// provider's or the receiver's activity. Never added to `own`.
    pub others: Reported,
    /// One page of its transactions, by organisation then seq.
    pub records: Vec<ActivityRecord>,
    /// The `after` cursor of this page (none for the first).
    pub after: Option<String>,
    /// The `after` cursor of the next page.
    pub next_after: Option<String>,
}

impl ActivityPage {
    /// The name of an organisation that reports on the activity (a member's), or empty.
    pub fn org_name(&self, org: &str) -> String {
        self.own
            .organisations
            .iter()
            .chain(&self.others.organisations)
            .find(|reported| reported.org == org)
            .map(|reported| reported.name.clone())
            .unwrap_or_default()
    }
}

/// Reads an activity's page; `after` is the cursor a previous page gave.
pub fn activity_page(
    store: &StoreReader,
    activity: &str,
    after: Option<&str>,
) -> Result<ActivityPage, Problem> {
    if activity.is_empty() || activity.len() > usize::from(u16::MAX) {
        return Err(Problem::BadRequest(
            "an activity id is 1 to 65535 bytes".into(),
        ));
    }
    let cursor = after
        .map(|after| {
            hex::decode(after)
                .map_err(|_| Problem::BadRequest(format!("{after:?} is not a page cursor")))
        })
        .transpose()?;
    let (own, others) = activity_totals(store, activity)?;
    let about = activity_about(store, activity)?;
    let (mut records, next_after) = activity_records(store, activity, cursor.as_deref())?;
    // Totals go when every transaction was withdrawn; the records stay listed.
    let listed = || -> Result<bool, StoreError> {
        let prefix = SortKey::tagged(tag::ACTIVITY_RECORD)
            .text(activity)
            .into_bytes();
        Ok(store
            .index_tree()
            .scan_prefix(prefix)
            .next()
            .transpose()?
            .is_some())
    };
    if own.organisations.is_empty()
        && others.organisations.is_empty()
        && records.is_empty()
        && about.is_empty()
        && !listed()?
    {
        return Err(Problem::NotFound(format!(
            "no transaction or activity record names activity {activity:?}"
        )));
    }
    let money = activity_money(store, activity, today_utc())?;
    for record in &mut records {
        record.link_status = money.status_of.get(&record.record.id).cloned();
    }
    Ok(ActivityPage {
        activity: activity.to_owned(),
        about,
        money,
        own,
        others,
        records,
        after: after.map(str::to_owned),
        next_after,
    })
}

/// The activity's totals: what its publisher reports, what others report.
fn activity_totals(
    store: &StoreReader,
    activity: &str,
) -> Result<(Reported, Reported), StoreError> {
    let prefix = SortKey::tagged(tag::ACTIVITY_TOTAL).text(activity);
    Ok((
        reported(store, prefix.clone().u8(side::OWN).into_bytes())?,
        reported(store, prefix.u8(side::OTHERS).into_bytes())?,
    ))
}

/// The totals under `prefix` (`s` ‖ activity ‖ side, or `o` ‖ org): by the organisation
/// that follows in the key, and over them.
pub(super) fn reported(store: &StoreReader, prefix: Vec<u8>) -> Result<Reported, StoreError> {
    let mut by_org: Vec<OrgTotals> = Vec::new();
    let mut overall: BTreeMap<(u8, String), Total> = BTreeMap::new();
    for entry in store.index_tree().scan_prefix(&prefix).take(TOTALS_MAX) {
        let (key, value) = entry?;
        let mut rest = KeyReader::new(&key[prefix.len()..]);
        let org = rest.text()?;
        let transaction_type = rest.u8()?;
        let currency = rest.text()?;
        let total = Total::decode(&key, &value)?;
        let sum = overall
            .entry((transaction_type, currency.clone()))
            .or_insert(Total {
                count: 0,
                sum: Some(rust_decimal::Decimal::ZERO),
            });
        sum.count += total.count;
        sum.sum = sum.sum.zip(total.sum).and_then(|(a, b)| a.checked_add(b));
        if by_org.last().is_none_or(|last| last.org != org) {
            by_org.push(OrgTotals {
                name: store
                    .genesis()
                    .member(&org)
                    .map(|member| member.name.clone())
                    .unwrap_or_default(),
                org: org.clone(),
                totals: Vec::new(),
            });
        }
        if let Some(last) = by_org.last_mut() {
            last.totals
                .push(total_view(transaction_type, currency, &total));
        }
    }
    let totals = overall
        .into_iter()
        .map(|((transaction_type, currency), total)| total_view(transaction_type, currency, &total))
        .collect();
    Ok(Reported {
        totals,
        organisations: by_org,
    })
}

type RecordsPage = (Vec<ActivityRecord>, Option<String>);

fn activity_records(
    store: &StoreReader,
    activity: &str,
    after: Option<&[u8]>,
) -> Result<RecordsPage, Problem> {
    let prefix = SortKey::tagged(tag::ACTIVITY_RECORD)
        .text(activity)
        .into_bytes();
    let tree = store.index_tree();
    let start = match after {
        None => prefix.clone(),
        // The listing that holds the cursor starts at or before it: the last key up to it.
        Some(cursor) => {
            let at = [prefix.as_slice(), cursor].concat();
            match tree.range(prefix.clone()..=at.clone()).next_back() {
                Some(entry) => entry?.0.to_vec(),
                None => at,
            }
        }
    };
    let mut records = Vec::new();
    let mut last_position = None;
    'listings: for entry in tree.range(start..) {
        let (key, value) = entry?;
        if !key.starts_with(&prefix) {
            break;
        }
        // key = prefix ‖ org ‖ first seq; a record's position (the cursor) is org ‖ its seq.
        let mut rest = KeyReader::new(&key[prefix.len()..]);
        let org = rest.text()?;
        rest.u64()?;
        rest.finish()?;
        for (seq, id) in Listing::decode(&key, &value)? {
            let position = SortKey::new().text(&org).u64(seq).into_bytes();
            if after.is_some_and(|cursor| position.as_slice() <= cursor) {
                continue;
            }
            records.push(activity_record(store, &id)?);
            last_position = Some(position);
            if records.len() == ACTIVITY_PAGE_RECORDS {
                break 'listings;
            }
        }
    }
    let next_after = last_position
        .filter(|_| records.len() == ACTIVITY_PAGE_RECORDS)
        .map(hex::encode);
    Ok((records, next_after))
}

/// One record of an activity's page: its summary, the transaction as it stands, and who
/// acknowledged or corrected it.
fn activity_record(store: &StoreReader, id: &RecordId) -> Result<ActivityRecord, Problem> {
    let decoded = load(store, id)?;
    let transaction = match &decoded.body {
        Body::Correction(Correction {
            replacement: Some(replacement),
            ..
        }) => body_json(&replacement.to_body()),
        body => body_json(body),
    };
    Ok(ActivityRecord {
        record: summary_of(&decoded),
        transaction,
        acknowledged_by: referencing(store, Referrers::Acknowledging, id)?
            .into_iter()
            .map(|summary| summary.id)
            .collect(),
        corrected_by: referencing(store, Referrers::Correcting, id)?
            .into_iter()
            .map(|summary| summary.id)
            .collect(),
        link_status: None,
    })
}
