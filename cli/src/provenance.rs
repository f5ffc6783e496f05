//! `provenance`: who signed a record with which key, where it stands in its chain, whether the
//! chain holds back to its first record, and what other records say about it.

use aidledger_spec::chain::{ChainReport, Report};
use aidledger_spec::governance::Derivation;
use aidledger_spec::redaction::RedactedEntry;
use aidledger_spec::verify::{RuleCheckedRecord, VerifiedRecord, Verifier};
use aidledger_spec::withheld::WithheldRecord;
use aidledger_spec::{Body, NetworkId, RecordHeader, RecordId, Rejection};
use aidledger_view::corrections::CorrectionsBuilder;
use aidledger_view::money::{MoneyModel, WINDOW_DAYS_DEFAULT};
use aidledger_view::treaty::{NonPartyAction, TreatyRecords, TreatyStanding};
use serde_json::{json, Value};

use crate::checked::{read_checked, CheckError, Standing};
use crate::describe;
use crate::governance::view;
use crate::money::ledger::RedactedMoney;
use crate::pipeline::SignatureMode;
use crate::redacted::{self, OrderFacts};
use crate::source::{Source, SourceError};
use crate::treaty;

/// Everything provenance found.
pub struct Provenance {
    /// The network, whether it was pinned, and whether the source as a whole verified.
    pub standing: Standing,
    /// The record, if the source has a valid record with that id: authorised, or (when it was
    /// revoked, see `revoked`) by the record rules alone.
    pub record: Option<RuleCheckedRecord>,
    /// The chain report of the record's author.
    pub chain: Option<ChainReport>,
    /// Problems anywhere in the author's chain at or before the record's seq.
    pub chain_problems_before: Vec<String>,
    /// Transactions that acknowledge the record.
    pub acknowledged_by: Vec<VerifiedRecord>,
    /// Corrections of the record.
    pub corrected_by: Vec<VerifiedRecord>,
    /// "Corrections" signed by another organisation than the record's author: a correction
    /// only counts from the author, so these are shown as claims and change nothing.
    pub foreign_corrections: Vec<VerifiedRecord>,
    /// The treaty's standing (when the record is a treaty text): each party's current action,
    /// whether it is in force, actions by non-parties.
    pub treaty: Option<TreatyStanding>,
    /// Findings about the record itself: a treaty action (or a correction carrying one) by an
    /// organisation that is not a party. The record stays valid; this does not change the exit
    /// code.
    pub findings: Vec<NonPartyAction>,
    /// Approvals of the record (when it is a governance proposal).
    pub approvals: Vec<VerifiedRecord>,
    /// The record the target refers to (acknowledged, corrected, or the treaty acted upon).
    pub refers_to: Option<VerifiedRecord>,
    /// The author's display name.
    pub author_name: String,
    /// Set when the record is not valid because the network's governance revoked the key that
    /// signed it or removed its author from an earlier position (the record is then shown from
    /// the record rules alone).
    pub revoked: Option<Rejection>,
    /// The author's signing keys and the positions each may sign, as the governance made them.
    pub key_spans: Vec<String>,
    /// What became of the record as a governance record (a proposal's state, an approval's
    /// proposal's state, a rotation's effect), when it is one.
    pub governance_note: Option<String>,
    /// When the record is a transaction in a money link: the link and its status as the money
    /// model says it today (default window), as text and as JSON.
    pub money: Option<(String, Value)>,
    /// Set when the record is redacted: its withheld envelope (header and signature, verified)
    /// and the order in force that covers it. `record` is then `None`: there is no body.
    pub redacted: Option<(WithheldRecord, RedactedEntry)>,
    /// The orders' dates and notes, read from the source.
    pub orders: OrderFacts,
    /// Set when the record the target refers to is redacted: its author, its entry.
    pub refers_to_redacted: Option<(String, RedactedEntry)>,
}

impl Provenance {
    /// Whether the record exists, verifies, its chain holds from seq 0 to it without a fork,
    /// and the source it came from verifies as a whole (as `verify` would say).
    pub fn is_sound(&self) -> bool {
        self.standing.is_valid()
            && (self.record.is_some() || self.redacted.is_some())
            && self.revoked.is_none()
            && self.chain_problems_before.is_empty()
            && self.linked()
    }

