//! One organisation the import records for: its node, what its chain already holds (import key →
//! transaction record and the digest of what it says now, and each activity's keys), and the
//! batches on their way to its node.

use std::collections::HashMap;

use aidledger_iati::{activity_digest, content_digest};
use aidledger_spec::record::Replacement;
use aidledger_spec::{Body, Digest, RecordId};
use serde_json::Value;

use super::batch::{Batch, BatchSender, Receipt};
use super::{ImportError, Pending};
use crate::source::{Source, PAGE_RECORDS_MAX};
use crate::submit::SubmitTarget;

/// The digest of a withdrawn transaction: it matches no content, so importing it again restores it.
pub(super) const WITHDRAWN: Digest = Digest([0; 32]);

/// What the index knows of one import key.
#[derive(Clone, Copy)]
pub(super) struct Known {
    /// The original transaction record (corrections name it).
    pub(super) record: RecordId,
    /// The content digest of what it says now, [`WITHDRAWN`] when withdrawn.
    pub(super) digest: Digest,
}

/// What an organisation's chain holds of imported transactions and activities.
#[derive(Default)]
struct ImportIndex {
    by_key: HashMap<Digest, Known>,
    /// activity import key → the digest of its latest activity record.
    activities: HashMap<Digest, Digest>,
    /// activity id → the import keys recorded for it, in chain order.
    by_activity: HashMap<String, Vec<Digest>>,
}

impl ImportIndex {
    fn add_key(&mut self, activity: &str, key: Digest) {
        match self.by_activity.get_mut(activity) {
            Some(keys) => keys.push(key),
            None => {
                self.by_activity.insert(activity.to_owned(), vec![key]);
            }
        }
    }
}

/// An organisation, its node and its index.
pub(super) struct Publisher {
    /// The organisation id of the node.
    pub(super) org: String,
    /// The node's public URL.
    pub(super) public: String,
    index: ImportIndex,
    sender: BatchSender,
    batch: Batch,
    in_flight: Vec<Receipt>,
}

impl Publisher {
    /// Asks the node its organisation and reads (and verifies) that organisation's chain.
    pub(super) fn open(
        target: &SubmitTarget,
        despite_redactions: bool,
    ) -> Result<Publisher, ImportError> {
        let org = node_org(target)?;
        let public = target.public_url.clone().ok_or_else(|| {
            ImportError::Node(format!("the public URL of {org}'s node is needed to read what is already imported: use a data directory, or give the public URL with the submit URL"))
        })?;
        let index = load_index(&Source::Node(public.clone()), &org, despite_redactions)?;
        Ok(Publisher {
            org,
            public,
            index,
            sender: BatchSender::start(target),
            batch: Batch::default(),
            in_flight: Vec::new(),
        })
    }

    /// What the chain says of an import key.
    pub(super) fn known(&self, key: &Digest) -> Option<Known> {
        self.index.by_key.get(key).copied()
    }

    /// The digest of the latest activity record of an activity import key.
    pub(super) fn activity_digest(&self, key: &Digest) -> Option<Digest> {
        self.index.activities.get(key).copied()
    }

    /// Queues an activity record; it is the latest for its key from now on.
    pub(super) fn send_activity(
        &mut self,
        body: Body,
        pending: Pending,
    ) -> Result<(), ImportError> {
        self.index.activities.insert(pending.key, pending.digest);
        if let Some(full) = self.batch.push(body, pending) {
            self.in_flight.push(self.sender.send(full)?);
        }
        Ok(())
    }

    /// Queues a body; a full batch goes to the node.
    pub(super) fn send(
        &mut self,
        body: Body,
        pending: Pending,
        new_in_activity: Option<&str>,
    ) -> Result<(), ImportError> {
        if let Some(activity) = new_in_activity {
            self.index.add_key(activity, pending.key);
        }
        if let Some(full) = self.batch.push(body, pending) {
            self.in_flight.push(self.sender.send(full)?);
        }
        Ok(())
    }

    /// The standing transactions recorded for `activity` whose key `listed` does not know:
    /// (import key, original record).
    pub(super) fn not_listed(
        &self,
        activity: &str,
        listed: impl Fn(&Digest) -> bool,
    ) -> Vec<(Digest, RecordId)> {
        let Some(keys) = self.index.by_activity.get(activity) else {
            return Vec::new();
        };
        keys.iter()
            .filter(|key| !listed(key))
            .filter_map(|key| {
                let known = self.index.by_key.get(key)?;
                (known.digest != WITHDRAWN).then_some((*key, known.record))
            })
            .collect()
    }

    /// Sends what is queued and waits for every answer; the index then holds the new records.
    pub(super) fn finish(&mut self) -> Result<(), ImportError> {
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            self.in_flight.push(self.sender.send(batch)?);
        }
        for receipt in std::mem::take(&mut self.in_flight) {
            for (pending, id) in receipt.wait()? {
                // Activity records are in the index since they were queued.
                if self.index.activities.contains_key(&pending.key) {
                    continue;
                }
                let record = pending.corrects.unwrap_or(id);
                self.index.by_key.insert(
                    pending.key,
                    Known {
                        record,
                        digest: pending.digest,
                    },
                );
            }
        }
        Ok(())
    }
}

