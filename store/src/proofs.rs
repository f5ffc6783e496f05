//! Equivocation proofs: two records of one author at one seq, kept under the `records` key of
//! that position followed by both ids, so that a chain's proofs are one prefix.

use aidledger_spec::bundle::EquivocationProof;
use aidledger_spec::{codec, RecordId, RuleCheckedRecord};

use crate::keys::{chain_key, parse_chain_key, position_key, ID_BYTES, SEQ_BYTES};
use crate::{AppendError, Store, StoreError, StoreReader};

impl StoreReader {
    /// Every stored equivocation proof.
    pub fn proofs(
        &self,
    ) -> impl Iterator<Item = Result<EquivocationProof, StoreError>> + Send + 'static {
        self.inner.proofs.iter().map(|entry| {
            let (_, value) = entry?;
            codec::decode_exact(&value)
                .map_err(|error| StoreError::Corrupt(format!("an equivocation proof: {error}")))
        })
    }

    /// Whether a proof of these two records (in either order) is stored.
    pub fn has_proof(
        &self,
        first: &RuleCheckedRecord,
        second: &RuleCheckedRecord,
    ) -> Result<bool, StoreError> {
        let header = first.header();
        for (a, b) in [(first.id(), second.id()), (second.id(), first.id())] {
            let Some(key) = position_key(&header.author, header.seq, &[&a, &b]) else {
                return Ok(false);
            };
            if self.inner.proofs.contains_key(key)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// How many equivocation proofs are stored.
    pub fn proof_count(&self) -> u64 {
        self.inner.proofs.len() as u64
    }

    /// Whether `author`'s chain has an equivocation proof at `seq`, and whether it has one
    /// anywhere: two prefix lookups, however many proofs are stored (a record page asks).
    pub fn fork_at(&self, author: &str, seq: u64) -> Result<(bool, bool), StoreError> {
        let Some(at) = chain_key(author, seq) else {
            return Ok((false, false));
        };
        let chain_prefix = &at[..at.len() - SEQ_BYTES];
        let anywhere = self
            .inner
            .proofs
            .scan_prefix(chain_prefix)
            .next()
            .transpose()?
            .is_some();
        let here = anywhere
            && self
                .inner
                .proofs
                .scan_prefix(&at)
                .next()
                .transpose()?
                .is_some();
        Ok((here, anywhere))
    }

    /// The (author, seq) of every stored proof, each once, in key order: the forked chains and
    /// where they fork.
    pub fn forks(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut forks: Vec<(String, u64)> = Vec::new();
        for entry in self.inner.proofs.iter() {
            let (key, _) = entry?;
            let prefix_bytes = key
                .len()
                .checked_sub(2 * ID_BYTES)
                .ok_or_else(|| StoreError::Corrupt("a proof key is shorter than two ids".into()))?;
            let fork = parse_chain_key(&key[..prefix_bytes])?;
            if forks.last() != Some(&fork) {
                forks.push(fork);
            }
        }
        Ok(forks)
    }
}

impl Store {
    /// Stores an equivocation proof (two records of one author at one seq, as
    /// `Verifier::verify_equivocation` returns them; the record rules suffice, since a proof
    /// shows that the key signed both, whatever the governance now says of it). Durable after [`Store::make_durable`].
    pub fn add_proof(
        &self,
        first: &RuleCheckedRecord,
        second: &RuleCheckedRecord,
    ) -> Result<(), AppendError> {
        let header = first.header();
        let key = position_key(&header.author, header.seq, &[&first.id(), &second.id()])
            .ok_or(AppendError::AuthorTooLong { id: first.id() })?;
        let proof = EquivocationProof {
            first: first.bytes().to_vec(),
            second: second.bytes().to_vec(),
        };
        let proof_bytes = codec::encode(&proof);
        let previous = self
            .inner
            .proofs
            .insert(key, proof_bytes.as_slice())
            .map_err(StoreError::from)?;
        if previous.as_deref() != Some(proof_bytes.as_slice()) {
            self.note_change();
        }
        Ok(())
    }

    /// Drops every stored equivocation proof that `keep` refuses; returns how many. Used after
    /// a governance change: a proof one of whose records the authority now rejects (a thief's
    /// records after a revocation) no longer proves that the member signed twice. Durable after
    /// [`Store::make_durable`].
    pub fn retain_proofs(
        &self,
        mut keep: impl FnMut(&EquivocationProof) -> bool,
    ) -> Result<usize, StoreError> {
        let mut dropped = 0;
        for entry in self.inner.proofs.iter() {
            let (key, value) = entry?;
            let proof: EquivocationProof = codec::decode_exact(&value)
                .map_err(|error| StoreError::Corrupt(format!("an equivocation proof: {error}")))?;
            if !keep(&proof) {
                self.inner.proofs.remove(&key)?;
                dropped += 1;
            }
        }
        if dropped > 0 {
            self.note_change();
        }
        Ok(dropped)
    }

    /// Drops the proofs of `author` from `from_seq` on that name one of `ids`.
    pub(crate) fn drop_proofs_naming(
        &self,
        author: &str,
        from_seq: u64,
        ids: &[RecordId],
    ) -> Result<(), StoreError> {
        let (Some(start), Some(end)) = (chain_key(author, from_seq), chain_key(author, u64::MAX))
        else {
            return Ok(());
        };
        let mut end = end;
        end.extend_from_slice(&[0xff; 2 * ID_BYTES]);
        for entry in self.inner.proofs.range(start..=end) {
            let (key, _) = entry?;
            let Some(ids_at) = key.len().checked_sub(2 * ID_BYTES) else {
                continue;
            };
            let names_moved = key[ids_at..]
                .chunks(ID_BYTES)
                .any(|id| ids.iter().any(|moved| moved.0 == id));
            if names_moved {
                self.inner.proofs.remove(&key)?;
            }
        }
        Ok(())
    }
}
