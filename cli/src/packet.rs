//! One-record proof packets (FORMAT.md §26) at the command line: `aidledger proof` assembles one
//! from a node's public API, `aidledger verify --proof` checks one offline and says in plain
//! words what it checked.

use std::collections::BTreeSet;
use std::io::Read;

use aidledger_spec::bundle::{BundleError, BundleItem, BundleReader};
use aidledger_spec::cosignature::WitnessPolicy;
use aidledger_spec::limits::{GOVERNANCE_RECORDS_MAX, PROOF_PACKET_BYTES_MAX};
use aidledger_spec::merkle::InclusionProof;
use aidledger_spec::packet::{ProofPacket, Verdict, Witnessing};
use aidledger_spec::redaction::OrderedBy;
use aidledger_spec::signed::{peek_body_kind, record_id_of_bytes, SignedRecord};
use aidledger_spec::withheld::is_withheld;
use aidledger_spec::{BodyKind, Digest, RecordId};

use crate::source::{encode_path_segment, http_client};

/// Most bytes of the proof JSON a node may answer (a path of 64 hashes and a note of
/// `NOTE_BYTES_MAX` fit with room to spare).
pub const PROOF_RESPONSE_BYTES_MAX: u64 = 1024 * 1024;
/// Most bytes of an error body quoted from a node.
const ERROR_BODY_BYTES_MAX: u64 = 4 * 1024;

/// Why a packet could not be assembled from a node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofFetchError {
    /// The node could not be reached or the answer not read.
    #[error("node {url}: cannot reach it: {detail}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The node answered with an error status.
    #[error("node {url} answered {status}: {body}")]
    Status {
        /// The URL asked.
        url: String,
        /// The status.
        status: u16,
        /// What it said (cut).
        body: String,
    },
    /// The node's answer is not what the API promises.
    #[error("node {url}: {detail}")]
    Malformed {
        /// The URL asked.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The node serves no signed checkpoint for the record's organisation.
    #[error(
        "node {url} serves no signed checkpoint for {org}'s chain (a node publishes its own \
         organisation's, and those it collected cosigned from witnesses): ask a node of {org}"
    )]
    NoCheckpoint {
        /// The node.
        url: String,
        /// The record's organisation.
        org: String,
    },
    /// The node's export (read for the genesis and governance records) is damaged.
    #[error("node {url}: its export: {error}")]
    Bundle {
        /// The node.
        url: String,
        /// What is wrong.
        error: BundleError,
    },
}

/// The JSON of `GET /api/proof/{id}`.
#[derive(serde::Deserialize)]
struct ProofAnswer {
    record: String,
    org: String,
    index: u64,
    size: u64,
    checkpoint: Option<String>,
    inclusion: Vec<String>,
    /// The order that covers the record when its body was redacted (absent from the answers
    /// of nodes older than redaction).
    #[serde(default)]
    redaction: Option<RedactionAnswer>,
}

/// The `redaction` of `GET /api/proof/{id}`: the order that covers a redacted record.
#[derive(serde::Deserialize)]
struct RedactionAnswer {
    order: String,
    by: String,
}

/// `GET base + path`; an error status is an error quoting the node's body.
pub fn get(base: &str, path: &str) -> Result<reqwest::blocking::Response, ProofFetchError> {
    get_with(&http_client(), base, path)
}

/// [`get`] with the caller's client (the witness keeps one, with its timeouts, for its life).
pub fn get_with(
    client: &reqwest::blocking::Client,
    base: &str,
    path: &str,
) -> Result<reqwest::blocking::Response, ProofFetchError> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let response = client
        .get(&url)
        .send()
        .map_err(|error| ProofFetchError::Unreachable {
            url: url.clone(),
            detail: error.to_string(),
        })?;
    let status = response.status();
    if !status.is_success() {
        let mut body = String::new();
        // The body only explains the status; a body that cannot be read leaves it empty.
        let _ = response
            .take(ERROR_BODY_BYTES_MAX)
            .read_to_string(&mut body);
        return Err(ProofFetchError::Status {
            url,
            status: status.as_u16(),
            body: body.trim().to_owned(),
        });
    }
    Ok(response)
}

