//! Signed notes (C2SP signed-note, FORMAT.md §23.1): a text followed by signature lines
//! `— <key name> <base64(key id ‖ signature)>`, and verifier keys (`vkey`s) in their text form
//! `<name>+<hex key id>+<base64(type ‖ public key)>`.
//!
//! Checkpoints (`checkpoint.rs`) and witness cosignatures (`cosignature.rs`) are notes. This
//! module parses and writes the text, derives key ids, signs with a key given as an argument
//! (no randomness: Ed25519 signing is deterministic) and verifies against keys the caller
//! trusts, by the rules of the C2SP text: signatures of unknown keys are ignored, a known key's
//! signature that fails rejects the note, and a note with no verified signature is rejected.
//! Parsing takes untrusted text: every size is bounded by a named limit and it never panics.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use crate::ids::{PublicKey, SignatureBytes};
use crate::limits::{
    NOTE_BYTES_MAX, NOTE_KEY_NAME_BYTES_MAX, NOTE_SIGNATURES_MAX, NOTE_SIGNATURE_BYTES_MAX,
};
use crate::signature::{check_public_key, verify_message};

/// The start of every signature line: em dash (U+2014) and a space.
pub const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";
/// Bytes of a key id at the start of a decoded signature (big endian u32).
pub const KEY_ID_BYTES: usize = 4;
/// Bytes of an Ed25519 signature.
pub const ED25519_SIGNATURE_BYTES: usize = 64;
/// Longest vkey read: a key name, two plus signs, 8 hex digits and the 48 base64 characters of
/// a type byte and a 32-byte key, with room to spare.
const VKEY_BYTES_MAX: usize = NOTE_KEY_NAME_BYTES_MAX + 64;

/// A signature type byte of C2SP signed-note that this crate verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `0x01`: Ed25519 over the note text (the organisations' checkpoint signatures).
    Ed25519,
    /// `0x04`: timestamped Ed25519 checkpoint cosignature, C2SP tlog-cosignature v1 (witnesses).
    Cosignature,
}

impl KeyType {
    /// The type's identifier byte.
    pub const fn byte(self) -> u8 {
        match self {
            KeyType::Ed25519 => 0x01,
            KeyType::Cosignature => 0x04,
        }
    }

    /// The type of an identifier byte, if this crate verifies it.
    pub const fn from_byte(byte: u8) -> Option<KeyType> {
        match byte {
            0x01 => Some(KeyType::Ed25519),
            0x04 => Some(KeyType::Cosignature),
            _ => None,
        }
    }
}

/// Why a note, a signature line or a verifier key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is longer than [`NOTE_BYTES_MAX`].
    #[error("the note is {bytes} bytes, over the limit of {max}")]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not UTF-8.
    #[error("the note is not UTF-8")]
    NotUtf8,
    /// A control character other than newline.
    #[error("control character U+{code:04X} at byte {offset}")]
    ControlCharacter {
        /// The character's code.
        code: u32,
        /// Its byte offset in the note.
        offset: usize,
    },
    /// The note (or a text to sign) does not end in a newline, or the text is empty.
    #[error("the note text must be non-empty and end in a newline")]
    MissingFinalNewline,
    /// No blank line separates the text from signature lines.
    #[error("no blank line before the signature lines")]
    NoSignatureBlock,
    /// More signature lines than [`NOTE_SIGNATURES_MAX`].
    #[error("{count} signature lines, over the limit of {max}")]
    TooManySignatures {
        /// Lines found (counting stops just past the limit).
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A signature line that does not follow the grammar.
    #[error("signature line {line}: {reason}")]
    MalformedSignatureLine {
        /// Its number, from 1.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A key name that is empty, too long, or holds a space or a plus.
    #[error("invalid key name: {reason}")]
    InvalidKeyName {
        /// What is wrong.
        reason: &'static str,
    },
    /// A verifier key that does not follow `<name>+<hex id>+<base64(type ‖ key)>`.
    #[error("invalid verifier key: {reason}")]
    InvalidVerifierKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// A signature of a trusted key (its name and key id match) that does not verify.
    #[error("the signature of {name} (key id {key_id:08x}) does not verify")]
    BadSignature {
        /// The key's name.
        name: String,
        /// The key's id.
        key_id: u32,
    },
    /// Two trusted keys share a name and a key id, so a signature cannot name one of them.
    #[error("two trusted keys are named {name} with key id {key_id:08x}")]
    AmbiguousKey {
        /// The shared name.
        name: String,
        /// The shared key id.
        key_id: u32,
    },
    /// No signature of a trusted key is on the note.
    #[error("no signature of a trusted key")]
    NoTrustedSignature,
    /// A cosignature timestamp over 2^63 - 1 (C2SP tlog-cosignature).
    #[error("cosignature timestamp {0} is over 2^63 - 1")]
    TimestampTooLarge(u64),
}

/// The key id of C2SP signed-note: the first four bytes, big endian, of
/// SHA-256(name ‖ 0x0A ‖ type byte ‖ public key).
pub fn key_id(name: &str, key_type: KeyType, public_key: &PublicKey) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([key_type.byte()]);
    hasher.update(public_key.0);
    let hash: [u8; 32] = hasher.finalize().into();
    u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]])
}

