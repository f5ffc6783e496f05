//! `show` and `log`: one record, or a page of an organisation's chain, read from a source that
//! is verified as a whole first, each record judged under the source's governance.

use std::process::ExitCode;

use aidledger_cli::checked::{verify_governed, Checked};
use aidledger_cli::compose;
use aidledger_cli::describe;
use aidledger_cli::governance::view::revocation_text;
use aidledger_cli::redacted::{self, OrderFacts};
use aidledger_cli::source::Source;
use aidledger_cli::treaty;
use aidledger_spec::governance::Authority;
use aidledger_spec::record::Correction;
use aidledger_spec::withheld::{is_withheld, WithheldRecord};
use aidledger_spec::{Body, RecordId, Rejection, RuleCheckedRecord};
use aidledger_view::activity_text::PREFERRED_LANGUAGE;
use aidledger_view::corrections::CorrectionsBuilder;
use aidledger_view::headline::{standing_headline, Names};
use aidledger_view::money::{MoneyModel, WINDOW_DAYS_DEFAULT};
use aidledger_view::status_line::StatusLine;
use aidledger_view::treaty::TreatyRecords;
use anyhow::{bail, Result};
use std::collections::HashMap;

use crate::args::NetworkArgs;
use crate::reading::{not_found, read_or_refuse, verdict};

/// The money model of a source's transactions as of today (UTC), with the default window; none
/// when the clock reads no date or the model cannot be built (too many transactions, an amount
/// that overflows): the status line then says where the record stands without its link.
fn money_model(transactions: CorrectionsBuilder) -> Option<MoneyModel> {
    let as_of = aidledger_cli::money::today_utc()?;
    MoneyModel::build(transactions.finish().into_all(), as_of, WINDOW_DAYS_DEFAULT).ok()
}

pub(crate) fn show(
    id: &str,
    source: &Source,
    network: &NetworkArgs,
    json: bool,
) -> Result<ExitCode> {
    let id = compose::record_id("RECORD_ID", id)?;
    // A treaty text is shown with its standing, a treaty action with its findings: both need
    // the source's other treaty records, gathered while it is verified.
    let mut treaties = TreatyRecords::new();
    // The headline names the activity by its title, and the status line needs the
    // corrections of this record: both gathered in the same pass.
    let mut titles: HashMap<String, String> = HashMap::new();
    let mut corrections: Vec<(String, u64, Correction)> = Vec::new();
    // A transaction's status line says what became of its money (`acknowledged in full`,
    // `short by GBP 5,000.00`): the money model over every transaction, as `reconcile` reads it.
    let mut transactions = CorrectionsBuilder::new();
    let mut orders = OrderFacts::default();
    let observe = |record: &aidledger_spec::VerifiedRecord| {
        orders.observe(record);
        treaty::observe(&mut treaties, record);
        let header = record.header();
        transactions.add(record.id(), &header.author, header.seq, record.body());
        match record.body() {
            Body::Activity(activity) => {
                if let Some(title) = activity.title_in(PREFERRED_LANGUAGE) {
                    titles.insert(activity.iati_identifier.clone(), title.to_owned());
                }
            }
            Body::Correction(correction) if correction.corrects == id => {
                corrections.push((header.author.clone(), header.seq, correction.clone()));
            }
            _ => {}
        }
    };
    let checked = match read_or_refuse(source, network, json, observe)? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused),
    };
    let standing = &checked.standing;
    let Some(bytes) = source.record(&id)? else {
        return not_found(standing, &format!("no record {id} in this source"), json);
    };
    if is_withheld(&bytes) {
        return show_withheld(&checked, id, bytes, &orders, json);
    }
    let (record, not_valid) = match verify_governed(&checked.governed_verifier(), bytes) {
        Ok(found) => found,
        Err(rejected) => {
            let problem = format!("record {id} does not verify: {}", rejected.reason);
            return not_found(standing, &problem, json);
        }
    };
    let derivation = checked.derivation();
    let verifier = checked.governed_verifier();
    let names = ShowNames {
        authority: &derivation.authority,
        titles: &titles,
        source,
        verifier: &verifier,
    };
    let header = record.header();
    // The author's latest correction, later in its chain, stands (view::corrections).
    let latest = corrections
        .iter()
        .filter(|(author, seq, _)| *author == header.author && *seq > header.seq)
        .max_by_key(|(_, seq, _)| *seq)
        .map(|(_, _, correction)| correction);
    let headline = standing_headline(
        &header.author,
        header.timestamp_ms,
        record.body(),
        latest,
        &names,
    );
    let revoked = not_valid.as_ref().map(revocation_text);
    let model = money_model(transactions);
    let link = model
        .as_ref()
        .and_then(|model| model.link_of(&id))
        .map(|link| link.status());
    let status = StatusLine::of(record.body(), revoked.as_deref(), latest, link, &names).text();
    let treaty_standing = treaties.standing(&id);
    let findings: Vec<_> = treaties
        .non_party_findings()
        .into_iter()
        .filter(|finding| finding.record == id)
        .collect();
    if json {
        let mut value = describe::record_json(&record);
        value["headline"] = serde_json::json!(headline);
        value["status"] = serde_json::json!(status);
        if let Some(standing) = &treaty_standing {
            value["treaty_standing"] = treaty::standing_json(standing);
        }
        value["findings"] = findings.iter().map(treaty::finding_json).collect();
        value["valid"] = serde_json::json!(not_valid.is_none());
        if let Some(reason) = &not_valid {
            value["not_valid_because"] = serde_json::json!(revocation_text(reason));
            value["revoked"] = serde_json::json!(reason);
        }
        standing.add_to_json(&mut value);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", standing.first_line());
        println!("{headline}\nstatus    {status}");
        let name = derivation
            .authority
            .member(&record.header().author)
            .map_or("", |member| member.name.as_str());
        print!("{}", describe::record_text(&record, name));
        if let Some(standing) = &treaty_standing {
            print!("{}", treaty::standing_text(standing));
        }
        for finding in &findings {
            print!("{}", treaty::finding_text(finding));
        }
        if let Some(reason) = &not_valid {
            println!(
                "validity  NOT VALID: {}; the network's governance declared it invalid",
                revocation_text(reason)
            );
        }
    }
    let code = verdict(standing, json);
    Ok(if not_valid.is_none() {
        code
    } else {
        ExitCode::from(1)
    })
}

