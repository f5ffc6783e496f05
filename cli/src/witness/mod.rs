//! `aidledger witness` (issue 21): a witness that is not a writer. Each round it asks every
//! node it is given for every member organisation's checkpoint, opens each with the
//! organisation's keys (the genesis and governance records the node serves, checked against
//! the network id it trusts), and cosigns (C2SP tlog-cosignature) a checkpoint only when it
//! extends, by a verified consistency proof, the last one it cosigned of that origin. It
//! refuses a smaller or conflicting one and keeps the split-view proof two conflicting
//! checkpoints make. Its state is durable before a cosignature is served (`state`), and it
//! serves what it cosigned at `GET /api/witness` (`serve`).
//!
//! Work per round: one GET per (node, organisation); a note already seen from that node is
//! not opened again, nor is the same checkpoint with other signature lines (nodes serve the
//! cosigned checkpoints they collected, whose lines change as witnesses cosign). A new note costs one note verification, at most one consistency proof,
//! one signature, and the round's cosignatures are written in one state write.

pub mod fetch;
pub mod judge;
pub mod serve;
pub mod state;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aidledger_spec::checkpoint::{parse_origin, Checkpoint, SignedCheckpoint};
use aidledger_spec::cosignature;
use aidledger_spec::note::{self, KeyType, Note, NoteError, VerifierKey};
use aidledger_spec::NetworkId;
use ed25519_dalek::SigningKey;

use crate::consistency::OrgKeys;
use crate::keys::{self, KeyError};
use crate::packet::ProofFetchError;
use fetch::Fetcher;
use judge::{judge_checkpoint, Outcome};
use serve::Published;
use state::{Cosigned, State, StateDir, StateError};

/// Shortest time between the starts of two rounds.
pub const INTERVAL_MS_MIN: u64 = 100;
/// Longest time between the starts of two rounds (a day).
pub const INTERVAL_MS_MAX: u64 = 24 * 60 * 60 * 1000;
/// Most nodes one witness asks.
pub const NODES_MAX: usize = 64;
/// Largest config file read.
const CONFIG_BYTES_MAX: u64 = 64 * 1024;
/// How long the organisations' keys read from a node are used before they are read again (a
/// note that does not open with them is retried at once with fresh ones).
const KEYS_REFRESH: Duration = Duration::from_secs(60);
/// Most verifier keys kept made (every member's keys of a large network fit); past it the
/// cache starts again.
const VERIFIER_KEYS_MAX: usize = 16 * 1024;

/// Why the witness cannot start or go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The config file is missing, unreadable or wrong.
    #[error("config {path}: {detail}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The witness's key could not be made or read.
    #[error("witness key: {0}")]
    Key(String),
    /// The state could not be read or made durable: nothing more is cosigned.
    #[error(transparent)]
    State(#[from] StateError),
    /// The HTTP server could not start or stopped.
    #[error("the witness's HTTP server on {listen}: {detail}")]
    Serve {
        /// The address.
        listen: String,
        /// What failed.
        detail: String,
    },
    /// A cosignature could not be made.
    #[error("cosigning: {0}")]
    Sign(#[from] NoteError),
}

impl From<KeyError> for WitnessError {
    fn from(error: KeyError) -> WitnessError {
        WitnessError::Key(error.to_string())
    }
}

/// The config file (JSON; README "Witnesses" documents every field). Relative paths are
/// relative to the config file's directory.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The witness's name: the key name of its cosignatures (a schema-less URL is usual).
    pub name: String,
    /// Its key file (`aidledger witness key` writes one).
    pub key_file: PathBuf,
    /// The directory of its state file.
    pub state_dir: PathBuf,
    /// The network it witnesses, 64 hex.
    pub network_id: String,
    /// The nodes it asks (base URLs).
    pub nodes: Vec<String>,
    /// Where it serves `/api/witness` (host:port; port 0 picks a free one).
    pub listen: String,
    /// Milliseconds between the starts of two rounds.
    pub interval_ms: u64,
}

