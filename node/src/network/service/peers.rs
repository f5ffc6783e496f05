//! The peers a node talks to: the swarm's connection events, the tick that redials bootstrap
//! addresses and ends penalties, the allow list rebuilt on every governance change, and how
//! refused connections, refused chains and invalid data from a peer are noted and penalised.

use std::time::{Duration, Instant};

use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::SwarmEvent;
use libp2p::PeerId;

use super::{Requested, Service, DENIED_REDIAL_MS, PENALTY_MS, REFUSED_LOG_INTERVAL_MS};
use crate::network::behaviour::BehaviourEvent;
use crate::network::identity;
use crate::network::wire::SyncRequest;

impl Service {
    pub(super) fn on_tick(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> = self
            .penalised
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in expired {
            self.penalised.remove(&peer);
            if self.members.contains_key(&peer) {
                self.swarm.behaviour_mut().members_only.allow_peer(peer);
            }
        }
        self.denied_bootstrap.retain(|_, until| *until > now);
        for addr in self.bootstrap.clone() {
            if !self.dialled.contains_key(&addr) && !self.denied_bootstrap.contains_key(&addr) {
                let opts = DialOpts::unknown_peer_id().address(addr.clone()).build();
                let id = opts.connection_id();
                if self.swarm.dial(opts).is_ok() {
                    self.dialled.insert(addr, id);
                }
            }
        }
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            self.request(peer, SyncRequest::Heads, Requested::Heads);
        }
        self.ask_witnessed();
        self.refresh_status();
    }

    /// The governance state changed: let in the nodes of current members only (disconnecting
    /// the others), drop fetches made under the old state, and ask every peer for its heads so
    /// that chains the old state refused are fetched again.
    pub(super) fn on_governance_change(&mut self) {
        let view = self.changes.borrow_and_update().clone();
        let allowed = identity::allowed_peers(&view.derivation.authority);
        let gone: Vec<(PeerId, String)> = self
            .members
            .iter()
            .filter(|(peer, _)| !allowed.contains_key(peer))
            .map(|(peer, org)| (*peer, org.clone()))
            .collect();
        for (peer, org) in gone {
            crate::log_line!(
                "aidledger-node: peer {peer} ({org}) is no longer a member node: disconnected and refused from now on"
            );
            // Closes every connection to it and refuses new ones.
            self.swarm.behaviour_mut().members_only.disallow_peer(peer);
            self.syncer.peer_gone(&peer);
            self.penalised.remove(&peer);
            self.refused
                .retain(|(refused_peer, _), _| *refused_peer != peer);
        }
        for (peer, org) in &allowed {
            if !self.members.contains_key(peer) {
                crate::log_line!(
                    "aidledger-node: peer {peer} ({org}) is now a member node and may connect"
                );
            }
            if !self.penalised.contains_key(peer) {
                self.swarm.behaviour_mut().members_only.allow_peer(*peer);
            }
        }
        let was_member = self.members.contains_key(&self.peer_id);
        let is_member = allowed.contains_key(&self.peer_id);
        if was_member != is_member {
            let now = if is_member {
                "is now among the members' node keys: members accept its connections"
            } else {
                "is no longer among the members' node keys: members refuse its connections"
            };
            crate::log_line!("aidledger-node: this node (peer id {}) {now}", self.peer_id);
        }
        self.members = allowed;
        self.syncer.abandon_all();
        self.refused.clear();
        self.denied_bootstrap.clear();
        let peers: Vec<PeerId> = self
            .swarm
            .connected_peers()
            .filter(|peer| self.members.contains_key(peer))
            .copied()
            .collect();
        for peer in peers {
            self.request(peer, SyncRequest::Heads, Requested::Heads);
        }
        self.refresh_status();
    }

    pub(super) fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossip(event)) => self.on_gossip(event),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync(event),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } if num_established.get() == 1 => {
                self.request(peer_id, SyncRequest::Heads, Requested::Heads);
                self.request(peer_id, SyncRequest::Proofs, Requested::Proofs);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                self.dialled.retain(|_, id| *id != connection_id);
                if num_established == 0 {
                    self.syncer.peer_gone(&peer_id);
                    self.refused
                        .retain(|(refused_peer, _), _| *refused_peer != peer_id);
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                error,
                ..
            } => {
                let denied = matches!(error, libp2p::swarm::DialError::Denied { .. });
                let until = Instant::now() + Duration::from_millis(DENIED_REDIAL_MS);
                let denied_bootstrap = &mut self.denied_bootstrap;
                self.dialled.retain(|addr, id| {
                    if *id == connection_id && denied {
                        // The peer there is not a member node: do not redial every tick.
                        denied_bootstrap.insert(addr.clone(), until);
                    }
                    *id != connection_id
                });
                if denied {
                    self.count_refused("outgoing", &error.to_string());
                }
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                if matches!(error, libp2p::swarm::ListenError::Denied { .. }) {
                    self.count_refused("incoming", &error.to_string());
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                self.write_status(|status| status.listen.push(address.to_string()));
            }
            _ => {}
        }
    }

    fn count_refused(&mut self, direction: &str, error: &str) {
        let now = Instant::now();
        let (last, since) = &mut self.refused_log;
        let quiet = last.is_some_and(|last| {
            now.duration_since(last) < Duration::from_millis(REFUSED_LOG_INTERVAL_MS)
        });
        if quiet {
            *since += 1;
        } else {
            let more = match *since {
                0 => String::new(),
                count => format!(" ({count} more refused since the last report)"),
            };
            crate::log_line!("aidledger-node: refused an {direction} connection: {error}{more}");
            *last = Some(now);
            *since = 0;
        }
        self.write_status(|status| status.refused_connections += 1);
    }

    /// A record from `peer` that the authority refuses: not stored, not held against the peer
    /// (one of the two governance states may be behind). The chain is not fetched from it
    /// again until something changes.
    pub(super) fn note_refused(&mut self, peer: PeerId, author: &str, seq: u64, reason: &str) {
        let previous = self.refused.insert((peer, author.to_owned()), seq);
        if previous != Some(seq) {
            let org = self.members.get(&peer).cloned().unwrap_or_default();
            crate::log_line!(
                "aidledger-node: not storing {author}'s chain from seq {seq} (from {peer}, {org}) under the current governance state: {reason}"
            );
        }
    }

    pub(super) fn note_rejected(&mut self, peer: PeerId, reason: &str) {
        let org = self.members.get(&peer).cloned().unwrap_or_default();
        crate::log_line!("aidledger-node: rejected data from {peer} ({org}): {reason}");
        *self.rejected.entry(peer).or_default() += 1;
        self.write_status(|status| status.rejected_messages += 1);
    }

    /// Invalid sync data: count it, and refuse the peer for [`PENALTY_MS`].
    pub(super) fn penalise(&mut self, peer: PeerId, reason: &str) {
        self.note_rejected(peer, reason);
        self.syncer.peer_gone(&peer);
        self.swarm.behaviour_mut().members_only.disallow_peer(peer);
        self.penalised
            .insert(peer, Instant::now() + Duration::from_millis(PENALTY_MS));
    }
}
