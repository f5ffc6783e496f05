//! The money of a page, from the one money model (`aidledger_view::money`): the records the
//! page's links depend on are gathered from the index (`gather.rs`), corrected by the shared
//! rules and handed to `MoneyModel::build`, as the CLI's `flow` and `reconcile` hand it every
//! record. Nothing here decides a status; this file only picks the links a page concerns and
//! shapes them for JSON and HTML.

use aidledger_spec::record::{transaction_type_name, Transaction};
use aidledger_spec::text::Date;
use aidledger_view::corrections::{CorrectionsBuilder, Entry};
use aidledger_view::money::{Finding, Link, LinkKey, LinkStatus, MoneyModel, WINDOW_DAYS_DEFAULT};

use super::gather::{gather, gather_explicit, Gathered};
use super::*;
use crate::limits::{MONEY_PAGE_RECORDS_MAX, RECORD_PAGE_LINK_RECORDS_MAX};

/// The money model over the records gathered for `activities` and `ids`, as of `as_of`; or
/// why it was not built (more records than [`MONEY_PAGE_RECORDS_MAX`], an amount that is
/// not an exact decimal).
pub struct PageModel {
    /// The model, when built.
    pub model: Result<MoneyModel, String>,
    /// What was gathered.
    pub gathered: Gathered,
}

/// Gathers and builds the money model of a page.
pub fn page_model(
    store: &StoreReader,
    activities: &[&str],
    ids: &[RecordId],
    as_of: Date,
) -> Result<PageModel, StoreError> {
    let gathered = gather(store, activities, ids)?;
    build(gathered, as_of)
}

/// The money model of a transaction's record page: its explicit link alone when it is in
/// one (a few point reads: most receipts and acknowledged disbursements), else the records
/// of its activities' listings as for a page, when they are at most
/// [`RECORD_PAGE_LINK_RECORDS_MAX`]; over that the model says where the status is (the
/// activity page), so that a record page stays a few reads.
pub fn record_model(
    store: &StoreReader,
    id: &RecordId,
    as_of: Date,
) -> Result<PageModel, StoreError> {
    let plain = plain_transaction(store, id)?;
    record_model_of(store, id, as_of, plain.as_ref())
}

/// [`record_model`] when what [`plain_transaction`] says of `id` is known already (a record
/// page has read the record and its markers). Not public: `plain` is trusted to be what
/// [`plain_transaction`] would say.
pub(super) fn record_model_of(
    store: &StoreReader,
    id: &RecordId,
    as_of: Date,
    plain: Option<&Transaction>,
) -> Result<PageModel, StoreError> {
    // Most transactions are neither acknowledged, corrected nor receipts naming a record:
    // their link is not explicit, and the original is current (two marker reads and the
    // record tell), so no model is built before the listings are counted.
    if let Some(transaction) = plain {
        for activity in link_activities(transaction) {
            if let Some(over) = over_note(store, &activity)? {
                return Ok(PageModel {
                    model: Err(over),
                    gathered: Gathered::default(),
                });
            }
        }
        return page_model(store, &[], &[*id], as_of);
    }
    let explicit = build(gather_explicit(store, id)?, as_of)?;
    let Ok(model) = &explicit.model else {
        return Ok(explicit);
    };
    if model
        .link_of(id)
        .is_some_and(|link| matches!(link.key(), LinkKey::Acknowledged(_)))
    {
        return Ok(explicit);
    }
    // Its link is an activity link (or it is alone): the activities whose listings hold it.
    let Some(entry) = model.entry(id) else {
        return Ok(explicit);
    };
    for activity in link_activities(&entry.transaction) {
        if let Some(over) = over_note(store, &activity)? {
            return Ok(PageModel {
                model: Err(over),
                gathered: explicit.gathered,
            });
        }
    }
    page_model(store, &[], &[*id], as_of)
}

/// The activities whose listings hold a transaction's activity link: its own, and the
/// provider's activity it names.
fn link_activities(transaction: &Transaction) -> Vec<String> {
    let mut activities = vec![transaction.activity_id.clone()];
    activities.extend(
        transaction
            .provider
            .as_ref()
            .map(|party| party.activity_id.clone())
            .filter(|activity| !activity.is_empty()),
    );
    activities
}

