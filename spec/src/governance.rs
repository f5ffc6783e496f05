//! Governance: membership changes by the genesis' admin rule, key rotation by an organisation,
//! and revocation of a compromised key from a point of its chain on (FORMAT.md, "Governance").
//!
//! Three body kinds carry it: a [`Proposal`] (kind 5) by an admin, an [`Approval`] (kind 6) by
//! an admin, each in the signer's own chain, and a [`KeyRotation`] (kind 7) in the chain of the
//! organisation whose key changes. [`derive()`] turns a set of such records into an
//! [`Authority`]: who is a member, and which key may sign which positions of which chain. The
//! derivation depends on the set of records only, never on the order they arrived in, so every
//! verifier holding the same records reaches the same authority.
//!
//! Effects are stated in chain positions, never in time: a revocation or a removal names the
//! first sequence number it invalidates, and a rotation takes effect right after its own
//! record. A record's validity is therefore a function of (author, seq, signing key) and the
//! authority, which is what [`Authority::check`] decides.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ed25519_dalek::SigningKey;

use crate::genesis::{check_ascending, check_member, AdminRule, Genesis, Member, Role};
use crate::ids::{hash_with_domain, Digest, NetworkId, PublicKey, RecordId, SignatureBytes};
use crate::limits::{DESCRIPTION_BYTES_MAX, KEYS_PER_MEMBER_MAX, MEMBERS_MAX};
use crate::record::Body;
use crate::signature;
use crate::text::{check_org_id, check_text, FieldError};
use crate::verify::{Rejection, RuleCheckedRecord};

/// Prefix of the message a new key signs to prove that its holder has it.
pub const POSSESSION_DOMAIN: &str = "aidledger:key-possession:v1\n";

/// A new signing key with a proof that whoever names it holds its secret half: an ed25519
/// signature by the new key over [`possession_message`].
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct KeyGrant {
    /// The new public key.
    pub key: PublicKey,
    /// The new key's signature over [`possession_message`] for the member it is granted to.
    pub proof_of_possession: SignatureBytes,
}

/// The 32 bytes a new key signs: SHA-256 over [`POSSESSION_DOMAIN`], the network id, the new
/// key, and the member id's UTF-8 bytes. It binds the proof to one key, one member, one network.
pub fn possession_message(network_id: &NetworkId, member: &str, key: &PublicKey) -> Digest {
    hash_with_domain(
        POSSESSION_DOMAIN,
        &[&network_id.0, &key.0, member.as_bytes()],
    )
}

impl KeyGrant {
    /// Grants `key` to `member` of `network_id`, with the proof signed by `key` itself.
    pub fn prove(network_id: &NetworkId, member: &str, key: &SigningKey) -> KeyGrant {
        use ed25519_dalek::Signer as _;
        let public = signature::public_key_of(key);
        let message = possession_message(network_id, member, &public);
        KeyGrant {
            key: public,
            proof_of_possession: SignatureBytes(key.sign(&message.0).to_bytes()),
        }
    }

    /// Whether the key is acceptable and the proof verifies (the signature rule, FORMAT.md §7.1).
    pub fn verify(&self, network_id: &NetworkId, member: &str) -> Result<(), &'static str> {
        let key = signature::check_public_key(&self.key)?;
        let message = possession_message(network_id, member, &self.key);
        if signature::verify_message(&key, &message.0, &self.proof_of_possession) {
            Ok(())
        } else {
            Err("the proof of possession does not verify")
        }
    }
}