impl Config {
    /// Reads and checks a config file.
    pub fn read(path: &Path) -> Result<Config, WitnessError> {
        use std::io::Read as _;
        let error = |detail: String| WitnessError::Config {
            path: path.display().to_string(),
            detail,
        };
        let file = std::fs::File::open(path).map_err(|io| error(io.to_string()))?;
        let mut bytes = Vec::new();
        file.take(CONFIG_BYTES_MAX + 1)
            .read_to_end(&mut bytes)
            .map_err(|io| error(io.to_string()))?;
        if bytes.len() as u64 > CONFIG_BYTES_MAX {
            return Err(error(format!("over {CONFIG_BYTES_MAX} bytes")));
        }
        let mut config: Config =
            serde_json::from_slice(&bytes).map_err(|json| error(json.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.key_file = base.join(&config.key_file);
        config.state_dir = base.join(&config.state_dir);
        config.check().map_err(error)?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        note::check_key_name(&self.name).map_err(|problem| format!("name: {problem}"))?;
        self.network()?;
        if self.nodes.is_empty() || self.nodes.len() > NODES_MAX {
            return Err(format!("nodes: 1 to {NODES_MAX} node URLs"));
        }
        if let Some(node) = self
            .nodes
            .iter()
            .find(|node| !node.starts_with("http://") && !node.starts_with("https://"))
        {
            return Err(format!("nodes: {node:?} is not an http:// or https:// URL"));
        }
        if !(INTERVAL_MS_MIN..=INTERVAL_MS_MAX).contains(&self.interval_ms) {
            return Err(format!(
                "interval_ms: {} is not between {INTERVAL_MS_MIN} and {INTERVAL_MS_MAX}",
                self.interval_ms
            ));
        }
        Ok(())
    }

    /// The network id.
    pub fn network(&self) -> Result<NetworkId, String> {
        NetworkId::from_hex(self.network_id.trim())
            .map_err(|_| format!("network_id: {:?} is not 64 hex digits", self.network_id))
    }
}

/// `aidledger witness key`: a new key file at `out`; returns the witness's vkey (type
/// cosignature, C2SP) under `name`.
pub fn generate_key(name: &str, out: &Path) -> Result<String, WitnessError> {
    note::check_key_name(name)
        .map_err(|problem| WitnessError::Key(format!("--name: {problem}")))?;
    let public = keys::generate_key_file(out)?;
    Ok(VerifierKey::new(name, KeyType::Cosignature, public)?.to_vkey())
}

/// The organisations' keys as one node gives them, and the notes last seen from it.
#[derive(Default)]
struct NodeView {
    keys: Option<(OrgKeys, Instant)>,
    /// Per organisation, the note text last judged: the same text is not judged again.
    seen: HashMap<String, String>,
    /// Per organisation, the checkpoint text (the note before its blank line) of the last note
    /// that opened and was judged: the same checkpoint with other signature lines (a node
    /// that collected more cosignatures) is not judged again either.
    judged: HashMap<String, String>,
}

/// The checkpoint text of a note: everything before its blank line, with the final newline.
fn checkpoint_text_of(note: &str) -> Option<&str> {
    note.find("\n\n").map(|at| &note[..=at])
}

/// A witness: its key, its state, the nodes it asks.
pub struct Witness {
    name: String,
    key: SigningKey,
    vkey: String,
    network: NetworkId,
    nodes: Vec<String>,
    fetcher: Fetcher,
    state_dir: StateDir,
    state: State,
    views: Vec<NodeView>,
    published: Published,
    /// The organisations' keys as verifier keys, by (origin, key): a key's point checks cost
    /// about a signature verification, paid once, not at every note.
    verifier_keys: HashMap<(String, aidledger_spec::PublicKey), Option<VerifierKey>>,
}

/// What a round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Checkpoints cosigned.
    pub cosigned: usize,
    /// Checkpoints refused.
    pub refused: usize,
    /// Split-view proofs newly kept.
    pub split_views: usize,
}

impl Witness {
    /// The witness of `config`, with the state its state directory holds.
    pub fn open(config: &Config) -> Result<Witness, WitnessError> {
        let key = keys::read_key_file(&config.key_file)
            .map_err(|error| WitnessError::Key(error.to_string()))?;
        let public = aidledger_spec::signature::public_key_of(&key);
        let vkey = VerifierKey::new(&config.name, KeyType::Cosignature, public)?.to_vkey();
        let network = config.network().map_err(|detail| WitnessError::Config {
            path: String::new(),
            detail,
        })?;
        let state_dir = StateDir::open(&config.state_dir, &vkey, network)?;
        let state = state_dir.load()?;
        let published = Published::default();
        published.publish(&vkey, &state);
        Ok(Witness {
            name: config.name.clone(),
            key,
            vkey,
            network,
            nodes: config.nodes.clone(),
            fetcher: Fetcher::new().map_err(|error| WitnessError::Serve {
                listen: config.listen.clone(),
                detail: error.to_string(),
            })?,
            state_dir,
            state,
            views: config.nodes.iter().map(|_| NodeView::default()).collect(),
            published,
            verifier_keys: HashMap::new(),
        })
    }

    /// The witness's vkey.
    pub fn vkey(&self) -> &str {
        &self.vkey
    }

    /// The answer its server serves.
    pub fn published(&self) -> Published {
        self.published.clone()
    }

