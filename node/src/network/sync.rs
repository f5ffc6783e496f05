//! Range sync as a state machine without I/O: given what peers report and what arrives, it
//! says which requests to send and which batches to verify and ingest.
//!
//! Per chain, one fetch from one peer at a time: one range request outstanding, the next one
//! sent as soon as a response arrives (from where that response ended, so ranges are always
//! contiguous), at most [`BUFFERED_BATCHES_MAX`] batches being verified or waiting to be
//! ingested, and batches ingested strictly in seq order. Memory is therefore bounded by
//! ([`BUFFERED_BATCHES_MAX`] + 1) × the range response limit, whatever the length of the chain.
//!
//! A batch whose verification stops at a record the authority refuses
//! ([`Syncer::on_refused`]) ends its fetch there: what comes before is ingested, what comes
//! after is dropped. The service fetches the chain again once the governance state changes.

use std::collections::{BTreeMap, HashMap, HashSet};

use aidledger_spec::withheld::ChainRecord;
use libp2p::PeerId;

use super::wire::{SyncRequest, WireHead, RANGE_RECORDS_MAX};
use aidledger_store::Head;

/// Most batches of one chain being verified or waiting to be ingested.
pub const BUFFERED_BATCHES_MAX: usize = 3;

/// What the service must do.
#[derive(Debug)]
pub enum Action {
    /// Send a range request.
    Request {
        /// To whom.
        peer: PeerId,
        /// The request.
        request: SyncRequest,
    },
    /// Verify a batch of a chain received from `peer` (starting at `from_seq`).
    Verify {
        /// The chain.
        author: String,
        /// Who sent it.
        peer: PeerId,
        /// The first seq asked for.
        from_seq: u64,
        /// The wire bytes.
        records: Vec<Vec<u8>>,
    },
    /// Ingest a verified batch (in chain order).
    Ingest {
        /// The chain.
        author: String,
        /// Who sent it.
        peer: PeerId,
        /// The records.
        records: Vec<ChainRecord>,
    },
}

/// One chain being fetched from one peer.
#[derive(Debug)]
struct Fetch {
    peer: PeerId,
    /// The peer's head seq when the fetch began: fetch up to here.
    target_seq: u64,
    next_request_seq: u64,
    outstanding: bool,
    verifying: usize,
    ready: BTreeMap<u64, Vec<ChainRecord>>,
    next_ingest_seq: u64,
    ingesting: bool,
}

impl Fetch {
    fn buffered(&self) -> usize {
        self.verifying + self.ready.len()
    }

    fn is_done(&self) -> bool {
        self.next_request_seq > self.target_seq
            && !self.outstanding
            && self.verifying == 0
            && self.ready.is_empty()
            && !self.ingesting
    }
}

/// Every fetch, and the heads peers reported.
#[derive(Default)]
pub struct Syncer {
    fetches: HashMap<String, Fetch>,
    peer_heads: HashMap<PeerId, HashMap<String, u64>>,
}

impl Syncer {
    /// The heads each peer last reported, as author → seq.
    pub fn peer_heads(&self) -> &HashMap<PeerId, HashMap<String, u64>> {
        &self.peer_heads
    }

    /// How many chains are being fetched.
    pub fn fetching(&self) -> usize {
        self.fetches.len()
    }

    /// A peer's heads arrived: start fetching every chain where it is ahead of us. `local`
    /// gives our head of a chain; `skip` lists chains not to fetch (forked ones).
    pub fn on_heads(
        &mut self,
        peer: PeerId,
        heads: &[WireHead],
        local: impl Fn(&str) -> Option<Head>,
        skip: &HashSet<String>,
    ) -> Vec<Action> {
        let reported = heads
            .iter()
            .map(|head| (head.author.clone(), head.seq))
            .collect();
        self.peer_heads.insert(peer, reported);
        let mut actions = Vec::new();
        for head in heads {
            if skip.contains(&head.author) || self.fetches.contains_key(&head.author) {
                continue;
            }
            let (next_seq, _) = Head::next(local(&head.author));
            if head.seq >= next_seq {
                self.fetches.insert(
                    head.author.clone(),
                    Fetch {
                        peer,
                        target_seq: head.seq,
                        next_request_seq: next_seq,
                        outstanding: false,
                        verifying: 0,
                        ready: BTreeMap::new(),
                        next_ingest_seq: next_seq,
                        ingesting: false,
                    },
                );
                actions.extend(self.advance(&head.author));
            }
        }
        actions
    }

