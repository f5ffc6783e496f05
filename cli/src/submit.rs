//! The client side of a node's submit API: find the node, send a body, get the record id.

use std::path::Path;
use std::time::Duration;

use aidledger_spec::limits::BODY_SIZE_BYTES_MAX;
use aidledger_spec::submit::{encode_batch, BATCH_RECORDS_MAX};
use aidledger_spec::{codec, Body, PublicKey, RecordId};
use aidledger_store::datadir::{read_token, Endpoints, EndpointsError};

/// How to reach a node's submit API.
#[derive(Clone, Debug)]
pub struct SubmitTarget {
    /// Base URL of the submit listener.
    pub url: String,
    /// The bearer token.
    pub token: String,
    /// The node's public base URL, when known (needed to look up records a new one refers to).
    pub public_url: Option<String>,
}

/// Why a submission failed.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The node's files could not be read.
    #[error("node data directory {path}: {detail}")]
    NodeFiles {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// The node could not be reached.
    #[error("cannot reach the node at {url}: {detail}")]
    Unreachable {
        /// The URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The node refused the record (or the batch, which then recorded nothing).
    #[error("the node refused it ({status}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The node's message.
        message: String,
    },
    /// The body is larger than the protocol allows.
    #[error("the record body is {size_bytes} bytes, more than the {BODY_SIZE_BYTES_MAX} allowed")]
    TooLarge {
        /// Its encoded size.
        size_bytes: usize,
    },
}

/// Most body bytes the CLI puts in one batch request: the node takes a request of up to
/// `BODY_SIZE_BYTES_MAX` + 16 MiB (`node::submit::BATCH_SIZE_BYTES_MAX`), so this leaves room
/// for the framing; a body larger than it goes alone.
pub const BATCH_BODY_BYTES_TARGET: usize = 16 * 1024 * 1024;

/// A batch submission that stopped: the records recorded before the refused request stand.
#[derive(Debug, thiserror::Error)]
#[error("{} record(s) were recorded before this: {source}", recorded.len())]
pub struct BatchSubmitError {
    /// The records recorded by the requests before the one that failed, in order.
    pub recorded: Vec<(RecordId, u64)>,
    /// Why the request failed (nothing of it was recorded when the node refused it).
    pub source: SubmitError,
}

/// How long one request to the submit API may take: a batch of 1,024 records may wait behind
/// others in the node's writer queue before it is made durable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// How often [`wait_for_index`] asks the node how far its explorer index is behind.
const INDEX_POLL: Duration = Duration::from_millis(200);
/// How long [`wait_for_index`] waits for the index to move before it gives up waiting.
const INDEX_STALL_MAX: Duration = Duration::from_secs(120);

/// Waits until the explorer index of the node at public URL `public` covers every record it
/// holds (`/api/status` `index_behind` is 0): a large batch is acknowledged once durable, and
/// the node indexes it right after (`explorer::follower`), so a command that recorded one
/// returns when the explorer shows it. Says on stderr what it waits for; gives up (with a
/// line saying so, not an error: the records are recorded) when the node does not answer or
/// the index does not move for [`INDEX_STALL_MAX`].
pub fn wait_for_index(public: &str) {
    let behind = || public_status(public)?["index_behind"].as_u64();
    let mut last = (u64::MAX, std::time::Instant::now());
    let mut said = false;
    loop {
        let Some(now) = behind() else {
            eprintln!(
                "could not ask {public} whether the explorer has indexed the records; not waiting"
            );
            return;
        };
        if now == 0 {
            return;
        }
        if !said {
            eprintln!("the node's explorer is indexing {now} records; waiting for it");
            said = true;
        }
        if now < last.0 {
            last = (now, std::time::Instant::now());
        } else if last.1.elapsed() > INDEX_STALL_MAX {
            eprintln!("the node's explorer index has not moved for {INDEX_STALL_MAX:?} ({now} records to go); not waiting longer");
            return;
        }
        std::thread::sleep(INDEX_POLL);
    }
}

/// How many peers the node at public URL `public` says it is connected to.
fn connected_peers(public: &str) -> Option<usize> {
    public_status(public)?["peers"].as_array().map(Vec::len)
}

