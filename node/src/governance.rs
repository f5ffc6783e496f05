//! The node's governance state: the authority derived from the governance records it stores,
//! the verifier that judges every record under it, and a channel that tells the network and
//! the writer when it changes (issue 7; the rules are in `aidledger_spec::governance`).

use std::sync::{Arc, RwLock};

use aidledger_spec::governance::{self, Derivation, GovernanceRecord};
use aidledger_spec::Verifier;
use tokio::sync::watch;

use crate::store::{Store, StoreError};

/// One derived state: the derivation and a verifier built for it.
pub struct GovernanceView {
    /// Judges records under `derivation.authority`.
    pub verifier: Verifier,
    /// The authority, every proposal's state, and governance records without effect.
    pub derivation: Derivation,
}

/// The governance state of a running node, shared by the writer, the network and the APIs.
pub struct Governance {
    store: Arc<Store>,
    current: RwLock<Arc<GovernanceView>>,
    changes: watch::Sender<Arc<GovernanceView>>,
}

impl Governance {
    /// Derives the state from the governance records in `store`.
    pub fn load(store: Arc<Store>) -> Result<Governance, StoreError> {
        let view = Arc::new(derive_view(&store)?);
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

    /// Derives the state again after governance records were stored; returns whether the
    /// authority changed (and then tells every subscriber).
    pub fn refresh(&self) -> Result<bool, StoreError> {
        let view = Arc::new(derive_view(&self.store)?);
        let changed = view.derivation.authority != self.current().derivation.authority;
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = view.clone();
        if changed {
            self.changes.send_replace(view);
        }
        Ok(changed)
    }
}

/// The derivation over every governance record in the store.
fn derive_view(store: &Store) -> Result<GovernanceView, StoreError> {
    let genesis = store.genesis().clone();
    let records = governance_records(store)?;
    let derivation = governance::derive(&genesis, &records);
    let verifier = Verifier::with_authority(genesis, derivation.authority.clone());
    Ok(GovernanceView {
        verifier,
        derivation,
    })
}

/// Every governance record the store holds in its chains.
// TODO(node helper): read a governance index tree instead of scanning every record.
fn governance_records(store: &Store) -> Result<Vec<GovernanceRecord>, StoreError> {
    let verifier = Verifier::new(store.genesis().clone());
    let mut found = Vec::new();
    for stored in store.iter_records() {
        let stored = stored?;
        let is_governance = aidledger_spec::signed::peek_body_kind(&stored.bytes)
            .and_then(aidledger_spec::BodyKind::from_wire)
            .is_some_and(aidledger_spec::BodyKind::is_governance);
        if !is_governance {
            continue;
        }
        // Stored records were verified when appended; the authority rules are applied by
        // `derive`, so only the record rules matter here (a genesis-only verifier would
        // refuse records of added members).
        if let Some(record) = verifier
            .verify_record_rules(stored.bytes)
            .ok()
            .as_ref()
            .and_then(GovernanceRecord::from_verified)
        {
            found.push(record);
        }
    }
    Ok(found)
}
