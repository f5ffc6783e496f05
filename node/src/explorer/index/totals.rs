//! Totals: adding and removing a transaction's value in every total it counts in.

use super::*;

/// The side of an activity total (`s` keys): what the activity's publisher reports
/// (transactions whose own `activity_id` is the activity) or what others report about it
/// (transactions of other activities naming it as the provider's or the receiver's activity).
/// Two tables on the page, never one sum.
pub mod side {
    /// The transaction's own `activity_id` is the activity.
    pub const OWN: u8 = 0;
    /// The transaction belongs to another activity and names this one as a party's.
    pub const OTHERS: u8 = 1;
}

/// Adds (`sign` 1) or removes (−1) a transaction in every total it counts in.
pub(super) fn add_to_totals(
    trees: &AppendTrees<'_>,
    author: &str,
    transaction: &Transaction,
    sign: i8,
) -> TxResult<()> {
    let currency = transaction.value.currency.as_str();
    let kind = transaction.transaction_type;
    let amount = transaction.value.amount.parse::<Decimal>().ok();
    let org_key = SortKey::tagged(tag::ORG_TOTAL)
        .text(author)
        .u8(kind)
        .text(currency);
    update_total(trees, org_key, amount, sign)?;
    for activity in activities(transaction) {
        let side = if activity == transaction.activity_id {
            side::OWN
        } else {
            side::OTHERS
        };
        let key = SortKey::tagged(tag::ACTIVITY_TOTAL)
            .text(activity)
            .u8(side)
            .text(author)
            .u8(kind)
            .text(currency);
        update_total(trees, key, amount, sign)?;
    }
    for named in named_orgs(transaction, author) {
        let key = SortKey::tagged(tag::NAMED_BY_OTHERS)
            .text(named)
            .text(author)
            .u8(kind)
            .text(currency);
        update_total(trees, key, amount, sign)?;
    }
    Ok(())
}

/// The organisations a transaction names as provider or receiver, other than its author
/// (what others report about them: the `o` totals of their pages).
pub fn named_orgs<'a>(transaction: &'a Transaction, author: &str) -> BTreeSet<&'a str> {
    [&transaction.provider, &transaction.receiver]
        .into_iter()
        .flatten()
        .map(|party| party.org_ref.as_str())
        .filter(|org| !org.is_empty() && *org != author)
        .collect()
}

pub(super) fn update_total(
    trees: &AppendTrees<'_>,
    key: SortKey,
    amount: Option<Decimal>,
    sign: i8,
) -> TxResult<()> {
    let mut totals = trees.totals.borrow_mut();
    let total = match totals.entry(key.into_bytes()) {
        Entry::Occupied(entry) => entry.into_mut(),
        Entry::Vacant(entry) => match trees.explorer.get(entry.key())? {
            Some(value) => {
                let total = Total::decode(entry.key(), &value)
                    .map_err(|error| corrupt(error.to_string()))?;
                entry.insert(total)
            }
            None => entry.insert(Total::zero()),
        },
    };
    total.apply(amount, sign);
    Ok(())
}