/// The node's `/api/status` at public URL `public`, or `None` when it does not answer JSON.
fn public_status(public: &str) -> Option<serde_json::Value> {
    let url = format!("{}/api/status", public.trim_end_matches('/'));
    crate::source::http_client()
        .get(url)
        .send()
        .ok()?
        .json()
        .ok()
}

#[derive(serde::Deserialize)]
struct Accepted {
    id: RecordId,
    seq: u64,
}

/// The node's answer to a key rotation.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub struct Rotated {
    /// The rotation record.
    pub id: RecordId,
    /// Its position in the organisation's chain; the new key signs from the next one.
    pub seq: u64,
    /// The new public key.
    pub new_key: PublicKey,
}

fn parse_answer<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, SubmitError> {
    serde_json::from_str(text).map_err(|error| SubmitError::Refused {
        status: 200,
        message: format!("unreadable answer: {error}"),
    })
}

#[derive(serde::Deserialize)]
struct Refusal {
    error: String,
}

impl SubmitTarget {
    /// Reads `endpoints.json` and `submit.token` from a running node's data directory.
    pub fn from_data_dir(dir: &Path) -> Result<SubmitTarget, SubmitError> {
        let node_files = |error: EndpointsError| SubmitError::NodeFiles {
            path: dir.display().to_string(),
            detail: error.to_string(),
        };
        let endpoints = Endpoints::read(dir).map_err(node_files)?;
        let token = read_token(dir).map_err(node_files)?;
        Ok(SubmitTarget {
            url: endpoints.submit,
            token,
            public_url: Some(endpoints.public),
        })
    }

    /// A target given by URL and token file.
    pub fn from_url(
        url: String,
        token_file: &Path,
        public_url: Option<String>,
    ) -> Result<SubmitTarget, SubmitError> {
        let token = read(token_file)?.trim().to_owned();
        Ok(SubmitTarget {
            url,
            token,
            public_url,
        })
    }

    /// Sends a body; returns the new record's id and seq once the node says it is durable.
    pub fn submit(&self, body: &Body) -> Result<(RecordId, u64), SubmitError> {
        let bytes = codec::encode(body);
        if bytes.len() > BODY_SIZE_BYTES_MAX {
            return Err(SubmitError::TooLarge {
                size_bytes: bytes.len(),
            });
        }
        let text = self
            .post("/v1/records", bytes)
            .map_err(|error| self.explain_missing_reference(error))?;
        let accepted: Accepted = parse_answer(&text)?;
        Ok((accepted.id, accepted.seq))
    }

    /// Sends many bodies through the batch endpoint (`POST /v1/records/batch`, FORMAT.md §20),
    /// at most `BATCH_RECORDS_MAX` and about [`BATCH_BODY_BYTES_TARGET`] bytes a request;
    /// returns each new record's id and seq in order, once the node says they are durable. The
    /// node checks every body of a request before it signs any of them, so a refused request
    /// recorded nothing; the requests before it stand ([`BatchSubmitError::recorded`]).
    pub fn submit_batch(&self, bodies: &[Body]) -> Result<Vec<(RecordId, u64)>, BatchSubmitError> {
        let mut recorded = Vec::with_capacity(bodies.len());
        let mut request: Vec<Vec<u8>> = Vec::new();
        let mut request_bytes = 0;
        for body in bodies {
            let bytes = codec::encode(body);
            if bytes.len() > BODY_SIZE_BYTES_MAX {
                let source = SubmitError::TooLarge {
                    size_bytes: bytes.len(),
                };
                return Err(BatchSubmitError { recorded, source });
            }
            let full = request.len() == BATCH_RECORDS_MAX
                || request_bytes + bytes.len() > BATCH_BODY_BYTES_TARGET;
            if full && !request.is_empty() {
                self.post_batch(&std::mem::take(&mut request), &mut recorded)?;
                request_bytes = 0;
            }
            request_bytes += bytes.len();
            request.push(bytes);
        }
        if !request.is_empty() {
            self.post_batch(&request, &mut recorded)?;
        }
        Ok(recorded)
    }

