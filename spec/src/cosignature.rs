//! Witness cosignatures (C2SP tlog-cosignature, `cosignature/v1`, FORMAT.md §24) and witness
//! policies: k of n named witnesses must have cosigned a checkpoint.
//!
//! A cosignature is a note signature of type `0x04` over the message
//! `cosignature/v1\ntime <t>\n` ‖ checkpoint text; its bytes are the 8-byte big-endian
//! timestamp ‖ the 64-byte Ed25519 signature. A witness states by it that, at time t, the
//! checkpoint was the largest consistent tree it had seen of that origin.

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::ids::{PublicKey, SignatureBytes};
use crate::limits::WITNESSES_MAX;
use crate::note::{
    check_key_name, check_text, key_id, KeyType, Note, NoteError, NoteSignature, VerifierKey,
    ED25519_SIGNATURE_BYTES,
};
use crate::signature::verify_message;

/// The header line of the signed message, with its newline.
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1\n";
/// Bytes of a cosignature after the key id: the timestamp and the Ed25519 signature.
pub const COSIGNATURE_BYTES: usize = TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES;
/// Bytes of the timestamp (u64, big endian, as C2SP's `timestamped_signature`).
pub const TIMESTAMP_BYTES: usize = 8;
/// The largest timestamp C2SP allows: 2^63 - 1.
pub const TIMESTAMP_MAX: u64 = i64::MAX as u64;

/// The message a witness signs: the header, `time <t>` and the checkpoint text (every line
/// of the note before its blank line, with the final newline).
pub fn signed_message(checkpoint_text: &str, timestamp: u64) -> Vec<u8> {
    let time_line = format!("time {timestamp}\n");
    let mut message =
        Vec::with_capacity(COSIGNATURE_V1_HEADER.len() + time_line.len() + checkpoint_text.len());
    message.extend_from_slice(COSIGNATURE_V1_HEADER.as_bytes());
    message.extend_from_slice(time_line.as_bytes());
    message.extend_from_slice(checkpoint_text.as_bytes());
    message
}

/// Cosigns a checkpoint text at `timestamp` (POSIX seconds) as the witness `name`.
pub fn sign(
    checkpoint_text: &str,
    name: &str,
    key: &SigningKey,
    timestamp: u64,
) -> Result<NoteSignature, NoteError> {
    use ed25519_dalek::Signer as _;
    check_text(checkpoint_text)?;
    check_key_name(name)?;
    if timestamp > TIMESTAMP_MAX {
        return Err(NoteError::TimestampTooLarge(timestamp));
    }
    let public_key = PublicKey(key.verifying_key().to_bytes());
    let mut signature = Vec::with_capacity(COSIGNATURE_BYTES);
    signature.extend_from_slice(&timestamp.to_be_bytes());
    signature.extend_from_slice(
        &key.sign(&signed_message(checkpoint_text, timestamp))
            .to_bytes(),
    );
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: key_id(name, KeyType::Cosignature, &public_key),
        signature,
    })
}

/// Verifies a cosignature's bytes (after the key id) over a checkpoint text: `Some(timestamp)`
/// when it verifies. Refused: any length but 72, a timestamp over 2^63 - 1, a bad signature.
pub(crate) fn verify(key: &VerifyingKey, checkpoint_text: &str, bytes: &[u8]) -> Option<u64> {
    let bytes: &[u8; COSIGNATURE_BYTES] = bytes.try_into().ok()?;
    let (time, signature) = bytes.split_at(TIMESTAMP_BYTES);
    let timestamp = u64::from_be_bytes(time.try_into().ok()?);
    if timestamp > TIMESTAMP_MAX {
        return None;
    }
    let signature = SignatureBytes(signature.try_into().ok()?);
    verify_message(key, &signed_message(checkpoint_text, timestamp), &signature)
        .then_some(timestamp)
}

