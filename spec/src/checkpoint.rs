//! Checkpoints (C2SP tlog-checkpoint, FORMAT.md §23): the signed head of one organisation's
//! chain as a Merkle tree (FORMAT.md §22): origin line, decimal tree size, base64 root hash.
//!
//! aidledger's origin names the network and the organisation:
//! `aidledger/<network id, 64 lowercase hex>/<organisation id>`, with `%` and `+` of the
//! organisation id written `%25` and `%2B` (an origin is also the key name of the
//! organisation's signature line, and key names hold no plus). The organisation signs with one
//! of its record signing keys (type `0x01`, key name = origin); the verifier is given the keys
//! the authority (genesis and governance, FORMAT.md §18) lets the organisation sign with.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;

use crate::ids::{Digest, NetworkId, PublicKey};
use crate::limits::{CHECKPOINT_EXTENSION_LINES_MAX, NOTE_BYTES_MAX};
use crate::note::{self, KeyType, Note, NoteError, VerifierKey};
use crate::text::check_org_id;

/// The first part of every aidledger origin.
pub const ORIGIN_PREFIX: &str = "aidledger/";
/// Hex digits of the network id in an origin.
const NETWORK_ID_HEX_DIGITS: usize = 64;
/// Characters of a root hash line: standard padded base64 of 32 bytes.
const ROOT_BASE64_CHARS: usize = 44;
/// Most characters of untrusted text quoted in an error (an origin is at most 459 bytes).
const QUOTED_CHARS_MAX: usize = 600;
/// Most characters of a tree size line quoted in an error (u64::MAX has 20 digits).
const QUOTED_SIZE_CHARS_MAX: usize = 40;

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note around it was refused.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// Fewer than three lines, or an empty line, or no final newline.
    #[error("checkpoint text: {0}")]
    Lines(&'static str),
    /// The tree size is not a decimal u64 without leading zeros.
    #[error("the tree size {0:?} is not a decimal number without leading zeros below 2^64")]
    Size(String),
    /// The root hash is not the base64 of 32 bytes.
    #[error("the root hash is not standard base64 of 32 bytes")]
    Root,
    /// More extension lines than [`CHECKPOINT_EXTENSION_LINES_MAX`].
    #[error("{0} extension lines, over the limit of {max}", max = CHECKPOINT_EXTENSION_LINES_MAX)]
    TooManyExtensions(usize),
    /// The origin is not an aidledger origin.
    #[error("the origin {origin:?} is not aidledger/<network id>/<organisation id>: {reason}")]
    Origin {
        /// The origin (cut to 600 bytes).
        origin: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The checkpoint is of another network or organisation than expected.
    #[error("the checkpoint's origin is {found:?}, expected {expected:?}")]
    WrongOrigin {
        /// The origin read.
        found: String,
        /// The origin expected.
        expected: String,
    },
    /// No key the verifier was given signed the checkpoint under the origin's name.
    #[error("not signed by a key of the organisation")]
    NotSignedByOrganisation,
}

/// The origin of an organisation's chain on a network.
pub fn origin(network: &NetworkId, org: &str) -> String {
    let mut out =
        String::with_capacity(ORIGIN_PREFIX.len() + NETWORK_ID_HEX_DIGITS + 1 + org.len());
    out.push_str(ORIGIN_PREFIX);
    out.push_str(&network.to_hex());
    out.push('/');
    for character in org.chars() {
        match character {
            '%' => out.push_str("%25"),
            '+' => out.push_str("%2B"),
            other => out.push(other),
        }
    }
    out
}

/// Reads an aidledger origin back into its network id and organisation id. Only the form
/// [`origin`] writes is accepted (lowercase hex, `%25` and `%2B` the only escapes), so each
/// (network, organisation) has exactly one origin.
pub fn parse_origin(text: &str) -> Result<(NetworkId, String), CheckpointError> {
    let error = |reason| CheckpointError::Origin {
        origin: text.chars().take(QUOTED_CHARS_MAX).collect(),
        reason,
    };
    let rest = text
        .strip_prefix(ORIGIN_PREFIX)
        .ok_or(error("it does not start with aidledger/"))?;
    let (hex, escaped) = rest
        .split_once('/')
        .ok_or(error("no / after the network id"))?;
    if hex.len() != NETWORK_ID_HEX_DIGITS
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(error("the network id is not 64 lowercase hex digits"));
    }
    let network = NetworkId::from_hex(hex).map_err(|_| error("the network id is not hex"))?;
    if escaped.contains('+') {
        return Err(error("a plus that is not written %2B"));
    }
    let mut org = String::with_capacity(escaped.len());
    let mut pieces = escaped.split('%');
    if let Some(first) = pieces.next() {
        org.push_str(first);
    }
    for piece in pieces {
        if let Some(after) = piece.strip_prefix("25") {
            org.push('%');
            org.push_str(after);
        } else if let Some(after) = piece.strip_prefix("2B") {
            org.push('+');
            org.push_str(after);
        } else {
            return Err(error("a % that is not %25 or %2B"));
        }
    }
    check_org_id("origin", &org).map_err(|_| error("not a valid organisation id"))?;
    Ok((network, org))
}

