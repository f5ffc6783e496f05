//! Transport identities: the node's libp2p key (a key file like `org.key`), and the members'
//! peer ids, derived from the node keys of the current members (`Authority::allowed_node_keys`,
//! the genesis' `node_keys` as changed by governance); only those peers may connect.

use std::collections::HashMap;

use aidledger_spec::governance::Authority;
use aidledger_spec::{Genesis, PublicKey};
use ed25519_dalek::SigningKey;
use libp2p::identity::{self, Keypair};
use libp2p::PeerId;

/// The libp2p identity of a node key (the 32-byte ed25519 seed of a key file).
pub fn keypair(key: &SigningKey) -> Keypair {
    // A 32-byte seed is always a valid ed25519 secret key; the fallback is unreachable but
    // keeps this function total.
    Keypair::ed25519_from_bytes(key.to_bytes()).unwrap_or_else(|_| Keypair::generate_ed25519())
}

/// The peer id of an ed25519 public key as listed in a genesis; `None` for bytes that are not
/// a valid ed25519 point.
pub fn peer_id_of(key: &PublicKey) -> Option<PeerId> {
    let public = identity::ed25519::PublicKey::try_from_bytes(&key.0).ok()?;
    Some(identity::PublicKey::from(public).to_peer_id())
}

/// Every genesis member node's peer id and its organisation.
pub fn member_peers(genesis: &Genesis) -> HashMap<PeerId, String> {
    allowed_peers(&Authority::from_genesis(genesis))
}

/// The peer id of every node of a current member under `authority`, and its organisation:
/// the peers a node lets in. Removed members' nodes are not among them.
pub fn allowed_peers(authority: &Authority) -> HashMap<PeerId, String> {
    let owners: HashMap<&PublicKey, &str> = authority
        .members()
        .filter(|member| member.is_current())
        .flat_map(|member| member.node_keys.iter().map(|key| (key, member.id.as_str())))
        .collect();
    authority
        .allowed_node_keys()
        .iter()
        .filter_map(|key| {
            let org = owners.get(key).copied().unwrap_or_default();
            Some((peer_id_of(key)?, org.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_id_of_a_node_key_matches_its_keypair() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let listed = PublicKey(key.verifying_key().to_bytes());
        assert_eq!(
            peer_id_of(&listed),
            Some(keypair(&key).public().to_peer_id())
        );
    }
}