/// `show` of a withheld record: valid and redacted when an order in force covers it (its
/// header, and who redacted it, when and why), else the problem the report gives it.
fn show_withheld(
    checked: &Checked,
    id: RecordId,
    bytes: Vec<u8>,
    orders: &OrderFacts,
    json: bool,
) -> Result<ExitCode> {
    let standing = &checked.standing;
    let verifier = checked.governed_verifier();
    let found = redacted::find(&checked.report, &id);
    let (Some((_, entry)), Some(withheld)) = (found, redacted::verify_withheld(&verifier, bytes))
    else {
        let reason = checked
            .report
            .problems()
            .find(|problem| problem.record_id == Some(id))
            .map_or(
                "its content is withheld and no order in force covers it".to_owned(),
                |problem| format!("{} ({})", problem.reason, problem.reason.code()),
            );
        return not_found(
            standing,
            &format!("record {id} does not verify: {reason}"),
            json,
        );
    };
    let header = withheld.header();
    let derivation = checked.derivation();
    let name = derivation
        .authority
        .member(&header.author)
        .map_or("", |member| member.name.as_str());
    let order_text = redacted::order_text(&entry.order, orders);
    if json {
        let mut value = redacted::header_json(id, header);
        value["redacted"] = redacted::order_json(&entry.order, orders);
        value["status"] = serde_json::json!(format!("content withheld: {order_text}"));
        value["valid"] = serde_json::json!(true);
        standing.add_to_json(&mut value);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", standing.first_line());
        println!(
            "{} by {} ({name}), redacted\nstatus    content withheld: {order_text}",
            redacted::kind_name(header.body_kind),
            header.author
        );
        print!("{}", redacted::header_text(id, header, name));
        println!("  order     {}", entry.order.order);
        if let Some(note) = orders.note(&entry.order).filter(|note| !note.is_empty()) {
            println!("  note      {note}");
        }
    }
    Ok(verdict(standing, json))
}

/// Which part of a chain `log` lists.
pub(crate) struct Page {
    pub(crate) limit: usize,
    pub(crate) before_seq: Option<u64>,
}

