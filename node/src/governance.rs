//! The node's governance state: the authority derived from the governance records it stores,
//! the verifier that judges every record under it, and a channel that tells the network and
//! the writer when it changes (issue 7; the rules are in `aidledger_spec::governance`).
//!
//! The state is derived from the store's `governance` index, never from the order records
//! arrived in. When the authority changes, [`Governance::refresh`] applies it to the store:
//! in every chain, the first record the new authority refuses (a revoked key, a removed
//! member, a key that no longer belongs to the author) and every record after it move to the
//! store's `revoked` tree, and the chain's head goes back so that the organisation can
//! continue at that position. That can remove governance records (a thief's rotation), which
//! changes the authority again, so derive and rewind repeat until nothing moves.
//!
//! Architecture Invariant: only the writer's signing thread calls [`Governance::refresh`]
//! (and [`Governance::load`] runs before it starts), so every rewind is serialized with the
//! appends it could race.

use std::sync::{Arc, RwLock};

use aidledger_spec::governance::{
    self, Act, Authority, Derivation, GovernanceRecord, MemberState, Proposal, ProposalState,
};
use aidledger_spec::{Digest, RecordId, Rejection, Verifier};
use tokio::sync::watch;

use aidledger_store::{Store, StoreError};

/// Most derive-and-rewind rounds of one refresh. Each round that moves records removes at
/// least one governance record's effect, so real networks settle in two or three.
pub const REFRESH_ROUNDS_MAX: usize = 16;

/// One derived state: the derivation and a verifier built for it.
pub struct GovernanceView {
    /// Judges records under `derivation.authority`.
    pub verifier: Verifier,
    /// The authority, every proposal's state, and governance records without effect.
    pub derivation: Derivation,
    /// The governance records it was derived from (for dry runs of new proposals).
    pub records: Vec<GovernanceRecord>,
}

impl GovernanceView {
    /// The authority in force.
    pub fn authority(&self) -> &Authority {
        &self.derivation.authority
    }

    /// What would become of `proposal` by `proposer` if every current admin approved it now:
    /// `Effective` when its change applies, `Inapplicable` or `Refused` with the reason when
    /// not, `Pending` when not enough admins could approve to tell, `Stale` for an old base.
    pub fn dry_run(&self, proposer: &str, proposal: &Proposal) -> ProposalState {
        let authority = self.authority();
        // Open key spans cover every later position; a position far beyond any real chain is
        // therefore valid for each admin's open keys and judged by nothing else.
        let seq = u64::MAX / 2;
        let open_key = |member: &str| {
            authority
                .member(member)
                .and_then(|state| state.open_keys().next().copied())
        };
        let Some(proposer_key) = open_key(proposer) else {
            return ProposalState::Refused {
                reason: format!("{proposer} has no key that may sign"),
            };
        };
        let fake_id = |index: u8| Digest([index; 32]);
        let proposal_id = fake_id(0xfe);
        let mut records = self.records.clone();
        records.push(GovernanceRecord {
            id: proposal_id,
            author: proposer.to_owned(),
            seq,
            signing_key: proposer_key,
            act: Act::Propose(proposal.clone()),
        });
        for (index, admin) in authority.admin_rule().admins.iter().enumerate() {
            let Some(key) = open_key(admin) else { continue };
            records.push(GovernanceRecord {
                id: fake_id(index as u8),
                author: admin.clone(),
                seq,
                signing_key: key,
                act: Act::Approve(governance::Approval {
                    proposal: proposal_id,
                }),
            });
        }
        let derivation = governance::derive(self.verifier.genesis(), &records);
        derivation
            .proposals
            .into_iter()
            .find(|status| status.id == proposal_id)
            .map_or(ProposalState::Stale, |status| status.state)
    }
}

/// Whether a rejection is one of the authority rules (12–17): the record is well formed and
/// validly signed, and whether it is valid depends on the governance state the verifier
/// holds. A peer that sends one is not at fault: it may know governance records this node has
/// not seen yet (or not know one this node has).
pub fn is_authority_rule(rejection: &Rejection) -> bool {
    rejection.is_authority_rule()
}