    fn linked(&self) -> bool {
        match (self.header(), &self.chain) {
            (Some(header), Some(chain)) => chain.length > header.seq,
            _ => false,
        }
    }

    /// The record's header: the full record's, or the redacted record's.
    pub fn header(&self) -> Option<&RecordHeader> {
        match (&self.record, &self.redacted) {
            (Some(record), _) => Some(record.header()),
            (None, Some((withheld, _))) => Some(withheld.header()),
            (None, None) => None,
        }
    }
}

/// Traces one record through a whole source (every record is verified on the way, by the
/// reader every command shares), after checking the source's genesis against `pinned`.
pub fn trace(
    source: &Source,
    target: RecordId,
    pinned: Option<NetworkId>,
) -> Result<Provenance, CheckError> {
    let mut collected = Collected::default();
    let mut transactions = CorrectionsBuilder::new();
    let mut orders = OrderFacts::default();
    let checked = read_checked(source, pinned, SignatureMode::Batch, |record| {
        orders.observe(record);
        let header = record.header();
        transactions.add(record.id(), &header.author, header.seq, record.body());
        collect(&mut collected, target, record)
    })?;
    let mut found = Provenance {
        standing: checked.standing.clone(),
        record: collected.record.map(VerifiedRecord::into_rule_checked),
        chain: None,
        chain_problems_before: Vec::new(),
        acknowledged_by: collected.acknowledged_by,
        corrected_by: collected.corrected_by,
        foreign_corrections: Vec::new(),
        treaty: collected.treaties.standing(&target),
        findings: collected
            .treaties
            .non_party_findings()
            .into_iter()
            .filter(|finding| finding.record == target)
            .collect(),
        approvals: collected.approvals,
        refers_to: None,
        author_name: String::new(),
        revoked: None,
        key_spans: Vec::new(),
        governance_note: None,
        money: money_of(transactions, target, &checked.report),
        redacted: None,
        orders,
        refers_to_redacted: None,
    };
    let report = &checked.report;
    let derivation = checked.derivation();
    let verifier = checked.governed_verifier();
    if found.record.is_none() {
        find_revoked(&mut found, source, report, &verifier, target)?;
    }
    if found.record.is_none() {
        if let Some((_, entry)) = redacted::find(report, &target) {
            let withheld = source
                .record(&target)?
                .and_then(|bytes| redacted::verify_withheld(&verifier, bytes));
            found.redacted = withheld.map(|withheld| (withheld, entry.clone()));
        }
    }
    if let Some(header) = found.header().cloned() {
        let author = header.author.clone();
        let member = derivation.authority.member(&author);
        found.author_name = member.map(|member| member.name.clone()).unwrap_or_default();
        found.key_spans = member
            .map(|member| {
                member
                    .keys
                    .iter()
                    .map(|span| view::key_span_line(span, &derivation.authority))
                    .collect()
            })
            .unwrap_or_default();
        found.chain = report
            .chains
            .iter()
            .find(|chain| chain.author == author)
            .cloned();
        found.chain_problems_before = problems_up_to(report, &author, header.seq);
    }
    if let Some(record) = &found.record {
        let author = record.header().author.clone();
        let (own, foreign) = std::mem::take(&mut found.corrected_by)
            .into_iter()
            .partition(|correction| correction.header().author == author);
        found.corrected_by = own;
        found.foreign_corrections = foreign;
        found.governance_note = governance_note(record, &derivation);
        if let Some(referenced) = reference_of(record.body()) {
            found.refers_to_redacted = redacted::find(report, &referenced)
                .map(|(chain, entry)| (chain.author.clone(), entry.clone()));
            if found.refers_to_redacted.is_none() {
                found.refers_to = source
                    .record(&referenced)?
                    .and_then(|bytes| verifier.verify(bytes).ok());
            }
        }
    }
    Ok(found)
}

