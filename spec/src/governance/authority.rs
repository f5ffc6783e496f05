//! The [`Authority`] the governance derives: every member's state, the positions each signing
//! key may sign, and the authority rules (FORMAT.md, rules 12–17) that [`Authority::check`]
//! decides.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{witness_policy_of, Change, WitnessEntry};
use crate::cosignature::WitnessPolicy;
use crate::genesis::{AdminRule, Genesis, Member, Role};
use crate::ids::{NetworkId, PublicKey, RecordId};
use crate::verify::Rejection;

/// Why a key stops being valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyEndReason {
    /// Its holder rotated to a new key.
    Rotated,
    /// The admins revoked it.
    Revoked,
}

/// Where a key stops being valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeyEnd {
    /// The first sequence number the key may not sign.
    pub from_seq: u64,
    /// The rotation record or the revoking proposal.
    pub by: RecordId,
    /// Rotation or revocation.
    pub reason: KeyEndReason,
}

/// The positions of a chain one key may sign: `from_seq` up to, not including, `end.from_seq`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeySpan {
    /// The key.
    pub key: PublicKey,
    /// The first sequence number it may sign.
    pub from_seq: u64,
    /// The record that introduced it (none for the genesis).
    pub introduced_by: Option<RecordId>,
    /// Where it stops, if it does.
    pub end: Option<KeyEnd>,
}

impl KeySpan {
    fn covers(&self, seq: u64) -> bool {
        seq >= self.from_seq && self.end.is_none_or(|end| seq < end.from_seq)
    }
}

/// Where a removed member's chain stops being valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Removal {
    /// The first invalid sequence number.
    pub from_seq: u64,
    /// The proposal that removed it.
    pub by: RecordId,
}

/// A member as the governance has made it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MemberState {
    /// Organisation id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Current roles.
    pub roles: Vec<Role>,
    /// Current node keys (libp2p identities).
    pub node_keys: Vec<PublicKey>,
    /// Every signing key it ever had, in the order they were introduced.
    pub keys: Vec<KeySpan>,
    /// Set once the member has been removed.
    pub removed: Option<Removal>,
    /// The proposal that added it (none for genesis members).
    pub added_by: Option<RecordId>,
}

impl MemberState {
    pub(super) fn from_member(member: &Member, added_by: Option<RecordId>) -> MemberState {
        MemberState {
            id: member.id.clone(),
            name: member.name.clone(),
            roles: member.roles.clone(),
            node_keys: member.node_keys.clone(),
            keys: member
                .signing_keys
                .iter()
                .map(|key| KeySpan {
                    key: *key,
                    from_seq: 0,
                    introduced_by: added_by,
                    end: None,
                })
                .collect(),
            removed: None,
            added_by,
        }
    }

    /// Whether the member has not been removed.
    pub fn is_current(&self) -> bool {
        self.removed.is_none()
    }

    /// The keys that may sign the chain's next positions (their spans have no end).
    pub fn open_keys(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys
            .iter()
            .filter(|span| span.end.is_none())
            .map(|span| &span.key)
    }

    pub(super) fn span_mut(&mut self, key: &PublicKey) -> Option<&mut KeySpan> {
        self.keys.iter_mut().find(|span| span.key == *key)
    }
}

/// An effective proposal, in the order they took effect.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// The proposal record.
    pub proposal: RecordId,
    /// The change.
    pub change: Change,
    /// The admins whose approvals made it effective (the proposer included).
    pub approved_by: Vec<String>,
}

/// Who is a member and which key may sign which positions: the genesis with every effective
/// proposal and every valid rotation applied.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Authority {
    network_id: NetworkId,
    pub(super) members: BTreeMap<String, MemberState>,
    pub(super) admin_rule: AdminRule,
    pub(super) steps: Vec<Step>,
    /// The witnesses of the last effective `set-witnesses` (none: no policy).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) witnesses: Vec<WitnessEntry>,
    /// How many of them must cosign (0 with none).
    #[serde(skip_serializing_if = "is_zero")]
    pub(super) witness_threshold: u16,
    /// Every signing key ever named, and its member: a key names one organisation forever.
    #[serde(skip)]
    pub(super) key_owners: HashMap<PublicKey, String>,
}

fn is_zero(value: &u16) -> bool {
    *value == 0
}