/// Records a refresh moved out of one chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewind {
    /// The chain.
    pub author: String,
    /// The first position moved; the chain continues here.
    pub from_seq: u64,
    /// The rule the first moved record breaks.
    pub reason: Rejection,
    /// The moved records, in seq order.
    pub moved: Vec<RecordId>,
}

/// What a refresh did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refresh {
    /// Whether the authority changed (subscribers were told).
    pub changed: bool,
    /// Records moved out of their chains.
    pub rewinds: Vec<Rewind>,
}

/// The governance state of a running node, shared by the writer, the network and the APIs.
pub struct Governance {
    store: Arc<Store>,
    current: RwLock<Arc<GovernanceView>>,
    changes: watch::Sender<Arc<GovernanceView>>,
}

impl Governance {
    /// Derives the state from the governance records in `store` and applies it to the store
    /// (a crash may have come between storing a governance record and rewinding the chains
    /// it invalidates), making any rewind durable.
    pub fn load(store: Arc<Store>) -> Result<Governance, StoreError> {
        let genesis_authority = Authority::from_genesis(store.genesis());
        let (view, rewinds) = settle(&store, &genesis_authority)?;
        if !rewinds.is_empty() {
            store.make_durable()?;
        }
        let view = Arc::new(view);
        let (changes, _) = watch::channel(view.clone());
        Ok(Governance {
            store,
            current: RwLock::new(view),
            changes,
        })
    }

    /// The state now.
    pub fn current(&self) -> Arc<GovernanceView> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// A receiver that sees every new state.
    pub fn subscribe(&self) -> watch::Receiver<Arc<GovernanceView>> {
        self.changes.subscribe()
    }

    /// Derives the state again after governance records were stored, moves the records the
    /// new authority invalidates out of their chains, and tells every subscriber when the
    /// authority changed. Not durable until the store's next `make_durable`.
    pub fn refresh(&self) -> Result<Refresh, StoreError> {
        let previous = self.current();
        let (view, rewinds) = settle(&self.store, previous.authority())?;
        let changed = view.derivation.authority != previous.derivation.authority;
        if changed {
            drop_revoked_proofs(&self.store, &view.verifier)?;
        }
        // Subscribers hear of new proposals too: range sync takes a record withheld under a
        // pending `redact` proposal (`network::tasks::verify_range_in`), so a chain it refused
        // before the proposal arrived is fetched again.
        let proposals_changed = view.derivation.proposals != previous.derivation.proposals;
        let view = Arc::new(view);
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = view.clone();
        if changed || proposals_changed {
            self.changes.send_replace(view);
        }
        Ok(Refresh { changed, rewinds })
    }
}

/// Drops the equivocation proofs that no longer verify under `verifier`: one side signed with a
/// revoked key, or by a removed member, after the cut proves nothing against the member (an
/// offline verifier reports such proofs with the revoked records; FORMAT.md §12).
fn drop_revoked_proofs(store: &Store, verifier: &Verifier) -> Result<(), StoreError> {
    let dropped = store.retain_proofs(|proof| {
        verifier
            .verify_equivocation(proof.first.clone(), proof.second.clone())
            .is_ok()
    })?;
    if dropped > 0 {
        store.make_durable()?;
    }
    Ok(())
}

/// Derives, rewinds what the authority invalidates compared with `before`, and repeats until
/// nothing moves.
fn settle(store: &Store, before: &Authority) -> Result<(GovernanceView, Vec<Rewind>), StoreError> {
    let mut rewinds = Vec::new();
    let mut judged = before.clone();
    let mut view = derive_view(store)?;
    for _ in 0..REFRESH_ROUNDS_MAX {
        let moved = rewind(store, &judged, view.authority())?;
        if moved.is_empty() {
            break;
        }
        rewinds.extend(moved);
        judged = view.derivation.authority.clone();
        view = derive_view(store)?;
    }
    Ok((view, rewinds))
}