/// The money link of `target`, as of today with the default window; `None` when the record is
/// in no link, the clock gives no date, or an amount does not parse (`reconcile` says why).
fn money_of(
    transactions: CorrectionsBuilder,
    target: RecordId,
    report: &Report,
) -> Option<(String, Value)> {
    let today = crate::money::today_utc()?;
    let model =
        MoneyModel::build(transactions.finish().into_all(), today, WINDOW_DAYS_DEFAULT).ok()?;
    let link = model.link_of(&target)?;
    let mut redacted = RedactedMoney::default();
    redacted.add(report);
    let text = format!(
        "link [{} {}]: {}",
        link.key().kind(),
        link.key().text(),
        redacted.link_summary(&link)
    );
    let mut value = link.to_json();
    value["redacted_provider"] = redacted.target_of(&link).is_some().into();
    value["as_of"] = today.to_string().into();
    value["window_days"] = WINDOW_DAYS_DEFAULT.into();
    Some((text, value))
}

/// A record the governance declared invalid is not among the valid ones `collect` saw: it
/// is listed apart in the report, and read here by the record rules alone.
fn find_revoked(
    found: &mut Provenance,
    source: &Source,
    report: &Report,
    verifier: &Verifier,
    target: RecordId,
) -> Result<(), SourceError> {
    let Some(problem) = report
        .chains
        .iter()
        .flat_map(|chain| &chain.revoked)
        .find(|problem| problem.record_id == Some(target))
    else {
        return Ok(());
    };
    if let Some(bytes) = source.record(&target)? {
        if let Ok(record) = verifier.verify_record_rules(bytes) {
            found.record = Some(record);
            found.revoked = Some(problem.reason.clone());
        }
    }
    Ok(())
}

/// What became of a governance record.
fn governance_note(record: &RuleCheckedRecord, derivation: &Derivation) -> Option<String> {
    let state_of = |id: RecordId| {
        derivation
            .proposals
            .iter()
            .find(|status| status.id == id)
            .map(|status| {
                format!(
                    "{} (approved by {})",
                    view::state_text(&status.state),
                    status.approved_by.join(", ")
                )
            })
    };
    let finding = derivation
        .findings
        .iter()
        .find(|finding| finding.record == record.id())
        .map(|finding| format!("without effect: {}", finding.problem));
    match record.body() {
        Body::Proposal(_) => state_of(record.id()).or(finding),
        Body::Approval(approval) => finding.or_else(|| {
            Some(match state_of(approval.proposal) {
                Some(state) => format!("the proposal is {state}"),
                None => "the proposal is not in this source".to_owned(),
            })
        }),
        Body::KeyRotation(rotation) => finding.or_else(|| {
            Some(format!(
                "key {} signs from seq {} on",
                rotation.new_key.key,
                record.header().seq.saturating_add(1)
            ))
        }),
        _ => None,
    }
}

/// What [`collect`] gathers while the source streams past.
#[derive(Default)]
struct Collected {
    record: Option<VerifiedRecord>,
    acknowledged_by: Vec<VerifiedRecord>,
    corrected_by: Vec<VerifiedRecord>,
    treaties: TreatyRecords,
    approvals: Vec<VerifiedRecord>,
}

fn collect(found: &mut Collected, target: RecordId, record: &VerifiedRecord) {
    treaty::observe(&mut found.treaties, record);
    if record.id() == target {
        found.record = Some(record.clone());
        return;
    }
    match record.body() {
        Body::Transaction(tx) if tx.acknowledges == Some(target) => {
            found.acknowledged_by.push(record.clone())
        }
        Body::Correction(correction) if correction.corrects == target => {
            found.corrected_by.push(record.clone())
        }
        Body::Approval(approval) if approval.proposal == target => {
            found.approvals.push(record.clone())
        }
        _ => {}
    }
}

fn reference_of(body: &Body) -> Option<RecordId> {
    match body {
        Body::Transaction(tx) => tx.acknowledges,
        Body::Correction(correction) => Some(correction.corrects),
        Body::TreatyAction(action) => Some(action.treaty),
        Body::TreatyText(treaty) => treaty.supersedes,
        Body::Approval(approval) => Some(approval.proposal),
        Body::Statement(_)
        | Body::Proposal(_)
        | Body::KeyRotation(_)
        | Body::Activity(_)
        | Body::Redaction(_) => None,
    }
}