    /// A range response arrived.
    pub fn on_records(
        &mut self,
        author: &str,
        from_seq: u64,
        records: Vec<Vec<u8>>,
    ) -> Vec<Action> {
        let Some(fetch) = self.fetches.get_mut(author) else {
            return Vec::new();
        };
        fetch.outstanding = false;
        if from_seq > fetch.target_seq {
            // Asked before the fetch was cut short at a refused record.
            return self.advance(author);
        }
        if records.is_empty() {
            // The peer has less than it reported (or nothing new): stop at what we have.
            fetch.target_seq = fetch.next_request_seq.saturating_sub(1);
            return self.advance(author);
        }
        fetch.next_request_seq = from_seq + records.len() as u64;
        fetch.verifying += 1;
        let mut actions = vec![Action::Verify {
            author: author.to_owned(),
            peer: fetch.peer,
            from_seq,
            records,
        }];
        actions.extend(self.advance(author));
        actions
    }

    /// A batch was verified (and checked to be the asked chain's consecutive records).
    pub fn on_verified(
        &mut self,
        author: &str,
        from_seq: u64,
        records: Vec<ChainRecord>,
    ) -> Vec<Action> {
        let Some(fetch) = self.fetches.get_mut(author) else {
            return Vec::new();
        };
        fetch.verifying = fetch.verifying.saturating_sub(1);
        if from_seq <= fetch.target_seq && !records.is_empty() {
            fetch.ready.insert(from_seq, records);
        }
        self.advance(author)
    }

    /// A batch was verified up to a record the authority refuses: `records` (possibly none)
    /// are the valid ones before it. The fetch ends at the last of them; batches after it are
    /// dropped when they arrive.
    pub fn on_refused(
        &mut self,
        author: &str,
        from_seq: u64,
        records: Vec<ChainRecord>,
    ) -> Vec<Action> {
        let Some(fetch) = self.fetches.get_mut(author) else {
            return Vec::new();
        };
        fetch.verifying = fetch.verifying.saturating_sub(1);
        let refused_seq = from_seq + records.len() as u64;
        if refused_seq <= fetch.target_seq {
            // Nothing at or after the refused record is ingested from this fetch. Requests
            // were sent up to the refused batch at least, so `next_request_seq` is past the
            // new target (after a refusal at seq 0 the target 0 is past too: the batch asked
            // from seq 0 held a record).
            fetch.target_seq = refused_seq.saturating_sub(1);
            fetch.ready.retain(|start, _| *start < refused_seq);
        }
        if from_seq <= fetch.target_seq && !records.is_empty() {
            fetch.ready.insert(from_seq, records);
        }
        self.advance(author)
    }

    /// A batch was ingested; `complete` is false when the chain cannot continue from this peer
    /// (a record did not attach: the author forked).
    pub fn on_ingested(&mut self, author: &str, complete: bool) -> Vec<Action> {
        if !complete {
            self.fetches.remove(author);
            return Vec::new();
        }
        if let Some(fetch) = self.fetches.get_mut(author) {
            fetch.ingesting = false;
        }
        self.advance(author)
    }

    /// Gives up a fetch (a failed request, invalid data, a peer gone).
    pub fn abandon(&mut self, author: &str) {
        self.fetches.remove(author);
    }

    /// Gives up every fetch (the governance state changed: what was verified under the old one
    /// is not ingested, and chains are fetched again under the new one).
    pub fn abandon_all(&mut self) {
        self.fetches.clear();
    }

    /// Gives up every fetch from `peer` and forgets its heads.
    pub fn peer_gone(&mut self, peer: &PeerId) {
        self.fetches.retain(|_, fetch| fetch.peer != *peer);
        self.peer_heads.remove(peer);
    }

    /// The next steps of a fetch: ingest what is next in order, request more while there is
    /// room, and end it once everything up to the target is ingested.
    fn advance(&mut self, author: &str) -> Vec<Action> {
        let Some(fetch) = self.fetches.get_mut(author) else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        if !fetch.ingesting {
            if let Some(records) = fetch.ready.remove(&fetch.next_ingest_seq) {
                fetch.next_ingest_seq += records.len() as u64;
                fetch.ingesting = true;
                actions.push(Action::Ingest {
                    author: author.to_owned(),
                    peer: fetch.peer,
                    records,
                });
            }
        }
        if !fetch.outstanding
            && fetch.next_request_seq <= fetch.target_seq
            && fetch.buffered() < BUFFERED_BATCHES_MAX
        {
            fetch.outstanding = true;
            let remaining = fetch.target_seq - fetch.next_request_seq + 1;
            actions.push(Action::Request {
                peer: fetch.peer,
                request: SyncRequest::Range {
                    author: author.to_owned(),
                    from_seq: fetch.next_request_seq,
                    limit: remaining.min(RANGE_RECORDS_MAX),
                },
            });
        }
        if fetch.is_done() {
            self.fetches.remove(author);
        }
        actions
    }
}
