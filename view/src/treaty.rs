//! A treaty's standing, computed in one place: per party its current action on which text,
//! whether the treaty is in force, and the actions by organisations that are not parties
//! (findings). The explorer's treaty page and `/api/treaty/{id}`, and the CLI's `show`,
//! `provenance` and `verify` all read treaties through this module.
//!
//! # The rules
//!
//! - **Which actions count for a text T.** Actions on T and on the texts T supersedes
//!   (`TreatyText::supersedes`, followed back at most [`LINE_TEXTS_MAX`] texts: "the line").
//!   A party of T that acted only on an earlier text shows that action, marked as on another
//!   text, so a reader sees who has not yet acted on the new text. Actions on *later* texts
//!   (those superseding T) belong to those texts' pages.
//! - **Parties** are the ones T's own record lists. A correction of a treaty text does not
//!   change them or the text hash: parties act on the hash of the record they name, and a new
//!   text is recorded as a text that supersedes the old one.
//! - **Corrections of actions** follow `corrections`' rules: a correction counts only when
//!   its author is the action's author and it comes later in that author's chain; the latest
//!   (highest seq) that counts wins. Its replacement stands in for the action, keeping the
//!   action's record id, when it names the same treaty text. A correction without a
//!   replacement **retracts** the action: it was recorded in error and no longer counts (this
//!   is not a withdrawal *from the treaty*, which is an action of kind `withdraw`). A
//!   replacement that names another treaty text retracts the action here and does not act on
//!   the other text (to act there, a party records an action on it), so every reader, whatever
//!   it indexes, finds an action on the text its own record names.
//! - **A party's current action** is its latest counting action on the line, by the date it
//!   took effect; two on one date by their order in the party's chain (all of a party's
//!   actions are in its own chain).
//! - **Binding actions** are `ratify` and `accede` (an accession binds a state that did not
//!   sign, as a ratification binds one that did). `sign` does not bind; `withdraw` ends a
//!   party's consent.
//! - **In force**: T is in force when every party's current action binds on T's own text hash
//!   (so no party's latest word is a withdrawal), since the latest date among those actions.
//!   Otherwise it is not in force, and [`InForce::reasons`] says why: parties waiting (no
//!   action, or only signed), parties that withdrew, parties whose binding action is on
//!   another text (an earlier text of the line, or a hash that is not its text's).
//!   `same_text` says whether every party's current action binds and all are on one text
//!   hash (that hash may be an earlier text's, and T then is not in force).
//! - **Findings**: an action (or a correction whose replacement is an action) by an
//!   organisation that the acted-upon text does not list as a party. The node's policy
//!   refuses them at submit; a record made without it is still valid (signatures and chains
//!   are the protocol), so the readers report it as a finding and never count it.

use std::collections::{HashMap, HashSet};

use aidledger_spec::record::{Replacement, TreatyAction, TreatyActionKind, TreatyText};
use aidledger_spec::text::Date;
use aidledger_spec::{Body, Digest, RecordId};
use serde::Serialize;

/// How many texts back the `supersedes` line of a text is followed (the explorer loads each
/// of them for a page, so this bounds its work too).
pub const LINE_TEXTS_MAX: usize = 8;

/// What the rules need of a treaty text (its full text stays with the caller).
#[derive(Clone, Debug)]
struct TextFacts {
    parties: Vec<String>,
    supersedes: Option<RecordId>,
    text_hash: Digest,
}

#[derive(Clone, Debug)]
struct ActionRecord {
    id: RecordId,
    author: String,
    seq: u64,
    action: TreatyAction,
}

/// A correction that may change an action: a withdrawal (`None`) or an action replacement.
#[derive(Clone, Debug)]
struct ActionCorrection {
    id: RecordId,
    author: String,
    seq: u64,
    corrects: RecordId,
    replacement: Option<TreatyAction>,
}