pub(crate) fn log(
    org: &str,
    source: &Source,
    network: &NetworkArgs,
    page: Page,
    json: bool,
) -> Result<ExitCode> {
    let mut orders = OrderFacts::default();
    let checked = match read_or_refuse(source, network, json, |record| orders.observe(record))? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused),
    };
    let derivation = checked.derivation();
    if derivation.authority.member(org).is_none() {
        let known: Vec<&str> = derivation
            .authority
            .members()
            .map(|member| member.id.as_str())
            .collect();
        bail!(
            "unknown organisation {org:?}: the members are {}",
            known.join(", ")
        );
    }
    let verifier = checked.governed_verifier();
    let mut records = Vec::new();
    for bytes in source.chain_page(org, page.before_seq, page.limit)? {
        let does_not_verify = |rejected: Box<aidledger_spec::verify::RejectedRecord>| {
            anyhow::anyhow!("a record of {org} does not verify: {}", rejected.reason)
        };
        records.push(if is_withheld(&bytes) {
            // A redacted record: listed by its header (the report judged its order).
            Listed::Withheld(verifier.verify_withheld(bytes).map_err(does_not_verify)?)
        } else {
            let (record, not_valid) = verify_governed(&verifier, bytes).map_err(does_not_verify)?;
            Listed::Full(Box::new(record), not_valid)
        });
    }
    let next_before = records
        .last()
        .map(|listed| listed.header().seq)
        .filter(|seq| *seq > 0);
    // How a withheld record stands: the order that covers it, in words, or why none does.
    let withheld_text = |id: &RecordId| match redacted::find(&checked.report, id) {
        Some((_, entry)) => (true, redacted::order_text(&entry.order, &orders)),
        None => (
            false,
            "WITHHELD without an order in force (withheld-without-order)".to_owned(),
        ),
    };
    if json {
        let list: Vec<_> = records
            .iter()
            .map(|listed| match listed {
                Listed::Full(record, not_valid) => {
                    let mut value = describe::record_json(record);
                    value["valid"] = serde_json::json!(not_valid.is_none());
                    if let Some(reason) = not_valid {
                        value["not_valid_because"] = serde_json::json!(revocation_text(reason));
                    }
                    value
                }
                Listed::Withheld(record) => {
                    let mut value = redacted::header_json(record.id(), record.header());
                    let (valid, text) = withheld_text(&record.id());
                    value["valid"] = serde_json::json!(valid);
                    value["redacted"] = redacted::find(&checked.report, &record.id())
                        .map(|(_, entry)| redacted::order_json(&entry.order, &orders))
                        .into();
                    value["status"] = serde_json::json!(text);
                    value
                }
            })
            .collect();
        let mut value =
            serde_json::json!({ "org": org, "records": list, "next_before_seq": next_before });
        checked.standing.add_to_json(&mut value);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", checked.standing.first_line());
        if records.is_empty() {
            println!("{org} has no records here");
        }
        for listed in &records {
            match listed {
                Listed::Full(record, not_valid) => {
                    println!(
                        "{:>6}  {}  {}",
                        record.header().seq,
                        record.id(),
                        describe::summary(record.body())
                    );
                    if let Some(reason) = not_valid {
                        println!("        NOT VALID: {}", revocation_text(reason));
                    }
                }
                Listed::Withheld(record) => println!(
                    "{:>6}  {}  {}: content withheld, {}",
                    record.header().seq,
                    record.id(),
                    redacted::kind_name(record.header().body_kind),
                    withheld_text(&record.id()).1
                ),
            }
        }
        if let Some(next) = next_before {
            eprintln!("more: --before-seq {next}");
        }
    }
    Ok(verdict(&checked.standing, json))
}

/// One record of a `log` page: a full record (with the reason the governance declared it
/// invalid, if it did), or a withheld one (a redacted record's header and signature).
enum Listed {
    Full(Box<RuleCheckedRecord>, Option<Rejection>),
    Withheld(WithheldRecord),
}

impl Listed {
    fn header(&self) -> &aidledger_spec::RecordHeader {
        match self {
            Listed::Full(record, _) => record.header(),
            Listed::Withheld(record) => record.header(),
        }
    }
}

/// The names `show`'s headline uses: members by name, activities by the titles of the
/// source's activity records, other records (a correction's record, an action's treaty) read
/// from the source and verified.
struct ShowNames<'a> {
    authority: &'a Authority,
    titles: &'a HashMap<String, String>,
    source: &'a Source,
    verifier: &'a aidledger_spec::Verifier,
}

impl Names for ShowNames<'_> {
    fn org_name(&self, org: &str) -> Option<String> {
        self.authority.member(org).map(|member| member.name.clone())
    }

    fn activity_title(&self, activity: &str) -> Option<String> {
        self.titles.get(activity).cloned()
    }

    fn record(&self, id: &RecordId) -> Option<Body> {
        // A record that cannot be read or does not verify gives no name: the headline then
        // names it by id, and `show` of that id says why.
        let bytes = self.source.record(id).ok().flatten()?;
        let (record, _) = verify_governed(self.verifier, bytes).ok()?;
        Some(record.body().clone())
    }
}
