//! A record's page: validity, place in its chain, what it references and what references
//! it, the fields a correction changes; and how a typed id or id prefix finds a record.

use aidledger_spec::record::{Replacement, TreatyAction};
use aidledger_spec::text::Date;
use aidledger_view::headline::{self, Changed, Names as _};
use aidledger_view::status_line::StatusLine;
use aidledger_view::treaty::{NonPartyAction, TreatyRecords};

use super::*;

/// The chain status of a record.
#[derive(Debug, Serialize)]
pub struct ChainStatus {
    /// Records in the author's chain.
    pub chain_length: u64,
    /// The next record of the chain, if any.
    pub next: Option<RecordId>,
    /// Whether an equivocation proof exists at this record's seq.
    pub forked_here: bool,
    /// Whether the author's chain has any proven fork.
    pub chain_forked: bool,
}

/// One field a correction changes.
#[derive(Debug, Serialize)]
pub struct Change {
    /// The field's path (`value.amount`).
    pub field: String,
    /// The corrected record's value (empty if it had none).
    pub before: String,
    /// The correction's value (empty if none).
    pub after: String,
}

/// A record's page.
#[derive(Debug, Serialize)]
pub struct RecordPage {
    /// What the record says, in one sentence for people (`aidledger_view::headline`).
    pub headline: String,
    /// Where it stands, in one line: valid, corrected (now X, was Y), WITHDRAWN, revoked, and
    /// a transaction's link in words.
    pub status: String,
    /// The same, as values (the page strikes the old values through).
    pub status_line: StatusLine,
    /// A short label of the record (`disbursement GBP 125,000.00, 2026-11-02`).
    pub label: String,
    /// The network's id, hex (for citing the record and checking it offline).
    pub network_id: String,
    /// The member names of the organisations the record names (id → name).
    pub names: BTreeMap<String, String>,
    /// For a transaction: its activity's title, when an activity record gives one.
    pub activity_title: Option<String>,
    /// For a correction: what it changes, in words (`amount`, now, was).
    pub changed: Vec<Changed>,
    /// The decoded body, for the page's human labels.
    #[serde(skip)]
    pub body: Body,
    /// Whether the record is valid under the network's governance.
    pub validity: Validity,
    /// The record with every field and its bytes.
    pub record: RecordView,
    /// The signer's display name.
    pub author_name: String,
    /// The signature, hex.
    pub signature: String,
    /// Its place in the chain.
    pub chain: ChainStatus,
    /// The record this one acknowledges, if any.
    pub acknowledges: Option<Summary>,
    /// Records acknowledging this one.
    pub acknowledged_by: Vec<Summary>,
    /// The record this one corrects, if any.
    pub corrects: Option<Summary>,
    /// Records correcting this one, oldest first.
    pub corrected_by: Vec<Summary>,
    /// For a correction: the fields it changes.
    pub changes: Vec<Change>,
    /// For a treaty action: the treaty.
    pub treaty: Option<Summary>,
    /// For a transaction: its link as the money model says it (status, both sides).
    pub link: Option<LinkView>,
    /// For a transaction without a link: why (withdrawn, or the statuses were not computed).
    pub link_note: Option<String>,
    /// Findings about this record itself: a treaty action (or a correction carrying one) by
    /// an organisation that the treaty text does not list as a party (`view::treaty`, the
    /// finding `verify` reports). The record stays valid; the finding says why it counts for
    /// nothing.
    pub findings: Vec<String>,
}

/// Whether a stored record is valid, and if not, why.
#[derive(Debug, Serialize)]
pub struct Validity {
    /// False for a record the network's governance declared not valid.
    pub valid: bool,
    /// The rule's code (`key-revoked`, `member-removed`, …).
    pub code: Option<String>,
    /// Why, for people.
    pub reason: Option<String>,
    /// The governance record that made it invalid.
    pub by: Option<RecordId>,
}

/// A record as its page reads it, once: its bytes (withheld ones too) and whether they were
/// found in its author's chain or held as revoked. The page's other reads start from it
/// (each lookup by id costs sled three point reads and the id's hash).
pub struct HeldRecord {
    /// Its id.
    pub id: RecordId,
    /// Its wire bytes (a withheld envelope when redacted).
    pub(super) bytes: Vec<u8>,
    /// Found in its author's chain (false: held as revoked, outside the chains).
    pub(super) in_chain: bool,
}