/// A change to the network that admins propose and approve.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// 0: a new member organisation, with its keys and nodes, as in the genesis.
    AddMember {
        /// The member.
        member: Member,
    },
    /// 1: a member leaves: its records from `from_seq` on are invalid and its nodes are refused.
    RemoveMember {
        /// The member id.
        member: String,
        /// The first sequence number of its chain that is no longer valid.
        from_seq: u64,
    },
    /// 2: a member's roles are replaced.
    SetRoles {
        /// The member id.
        member: String,
        /// The new roles, strictly ascending.
        roles: Vec<Role>,
    },
    /// 3: a member's node keys (libp2p identities) are replaced.
    SetNodeKeys {
        /// The member id.
        member: String,
        /// The new node keys, strictly ascending.
        node_keys: Vec<PublicKey>,
    },
    /// 4: emergency revocation: records of `member` signed with `key` at `from_seq` or later
    /// are invalid; `replacement`, if given, may sign from `from_seq` on.
    RevokeKey {
        /// The member id.
        member: String,
        /// The compromised key.
        key: PublicKey,
        /// The first sequence number the key may no longer sign.
        from_seq: u64,
        /// The key the member continues with, with its proof of possession.
        replacement: Option<KeyGrant>,
    },
    /// 5: the admin rule is replaced.
    SetAdminRule {
        /// The new rule.
        rule: AdminRule,
    },
}

impl Change {
    /// The change's name, as the CLI and explorer show it.
    pub fn name(&self) -> &'static str {
        match self {
            Change::AddMember { .. } => "add-member",
            Change::RemoveMember { .. } => "remove-member",
            Change::SetRoles { .. } => "set-roles",
            Change::SetNodeKeys { .. } => "set-node-keys",
            Change::RevokeKey { .. } => "revoke-key",
            Change::SetAdminRule { .. } => "set-admin-rule",
        }
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        match self {
            Change::AddMember { member } => format!("add member {} ({})", member.id, member.name),
            Change::RemoveMember { member, from_seq } => {
                format!("remove member {member} from seq {from_seq}")
            }
            Change::SetRoles { member, roles } => {
                let names: Vec<&str> = roles.iter().map(|role| role.name()).collect();
                format!("set roles of {member} to {}", names.join(", "))
            }
            Change::SetNodeKeys { member, node_keys } => {
                format!("set {} node key(s) of {member}", node_keys.len())
            }
            Change::RevokeKey {
                member,
                key,
                from_seq,
                replacement,
            } => format!(
                "revoke key {key} of {member} from seq {from_seq}{}",
                replacement.as_ref().map_or(String::new(), |grant| format!(
                    ", replaced by {}",
                    grant.key
                ))
            ),
            Change::SetAdminRule { rule } => format!(
                "admin rule {} of {}: {}",
                rule.threshold,
                rule.admins.len(),
                rule.admins.join(", ")
            ),
        }
    }

    fn check(&self, field: &str) -> Result<(), FieldError> {
        match self {
            Change::AddMember { member } => check_member(&format!("{field}.member"), member),
            Change::RemoveMember { member, .. } => check_org_id(&format!("{field}.member"), member),
            Change::SetRoles { member, roles } => {
                check_org_id(&format!("{field}.member"), member)?;
                check_ascending(&format!("{field}.roles"), roles)
            }
            Change::SetNodeKeys { member, node_keys } => {
                check_org_id(&format!("{field}.member"), member)?;
                if node_keys.len() > KEYS_PER_MEMBER_MAX {
                    return Err(FieldError::new(
                        format!("{field}.node_keys"),
                        format!("more than {KEYS_PER_MEMBER_MAX} keys"),
                    ));
                }
                check_ascending(&format!("{field}.node_keys"), node_keys)?;
                for key in node_keys {
                    signature::check_public_key(key).map_err(|problem| {
                        FieldError::new(format!("{field}.node_keys"), format!("{key}: {problem}"))
                    })?;
                }
                Ok(())
            }
            Change::RevokeKey { member, .. } => check_org_id(&format!("{field}.member"), member),
            Change::SetAdminRule { rule } => {
                check_ascending(&format!("{field}.rule.admins"), &rule.admins)?;
                for admin in &rule.admins {
                    check_org_id(&format!("{field}.rule.admins"), admin)?;
                }
                if rule.threshold == 0 || usize::from(rule.threshold) > rule.admins.len() {
                    return Err(FieldError::new(
                        format!("{field}.rule.threshold"),
                        format!(
                            "{} is not between 1 and the {} admins",
                            rule.threshold,
                            rule.admins.len()
                        ),
                    ));
                }
                Ok(())
            }
        }
    }

    /// The key grant inside the change and the member it is granted to, if any.
    pub fn key_grant(&self) -> Option<(&str, &KeyGrant)> {
        match self {
            Change::RevokeKey {
                member,
                replacement: Some(grant),
                ..
            } => Some((member, grant)),
            _ => None,
        }
    }
}

