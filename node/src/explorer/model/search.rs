//! Search: the index's search terms (`index/search.rs`, written at append), members by name
//! and id, and record id prefixes; every word of the query must match (AND), hits are ranked
//! and paged, each with the field it matched.
//!
//! A query is split at white space into tokens. A token of letters and digits matches a term
//! it equals or begins (a word's prefix); a token with other characters (`301150-200`,
//! `XM-LNGO`) matches an id term it begins, which, as every suffix of an id is a term, finds
//! it anywhere in the id, or else every one of its words. Rank: each token scores by how it
//! matched (whole term 3, word prefix 2, inside an id 1) times the field's weight (names,
//! titles and ids 2, descriptions and places 1), summed over the tokens; members come before
//! others of the same score. A term whose record was corrected since (or whose activity
//! record was superseded) is not shown: a search finds what records say now, and a record's
//! page shows what it said before. Whether a term is current costs a point read, so it is read
//! last: only for the targets every token of the query matched, and for each token only until
//! its best current match is found (a three-word query read it for every match of every word).

use std::collections::HashMap;

use aidledger_spec::governance::MemberState;

use super::*;
use crate::explorer::index::activities::{latest_key, read_latest_value};
use crate::explorer::index::search::{field, read_versions, term, words, Posting, TERM_END};

/// Hits per page of search results.
pub const SEARCH_PAGE_HITS: usize = 20;
/// Most hits ranked for one query (the pages after them are not offered).
pub const SEARCH_HITS_MAX: usize = 1_000;
/// Most postings read for one query token (a key of an organisation's or an id's term, or one
/// activity of an activity-record term's posting): a short prefix or a common word stops
/// here, and the results say they may be incomplete (refine the search). Each costs a
/// currency check (a point read); 5,000 cost the million-record bench's common-word queries
/// ~15 ms of CPU each (131 searches/s, p99 2.4 s at 100 clients; BENCHMARKS.md, issue 20).
pub const TERM_POSTINGS_READ_MAX: usize = 500;
/// Most tokens of a query used.
pub const QUERY_TOKENS_MAX: usize = 8;
/// Shortest token that matches terms it begins, in characters; a shorter one matches whole
/// terms only (a single letter begins too many).
pub const PREFIX_CHARS_MIN: usize = 2;

/// How a token matched a term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// Inside an id (a suffix of it begins with the token).
    Infix = 1,
    /// The beginning of a word or id.
    Prefix = 2,
    /// The whole word or id.
    Exact = 3,
}

/// What a hit is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Target {
    /// A member of the network.
    Member(String),
    /// An organisation named in records by its ref, not a member.
    Org(String),
    /// An organisation named in records by name only.
    OrgName(String),
    /// An IATI activity.
    Activity(String),
    /// A statement.
    Statement(RecordId),
    /// A treaty text.
    Treaty(RecordId),
    /// A record found by its id's first digits.
    Record(RecordId),
}

/// The best match of one token against one target.
#[derive(Clone, Debug)]
pub(super) struct Match {
    pub(super) score: u32,
    pub(super) field: u8,
    /// The text of the field that matched (a name, an id, a code, a title).
    pub(super) text: String,
    /// A record that carries it (organisations), or the activity record (activities).
    pub(super) record: Option<RecordId>,
}

/// A match not yet known to be current, and what tells.
#[derive(Clone, Debug)]
pub(super) struct Candidate {
    matched: Match,
    check: Check,
}

/// What must be read to know that a match is current.
#[derive(Clone, Debug)]
enum Check {
    /// Nothing: members, ids, titles of records that are never superseded.
    Always,
    /// That `version` is what `original` stands for now (an organisation's terms).
    Version {
        original: RecordId,
        version: RecordId,
    },
    /// That `record` is `author`'s latest activity record of the target activity.
    Activity { author: String, record: RecordId },
}

/// Each target's candidate matches of one token.
type Candidates = HashMap<Target, Vec<Candidate>>;

