//! Corrections in the index: every decision is the shared rules' (`aidledger_view::corrections`);
//! this writes their effect into the reverse index and the totals.

use aidledger_view::corrections::{self as rules, Corrected, Effect};

use super::*;

/// Applies a correction: the reverse index, and the totals of a corrected transaction, as the
/// shared correction rules (`aidledger_view::corrections`) decide.
pub(super) fn correct(
    trees: &AppendTrees<'_>,
    author: &str,
    seq: u64,
    id: RecordId,
    correction: &Correction,
) -> TxResult<()> {
    let target = correction.corrects;
    let stored = stored_in_tx(trees, &target)?;
    let corrected = stored
        .as_ref()
        .map(|stored| Corrected::of(&stored.author, stored.seq, &stored.body));
    let effect = rules::effect(correction, author, seq, corrected);
    let before = current_transaction(trees, &target)?;
    let key = SortKey::tagged(tag::CORRECTED_BY)
        .id(&target.0)
        .u64(seq)
        .id(&id.0);
    trees.explorer.insert(key.into_bytes(), &[][..])?;
    let marker = SortKey::tagged(tag::CORRECTED_MARK)
        .id(&target.0)
        .into_bytes();
    trees.explorer.insert(marker, &[][..])?;
    if effect == Effect::Listed {
        // Listed on the record's page, but it changes no total and is not the version the
        // totals follow: a later correction by the author replaces the author's own latest.
        return Ok(());
    }
    let latest = SortKey::tagged(tag::LATEST_CORRECTION)
        .id(&target.0)
        .into_bytes();
    trees.explorer.insert(latest, &id.0[..])?;
    let after = effect.transaction();
    if let Some(old) = &before {
        add_to_totals(trees, author, old, -1)?;
    }
    if let Some(new) = after {
        add_to_totals(trees, author, new, 1)?;
        // Its terms are found while this correction is the record's latest.
        super::search::index_transaction(trees, target, id, new)?;
        // The corrected version is listed under its activities too.
        for activity in activities(new) {
            trees.list(activity, author, seq, &id)?;
        }
    }
    // What the corrected record acknowledges follows the correction too.
    let moved = rules::acknowledgement_move(before.as_ref(), after);
    if let Some(old) = moved.withdrawn_from {
        unacknowledge(trees, old, target)?;
    }
    if let Some(new) = moved.given_to {
        acknowledge(trees, new, target)?;
    }
    Ok(())
}

/// The transaction a stored record stands for now ([`rules::current_version`], with the
/// latest counting correction the `C` key names).
pub(super) fn current_transaction(
    trees: &AppendTrees<'_>,
    id: &RecordId,
) -> TxResult<Option<Transaction>> {
    let Some(stored) = stored_in_tx(trees, id)? else {
        return Ok(None);
    };
    let latest_key = SortKey::tagged(tag::LATEST_CORRECTION).id(&id.0);
    let latest = match trees.explorer.get(latest_key.into_bytes())? {
        Some(latest) => {
            let latest_id = record_id(&latest).map_err(|error| corrupt(error.to_string()))?;
            match stored_in_tx(trees, &latest_id)? {
                Some(StoredRecord {
                    body: Body::Correction(correction),
                    ..
                }) => Some(correction),
                // A `C` key names only a counting correction; one not found (lost to a power
                // loss, see `stored_in_tx`) leaves nothing current, as before it was written.
                _ => return Ok(None),
            }
        }
        None => None,
    };
    Ok(rules::current_version(&stored.body, latest.as_ref()).cloned())
}
