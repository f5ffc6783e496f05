//! Chain rules over verified records arriving in any order, from any source, streaming.
//!
//! Memory: for each author the ids of its linked records (32 bytes a record), plus the ids and
//! predecessors of records that arrived before a record they depend on. Records in chain order,
//! as bundles and stores give them, never wait. Redaction adds 48 bytes for each withheld
//! record and for each record a `redaction` order names, judged once everything is read
//! (`crate::redaction`): an order comes after the records it names in its chain.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::genesis::Genesis;
use crate::ids::{NetworkId, RecordId};
use crate::record::Body;
use crate::redaction::{judge_withheld, OrdersInForce, RedactedEntry, RedactedRecord};
use crate::verify::{RejectedRecord, Rejection, VerifiedRecord};
use crate::withheld::WithheldVerdict;

/// Most problems kept per chain; later ones are only counted.
pub const PROBLEMS_PER_CHAIN_MAX: usize = 1000;

/// A problem found at a place.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The author whose chain it concerns, when known.
    pub author: Option<String>,
    /// The sequence number, when known.
    pub seq: Option<u64>,
    /// The record, when known.
    pub record_id: Option<RecordId>,
    /// The first rule broken.
    pub reason: Rejection,
}

/// The state of one author's chain after verification.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ChainReport {
    /// The organisation.
    pub author: String,
    /// How many records link from seq 0 without a break.
    pub length: u64,
    /// The last linked record, as (seq, id).
    pub head: Option<(u64, RecordId)>,
    /// The first sequence number at which two different records were seen.
    pub forked_at: Option<u64>,
    /// Problems, in the order they were found (at most [`PROBLEMS_PER_CHAIN_MAX`]).
    pub problems: Vec<Problem>,
    /// Problems found beyond the kept ones.
    pub problems_not_kept: u64,
    /// Records the network's governance declared invalid (a revoked key, a removed member),
    /// kept apart from problems: they are evidence of a handled compromise, not a fault of
    /// the ledger (at most [`PROBLEMS_PER_CHAIN_MAX`]).
    pub revoked: Vec<Problem>,
    /// Revoked records beyond the kept ones.
    pub revoked_not_kept: u64,
    /// Records whose bodies are withheld under an order in force, by `seq` (FORMAT.md §27):
    /// valid, and reported as redacted, with who ordered it and why.
    pub redacted: Vec<RedactedEntry>,
}

/// The outcome of verifying a set of records against a genesis.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// The network.
    pub network_id: NetworkId,
    /// Records given to the verifier.
    pub records_seen: u64,
    /// Records that passed every record rule.
    pub records_valid: u64,
    /// Equivocation proofs given.
    pub proofs_seen: u64,
    /// One entry per member, in genesis order.
    pub chains: Vec<ChainReport>,
    /// Problems with records whose author could not be read or is not a member, and
    /// problems of the input as a whole.
    pub unattributed: Vec<Problem>,
    /// The governance state the records were judged under, when the caller derived one.
    pub governance: Option<crate::governance::Derivation>,
}

impl Report {
    /// Whether nothing is wrong: no problem anywhere and no fork.
    pub fn is_valid(&self) -> bool {
        self.unattributed.is_empty()
            && self.chains.iter().all(|chain| {
                chain.problems.is_empty()
                    && chain.problems_not_kept == 0
                    && chain.forked_at.is_none()
            })
    }

    /// Every problem, chains first.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.chains
            .iter()
            .flat_map(|chain| &chain.problems)
            .chain(&self.unattributed)
    }
}

#[derive(Default)]
struct ChainState {
    /// Ids by sequence number of the records linked from 0 (the first-seen branch at a fork).
    ids: Vec<RecordId>,
    /// Records that wait for their predecessor: seq → (id, prev).
    waiting: BTreeMap<u64, Vec<(RecordId, RecordId)>>,
    /// Records on the other side of a fork; their successors are not reported again.
    other_branch: HashSet<RecordId>,
    /// Positions where a record was read (its header names this chain and the position) but
    /// refused by a record rule: a problem is already reported there, so the hole it leaves
    /// is not reported again as a gap (one problem, one line).
    refused_at: BTreeSet<u64>,
    forked_at: Option<u64>,
    problems: Vec<Problem>,
    problems_not_kept: u64,
    revoked: Vec<Problem>,
    revoked_not_kept: u64,
    /// Withheld records linked or waiting here: (seq, id, body kind), judged at the end.
    withheld: Vec<(u64, RecordId, u16)>,
    /// What this chain's `redaction` records name: (order seq, order id, named record).
    named: Vec<(u64, RecordId, RedactedRecord)>,
    redacted: Vec<RedactedEntry>,
}