/// The organisation of the node behind the submit API.
fn node_org(target: &SubmitTarget) -> Result<String, ImportError> {
    let url = format!("{}/v1/status", target.url.trim_end_matches('/'));
    let response = crate::source::http_client()
        .get(&url)
        .bearer_auth(&target.token)
        .send()
        .map_err(|error| ImportError::Node(format!("cannot reach {url}: {error}")))?;
    let status = response.status();
    let value: Value = response
        .json()
        .map_err(|error| ImportError::Node(format!("{url} answered {status}: {error}")))?;
    value["org"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ImportError::Node(format!("{url} answered {status}: {value}")))
}

/// Reads `org`'s chain newest first, verifies every record, and builds the import index.
/// The import keys the chain already holds. Withheld records (redacted: FORMAT.md §27) hold
/// none that can be read: unless `despite_redactions`, their presence refuses the import.
fn load_index(
    source: &Source,
    org: &str,
    despite_redactions: bool,
) -> Result<ImportIndex, ImportError> {
    // Under the governance: the organisation may have rotated its key or joined after the genesis.
    let (verifier, _) = crate::governance::lookup::governed_verifier(source)?;
    let mut records = Vec::new();
    let mut redacted: Vec<u64> = Vec::new();
    let mut before = None;
    loop {
        let page = source.chain_page(org, before, PAGE_RECORDS_MAX)?;
        let Some(last) = page.last() else { break };
        let (last, _): (aidledger_spec::RecordHeader, usize) =
            aidledger_spec::codec::decode_prefix(last).map_err(|error| {
                ImportError::Node(format!("a record of {org} is malformed: {error}"))
            })?;
        before = Some(last.seq);
        let (withheld, page): (Vec<Vec<u8>>, Vec<Vec<u8>>) = page
            .into_iter()
            .partition(|bytes| aidledger_spec::withheld::is_withheld(bytes));
        for bytes in withheld {
            let record = verifier.verify_withheld(bytes).map_err(|rejected| {
                ImportError::Node(format!(
                    "a record of {org} does not verify: {}",
                    rejected.reason
                ))
            })?;
            // Only kinds the import writes carry IATI keys: a redacted statement or treaty
            // text hides none, and does not stop the import.
            let kind = aidledger_spec::record::BodyKind::from_wire(record.header().body_kind);
            if kind.is_some_and(is_imported_kind) {
                redacted.push(record.header().seq);
            }
        }
        for verdict in verifier.verify_batch(page) {
            let record = verdict.map_err(|rejected| {
                ImportError::Node(format!(
                    "a record of {org} does not verify: {}",
                    rejected.reason
                ))
            })?;
            records.push((record.header().seq, record.id(), record.body().clone()));
        }
        if before == Some(0) {
            break;
        }
    }
    if let (Some(first_seq), false) = (redacted.iter().min(), despite_redactions) {
        return Err(ImportError::Redacted {
            org: org.to_owned(),
            count: redacted.len(),
            first_seq: *first_seq,
        });
    }
    records.sort_by_key(|(seq, _, _)| *seq);
    let mut index = ImportIndex::default();
    let mut by_record: HashMap<RecordId, Digest> = HashMap::new();
    for (_, id, body) in records {
        match body {
            Body::Transaction(transaction) => {
                if let Some(source) = &transaction.iati {
                    let digest = content_digest(&transaction);
                    let key = source.import_key;
                    if index
                        .by_key
                        .insert(key, Known { record: id, digest })
                        .is_none()
                    {
                        index.add_key(&transaction.activity_id, key);
                    }
                    by_record.insert(id, key);
                }
            }
            // Records come in chain order, so the last one of a key is the one that counts.
            Body::Activity(activity) => {
                if let Some(source) = &activity.iati {
                    let digest = activity_digest(&activity);
                    index.activities.insert(source.import_key, digest);
                }
            }
            Body::Correction(correction) => {
                let Some(key) = by_record.get(&correction.corrects) else {
                    continue;
                };
                let Some(known) = index.by_key.get_mut(key) else {
                    continue;
                };
                known.digest = match &correction.replacement {
                    Some(Replacement::Transaction(transaction)) => content_digest(transaction),
                    _ => WITHDRAWN,
                };
            }
            _ => {}
        }
    }
    Ok(index)
}

/// The kinds of record the import writes (and whose withheld bodies hide IATI keys).
fn is_imported_kind(kind: aidledger_spec::record::BodyKind) -> bool {
    use aidledger_spec::record::BodyKind;
    matches!(
        kind,
        BodyKind::Transaction | BodyKind::Activity | BodyKind::Correction
    )
}