/// The record `id` names, read once: in a chain, or held as revoked (as
/// [`StoreReader::get`] finds it).
fn held_record(store: &StoreReader, id: &RecordId) -> Result<Option<HeldRecord>, StoreError> {
    if let Some((_, _, bytes)) = store.get_in_chain(id)? {
        return Ok(Some(HeldRecord {
            id: *id,
            bytes,
            in_chain: true,
        }));
    }
    Ok(store.revocation(id)?.map(|revoked| HeldRecord {
        id: *id,
        bytes: revoked.bytes,
        in_chain: false,
    }))
}

/// What a record page's address names.
pub enum Addressed {
    /// The record, read: the address is its full id as pages write it.
    Held(HeldRecord),
    /// The full id of the record a prefix (or an id in capitals, or with spaces) names: the
    /// page redirects to it.
    Other(RecordId),
}

/// The record a record page's address names. A full id in lowercase hex (the address every
/// page links to) is read once, bytes and all, where [`resolve_id`] would read it only to
/// say it exists; anything else is resolved by [`resolve_id`].
pub fn addressed_record(store: &StoreReader, text: &str) -> Result<Addressed, Problem> {
    let full_lowercase = text.len() == ID_HEX_DIGITS
        && text
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
    if full_lowercase {
        if let Ok(id) = RecordId::from_hex(text) {
            return match held_record(store, &id)? {
                Some(held) => Ok(Addressed::Held(held)),
                None => Err(Problem::NotFound(format!(
                    "no record id starts with {text}"
                ))),
            };
        }
    }
    resolve_id(store, text).map(Addressed::Other)
}

/// Reads a record's page.
pub fn record_page(
    store: &StoreReader,
    authority: &Authority,
    id: &RecordId,
) -> Result<RecordPage, Problem> {
    let held = held_record(store, id)?
        .ok_or_else(|| Problem::NotFound(format!("record {id} is not stored on this node")))?;
    record_page_of(store, authority, held)
}

