//! [`SigningKeys`]: the organisation's signing keys, and which one may sign the next position.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use aidledger_spec::governance::Authority;
use ed25519_dalek::SigningKey;

use aidledger_store::datadir;

/// The organisation's signing keys: the first is the directory's `org.key`, the others kept
/// earlier keys. The writer signs with the first one the authority lets sign the next position.
#[derive(Clone)]
pub struct SigningKeys {
    /// The data directory whose `org.key` a rotation replaces (`None`: rotation refused).
    pub dir: Option<PathBuf>,
    /// The keys, preferred first.
    pub keys: Vec<SigningKey>,
}

impl SigningKeys {
    /// One key, no directory (tests and tools).
    pub fn single(key: SigningKey) -> SigningKeys {
        SigningKeys {
            dir: None,
            keys: vec![key],
        }
    }

    /// The first key the authority lets sign `org`'s position `seq`, or why none may.
    pub fn select(
        &self,
        authority: &Authority,
        org: &str,
        seq: u64,
    ) -> Result<&SigningKey, String> {
        let mut first_refusal = None;
        for key in &self.keys {
            match authority.check(org, seq, &datadir::public_key(key)) {
                Ok(()) => return Ok(key),
                Err(rejection) => {
                    first_refusal.get_or_insert(rejection);
                }
            }
        }
        let key = self.keys.first().map_or_else(
            || "(none)".to_owned(),
            |key| datadir::public_key(key).to_string(),
        );
        Err(match first_refusal {
            Some(rejection) => {
                format!("this node's key {key} is not valid for {org} at seq {seq}: {rejection}")
            }
            None => format!("this node has no signing key for {org}"),
        })
    }
}

/// The signing thread's key list, readable from other threads: the checkpoint signer takes
/// the key the authority grants from it, and sees a rotation's new key once it is installed.
#[derive(Clone)]
pub(super) struct SharedKeys(Arc<RwLock<Vec<SigningKey>>>);

impl SharedKeys {
    pub(super) fn new(keys: Vec<SigningKey>) -> SharedKeys {
        SharedKeys(Arc::new(RwLock::new(keys)))
    }

    /// The keys now, preferred first.
    pub(super) fn get(&self) -> Vec<SigningKey> {
        // A panic while the list was replaced leaves the old or the new list, both whole.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the list (after a rotation).
    pub(super) fn set(&self, keys: Vec<SigningKey>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = keys;
    }
}