/// Checks a key name: 1 to [`NOTE_KEY_NAME_BYTES_MAX`] bytes, no Unicode space (the White_Space
/// property, as C2SP's "Unicode spaces") and no plus.
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.len() > NOTE_KEY_NAME_BYTES_MAX {
        "too long"
    } else if name.chars().any(char::is_whitespace) {
        "holds a space"
    } else if name.contains('+') {
        "holds a plus"
    } else {
        return Ok(());
    };
    Err(NoteError::InvalidKeyName { reason })
}

/// Checks the characters of a note or a note text: no control character but newline.
fn check_characters(text: &str) -> Result<(), NoteError> {
    // Control characters are ASCII, so a byte scan finds them without decoding.
    match text
        .bytes()
        .enumerate()
        .find(|(_, byte)| *byte < 0x20 && *byte != b'\n')
    {
        Some((offset, byte)) => Err(NoteError::ControlCharacter {
            code: u32::from(byte),
            offset,
        }),
        None => Ok(()),
    }
}

/// Checks a text before it is signed: non-empty, at most [`NOTE_BYTES_MAX`], ends in a newline,
/// no control character but newline.
pub fn check_text(text: &str) -> Result<(), NoteError> {
    if text.len() > NOTE_BYTES_MAX {
        return Err(NoteError::TooLarge {
            bytes: text.len(),
            max: NOTE_BYTES_MAX,
        });
    }
    check_characters(text)?;
    if !text.ends_with('\n') {
        return Err(NoteError::MissingFinalNewline);
    }
    Ok(())
}

/// One signature line of a note, as read: nothing is verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key id (the first four bytes of the decoded signature, big endian).
    pub key_id: u32,
    /// The signature bytes after the key id.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line without its final newline: `— <name> <base64(key id ‖ signature)>`.
    pub fn line(&self) -> String {
        let mut bytes = Vec::with_capacity(KEY_ID_BYTES + self.signature.len());
        bytes.extend_from_slice(&self.key_id.to_be_bytes());
        bytes.extend_from_slice(&self.signature);
        format!(
            "{SIGNATURE_LINE_PREFIX}{} {}",
            self.name,
            BASE64.encode(bytes)
        )
    }

    /// Reads one line (without its newline); `number` counts from 1, for the error.
    fn parse(line: &str, number: usize) -> Result<NoteSignature, NoteError> {
        let malformed = |reason| NoteError::MalformedSignatureLine {
            line: number,
            reason,
        };
        let rest = line
            .strip_prefix(SIGNATURE_LINE_PREFIX)
            .ok_or(malformed("does not start with an em dash and a space"))?;
        let (name, encoded) = rest
            .split_once(' ')
            .ok_or(malformed("no space between the key name and the signature"))?;
        check_key_name(name)
            .map_err(|_| malformed("the key name is empty, too long, or holds a space or plus"))?;
        // Checked before decoding so that a hostile line allocates no more than the limit.
        if encoded.len() > NOTE_SIGNATURE_BYTES_MAX.div_ceil(3) * 4 {
            return Err(malformed("the signature is over the size limit"));
        }
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| malformed("the signature is not standard padded base64"))?;
        if bytes.len() <= KEY_ID_BYTES {
            return Err(malformed(
                "the signature is shorter than a key id and one byte",
            ));
        }
        let (id, signature) = bytes.split_at(KEY_ID_BYTES);
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            signature: signature.to_vec(),
        })
    }
}