/// The page of a record already read (not withheld: [`super::redacted_page_of`] shows those).
pub(crate) fn record_page_of(
    store: &StoreReader,
    authority: &Authority,
    held: HeldRecord,
) -> Result<RecordPage, Problem> {
    let (id, in_chain) = (&held.id, held.in_chain);
    let decoded = decode(held.bytes)?;
    let author = decoded.signed.header.author.clone();
    let seq = decoded.signed.header.seq;
    let (forked_here, chain_forked) = store.fork_at(&author, seq)?;
    let chain_length = store.head(&author)?.map_or(0, |head| head.seq + 1);
    // Only the next record's id is shown: its header is parsed, its body is not decoded.
    let next = match store.record_at(&author, seq.saturating_add(1))? {
        // From the header alone: the next record may be withheld (redacted).
        Some(bytes) => Some(aidledger_spec::signed::record_id_of_bytes(&bytes).map_err(
            |error| StoreError::Corrupt(format!("a stored record does not parse: {error}")),
        )?),
        None => None,
    };
    let chain = ChainStatus {
        chain_length,
        next,
        forked_here,
        chain_forked,
    };
    let validity = match store.revocation(id)? {
        Some(revoked) => Validity {
            valid: false,
            code: Some(revoked.code),
            reason: Some(revoked.reason),
            by: revoked.by,
        },
        None => Validity {
            valid: true,
            code: None,
            reason: None,
            by: None,
        },
    };
    // Read once: the lists of records naming this one and the money model both start from them.
    let acknowledged = Referrers::Acknowledging.marked(store, id)?;
    let corrected = Referrers::Correcting.marked(store, id)?;
    let names = PageNames::new(store, authority);
    let header = &decoded.signed.header;
    let mut members = names.members(orgs_named(&decoded.body));
    if let Some(member) = authority.member(&author) {
        members.insert(member.id.clone(), member.name.clone());
    }
    let activity_title = match &decoded.body {
        // Through the page's names, which keep it for the headline.
        Body::Transaction(tx) => names.activity_title(&tx.activity_id),
        _ => None,
    };
    let record = RecordView::of(&decoded.signed, &decoded.body);
    let mut page = RecordPage {
        headline: String::new(), // as it stands, once the latest correction is known
        status: String::new(),
        status_line: StatusLine::of(&decoded.body, None, None, None, &names),
        label: headline::label(&decoded.body),
        network_id: store.network_id().to_hex(),
        names: members,
        activity_title,
        changed: Vec::new(),
        body: decoded.body,
        validity,
        author_name: authority
            .member(&author)
            .map(|member| member.name.clone())
            .unwrap_or_default(),
        signature: lower_hex(&decoded.signed.signature.0),
        chain,
        acknowledges: None,
        acknowledged_by: referencing_if(store, Referrers::Acknowledging, id, acknowledged)?,
        corrects: None,
        corrected_by: referencing_if(store, Referrers::Correcting, id, corrected)?,
        changes: Vec::new(),
        treaty: None,
        link: None,
        link_note: None,
        findings: Vec::new(),
        record,
    };
    match &page.body {
        Body::Transaction(transaction) => {
            if let Some(target) = &transaction.acknowledges {
                page.acknowledges = load_summary(store, target)?;
            }
            if page.validity.valid {
                // What `money::plain_transaction` would read again: the record and its markers.
                let plain =
                    (in_chain && !acknowledged && !corrected && transaction.acknowledges.is_none())
                        .then_some(transaction);
                let model = record_model_of(store, id, today_utc(), plain)?;
                (page.link, page.link_note) = link_in(model, id);
            }
        }
        Body::TreatyAction(action) => {
            page.treaty = load_summary(store, &action.treaty)?;
            page.findings = non_party_findings(store, id, &author, seq, &page.body, action)?;
        }
        Body::Correction(correction) => {
            page.corrects = load_summary(store, &correction.corrects)?;
            page.changes = changes(store, correction)?;
            if let (Some(before), Some(replacement)) =
                (names.record(&correction.corrects), &correction.replacement)
            {
                page.changed = headline::changes(&before, &replacement.to_body(), &names);
            }
            if let Some(Replacement::TreatyAction(action)) = &correction.replacement {
                page.findings = non_party_findings(store, id, &author, seq, &page.body, action)?;
            }
        }
        Body::TreatyText(_)
        | Body::Statement(_)
        | Body::Proposal(_)
        | Body::Approval(_)
        | Body::KeyRotation(_)
        | Body::Activity(_)
        | Body::Redaction(_) => {}
    }
    let latest = latest_own_correction(store, &author, seq, &page.corrected_by)?;
    let revoked = if page.validity.valid {
        None
    } else {
        Some(
            page.validity
                .reason
                .as_deref()
                .unwrap_or("declared not valid"),
        )
    };
    page.status_line = StatusLine::of(
        &page.body,
        revoked,
        latest.as_ref(),
        page.link.as_ref().map(|link| &link.status),
        &names,
    );
    page.status = page.status_line.text();
    page.headline = headline::standing_headline(
        &author,
        header.timestamp_ms,
        &page.body,
        latest.as_ref(),
        &names,
    );
    Ok(page)
}

/// The correction that stands for a record: its author's latest, later in its chain (a
/// correction by anyone else is listed but changes nothing; `view::corrections`).
fn latest_own_correction(
    store: &StoreReader,
    author: &str,
    seq: u64,
    corrected_by: &[Summary],
) -> Result<Option<Correction>, StoreError> {
    let latest = corrected_by
        .iter()
        .filter(|summary| summary.author == author && summary.seq > seq)
        .max_by_key(|summary| summary.seq);
    let Some(latest) = latest else {
        return Ok(None);
    };
    let Some(bytes) = store.get(&latest.id)? else {
        return Ok(None);
    };
    Ok(match decode_held(bytes)?.map(|decoded| decoded.body) {
        Some(Body::Correction(correction)) => Some(correction),
        _ => None,
    })
}

/// The finding of a treaty action (or of a correction carrying one) by a non-party, judged by
/// the one rule of `view::treaty` against the acted-upon text when this node holds it.
fn non_party_findings(
    store: &StoreReader,
    id: &RecordId,
    author: &str,
    seq: u64,
    body: &Body,
    action: &TreatyAction,
) -> Result<Vec<String>, StoreError> {
    let Some(bytes) = store.get(&action.treaty)? else {
        return Ok(Vec::new()); // the text is not held: nothing to judge the action by
    };
    // A redacted text: nothing to judge the action by either.
    let Some(text) = decode_held(bytes)? else {
        return Ok(Vec::new());
    };
    let Body::TreatyText(treaty) = &text.body else {
        return Ok(Vec::new());
    };
    let mut records = TreatyRecords::for_findings();
    records.add_text(action.treaty, treaty);
    records.add(*id, author, seq, body);
    Ok(records
        .non_party_findings()
        .iter()
        .map(NonPartyAction::line)
        .collect())
}

