//! Totals: adding and removing a transaction's value in every total it counts in.

use super::*;

/// Adds (`sign` 1) or removes (−1) a transaction in every total it counts in.
pub(super) fn add_to_totals(
    trees: &AppendTrees<'_>,
    author: &str,
    transaction: &Transaction,
    sign: i8,
    acknowledged: bool,
) -> TxResult<()> {
    let currency = transaction.value.currency.as_str();
    let kind = transaction.transaction_type;
    let amount = transaction.value.amount.parse::<Decimal>().ok();
    let org_key = SortKey::tagged(tag::ORG_TOTAL)
        .text(author)
        .u8(kind)
        .text(currency);
    update_total(trees, org_key, amount, sign)?;
    let provider = transaction
        .provider
        .as_ref()
        .map_or("", |p| p.org_ref.as_str());
    let receiver = transaction
        .receiver
        .as_ref()
        .map_or("", |p| p.org_ref.as_str());
    for activity in activities(transaction) {
        let key = SortKey::tagged(tag::ACTIVITY_TOTAL)
            .text(activity)
            .text(author)
            .u8(kind)
            .text(currency);
        let stored = update_total(trees, key, amount, sign)?;
        if sign > 0 && stored == Stored::New {
            // A record added to a new total of the activity: name the activity for search
            // (so once per activity, org, type and currency, not once per record).
            let name = SortKey::tagged(tag::ACTIVITY_NAME).raw(activity.as_bytes());
            trees.explorer.insert(name.into_bytes(), &[][..])?;
        }
        let flow = SortKey::tagged(tag::FLOW)
            .text(activity)
            .text(provider)
            .text(receiver)
            .u8(kind)
            .text(currency);
        update_total(trees, flow, amount, sign)?;
    }
    if acknowledged {
        add_acknowledged(trees, transaction, sign)?;
    }
    Ok(())
}

/// Whether a total was stored before this transaction first read it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Stored {
    New,
    Existing,
}

pub(super) fn update_total(
    trees: &AppendTrees<'_>,
    key: SortKey,
    amount: Option<Decimal>,
    sign: i8,
) -> TxResult<Stored> {
    let mut totals = trees.totals.borrow_mut();
    let (total, stored) = match totals.entry(key.into_bytes()) {
        Entry::Occupied(entry) => (entry.into_mut(), Stored::Existing),
        Entry::Vacant(entry) => match trees.explorer.get(entry.key())? {
            Some(value) => {
                let total = Total::decode(entry.key(), &value)
                    .map_err(|error| corrupt(error.to_string()))?;
                (entry.insert(total), Stored::Existing)
            }
            None => (entry.insert(Total::zero()), Stored::New),
        },
    };
    total.apply(amount, sign);
    Ok(stored)
}

/// Adds (`sign` 1) or removes (−1) a transaction in its activities' acknowledged totals.
pub(super) fn add_acknowledged(
    trees: &AppendTrees<'_>,
    transaction: &Transaction,
    sign: i8,
) -> TxResult<()> {
    let amount = transaction.value.amount.parse::<Decimal>().ok();
    for activity in activities(transaction) {
        let key = SortKey::tagged(tag::ACKNOWLEDGED_TOTAL)
            .text(activity)
            .u8(transaction.transaction_type)
            .text(&transaction.value.currency);
        update_total(trees, key, amount, sign)?;
    }
    Ok(())
}