/// What a record page says instead of a status when an activity lists more than
/// [`RECORD_PAGE_LINK_RECORDS_MAX`] records.
fn over_note(store: &StoreReader, activity: &str) -> Result<Option<String>, StoreError> {
    // The totals first (a handful of keys): most pages of a large activity know from them.
    let over = counted_over(store, activity, RECORD_PAGE_LINK_RECORDS_MAX)?
        || listed_over(store, activity, RECORD_PAGE_LINK_RECORDS_MAX)?;
    Ok(over.then(|| {
        format!(
            "its link is one of activity {activity}'s, which lists more than \
                 {RECORD_PAGE_LINK_RECORDS_MAX} records: its status is on the activity's page"
        )
    }))
}

/// A transaction record of a chain that no record acknowledges or corrects and that
/// acknowledges nothing: its original is current and its link is not explicit. `None`
/// otherwise.
fn plain_transaction(
    store: &StoreReader,
    id: &RecordId,
) -> Result<Option<Transaction>, StoreError> {
    let tree = store.index_tree();
    for marker in [tag::ACKNOWLEDGED_MARK, tag::CORRECTED_MARK] {
        if tree.contains_key(SortKey::tagged(marker).id(&id.0).into_bytes())? {
            return Ok(None);
        }
    }
    let Some((_, _, bytes)) = store.get_in_chain(id)? else {
        return Ok(None);
    };
    Ok(match decode_held(bytes)?.map(|decoded| decoded.body) {
        Some(Body::Transaction(transaction)) if transaction.acknowledges.is_none() => {
            Some(transaction)
        }
        _ => None,
    })
}