fn problems_up_to(report: &Report, author: &str, seq: u64) -> Vec<String> {
    report
        .problems()
        .filter(|problem| {
            problem.author.as_deref() == Some(author) && problem.seq.is_none_or(|at| at <= seq)
        })
        .map(|problem| {
            format!(
                "seq {}: {}",
                problem.seq.map_or("?".into(), |s| s.to_string()),
                problem.reason
            )
        })
        .collect()
}

/// Provenance as text.
pub fn provenance_text(found: &Provenance, target: RecordId) -> String {
    let mut out = format!("{}\n", found.standing.first_line());
    if let (None, Some((withheld, entry))) = (&found.record, &found.redacted) {
        out.push_str(&redacted_text(found, withheld, entry));
        out.extend(found.standing.invalid_line().map(|line| line + "\n"));
        return out;
    }
    let Some(record) = &found.record else {
        out.push_str(&format!("no valid record {target} in this source\n"));
        out.extend(found.standing.invalid_line().map(|line| line + "\n"));
        return out;
    };
    let header = record.header();
    let kind = format!(
        "{}: {}",
        record.body().kind().name(),
        describe::summary(record.body())
    );
    out.push_str(&identity_lines(found, record.id(), &kind, header));
    if let Some(reason) = &found.revoked {
        out.push_str(&format!(
            "validity  NOT VALID: {}; it was signed after the revocation point, and the network's governance declared it invalid\n",
            view::revocation_text(reason)
        ));
        out.push_str(&format!(
            "chain     not part of {}'s valid chain ({} record(s)); kept as evidence only\n",
            header.author,
            found.chain.as_ref().map_or(0, |chain| chain.length)
        ));
    }
    key_span_lines(&mut out, found, header);
    if let Some(note) = &found.governance_note {
        out.push_str(&format!("governance {note}\n"));
    }
    if found.revoked.is_none() {
        chain_lines(&mut out, found, header);
    }
    if let Some(referenced) = &found.refers_to {
        out.push_str(&format!(
            "refers to {} by {} seq {}: {}\n",
            referenced.id(),
            referenced.header().author,
            referenced.header().seq,
            describe::summary(referenced.body())
        ));
    }
    if let Some((author, entry)) = &found.refers_to_redacted {
        out.push_str(&format!(
            "refers to {} by {author} seq {}: a {} whose content is withheld: {}\n",
            entry.id,
            entry.seq,
            redacted::kind_name(entry.body_kind),
            redacted::order_text(&entry.order, &found.orders)
        ));
    }
    let listing = |label: &str, records: &[VerifiedRecord], out: &mut String| {
        if records.is_empty() {
            out.push_str(&format!("{label} none\n"));
        }
        for other in records {
            out.push_str(&format!(
                "{label} {} seq {}: {} ({})\n",
                other.header().author,
                other.header().seq,
                describe::summary(other.body()),
                other.id()
            ));
        }
    };
    listing("acknowledged by", &found.acknowledged_by, &mut out);
    if let Some((text, _)) = &found.money {
        out.push_str(&format!("money     {text}\n"));
    }
    listing("corrected by", &found.corrected_by, &mut out);
    if matches!(record.body(), Body::Proposal(_)) {
        listing("approval", &found.approvals, &mut out);
    }
    for claim in &found.foreign_corrections {
        out.push_str(&format!(
            "IGNORED   a correction by {} seq {} ({}): only the author can correct a record\n",
            claim.header().author,
            claim.header().seq,
            claim.id()
        ));
    }
    if let Body::TreatyText(text) = record.body() {
        out.push_str(&format!("text hash {}\n", text.text_hash()));
    }
    if let Some(standing) = &found.treaty {
        out.push_str(&treaty::standing_text(standing));
    }
    for finding in &found.findings {
        out.push_str(&treaty::finding_text(finding));
    }
    out.extend(found.standing.invalid_line().map(|line| line + "\n"));
    out
}