/// Treaty texts, actions and the corrections that may change actions, gathered in any order
/// (a bundle's chains, or the explorer's index around one treaty). Other records are left
/// out, so a whole source can pass through [`TreatyRecords::add`] cheaply.
#[derive(Clone, Debug, Default)]
pub struct TreatyRecords {
    texts: HashMap<RecordId, TextFacts>,
    actions: HashMap<RecordId, ActionRecord>,
    /// By the record they correct.
    corrections: HashMap<RecordId, Vec<ActionCorrection>>,
    /// Whether corrections without a replacement are left out (see [`Self::for_findings`]).
    findings_only: bool,
}

/// One action as a treaty's standing shows it, after corrections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionState {
    /// The action record.
    pub record: RecordId,
    /// Who acted (the record's author).
    pub org: String,
    /// `sign`, `ratify`, `accede` or `withdraw`.
    pub action: TreatyActionKind,
    /// The date it took effect.
    pub date: Date,
    /// The treaty text record it names.
    pub treaty: RecordId,
    /// The text hash it acts upon.
    pub text_hash: Digest,
    /// Whether it names this text and this text's own hash.
    pub on_this_text: bool,
    /// The note (reservations, declarations).
    pub note: String,
    /// The author's correction whose replacement is shown, if any.
    pub corrected_by: Option<RecordId>,
    /// The author's correction that retracted it (no replacement, or one naming another
    /// treaty): it no longer counts.
    pub retracted_by: Option<RecordId>,
}

/// One party of a text: its current action and every action of its on the line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartyStanding {
    /// The party.
    pub org: String,
    /// Its latest counting action on the line, if any.
    pub current: Option<ActionState>,
    /// Its actions on the line, oldest first (retracted ones included, marked).
    pub actions: Vec<ActionState>,
}

/// Whether a text is in force, and if not, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InForce {
    /// Every party's current action binds on this text's hash.
    pub in_force: bool,
    /// The latest date among those actions, when in force.
    pub since: Option<Date>,
    /// Every party's current action binds, all on one text hash (perhaps an earlier text's).
    pub same_text: bool,
    /// Parties with no current action, or one that does not bind (signed only).
    pub waiting_for: Vec<String>,
    /// Parties whose current action is a withdrawal.
    pub withdrawn: Vec<String>,
    /// Parties whose current binding action is on another text hash than this text's.
    pub bound_to_other_text: Vec<String>,
    /// The same for people: `in force since 2024-03-01`, or `not in force: …` with the
    /// reasons (see [`InForce::reasons`]).
    pub line: String,
}

impl InForce {
    fn make_line(&self) -> String {
        self.line_with(&|org| org.to_owned())
    }

    /// Why the text is not in force (empty when it is).
    pub fn reasons(&self) -> Vec<String> {
        self.reasons_with(&|org| org.to_owned())
    }

    /// The line for people, with each organisation written by `name` (the explorer writes
    /// `Danish Refugee Council (DK-CVR-20699310)`): `in force since 2024-03-01`, or
    /// `not in force: …` with [`InForce::reasons_with`].
    pub fn line_with(&self, name: &dyn Fn(&str) -> String) -> String {
        match (self.in_force, self.since) {
            (true, Some(since)) => format!("in force since {since}"),
            _ => format!("not in force: {}", self.reasons_with(name).join("; ")),
        }
    }

    /// Why the text is not in force (empty when it is), each organisation written by `name`.
    pub fn reasons_with(&self, name: &dyn Fn(&str) -> String) -> Vec<String> {
        let names = |orgs: &[String]| orgs.iter().map(|org| name(org)).collect::<Vec<_>>();
        let mut reasons = Vec::new();
        if !self.waiting_for.is_empty() {
            reasons.push(format!(
                "waiting for {} to ratify or accede",
                names(&self.waiting_for).join(", ")
            ));
        }
        if !self.withdrawn.is_empty() {
            reasons.push(format!("{} withdrew", names(&self.withdrawn).join(", ")));
        }
        if !self.bound_to_other_text.is_empty() {
            let which = if self.same_text {
                "every party ratified the same text, but not this one"
            } else {
                "parties ratified different texts"
            };
            reasons.push(format!(
                "{which} ({} on another text hash)",
                names(&self.bound_to_other_text).join(", ")
            ));
        }
        reasons
    }
}

