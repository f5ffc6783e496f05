//! The poller of witnesses (`--witness URL`): every interval, for each witness, `GET
//! {witness}/api/witness` (JSON: the witness's vkey, the latest checkpoint it cosigned per
//! origin as a note with its cosignature, and the split-view proofs it holds, hex), each
//! checkpoint and proof handed to [`Witnessed`]. A witness that does not answer, or answers
//! garbage, is logged and asked again next round; it never stops the node.
//!
//! A thread of its own with a blocking HTTP client: a round is a few requests and signature
//! checks, and it must not hold an async worker. A checkpoint text seen in the last round with
//! nothing new in it is not checked again.

use std::collections::{HashMap, HashSet};
use std::io::Read as _;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use aidledger_spec::limits::NOTE_BYTES_MAX;

use super::{sha256, Accepted, Witnessed};

/// Default time between two polls of the witnesses.
pub const WITNESS_POLL_INTERVAL_MS: u64 = 5_000;
/// How long one request to a witness may take.
pub const WITNESS_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Most checkpoints and split-view proofs read from one answer of a witness.
pub const WITNESS_ANSWER_ITEMS_MAX: usize = 1024;
/// Most bytes of one answer of a witness: as many notes of the largest size would be more
/// than any network has; a witness of 100 organisations answers well under 100 KiB.
pub const WITNESS_ANSWER_BYTES_MAX: u64 = 4 * NOTE_BYTES_MAX as u64 + 16 * 1024 * 1024;

/// A witness's answer (Part W's `/api/witness`).
#[derive(Debug, serde::Deserialize)]
struct WitnessAnswer {
    /// The witness's vkey (logged only: the witness policy says which keys count).
    witness: String,
    #[serde(default)]
    checkpoints: Vec<String>,
    #[serde(default)]
    split_views: Vec<String>,
}

/// What a witness's base URL looks like, for messages.
pub const WITNESS_URL_FORM: &str =
    "its base URL, http://HOST[:PORT][/PATH] or https://…, to which the node appends /api/witness";