impl Authority {
    /// The authority of a network that has no governance records yet.
    pub fn from_genesis(genesis: &Genesis) -> Authority {
        let members: BTreeMap<String, MemberState> = genesis
            .members
            .iter()
            .map(|member| (member.id.clone(), MemberState::from_member(member, None)))
            .collect();
        let key_owners = genesis
            .members
            .iter()
            .flat_map(|member| {
                member
                    .signing_keys
                    .iter()
                    .map(|key| (*key, member.id.clone()))
            })
            .collect();
        Authority {
            network_id: genesis.network_id(),
            members,
            admin_rule: genesis.admin_rule.clone(),
            steps: Vec::new(),
            witnesses: Vec::new(),
            witness_threshold: 0,
            key_owners,
        }
    }

    /// The network.
    pub fn network_id(&self) -> NetworkId {
        self.network_id
    }

    /// Every member ever, current and removed, by id.
    pub fn members(&self) -> impl Iterator<Item = &MemberState> {
        self.members.values()
    }

    /// A member, current or removed.
    pub fn member(&self, id: &str) -> Option<&MemberState> {
        self.members.get(id)
    }

    /// The admin rule in force.
    pub fn admin_rule(&self) -> &AdminRule {
        &self.admin_rule
    }

    /// The witness policy in force (FORMAT.md §24): the last effective `set-witnesses`, or
    /// `None` when none took effect or the last one listed no witnesses. The derivation applies
    /// only lists that make a policy, so a set list always gives one.
    pub fn witness_policy(&self) -> Option<WitnessPolicy> {
        witness_policy_of(&self.witnesses, self.witness_threshold)
            .ok()
            .flatten()
    }

    /// The witnesses of the policy in force, as the change listed them, and its threshold.
    pub fn witnesses(&self) -> (&[WitnessEntry], u16) {
        (&self.witnesses, self.witness_threshold)
    }

    /// Whether `id` is an admin now.
    pub fn is_admin(&self, id: &str) -> bool {
        self.admin_rule.admins.iter().any(|admin| admin == id)
            && self.members.get(id).is_some_and(MemberState::is_current)
    }

    /// The effective proposals, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The last effective proposal, which a new proposal names as its base (zero: none yet).
    pub fn tip(&self) -> RecordId {
        self.steps
            .last()
            .map_or(RecordId::ZERO, |step| step.proposal)
    }

    /// The member a signing key was ever granted to.
    pub fn key_owner(&self, key: &PublicKey) -> Option<&str> {
        self.key_owners.get(key).map(String::as_str)
    }

    /// The keys `org` may sign a checkpoint of `size` records with (FORMAT.md §23.3): those
    /// this authority allows at the tree's last position, `size - 1` (none for an unknown
    /// member).
    pub fn checkpoint_keys(&self, org: &str, size: u64) -> Vec<PublicKey> {
        let last = size.saturating_sub(1);
        self.member(org)
            .map(|member| {
                member
                    .keys
                    .iter()
                    .map(|span| span.key)
                    .filter(|key| self.check(org, last, key).is_ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every signing key ever granted.
    pub fn all_keys(&self) -> impl Iterator<Item = &PublicKey> {
        self.key_owners.keys()
    }

    /// The node keys of current members: the peers a node lets in.
    pub fn allowed_node_keys(&self) -> BTreeSet<PublicKey> {
        self.members
            .values()
            .filter(|member| member.is_current())
            .flat_map(|member| member.node_keys.iter().copied())
            .collect()
    }

    /// The authority rules (FORMAT.md, rules 12–17): may `key` sign position `seq` of `author`'s chain?
    pub fn check(&self, author: &str, seq: u64, key: &PublicKey) -> Result<(), Rejection> {
        let Some(member) = self.members.get(author) else {
            return Err(Rejection::UnknownAuthor {
                author: author.to_owned(),
            });
        };
        if let Some(removal) = member.removed.filter(|removal| seq >= removal.from_seq) {
            return Err(Rejection::MemberRemoved {
                author: author.to_owned(),
                from_seq: removal.from_seq,
                by: removal.by,
            });
        }
        let Some(span) = member.keys.iter().find(|span| span.key == *key) else {
            return Err(Rejection::KeyNotAuthors {
                author: author.to_owned(),
                key: *key,
            });
        };
        if span.covers(seq) {
            return Ok(());
        }
        match span.end {
            Some(end) if seq >= end.from_seq => Err(match end.reason {
                KeyEndReason::Revoked => Rejection::KeyRevoked {
                    author: author.to_owned(),
                    key: *key,
                    from_seq: end.from_seq,
                    by: end.by,
                },
                KeyEndReason::Rotated => Rejection::KeyRotatedOut {
                    author: author.to_owned(),
                    key: *key,
                    from_seq: end.from_seq,
                    by: end.by,
                },
            }),
            _ => Err(Rejection::KeyNotYetValid {
                author: author.to_owned(),
                key: *key,
                from_seq: span.from_seq,
            }),
        }
    }
}
