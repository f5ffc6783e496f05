//! Acknowledgements: the `k`, `K` and `P` keys, and a transaction's value moving into and
//! out of the acknowledged totals as receipts arrive, are withdrawn or are redirected.

use super::*;

/// Records that `by` acknowledges `acknowledged`; the first current acknowledgement of a
/// transaction moves its value into the acknowledged totals.
pub(super) fn acknowledge(
    trees: &AppendTrees<'_>,
    acknowledged: RecordId,
    by: RecordId,
) -> TxResult<()> {
    let key = acknowledged_by_key(&acknowledged, &by);
    if trees.explorer.insert(key, &[][..])?.is_some() {
        return Ok(()); // already counted
    }
    let count = acknowledgers(trees, &acknowledged)?;
    set_acknowledgers(trees, &acknowledged, count + 1)?;
    if count > 0 {
        return Ok(());
    }
    if let Some(transaction) = current_transaction(trees, &acknowledged)? {
        add_acknowledged(trees, &transaction, 1)?;
    } else if stored_in_tx(trees, &acknowledged)?.is_none() {
        // Not stored yet: counted when it arrives (`index_transaction`).
        trees.explorer.insert(early_key(&acknowledged), &[][..])?;
        trees.change_early_count(1)?;
    }
    Ok(())
}

/// Undoes [`acknowledge`] when the author of `by` corrected it to acknowledge something else
/// or withdrew it: once no current acknowledgement is left, the transaction's value leaves
/// the acknowledged totals (or its `P` key goes, if it is still not stored).
pub(super) fn unacknowledge(
    trees: &AppendTrees<'_>,
    acknowledged: RecordId,
    by: RecordId,
) -> TxResult<()> {
    let key = acknowledged_by_key(&acknowledged, &by);
    if trees.explorer.remove(key)?.is_none() {
        return Ok(()); // never counted
    }
    let count = acknowledgers(trees, &acknowledged)?.saturating_sub(1);
    set_acknowledgers(trees, &acknowledged, count)?;
    if count > 0 {
        return Ok(());
    }
    if trees.explorer.remove(early_key(&acknowledged))?.is_some() {
        trees.change_early_count(-1)?;
    } else if let Some(transaction) = current_transaction(trees, &acknowledged)? {
        add_acknowledged(trees, &transaction, -1)?;
    }
    Ok(())
}

/// How many current acknowledgements a record has (its `K` value; 0 without one).
pub(super) fn acknowledgers(trees: &AppendTrees<'_>, acknowledged: &RecordId) -> TxResult<u64> {
    let key = mark_key(acknowledged);
    match trees.explorer.get(&key)? {
        None => Ok(0),
        Some(value) => decode_count(&key, &value, "acknowledgement count")
            .map_err(|error| corrupt(error.to_string())),
    }
}

/// Writes a record's `K` count, or removes the key at 0 (the record pages then skip the scan
/// of its `k` keys).
pub(super) fn set_acknowledgers(
    trees: &AppendTrees<'_>,
    acknowledged: &RecordId,
    count: u64,
) -> TxResult<()> {
    let mark = mark_key(acknowledged);
    if count == 0 {
        trees.explorer.remove(mark)?;
    } else {
        trees.explorer.insert(mark, count.to_bytes())?;
    }
    Ok(())
}