/// Kind 5: an admin proposes a change. The proposal counts as its author's approval.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Proposal {
    /// The last effective proposal this one builds on, or all zero for the genesis. Only a
    /// proposal on the current tip can take effect, so changes apply in one order everywhere.
    pub base: RecordId,
    /// The change.
    pub change: Change,
    /// Why, for readers.
    pub note: String,
}

impl Proposal {
    pub(crate) fn check(&self, field: &str) -> Result<(), FieldError> {
        self.change.check(&format!("{field}.change"))?;
        check_text(&format!("{field}.note"), &self.note, DESCRIPTION_BYTES_MAX)
    }
}

/// Kind 6: an admin approves a proposal, named by its record id (which covers its content).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Approval {
    /// The proposal record.
    pub proposal: RecordId,
}

/// Kind 7: the author replaces the key that signs this record by a new one. Signed by the old
/// key; the new key proves possession. Records after this one must be signed by the new key.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct KeyRotation {
    /// The new key.
    pub new_key: KeyGrant,
}

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
    fn from_member(member: &Member, added_by: Option<RecordId>) -> MemberState {
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

    fn span_mut(&mut self, key: &PublicKey) -> Option<&mut KeySpan> {
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
    members: BTreeMap<String, MemberState>,
    admin_rule: AdminRule,
    steps: Vec<Step>,
    /// Every signing key ever named, and its member: a key names one organisation forever.
    #[serde(skip)]
    key_owners: HashMap<PublicKey, String>,
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

/// A governance record, reduced to what the derivation reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GovernanceRecord {
    /// The record id.
    pub id: RecordId,
    /// The signing organisation.
    pub author: String,
    /// Its position in the author's chain.
    pub seq: u64,
    /// The key that signed it.
    pub signing_key: PublicKey,
    /// What it says.
    pub act: Act,
}

/// The governance records that may count: those not at a contested position, a position
/// (author, seq) for which the verifier holds an equivocation proof (FORMAT.md 18.6). Two
/// records signed at one position count for neither side, so a leaked key cannot add
/// governance acts at positions its chain already holds, and nodes that saw the two sides in
/// different orders derive the same authority.
pub fn uncontested(
    records: Vec<GovernanceRecord>,
    contested: &BTreeSet<(String, u64)>,
) -> Vec<GovernanceRecord> {
    if contested.is_empty() {
        return records;
    }
    records
        .into_iter()
        .filter(|record| !contested.contains(&(record.author.clone(), record.seq)))
        .collect()
}

/// What a governance record says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    /// See [`Proposal`].
    Propose(Proposal),
    /// See [`Approval`].
    Approve(Approval),
    /// See [`KeyRotation`].
    Rotate(KeyRotation),
}

impl GovernanceRecord {
    /// The governance content of record bytes that their holder verified before (a node's own
    /// store): the header and body are decoded, the signature is not checked again. `None` for
    /// bytes that are not a governance record.
    pub fn from_stored(bytes: Vec<u8>) -> Option<GovernanceRecord> {
        let record = crate::signed::SignedRecord::parse(bytes).ok()?;
        let body: Body = crate::codec::decode_exact(record.body_bytes()).ok()?;
        let act = match body {
            Body::Proposal(proposal) => Act::Propose(proposal),
            Body::Approval(approval) => Act::Approve(approval),
            Body::KeyRotation(rotation) => Act::Rotate(rotation),
            _ => return None,
        };
        Some(GovernanceRecord {
            id: record.id,
            author: record.header.author,
            seq: record.header.seq,
            signing_key: record.header.signing_key,
            act,
        })
    }

    /// The governance content of a verified record, if it is one.
    pub fn from_verified(record: &RuleCheckedRecord) -> Option<GovernanceRecord> {
        let act = match record.body() {
            Body::Proposal(proposal) => Act::Propose(proposal.clone()),
            Body::Approval(approval) => Act::Approve(approval.clone()),
            Body::KeyRotation(rotation) => Act::Rotate(rotation.clone()),
            _ => return None,
        };
        let header = record.header();
        Some(GovernanceRecord {
            id: record.id(),
            author: header.author.clone(),
            seq: header.seq,
            signing_key: header.signing_key,
            act,
        })
    }
}