/// Why `witness` cannot be a witness's base URL (`--witness`), if it cannot: it must be an
/// http:// or https:// URL, and without a query or fragment, since [`fetch`] appends
/// `/api/witness` to it. Checked at start: otherwise a typo only shows as a line logged at
/// every poll.
pub fn check_witness_url(witness: &str) -> Result<(), String> {
    const NOT_HTTP: &str = "does not start with http:// or https://";
    let url = reqwest::Url::parse(witness).map_err(|error| {
        if witness.contains("://") {
            format!("is not a URL ({error})")
        } else {
            NOT_HTTP.to_owned()
        }
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(NOT_HTTP.into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("has a ?query or #fragment, which /api/witness cannot follow".into());
    }
    Ok(())
}

/// Starts polling `witnesses` every `interval` until `stop`'s sender is dropped (or sends).
pub fn spawn(
    witnessed: Arc<Witnessed>,
    witnesses: Vec<String>,
    interval: Duration,
    stop: Receiver<()>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("aidledger-witnesses".into())
        .spawn(move || {
            let client = match reqwest::blocking::Client::builder()
                .timeout(WITNESS_REQUEST_TIMEOUT)
                .build()
            {
                Ok(client) => client,
                Err(error) => {
                    crate::log_line!("aidledger-node: cannot poll witnesses: {error}");
                    return;
                }
            };
            let mut seen: HashMap<String, HashSet<[u8; 32]>> = HashMap::new();
            loop {
                for witness in &witnesses {
                    let last = seen.remove(witness).unwrap_or_default();
                    let now = poll_one(&witnessed, &client, witness, &last);
                    seen.insert(witness.clone(), now);
                }
                if let Err(error) = witnessed.flush() {
                    crate::log_line!(
                        "aidledger-node: what witnesses showed is not durable yet: {error}"
                    );
                }
                match stop.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        })
}

/// Polls one witness; returns the hashes of the checkpoint texts that need no new look.
fn poll_one(
    witnessed: &Witnessed,
    client: &reqwest::blocking::Client,
    witness: &str,
    last: &HashSet<[u8; 32]>,
) -> HashSet<[u8; 32]> {
    let mut settled = HashSet::new();
    let answer = match fetch(client, witness) {
        Ok(answer) => answer,
        Err(reason) => {
            crate::log_line!("aidledger-node: witness {witness}: {reason}");
            return last.clone();
        }
    };
    for note in answer.checkpoints.iter().take(WITNESS_ANSWER_ITEMS_MAX) {
        let hash = sha256(note.as_bytes());
        if last.contains(&hash) {
            settled.insert(hash);
            continue;
        }
        match witnessed.accept_checkpoint(note) {
            Ok(Accepted::Undecided(reason)) => {
                crate::log_line!(
                    "aidledger-node: witness {witness}: a checkpoint not judged yet: {reason}"
                );
            }
            Ok(Accepted::SplitView(new)) => {
                if new {
                    crate::log_line!(
                        "aidledger-node: witness {witness} ({}) showed a checkpoint that cannot \
                         be true with the one this node holds: a split-view proof was stored",
                        answer.witness
                    );
                }
                settled.insert(hash);
            }
            Ok(_) => {
                settled.insert(hash);
            }
            Err(error) => {
                crate::log_line!(
                    "aidledger-node: witness {witness}: a checkpoint refused: {error}"
                );
                settled.insert(hash);
            }
        }
    }
    for proof in answer.split_views.iter().take(WITNESS_ANSWER_ITEMS_MAX) {
        let Ok(bytes) = hex::decode(proof) else {
            crate::log_line!("aidledger-node: witness {witness}: a split-view proof is not hex");
            continue;
        };
        match witnessed.store().has_split_view(&bytes) {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => {
                crate::log_line!("aidledger-node: witness {witness}: {error}");
                continue;
            }
        }
        match witnessed.accept_split_view(&bytes) {
            Ok((view, true)) => crate::log_line!(
                "aidledger-node: witness {witness}: a split-view proof of {}'s chain (sizes {} and {}) stored",
                view.org, view.first.size, view.second.size
            ),
            Ok(_) => {}
            Err(error) => {
                crate::log_line!("aidledger-node: witness {witness}: a split-view proof refused: {error}")
            }
        }
    }
    settled
}

/// Reads one witness's answer, bounded.
fn fetch(client: &reqwest::blocking::Client, witness: &str) -> Result<WitnessAnswer, String> {
    let url = format!("{}/api/witness", witness.trim_end_matches('/'));
    let response = client
        .get(&url)
        .send()
        .map_err(|error| format!("no answer from {url}: {error}"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let mut body = Vec::new();
    response
        .take(WITNESS_ANSWER_BYTES_MAX + 1)
        .read_to_end(&mut body)
        .map_err(|error| format!("reading {url}: {error}"))?;
    if body.len() as u64 > WITNESS_ANSWER_BYTES_MAX {
        return Err(format!(
            "{url} answered more than {WITNESS_ANSWER_BYTES_MAX} bytes"
        ));
    }
    serde_json::from_slice(&body)
        .map_err(|error| format!("{url} answered no witness JSON: {error}"))
}

#[cfg(test)]
mod tests {
    use super::check_witness_url;

    #[test]
    fn a_witness_is_an_http_or_https_base_url() {
        for witness in [
            "http://127.0.0.1:7500",
            "http://127.0.0.1:7500/",
            "https://witness.example.org/w1/",
            "http://[::1]:7500",
        ] {
            assert_eq!(check_witness_url(witness), Ok(()), "{witness}");
        }
        let cases = [
            ("notaurl", "does not start with http:// or https://"),
            (
                "witness.example.org",
                "does not start with http:// or https://",
            ),
            ("localhost:7500", "does not start with http:// or https://"),
            (
                "ftp://witness.example.org",
                "does not start with http:// or https://",
            ),
            ("", "does not start with http:// or https://"),
            ("http://", "is not a URL (empty host)"),
            ("http://wit ness", "is not a URL"),
            ("https://witness.example.org/?key=1", "?query or #fragment"),
            ("https://witness.example.org/#top", "?query or #fragment"),
        ];
        for (witness, reason) in cases {
            let refused = check_witness_url(witness).expect_err(witness);
            assert!(refused.contains(reason), "{witness}: {refused}");
        }
    }
}