/// Links verified records into chains and collects problems.
pub struct ChainVerifier {
    network_id: NetworkId,
    authors: Vec<String>,
    index_of: HashMap<String, usize>,
    chains: Vec<ChainState>,
    unattributed: Vec<Problem>,
    records_seen: u64,
    records_valid: u64,
    proofs_seen: u64,
    /// The `redaction` records that passed every rule.
    author_orders: OrdersInForce,
}

impl ChainVerifier {
    /// A verifier for the members of `genesis`.
    pub fn new(genesis: &Genesis) -> ChainVerifier {
        ChainVerifier {
            network_id: genesis.network_id(),
            authors: genesis
                .members
                .iter()
                .map(|member| member.id.clone())
                .collect(),
            index_of: genesis
                .members
                .iter()
                .enumerate()
                .map(|(index, member)| (member.id.clone(), index))
                .collect(),
            chains: genesis
                .members
                .iter()
                .map(|_| ChainState::default())
                .collect(),
            unattributed: Vec::new(),
            records_seen: 0,
            records_valid: 0,
            proofs_seen: 0,
            author_orders: OrdersInForce::default(),
        }
    }

    /// Takes the verdict on one record. A valid record of an author the genesis does not
    /// list (a member added by governance) opens that author's chain.
    pub fn add(&mut self, verdict: Result<VerifiedRecord, Box<RejectedRecord>>) {
        self.records_seen += 1;
        match verdict {
            Ok(record) => {
                self.records_valid += 1;
                let header = record.header();
                let index = self.author_index_or_open(&header.author);
                self.link(index, header.seq, record.id(), header.prev);
                if let Body::Redaction(redaction) = record.body() {
                    self.author_orders.add_order_record(&record);
                    let named = redaction
                        .records
                        .iter()
                        .map(|named| (header.seq, record.id(), *named));
                    self.chains[index].named.extend(named);
                }
            }
            Err(rejected) => self.add_rejected(*rejected),
        }
    }

    /// Takes the verdict on one withheld record (FORMAT.md §6.1): linked like any valid
    /// record, and judged against the orders in force when the report is made.
    pub fn add_withheld(&mut self, verdict: WithheldVerdict) {
        self.records_seen += 1;
        match verdict {
            Ok(record) => {
                self.records_valid += 1;
                let header = record.header();
                let index = self.author_index_or_open(&header.author);
                self.link(index, header.seq, record.id(), header.prev);
                self.chains[index]
                    .withheld
                    .push((header.seq, record.id(), header.body_kind));
            }
            Err(rejected) => self.add_rejected(*rejected),
        }
    }

    /// Takes a record that came inside an equivocation proof and that the authority rejects as
    /// revoked (`Rejection::is_revocation`): the proof proves nothing against its author, and
    /// the record is listed with the revoked ones. Any other rejection is a problem.
    pub fn add_revoked_from_proof(&mut self, rejected: RejectedRecord) {
        self.proofs_seen += 1;
        self.add_rejected(rejected);
    }

    /// Records a problem of the input as a whole (not of one chain).
    pub fn add_input_problem(&mut self, reason: Rejection) {
        self.unattributed.push(Problem {
            author: None,
            seq: None,
            record_id: None,
            reason,
        });
    }

    /// The report, with the governance state the records were judged under.
    pub fn finish_with_governance(mut self, governance: crate::governance::Derivation) -> Report {
        let orders = OrdersInForce::from_authority(&governance.authority);
        self.judge_redactions(orders);
        let mut report = self.finish_chains();
        report.governance = Some(governance);
        report
    }