fn always(matched: Match) -> Candidate {
    Candidate {
        matched,
        check: Check::Always,
    }
}

/// Field labels for member matches and record ids (not index fields).
pub(super) const MEMBER_NAME: u8 = 100;
pub(super) const MEMBER_ID: u8 = 101;
pub(super) const RECORD_ID: u8 = 102;

/// Names, titles and ids weigh 2; descriptions and places 1.
fn weight(field: u8) -> u32 {
    match field {
        field::ACTIVITY_DESCRIPTION | field::PLACE => 1,
        _ => 2,
    }
}

/// A search's results: one page of ranked hits.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    /// The query as read.
    pub query: String,
    /// The page shown (from 1).
    pub page: usize,
    /// Hits per page.
    pub page_size: usize,
    /// Hits found (at most [`SEARCH_HITS_MAX`]).
    pub total: usize,
    /// Pages of hits.
    pub pages: usize,
    /// Whether a bound stopped the search: more may match than are found.
    pub truncated: bool,
    /// This page's hits, best first.
    pub hits: Vec<Hit>,
}

/// Searches the index's terms, members and record ids for every token of `query`; `page`
/// counts from 1.
pub fn search(
    store: &StoreReader,
    authority: &Authority,
    query: &str,
    page: usize,
) -> Result<SearchResults, Problem> {
    let query = query.trim();
    if query.len() > QUERY_BYTES_MAX {
        return Err(Problem::BadRequest(format!(
            "a search is at most {QUERY_BYTES_MAX} bytes"
        )));
    }
    if page == 0 {
        return Err(Problem::BadRequest("pages count from 1".into()));
    }
    let mut results = SearchResults {
        query: query.to_owned(),
        page,
        page_size: SEARCH_PAGE_HITS,
        total: 0,
        pages: 0,
        truncated: false,
        hits: Vec::new(),
    };
    let tokens: Vec<&str> = query.split_whitespace().take(QUERY_TOKENS_MAX).collect();
    if tokens.is_empty() {
        return Ok(results);
    }
    let mut searcher = Searcher {
        store,
        authority,
        truncated: false,
        current: HashMap::new(),
    };
    // Every token's candidates; the targets all tokens match, each token by a current
    // match, are the hits.
    let mut combined: Option<HashMap<Target, Vec<Vec<Candidate>>>> = None;
    for token in &tokens {
        let mut matches = searcher.token(token, tokens.len() == 1)?;
        combined = Some(match combined {
            None => matches
                .into_iter()
                .map(|(target, found)| (target, vec![found]))
                .collect(),
            Some(mut so_far) => {
                so_far.retain(|target, _| matches.contains_key(target));
                for (target, found) in so_far.iter_mut() {
                    if let Some(again) = matches.remove(target) {
                        found.push(again);
                    }
                }
                so_far
            }
        });
    }
    let mut ranked: Vec<(Target, u32, Match)> = Vec::new();
    for (target, per_token) in combined.unwrap_or_default() {
        if let Some((score, best)) = searcher.current_matches(&target, per_token)? {
            ranked.push((target, score, best));
        }
    }
    ranked.sort_by(|(a, a_score, _), (b, b_score, _)| {
        b_score
            .cmp(a_score)
            .then_with(|| is_member(b).cmp(&is_member(a)))
            .then_with(|| a.cmp(b))
    });
    if ranked.len() > SEARCH_HITS_MAX {
        ranked.truncate(SEARCH_HITS_MAX);
        searcher.truncated = true;
    }
    results.truncated = searcher.truncated;
    results.total = ranked.len();
    results.pages = ranked.len().div_ceil(SEARCH_PAGE_HITS);
    for (target, score, best) in ranked
        .into_iter()
        .skip((page - 1).saturating_mul(SEARCH_PAGE_HITS))
        .take(SEARCH_PAGE_HITS)
    {
        results.hits.push(searcher.hit(target, score, best)?);
    }
    Ok(results)
}

