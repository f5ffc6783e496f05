//! How pages name things (issue 20's shared rule): an organisation by its name with its id
//! beside it (linked when it is a member, whose page exists), an activity by its title with
//! its id secondary, a record by a short human label with its short hex id secondary. Small
//! helpers, so that every page writes names the same way.

use std::collections::BTreeMap;

use aidledger_spec::RecordId;

use super::{activity_href, org_href, record_href};
use crate::explorer::html::Html;
use crate::explorer::model;

/// Words for an organisation a record names by neither id nor name.
const UNNAMED: &str = "unnamed organisation";

/// An organisation: `<a>Danish Refugee Council</a> DK-CVR-20699310` for a member (its name
/// from `members`), `Local NGO XM-1` (the name the record writes, no link: only members have
/// pages) for anyone else, the bare id when no name is known.
pub fn org(html: &mut Html, id: &str, written_name: &str, members: &BTreeMap<String, String>) {
    match members.get(id) {
        Some(name) => {
            html.link(&org_href(id), name);
            secondary(html, id);
        }
        None if !written_name.is_empty() => {
            html.text(written_name);
            if !id.is_empty() {
                secondary(html, id);
            }
        }
        None if !id.is_empty() => {
            html.raw("<span class=\"mono\">").text(id).raw("</span>");
        }
        None => {
            html.raw("<span class=\"muted\">")
                .raw(UNNAMED)
                .raw("</span>");
        }
    }
}

/// A member by name (linked) with its id beside it; the id alone when the name is empty.
pub fn member(html: &mut Html, id: &str, name: &str) {
    if name.is_empty() {
        html.link(&org_href(id), id);
    } else {
        html.link(&org_href(id), name);
        secondary(html, id);
    }
}

/// An activity: its title linked, the id secondary; the id linked when no title is known.
pub fn activity(html: &mut Html, id: &str, title: Option<&str>) {
    match title.filter(|title| !title.is_empty()) {
        Some(title) => {
            html.link(&activity_href(id), title);
            secondary(html, id);
        }
        None => {
            html.code_link(&activity_href(id), id);
        }
    }
}

/// A record: its label linked, the short hex id secondary.
pub fn record(html: &mut Html, id: &RecordId, label: &str) {
    html.link(&record_href(id), label);
    secondary(html, &model::short(id));
}

/// An id or code beside a name: small, monospace, muted.
pub fn secondary(html: &mut Html, text: &str) {
    html.raw(" <span class=\"muted mono\">")
        .text(text)
        .raw("</span>");
}
