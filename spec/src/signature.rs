//! Ed25519 with `verify_strict` semantics, single and batched.
//!
//! Batch verification is much faster but, as ed25519-dalek documents, skips the small-order
//! checks that `verify_strict` makes. So: keys are checked once, when the genesis is read
//! (not small order, and torsion-free); every signature's R is checked for small order before
//! it enters a batch; and a batch that fails is verified again signature by signature with
//! `verify_strict`, so a failure is always attributed to the record that caused it.

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

use crate::domain;
use crate::ids::{PublicKey, RecordId, SignatureBytes};

/// Length of the signed message: the signature domain and a 32-byte record id.
pub const SIGNED_MESSAGE_BYTES: usize = domain::SIGNATURE.len() + 32;

/// Most signatures verified in one batch.
pub const BATCH_SIZE_MAX: usize = 256;

/// The exact bytes an organisation signs for a record.
pub fn signed_message(record_id: &RecordId) -> [u8; SIGNED_MESSAGE_BYTES] {
    let mut message = [0u8; SIGNED_MESSAGE_BYTES];
    message[..domain::SIGNATURE.len()].copy_from_slice(domain::SIGNATURE.as_bytes());
    message[domain::SIGNATURE.len()..].copy_from_slice(&record_id.0);
    message
}

/// Signs a record id.
pub fn sign(key: &SigningKey, record_id: &RecordId) -> SignatureBytes {
    use ed25519_dalek::Signer as _;
    SignatureBytes(key.sign(&signed_message(record_id)).to_bytes())
}

/// The public key of a signing key.
pub fn public_key_of(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// Checks that a public key is a valid point, not of small order and torsion-free, so that
/// batch and single verification agree on it. Returns the decompressed key.
pub fn check_public_key(key: &PublicKey) -> Result<VerifyingKey, &'static str> {
    let verifying_key =
        VerifyingKey::from_bytes(&key.0).map_err(|_| "not a valid ed25519 point")?;
    if verifying_key.is_weak() {
        return Err("a small-order (weak) key");
    }
    if !verifying_key.to_edwards().is_torsion_free() {
        return Err("a key with a torsion component");
    }
    Ok(verifying_key)
}

/// Verifies one signature with `verify_strict` semantics.
pub fn verify_one(key: &VerifyingKey, record_id: &RecordId, signature: &SignatureBytes) -> bool {
    let signature = Signature::from_bytes(&signature.0);
    key.verify_strict(&signed_message(record_id), &signature)
        .is_ok()
}

/// Whether a signature's R (its first 32 bytes) is a valid point not of small order; a
/// signature failing this is rejected by `verify_strict` and must not enter a batch.
pub fn r_is_acceptable(signature: &SignatureBytes) -> bool {
    let mut r = [0u8; 32];
    r.copy_from_slice(&signature.0[..32]);
    match CompressedEdwardsY(r).decompress() {
        Some(point) => !point.is_small_order(),
        None => false,
    }
}

/// One signature to verify in a batch.
pub struct BatchItem<'a> {
    /// The key, already checked with [`check_public_key`].
    pub key: &'a VerifyingKey,
    /// The record id that was signed.
    pub record_id: RecordId,
    /// The signature.
    pub signature: SignatureBytes,
}

/// Verifies many signatures; returns one verdict per item, in order.
///
/// Items are verified in batches of at most [`BATCH_SIZE_MAX`]; a failing batch falls back
/// to [`verify_one`] per item.
pub fn verify_many(items: &[BatchItem<'_>]) -> Vec<bool> {
    let mut verdicts = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH_SIZE_MAX) {
        verdicts.extend(verify_chunk(chunk));
    }
    verdicts
}

fn verify_chunk(items: &[BatchItem<'_>]) -> Vec<bool> {
    let acceptable: Vec<bool> = items
        .iter()
        .map(|item| r_is_acceptable(&item.signature))
        .collect();
    if acceptable.iter().all(|ok| *ok) {
        let messages: Vec<[u8; SIGNED_MESSAGE_BYTES]> = items
            .iter()
            .map(|item| signed_message(&item.record_id))
            .collect();
        let message_refs: Vec<&[u8]> = messages.iter().map(|message| message.as_slice()).collect();
        let signatures: Vec<Signature> = items
            .iter()
            .map(|item| Signature::from_bytes(&item.signature.0))
            .collect();
        let keys: Vec<VerifyingKey> = items.iter().map(|item| *item.key).collect();
        if ed25519_dalek::verify_batch(&message_refs, &signatures, &keys).is_ok() {
            return vec![true; items.len()];
        }
    }
    items
        .iter()
        .zip(acceptable)
        .map(|(item, ok)| ok && verify_one(item.key, &item.record_id, &item.signature))
        .collect()
}