/// Whether a term of `field` is an activity record's, kept in postings of a group's activities.
fn is_activity_field(field: u8) -> bool {
    matches!(
        field,
        field::ACTIVITY_TITLE | field::ACTIVITY_DESCRIPTION | field::PLACE
    )
}

fn is_member(target: &Target) -> bool {
    matches!(target, Target::Member(_))
}

/// One query's reads, with what it learnt about which versions are current.
pub(super) struct Searcher<'a> {
    pub(super) store: &'a StoreReader,
    pub(super) authority: &'a Authority,
    truncated: bool,
    /// Whether a term's version is current, by (original, version) or activity record.
    current: HashMap<(RecordId, RecordId), bool>,
}

impl Searcher<'_> {
    /// The targets one token matches, each with its candidate matches.
    fn token(&mut self, token: &str, alone: bool) -> Result<Candidates, Problem> {
        let lower = term(token);
        let mut found = Candidates::new();
        if lower.chars().all(char::is_alphanumeric) {
            self.terms(&lower, &mut found)?;
        } else {
            // An id with its punctuation, or failing that each of its words (each word by a
            // current match, the first word's standing for the token).
            self.terms(&lower, &mut found)?;
            let mut by_words: Option<HashMap<Target, Match>> = None;
            for word in words(&lower) {
                let mut candidates = Candidates::new();
                self.terms(&word, &mut candidates)?;
                let mut matches = HashMap::new();
                for (target, word_candidates) in candidates {
                    if let Some(matched) = self.best_current(&target, word_candidates)? {
                        matches.insert(target, matched);
                    }
                }
                by_words = Some(match by_words {
                    None => matches,
                    Some(mut so_far) => {
                        so_far.retain(|target, _| matches.contains_key(target));
                        so_far
                    }
                });
            }
            for (target, matched) in by_words.unwrap_or_default() {
                add(&mut found, target, always(matched));
            }
        }
        self.members(&lower, &mut found);
        let hex = lower.len() <= ID_HEX_DIGITS && lower.bytes().all(|b| b.is_ascii_hexdigit());
        if alone && hex {
            for id in ids_with_prefix(self.store, &lower, SEARCH_PAGE_HITS)? {
                let class = if id.to_hex() == lower {
                    Class::Exact
                } else {
                    Class::Prefix
                };
                let matched = Match {
                    score: class as u32 * weight(RECORD_ID),
                    field: RECORD_ID,
                    text: id.to_hex(),
                    record: Some(id),
                };
                add(&mut found, Target::Record(id), always(matched));
            }
        }
        Ok(found)
    }

    /// The index's terms equal to `lower` or, from [`PREFIX_CHARS_MIN`] characters on,
    /// beginning with it.
    fn terms(&mut self, lower: &str, found: &mut Candidates) -> Result<(), Problem> {
        if lower.is_empty() {
            return Ok(());
        }
        let mut prefix = SortKey::tagged(tag::SEARCH_TERM).raw(lower.as_bytes());
        if lower.chars().count() < PREFIX_CHARS_MIN {
            prefix = prefix.u8(TERM_END);
        }
        let prefix = prefix.into_bytes();
        let mut read = 0;
        let mut postings = Vec::new();
        for entry in self.store.index_tree().scan_prefix(&prefix) {
            if read >= TERM_POSTINGS_READ_MAX {
                self.truncated = true;
                break;
            }
            let (key, value) = entry?;
            let rest = &key[1..];
            let end = rest
                .iter()
                .position(|byte| *byte == TERM_END)
                .ok_or_else(|| StoreError::Corrupt("a search term key has no end".into()))?;
            let found_term = String::from_utf8_lossy(&rest[..end]);
            let mut parts = KeyReader::new(&rest[end + 1..]);
            let field = parts.u8()?;
            if is_activity_field(field) {
                read += self.activity_postings(field, parts, &value, &found_term, &mut postings)?;
            } else {
                read += 1;
                postings.extend(self.posting(field, parts, &value)?);
            }
            for (target, mut candidate) in postings.drain(..) {
                let matched = &mut candidate.matched;
                let class = match field {
                    // An id term is one of the id's suffixes: how the token sits in the
                    // whole id says how it matched.
                    field::ACTIVITY_ID | field::PROVIDER_ID | field::RECEIVER_ID => {
                        let whole = term(&matched.text);
                        if whole == lower {
                            Class::Exact
                        } else if whole.starts_with(lower) {
                            Class::Prefix
                        } else {
                            Class::Infix
                        }
                    }
                    _ if found_term == lower => Class::Exact,
                    _ => Class::Prefix,
                };
                matched.score = class as u32 * weight(field);
                add(found, target, candidate);
            }
        }
        Ok(())
    }

    /// The activities of one activity-record term's posting, into `found` (each current
    /// while its record is its author's latest); returns how many it read.
    fn activity_postings(
        &self,
        field: u8,
        mut parts: KeyReader<'_>,
        value: &[u8],
        found_term: &str,
        found: &mut Vec<(Target, Candidate)>,
    ) -> Result<usize, StoreError> {
        let author = parts.text()?;
        let _first_seq = parts.u64()?;
        parts.finish()?;
        let entries = Posting::decode(value)?;
        for entry in &entries {
            // A place's code as IATI writes it (upper case); titles are read from the
            // record for the hits shown, descriptions are not shown.
            let text = if field == field::PLACE {
                found_term.to_uppercase()
            } else {
                String::new()
            };
            let matched = Match {
                score: 0,
                field,
                text,
                record: Some(entry.record),
            };
            let check = Check::Activity {
                author: author.clone(),
                record: entry.record,
            };
            let target = Target::Activity(entry.activity.clone());
            found.push((target, Candidate { matched, check }));
        }
        Ok(entries.len())
    }

    /// The target and candidate of one (not activity-record) term key's field, target parts
    /// and value.
    fn posting(
        &self,
        field: u8,
        mut parts: KeyReader<'_>,
        value: &[u8],
    ) -> Result<Option<(Target, Candidate)>, StoreError> {
        let matched = |text: String, record: Option<RecordId>| Match {
            score: 0,
            field,
            text,
            record,
        };
        Ok(match field {
            field::PROVIDER_ID
            | field::PROVIDER_NAME
            | field::RECEIVER_ID
            | field::RECEIVER_NAME => {
                let org = parts.text()?;
                let name = parts.text()?;
                parts.finish()?;
                let (original, version) = read_versions(value)?;
                let is_id = matches!(field, field::PROVIDER_ID | field::RECEIVER_ID);
                let text = if is_id { org.clone() } else { name.clone() };
                let target = if org.is_empty() {
                    Target::OrgName(name)
                } else if self.authority.member(&org).is_some() {
                    Target::Member(org)
                } else {
                    Target::Org(org)
                };
                let check = Check::Version { original, version };
                let matched = matched(text, Some(original));
                Some((target, Candidate { matched, check }))
            }
            field::ACTIVITY_ID => {
                let activity = parts.text()?;
                parts.finish()?;
                let matched = matched(activity.clone(), None);
                Some((Target::Activity(activity), always(matched)))
            }
            field::STATEMENT_TITLE | field::TREATY_TITLE => {
                let id = parts.id()?;
                parts.finish()?;
                let title = String::from_utf8_lossy(value).into_owned();
                let target = if field == field::STATEMENT_TITLE {
                    Target::Statement(id)
                } else {
                    Target::Treaty(id)
                };
                Some((target, always(matched(title, Some(id)))))
            }
            _ => None,
        })
    }

    /// A target's score (the sum of every token's best current match) and best match; `None`
    /// when some token has no current match of it.
    fn current_matches(
        &mut self,
        target: &Target,
        per_token: Vec<Vec<Candidate>>,
    ) -> Result<Option<(u32, Match)>, StoreError> {
        let mut score = 0;
        let mut best: Option<Match> = None;
        for candidates in per_token {
            let Some(matched) = self.best_current(target, candidates)? else {
                return Ok(None);
            };
            score += matched.score;
            if best.as_ref().is_none_or(|kept| matched.score > kept.score) {
                best = Some(matched);
            }
        }
        Ok(best.map(|best| (score, best)))
    }

    /// The best of one token's candidate matches of `target` that is current.
    fn best_current(
        &mut self,
        target: &Target,
        mut candidates: Vec<Candidate>,
    ) -> Result<Option<Match>, StoreError> {
        // Stable: of equal scores the first found stands, as it did when matches were kept
        // best-first while reading.
        candidates.sort_by_key(|candidate| std::cmp::Reverse(candidate.matched.score));
        for candidate in candidates {
            let current = match (&candidate.check, target) {
                (Check::Always, _) => true,
                (Check::Version { original, version }, _) => {
                    self.is_current(*original, *version)?
                }
                (Check::Activity { author, record }, Target::Activity(activity)) => {
                    self.is_latest_activity(activity, author, *record)?
                }
                (Check::Activity { .. }, _) => false,
            };
            if current {
                return Ok(Some(candidate.matched));
            }
        }
        Ok(None)
    }

    /// Whether `version` is what `original` stands for now (index/search.rs).
    fn is_current(&mut self, original: RecordId, version: RecordId) -> Result<bool, StoreError> {
        if let Some(known) = self.current.get(&(original, version)) {
            return Ok(*known);
        }
        let latest = SortKey::tagged(tag::LATEST_CORRECTION).id(&original.0);
        let current = match self.store.index_tree().get(latest.into_bytes())? {
            Some(latest) => latest.as_ref() == version.0,
            None => version == original,
        };
        self.current.insert((original, version), current);
        Ok(current)
    }

    /// Whether `id` is `author`'s latest activity record of `activity`.
    fn is_latest_activity(
        &mut self,
        activity: &str,
        author: &str,
        id: RecordId,
    ) -> Result<bool, StoreError> {
        if let Some(known) = self.current.get(&(id, id)) {
            return Ok(*known);
        }
        let latest = match self.store.index_tree().get(latest_key(activity, author))? {
            Some(value) => read_latest_value(&value)?.0 == id,
            None => false,
        };
        self.current.insert((id, id), latest);
        Ok(latest)
    }

    /// Members whose name has a word beginning with `lower`, or whose id holds it.
    fn members(&self, lower: &str, found: &mut Candidates) {
        for member in self.authority.members() {
            if let Some((class, field, text)) = member_match(member, lower) {
                let matched = Match {
                    score: class as u32 * weight(field),
                    field,
                    text,
                    record: None,
                };
                add(found, Target::Member(member.id.clone()), always(matched));
            }
        }
    }
}