    /// Posts one batch request and adds its records to `recorded`.
    fn post_batch(
        &self,
        bodies: &[Vec<u8>],
        recorded: &mut Vec<(RecordId, u64)>,
    ) -> Result<(), BatchSubmitError> {
        let answer = self
            .post_encoded_batch(encode_batch(bodies), bodies.len())
            .map_err(|error| self.explain_missing_reference(error));
        match answer {
            Ok(records) => {
                recorded.extend(records);
                Ok(())
            }
            Err(source) => Err(BatchSubmitError {
                recorded: std::mem::take(recorded),
                source,
            }),
        }
    }

    /// Posts a request already in the batch framing (FORMAT.md §20) of `count` bodies; each
    /// new record's id and seq, in order, once the node says they are all durable.
    pub fn post_encoded_batch(
        &self,
        request: Vec<u8>,
        count: usize,
    ) -> Result<Vec<(RecordId, u64)>, SubmitError> {
        let text = self.post("/v1/records/batch", request)?;
        let answer: BatchAnswer = parse_answer(&text)?;
        if answer.records.len() != count {
            return Err(SubmitError::Refused {
                status: 200,
                message: format!(
                    "the node answered {} records for a batch of {count}",
                    answer.records.len()
                ),
            });
        }
        Ok(answer
            .records
            .into_iter()
            .map(|record| (record.id, record.seq))
            .collect())
    }

    /// A body that names a record the node does not hold (`… record ID not found`) usually
    /// names another organisation's record that has not reached this node: says so, with the
    /// number of peers the node is connected to (0: it cannot receive it at all).
    fn explain_missing_reference(&self, error: SubmitError) -> SubmitError {
        let SubmitError::Refused { status, message } = error else {
            return error;
        };
        if status != 400 || !message.ends_with(" not found") {
            return SubmitError::Refused { status, message };
        }
        let peers = self
            .public_url
            .as_deref()
            .and_then(connected_peers)
            .map_or_else(|| "unknown".to_owned(), |count| count.to_string());
        let message = format!(
            "{message}: the referenced record is not on this node yet; peers connected: {peers} \
             (another organisation's records arrive from peers: check --bootstrap, and that \
             every node's key is in the genesis' node_keys)"
        );
        SubmitError::Refused { status, message }
    }

    /// Asks the node to rotate its organisation's signing key (`POST /v1/key/rotate`): the node
    /// makes a new key, records the rotation signed by the old key with the new key's proof of
    /// possession, and signs with the new key from then on.
    pub fn rotate_key(&self) -> Result<Rotated, SubmitError> {
        let text = self.post("/v1/key/rotate", Vec::new())?;
        parse_answer(&text)
    }

    /// Posts `bytes` to `path` of the submit API; the answer's text on success.
    fn post(&self, path: &str, bytes: Vec<u8>) -> Result<String, SubmitError> {
        let url = format!("{}{path}", self.url.trim_end_matches('/'));
        let unreachable = |error: reqwest::Error| SubmitError::Unreachable {
            url: self.url.clone(),
            detail: error.to_string(),
        };
        let response = reqwest::blocking::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(unreachable)?
            .post(&url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()
            .map_err(unreachable)?;
        let status = response.status();
        let text = response.text().map_err(unreachable)?;
        if status.is_success() {
            return Ok(text);
        }
        let message = serde_json::from_str::<Refusal>(&text)
            .map(|refusal| refusal.error)
            .unwrap_or(text);
        let message = if status == reqwest::StatusCode::UNAUTHORIZED && message.is_empty() {
            "the submit token was refused".to_owned()
        } else if status == reqwest::StatusCode::NOT_FOUND && message.is_empty() {
            format!("the node has no {path}")
        } else {
            message
        };
        Err(SubmitError::Refused {
            status: status.as_u16(),
            message,
        })
    }
}

/// The answer to a batch request: every record's id and seq, in the request's order.
#[derive(serde::Deserialize)]
struct BatchAnswer {
    records: Vec<Accepted>,
}

fn read(path: &Path) -> Result<String, SubmitError> {
    std::fs::read_to_string(path).map_err(|error| SubmitError::NodeFiles {
        path: path.display().to_string(),
        detail: error.to_string(),
    })
}