/// What became of a proposal.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ProposalState {
    /// It took effect as step `step` (1-based).
    Effective {
        /// Its position among effective proposals.
        step: usize,
    },
    /// It builds on the current tip and waits for approvals.
    Pending {
        /// Admins approving so far, proposer included.
        approvals: usize,
        /// How many are needed.
        threshold: u16,
    },
    /// It builds on a state that is no longer the tip; it can never take effect.
    Stale,
    /// It reached its threshold, but its change cannot apply to the state it builds on.
    Inapplicable {
        /// Why.
        reason: String,
    },
    /// Its author may not propose (not an admin, or its key was not valid at that position).
    Refused {
        /// Why.
        reason: String,
    },
}

/// A proposal and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ProposalStatus {
    /// The proposal record.
    pub id: RecordId,
    /// The admin who proposed it.
    pub proposer: String,
    /// Its position in the proposer's chain.
    pub seq: u64,
    /// The proposal.
    pub proposal: Proposal,
    /// Admins whose approvals count, proposer included, by the admin rule it was judged under.
    pub approved_by: Vec<String>,
    /// Its state.
    pub state: ProposalState,
}

/// A governance record that has no effect, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The record.
    pub record: RecordId,
    /// Its author.
    pub author: String,
    /// Its position.
    pub seq: u64,
    /// Why it has no effect.
    pub problem: String,
}

/// The outcome of [`derive()`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct Derivation {
    /// The authority.
    pub authority: Authority,
    /// Every proposal, by record id.
    pub proposals: Vec<ProposalStatus>,
    /// Governance records without effect (approvals by non-admins, repeated approvals,
    /// rotations by keys that could not sign there, …).
    pub findings: Vec<Finding>,
}

/// The governance state of the proposals alone; rotations are applied on top by
/// [`Governed::with_rotations`], because revocations decide which rotations count.
#[derive(Clone)]
struct Governed {
    authority: Authority,
    /// Revocations by key: (from_seq, proposal).
    revocations: HashMap<PublicKey, (u64, RecordId)>,
}

/// Derives the authority from the genesis and a set of governance records (FORMAT.md,
/// "Governance"). Records that are not governance records are ignored; the order of
/// `records` does not matter.
pub fn derive(genesis: &Genesis, records: &[GovernanceRecord]) -> Derivation {
    let mut records: Vec<&GovernanceRecord> = records.iter().collect();
    // One order for everything below, so nothing depends on the input's order.
    records.sort_by(|a, b| (&a.author, a.seq, a.id).cmp(&(&b.author, b.seq, b.id)));
    records.dedup_by(|a, b| a.id == b.id);
    let mut rotations: Vec<(&GovernanceRecord, &KeyRotation)> = Vec::new();
    let mut proposals: BTreeMap<RecordId, (&GovernanceRecord, &Proposal)> = BTreeMap::new();
    let mut approvals: BTreeMap<RecordId, Vec<&GovernanceRecord>> = BTreeMap::new();
    for record in &records {
        match &record.act {
            Act::Rotate(rotation) => rotations.push((record, rotation)),
            Act::Propose(proposal) => {
                proposals.insert(record.id, (record, proposal));
            }
            Act::Approve(approval) => approvals.entry(approval.proposal).or_default().push(record),
        }
    }
    let mut governed = Governed {
        authority: Authority::from_genesis(genesis),
        revocations: HashMap::new(),
    };
    let mut inapplicable: BTreeMap<RecordId, String> = BTreeMap::new();
    loop {
        let state = governed.with_rotations(&rotations, &mut Vec::new());
        let tip = governed.authority.tip();
        let mut applied = false;
        for (id, (record, proposal)) in &proposals {
            if proposal.base != tip || inapplicable.contains_key(id) {
                continue;
            }
            if proposer_refusal(&state, record).is_some() {
                continue;
            }
            let approved_by = approvers(&state, record, approvals.get(id));
            if approved_by.len() < usize::from(state.admin_rule.threshold) {
                continue;
            }
            match governed.apply(&state, *id, &proposal.change, approved_by) {
                Ok(()) => {
                    applied = true;
                    break;
                }
                Err(reason) => {
                    inapplicable.insert(*id, reason);
                }
            }
        }
        if !applied {
            break;
        }
    }
    let mut findings = Vec::new();
    let authority = governed.with_rotations(&rotations, &mut findings);
    let statuses = proposal_statuses(&authority, &proposals, &approvals, &inapplicable);
    approval_findings(&authority, &proposals, &approvals, &mut findings);
    Derivation {
        authority,
        proposals: statuses,
        findings,
    }
}

