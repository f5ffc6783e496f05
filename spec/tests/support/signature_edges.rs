//! Signatures at the edges of the signature rule (FORMAT.md §7.1), made by hand from a key's
//! secret scalar: nonce points with a torsion component, non-canonical s, small-order and
//! non-canonical R. Shared by the vector generator, the spec's tests, the node's tests and the
//! end-to-end tests (each includes this file with `#[path]`), so that every layer is checked
//! against the same constructions.

#![allow(dead_code)]

use aidledger_spec::signature::signed_message;
use aidledger_spec::{RecordId, SignatureBytes};
use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::SigningKey;
use sha2::{Digest as _, Sha512};

/// ℓ = 2^252 + 27742317777372353535851937790883648493, little endian.
pub const GROUP_ORDER_LE: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// A point of small order exactly `order` (1, 2, 4 or 8): EIGHT_TORSION[8 / order].
pub fn torsion_point(order: usize) -> EdwardsPoint {
    assert!(
        matches!(order, 1 | 2 | 4 | 8),
        "small orders are 1, 2, 4, 8"
    );
    EIGHT_TORSION[(8 / order) % 8]
}

/// k = SHA-512(R ‖ A ‖ signed message) mod ℓ, over the encodings as given.
pub fn challenge(r_bytes: &[u8; 32], key_bytes: &[u8; 32], record_id: &RecordId) -> Scalar {
    let mut hasher = Sha512::new();
    hasher.update(r_bytes);
    hasher.update(key_bytes);
    hasher.update(signed_message(record_id));
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&hasher.finalize());
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// A signature of `record_id` by `key` whose nonce point is R = [r]B + T, T of order
/// `torsion_order` (1 for an ordinary signature), and s = r + k·a with k hashed over R's
/// bytes: it satisfies the cofactored equation, and for T ≠ 0 not the cofactorless one.
pub fn sign_with_torsion_nonce(
    key: &SigningKey,
    record_id: &RecordId,
    nonce: u64,
    torsion_order: usize,
) -> SignatureBytes {
    torsion_nonce_signature(key, record_id, nonce, torsion_order, true)
}

/// As [`sign_with_torsion_nonce`], but k is hashed over [r]B without its torsion: a forgery
/// that satisfies neither equation, whatever the batch.
pub fn sign_with_wrong_challenge(
    key: &SigningKey,
    record_id: &RecordId,
    nonce: u64,
    torsion_order: usize,
) -> SignatureBytes {
    torsion_nonce_signature(key, record_id, nonce, torsion_order, false)
}

/// R = [r]B + T and s = r + k·a, with k hashed over R's bytes (`challenge_over_r`) or over
/// [r]B's.
fn torsion_nonce_signature(
    key: &SigningKey,
    record_id: &RecordId,
    nonce: u64,
    torsion_order: usize,
    challenge_over_r: bool,
) -> SignatureBytes {
    let r = Scalar::from(nonce) + Scalar::from(1_000u64);
    let clean_r = EdwardsPoint::mul_base(&r);
    let big_r = (clean_r + torsion_point(torsion_order)).compress();
    let hashed_r = if challenge_over_r {
        big_r
    } else {
        clean_r.compress()
    };
    let k = challenge(
        hashed_r.as_bytes(),
        key.verifying_key().as_bytes(),
        record_id,
    );
    let s = r + k * key.to_scalar();
    signature_of(big_r.as_bytes(), s.as_bytes())
}

/// A signature with the given R bytes and s = k·a: for R of small order it satisfies the
/// cofactored equation ([8]([s]B − R − [k]A) = [8](−R) = 0), so only the small-order and
/// encoding checks on R refuse it.
pub fn sign_with_fixed_r(
    key: &SigningKey,
    record_id: &RecordId,
    r_bytes: [u8; 32],
) -> SignatureBytes {
    let k = challenge(&r_bytes, key.verifying_key().as_bytes(), record_id);
    let s = k * key.to_scalar();
    signature_of(&r_bytes, s.as_bytes())
}

/// `key`'s public point plus a point of order `torsion_order`: a mixed-order key.
pub fn torsioned_public_key(key: &SigningKey, torsion_order: usize) -> [u8; 32] {
    (key.verifying_key().to_edwards() + torsion_point(torsion_order))
        .compress()
        .to_bytes()
}

/// A signature over `message` in the name of the public key `named` (32 bytes) made with
/// `key`'s secret scalar: s = r + k·a, k hashed over `named`. For `named` =
/// [`torsioned_public_key`] it satisfies the cofactored equation ([8](−[k]T) = 0), so only
/// the key checks (torsion-free) refuse it.
pub fn sign_message_as(key: &SigningKey, named: &[u8; 32], message: &[u8]) -> SignatureBytes {
    let r = Scalar::from(7_777u64);
    let big_r = EdwardsPoint::mul_base(&r).compress();
    let mut hasher = Sha512::new();
    hasher.update(big_r.as_bytes());
    hasher.update(named);
    hasher.update(message);
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&hasher.finalize());
    let k = Scalar::from_bytes_mod_order_wide(&wide);
    let s = r + k * key.to_scalar();
    signature_of(big_r.as_bytes(), s.as_bytes())
}

/// `signature` with s replaced by s + `multiple`·ℓ, as a 256-bit little-endian integer (the
/// same value modulo ℓ, so only the canonical-s check refuses it).
pub fn with_s_plus_multiple_of_order(signature: &SignatureBytes, multiple: u8) -> SignatureBytes {
    let mut s = [0u8; 32];
    s.copy_from_slice(&signature.0[32..]);
    let order = GROUP_ORDER_LE;
    for _ in 0..multiple {
        let mut carry = 0u16;
        for index in 0..32 {
            let sum = u16::from(s[index]) + u16::from(order[index]) + carry;
            s[index] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0, "s + {multiple}ℓ must fit in 256 bits");
    }
    let mut r = [0u8; 32];
    r.copy_from_slice(&signature.0[..32]);
    signature_of(&r, &s)
}

/// The encoding of y = p + `offset` (p = 2^255 − 19) with the sign bit clear: non-canonical for
/// every offset 0 to 18. Offset 1 is the identity, written the long way.
pub fn non_canonical_y(offset: u8) -> [u8; 32] {
    assert!(offset <= 18, "p + {offset} does not fit in 255 bits");
    let mut bytes = [0xffu8; 32];
    bytes[0] = 0xed + offset;
    bytes[31] = 0x7f;
    bytes
}

/// The record `bytes` (header ‖ body ‖ signature) with its signature replaced.
pub fn with_signature(bytes: &[u8], signature: &SignatureBytes) -> Vec<u8> {
    let mut out = bytes[..bytes.len() - 64].to_vec();
    out.extend_from_slice(&signature.0);
    out
}

fn signature_of(r: &[u8; 32], s: &[u8; 32]) -> SignatureBytes {
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(r);
    bytes[32..].copy_from_slice(s);
    SignatureBytes(bytes)
}