/// A checkpoint body: what the note text says, nothing verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The origin line.
    pub origin: String,
    /// The tree size: the number of records the tree commits to.
    pub size: u64,
    /// The root hash of the tree of that size.
    pub root: Digest,
    /// Extension lines, opaque (aidledger writes none; C2SP allows them).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The checkpoint of an organisation's chain at `size` records with root `root`.
    pub fn new(network: &NetworkId, org: &str, size: u64, root: Digest) -> Checkpoint {
        Checkpoint {
            origin: origin(network, org),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Reads a checkpoint note text (the part before the blank line): at least three
    /// non-empty lines, each ending in a newline.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        note::check_text(text)?;
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Lines("no final newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Lines("fewer than three lines"));
        };
        let mut extensions = Vec::new();
        for line in lines {
            if extensions.len() == CHECKPOINT_EXTENSION_LINES_MAX {
                return Err(CheckpointError::TooManyExtensions(extensions.len() + 1));
            }
            extensions.push(line.to_owned());
        }
        if origin.is_empty() || size.is_empty() || root.is_empty() {
            return Err(CheckpointError::Lines("an empty line"));
        }
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Lines("an empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size: parse_size(size)?,
            root: parse_root(root)?,
            extensions,
        })
    }

    /// Reads the checkpoint of a whole signed note's text (the note's text part, section
    /// 23.1), its signatures not checked: for what a reader needs before it knows the keys (the
    /// origin, the size) or of a note it checked before. [`SignedCheckpoint::open`] checks.
    pub fn of_note(note_text: &str) -> Result<Checkpoint, CheckpointError> {
        Checkpoint::parse(&note::Note::parse(note_text)?.text)
    }

    /// The note text: origin, size, base64 root, extension lines, each ending in a newline.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root.0)
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// The network id and organisation id of an aidledger origin.
    pub fn chain(&self) -> Result<(NetworkId, String), CheckpointError> {
        parse_origin(&self.origin)
    }

    /// Signs the checkpoint as its organisation: a note with one signature line whose key
    /// name is the origin.
    pub fn sign(&self, key: &SigningKey) -> Result<Note, CheckpointError> {
        let text = self.text();
        let signature = note::sign(&text, &self.origin, key)?;
        Ok(Note {
            text,
            signatures: vec![signature],
        })
    }
}

fn parse_size(text: &str) -> Result<u64, CheckpointError> {
    let error = || CheckpointError::Size(text.chars().take(QUOTED_SIZE_CHARS_MAX).collect());
    if !text.bytes().all(|byte| byte.is_ascii_digit()) || (text.len() > 1 && text.starts_with('0'))
    {
        return Err(error());
    }
    text.parse().map_err(|_| error())
}

fn parse_root(text: &str) -> Result<Digest, CheckpointError> {
    // Checked first so that a long line is not decoded.
    if text.len() != ROOT_BASE64_CHARS {
        return Err(CheckpointError::Root);
    }
    let bytes = BASE64.decode(text).map_err(|_| CheckpointError::Root)?;
    Ok(Digest(bytes.try_into().map_err(|_| CheckpointError::Root)?))
}