/// A transaction's link from the money model over the records it depends on, as of
/// `as_of`, or why there is none.
pub fn record_link(
    store: &StoreReader,
    id: &RecordId,
    as_of: Date,
) -> Result<(Option<LinkView>, Option<String>), StoreError> {
    Ok(link_in(record_model(store, id, as_of)?, id))
}

/// A transaction's link in its page's money model, or why there is none.
fn link_in(page: PageModel, id: &RecordId) -> (Option<LinkView>, Option<String>) {
    let model = match page.model {
        Ok(model) => model,
        Err(note) => return (None, Some(note)),
    };
    if let Some(link) = model.link_of(id) {
        return (Some(LinkView::of(&link)), None);
    }
    let note = match model.entry(id) {
        Some(entry) if entry.withdrawn => "withdrawn by its author; no receipt answers it",
        _ => "in no link",
    };
    (None, Some(note.to_owned()))
}

/// The fields a correction changes, by comparing the corrected body with the replacement.
fn changes(store: &StoreReader, correction: &Correction) -> Result<Vec<Change>, Problem> {
    let Some(bytes) = store.get(&correction.corrects)? else {
        return Ok(Vec::new());
    };
    // A redacted corrected record: what it said is gone, so no field is shown as changed.
    let Some(before) = decode_held(bytes)? else {
        return Ok(Vec::new());
    };
    let before = flatten(&body_json(&before.body));
    let after = match &correction.replacement {
        Some(replacement) => flatten(&body_json(&replacement.to_body())),
        None => BTreeMap::new(),
    };
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    Ok(fields
        .into_iter()
        .filter(|field| before.get(*field) != after.get(*field))
        .map(|field| Change {
            field: field.clone(),
            before: before.get(field).cloned().unwrap_or_default(),
            after: after.get(field).cloned().unwrap_or_default(),
        })
        .collect())
}

/// A JSON value as `path → text` pairs (nulls left out).
pub fn flatten(value: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    flatten_into(value, String::new(), &mut out);
    out
}

fn flatten_into(value: &Value, path: String, out: &mut BTreeMap<String, String>) {
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    match value {
        Value::Null => {}
        Value::Object(map) => map
            .iter()
            .for_each(|(name, inner)| flatten_into(inner, join(name), out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(index, inner)| flatten_into(inner, join(&index.to_string()), out)),
        Value::String(text) => {
            out.insert(path, text.clone());
        }
        other => {
            out.insert(path, other.to_string());
        }
    }
}

/// Resolves a full id or a unique prefix of hex digits.
pub fn resolve_id(store: &StoreReader, text: &str) -> Result<RecordId, Problem> {
    let text = text.trim().to_ascii_lowercase();
    let hex_only = text.bytes().all(|byte| byte.is_ascii_hexdigit());
    if text.is_empty() || text.len() > ID_HEX_DIGITS || !hex_only {
        return Err(Problem::BadRequest(format!(
            "{text:?} is not a record id (1 to {ID_HEX_DIGITS} hex digits)"
        )));
    }
    // A full id needs no search, only point reads (a range scan costs sled far more): in a
    // chain, or held as revoked, which the id index (chains only) lacks.
    if text.len() == ID_HEX_DIGITS {
        if let Ok(id) = RecordId::from_hex(&text) {
            if store.position(&id)?.is_some() || store.revocation(&id)?.is_some() {
                return Ok(id);
            }
            return Err(Problem::NotFound(format!(
                "no record id starts with {text}"
            )));
        }
    }
    let matches = ids_with_prefix(store, &text, 2)?;
    match matches.as_slice() {
        [] => Err(Problem::NotFound(format!(
            "no record id starts with {text}"
        ))),
        [id] => Ok(*id),
        _ => Err(Problem::Ambiguous {
            prefix: text,
            count: matches.len(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_nested_json_to_paths() {
        let value = serde_json::json!({"value": {"amount": "1.5", "currency": "GBP"}, "parties": ["A", "B"], "none": null});
        let flat = flatten(&value);
        assert_eq!(flat["value.amount"], "1.5");
        assert_eq!(flat["parties.1"], "B");
        assert!(!flat.contains_key("none"));
    }
}