/// Why `record` may not propose under `state`, if it may not.
fn proposer_refusal(state: &Authority, record: &GovernanceRecord) -> Option<String> {
    if let Err(rejection) = state.check(&record.author, record.seq, &record.signing_key) {
        return Some(rejection.to_string());
    }
    (!state.is_admin(&record.author)).then(|| format!("{} is not an admin", record.author))
}

/// The admins whose approval of `proposal` counts under `state`: the proposer and every admin
/// with a validly signed approval, each once. A proposer that may not propose (not an admin,
/// or its key not valid there) counts no more than such an approver would.
fn approvers(
    state: &Authority,
    proposal: &GovernanceRecord,
    approvals: Option<&Vec<&GovernanceRecord>>,
) -> Vec<String> {
    let counts = |record: &GovernanceRecord| {
        state.is_admin(&record.author)
            && state
                .check(&record.author, record.seq, &record.signing_key)
                .is_ok()
    };
    let mut admins = BTreeSet::new();
    for record in std::iter::once(proposal).chain(approvals.into_iter().flatten().copied()) {
        if counts(record) {
            admins.insert(record.author.clone());
        }
    }
    admins.into_iter().collect()
}

impl Governed {
    /// Applies an approved change, or says why it cannot apply. `state` is the authority with
    /// rotations, against which keys are looked up.
    fn apply(
        &mut self,
        state: &Authority,
        proposal: RecordId,
        change: &Change,
        approved_by: Vec<String>,
    ) -> Result<(), String> {
        let authority = &mut self.authority;
        let current = |id: &str| -> Result<(), String> {
            match authority.members.get(id) {
                None => Err(format!("{id} is not a member")),
                Some(member) if !member.is_current() => Err(format!("{id} was removed")),
                Some(_) => Ok(()),
            }
        };
        match change {
            Change::AddMember { member } => {
                if authority.members.contains_key(&member.id) {
                    return Err(format!(
                        "{} is or was a member; a removed id is not reused",
                        member.id
                    ));
                }
                if authority.members.len() >= MEMBERS_MAX {
                    return Err(format!("the network has {MEMBERS_MAX} members already"));
                }
                if let Some(key) = member
                    .signing_keys
                    .iter()
                    .find(|key| state.key_owners.contains_key(key))
                {
                    return Err(format!("key {key} was already granted"));
                }
                for key in &member.signing_keys {
                    authority.key_owners.insert(*key, member.id.clone());
                }
                authority.members.insert(
                    member.id.clone(),
                    MemberState::from_member(member, Some(proposal)),
                );
            }
            Change::RemoveMember { member, from_seq } => {
                current(member)?;
                if authority.admin_rule.admins.contains(member) {
                    return Err(format!("{member} is an admin; change the admin rule first"));
                }
                if let Some(state) = authority.members.get_mut(member) {
                    state.removed = Some(Removal {
                        from_seq: *from_seq,
                        by: proposal,
                    });
                }
            }
            Change::SetRoles { member, roles } => {
                current(member)?;
                if let Some(state) = authority.members.get_mut(member) {
                    state.roles = roles.clone();
                }
            }
            Change::SetNodeKeys { member, node_keys } => {
                current(member)?;
                if let Some(state) = authority.members.get_mut(member) {
                    state.node_keys = node_keys.clone();
                }
            }
            Change::RevokeKey {
                member,
                key,
                from_seq,
                replacement,
            } => {
                current(member)?;
                if state.key_owner(key) != Some(member.as_str()) {
                    return Err(format!("{key} is not a key of {member}"));
                }
                if self.revocations.contains_key(key) {
                    return Err(format!("{key} is already revoked"));
                }
                if let Some(grant) = replacement {
                    if state.key_owners.contains_key(&grant.key) {
                        return Err(format!("key {} was already granted", grant.key));
                    }
                    authority.key_owners.insert(grant.key, member.clone());
                    if let Some(state) = authority.members.get_mut(member) {
                        state.keys.push(KeySpan {
                            key: grant.key,
                            from_seq: *from_seq,
                            introduced_by: Some(proposal),
                            end: None,
                        });
                    }
                }
                self.revocations.insert(*key, (*from_seq, proposal));
            }
            Change::SetAdminRule { rule } => {
                for admin in &rule.admins {
                    current(admin)?;
                }
                authority.admin_rule = rule.clone();
            }
        }
        self.authority.steps.push(Step {
            proposal,
            change: change.clone(),
            approved_by,
        });
        Ok(())
    }

