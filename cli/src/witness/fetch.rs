//! What a witness asks a node (issue 21): the genesis and governance records at the head of its
//! export (the organisations' keys), an organisation's checkpoint note, and a consistency proof
//! with the two roots it leads between. One HTTP client with timeouts, kept for the witness's
//! life so that a round reuses its connections; every answer is bounded before it is read.

use std::time::Duration;

use aidledger_spec::limits::NOTE_BYTES_MAX;
use aidledger_spec::Digest;

use crate::packet::{read_all, read_genesis_and_governance, ProofFetchError};
use crate::source::encode_path_segment;

/// How long a node may take to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take in all (a stalled node must not stall the witness's round).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes of a consistency proof's JSON (64 hashes in hex and two roots fit many times).
const CONSISTENCY_BYTES_MAX: u64 = 64 * 1024;
/// Most bytes of an error body quoted from a node.
const ERROR_BODY_BYTES_MAX: u64 = 1024;

/// A node's consistency proof between two sizes of a chain, with the roots it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConsistency {
    /// The node's root at the smaller size, if it said (older nodes did not).
    pub from_root: Option<Digest>,
    /// The node's root at the larger size, if it said.
    pub to_root: Option<Digest>,
    /// The proof's hashes.
    pub proof: Vec<Digest>,
}

/// The JSON of `GET /api/consistency/{org}`.
#[derive(serde::Deserialize)]
struct ConsistencyAnswer {
    from: u64,
    to: u64,
    #[serde(default)]
    from_root: Option<String>,
    #[serde(default)]
    to_root: Option<String>,
    proof: Vec<String>,
}

/// The witness's HTTP client.
pub struct Fetcher {
    client: reqwest::blocking::Client,
}

impl Fetcher {
    /// A client with the witness's timeouts.
    pub fn new() -> Result<Fetcher, ProofFetchError> {
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| ProofFetchError::Unreachable {
                url: String::new(),
                detail: format!("no HTTP client: {error}"),
            })?;
        Ok(Fetcher { client })
    }

    /// `GET node + path`: `Ok(None)` for 404, an error for any other error status.
    fn get(
        &self,
        node: &str,
        path: &str,
    ) -> Result<Option<(reqwest::blocking::Response, String)>, ProofFetchError> {
        use std::io::Read as _;
        let url = format!("{}{path}", node.trim_end_matches('/'));
        let response =
            self.client
                .get(&url)
                .send()
                .map_err(|error| ProofFetchError::Unreachable {
                    url: url.clone(),
                    detail: error.to_string(),
                })?;
        let status = response.status();
        if status.as_u16() == 404 {
            return Ok(None);
        }
        if !status.is_success() {
            let mut body = String::new();
            // The body only explains the status; one that cannot be read leaves it empty.
            let _ = response
                .take(ERROR_BODY_BYTES_MAX)
                .read_to_string(&mut body);
            return Err(ProofFetchError::Status {
                url,
                status: status.as_u16(),
                body: body.trim().to_owned(),
            });
        }
        Ok(Some((response, url)))
    }

    /// The genesis bytes and governance records at the head of the node's export.
    pub fn genesis_and_governance(
        &self,
        node: &str,
    ) -> Result<(Vec<u8>, Vec<Vec<u8>>), ProofFetchError> {
        let (response, url) =
            self.get(node, "/api/export")?
                .ok_or_else(|| ProofFetchError::Malformed {
                    url: format!("{node}/api/export"),
                    detail: "no export (404)".into(),
                })?;
        read_genesis_and_governance(response, &url)
    }

    /// The checkpoint note the node serves for `org`, `None` when it serves none (404).
    pub fn checkpoint(&self, node: &str, org: &str) -> Result<Option<String>, ProofFetchError> {
        let path = format!("/checkpoint/{}", encode_path_segment(org));
        let Some((response, url)) = self.get(node, &path)? else {
            return Ok(None);
        };
        let bytes = read_all(response, &url, NOTE_BYTES_MAX as u64)?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| ProofFetchError::Malformed {
                url,
                detail: "the note is not UTF-8".into(),
            })
    }

    /// The node's consistency proof of `org`'s chain from `from` to `to` records.
    pub fn consistency(
        &self,
        node: &str,
        org: &str,
        from: u64,
        to: u64,
    ) -> Result<NodeConsistency, ProofFetchError> {
        let path = format!(
            "/api/consistency/{}?from={from}&to={to}",
            encode_path_segment(org)
        );
        let (response, url) = self
            .get(node, &path)?
            .ok_or_else(|| ProofFetchError::Status {
                url: format!("{node}{path}"),
                status: 404,
                body: String::new(),
            })?;
        let bytes = read_all(response, &url, CONSISTENCY_BYTES_MAX)?;
        let malformed = |detail: String| ProofFetchError::Malformed {
            url: url.clone(),
            detail,
        };
        let answer: ConsistencyAnswer =
            serde_json::from_slice(&bytes).map_err(|error| malformed(error.to_string()))?;
        if answer.from != from || answer.to != to {
            return Err(malformed(format!(
                "a proof from {} to {} where {from} to {to} was asked",
                answer.from, answer.to
            )));
        }
        let hash = |hex: &str| {
            Digest::from_hex(hex).map_err(|_| malformed(format!("{hex:?} is not a hash")))
        };
        Ok(NodeConsistency {
            from_root: answer.from_root.as_deref().map(hash).transpose()?,
            to_root: answer.to_root.as_deref().map(hash).transpose()?,
            proof: answer
                .proof
                .iter()
                .map(|hex| hash(hex))
                .collect::<Result<_, _>>()?,
        })
    }
}