/// A signed note as read: its text and its signature lines, nothing verified yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The text, including its final newline, not the blank line after it.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Reads a note from bytes (they must be UTF-8).
    pub fn parse_bytes(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > NOTE_BYTES_MAX {
            return Err(NoteError::TooLarge {
                bytes: bytes.len(),
                max: NOTE_BYTES_MAX,
            });
        }
        Note::parse(std::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?)
    }

    /// Reads a note: the text is everything up to and including the newline before the last
    /// blank line; every line after that blank line is a signature line (at least one).
    pub fn parse(input: &str) -> Result<Note, NoteError> {
        if input.len() > NOTE_BYTES_MAX {
            return Err(NoteError::TooLarge {
                bytes: input.len(),
                max: NOTE_BYTES_MAX,
            });
        }
        check_characters(input)?;
        if !input.ends_with('\n') {
            return Err(NoteError::MissingFinalNewline);
        }
        let split = input.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
        let (text, block) = (&input[..=split], &input[split + 2..]);
        // The last blank line ends the text, so the block has no empty line; it may be empty
        // only if the note ends with the blank line, which leaves no signature.
        if block.is_empty() {
            return Err(NoteError::NoSignatureBlock);
        }
        let mut signatures = Vec::new();
        for (index, line) in block[..block.len() - 1].split('\n').enumerate() {
            if index >= NOTE_SIGNATURES_MAX {
                return Err(NoteError::TooManySignatures {
                    count: index + 1,
                    max: NOTE_SIGNATURES_MAX,
                });
            }
            signatures.push(NoteSignature::parse(line, index + 1)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note's text form: the text, a blank line, each signature line.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 1 + 120 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for signature in &self.signatures {
            out.push_str(&signature.line());
            out.push('\n');
        }
        out
    }

    /// Verifies the note against trusted keys. A signature line whose name and key id match no
    /// trusted key is ignored; one that matches must verify, else the whole note is refused
    /// ([`NoteError::BadSignature`]); at least one must match and verify. Returns one entry per
    /// trusted key that signed, in the order of `keys`.
    pub fn verify(&self, keys: &[VerifierKey]) -> Result<Vec<VerifiedSignature>, NoteError> {
        let mut verified: Vec<VerifiedSignature> = Vec::new();
        for signature in &self.signatures {
            let mut matching = keys
                .iter()
                .enumerate()
                .filter(|(_, key)| key.key_id == signature.key_id && key.name == signature.name);
            let Some((index, key)) = matching.next() else {
                continue;
            };
            if matching.next().is_some() {
                return Err(NoteError::AmbiguousKey {
                    name: key.name.clone(),
                    key_id: key.key_id,
                });
            }
            let timestamp = key
                .verify(&self.text, &signature.signature)
                .ok_or_else(|| NoteError::BadSignature {
                    name: key.name.clone(),
                    key_id: key.key_id,
                })?;
            // A key that signed twice (two valid lines) counts once, with its first line.
            if !verified.iter().any(|done| done.key_index == index) {
                verified.push(VerifiedSignature {
                    key_index: index,
                    timestamp,
                });
            }
        }
        if verified.is_empty() {
            return Err(NoteError::NoTrustedSignature);
        }
        verified.sort_by_key(|done| done.key_index);
        Ok(verified)
    }
}

/// A signature of a trusted key that verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Which of the trusted keys given to [`Note::verify`] signed.
    pub key_index: usize,
    /// A cosignature's timestamp (POSIX seconds); `None` for a plain Ed25519 signature.
    pub timestamp: Option<u64>,
}