/// The derivation over every governance record in the store.
fn derive_view(store: &Store) -> Result<GovernanceView, StoreError> {
    let genesis = store.genesis().clone();
    let contested = store.forks()?.into_iter().collect();
    let records = governance::uncontested(governance_records(store)?, &contested);
    let derivation = governance::derive(&genesis, &records);
    let verifier = Verifier::with_authority(genesis, derivation.authority.clone());
    Ok(GovernanceView {
        verifier,
        derivation,
        records,
    })
}

/// Every governance record the store holds: those in its chains (read from its governance
/// index) and those it holds as revoked, which still count for the steps they made before the
/// revocation (FORMAT.md 13.1; `derive` judges each under the state of its step).
fn governance_records(store: &Store) -> Result<Vec<GovernanceRecord>, StoreError> {
    let mut found = Vec::new();
    let in_chains = store
        .governance_records()
        .map(|stored| stored.map(|stored| stored.bytes));
    let revoked = store
        .revoked_records()
        .map(|revoked| revoked.map(|revoked| revoked.bytes));
    for bytes in in_chains.chain(revoked) {
        // Every stored record passed the record rules when it was stored (revoked ones too),
        // so it is decoded, not verified again: a refresh costs no signature checks. The
        // authority rules are `derive`'s. Ordinary revoked records are skipped here.
        if let Some(record) = GovernanceRecord::from_stored(bytes?) {
            found.push(record);
        }
    }
    Ok(found)
}

/// Moves, in every chain, the first record `after` refuses and everything after it to the
/// revoked tree. Only positions where `after` differs from `before` are looked at: records
/// were judged by `before` when they were stored.
fn rewind(store: &Store, before: &Authority, after: &Authority) -> Result<Vec<Rewind>, StoreError> {
    let mut rewinds = Vec::new();
    let heads: Vec<_> = store.heads().collect::<Result<_, _>>()?;
    for (author, head) in heads {
        let Some(start) = first_changed_seq(before.member(&author), after.member(&author)) else {
            continue;
        };
        if start > head.seq {
            continue;
        }
        let mut invalid: Option<(u64, Rejection)> = None;
        for entry in store.chain_range(&author, start) {
            let (seq, bytes) = entry?;
            // The header alone: a record may be withheld (redacted); its key is in it.
            let (header, _): (aidledger_spec::RecordHeader, usize) =
                aidledger_spec::codec::decode_prefix(&bytes)
                    .map_err(|error| StoreError::Corrupt(format!("a stored record: {error}")))?;
            if let Err(reason) = after.check(&author, seq, &header.signing_key) {
                invalid = Some((seq, reason));
                break;
            }
        }
        if let Some((from_seq, reason)) = invalid {
            let moved = store.revoke_from(&author, from_seq, &reason)?;
            rewinds.push(Rewind {
                author,
                from_seq,
                reason,
                moved,
            });
        }
    }
    Ok(rewinds)
}

/// The first position whose validity may differ between two states of one member; `None`
/// when no stored record can have become invalid.
fn first_changed_seq(before: Option<&MemberState>, after: Option<&MemberState>) -> Option<u64> {
    let Some(after) = after else {
        // No longer a member at all (its admission was undone): the whole chain.
        return before.map(|_| 0);
    };
    let mut start: Option<u64> = None;
    let mut consider = |seq: u64| start = Some(start.map_or(seq, |start: u64| start.min(seq)));
    if let Some(removal) = after.removed {
        if before.is_none_or(|before| before.removed != after.removed) {
            consider(removal.from_seq);
        }
    }
    for span in &after.keys {
        let before_span = before.and_then(|before| before.keys.iter().find(|b| b.key == span.key));
        if let Some(end) = span.end {
            if before_span.is_none_or(|before_span| before_span.end != span.end) {
                consider(end.from_seq);
            }
        }
        // A key valid from a later position than before.
        if let Some(before_span) = before_span.filter(|before| before.from_seq < span.from_seq) {
            consider(before_span.from_seq);
        }
    }
    // A key the member held before and no longer holds at all (a thief's rotation undone).
    if let Some(before) = before {
        for span in &before.keys {
            if !after
                .keys
                .iter()
                .any(|after_span| after_span.key == span.key)
            {
                consider(span.from_seq);
            }
        }
    }
    start
}