    /// The authority with revocations and then every valid rotation applied, each chain's
    /// rotations in sequence order. Rotations without effect are reported in `findings`.
    fn with_rotations(
        &self,
        rotations: &[(&GovernanceRecord, &KeyRotation)],
        findings: &mut Vec<Finding>,
    ) -> Authority {
        let mut authority = self.authority.clone();
        for member in authority.members.values_mut() {
            for span in &mut member.keys {
                if let Some((from_seq, by)) = self.revocations.get(&span.key) {
                    span.end = Some(KeyEnd {
                        from_seq: *from_seq,
                        by: *by,
                        reason: KeyEndReason::Revoked,
                    });
                }
            }
        }
        // `rotations` is sorted by (author, seq): each chain's rotations apply in its order.
        for (record, rotation) in rotations {
            let finding = |problem: String| Finding {
                record: record.id,
                author: record.author.clone(),
                seq: record.seq,
                problem,
            };
            if let Err(rejection) = authority.check(&record.author, record.seq, &record.signing_key)
            {
                findings.push(finding(format!("rotation without effect: {rejection}")));
                void_rotated_key(&mut authority, record, rotation, &rejection);
                continue;
            }
            // The new key signs from the next position; the last position has none (and
            // wrapping to 0 would end the old key from the chain's start).
            let Some(from_seq) = record.seq.checked_add(1) else {
                findings.push(finding(
                    "rotation without effect: it is at the last position a chain can have".into(),
                ));
                continue;
            };
            let new_key = rotation.new_key.key;
            if authority.key_owners.contains_key(&new_key) {
                findings.push(finding(format!(
                    "rotation without effect: key {new_key} was already granted"
                )));
                continue;
            }
            authority.key_owners.insert(new_key, record.author.clone());
            let revocation = self.revocations.get(&new_key).copied();
            let Some(member) = authority.members.get_mut(&record.author) else {
                continue;
            };
            if let Some(span) = member.span_mut(&record.signing_key) {
                let ends_later = span.end.is_none_or(|end| end.from_seq > from_seq);
                if ends_later {
                    span.end = Some(KeyEnd {
                        from_seq,
                        by: record.id,
                        reason: KeyEndReason::Rotated,
                    });
                }
            }
            member.keys.push(KeySpan {
                key: new_key,
                from_seq,
                introduced_by: Some(record.id),
                end: revocation.map(|(from_seq, by)| KeyEnd {
                    from_seq,
                    by,
                    reason: KeyEndReason::Revoked,
                }),
            });
        }
        authority
    }
}

