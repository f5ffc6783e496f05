//! Acknowledgements: the `k` and `K` keys, kept as receipts arrive, are withdrawn or are
//! redirected. They say who acknowledges what; what that means for the money (full, short,
//! …) is the money model's (`aidledger_view::money`), read by the pages over these records.

use super::*;

/// Records that `by` acknowledges `acknowledged` (also before `acknowledged` is stored:
/// chains sync independently).
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
    set_acknowledgers(trees, &acknowledged, count + 1)
}

/// Undoes [`acknowledge`] when the author of `by` corrected it to acknowledge something else
/// or withdrew it.
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
    set_acknowledgers(trees, &acknowledged, count)
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
