//! An IATI activity's page: totals by organisation and overall, acknowledged totals, flows
//! between parties, and its records page by page from the index's listings.

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
}

/// Money from one party to another in an activity, by transaction type.
#[derive(Debug, Serialize)]
pub struct Flow {
    /// The provider's org ref (empty when not given).
    pub provider: String,
    /// The receiver's org ref.
    pub receiver: String,
    /// IATI TransactionType code.
    pub transaction_type: u8,
    /// Its name.
    pub type_name: &'static str,
    /// Currency.
    pub currency: String,
    /// Transactions.
    pub count: u64,
    /// Exact sum.
    pub sum: String,
}

/// The totals of one organisation in an activity.
#[derive(Debug, Serialize)]
pub struct OrgTotals {
    /// The organisation.
    pub org: String,
    /// By type and currency.
    pub totals: Vec<TotalView>,
}

/// An activity's page.
#[derive(Debug, Serialize)]
pub struct ActivityPage {
    /// The IATI activity id.
    pub activity: String,
    /// Totals by organisation, type and currency.
    pub organisations: Vec<OrgTotals>,
    /// Totals by type and currency over all organisations.
    pub totals: Vec<TotalView>,
    /// Totals of the transactions some record acknowledges.
    pub acknowledged: Vec<TotalView>,
    /// Money between parties.
    pub flows: Vec<Flow>,
    /// One page of its transactions, by organisation then seq.
    pub records: Vec<ActivityRecord>,
    /// The `after` cursor of the next page.
    pub next_after: Option<String>,
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
    let (organisations, totals) = activity_totals(store, activity)?;
    let (records, next_after) = activity_records(store, activity, cursor.as_deref())?;
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
    if organisations.is_empty() && records.is_empty() && !listed()? {
        return Err(Problem::NotFound(format!(
            "no transaction names activity {activity:?}"
        )));
    }
    Ok(ActivityPage {
        activity: activity.to_owned(),
        organisations,
        totals,
        acknowledged: acknowledged_totals(store, activity)?,
        flows: flows(store, activity)?,
        records,
        next_after,
    })
}

type ActivityTotals = (Vec<OrgTotals>, Vec<TotalView>);

fn activity_totals(store: &StoreReader, activity: &str) -> Result<ActivityTotals, StoreError> {
    let prefix = SortKey::tagged(tag::ACTIVITY_TOTAL)
        .text(activity)
        .into_bytes();
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
    Ok((by_org, totals))
}

fn acknowledged_totals(store: &StoreReader, activity: &str) -> Result<Vec<TotalView>, StoreError> {
    let prefix = SortKey::tagged(tag::ACKNOWLEDGED_TOTAL).text(activity);
    totals_under(store, &prefix.into_bytes())
}

fn flows(store: &StoreReader, activity: &str) -> Result<Vec<Flow>, StoreError> {
    let prefix = SortKey::tagged(tag::FLOW).text(activity).into_bytes();
    let mut flows = Vec::new();
    for entry in store.index_tree().scan_prefix(&prefix).take(TOTALS_MAX) {
        let (key, value) = entry?;
        let mut rest = KeyReader::new(&key[prefix.len()..]);
        let (provider, receiver) = (rest.text()?, rest.text()?);
        let (transaction_type, currency) = (rest.u8()?, rest.text()?);
        let total = Total::decode(&key, &value)?;
        let view = total_view(transaction_type, currency, &total);
        flows.push(Flow {
            provider,
            receiver,
            transaction_type,
            type_name: view.type_name,
            currency: view.currency,
            count: total.count,
            sum: view.sum,
        });
    }
    Ok(flows)
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
    })
}
