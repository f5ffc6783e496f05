//! Each imported activity's activity record (kind 8, FORMAT.md §5.10), sent before its
//! transactions: recorded when the organisation's chain has none for the activity's import
//! key, or when what the activity says changed (the new record supersedes the earlier one);
//! nothing when it is unchanged, so a re-import records no activity twice.

use aidledger_iati::{activity_digest, to_activity, Activity};
use aidledger_spec::Body;

use super::publisher::Publisher;
use super::skips::reason_slug;
use super::{ImportError, ImportWarning, OrgCounts, Pending};

/// Records `activity` for `publisher` when new or changed; what was left out of the record is
/// counted as skipped (`skip`, with its reason: `--strict` refuses it too); the transactions do
/// not depend on it.
pub(super) fn record_activity(
    label: &str,
    activity: &Activity,
    publisher: &mut Publisher,
    counts: &mut OrgCounts,
    skip: &mut dyn FnMut(&'static str, ImportWarning),
) -> Result<(), ImportError> {
    let (record, warnings) = to_activity(activity);
    for warning in warnings {
        let reason = reason_slug(&warning.reason);
        skip(
            reason,
            ImportWarning {
                file: label.to_owned(),
                line: warning.line,
                activity_id: warning.activity_id,
                reason: warning.reason.to_string(),
            },
        );
    }
    let Some(record) = record else {
        return Ok(());
    };
    let Some(key) = record.iati.as_ref().map(|source| source.import_key) else {
        return Ok(());
    };
    let digest = activity_digest(&record);
    if publisher.activity_digest(&key) == Some(digest) {
        counts.activities_unchanged += 1;
        return Ok(());
    }
    counts.activities_recorded += 1;
    publisher.send_activity(
        Body::Activity(record),
        Pending {
            key,
            digest,
            corrects: None,
        },
    )
}
