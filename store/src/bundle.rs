//! Every record in the order a bundle lists them (FORMAT.md, "Bundle order"), read lazily:
//! what `export::write_bundle` writes and the CLI's data-directory source reads.

use std::collections::HashMap;

use aidledger_spec::bundle::BundleItem;

use crate::keys::is_governance_bytes;
use crate::{StoreError, StoreReader, StoredRecord};

impl StoreReader {
    /// Every record, in the order a bundle lists them (FORMAT.md, "Bundle order"): the
    /// equivocation proofs, then governance records (chain by chain, each in seq order, then the
    /// revoked ones), then the other records chain by chain, then the other records held as
    /// revoked. Read lazily.
    /// `export::write_bundle` writes this; the CLI's data-directory source reads it.
    pub fn bundle_items(
        &self,
    ) -> impl Iterator<Item = Result<BundleItem, StoreError>> + Send + 'static {
        self.bundle_items_up_to(None)
    }

    /// As [`StoreReader::bundle_items`], each chain only up to its durable head as it stands now
    /// (`store::recovery`): what a running node exports, so that no auditor is handed a record
    /// that a power loss could still take and the node then sign again differently.
    pub fn durable_bundle_items(
        &self,
    ) -> Result<impl Iterator<Item = Result<BundleItem, StoreError>> + Send + 'static, StoreError>
    {
        Ok(self.bundle_items_up_to(Some(self.durable_seqs()?)))
    }

    /// Bundle items; with `up_to`, a chain's records only up to the seq it gives (none for a
    /// chain it does not name).
    fn bundle_items_up_to(
        &self,
        up_to: Option<HashMap<String, u64>>,
    ) -> impl Iterator<Item = Result<BundleItem, StoreError>> + Send + 'static {
        let keep = move |record: &StoredRecord| {
            up_to.as_ref().is_none_or(|up_to| {
                up_to
                    .get(&record.author)
                    .is_some_and(|seq| record.seq <= *seq)
            })
        };
        let keep_ordinary = keep.clone();
        let governance = self
            .governance_records()
            .filter_map(move |record| match record {
                Ok(record) if !keep(&record) => None,
                record => Some(record.map(|record| BundleItem::Record(record.bytes))),
            });
        // Revoked governance records still count for the steps they made (FORMAT.md 13.1),
        // so they are listed with the governance records.
        let revoked_governance = self.revoked_records_where(true);
        let ordinary = self.iter_records().filter_map(move |record| match record {
            Ok(record) if is_governance_bytes(&record.bytes) || !keep_ordinary(&record) => None,
            Ok(record) => Some(Ok(BundleItem::Record(record.bytes))),
            Err(error) => Some(Err(error)),
        });
        let revoked_ordinary = self.revoked_records_where(false);
        // Proofs first: a verifier must know which positions are contested before it derives
        // the authority from the governance records (FORMAT.md 13.1, 18.6).
        let proofs = self.proofs().map(|proof| proof.map(BundleItem::Proof));
        proofs
            .chain(governance)
            .chain(revoked_governance)
            .chain(ordinary)
            .chain(revoked_ordinary)
    }

    /// The revoked records that are (or are not) governance records, as bundle items.
    fn revoked_records_where(
        &self,
        governance: bool,
    ) -> impl Iterator<Item = Result<BundleItem, StoreError>> + Send + 'static {
        self.revoked_records()
            .filter_map(move |record| match record {
                Ok(record) if is_governance_bytes(&record.bytes) == governance => {
                    Some(Ok(BundleItem::Record(record.bytes)))
                }
                Ok(_) => None,
                Err(error) => Some(Err(error)),
            })
    }
}