/// A response's body, refused over `max` bytes.
pub fn read_all(
    response: reqwest::blocking::Response,
    url: &str,
    max: u64,
) -> Result<Vec<u8>, ProofFetchError> {
    let mut bytes = Vec::new();
    response
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| ProofFetchError::Unreachable {
            url: url.to_owned(),
            detail: error.to_string(),
        })?;
    if bytes.len() as u64 > max {
        return Err(ProofFetchError::Malformed {
            url: url.to_owned(),
            detail: format!("more than {max} bytes"),
        });
    }
    Ok(bytes)
}

/// Assembles the proof packet of `record` from the node at `node`: its inclusion proof and
/// checkpoint (`/api/proof/{id}`), its bytes (`/api/records/{id}/raw`), and the genesis and
/// every governance record the node holds, read from the start of its export (`/api/export`,
/// whose bundle order lists them before any ordinary record, FORMAT.md §13.1; the rest is not
/// read). Governance records at a position an equivocation proof of the export contests are
/// left out, as a verifier of the bundle would (FORMAT.md §18.6). A record whose body the node
/// forgot comes as its withheld envelope; when its author ordered that, the order's bytes
/// (`/api/records/{order}/raw`) go in the packet's `order`, making it version 2 (an admins'
/// order is among the governance records). Nothing is verified here: `verify_packet` does
/// that, offline.
pub fn fetch_packet(node: &str, record: &RecordId) -> Result<ProofPacket, ProofFetchError> {
    let id = record.to_hex();
    let malformed = |path: &str, detail: String| ProofFetchError::Malformed {
        url: format!("{}{path}", node.trim_end_matches('/')),
        detail,
    };

    let path = format!("/api/proof/{id}");
    let answer: ProofAnswer = serde_json::from_slice(&read_all(
        get(node, &path)?,
        &path,
        PROOF_RESPONSE_BYTES_MAX,
    )?)
    .map_err(|error| malformed(&path, format!("not the proof JSON: {error}")))?;
    if answer.record != id {
        return Err(malformed(&path, format!("a proof of {}", answer.record)));
    }
    let checkpoint = answer
        .checkpoint
        .ok_or_else(|| ProofFetchError::NoCheckpoint {
            url: node.to_owned(),
            org: answer.org.clone(),
        })?;
    let inclusion = InclusionProof {
        leaf_index: answer.index,
        tree_size: answer.size,
        path: answer
            .inclusion
            .iter()
            .map(|hash| Digest::from_hex(hash))
            .collect::<Result<_, _>>()
            .map_err(|error| malformed(&path, format!("a hash of the proof: {error}")))?,
    };

    let raw = format!("/api/records/{}/raw", encode_path_segment(&id));
    let bytes = read_all(
        get(node, &raw)?,
        &raw,
        aidledger_spec::limits::RECORD_SIZE_BYTES_MAX as u64,
    )?;
    if record_id_of_bytes(&bytes).ok() != Some(*record) {
        return Err(malformed(&raw, format!("not the bytes of record {id}")));
    }

    let order = match answer.redaction {
        Some(redaction) if is_withheld(&bytes) && redaction.by == "author" => {
            Some(fetch_order(node, &redaction.order)?)
        }
        _ => None,
    };

    let (genesis, governance) = genesis_and_governance(node)?;
    Ok(ProofPacket {
        genesis,
        governance,
        record: bytes,
        inclusion,
        checkpoint,
        order,
    })
}

