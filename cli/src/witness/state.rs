//! A witness's durable state (issue 21): per origin the latest checkpoint note it cosigned
//! (with its own cosignature line) and the organisation key that signed it, and the split-view
//! proofs it built. One JSON file in the state directory, replaced atomically (written to a
//! temporary file, synced, renamed over the old one, the directory synced): after a crash the
//! file is the old state or the new, never a mix. A cosignature is served only once the state
//! that holds it is durable, so a witness restarted with the same state never cosigns what
//! contradicts a cosignature it gave, and refuses again what it refused.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use aidledger_spec::checkpoint::{Checkpoint, SignedCheckpoint};
use aidledger_spec::codec::Codec;
use aidledger_spec::limits::NOTE_BYTES_MAX;
use aidledger_spec::note::Note;
use aidledger_spec::splitview::SplitViewProof;
use aidledger_spec::{NetworkId, PublicKey};

/// The state file's name in the state directory.
pub const STATE_FILE: &str = "witness-state.json";
/// The temporary file a new state is written to before it replaces the old.
const STATE_TEMP_FILE: &str = "witness-state.json.tmp";
/// The state file's format version.
const STATE_VERSION: u32 = 1;
/// Most origins a witness keeps (a network has at most 1024 members, FORMAT.md §18.6).
pub const ORIGINS_MAX: usize = 4096;
/// Most split-view proofs a witness keeps; one more is logged and not kept.
pub const SPLIT_VIEWS_MAX: usize = 1024;
/// Largest state file read: every origin's note and every split view at their bounds would be
/// far larger, so real states are far below this; a larger file is refused, not read.
const STATE_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Reading, writing or syncing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a witness state of this witness and network.
    #[error("{path} is not a usable witness state: {detail}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
}

/// The checkpoint a witness last cosigned for one origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosigned {
    /// The note as served: the checkpoint, the organisation's signature line, this witness's
    /// cosignature line.
    pub signed: SignedCheckpoint,
}

impl Cosigned {
    /// The note's text.
    pub fn text(&self) -> String {
        self.signed.note.to_text()
    }
}

/// What the file holds.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    /// The witness's vkey: a state is one witness's.
    witness: String,
    /// The network id, hex.
    network_id: String,
    /// Per origin, the cosigned note and the organisation key that signed it (hex).
    cosigned: BTreeMap<String, CosignedEntry>,
    /// Split-view proofs, hex of their canonical bytes (FORMAT.md §25.1).
    split_views: Vec<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CosignedEntry {
    note: String,
    signed_by: String,
}

/// A witness's state in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// Per origin, the latest checkpoint cosigned.
    pub cosigned: BTreeMap<String, Cosigned>,
    /// Split-view proofs built, canonical bytes, each once, in the order found.
    pub split_views: Vec<Vec<u8>>,
}

impl State {
    /// Keeps a split-view proof unless it is kept already; `false` when it was not kept
    /// (already there, or the bound reached).
    pub fn add_split_view(&mut self, proof: &SplitViewProof) -> bool {
        let bytes = proof.to_bytes();
        if self.split_views.contains(&bytes) || self.split_views.len() >= SPLIT_VIEWS_MAX {
            return false;
        }
        self.split_views.push(bytes);
        true
    }
}

/// Where a witness keeps its state, and whose it is.
pub struct StateDir {
    dir: PathBuf,
    witness: String,
    network: NetworkId,
}