/// A verifier key: a name, a type and an Ed25519 public key, with its derived key id.
///
/// Only key ids derived as C2SP recommends (and tlog-cosignature requires) are accepted, and
/// only public keys that pass the protocol's key check (FORMAT.md §3.5: canonical, not of small
/// order, torsion-free), so a key that verifies a note verifies it under §7.1's rule.
#[derive(Clone)]
pub struct VerifierKey {
    name: String,
    key_type: KeyType,
    key_id: u32,
    public_key: PublicKey,
    verifying_key: VerifyingKey,
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl PartialEq for VerifierKey {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.key_type == other.key_type
            && self.public_key == other.public_key
    }
}

impl Eq for VerifierKey {}

impl VerifierKey {
    /// A verifier key from its parts.
    pub fn new(name: &str, key_type: KeyType, public_key: PublicKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let verifying_key = check_public_key(&public_key)
            .map_err(|reason| NoteError::InvalidVerifierKey { reason })?;
        Ok(VerifierKey {
            name: name.to_owned(),
            key_type,
            key_id: key_id(name, key_type, &public_key),
            public_key,
            verifying_key,
        })
    }

    /// Reads a vkey: `<name>+<8 lowercase or uppercase hex digits>+<base64(type ‖ key)>`.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let invalid = |reason| NoteError::InvalidVerifierKey { reason };
        if vkey.len() > VKEY_BYTES_MAX {
            return Err(invalid("too long"));
        }
        // The name and the id hold no plus; the base64 after them may.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(encoded)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not three parts separated by plus signs"));
        };
        let mut id_bytes = [0u8; KEY_ID_BYTES];
        if id.len() != 2 * KEY_ID_BYTES || hex::decode_to_slice(id, &mut id_bytes).is_err() {
            return Err(invalid("the key id is not 8 hex digits"));
        }
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| invalid("the key is not standard padded base64"))?;
        let (&type_byte, key_bytes) = bytes.split_first().ok_or(invalid("the key is empty"))?;
        let key_type =
            KeyType::from_byte(type_byte).ok_or(invalid("a signature type not supported"))?;
        let public_key = PublicKey(
            key_bytes
                .try_into()
                .map_err(|_| invalid("an Ed25519 key is not 32 bytes"))?,
        );
        let key = VerifierKey::new(name, key_type, public_key)?;
        if key.key_id != u32::from_be_bytes(id_bytes) {
            return Err(invalid(
                "the key id is not the one derived from the name and key",
            ));
        }
        Ok(key)
    }

    /// The vkey text form (key id in lowercase hex).
    pub fn to_vkey(&self) -> String {
        let mut bytes = Vec::with_capacity(1 + 32);
        bytes.push(self.key_type.byte());
        bytes.extend_from_slice(&self.public_key.0);
        format!("{}+{:08x}+{}", self.name, self.key_id, BASE64.encode(bytes))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// Verifies one signature (the bytes after the key id) over a note text. `Some` when it
    /// verifies, with the cosignature's timestamp for a cosignature key.
    fn verify(&self, text: &str, signature: &[u8]) -> Option<Option<u64>> {
        match self.key_type {
            KeyType::Ed25519 => {
                let bytes: [u8; ED25519_SIGNATURE_BYTES] = signature.try_into().ok()?;
                verify_message(&self.verifying_key, text.as_bytes(), &SignatureBytes(bytes))
                    .then_some(None)
            }
            KeyType::Cosignature => {
                crate::cosignature::verify(&self.verifying_key, text, signature).map(Some)
            }
        }
    }
}

/// Signs a note text with an Ed25519 key (type `0x01`): the signature line of `name`.
pub fn sign(text: &str, name: &str, key: &SigningKey) -> Result<NoteSignature, NoteError> {
    use ed25519_dalek::Signer as _;
    check_text(text)?;
    check_key_name(name)?;
    let public_key = PublicKey(key.verifying_key().to_bytes());
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: key_id(name, KeyType::Ed25519, &public_key),
        signature: key.sign(text.as_bytes()).to_bytes().to_vec(),
    })
}