/// A treaty text's standing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TreatyStanding {
    /// The text record.
    pub treaty: RecordId,
    /// Its text hash.
    pub text_hash: Digest,
    /// The texts it supersedes, nearest first (as far as they are known, at most
    /// [`LINE_TEXTS_MAX`]).
    pub earlier_texts: Vec<RecordId>,
    /// Each listed party, in the text's order.
    pub parties: Vec<PartyStanding>,
    /// Whether it is in force.
    pub in_force: InForce,
    /// Actions on this text by organisations it does not list as parties (findings; they
    /// never count).
    pub non_party_actions: Vec<ActionState>,
}

/// A treaty action (or a correction whose replacement is one) by an organisation that the
/// acted-upon treaty text does not list as a party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NonPartyAction {
    /// The action record, or the correction carrying the action.
    pub record: RecordId,
    /// Its author.
    pub author: String,
    /// Its seq in the author's chain.
    pub seq: u64,
    /// The treaty text acted upon.
    pub treaty: RecordId,
    /// The parties that text lists.
    pub parties: Vec<String>,
    /// The action.
    pub action: TreatyActionKind,
    /// When the record is a correction, the action it corrects.
    pub corrects: Option<RecordId>,
}

impl NonPartyAction {
    /// One line for people.
    pub fn line(&self) -> String {
        let via = self
            .corrects
            .map_or(String::new(), |id| format!(" (a correction of {id})"));
        format!(
            "treaty action by a non-party: record {}{via} by {} seq {}: {} on treaty {}, whose parties are {}",
            self.record,
            self.author,
            self.seq,
            self.action.name(),
            self.treaty,
            self.parties.join(", ")
        )
    }
}

impl TreatyRecords {
    /// An empty set.
    pub fn new() -> TreatyRecords {
        TreatyRecords::default()
    }

    /// An empty set for [`Self::non_party_findings`] alone (`verify`): withdrawals, which only
    /// standings need, are not kept, so a source with many withdrawn transactions costs no
    /// memory here. Its standings would not see retractions.
    pub fn for_findings() -> TreatyRecords {
        TreatyRecords {
            findings_only: true,
            ..TreatyRecords::default()
        }
    }

    /// Adds one record (any kind; only treaty texts, treaty actions and corrections that
    /// withdraw or carry an action are kept). The same record added twice counts once.
    pub fn add(&mut self, id: RecordId, author: &str, seq: u64, body: &Body) {
        match body {
            Body::TreatyText(text) => self.add_text(id, text),
            Body::TreatyAction(action) => {
                self.actions.entry(id).or_insert_with(|| ActionRecord {
                    id,
                    author: author.to_owned(),
                    seq,
                    action: action.clone(),
                });
            }
            Body::Correction(correction) => {
                let replacement = match &correction.replacement {
                    None if self.findings_only => return,
                    None => None,
                    Some(Replacement::TreatyAction(action)) => Some(action.clone()),
                    // Other replacements never count for an action (see the module doc).
                    Some(_) => return,
                };
                let listed = self.corrections.entry(correction.corrects).or_default();
                if listed.iter().all(|known| known.id != id) {
                    listed.push(ActionCorrection {
                        id,
                        author: author.to_owned(),
                        seq,
                        corrects: correction.corrects,
                        replacement,
                    });
                }
            }
            _ => {}
        }
    }

    /// Adds a treaty text (its parties, what it supersedes and its text hash are kept).
    pub fn add_text(&mut self, id: RecordId, text: &TreatyText) {
        self.texts.entry(id).or_insert_with(|| TextFacts {
            parties: text.parties.clone(),
            supersedes: text.supersedes,
            text_hash: text.text_hash(),
        });
    }