    /// The state (what it cosigned, the split views it kept).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// One round over every node and organisation; `log` gets one line per event. `Err` only
    /// when the state could not be made durable: the round's cosignatures are then not served.
    pub fn round(&mut self, log: &mut dyn FnMut(String)) -> Result<RoundReport, WitnessError> {
        let mut report = RoundReport::default();
        let mut changed = false;
        for index in 0..self.nodes.len() {
            changed |= self.node_round(index, log, &mut report)?;
        }
        if changed {
            self.state_dir.save(&self.state)?;
            self.published.publish(&self.vkey, &self.state);
        }
        Ok(report)
    }

    /// The organisations' keys from node `index`, read again when stale or `fresh`.
    fn refresh_keys(&mut self, index: usize, fresh: bool) -> Result<(), String> {
        let node = &self.nodes[index];
        let view = &mut self.views[index];
        if !fresh
            && view
                .keys
                .as_ref()
                .is_some_and(|(_, read)| read.elapsed() < KEYS_REFRESH)
        {
            return Ok(());
        }
        let (genesis, governance) = self
            .fetcher
            .genesis_and_governance(node)
            .map_err(|error| error.to_string())?;
        let keys = OrgKeys::new(&genesis, &governance, &self.network)
            .map_err(|error| error.to_string())?;
        view.keys = Some((keys, Instant::now()));
        Ok(())
    }

    fn node_round(
        &mut self,
        index: usize,
        log: &mut dyn FnMut(String),
        report: &mut RoundReport,
    ) -> Result<bool, WitnessError> {
        let node = self.nodes[index].clone();
        if let Err(error) = self.refresh_keys(index, false) {
            log(format!(
                "refused   {node}: cannot know the organisations' keys from it: {error}"
            ));
            return Ok(false);
        }
        let members = match &self.views[index].keys {
            Some((keys, _)) => keys.members(),
            None => return Ok(false),
        };
        let mut changed = false;
        for org in members {
            let text = match self.fetcher.checkpoint(&node, &org) {
                Ok(Some(text)) => text,
                Ok(None) => continue,
                Err(error @ ProofFetchError::Unreachable { .. }) => {
                    // One unreachable node must not cost a timeout per organisation.
                    log(format!(
                        "error     {node}: {error}; asking again next round"
                    ));
                    break;
                }
                Err(error) => {
                    log(format!(
                        "error     {node}: the checkpoint of {org}: {error}"
                    ));
                    continue;
                }
            };
            let view = &self.views[index];
            if view.seen.get(&org) == Some(&text)
                || checkpoint_text_of(&text).is_some_and(|checkpoint| {
                    view.judged.get(&org).map(String::as_str) == Some(checkpoint)
                })
            {
                continue;
            }
            changed |= self.judge_note(index, &node, &org, &text, log, report)?;
        }
        Ok(changed)
    }

    /// Opens, judges and cosigns or refuses one note; `true` when the state changed.
    fn judge_note(
        &mut self,
        index: usize,
        node: &str,
        org: &str,
        text: &str,
        log: &mut dyn FnMut(String),
        report: &mut RoundReport,
    ) -> Result<bool, WitnessError> {
        let mut opened = self.open_note(index, text);
        if opened.is_err() && self.refresh_keys(index, true).is_ok() {
            // The organisation may have rotated its key since the keys were read.
            opened = self.open_note(index, text);
        }
        let signed = match opened {
            Ok(signed) => signed,
            Err(error) => {
                log(format!(
                    "refused   {node}: its checkpoint of {org} is not one this network's organisation signed: {error}"
                ));
                report.refused += 1;
                self.views[index]
                    .seen
                    .insert(org.to_owned(), text.to_owned());
                return Ok(false);
            }
        };
        let origin = signed.checkpoint.origin.clone();
        let size = signed.checkpoint.size;
        let Some((keys, _)) = &self.views[index].keys else {
            return Ok(false);
        };
        let last = self.state.cosigned.get(&origin).map(|held| &held.signed);
        let outcome = match judge_checkpoint(keys, &self.fetcher, node, &signed, last) {
            Ok(outcome) => outcome,
            Err(error) => {
                log(format!(
                    "error     {node}: {origin} at {size}: could not check it ({error}); asking again next round"
                ));
                return Ok(false);
            }
        };
        let view = &mut self.views[index];
        view.seen.insert(org.to_owned(), text.to_owned());
        view.judged.insert(org.to_owned(), signed.note.text.clone());
        Ok(match outcome {
            Outcome::AlreadyCosigned => false,
            Outcome::Cosign { from } => {
                let cosigned = self.cosign(&signed)?;
                self.state
                    .cosigned
                    .insert(origin.clone(), Cosigned { signed: cosigned });
                let how = match from {
                    None => "the first of its origin".to_owned(),
                    Some(from) => {
                        format!("extends the {from} cosigned (consistency proof verified)")
                    }
                };
                log(format!(
                    "cosigned  {origin} at {size} records from {node}: {how}"
                ));
                report.cosigned += 1;
                true
            }
            Outcome::Refuse { reason, split_view } => {
                log(format!(
                    "refused   {node}: {origin} at {size} records: {reason}"
                ));
                report.refused += 1;
                match split_view {
                    Some(proof) if self.state.add_split_view(&proof) => {
                        log(format!(
                            "split view {origin}: two checkpoints its organisation signed cannot both be true; the proof is kept and served"
                        ));
                        report.split_views += 1;
                        true
                    }
                    Some(_) => false,
                    None => {
                        log(format!("no split-view proof for {origin}: the refusal rests on this witness's word"));
                        false
                    }
                }
            }
        })
    }

