//! What a witness asks a node (issue 21): the genesis and governance records at the head of its
//! export (the organisations' keys), an organisation's checkpoint note, and a consistency proof
//! with the two roots it leads between. One HTTP client with timeouts, kept for the witness's
//! life so that a round reuses its connections; every answer is bounded before it is read.

use std::time::Duration;

use aidledger_spec::limits::NOTE_BYTES_MAX;

use crate::consistency::{fetch_node_consistency, NodeConsistency};
use crate::packet::{get_with, read_all, read_genesis_and_governance, ProofFetchError};
use crate::source::encode_path_segment;

/// How long a node may take to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take in all (a stalled node must not stall the witness's round).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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
        let url = format!("{}{path}", node.trim_end_matches('/'));
        match get_with(&self.client, node, path) {
            Ok(response) => Ok(Some((response, url))),
            Err(ProofFetchError::Status { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
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
        fetch_node_consistency(&self.client, node, org, from, to)
    }
}
