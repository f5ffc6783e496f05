//! Reading the governance state: from a source, verified (the records are checked and the
//! authority derived here, trusting nothing the source says), and from a node, for what a new
//! proposal must build on.

use aidledger_spec::bundle::BundleItem;
use aidledger_spec::genesis::Genesis;
use aidledger_spec::governance::{self, Derivation};
use aidledger_spec::signed::peek_body_kind;
use aidledger_spec::verify::Verifier;
use aidledger_spec::{BodyKind, NetworkId, RecordId};

use super::compose::ProposeContext;
use super::GovError;
use crate::pipeline::{verify_items, SignatureMode};
use crate::source::{http_client, Source, SourceError};

/// Whether a record's header says it is a governance record (kinds 5–7).
pub fn is_governance(bytes: &[u8]) -> bool {
    peek_body_kind(bytes)
        .and_then(BodyKind::from_wire)
        .is_some_and(BodyKind::is_governance)
}

/// The governance state of a source, from its proofs and governance records alone: a bundle,
/// an export and [`Source::open`] list them first (proofs tell which positions are contested),
/// so only that prefix is read and verified.
pub fn governance_of(source: &Source) -> Result<(Genesis, Derivation), SourceError> {
    let (genesis, items) = source.open()?;
    let verifier = Verifier::new(genesis.clone());
    let prefix = items.take_while(|item| match item {
        Ok(BundleItem::Record(bytes)) => is_governance(bytes),
        Ok(BundleItem::Proof(_)) => true,
        // Split views come before the governance records; checkpoints after every record.
        Ok(BundleItem::SplitView(_)) => true,
        Ok(BundleItem::Checkpoint(_)) => false,
        Err(_) => true,
    });
    let report = verify_items(&verifier, prefix, SignatureMode::Batch, |_| {})?;
    let derivation = report
        .governance
        .unwrap_or_else(|| governance::derive(&genesis, &[]));
    Ok((genesis, derivation))
}

/// A verifier that judges records under the source's governance (members added later,
/// rotated and revoked keys), with the genesis and the derivation it was built from.
pub fn governed_verifier(source: &Source) -> Result<(Verifier, Derivation), SourceError> {
    let (genesis, derivation) = governance_of(source)?;
    let verifier = Verifier::with_authority(genesis, derivation.authority.clone());
    Ok((verifier, derivation))
}

/// The proposal a new proposal must name as its base: the node's tip, from
/// `GET /api/governance`, or, from a node without that endpoint, derived from its export.
pub fn node_tip(public: &str) -> Result<RecordId, GovError> {
    let url = format!("{}/api/governance", public.trim_end_matches('/'));
    let node_error = |detail: String| GovError::Node {
        url: url.clone(),
        detail,
    };
    let response = http_client()
        .get(&url)
        .send()
        .map_err(|error| node_error(format!("cannot reach it: {error}")))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        let (_, derivation) = governance_of(&Source::Node(public.to_owned()))?;
        return Ok(derivation.authority.tip());
    }
    let status = response.status();
    if !status.is_success() {
        return Err(node_error(format!("answered {status}")));
    }
    let value: serde_json::Value = response
        .json()
        .map_err(|error| node_error(format!("unreadable answer: {error}")))?;
    tip_of_json(&value).map_err(node_error)
}

/// The tip in a derivation's JSON: the last step's proposal, zero when there is none.
pub fn tip_of_json(value: &serde_json::Value) -> Result<RecordId, String> {
    let Some(steps) = value["authority"]["steps"].as_array() else {
        return Err("the answer has no authority.steps".to_owned());
    };
    match steps.last() {
        None => Ok(RecordId::ZERO),
        Some(step) => step["proposal"]
            .as_str()
            .ok_or_else(|| "a step has no proposal".to_owned())
            .and_then(|hex| RecordId::from_hex(hex).map_err(|error| error.to_string())),
    }
}

/// One past `member`'s head on the node (0 for an empty chain).
pub fn node_next_seq(public: &str, member: &str) -> Result<u64, GovError> {
    let source = Source::Node(public.to_owned());
    if let Ok(page) = source.chain_page(member, None, 1) {
        return match page.into_iter().next() {
            None => Ok(0),
            // By the header alone: the head may be a redacted record's withheld envelope.
            Some(bytes) => {
                aidledger_spec::codec::decode_prefix::<aidledger_spec::RecordHeader>(&bytes)
                    .map(|(header, _)| header.seq.saturating_add(1))
                    .map_err(|error| GovError::Node {
                        url: public.to_owned(),
                        detail: format!("a record of {member} is malformed: {error}"),
                    })
            }
        };
    }
    // The node's page API may not list a member the genesis does not: verify its export.
    let (genesis, items) = source.open()?;
    let report = verify_items(&Verifier::new(genesis), items, SignatureMode::Batch, |_| {})?;
    Ok(report
        .chains
        .iter()
        .find(|chain| chain.author == member)
        .map_or(0, |chain| chain.length))
}

/// What `gov propose` asks a node for, fetched once each.
pub struct NodeContext {
    public: Option<String>,
    network_id: Option<NetworkId>,
}

impl NodeContext {
    /// Asks the node at `public` (its public URL), if known.
    pub fn new(public: Option<String>) -> NodeContext {
        NodeContext {
            public,
            network_id: None,
        }
    }

    fn public(&self) -> Result<&str, GovError> {
        self.public.as_deref().ok_or_else(|| {
            GovError::flag(
                "--public",
                "this needs the node's public URL: use --data-dir, or --public with --submit",
            )
        })
    }

    /// The node's current tip.
    pub fn tip(&self) -> Result<RecordId, GovError> {
        node_tip(self.public()?)
    }
}

impl ProposeContext for NodeContext {
    fn network_id(&mut self) -> Result<NetworkId, GovError> {
        if let Some(id) = self.network_id {
            return Ok(id);
        }
        let id = Source::Node(self.public()?.to_owned())
            .genesis()?
            .network_id();
        self.network_id = Some(id);
        Ok(id)
    }

    fn next_seq(&mut self, member: &str) -> Result<u64, GovError> {
        node_next_seq(self.public()?, member)
    }

    fn record_seq(&mut self, member: &str, id: RecordId) -> Result<u64, GovError> {
        let public = self.public()?.to_owned();
        let Some(bytes) = Source::Node(public.clone()).record(&id)? else {
            return Err(GovError::flag(
                "--record",
                format!("record {id} is not on the node"),
            ));
        };
        let (header, _) = aidledger_spec::codec::decode_prefix::<aidledger_spec::RecordHeader>(
            &bytes,
        )
        .map_err(|error| GovError::Node {
            url: public,
            detail: format!("record {id} is malformed: {error}"),
        })?;
        if header.author != member {
            return Err(GovError::flag(
                "--record",
                format!("record {id} is {}'s, not {member}'s", header.author),
            ));
        }
        Ok(header.seq)
    }
}
