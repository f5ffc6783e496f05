//! [`derive()`]: which proposals take effect, in which order, and which rotations count, and
//! the [`Derivation`] it reports (every proposal's state, every record without effect).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{
    witness_policy_of, Act, Authority, Change, GovernanceRecord, KeyEnd, KeyEndReason, KeyRotation,
    KeySpan, MemberState, Proposal, Removal, Step,
};
use crate::genesis::Genesis;
use crate::ids::{PublicKey, RecordId};
use crate::limits::MEMBERS_MAX;
use crate::verify::Rejection;

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
            Change::SetWitnesses {
                witnesses,
                threshold,
            } => {
                // Rule 10 refuses every list that makes no policy; this keeps the authority
                // from ever holding one, whoever calls `derive`.
                witness_policy_of(witnesses, *threshold)?;
                authority.witnesses = witnesses.clone();
                authority.witness_threshold = *threshold;
            }
            Change::Redact { member, .. } => {
                // A removed member's records stay evidence that may need redacting too.
                if !authority.members.contains_key(member) {
                    return Err(format!("{member} is not a member"));
                }
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
