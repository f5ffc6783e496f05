//! Ed25519 signatures under aidledger's one verification rule (FORMAT.md §7.1), single and
//! batched, with the same verdict either way.
//!
//! The rule is RFC 8032 verification with strict encodings and the **cofactored** equation
//! `[8][s]B = [8]R + [8][k]A`, the equation of ZIP 215. It is chosen because it is the one
//! equation under which a randomised batch check accepts exactly when every signature in it
//! would be accepted alone: multiplying by the cofactor 8 removes small-order components, which
//! a cofactorless batch equation cannot tell apart from zero when the random weights happen to
//! cancel them (the bug behind issue 16: `verify_strict` and ed25519-dalek's `verify_batch`
//! disagreed on signatures whose R had a torsion component, depending on the batch). With this
//! rule the verdict is a function of the record's bytes and the key alone: single, batched in
//! any grouping, on any node.
//!
//! Keys are checked once, where they enter the authority (genesis, key grants): a canonical
//! encoding of a point that is not of small order and is torsion-free (`check_public_key`).
//! Signing is ed25519-dalek's; verification is written here with curve25519-dalek's point
//! arithmetic because ed25519-dalek offers no cofactored verification.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha512};

use crate::domain;
use crate::ids::{PublicKey, RecordId, SignatureBytes};

/// Length of the signed message: the signature domain and a 32-byte record id.
pub const SIGNED_MESSAGE_BYTES: usize = domain::SIGNATURE.len() + 32;

/// Most signatures verified in one batch.
pub const BATCH_SIZE_MAX: usize = 256;

/// Prefix of the hash input the batch weights are derived from (not part of any verdict:
/// the weights only make a false batch acceptance improbable, see [`verify_many`]).
const BATCH_WEIGHTS_DOMAIN: &[u8] = b"aidledger:batch-weights:v1\n";

/// The field prime p = 2^255 - 19, little endian: an encoding whose y (its low 255 bits) is
/// not below p is not canonical.
const FIELD_PRIME_LE: [u8; 32] = {
    let mut prime = [0xffu8; 32];
    prime[0] = 0xed;
    prime[31] = 0x7f;
    prime
};

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

/// Whether 32 bytes are the canonical encoding of their y coordinate: y, the low 255 bits,
/// is below p. (The other non-canonical form, x = 0 with the sign bit set, exists only for
/// the two points of small order with x = 0, which every caller refuses anyway.)
pub fn is_canonical_encoding(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    // Compare as little-endian integers, most significant byte first.
    for index in (0..32).rev() {
        if y[index] != FIELD_PRIME_LE[index] {
            return y[index] < FIELD_PRIME_LE[index];
        }
    }
    false
}

/// Checks that a public key is acceptable (FORMAT.md §3.5): the canonical encoding of a curve
/// point that is not of small order and is torsion-free. Returns the decompressed key.
pub fn check_public_key(key: &PublicKey) -> Result<VerifyingKey, &'static str> {
    if !is_canonical_encoding(&key.0) {
        return Err("not a canonical ed25519 point encoding");
    }
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

/// A signature that passed the per-signature checks of the rule (steps 1 to 3 of FORMAT.md
/// §7.1), with what the equation needs.
struct Prepared {
    /// R, decompressed.
    r: EdwardsPoint,
    /// s, canonical.
    s: Scalar,
    /// k = SHA-512(R ‖ A ‖ message) mod ℓ.
    k: Scalar,
    /// A, decompressed.
    a: EdwardsPoint,
}

/// Steps 1 to 4 of the rule: s canonical, R a canonical encoding of a point not of small
/// order, and k. `None` means the signature is rejected whatever the equation says.
fn prepare(key: &VerifyingKey, message: &[u8], signature: &SignatureBytes) -> Option<Prepared> {
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&signature.0[..32]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&signature.0[32..]);
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    if !is_canonical_encoding(&r_bytes) {
        return None;
    }
    let r = CompressedEdwardsY(r_bytes).decompress()?;
    if r.is_small_order() {
        return None;
    }
    let mut hasher = Sha512::new();
    hasher.update(r_bytes);
    hasher.update(key.as_bytes());
    hasher.update(message);
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&hasher.finalize());
    Some(Prepared {
        r,
        s,
        k: Scalar::from_bytes_mod_order_wide(&wide),
        a: key.to_edwards(),
    })
}

/// Step 5, the cofactored equation for one signature: [8]([s]B − R − [k]A) = 0.
fn equation_holds(prepared: &Prepared) -> bool {
    let sb_minus_ka =
        EdwardsPoint::vartime_double_scalar_mul_basepoint(&prepared.k, &-prepared.a, &prepared.s);
    (sb_minus_ka - prepared.r).mul_by_cofactor().is_identity()
}

/// Verifies a record's signature by the rule of FORMAT.md §7.1.
pub fn verify_one(key: &VerifyingKey, record_id: &RecordId, signature: &SignatureBytes) -> bool {
    verify_message(key, &signed_message(record_id), signature)
}