/// Parses a note of `network`'s organisation `org`'s chain: size bound, note, checkpoint, and
/// the origin that chain's.
fn parse_of_chain(
    note_text: &str,
    network: &NetworkId,
    org: &str,
) -> Result<(Note, Checkpoint), CheckpointError> {
    if note_text.len() > NOTE_BYTES_MAX {
        return Err(NoteError::TooLarge {
            bytes: note_text.len(),
            max: NOTE_BYTES_MAX,
        }
        .into());
    }
    let note = Note::parse(note_text)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    let expected = origin(network, org);
    if checkpoint.origin != expected {
        return Err(CheckpointError::WrongOrigin {
            found: checkpoint.origin.chars().take(QUOTED_CHARS_MAX).collect(),
            expected,
        });
    }
    Ok((note, checkpoint))
}

/// A checkpoint whose organisation's signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The whole note (the organisation's line, and any cosignatures, still unverified).
    pub note: Note,
    /// The organisation's key that verified.
    pub signed_by: PublicKey,
}

impl SignedCheckpoint {
    /// Opens a checkpoint note of `network`'s organisation `org`, which may sign with any of
    /// `org_keys` (its record signing keys the authority allows at the checkpoint's size).
    /// The origin must be that organisation's; one of the keys must have signed under the
    /// origin's name (type `0x01`). Other signature lines are ignored here (cosignatures are
    /// checked by [`crate::cosignature::WitnessPolicy::check`]).
    pub fn open(
        note_text: &str,
        network: &NetworkId,
        org: &str,
        org_keys: &[PublicKey],
    ) -> Result<SignedCheckpoint, CheckpointError> {
        let (note, checkpoint) = parse_of_chain(note_text, network, org)?;
        SignedCheckpoint::verify(note, checkpoint, org_keys)
    }

    /// [`SignedCheckpoint::open`] with the organisation's keys already made verifier keys:
    /// one who opens many notes of a chain (a witness) checks each key once (FORMAT.md §7.1's
    /// point checks cost about a signature verification), not at every note. Only keys named
    /// by this chain's origin, of type `0x01`, are trusted; any other given is ignored.
    pub fn open_with_verifier_keys(
        note_text: &str,
        network: &NetworkId,
        org: &str,
        org_keys: &[VerifierKey],
    ) -> Result<SignedCheckpoint, CheckpointError> {
        let (note, checkpoint) = parse_of_chain(note_text, network, org)?;
        let keys: Vec<VerifierKey> = org_keys
            .iter()
            .filter(|key| key.name() == checkpoint.origin && key.key_type() == KeyType::Ed25519)
            .cloned()
            .collect();
        SignedCheckpoint::verify_with(note, checkpoint, &keys)
    }

    /// Checks the organisation's signature of an already parsed checkpoint note.
    fn verify(
        note: Note,
        checkpoint: Checkpoint,
        org_keys: &[PublicKey],
    ) -> Result<SignedCheckpoint, CheckpointError> {
        // Keys the protocol refuses (small order, torsion) cannot be an organisation's.
        let keys: Vec<VerifierKey> = org_keys
            .iter()
            .filter_map(|key| VerifierKey::new(&checkpoint.origin, KeyType::Ed25519, *key).ok())
            .collect();
        SignedCheckpoint::verify_with(note, checkpoint, &keys)
    }

    /// Checks the note's signature by one of `keys` (the origin's, type `0x01`).
    fn verify_with(
        note: Note,
        checkpoint: Checkpoint,
        keys: &[VerifierKey],
    ) -> Result<SignedCheckpoint, CheckpointError> {
        let verified = match note.verify(keys) {
            Ok(verified) => verified,
            Err(NoteError::NoTrustedSignature) => {
                return Err(CheckpointError::NotSignedByOrganisation)
            }
            Err(error) => return Err(error.into()),
        };
        let signed_by = verified
            .first()
            .and_then(|done| keys.get(done.key_index))
            .map(|key| *key.public_key())
            .ok_or(CheckpointError::NotSignedByOrganisation)?;
        Ok(SignedCheckpoint {
            checkpoint,
            note,
            signed_by,
        })
    }

    /// Opens a checkpoint note of whatever aidledger origin it names, signed by one of
    /// `org_keys` (the split-view check, which learns the chain from the notes themselves).
    pub fn open_any(
        note_text: &str,
        org_keys: &[PublicKey],
    ) -> Result<SignedCheckpoint, CheckpointError> {
        let note = Note::parse(note_text)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        checkpoint.chain()?;
        SignedCheckpoint::verify(note, checkpoint, org_keys)
    }
}
