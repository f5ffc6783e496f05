//! Names for pages: an organisation's member name, an activity's title (from its activity
//! records, the index's `A` keys), another record's body. These are the lookups of
//! `aidledger_view::headline::Names`, answered from the store and the network's members, so
//! that a headline and a list read "Danish Refugee Council", not `DK-CVR-20699310`.
//!
//! Each lookup is a point read or a one-key range read. A store failure in a lookup gives no
//! name (the sentence falls back to the id the record writes): a name is a courtesy, and the
//! page's own reads still report a failing store.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use aidledger_view::activity_text::PREFERRED_LANGUAGE;
use aidledger_view::headline::Names;

use super::*;
use crate::explorer::index::activities::read_latest_value;

/// The lookups of a page.
pub struct PageNames<'a> {
    store: &'a StoreReader,
    authority: &'a Authority,
    /// Titles already looked up: a transaction's page asks for its activity's title for the
    /// details and again for the headline, and each lookup decodes an activity record (an
    /// IATI activity can be many kilobytes).
    titles: RefCell<HashMap<String, Option<String>>>,
}

impl<'a> PageNames<'a> {
    /// Names from `store` and the members of `authority`.
    pub fn new(store: &'a StoreReader, authority: &'a Authority) -> PageNames<'a> {
        PageNames {
            store,
            authority,
            titles: RefCell::default(),
        }
    }

    /// The member names of `orgs` that are members (for the page to show each beside its id
    /// and link it).
    pub fn members<'o>(&self, orgs: impl IntoIterator<Item = &'o str>) -> BTreeMap<String, String> {
        orgs.into_iter()
            .filter_map(|org| {
                let member = self.authority.member(org)?;
                Some((member.id.clone(), member.name.clone()))
            })
            .collect()
    }
}

impl Names for PageNames<'_> {
    fn org_name(&self, org: &str) -> Option<String> {
        self.authority.member(org).map(|member| member.name.clone())
    }

    fn activity_title(&self, activity: &str) -> Option<String> {
        if let Some(known) = self.titles.borrow().get(activity) {
            return known.clone();
        }
        let title = activity_title(self.store, activity).ok().flatten();
        self.titles
            .borrow_mut()
            .insert(activity.to_owned(), title.clone());
        title
    }

    fn record(&self, id: &RecordId) -> Option<Body> {
        let bytes = self.store.get(id).ok().flatten()?;
        decode(bytes).ok().map(|decoded| decoded.body)
    }
}

/// An activity's title: the first author's latest activity record for it (the index's `A`
/// keys, in author order), in English when it has one.
pub fn activity_title(store: &StoreReader, activity: &str) -> Result<Option<String>, StoreError> {
    let prefix = SortKey::tagged(tag::ACTIVITY_LATEST)
        .text(activity)
        .into_bytes();
    let Some(entry) = store.index_tree().scan_prefix(&prefix).next() else {
        return Ok(None);
    };
    let (_, value) = entry?;
    let (id, _) = read_latest_value(&value)?;
    let Some(bytes) = store.get(&id)? else {
        return Ok(None);
    };
    Ok(match decode_held(bytes)?.map(|decoded| decoded.body) {
        Some(Body::Activity(record)) => record.title_in(PREFERRED_LANGUAGE).map(str::to_owned),
        _ => None,
    })
}

/// Every organisation id a body names: the parties of a transaction, a treaty text's parties.
pub fn orgs_named(body: &Body) -> Vec<&str> {
    match body {
        Body::Transaction(tx) => tx
            .provider
            .iter()
            .chain(&tx.receiver)
            .map(|party| party.org_ref.as_str())
            .collect(),
        Body::TreatyText(treaty) => treaty.parties.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}
