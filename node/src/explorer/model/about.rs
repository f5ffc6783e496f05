//! What an activity is about, from the activity records (kind 8): the latest record of each
//! author for the identifier (the index's `A` keys), titles first. (Activities are searched
//! by the words of their titles and descriptions through the search terms, `search.rs`.)

use aidledger_spec::activity::Activity;
use aidledger_view::activity_text::reported_by;

use super::*;
use crate::explorer::index::activities::read_latest_value;

/// Most authors whose activity records one activity page shows.
pub const ABOUT_AUTHORS_MAX: usize = 32;

/// One author's latest activity record of an activity.
#[derive(Debug, Serialize)]
pub struct ActivityAbout {
    /// The author.
    pub author: String,
    /// The record.
    pub record: RecordId,
    /// "reported by A about B" when the publisher is not the author.
    pub reported_by: Option<String>,
    /// The record's fields (with the names of its codes, as the record view gives them).
    pub activity: Value,
    /// The fields as signed, for the HTML page.
    #[serde(skip)]
    pub body: Activity,
}

/// The latest activity record of each author of `activity`, in author order.
pub fn activity_about(
    store: &StoreReader,
    activity: &str,
) -> Result<Vec<ActivityAbout>, StoreError> {
    let prefix = SortKey::tagged(tag::ACTIVITY_LATEST)
        .text(activity)
        .into_bytes();
    let mut about = Vec::new();
    for entry in store
        .index_tree()
        .scan_prefix(&prefix)
        .take(ABOUT_AUTHORS_MAX)
    {
        let (_, value) = entry?;
        let (id, _) = read_latest_value(&value)?;
        let Some(bytes) = store.get(&id)? else {
            continue;
        };
        let (author, body) = crate::explorer::index::decode(&bytes)?;
        let Body::Activity(record) = body else {
            continue;
        };
        about.push(ActivityAbout {
            reported_by: reported_by(&author, &record),
            activity: aidledger_view::body_json(&Body::Activity(record.clone())),
            author,
            record: id,
            body: record,
        });
    }
    Ok(about)
}