    /// Opens a note with the keys node `index` gives its organisation at the note's size
    /// (as `OrgKeys::open`), each key made a verifier key once for the witness's life.
    fn open_note(&mut self, index: usize, text: &str) -> Result<SignedCheckpoint, String> {
        let Some((keys, _)) = &self.views[index].keys else {
            return Err("no keys".into());
        };
        let note = Note::parse(text).map_err(|error| error.to_string())?;
        let checkpoint = Checkpoint::parse(&note.text).map_err(|error| error.to_string())?;
        let (_, org) = parse_origin(&checkpoint.origin).map_err(|error| error.to_string())?;
        let mut verifier_keys = Vec::new();
        for key in keys.keys_at(&org, checkpoint.size) {
            if self.verifier_keys.len() >= VERIFIER_KEYS_MAX {
                self.verifier_keys.clear();
            }
            let cached = self
                .verifier_keys
                .entry((checkpoint.origin.clone(), key))
                .or_insert_with(|| {
                    VerifierKey::new(&checkpoint.origin, KeyType::Ed25519, key).ok()
                });
            verifier_keys.extend(cached.clone());
        }
        SignedCheckpoint::open_with_verifier_keys(text, &self.network, &org, &verifier_keys)
            .map_err(|error| error.to_string())
    }

    /// The note as served: the checkpoint, the organisation's verified signature line, and
    /// this witness's cosignature (timestamp: now, in seconds).
    fn cosign(&self, signed: &SignedCheckpoint) -> Result<SignedCheckpoint, WitnessError> {
        let origin = &signed.checkpoint.origin;
        let org_key_id = note::key_id(origin, KeyType::Ed25519, &signed.signed_by);
        let mut signatures: Vec<_> = signed
            .note
            .signatures
            .iter()
            .filter(|line| line.name == *origin && line.key_id == org_key_id)
            .take(1)
            .cloned()
            .collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        signatures.push(cosignature::sign(
            &signed.note.text,
            &self.name,
            &self.key,
            now,
        )?);
        Ok(SignedCheckpoint {
            checkpoint: signed.checkpoint.clone(),
            note: Note {
                text: signed.note.text.clone(),
                signatures,
            },
            signed_by: signed.signed_by,
        })
    }
}

/// `aidledger witness --config FILE`: serves, then runs rounds until stopped (or the state
/// cannot be made durable, or the server stops).
pub fn run(config_path: &Path) -> Result<(), WitnessError> {
    let config = Config::read(config_path)?;
    let mut witness = Witness::open(&config)?;
    let (address, server) =
        serve::start(&config.listen, witness.published()).map_err(|error| WitnessError::Serve {
            listen: config.listen.clone(),
            detail: error.to_string(),
        })?;
    println!("witness {} listening on http://{address}", config.name);
    println!("witness key {}", witness.vkey());
    let interval = Duration::from_millis(config.interval_ms);
    loop {
        let started = Instant::now();
        witness.round(&mut |line| println!("{line}"))?;
        if server.is_finished() {
            let detail = match server.join() {
                Ok(Ok(())) => "it stopped".to_owned(),
                Ok(Err(error)) => error.to_string(),
                Err(_) => "it panicked".to_owned(),
            };
            return Err(WitnessError::Serve {
                listen: config.listen,
                detail,
            });
        }
        std::thread::sleep(interval.saturating_sub(started.elapsed()));
    }
}

#[cfg(test)]
mod tests {
    use super::checkpoint_text_of;

    #[test]
    fn the_checkpoint_text_is_the_note_before_its_blank_line() {
        let note = "origin\n5\nroot=\n\n— origin AAAA\n— witness BBBB\n";
        assert_eq!(checkpoint_text_of(note), Some("origin\n5\nroot=\n"));
        // More signature lines, the same checkpoint.
        let more = "origin\n5\nroot=\n\n— origin AAAA\n";
        assert_eq!(checkpoint_text_of(note), checkpoint_text_of(more));
        assert_eq!(checkpoint_text_of("no blank line\n"), None);
    }
}