/// Adds a candidate match of `target`.
fn add(found: &mut Candidates, target: Target, candidate: Candidate) {
    found.entry(target).or_default().push(candidate);
}

/// How a member matches a lower-case token: a word of its name, or its id.
fn member_match(member: &MemberState, lower: &str) -> Option<(Class, u8, String)> {
    let id = member.id.to_lowercase();
    let name = &member.name;
    let id_class = if id == lower {
        Some(Class::Exact)
    } else if id.starts_with(lower) {
        Some(Class::Prefix)
    } else if id.contains(lower) {
        Some(Class::Infix)
    } else {
        None
    };
    let name_class = words(name)
        .filter_map(|word| {
            if word == lower {
                Some(Class::Exact)
            } else if lower.chars().count() >= PREFIX_CHARS_MIN && word.starts_with(lower) {
                Some(Class::Prefix)
            } else {
                None
            }
        })
        .max()
        .or_else(|| name.to_lowercase().contains(lower).then_some(Class::Infix));
    match (id_class, name_class) {
        (Some(id_class), name_class) if Some(id_class) >= name_class => {
            Some((id_class, MEMBER_ID, member.id.clone()))
        }
        (_, Some(name_class)) => Some((name_class, MEMBER_NAME, name.clone())),
        _ => None,
    }
}