/// Why a witness policy could not be made or was not met.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The threshold is 0 or over the number of witnesses.
    #[error("a threshold of {threshold} for {witnesses} witness(es)")]
    Threshold {
        /// The threshold.
        threshold: usize,
        /// How many witnesses.
        witnesses: usize,
    },
    /// More witnesses than [`WITNESSES_MAX`].
    #[error("{0} witnesses, over the limit of {max}", max = WITNESSES_MAX)]
    TooManyWitnesses(usize),
    /// A witness key is not a cosignature key (type `0x04`).
    #[error("witness {0} is not a cosignature (type 0x04) key")]
    NotACosignatureKey(String),
    /// Two witnesses share a name and key id, or a public key.
    #[error("witness {0} is listed twice (same name and key id, or same public key)")]
    DuplicateWitness(String),
    /// The note did not verify (a bad cosignature of a listed witness, or malformed).
    #[error(transparent)]
    Note(#[from] NoteError),
    /// Fewer valid cosignatures than the threshold.
    #[error("{valid} valid cosignature(s) of the policy's witnesses, {threshold} needed")]
    NotEnough {
        /// Witnesses whose cosignature verified.
        valid: usize,
        /// The threshold.
        threshold: usize,
    },
}

/// A witness policy: the witnesses' cosignature keys and how many of them must cosign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessPolicy {
    witnesses: Vec<VerifierKey>,
    threshold: usize,
}

/// One witness's verified cosignature of a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cosigned {
    /// The witness, as an index into [`WitnessPolicy::witnesses`].
    pub witness: usize,
    /// When it cosigned (POSIX seconds).
    pub timestamp: u64,
}

impl WitnessPolicy {
    /// A policy of `threshold` of `witnesses`: 1 ≤ threshold ≤ n ≤ [`WITNESSES_MAX`], every key a
    /// cosignature key, no witness twice (by name and key id, or by public key: one key
    /// counted under two names would let one witness count twice).
    pub fn new(witnesses: Vec<VerifierKey>, threshold: usize) -> Result<Self, PolicyError> {
        if witnesses.len() > WITNESSES_MAX {
            return Err(PolicyError::TooManyWitnesses(witnesses.len()));
        }
        if threshold == 0 || threshold > witnesses.len() {
            return Err(PolicyError::Threshold {
                threshold,
                witnesses: witnesses.len(),
            });
        }
        for (index, witness) in witnesses.iter().enumerate() {
            if witness.key_type() != KeyType::Cosignature {
                return Err(PolicyError::NotACosignatureKey(witness.name().to_owned()));
            }
            if witnesses[..index].iter().any(|earlier| {
                earlier.public_key() == witness.public_key()
                    || (earlier.name() == witness.name() && earlier.key_id() == witness.key_id())
            }) {
                return Err(PolicyError::DuplicateWitness(witness.name().to_owned()));
            }
        }
        Ok(WitnessPolicy {
            witnesses,
            threshold,
        })
    }

    /// The witnesses' keys.
    pub fn witnesses(&self) -> &[VerifierKey] {
        &self.witnesses
    }

    /// How many must cosign.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// Checks that the note carries valid cosignatures of at least `threshold` of the
    /// policy's witnesses. Other signature lines (the organisation's own, unknown witnesses)
    /// are ignored here; the organisation's signature is checked by
    /// [`crate::checkpoint::SignedCheckpoint`]. A listed witness's cosignature that does not
    /// verify refuses the note, as C2SP signed-note advises.
    pub fn check(&self, note: &Note) -> Result<Vec<Cosigned>, PolicyError> {
        let verified = match note.verify(&self.witnesses) {
            Ok(verified) => verified,
            Err(NoteError::NoTrustedSignature) => Vec::new(),
            Err(error) => return Err(error.into()),
        };
        let cosigned: Vec<Cosigned> = verified
            .iter()
            .filter_map(|done| {
                done.timestamp.map(|timestamp| Cosigned {
                    witness: done.key_index,
                    timestamp,
                })
            })
            .collect();
        if cosigned.len() < self.threshold {
            return Err(PolicyError::NotEnough {
                valid: cosigned.len(),
                threshold: self.threshold,
            });
        }
        Ok(cosigned)
    }
}
