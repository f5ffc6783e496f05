//! The node signs no position of its own chain that a member peer already holds (issue 17: no
//! self-inflicted fork).
//!
//! Peers are served durable records only (`Store::durable_head`), and an unclean start discards
//! a tail that did not survive (`store::recovery`), so a peer should never hold a record of this
//! organisation that the store lacks. Two cases remain where one can: a data directory restored
//! from an older backup, and records served by an older version of the node before a power
//! loss. So every heads answer of a member peer is compared with the local head: while some
//! peer reports this organisation's chain further than the store holds it, submissions and
//! key rotations are refused (503, with the reason), and range sync fetches the missing records
//! like any other chain's; signing resumes once the store has caught up.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Most peers whose view of the chain is remembered (one entry per member node; a bound on
/// what a misbehaving network can make the node keep).
pub const PEER_VIEWS_MAX: usize = 4096;

/// Member peers' latest view of this node's own chain.
#[derive(Debug, Default)]
pub struct SigningGate {
    /// Peer → the last seq of this organisation's chain it reported holding.
    peer_heads: Mutex<HashMap<String, u64>>,
}

impl SigningGate {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, u64>> {
        self.peer_heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes a member peer's head of this node's own chain (`None`: it holds none of it).
    pub fn note_peer_head(&self, peer: &str, seq: Option<u64>) {
        let mut heads = self.lock();
        match seq {
            Some(seq) if heads.len() < PEER_VIEWS_MAX || heads.contains_key(peer) => {
                heads.insert(peer.to_owned(), seq);
            }
            Some(_) => {}
            None => {
                heads.remove(peer);
            }
        }
    }

    /// `Err(reason)` while a member peer holds this chain beyond `local_seq` (the store's head;
    /// `None` for an empty chain).
    pub fn check(&self, local_seq: Option<u64>) -> Result<(), String> {
        let heads = self.lock();
        let Some((peer, peer_seq)) = heads.iter().max_by_key(|(_, seq)| **seq) else {
            return Ok(());
        };
        if local_seq.is_some_and(|local| local >= *peer_seq) {
            return Ok(());
        }
        let local = local_seq.map_or("none of it".to_owned(), |seq| format!("seq {seq}"));
        Err(format!(
            "member peer {peer} holds this organisation's chain up to seq {peer_seq} and this node only {local}: \
             it fetches the missing records from its peers before it signs again"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_waits_while_a_peer_holds_more_of_the_chain() {
        let gate = SigningGate::default();
        assert!(gate.check(None).is_ok(), "no peer seen");
        gate.note_peer_head("a", Some(4));
        gate.note_peer_head("b", Some(2));
        assert!(gate.check(Some(3)).is_err(), "peer a is ahead");
        assert!(gate.check(None).is_err());
        assert!(gate.check(Some(4)).is_ok(), "caught up");
        gate.note_peer_head("a", None);
        assert!(gate.check(Some(2)).is_ok(), "a now holds none of it");
    }
}
