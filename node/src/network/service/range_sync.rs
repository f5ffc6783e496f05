//! Range sync on the wire: answering peers' requests from the store, sending this node's
//! requests, and carrying out what the [`Syncer`](crate::network::sync::Syncer) decides when
//! heads, ranges and verified ranges come in.

use std::collections::HashSet;

use libp2p::request_response::{self, OutboundRequestId};
use libp2p::PeerId;

use super::{Requested, Service};
use crate::network::sync::Action;
use crate::network::tasks::{self, Completion};
use crate::network::wire::{SyncRequest, SyncResponse, WireHead, HEADS_MAX};
use aidledger_store::{Head, Store, StoreError};

impl Service {
    pub(super) fn on_sync(&mut self, event: request_response::Event<SyncRequest, SyncResponse>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.serve(request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => self.on_response(peer, request_id, response),
            },
            request_response::Event::OutboundFailure { request_id, .. } => {
                if let Some(Requested::Range { author, .. }) = self.requests.remove(&request_id) {
                    self.syncer.abandon(&author);
                }
            }
            _ => {}
        }
    }

    fn serve(
        &mut self,
        request: SyncRequest,
        channel: request_response::ResponseChannel<SyncResponse>,
    ) {
        let store = self.store.clone();
        let checkpoints = self.checkpoints.clone();
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            let response = tokio::task::spawn_blocking(move || match request {
                SyncRequest::Heads => read_heads(&store),
                SyncRequest::Range {
                    author,
                    from_seq,
                    limit,
                } => tasks::read_range(&store, &author, from_seq, limit),
                SyncRequest::Proofs => tasks::read_proofs(&store),
                SyncRequest::Witnessed => {
                    super::witnessed::read_witnessed(&store.reader(), &checkpoints)
                }
            })
            .await
            .unwrap_or(SyncResponse::Unavailable);
            let _ = completions
                .send(Completion::Serve { channel, response })
                .await;
        });
    }

    fn on_response(&mut self, peer: PeerId, id: OutboundRequestId, response: SyncResponse) {
        let Some(requested) = self.requests.remove(&id) else {
            return;
        };
        match (requested, response) {
            (Requested::Heads, SyncResponse::Heads { heads, proofs }) => {
                if heads.len() > HEADS_MAX {
                    return self.penalise(peer, "sync: too many heads");
                }
                let forked: HashSet<String> = self
                    .store
                    .forks()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(author, _)| author)
                    .collect();
                let store = self.store.clone();
                let local = |author: &str| store.head(author).ok().flatten();
                // Chains this peer sent a refused record of, while nothing changed since.
                let mut skip = forked;
                skip.extend(heads.iter().filter_map(|head| {
                    let refused_seq = self.refused.get(&(peer, head.author.clone()))?;
                    let (next_seq, _) = Head::next(local(&head.author));
                    (next_seq == *refused_seq).then(|| head.author.clone())
                }));
                // Signing waits while a member peer holds more of this node's own chain
                // (`signing_gate`).
                let own = self.writer.org();
                let peer_own = heads
                    .iter()
                    .find(|head| head.author == own)
                    .map(|head| head.seq);
                self.writer
                    .signing_gate()
                    .note_peer_head(&peer.to_string(), peer_own);
                let actions = self.syncer.on_heads(peer, &heads, local, &skip);
                self.perform(actions);
                if proofs > self.store.proof_count() {
                    self.request(peer, SyncRequest::Proofs, Requested::Proofs);
                }
            }
            (Requested::Range { author, from_seq }, SyncResponse::Records(records)) => {
                let actions = self.syncer.on_records(&author, from_seq, records);
                self.perform(actions);
            }
            (Requested::Range { author, .. }, _) => self.syncer.abandon(&author),
            (Requested::Probe, response @ SyncResponse::Records(_))
            | (Requested::Proofs, response @ SyncResponse::Proofs(_)) => {
                self.spawn_check_and_ingest(peer, response);
            }
            (Requested::Witnessed, SyncResponse::Witnessed(set)) => {
                self.on_witnessed_set(peer, set);
            }
            (_, SyncResponse::Unavailable) => {}
            (_, _) => self.penalise(peer, "sync: a response of the wrong kind"),
        }
    }

    pub(super) fn request(&mut self, peer: PeerId, request: SyncRequest, requested: Requested) {
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
        self.requests.insert(id, requested);
    }

    pub(super) fn perform(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Request { peer, request } => {
                    let requested = match &request {
                        SyncRequest::Range {
                            author, from_seq, ..
                        } => Requested::Range {
                            author: author.clone(),
                            from_seq: *from_seq,
                        },
                        SyncRequest::Heads => Requested::Heads,
                        SyncRequest::Proofs => Requested::Proofs,
                        SyncRequest::Witnessed => Requested::Witnessed,
                    };
                    self.request(peer, request, requested);
                }
                Action::Verify {
                    author,
                    peer,
                    from_seq,
                    records,
                } => self.spawn_verify(author, peer, from_seq, records),
                Action::Ingest {
                    author,
                    peer,
                    records,
                } => self.spawn_ingest(Some(author), peer, records, Vec::new()),
            }
        }
    }

    fn spawn_verify(&self, author: String, peer: PeerId, from_seq: u64, records: Vec<Vec<u8>>) {
        let view = self.view();
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            let checked = author.clone();
            let verified = tokio::task::spawn_blocking(move || {
                tasks::verify_range_in(&view, &checked, from_seq, records)
            })
            .await
            .unwrap_or_else(|error| Err(error.to_string()));
            let done = Completion::Verified {
                author,
                peer,
                from_seq,
                records: verified,
            };
            let _ = completions.send(done).await;
        });
    }
}

/// This node's heads as peers may fetch them: durable only (see `tasks::read_range`).
fn read_heads(store: &Store) -> SyncResponse {
    let durable =
        |entry: Result<(String, Head), StoreError>| -> Result<Option<WireHead>, StoreError> {
            let (author, _) = entry?;
            Ok(store.durable_head(&author)?.map(|head| WireHead {
                author,
                seq: head.seq,
                id: head.id.0,
            }))
        };
    let heads: Result<Vec<WireHead>, _> = store
        .heads()
        .take(HEADS_MAX)
        .filter_map(|entry| durable(entry).transpose())
        .collect();
    match heads {
        Ok(heads) => SyncResponse::Heads {
            heads,
            proofs: store.proof_count(),
        },
        Err(_) => SyncResponse::Unavailable,
    }
}