/// Verifies a signature over any message by the rule of FORMAT.md §7.1 (records sign
/// [`signed_message`]; key grants sign their possession message).
pub fn verify_message(key: &VerifyingKey, message: &[u8], signature: &SignatureBytes) -> bool {
    prepare(key, message, signature).is_some_and(|prepared| equation_holds(&prepared))
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

/// Verifies many signatures; returns one verdict per item, in order, equal to
/// [`verify_one`]'s for each item.
///
/// Items are checked in batches of at most [`BATCH_SIZE_MAX`] with the equation
/// `[8]( Σ zᵢ(Rᵢ + kᵢAᵢ − sᵢB) ) = 0`, weights zᵢ of 128 bits derived by hashing every input of
/// the batch. If every signature satisfies its own equation the batch equation holds; if one
/// does not, the batch equation holds with probability at most 2⁻¹²⁸ (the cofactor removes
/// small-order terms from both sides, so no choice of torsion can cancel). A failing batch is
/// verified again signature by signature, so a failure is attributed to exactly the records
/// that caused it.
pub fn verify_many(items: &[BatchItem<'_>]) -> Vec<bool> {
    let mut verdicts = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH_SIZE_MAX) {
        verdicts.extend(verify_chunk(chunk));
    }
    verdicts
}

fn verify_chunk(items: &[BatchItem<'_>]) -> Vec<bool> {
    let prepared: Vec<Option<Prepared>> = items
        .iter()
        .map(|item| prepare(item.key, &signed_message(&item.record_id), &item.signature))
        .collect();
    if prepared.iter().all(Option::is_some) && batch_equation_holds(items, &prepared) {
        return vec![true; items.len()];
    }
    prepared
        .iter()
        .map(|prepared| prepared.as_ref().is_some_and(equation_holds))
        .collect()
}

/// The batch equation over items that all passed [`prepare`]. Terms of one key are summed
/// into one scalar first (a chain's records share a key), which makes the multiscalar
/// multiplication shorter without changing its value.
fn batch_equation_holds(items: &[BatchItem<'_>], prepared: &[Option<Prepared>]) -> bool {
    let weights = batch_weights(items);
    if weights.contains(&Scalar::ZERO) {
        return false;
    }
    let mut s_sum = Scalar::ZERO;
    let mut scalars: Vec<Scalar> = Vec::with_capacity(items.len() + 4);
    let mut points: Vec<EdwardsPoint> = Vec::with_capacity(items.len() + 4);
    let mut key_terms: Vec<(&[u8; 32], Scalar, EdwardsPoint)> = Vec::new();
    for ((item, prepared), weight) in items.iter().zip(prepared).zip(&weights) {
        let Some(prepared) = prepared else {
            return false;
        };
        s_sum += weight * prepared.s;
        scalars.push(*weight);
        points.push(prepared.r);
        let key_bytes = item.key.as_bytes();
        match key_terms
            .iter_mut()
            .find(|(bytes, _, _)| *bytes == key_bytes)
        {
            Some((_, scalar, _)) => *scalar += weight * prepared.k,
            None => key_terms.push((key_bytes, weight * prepared.k, prepared.a)),
        }
    }
    for (_, scalar, point) in key_terms {
        scalars.push(scalar);
        points.push(point);
    }
    let sum = EdwardsPoint::vartime_multiscalar_mul(&scalars, &points);
    (sum - EdwardsPoint::mul_base(&s_sum))
        .mul_by_cofactor()
        .is_identity()
}

/// Deterministic 128-bit weights: SHA-512 over the domain and every (key, record id,
/// signature) of the batch gives a seed; weight i is the first 16 bytes of SHA-512(seed ‖ i).
/// A signer who wants a bad signature accepted must find inputs whose weights cancel its
/// error, which takes about 2¹²⁸ hash evaluations.
fn batch_weights(items: &[BatchItem<'_>]) -> Vec<Scalar> {
    let mut seed = Sha512::new();
    seed.update(BATCH_WEIGHTS_DOMAIN);
    seed.update((items.len() as u64).to_le_bytes());
    for item in items {
        seed.update(item.key.as_bytes());
        seed.update(item.record_id.0);
        seed.update(item.signature.0);
    }
    let seed = seed.finalize();
    (0..items.len() as u64)
        .map(|index| {
            let mut hasher = Sha512::new();
            hasher.update(seed);
            hasher.update(index.to_le_bytes());
            let mut weight = [0u8; 32];
            weight[..16].copy_from_slice(&hasher.finalize()[..16]);
            Scalar::from_bytes_mod_order(weight)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_prime_and_above_are_not_canonical() {
        let prime = FIELD_PRIME_LE;
        assert!(!is_canonical_encoding(&prime));
        let mut below = prime;
        below[0] -= 1;
        assert!(is_canonical_encoding(&below));
        let mut above = prime;
        above[0] += 1;
        assert!(!is_canonical_encoding(&above));
        // The sign bit is not part of y.
        let mut signed_below = below;
        signed_below[31] |= 0x80;
        assert!(is_canonical_encoding(&signed_below));
        assert!(is_canonical_encoding(&[0u8; 32]));
    }

    #[test]
    fn a_batch_with_one_weight_per_item_differs_between_items() {
        let key = SigningKey::from_bytes(&[1u8; 32]);
        let verifying = key.verifying_key();
        let items: Vec<BatchItem<'_>> = (0..3u8)
            .map(|index| {
                let record_id = crate::ids::Digest([index; 32]);
                BatchItem {
                    key: &verifying,
                    record_id,
                    signature: sign(&key, &record_id),
                }
            })
            .collect();
        let weights = batch_weights(&items);
        assert_eq!(weights.len(), 3);
        assert!(weights[0] != weights[1] && weights[1] != weights[2]);
        assert_eq!(verify_many(&items), vec![true; 3]);
    }
}