    /// Judges every withheld record against the orders in force (the admins', then the
    /// authors'), and every author's order against its chain: FORMAT.md §27.
    fn judge_redactions(&mut self, mut orders: OrdersInForce) {
        orders.extend(std::mem::take(&mut self.author_orders));
        for index in 0..self.chains.len() {
            let author = self.authors[index].clone();
            for (seq, id, body_kind) in std::mem::take(&mut self.chains[index].withheld) {
                match judge_withheld(&orders, &author, seq, id, body_kind) {
                    Ok(entry) => self.chains[index].redacted.push(entry),
                    Err(reason) => {
                        let problem = self.problem(index, seq, id, reason);
                        self.chains[index].push(problem);
                    }
                }
            }
            self.chains[index].redacted.sort_by_key(|entry| entry.seq);
            for (order_seq, order_id, named) in std::mem::take(&mut self.chains[index].named) {
                let held = self.chains[index].ids.get(named.seq as usize);
                if named.seq >= order_seq || held != Some(&named.id) {
                    let reason = Rejection::RedactionTargetNotFound {
                        seq: named.seq,
                        id: named.id,
                    };
                    let problem = self.problem(index, order_seq, order_id, reason);
                    self.chains[index].push(problem);
                }
            }
        }
    }

    /// Takes a verified equivocation proof (both records), or the reason a proof was refused.
    pub fn add_proof(&mut self, proof: Result<(VerifiedRecord, VerifiedRecord), Rejection>) {
        self.proofs_seen += 1;
        match proof {
            Ok((first, second)) => {
                let index = self.author_index_or_open(&first.header().author);
                let seq = first.header().seq;
                let chain = &mut self.chains[index];
                // FORMAT.md 12: a proof whose two records are both known on the other side of
                // the fork already is not reported again.
                if chain.other_branch.contains(&first.id())
                    && chain.other_branch.contains(&second.id())
                {
                    return;
                }
                chain.note_fork(seq);
                chain.other_branch.insert(first.id());
                chain.other_branch.insert(second.id());
                let reason = Rejection::Equivocation {
                    first: first.id(),
                    second: second.id(),
                };
                let problem = self.problem(index, seq, second.id(), reason);
                self.chains[index].push(problem);
            }
            Err(reason) => self.unattributed.push(Problem {
                author: None,
                seq: None,
                record_id: None,
                reason,
            }),
        }
    }

    /// The report under the genesis alone (no admins' orders); records still waiting for a
    /// predecessor become gaps.
    pub fn finish(mut self) -> Report {
        self.judge_redactions(OrdersInForce::default());
        self.finish_chains()
    }

    fn finish_chains(mut self) -> Report {
        for index in 0..self.chains.len() {
            let waiting = std::mem::take(&mut self.chains[index].waiting);
            let Some((&first_waiting, _)) = waiting.iter().next() else {
                continue;
            };
            let missing_from = self.chains[index].ids.len() as u64;
            // A hole made only of refused records is reported by their own problems.
            let refused_at = &self.chains[index].refused_at;
            if (missing_from..first_waiting).all(|seq| refused_at.contains(&seq)) {
                continue;
            }
            let stranded = waiting.values().map(|records| records.len() as u64).sum();
            let reason = Rejection::Gap {
                missing_from,
                missing_to: first_waiting - 1,
                stranded,
            };
            let problem = Problem {
                author: Some(self.authors[index].clone()),
                seq: Some(missing_from),
                record_id: None,
                reason,
            };
            self.chains[index].push(problem);
        }
        let chains = self
            .chains
            .into_iter()
            .zip(self.authors)
            .map(|(chain, author)| ChainReport {
                author,
                length: chain.ids.len() as u64,
                head: chain.ids.last().map(|id| (chain.ids.len() as u64 - 1, *id)),
                forked_at: chain.forked_at,
                problems: chain.problems,
                problems_not_kept: chain.problems_not_kept,
                revoked: chain.revoked,
                revoked_not_kept: chain.revoked_not_kept,
                redacted: chain.redacted,
            })
            .collect();
        Report {
            network_id: self.network_id,
            records_seen: self.records_seen,
            records_valid: self.records_valid,
            proofs_seen: self.proofs_seen,
            chains,
            unattributed: self.unattributed,
            governance: None,
        }
    }