/// Provenance of a redacted record as text: what stays known (header, signature, place in
/// the chain) and the order that withheld its content.
fn redacted_text(found: &Provenance, withheld: &WithheldRecord, entry: &RedactedEntry) -> String {
    let header = withheld.header();
    let order = &entry.order;
    let kind = format!(
        "{}: REDACTED, content withheld",
        redacted::kind_name(header.body_kind)
    );
    let mut out = identity_lines(found, withheld.id(), &kind, header);
    out.push_str(&format!(
        "redacted  by {}\nwhy       {} ({})\n",
        redacted::ordered_by_text(order),
        order.category.words(),
        order.category.name()
    ));
    if let Some(ms) = found.orders.timestamp_ms(order) {
        out.push_str(&format!(
            "when      {}\n",
            aidledger_view::format::utc_time(ms)
        ));
    }
    out.push_str(&format!("order     {}\n", order.order));
    if let Some(note) = found.orders.note(order).filter(|note| !note.is_empty()) {
        out.push_str(&format!("note      {note}\n"));
    }
    out.push_str(
        "verified  the signature over the record's id (which covers the withheld content's hash) and its place in the chain; the content itself is not shown by any node\n",
    );
    key_span_lines(&mut out, found, header);
    chain_lines(&mut out, found, header);
    out
}

/// The record, its kind (in words), who signed it with which key, and where it stands.
fn identity_lines(found: &Provenance, id: RecordId, kind: &str, header: &RecordHeader) -> String {
    format!(
        "record    {id}\nkind      {kind}\nsigned by {} ({}) with key {}\nposition  seq {} of {}'s chain, predecessor {}\n",
        header.author,
        found.author_name,
        header.signing_key,
        header.seq,
        header.author,
        header.prev
    )
}

/// The author's keys and the positions each may sign.
fn key_span_lines(out: &mut String, found: &Provenance, header: &RecordHeader) {
    if !found.key_spans.is_empty() {
        out.push_str(&format!(
            "keys      {}'s signing keys and the positions each may sign:\n",
            header.author
        ));
        for line in &found.key_spans {
            out.push_str(&format!("  {line}\n"));
        }
    }
}

/// Whether the chain up to the record is intact, or what breaks it.
fn chain_lines(out: &mut String, found: &Provenance, header: &RecordHeader) {
    match (&found.chain, found.chain_problems_before.is_empty()) {
        (Some(chain), true) if chain.length > header.seq => out.push_str(&format!(
            "chain     intact from seq 0 to this record: every signature and link verified ({} records in the chain{})\n",
            chain.length,
            chain.forked_at.map_or(String::new(), |seq| format!("; FORKED at seq {seq}"))
        )),
        _ => {
            out.push_str("chain     BROKEN before or at this record:\n");
            for problem in &found.chain_problems_before {
                out.push_str(&format!("  {problem}\n"));
            }
        }
    }
}

/// Provenance as JSON.
pub fn provenance_json(found: &Provenance) -> Value {
    let list = |records: &[VerifiedRecord]| {
        records
            .iter()
            .map(|record| describe::record_json(record))
            .collect::<Vec<_>>()
    };
    let record = match (&found.record, &found.redacted) {
        (Some(record), _) => Some(describe::record_json(record)),
        (None, Some((withheld, _))) => {
            Some(redacted::header_json(withheld.id(), withheld.header()))
        }
        (None, None) => None,
    };
    let mut value = json!({
        "sound": found.is_sound(),
        "record": record,
        "redacted": found.redacted.as_ref().map(|(_, entry)| redacted::order_json(&entry.order, &found.orders)),
        "author_name": found.author_name,
        "chain": found.chain,
        "chain_problems_before": found.chain_problems_before,
        "refers_to": found.refers_to.as_ref().map(|record| describe::record_json(record)),
        "refers_to_redacted": found.refers_to_redacted.as_ref().map(|(author, entry)| redacted::entry_json(author, entry, &found.orders)),
        "acknowledged_by": list(&found.acknowledged_by),
        "corrected_by": list(&found.corrected_by),
        "ignored_foreign_corrections": list(&found.foreign_corrections),
        "treaty_standing": found.treaty.as_ref().map(treaty::standing_json),
        "findings": found.findings.iter().map(treaty::finding_json).collect::<Vec<_>>(),
        "approvals": list(&found.approvals),
        "valid": (found.record.is_some() || found.redacted.is_some()) && found.revoked.is_none(),
        "revoked": found.revoked,
        "not_valid_because": found.revoked.as_ref().map(view::revocation_text),
        "key_spans": found.key_spans,
        "governance": found.governance_note,
        "money_link": found.money.as_ref().map(|(_, value)| value),
    });
    found.standing.add_to_json(&mut value);
    value
}