    /// Every action, and every correction carrying an action, by an organisation that the
    /// acted-upon text (when known) does not list as a party; by author, then seq.
    pub fn non_party_findings(&self) -> Vec<NonPartyAction> {
        let mut found = Vec::new();
        let mut check = |record, author: &str, seq, action: &TreatyAction, corrects| {
            let Some(text) = self.texts.get(&action.treaty) else {
                return; // not in this source: nothing to judge it by
            };
            if !text.parties.iter().any(|party| party == author) {
                found.push(NonPartyAction {
                    record,
                    author: author.to_owned(),
                    seq,
                    treaty: action.treaty,
                    parties: text.parties.clone(),
                    action: action.action,
                    corrects,
                });
            }
        };
        for action in self.actions.values() {
            check(action.id, &action.author, action.seq, &action.action, None);
        }
        for correction in self.corrections.values().flatten() {
            if let Some(action) = &correction.replacement {
                check(
                    correction.id,
                    &correction.author,
                    correction.seq,
                    action,
                    Some(correction.corrects),
                );
            }
        }
        found.sort_by(|a, b| (&a.author, a.seq).cmp(&(&b.author, b.seq)));
        found
    }

    /// The standing of the treaty text `treaty`, or `None` when it is not among the texts.
    pub fn standing(&self, treaty: &RecordId) -> Option<TreatyStanding> {
        let text = self.texts.get(treaty)?;
        let earlier_texts = self.earlier_texts(treaty);
        let line: HashSet<RecordId> = std::iter::once(*treaty)
            .chain(earlier_texts.iter().copied())
            .collect();
        let mut parties: Vec<PartyStanding> = text
            .parties
            .iter()
            .map(|org| PartyStanding {
                org: org.clone(),
                current: None,
                actions: Vec::new(),
            })
            .collect();
        let mut non_party_actions = Vec::new();
        let mut actions: Vec<&ActionRecord> = self
            .actions
            .values()
            .filter(|action| line.contains(&action.action.treaty))
            .collect();
        actions.sort_by_key(|action| (&action.author, action.seq));
        for record in actions {
            let state = self.state_of(record, treaty, text);
            match parties.iter_mut().find(|party| party.org == record.author) {
                Some(party) => party.actions.push(state),
                None if record.action.treaty == *treaty => non_party_actions.push(state),
                // A non-party of this text acting on an earlier text: that text's page.
                None => {}
            }
        }
        for party in &mut parties {
            // Sorting is stable, and the actions came in chain order: same dates stay so.
            party.actions.sort_by_key(|action| action.date);
            party.current = party
                .actions
                .iter()
                .rev()
                .find(|action| action.retracted_by.is_none())
                .cloned();
        }
        let in_force = in_force(&parties);
        Some(TreatyStanding {
            treaty: *treaty,
            text_hash: text.text_hash,
            earlier_texts,
            parties,
            in_force,
            non_party_actions,
        })
    }

    /// The texts `treaty` supersedes, nearest first, as far as they are known.
    fn earlier_texts(&self, treaty: &RecordId) -> Vec<RecordId> {
        let mut line = Vec::new();
        let mut at = self.texts.get(treaty).and_then(|text| text.supersedes);
        while let Some(id) = at {
            if line.len() == LINE_TEXTS_MAX || id == *treaty || line.contains(&id) {
                break;
            }
            let Some(text) = self.texts.get(&id) else {
                break;
            };
            line.push(id);
            at = text.supersedes;
        }
        line
    }

    /// An action after its author's corrections, judged against the text `treaty`.
    fn state_of(&self, record: &ActionRecord, treaty: &RecordId, text: &TextFacts) -> ActionState {
        let latest = self
            .corrections
            .get(&record.id)
            .into_iter()
            .flatten()
            .filter(|correction| correction.author == record.author && correction.seq > record.seq)
            .max_by_key(|correction| correction.seq);
        let (action, corrected_by, retracted_by) = match latest {
            None => (&record.action, None, None),
            Some(correction) => match &correction.replacement {
                Some(replacement) if replacement.treaty == record.action.treaty => {
                    (replacement, Some(correction.id), None)
                }
                _ => (&record.action, None, Some(correction.id)),
            },
        };
        ActionState {
            record: record.id,
            org: record.author.clone(),
            action: action.action,
            date: action.date,
            treaty: action.treaty,
            text_hash: action.text_hash,
            on_this_text: action.treaty == *treaty && action.text_hash == text.text_hash,
            note: action.note.clone(),
            corrected_by,
            retracted_by,
        }
    }
}