/// The wire bytes of the order `order` (a record id in hex, as the node named it).
fn fetch_order(node: &str, order: &str) -> Result<Vec<u8>, ProofFetchError> {
    let raw = format!("/api/records/{}/raw", encode_path_segment(order));
    let malformed = |detail: String| ProofFetchError::Malformed {
        url: format!("{}{raw}", node.trim_end_matches('/')),
        detail,
    };
    let id = RecordId::from_hex(order)
        .map_err(|error| malformed(format!("the order's id {order:?}: {error}")))?;
    let bytes = read_all(
        get(node, &raw)?,
        &raw,
        aidledger_spec::limits::RECORD_SIZE_BYTES_MAX as u64,
    )?;
    if record_id_of_bytes(&bytes).ok() != Some(id) {
        return Err(malformed(format!("not the bytes of the order {order}")));
    }
    Ok(bytes)
}

/// The genesis bytes and the governance records at the start of a node's export.
pub fn genesis_and_governance(node: &str) -> Result<(Vec<u8>, Vec<Vec<u8>>), ProofFetchError> {
    let url = format!("{}/api/export", node.trim_end_matches('/'));
    read_genesis_and_governance(get(node, "/api/export")?, &url)
}

/// The genesis bytes and the governance records at the start of a bundle (`url` names it in
/// errors): what a node's export or a bundle file says the organisations' keys are.
pub fn read_genesis_and_governance(
    input: impl Read,
    url: &str,
) -> Result<(Vec<u8>, Vec<Vec<u8>>), ProofFetchError> {
    let url = url.to_owned();
    let damaged = |error| ProofFetchError::Bundle {
        url: url.clone(),
        error,
    };
    let mut reader = BundleReader::new(input).map_err(damaged)?;
    let genesis = reader.genesis_bytes().to_vec();
    let mut contested: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut governance = Vec::new();
    let mut held_bytes = genesis.len();
    while let Some(item) = reader.next_item().map_err(damaged)? {
        match item {
            BundleItem::Proof(proof) => {
                if let Ok(record) = SignedRecord::parse(proof.first) {
                    contested.insert((record.header.author, record.header.seq));
                }
            }
            BundleItem::Record(bytes) if is_governance(&bytes) => {
                // A node that streams more than a packet may carry is refused, not buffered.
                held_bytes = held_bytes.saturating_add(bytes.len());
                if governance.len() >= GOVERNANCE_RECORDS_MAX || held_bytes > PROOF_PACKET_BYTES_MAX
                {
                    return Err(ProofFetchError::Malformed {
                        url: url.clone(),
                        detail: format!(
                            "more governance records than a packet may carry ({GOVERNANCE_RECORDS_MAX} \
                             records, {PROOF_PACKET_BYTES_MAX} bytes)"
                        ),
                    });
                }
                let position = SignedRecord::parse(bytes.clone())
                    .ok()
                    .map(|record| (record.header.author, record.header.seq));
                if position.is_none_or(|position| !contested.contains(&position)) {
                    governance.push(bytes);
                }
            }
            // Split views precede the governance records and say nothing of keys.
            BundleItem::SplitView(_) => {}
            // The first ordinary record (or, in a bundle of governance records only, the
            // checkpoints after them): every governance record came before it.
            BundleItem::Record(_) | BundleItem::Checkpoint(_) => break,
        }
    }
    Ok((genesis, governance))
}

fn is_governance(bytes: &[u8]) -> bool {
    matches!(
        peek_body_kind(bytes),
        Some(kind) if kind == BodyKind::Proposal as u16
            || kind == BodyKind::Approval as u16
            || kind == BodyKind::KeyRotation as u16
    )
}

/// What a valid packet showed, in plain words, one fact a line.
/// The witness policy in force under the governance records a packet carries (FORMAT.md §24:
/// the last effective `set-witnesses`), when the packet reads and its governance sets one. Its
/// records are checked by the record rules under the packet's genesis, as `verify_packet` does;
/// call it for a packet that verified. A packet cannot show a later policy it does not carry.
pub fn governance_witness_policy(bytes: &[u8]) -> Option<WitnessPolicy> {
    use aidledger_spec::governance::{self, GovernanceRecord};
    use aidledger_spec::{Genesis, Verifier};
    let packet = ProofPacket::from_packet_bytes(bytes).ok()?;
    let genesis = Genesis::decode(&packet.genesis).ok()?;
    let verifier = Verifier::new(genesis.clone());
    let records: Vec<GovernanceRecord> = packet
        .governance
        .iter()
        .map(|bytes| {
            let record = verifier.verify_record_rules(bytes.clone()).ok()?;
            GovernanceRecord::from_verified(&record)
        })
        .collect::<Option<_>>()?;
    governance::derive(&genesis, &records)
        .authority
        .witness_policy()
}