    fn author_index(&self, author: &str) -> Option<usize> {
        self.index_of.get(author).copied()
    }

    fn author_index_or_open(&mut self, author: &str) -> usize {
        match self.author_index(author) {
            Some(index) => index,
            None => {
                self.authors.push(author.to_owned());
                self.chains.push(ChainState::default());
                self.index_of
                    .insert(author.to_owned(), self.chains.len() - 1);
                self.chains.len() - 1
            }
        }
    }

    fn add_rejected(&mut self, rejected: RejectedRecord) {
        let index = match rejected.author.as_deref() {
            Some(author) if rejected.reason.is_revocation() => {
                Some(self.author_index_or_open(author))
            }
            Some(author) => self.author_index(author),
            None => None,
        };
        let problem = Problem {
            author: rejected.author,
            seq: rejected.seq,
            record_id: rejected.id,
            reason: rejected.reason,
        };
        match index {
            Some(index) if problem.reason.is_revocation() => {
                self.chains[index].push_revoked(problem)
            }
            Some(index) => {
                if let Some(seq) = problem.seq {
                    self.chains[index].refused_at.insert(seq);
                }
                self.chains[index].push(problem)
            }
            None => self.unattributed.push(problem),
        }
    }

    fn problem(&self, index: usize, seq: u64, id: RecordId, reason: Rejection) -> Problem {
        Problem {
            author: Some(self.authors[index].clone()),
            seq: Some(seq),
            record_id: Some(id),
            reason,
        }
    }

    fn link(&mut self, index: usize, seq: u64, id: RecordId, prev: RecordId) {
        let next = self.chains[index].ids.len() as u64;
        if seq > next {
            self.chains[index]
                .waiting
                .entry(seq)
                .or_default()
                .push((id, prev));
            return;
        }
        if let Some(reason) = self.chains[index].place(seq, id, prev) {
            let problem = self.problem(index, seq, id, reason);
            self.chains[index].push(problem);
        }
        // The chain may have grown: records that waited for it can now be placed.
        loop {
            let next = self.chains[index].ids.len() as u64;
            let Some(waiting) = self.chains[index].waiting.remove(&next) else {
                break;
            };
            let grew_before = self.chains[index].ids.len();
            for (id, prev) in waiting {
                if let Some(reason) = self.chains[index].place(next, id, prev) {
                    let problem = self.problem(index, next, id, reason);
                    self.chains[index].push(problem);
                }
            }
            if self.chains[index].ids.len() == grew_before {
                break;
            }
        }
    }
}

impl ChainState {
    /// Places a record at `seq` (which is at most the chain's length); returns a problem if it does not fit.
    fn place(&mut self, seq: u64, id: RecordId, prev: RecordId) -> Option<Rejection> {
        let next = self.ids.len() as u64;
        if seq < next {
            let first = self.ids[seq as usize];
            if first == id {
                return Some(Rejection::Duplicate);
            }
            if !self.other_branch.insert(id) {
                return None; // already reported through a proof or an earlier copy
            }
            self.note_fork(seq);
            return Some(Rejection::Equivocation { first, second: id });
        }
        let expected = if seq == 0 {
            RecordId::ZERO
        } else {
            self.ids[seq as usize - 1]
        };
        if prev == expected {
            self.ids.push(id);
            return None;
        }
        if self.other_branch.contains(&prev) {
            // Continues the other side of a reported fork.
            self.other_branch.insert(id);
            return None;
        }
        Some(Rejection::WrongPredecessor {
            expected,
            found: prev,
        })
    }

    fn note_fork(&mut self, seq: u64) {
        self.forked_at = Some(self.forked_at.map_or(seq, |known| known.min(seq)));
    }

    fn push_revoked(&mut self, problem: Problem) {
        if self.revoked.len() < PROBLEMS_PER_CHAIN_MAX {
            self.revoked.push(problem);
        } else {
            self.revoked_not_kept += 1;
        }
    }

    fn push(&mut self, problem: Problem) {
        if self.problems.len() < PROBLEMS_PER_CHAIN_MAX {
            self.problems.push(problem);
        } else {
            self.problems_not_kept += 1;
        }
    }
}