impl StateDir {
    /// The state directory `dir` (created if missing) of the witness `witness` (its vkey) on
    /// `network`.
    pub fn open(dir: &Path, witness: &str, network: NetworkId) -> Result<StateDir, StateError> {
        std::fs::create_dir_all(dir).map_err(|source| StateError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(StateDir {
            dir: dir.to_owned(),
            witness: witness.to_owned(),
            network,
        })
    }

    /// The state file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// Reads the state; an empty one when there is no file yet.
    pub fn load(&self) -> Result<State, StateError> {
        use std::io::Read as _;
        let path = self.path();
        let shown = path.display().to_string();
        let invalid = |detail: String| StateError::Invalid {
            path: shown.clone(),
            detail,
        };
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(State::default())
            }
            Err(source) => {
                return Err(StateError::Io {
                    path: shown,
                    source,
                })
            }
        };
        let mut bytes = Vec::new();
        file.take(STATE_BYTES_MAX + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| StateError::Io {
                path: shown.clone(),
                source,
            })?;
        if bytes.len() as u64 > STATE_BYTES_MAX {
            return Err(invalid(format!("over {STATE_BYTES_MAX} bytes")));
        }
        let file: StateFile =
            serde_json::from_slice(&bytes).map_err(|error| invalid(error.to_string()))?;
        if file.version != STATE_VERSION {
            return Err(invalid(format!("version {}", file.version)));
        }
        if file.witness != self.witness {
            return Err(invalid(format!(
                "it is the state of witness {}, not of {}",
                file.witness, self.witness
            )));
        }
        if file.network_id != self.network.to_hex() {
            return Err(invalid(format!(
                "it is the state of network {}, not of {}",
                file.network_id, self.network
            )));
        }
        if file.cosigned.len() > ORIGINS_MAX || file.split_views.len() > SPLIT_VIEWS_MAX {
            return Err(invalid(
                "more origins or split views than a witness keeps".into(),
            ));
        }
        let mut state = State::default();
        for (origin, entry) in file.cosigned {
            // The witness verified the note when it cosigned it; it is read back, not trusted
            // anew: a damaged note is refused here.
            let signed = read_cosigned(&entry)
                .map_err(|detail| invalid(format!("the note of {origin}: {detail}")))?;
            if signed.checkpoint.origin != origin {
                return Err(invalid(format!(
                    "the note under {origin} is of another origin"
                )));
            }
            state.cosigned.insert(origin, Cosigned { signed });
        }
        for hex in file.split_views {
            let bytes = hex::decode(&hex).map_err(|_| invalid("a split view is not hex".into()))?;
            SplitViewProof::from_bytes(&bytes)
                .map_err(|error| invalid(format!("a split view does not decode: {error}")))?;
            state.split_views.push(bytes);
        }
        Ok(state)
    }

    /// Replaces the state file with `state`, durably, before returning.
    pub fn save(&self, state: &State) -> Result<(), StateError> {
        let file = StateFile {
            version: STATE_VERSION,
            witness: self.witness.clone(),
            network_id: self.network.to_hex(),
            cosigned: state
                .cosigned
                .iter()
                .map(|(origin, cosigned)| {
                    (
                        origin.clone(),
                        CosignedEntry {
                            note: cosigned.text(),
                            signed_by: cosigned.signed.signed_by.to_hex(),
                        },
                    )
                })
                .collect(),
            split_views: state.split_views.iter().map(hex::encode).collect(),
        };
        let mut text =
            serde_json::to_string_pretty(&file).map_err(|error| StateError::Invalid {
                path: self.path().display().to_string(),
                detail: error.to_string(),
            })?;
        text.push('\n');
        let temp = self.dir.join(STATE_TEMP_FILE);
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StateError::Io { path, source }
        };
        let mut out = std::fs::File::create(&temp).map_err(io(&temp))?;
        out.write_all(text.as_bytes()).map_err(io(&temp))?;
        out.sync_all().map_err(io(&temp))?;
        drop(out);
        std::fs::rename(&temp, self.path()).map_err(io(&self.path()))?;
        // The rename is durable only once the directory is.
        std::fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io(&self.dir))
    }
}

fn read_cosigned(entry: &CosignedEntry) -> Result<SignedCheckpoint, String> {
    if entry.note.len() > NOTE_BYTES_MAX {
        return Err(format!("over {NOTE_BYTES_MAX} bytes"));
    }
    let note = Note::parse(&entry.note).map_err(|error| error.to_string())?;
    let checkpoint = Checkpoint::parse(&note.text).map_err(|error| error.to_string())?;
    let signed_by =
        PublicKey::from_hex(&entry.signed_by).map_err(|_| "signed_by is not a key".to_owned())?;
    Ok(SignedCheckpoint {
        checkpoint,
        note,
        signed_by,
    })
}