/// A thief's rotation signed after its key's revocation has no effect, but the key it names
/// was only ever the thief's: records signed with it are reported as revoked by the same
/// proposal (not as signed by a stranger's key), from the position after the rotation on.
fn void_rotated_key(
    authority: &mut Authority,
    record: &GovernanceRecord,
    rotation: &KeyRotation,
    rejection: &Rejection,
) {
    let Rejection::KeyRevoked { by, .. } = rejection else {
        return;
    };
    let new_key = rotation.new_key.key;
    let Some(from_seq) = record.seq.checked_add(1) else {
        return;
    };
    if authority.key_owners.contains_key(&new_key) {
        return;
    }
    let Some(member) = authority.members.get_mut(&record.author) else {
        return;
    };
    authority.key_owners.insert(new_key, record.author.clone());
    member.keys.push(KeySpan {
        key: new_key,
        from_seq,
        introduced_by: Some(record.id),
        end: Some(KeyEnd {
            from_seq,
            by: *by,
            reason: KeyEndReason::Revoked,
        }),
    });
}

fn proposal_statuses(
    authority: &Authority,
    proposals: &BTreeMap<RecordId, (&GovernanceRecord, &Proposal)>,
    approvals: &BTreeMap<RecordId, Vec<&GovernanceRecord>>,
    inapplicable: &BTreeMap<RecordId, String>,
) -> Vec<ProposalStatus> {
    let tip = authority.tip();
    proposals
        .iter()
        .map(|(id, (record, proposal))| {
            let effective = authority.steps.iter().position(|step| step.proposal == *id);
            let approved_by = match effective {
                Some(step) => authority.steps[step].approved_by.clone(),
                None => approvers(authority, record, approvals.get(id)),
            };
            let state = if let Some(step) = effective {
                ProposalState::Effective { step: step + 1 }
            } else if let Some(reason) = inapplicable.get(id) {
                ProposalState::Inapplicable {
                    reason: reason.clone(),
                }
            } else if proposal.base != tip {
                ProposalState::Stale
            } else if let Some(reason) = proposer_refusal(authority, record) {
                ProposalState::Refused { reason }
            } else {
                ProposalState::Pending {
                    approvals: approved_by.len(),
                    threshold: authority.admin_rule.threshold,
                }
            };
            ProposalStatus {
                id: *id,
                proposer: record.author.clone(),
                seq: record.seq,
                proposal: (*proposal).clone(),
                approved_by,
                state,
            }
        })
        .collect()
}

/// Approvals that do not count under the final authority: of an unknown proposal, by a
/// non-admin, by a key not valid there, or a second approval of one proposal by one admin.
fn approval_findings(
    authority: &Authority,
    proposals: &BTreeMap<RecordId, (&GovernanceRecord, &Proposal)>,
    approvals: &BTreeMap<RecordId, Vec<&GovernanceRecord>>,
    findings: &mut Vec<Finding>,
) {
    for (proposal, records) in approvals {
        let mut seen = BTreeSet::new();
        if let Some((proposer, _)) = proposals.get(proposal) {
            seen.insert(proposer.author.clone());
        }
        for record in records {
            let problem = if !proposals.contains_key(proposal) {
                Some(format!(
                    "approves {proposal}, which is not a known proposal"
                ))
            } else if let Err(rejection) =
                authority.check(&record.author, record.seq, &record.signing_key)
            {
                Some(format!("approval without effect: {rejection}"))
            } else if !authority.is_admin(&record.author)
                && !authority.steps.iter().any(|step| {
                    step.proposal == *proposal && step.approved_by.contains(&record.author)
                })
            {
                Some(format!(
                    "approval by {}, who is not an admin",
                    record.author
                ))
            } else if !seen.insert(record.author.clone()) {
                Some(format!(
                    "{} already approved {proposal}; a second approval counts once",
                    record.author
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                findings.push(Finding {
                    record: record.id,
                    author: record.author.clone(),
                    seq: record.seq,
                    problem,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signed::{peek_body_kind, sign_record, RecordDraft};

    #[test]
    fn peek_finds_the_kind_of_a_signed_record() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let draft = RecordDraft {
            network_id: Digest::ZERO,
            author: "GB-GOV-1".into(),
            seq: 3,
            prev: Digest::ZERO,
            timestamp_ms: 1,
            body: Body::Approval(Approval {
                proposal: Digest::ZERO,
            }),
        };
        let (_, bytes) = sign_record(&draft, &key).expect("signs");
        assert_eq!(peek_body_kind(&bytes), Some(6));
        assert_eq!(peek_body_kind(&bytes[..40]), None);
    }
}