/// Where the witness policy a packet was judged against came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicySource {
    /// The reader's `--witness-key`s.
    Given,
    /// The policy in force under the governance records the packet carries (FORMAT.md §24).
    Governance,
    /// Neither: the checkpoint rests on the organisation's own signature.
    None,
}

impl PolicySource {
    /// The name in `verify --proof --json` (`witness_policy`), null for none.
    pub fn name(self) -> Option<&'static str> {
        match self {
            PolicySource::Given => Some("given"),
            PolicySource::Governance => Some("governance"),
            PolicySource::None => None,
        }
    }
}

/// What a packet of a redacted record shows of its redaction, in two lines (by whom and why,
/// then what the packet cannot show); `None` for a whole record.
pub fn redaction_text(verdict: &Verdict) -> Option<String> {
    let order = verdict.redacted.as_ref()?;
    let by = match &order.by {
        OrderedBy::Author { seq, .. } => format!(
            "by its author (redaction order {} at seq {seq}, carried in the packet)",
            order.order
        ),
        OrderedBy::Admins { step, approved_by } => format!(
            "by the network's admins (redact proposal {}, step {step} of the governance, \
             approved by {})",
            order.order,
            approved_by.join(", ")
        ),
    };
    Some(format!(
        "  REDACTED: its content is withheld, redacted {by} for {}\n  (the packet shows that \
         the record exists, who signed it and who redacted it, not what it said)\n",
        order.category.words()
    ))
}

/// The verdict in words. `policy` is the witness policy the packet was judged against, from
/// `source`.
pub fn verdict_text(
    verdict: &Verdict,
    policy: Option<&WitnessPolicy>,
    source: PolicySource,
) -> String {
    let mut out = format!(
        "network {} (pinned)\nVALID: record {} is a genuine {} of {} and is in {}'s signed chain\n",
        verdict.network, verdict.record, verdict.kind, verdict.author, verdict.author
    );
    if let Some(line) = redaction_text(verdict) {
        out.push_str(&line);
    }
    out.push_str(&format!(
        "  signed by {} with key {}, a key it could sign position {} of its chain with (under the \
         genesis and the {} governance record(s) the packet carries)\n",
        verdict.author, verdict.signing_key, verdict.seq, verdict.governance_records
    ));
    out.push_str(&format!(
        "  record {} of {}'s chain, whose checkpoint of {} record(s) (root {}) {} signed with key {}\n",
        verdict.seq,
        verdict.author,
        verdict.size,
        verdict.root,
        verdict.author,
        verdict.checkpoint_key
    ));
    match (&verdict.witnessing, policy) {
        (
            Witnessing::Met {
                cosigned,
                threshold,
            },
            Some(policy),
        ) => {
            let names: Vec<&str> = cosigned
                .iter()
                .filter_map(|done| policy.witnesses().get(done.witness))
                .map(|key| key.name())
                .collect();
            let whose = match source {
                PolicySource::Governance => "of the witness policy in the packet's governance",
                PolicySource::Given | PolicySource::None => "given",
            };
            out.push_str(&format!(
                "  witnessed: cosigned by {} of the {} witness(es) {whose} ({} needed): {}\n",
                cosigned.len(),
                policy.witnesses().len(),
                threshold,
                names.join(", ")
            ));
        }
        _ => out.push_str(&format!(
            "  NOT witnessed: no --witness-key given and the packet's governance sets no \
             witness policy; the checkpoint rests on {}'s own signature\n",
            verdict.author
        )),
    }
    out.push_str(
        "  (a packet cannot show governance records it does not carry: a revocation made after \
         it was assembled is not in it)\n",
    );
    out
}