/// Whether an activity's current transactions alone are more than `max`, from its totals
/// (`s` keys: one per side, author, type and currency, each with a count). Every transaction
/// counted there is listed under the activity too (totals and listings take the same
/// `index::activities` of each current version), so a count over `max` means listings over
/// `max` without reading them: a record page of a large activity then reads a few keys where
/// it read `max` + 1 listings (the million-record bench's record pages, BENCHMARKS.md issue 20).
fn counted_over(store: &StoreReader, activity: &str, max: usize) -> Result<bool, StoreError> {
    let prefix = SortKey::tagged(tag::ACTIVITY_TOTAL)
        .text(activity)
        .into_bytes();
    let max = u64::try_from(max).unwrap_or(u64::MAX);
    let mut counted: u64 = 0;
    for entry in store.index_tree().scan_prefix(&prefix) {
        let (key, value) = entry?;
        counted = counted.saturating_add(Total::decode(&key, &value)?.count);
        if counted > max {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether an activity's listings hold more than `max` records (reads listing keys only
/// until it knows).
fn listed_over(store: &StoreReader, activity: &str, max: usize) -> Result<bool, StoreError> {
    let prefix = SortKey::tagged(tag::ACTIVITY_RECORD)
        .text(activity)
        .into_bytes();
    let mut listed = 0;
    for entry in store.index_tree().scan_prefix(&prefix) {
        let (key, value) = entry?;
        listed += Listing::decode(&key, &value)?.len();
        if listed > max {
            return Ok(true);
        }
    }
    Ok(false)
}

fn build(gathered: Gathered, as_of: Date) -> Result<PageModel, StoreError> {
    if !gathered.complete {
        return Ok(PageModel {
            model: Err(format!(
                "more than {MONEY_PAGE_RECORDS_MAX} records take part in these links: the \
                 explorer does not compute their statuses; `aidledger reconcile` reads every \
                 record"
            )),
            gathered,
        });
    }
    let mut builder = CorrectionsBuilder::new();
    for record in &gathered.records {
        builder.add(record.id, &record.author, record.seq, &record.body);
    }
    let model = MoneyModel::build(builder.finish().into_all(), as_of, WINDOW_DAYS_DEFAULT)
        .map_err(|error| format!("the money statuses cannot be computed: {error}"));
    Ok(PageModel { model, gathered })
}

/// Whether a link concerns `activity`: one of its transactions (as the model holds it:
/// the current version, or the version that was withdrawn) names the activity, as its own
/// or as a party's. The links of an activity page.
pub fn concerns(link: &Link<'_>, activity: &str) -> bool {
    link.provider()
        .chain(link.receiver())
        .any(|entry| crate::explorer::index::activities(&entry.transaction).contains(activity))
}

/// Whether a finding concerns `activity`: its link does ([`concerns`]), its transaction
/// names the activity (provider-differs), or it is the activity's commitment question.
pub fn finding_concerns(finding: &Finding<'_>, activity: &str) -> bool {
    match finding {
        Finding::Link(link) => concerns(link, activity),
        Finding::ProviderDiffers { entry, .. } => {
            crate::explorer::index::activities(&entry.transaction).contains(activity)
        }
        Finding::Commitment(question) => question.activity == activity,
    }
}

/// Today's date in UTC: the `as_of` of the explorer's statuses (a transaction older than
/// the window and still unacknowledged is a finding).
pub fn today_utc() -> Date {
    date_of_day_number(today_day_number())
}

/// Today as a day number (days from 1970-01-01, UTC): what [`today_utc`] is, and what the
/// explorer's response cache keys its pages by (`explorer::cache`).
pub fn today_day_number() -> i64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    i64::try_from(seconds / 86_400).unwrap_or(i64::MAX / 2)
}

/// The civil date of a day number (days from 1970-01-01), the inverse of the money model's
/// `day_number`; 1970-01-01 for a day no [`Date`] holds (a clock far off).
pub fn date_of_day_number(days: i64) -> Date {
    aidledger_view::money::date_of_day(days).unwrap_or(Date {
        year: 1970,
        month: 1,
        day: 1,
    })
}

/// What a pending `unacknowledged` adds to the status text (inside the window: not a
/// finding yet).
pub const PENDING: &str = " (pending)";

/// A status's text as pages show it: the model's text, and [`PENDING`] after an
/// `unacknowledged` that is still within the window.
pub fn status_line(status: &LinkStatus) -> String {
    match status {
        LinkStatus::Unacknowledged { pending: true } => format!("{}{PENDING}", status.text()),
        other => other.text(),
    }
}

/// One transaction of a link's side, as pages show it.
#[derive(Clone, Debug, Serialize)]
pub struct SideEntry {
    /// The transaction record (its id also after a correction).
    pub record: RecordId,
    /// Its author.
    pub author: String,
    /// Its activity.
    pub activity: String,
    /// Its type's name.
    pub type_name: &'static str,
    /// The amount as written (its scale kept).
    pub amount: String,
    /// Its currency.
    pub currency: String,
    /// Its value date, `YYYY-MM-DD`.
    pub value_date: String,
    /// Whether its author withdrew it (listed, not summed).
    pub withdrawn: bool,
    /// The correction whose replacement is shown, if any.
    pub corrected_by: Option<RecordId>,
}

impl SideEntry {
    fn of(entry: &Entry) -> SideEntry {
        let transaction = &entry.transaction;
        let date = transaction.value_date;
        SideEntry {
            record: entry.id,
            author: entry.author.clone(),
            activity: transaction.activity_id.clone(),
            type_name: transaction_type_name(transaction.transaction_type),
            amount: transaction.value.amount.clone(),
            currency: transaction.value.currency.clone(),
            value_date: date.to_string(),
            withdrawn: entry.withdrawn,
            corrected_by: entry.corrected_by,
        }
    }
}

/// A link as pages show it: what joins it, its status and both sides.
#[derive(Clone, Debug, Serialize)]
pub struct LinkView {
    /// `acknowledgement`, `activity` or `unlinked`.
    pub kind: &'static str,
    /// The key as text: the acknowledged record's id, `ACTIVITY → ORG`, or the record's id.
    pub key: String,
    /// `disbursement`, `commitment`, `pledge`, or none (an explicit link of other types).
    pub pair: Option<&'static str>,
    /// The status (`{"status":"short","shortfall":[…],"text":"short 5000.00 GBP"}`).
    pub status: LinkStatus,
    /// Its text form (`short 5000.00 GBP`; [`status_line`]).
    pub text: String,
    /// Why it stands alone, when it does (`receiver not named`).
    pub note: Option<&'static str>,
    /// The provider's sums per currency (`125000.00 GBP`).
    pub provider_sum: String,
    /// The receiver's sums per currency.
    pub receiver_sum: String,
    /// The provider side (withdrawn transactions flagged).
    pub provider: Vec<SideEntry>,
    /// The receiver side.
    pub receiver: Vec<SideEntry>,
}

impl LinkView {
    /// The view of a model's link.
    pub fn of(link: &Link<'_>) -> LinkView {
        LinkView {
            kind: link.key().kind(),
            key: link.key().text(),
            pair: link.pair().map(|pair| pair.name()),
            status: link.status().clone(),
            text: status_line(link.status()),
            note: link.note(),
            provider_sum: link.provider_sums().text(),
            receiver_sum: link.receiver_sums().text(),
            provider: link.provider().map(SideEntry::of).collect(),
            receiver: link.receiver().map(SideEntry::of).collect(),
        }
    }
}

/// One finding as pages show it: its name, its line of text with the amounts, the link it is
/// about (both sides' records) and the model's JSON of it.
#[derive(Clone, Debug, Serialize)]
pub struct FindingView {
    /// `short`, `over`, `currency-differs`, `withdrawn`, `unacknowledged`, `unreported`,
    /// `provider-differs`, `partly-disbursed`, `not-disbursed`, `over-disbursed`.
    pub finding: &'static str,
    /// One line with the amounts (the model's).
    pub text: String,
    /// The link it is about, with both sides' records.
    pub link: Option<LinkView>,
    /// The records it is about when it is not a link's (a provider-differs transaction, a
    /// commitment question's commitments and disbursements).
    pub records: Vec<RecordId>,
    /// The model's JSON of the finding (amounts as strings).
    pub detail: Value,
}

impl FindingView {
    /// The view of a model's finding.
    pub fn of(finding: &Finding<'_>) -> FindingView {
        let (link, records) = match finding {
            Finding::Link(link) => (Some(LinkView::of(link)), Vec::new()),
            Finding::ProviderDiffers { entry, link } => {
                (link.as_ref().map(LinkView::of), vec![entry.id])
            }
            Finding::Commitment(question) => (
                None,
                question
                    .commitments
                    .iter()
                    .chain(&question.disbursements)
                    .copied()
                    .collect(),
            ),
        };
        FindingView {
            finding: finding.name(),
            text: finding.text(),
            link,
            records,
            detail: finding.to_json(),
        }
    }
}

/// The money of an activity: the findings first, then its links and commitment questions,
/// all from the money model over the records its links depend on.
#[derive(Debug, Serialize)]
pub struct ActivityMoney {
    /// Whether the statuses were computed; when not, `note` says why (and nothing below is
    /// filled: statuses of a part of a link would be wrong).
    pub computed: bool,
    /// Why the statuses were not computed.
    pub note: Option<String>,
    /// The date the statuses are as of (today, UTC), `YYYY-MM-DD`.
    pub as_of: String,
    /// Days after which an unacknowledged transaction is a finding.
    pub window_days: u32,
    /// Findings concerning the activity, shortfalls first (the model's order).
    pub findings: Vec<FindingView>,
    /// Every link concerning the activity, in the model's key order.
    pub links: Vec<LinkView>,
    /// The commitment questions of the activity (every status, `disbursed-in-full` too).
    pub commitments: Vec<Value>,
    /// Each listed transaction's link status text, by record id (for the records table).
    #[serde(skip)]
    pub status_of: BTreeMap<RecordId, String>,
    /// The pictures of its money (flows and months), from the same links.
    #[serde(skip)]
    pub pictures: crate::explorer::chart::Pictures,
}

/// The money of `activity` as of `as_of`.
pub fn activity_money(
    store: &StoreReader,
    activity: &str,
    as_of: Date,
) -> Result<ActivityMoney, StoreError> {
    let page = page_model(store, &[activity], &[], as_of)?;
    let mut money = ActivityMoney {
        computed: false,
        note: None,
        as_of: as_of.to_string(),
        window_days: WINDOW_DAYS_DEFAULT,
        findings: Vec::new(),
        links: Vec::new(),
        commitments: Vec::new(),
        status_of: BTreeMap::new(),
        pictures: Default::default(),
    };
    let model = match page.model {
        Ok(model) => model,
        Err(note) => {
            money.note = Some(note);
            return Ok(money);
        }
    };
    money.computed = true;
    money.findings = model
        .findings()
        .iter()
        .filter(|finding| finding_concerns(finding, activity))
        .map(FindingView::of)
        .collect();
    money.links = model
        .links()
        .filter(|link| concerns(link, activity))
        .map(|link| LinkView::of(&link))
        .collect();
    money.commitments = model
        .commitments()
        .iter()
        .filter(|question| question.activity == activity)
        .map(|question| question.to_json())
        .collect();
    money.pictures = crate::explorer::chart::pictures(
        &model,
        |link| concerns(link, activity),
        |_| true,
        &|id| member_name(store, id),
    );
    for id in &page.gathered.listed {
        if let Some(link) = model.link_of(id) {
            money.status_of.insert(*id, status_line(link.status()));
        }
    }
    Ok(money)
}

/// A member's name in the network's genesis, for the pictures' labels.
pub fn member_name(store: &StoreReader, id: &str) -> Option<String> {
    store.genesis().member(id).map(|member| member.name.clone())
}

/// Most activities an organisation page's pictures read: those its newest records name,
/// newest first.
pub const ORG_PICTURE_ACTIVITIES_MAX: usize = 10;

/// Most records the listings of an organisation page's pictured activities may hold together;
/// an activity that would take the sum over it is left out (and named): the pictures cost the
/// page tens of reads at most, so that organisation pages stay fast (p99 < 50 ms at 100
/// clients), while an activity page draws every link of its activity. 400 cost the million-record
/// bench's organisation pages (activities of 250 records) ~10 ms of CPU each: 204 pages/s,
/// p99 1.3 s (BENCHMARKS.md, issue 20).
pub const ORG_PICTURE_RECORDS_MAX: usize = 64;

/// The pictures of an organisation's money and what they cover.
#[derive(Debug, Default)]
pub struct OrgPictures {
    /// The flows it gives or receives in, and its own disbursements and receipts per month.
    pub pictures: crate::explorer::chart::Pictures,
    /// The activities read (at most [`ORG_PICTURE_ACTIVITIES_MAX`]).
    pub activities: Vec<String>,
    /// The activities left out: their listings would take the records read over
    /// [`ORG_PICTURE_RECORDS_MAX`].
    pub left_out: Vec<String>,
    /// Why nothing is drawn, when the model was not built.
    pub note: Option<String>,
}

/// The pictures of `org`'s money over the links of `candidates` (as many as fit in
/// [`ORG_PICTURE_RECORDS_MAX`] listed records): the links it provides or receives in (as
/// author or as a named party), and the bars of the transactions it authored.
pub fn org_pictures(
    store: &StoreReader,
    org: &str,
    candidates: Vec<String>,
    as_of: Date,
) -> Result<OrgPictures, StoreError> {
    let (mut activities, mut left_out) = (Vec::new(), Vec::new());
    let mut budget = ORG_PICTURE_RECORDS_MAX;
    for activity in candidates {
        match listed_within(store, &activity, budget)? {
            Some(listed) => {
                budget -= listed;
                activities.push(activity);
            }
            None => left_out.push(activity),
        }
    }
    if activities.is_empty() {
        return Ok(OrgPictures {
            left_out,
            ..OrgPictures::default()
        });
    }
    let refs: Vec<&str> = activities.iter().map(String::as_str).collect();
    let page = page_model(store, &refs, &[], as_of)?;
    let model = match page.model {
        Ok(model) => model,
        Err(note) => {
            return Ok(OrgPictures {
                activities,
                left_out,
                note: Some(note),
                ..OrgPictures::default()
            })
        }
    };
    let names = |entry: &Entry| {
        entry.author == org
            || [&entry.transaction.provider, &entry.transaction.receiver]
                .into_iter()
                .flatten()
                .any(|party| party.org_ref == org)
    };
    let pictures = crate::explorer::chart::pictures(
        &model,
        |link| link.provider().chain(link.receiver()).any(names),
        |entry| entry.author == org,
        &|id| member_name(store, id),
    );
    Ok(OrgPictures {
        pictures,
        activities,
        left_out,
        note: None,
    })
}

/// How many records an activity's listings hold, if at most `max` (reads listing keys only
/// until it knows).
fn listed_within(
    store: &StoreReader,
    activity: &str,
    max: usize,
) -> Result<Option<usize>, StoreError> {
    if counted_over(store, activity, max)? {
        return Ok(None); // known from its totals, without reading its listings
    }
    let prefix = SortKey::tagged(tag::ACTIVITY_RECORD)
        .text(activity)
        .into_bytes();
    let mut listed = 0;
    for entry in store.index_tree().scan_prefix(&prefix) {
        let (key, value) = entry?;
        listed += Listing::decode(&key, &value)?.len();
        if listed > max {
            return Ok(None);
        }
    }
    Ok(Some(listed))
}