/// Whether an action binds its party to the text it names.
pub fn binds(action: TreatyActionKind) -> bool {
    matches!(action, TreatyActionKind::Ratify | TreatyActionKind::Accede)
}

fn in_force(parties: &[PartyStanding]) -> InForce {
    let mut result = InForce {
        in_force: false,
        since: None,
        same_text: false,
        waiting_for: Vec::new(),
        withdrawn: Vec::new(),
        bound_to_other_text: Vec::new(),
        line: String::new(),
    };
    let mut hashes = HashSet::new();
    let mut since: Option<Date> = None;
    for party in parties {
        match &party.current {
            Some(action) if action.action == TreatyActionKind::Withdraw => {
                result.withdrawn.push(party.org.clone())
            }
            Some(action) if binds(action.action) => {
                hashes.insert(action.text_hash);
                if action.on_this_text {
                    since = since.max(Some(action.date));
                } else {
                    result.bound_to_other_text.push(party.org.clone());
                }
            }
            _ => result.waiting_for.push(party.org.clone()),
        }
    }
    let all_bound = result.waiting_for.is_empty() && result.withdrawn.is_empty();
    result.same_text = all_bound && hashes.len() == 1;
    result.in_force = all_bound && result.bound_to_other_text.is_empty() && !parties.is_empty();
    result.since = since.filter(|_| result.in_force);
    result.line = result.make_line();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidledger_spec::record::{Correction, TextVersion};

    const A: &str = "GB-GOV-1";
    const B: &str = "DK-CVR-20699310";
    const C: &str = "XM-DAC-41122";

    fn id(byte: u8) -> RecordId {
        Digest([byte; 32])
    }

    fn text(parties: &[&str], words: &str, supersedes: Option<RecordId>) -> Body {
        Body::TreatyText(TreatyText {
            title: "Agreement".into(),
            parties: parties.iter().map(|party| party.to_string()).collect(),
            versions: vec![TextVersion {
                language: "en".into(),
                text: words.into(),
            }],
            supersedes,
        })
    }

    fn hash_of(body: &Body) -> Digest {
        match body {
            Body::TreatyText(text) => text.text_hash(),
            _ => unreachable!(),
        }
    }

    fn act(treaty: RecordId, text: &Body, kind: &str, date: &str) -> TreatyAction {
        TreatyAction {
            treaty,
            text_hash: hash_of(text),
            action: TreatyActionKind::parse(kind).unwrap(),
            date: Date::parse(date).unwrap(),
            note: String::new(),
        }
    }

    fn correction(corrects: RecordId, replacement: Option<TreatyAction>) -> Body {
        Body::Correction(Correction {
            corrects,
            reason: "error".into(),
            replacement: replacement.map(Replacement::TreatyAction),
        })
    }

    /// A treaty text `id(1)` of A and B, and `records` added after it.
    fn with_treaty(records: &[(u8, &str, u64, Body)]) -> (TreatyRecords, Body) {
        let treaty = text(&[A, B], "We agree.", None);
        let mut all = TreatyRecords::new();
        for (byte, author, seq, body) in records {
            all.add(id(*byte), author, *seq, body);
        }
        all.add(id(1), A, 0, &treaty);
        (all, treaty)
    }

    #[test]
    fn in_force_once_every_party_ratified_this_text() {
        let treaty = text(&[A, B], "We agree.", None);
        let (records, _) = with_treaty(&[
            (
                2,
                A,
                1,
                Body::TreatyAction(act(id(1), &treaty, "sign", "2024-01-01")),
            ),
            (
                3,
                A,
                2,
                Body::TreatyAction(act(id(1), &treaty, "ratify", "2024-03-01")),
            ),
            (
                4,
                B,
                0,
                Body::TreatyAction(act(id(1), &treaty, "accede", "2024-02-01")),
            ),
        ]);
        let standing = records.standing(&id(1)).unwrap();
        assert_eq!(standing.in_force.line, "in force since 2024-03-01");
        assert!(standing.in_force.same_text);
        assert_eq!(standing.parties[0].actions.len(), 2);
        assert_eq!(
            standing.parties[0].current.as_ref().unwrap().action,
            TreatyActionKind::Ratify
        );
        assert!(records.non_party_findings().is_empty());
    }

    #[test]
    fn a_signature_waits_and_a_withdrawal_ends_consent() {
        let treaty = text(&[A, B], "We agree.", None);
        let (records, _) = with_treaty(&[
            (
                2,
                A,
                1,
                Body::TreatyAction(act(id(1), &treaty, "ratify", "2024-01-01")),
            ),
            (
                3,
                A,
                2,
                Body::TreatyAction(act(id(1), &treaty, "withdraw", "2025-01-01")),
            ),
            (
                4,
                B,
                0,
                Body::TreatyAction(act(id(1), &treaty, "sign", "2024-02-01")),
            ),
        ]);
        let in_force = records.standing(&id(1)).unwrap().in_force;
        assert!(!in_force.in_force);
        assert_eq!(in_force.since, None);
        assert_eq!(
            in_force.line,
            format!("not in force: waiting for {B} to ratify or accede; {A} withdrew")
        );
    }

    #[test]
    fn a_non_party_action_is_a_finding_and_never_counts() {
        let treaty = text(&[A, B], "We agree.", None);
        let (records, _) = with_treaty(&[
            (
                2,
                A,
                1,
                Body::TreatyAction(act(id(1), &treaty, "ratify", "2024-01-01")),
            ),
            (
                4,
                C,
                0,
                Body::TreatyAction(act(id(1), &treaty, "ratify", "2024-02-01")),
            ),
        ]);
        let standing = records.standing(&id(1)).unwrap();
        assert_eq!(standing.non_party_actions.len(), 1);
        assert_eq!(standing.non_party_actions[0].org, C);
        assert_eq!(standing.in_force.waiting_for, vec![B.to_owned()]);
        let findings = records.non_party_findings();
        assert_eq!(findings.len(), 1);
        assert_eq!(
            (findings[0].record, findings[0].author.as_str()),
            (id(4), C)
        );
        assert_eq!(findings[0].parties, vec![A.to_owned(), B.to_owned()]);
        assert!(findings[0].line().contains("treaty action by a non-party"));
    }

    #[test]
    fn a_correction_carrying_a_non_party_action_is_a_finding() {
        let treaty = text(&[A, B], "We agree.", None);
        let other = text(&[B], "Only B.", None);
        let (mut records, _) = with_treaty(&[
            (
                2,
                A,
                1,
                Body::TreatyAction(act(id(1), &treaty, "sign", "2024-01-01")),
            ),
            (
                3,
                A,
                2,
                correction(id(2), Some(act(id(9), &other, "ratify", "2024-01-01"))),
            ),
        ]);
        records.add(id(9), B, 0, &other);
        let findings = records.non_party_findings();
        // verify's lean set finds the same.
        let mut lean = TreatyRecords::for_findings();
        lean.add(id(1), A, 0, &treaty);
        lean.add(id(9), B, 0, &other);
        lean.add(
            id(2),
            A,
            1,
            &Body::TreatyAction(act(id(1), &treaty, "sign", "2024-01-01")),
        );
        lean.add(
            id(3),
            A,
            2,
            &correction(id(2), Some(act(id(9), &other, "ratify", "2024-01-01"))),
        );
        lean.add(id(4), A, 3, &correction(id(2), None));
        assert_eq!(lean.non_party_findings(), findings);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].record, id(3));
        assert_eq!(findings[0].corrects, Some(id(2)));
        assert_eq!(findings[0].treaty, id(9));
        // The move retracts A's signature here and is no action on the other text.
        let here = records.standing(&id(1)).unwrap();
        assert_eq!(here.parties[0].actions[0].retracted_by, Some(id(3)));
        assert_eq!(here.parties[0].current, None);
        let there = records.standing(&id(9)).unwrap();
        assert!(there.non_party_actions.is_empty());
        assert_eq!(there.parties[0].current, None);
    }

    #[test]
    fn the_author_s_latest_correction_applies_and_others_are_ignored() {
        let treaty = text(&[A, B], "We agree.", None);
        let (records, _) = with_treaty(&[
            (
                2,
                A,
                1,
                Body::TreatyAction(act(id(1), &treaty, "sign", "2024-01-01")),
            ),
            (3, A, 2, correction(id(2), None)),
            (
                4,
                A,
                3,
                correction(id(2), Some(act(id(1), &treaty, "ratify", "2024-01-05"))),
            ),
            // B cannot correct A's action; an earlier-seq "correction" does not count either.
            (5, B, 0, correction(id(2), None)),
            (6, A, 0, correction(id(2), None)),
            (
                7,
                B,
                1,
                Body::TreatyAction(act(id(1), &treaty, "ratify", "2024-01-02")),
            ),
        ]);
        let standing = records.standing(&id(1)).unwrap();
        let current = standing.parties[0].current.clone().unwrap();
        assert_eq!(current.action, TreatyActionKind::Ratify);
        assert_eq!(current.corrected_by, Some(id(4)));
        assert_eq!(current.record, id(2));
        assert_eq!(standing.in_force.line, "in force since 2024-01-05");
    }

    #[test]
    fn a_retracted_ratification_no_longer_counts() {
        let treaty = text(&[A, B], "We agree.", None);
        let (records, _) = with_treaty(&[
            (
                2,
                A,
                1,
                Body::TreatyAction(act(id(1), &treaty, "ratify", "2024-01-01")),
            ),
            (
                3,
                B,
                0,
                Body::TreatyAction(act(id(1), &treaty, "ratify", "2024-01-01")),
            ),
            (4, B, 1, correction(id(3), None)),
        ]);
        let standing = records.standing(&id(1)).unwrap();
        assert_eq!(standing.parties[1].actions[0].retracted_by, Some(id(4)));
        assert_eq!(standing.in_force.waiting_for, vec![B.to_owned()]);
    }

    #[test]
    fn a_superseding_text_is_in_force_only_when_every_party_ratified_it() {
        let old = text(&[A, B], "We agree.", None);
        let new = text(&[A, B], "We agree, amended.", Some(id(1)));
        let (mut records, _) = with_treaty(&[
            (
                2,
                A,
                1,
                Body::TreatyAction(act(id(1), &old, "ratify", "2024-01-01")),
            ),
            (
                3,
                B,
                0,
                Body::TreatyAction(act(id(1), &old, "ratify", "2024-01-02")),
            ),
        ]);
        records.add(id(8), A, 2, &new);
        let standing = records.standing(&id(8)).unwrap();
        assert_eq!(standing.earlier_texts, vec![id(1)]);
        assert!(!standing.in_force.in_force);
        assert!(standing.in_force.same_text);
        assert!(standing
            .in_force
            .line
            .contains("every party ratified the same text, but not this one"));
        assert!(records.standing(&id(1)).unwrap().in_force.in_force);

        records.add(
            id(9),
            A,
            3,
            &Body::TreatyAction(act(id(8), &new, "ratify", "2024-06-01")),
        );
        let standing = records.standing(&id(8)).unwrap();
        assert!(!standing.in_force.same_text);
        assert_eq!(standing.in_force.bound_to_other_text, vec![B.to_owned()]);
        assert!(standing
            .in_force
            .line
            .contains("parties ratified different texts"));
        assert!(standing.parties[0].current.as_ref().unwrap().on_this_text);
    }
}
