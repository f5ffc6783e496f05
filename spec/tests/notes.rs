//! Signed notes, checkpoints and cosignatures against the texts of others: the examples of the
//! C2SP specifications (signed-note, tlog-checkpoint, tlog-cosignature), the example of Go's
//! golang.org/x/mod/sumdb/note, and a real cosigned checkpoint of a public log; then our own
//! notes: round trips, every mutation refused, witness policies, hostile text.

use aidledger_spec::checkpoint::{parse_origin, Checkpoint, CheckpointError, SignedCheckpoint};
use aidledger_spec::cosignature::{self, PolicyError, WitnessPolicy};
use aidledger_spec::limits::{NOTE_BYTES_MAX, NOTE_SIGNATURES_MAX};
use aidledger_spec::note::{self, key_id, KeyType, Note, NoteError, VerifierKey};
use aidledger_spec::{Digest, NetworkId, PublicKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The examples of others

/// c2sp.org/signed-note, "Verifier keys", "Example" (C2SP/C2SP signed-note.md).
const C2SP_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
/// The note that key verifies, from the same example.
const C2SP_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

/// golang.org/x/mod/sumdb/note, package documentation "Example": the signer key, its verifier
/// key and the note that `note.Sign` writes (Ed25519 is deterministic, so we must write the
/// same bytes).
const GO_SKEY_TYPE_AND_SEED: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

/// A checkpoint of the public staging CT log arche2025h1 (transparency.dev), as found in a
/// public test suite: the log's RFC 6962 signature (type 0x05, unknown to us), its Ed25519
/// note signature (type 0x01), and cosignatures (type 0x04) of four public witnesses, one of
/// which (remora.n621.de) has a published vkey.
const ARCHE_NOTE: &str = "arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

\u{2014} arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
\u{2014} arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
\u{2014} transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
\u{2014} witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==
\u{2014} remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
\u{2014} witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==
";
const ARCHE_VKEY: &str =
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f";
const REMORA_VKEY: &str = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";

/// c2sp.org/tlog-cosignature, the example at the top: a checkpoint (also the example of
/// c2sp.org/tlog-checkpoint) with the log's signature and one witness cosignature.
const C2SP_COSIGNED: &str = "example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==
";
/// c2sp.org/tlog-cosignature, "Ed25519 signed message": the message of that cosignature.
const C2SP_COSIGNED_MESSAGE: &str = "cosignature/v1
time 1679315147
example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
";

#[test]
fn the_c2sp_example_key_and_note_verify() {
    let key = VerifierKey::parse(C2SP_VKEY).expect("the example vkey");
    assert_eq!(key.name(), "example.com/foo");
    assert_eq!(key.key_id(), 0x530d903a);
    assert_eq!(key.key_type(), KeyType::Ed25519);
    // The key id is the one derived from the name and key (SHA-256(name ‖ 0a ‖ 01 ‖ key)[:4]).
    assert_eq!(
        key_id("example.com/foo", KeyType::Ed25519, key.public_key()),
        0x530d903a
    );
    assert_eq!(key.to_vkey(), C2SP_VKEY);

    let note = Note::parse(C2SP_NOTE).expect("the example note");
    assert_eq!(note.text, "This is an example message.\n");
    assert_eq!(note.to_text(), C2SP_NOTE);
    let verified = note.verify(std::slice::from_ref(&key)).expect("verifies");
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].timestamp, None);

    let altered = Note::parse(&C2SP_NOTE.replace("example message", "example massage")).unwrap();
    assert_eq!(
        altered.verify(&[key]),
        Err(NoteError::BadSignature {
            name: "example.com/foo".into(),
            key_id: 0x530d903a
        })
    );
}

#[test]
fn signing_reproduces_the_go_sumdb_note_example() {
    let type_and_seed = BASE64.decode(GO_SKEY_TYPE_AND_SEED).unwrap();
    assert_eq!(type_and_seed[0], 0x01);
    let key = SigningKey::from_bytes(&type_and_seed[1..].try_into().unwrap());
    let signature = note::sign(GO_TEXT, "PeterNeumann", &key).unwrap();
    let written = Note {
        text: GO_TEXT.into(),
        signatures: vec![signature],
    };
    assert_eq!(written.to_text(), GO_NOTE);

    let vkey = VerifierKey::parse(GO_VKEY).unwrap();
    assert_eq!(vkey.key_id(), 0xc74f20a3);
    assert_eq!(vkey.public_key().0, key.verifying_key().to_bytes());
    assert!(Note::parse(GO_NOTE).unwrap().verify(&[vkey]).is_ok());
}

#[test]
fn a_real_cosigned_checkpoint_verifies_and_unknown_types_are_ignored() {
    let note = Note::parse(ARCHE_NOTE).unwrap();
    assert_eq!(note.signatures.len(), 6);
    assert_eq!(note.to_text(), ARCHE_NOTE);
    let checkpoint = Checkpoint::parse(&note.text).unwrap();
    assert_eq!(checkpoint.origin, "arche2025h1.staging.ct.transparency.dev");
    assert_eq!(checkpoint.size, 1_432_088_532);
    assert_eq!(checkpoint.text(), note.text);
    // Not an aidledger origin: parsed as C2SP allows, but it names no chain of ours.
    assert!(matches!(
        checkpoint.chain(),
        Err(CheckpointError::Origin { .. })
    ));

    let log = VerifierKey::parse(ARCHE_VKEY).unwrap();
    let remora = VerifierKey::parse(REMORA_VKEY).unwrap();
    assert_eq!(remora.key_type(), KeyType::Cosignature);
    // The first line has the log's name but a type 0x05 key id: not our key, ignored.
    let verified = note.verify(&[log.clone(), remora.clone()]).unwrap();
    assert_eq!(verified.len(), 2);
    assert_eq!(verified[0].timestamp, None);
    let cosigned_at = verified[1].timestamp.expect("a cosignature has a time");
    assert_eq!(cosigned_at, 0x6a12_2120);

    let policy = WitnessPolicy::new(vec![remora.clone()], 1).unwrap();
    assert_eq!(policy.check(&note).unwrap()[0].timestamp, cosigned_at);

    // The size changed: both signatures fail.
    let altered = Note::parse(&ARCHE_NOTE.replace("1432088532", "1432088533")).unwrap();
    assert!(matches!(
        altered.verify(&[log]),
        Err(NoteError::BadSignature { .. })
    ));
    assert!(matches!(
        policy.check(&altered),
        Err(PolicyError::Note(NoteError::BadSignature { .. }))
    ));
}

#[test]
fn the_c2sp_cosignature_example_parses_and_its_message_is_the_documented_one() {
    let note = Note::parse(C2SP_COSIGNED).unwrap();
    let checkpoint = Checkpoint::parse(&note.text).unwrap();
    assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
    assert_eq!(checkpoint.size, 20_852_163);
    assert!(checkpoint.extensions.is_empty());
    assert_eq!(checkpoint.text(), note.text);
    let witness = &note.signatures[1];
    assert_eq!(witness.name, "witness.example.com/w1");
    assert_eq!(witness.key_id, 0x8d66cf3f);
    assert_eq!(witness.signature.len(), cosignature::COSIGNATURE_BYTES);
    let timestamp = u64::from_be_bytes(witness.signature[..8].try_into().unwrap());
    assert_eq!(timestamp, 1_679_315_147);
    assert_eq!(
        cosignature::signed_message(&note.text, timestamp),
        C2SP_COSIGNED_MESSAGE.as_bytes()
    );
    // No key of these examples is published: with no trusted key, nothing verifies.
    assert_eq!(note.verify(&[]), Err(NoteError::NoTrustedSignature));
}

// ---------------------------------------------------------------------------------------------
// Our checkpoints

fn network() -> NetworkId {
    Digest([0x42; 32])
}

fn org_key() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn witness_key(index: u8) -> SigningKey {
    SigningKey::from_bytes(&[0x30 + index; 32])
}

fn witness_vkey(index: u8) -> VerifierKey {
    VerifierKey::new(
        &format!("witness.example/w{index}"),
        KeyType::Cosignature,
        PublicKey(witness_key(index).verifying_key().to_bytes()),
    )
    .unwrap()
}

fn org_public() -> PublicKey {
    PublicKey(org_key().verifying_key().to_bytes())
}

fn signed_checkpoint() -> Note {
    Checkpoint::new(&network(), "GB-GOV-1", 5, Digest([7; 32]))
        .sign(&org_key())
        .unwrap()
}

fn cosign(note: &mut Note, index: u8, time: u64) {
    let name = format!("witness.example/w{index}");
    let line = cosignature::sign(&note.text, &name, &witness_key(index), time).unwrap();
    note.signatures.push(line);
}

#[test]
fn origins_name_the_network_and_the_organisation_and_read_back() {
    let hex = "42".repeat(32);
    assert_eq!(
        Checkpoint::new(&network(), "GB-GOV-1", 0, Digest::ZERO).origin,
        format!("aidledger/{hex}/GB-GOV-1")
    );
    for org in ["GB-GOV-1", "A+B", "100%", "%2B+%", "x/y"] {
        let origin = aidledger_spec::checkpoint::origin(&network(), org);
        assert!(!origin.contains('+'), "{origin}");
        note::check_key_name(&origin).unwrap();
        assert_eq!(parse_origin(&origin).unwrap(), (network(), org.to_owned()));
    }
    for bad in [
        format!("aidledger/{hex}/A%2b"),
        format!("aidledger/{hex}/A%"),
        format!("aidledger/{hex}/A+B"),
        format!("aidledger/{hex}/"),
        format!("aidledger/{}/A", "AB".repeat(32)),
        format!("aidledger/{}/A", &hex[2..]),
        format!("aidledger/{hex}A"),
        format!("example.com/{hex}/A"),
        format!("aidledger/{hex}/A B"),
    ] {
        assert!(parse_origin(&bad).is_err(), "{bad}");
    }
}

#[test]
fn a_checkpoint_signs_and_opens_and_round_trips() {
    let note = signed_checkpoint();
    let text = note.to_text();
    assert!(text.starts_with(&format!("aidledger/{}/GB-GOV-1\n5\n", "42".repeat(32))));
    let opened = SignedCheckpoint::open(&text, &network(), "GB-GOV-1", &[org_public()]).unwrap();
    assert_eq!(opened.checkpoint.size, 5);
    assert_eq!(opened.checkpoint.root, Digest([7; 32]));
    assert_eq!(opened.signed_by, org_public());
    assert_eq!(Note::parse(&text).unwrap(), note);

    // Another organisation's key, another organisation, another network: refused.
    let stranger = PublicKey(SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes());
    assert_eq!(
        SignedCheckpoint::open(&text, &network(), "GB-GOV-1", &[stranger]),
        Err(CheckpointError::NotSignedByOrganisation)
    );
    assert!(matches!(
        SignedCheckpoint::open(&text, &network(), "XM-DAC-41114", &[org_public()]),
        Err(CheckpointError::WrongOrigin { .. })
    ));
    assert!(matches!(
        SignedCheckpoint::open(&text, &Digest([0x43; 32]), "GB-GOV-1", &[org_public()]),
        Err(CheckpointError::WrongOrigin { .. })
    ));
}

#[test]
fn opening_with_verifier_keys_trusts_only_the_origins_type_01_keys() {
    let text = signed_checkpoint().to_text();
    let origin = format!("aidledger/{}/GB-GOV-1", "42".repeat(32));
    let org = VerifierKey::new(&origin, KeyType::Ed25519, org_public()).unwrap();
    let with_keys = SignedCheckpoint::open_with_verifier_keys(
        &text,
        &network(),
        "GB-GOV-1",
        std::slice::from_ref(&org),
    )
    .unwrap();
    assert_eq!(
        with_keys,
        SignedCheckpoint::open(&text, &network(), "GB-GOV-1", &[org_public()]).unwrap()
    );
    // The same key under another name or as a cosignature key is not the organisation's.
    for key in [
        VerifierKey::new("GB-GOV-1", KeyType::Ed25519, org_public()).unwrap(),
        VerifierKey::new(&origin, KeyType::Cosignature, org_public()).unwrap(),
    ] {
        assert_eq!(
            SignedCheckpoint::open_with_verifier_keys(&text, &network(), "GB-GOV-1", &[key]),
            Err(CheckpointError::NotSignedByOrganisation)
        );
    }
    assert!(matches!(
        SignedCheckpoint::open_with_verifier_keys(&text, &network(), "XM-DAC-41114", &[org]),
        Err(CheckpointError::WrongOrigin { .. })
    ));
}

#[test]
fn every_changed_byte_of_a_cosigned_checkpoint_is_refused() {
    let mut note = signed_checkpoint();
    cosign(&mut note, 1, 1_700_000_000);
    let text = note.to_text();
    let policy = WitnessPolicy::new(vec![witness_vkey(1)], 1).unwrap();
    let accepted = |bytes: &[u8]| -> bool {
        let Ok(text) = std::str::from_utf8(bytes) else {
            assert!(Note::parse_bytes(bytes).is_err());
            return false;
        };
        let Ok(opened) = SignedCheckpoint::open(text, &network(), "GB-GOV-1", &[org_public()])
        else {
            return false;
        };
        policy.check(&opened.note).is_ok()
    };
    assert!(accepted(text.as_bytes()));
    let bytes = text.as_bytes();
    for index in 0..bytes.len() {
        for flip in [0x01u8, 0x20, 0x80] {
            let mut changed = bytes.to_vec();
            changed[index] ^= flip;
            assert!(!accepted(&changed), "byte {index} ^ {flip:#x} was accepted");
        }
    }
}

#[test]
fn a_witness_policy_counts_distinct_valid_cosignatures() {
    let witnesses: Vec<VerifierKey> = (1..=3).map(witness_vkey).collect();
    let policy = WitnessPolicy::new(witnesses.clone(), 2).unwrap();
    let mut note = signed_checkpoint();
    assert_eq!(
        policy.check(&note),
        Err(PolicyError::NotEnough {
            valid: 0,
            threshold: 2
        })
    );
    cosign(&mut note, 2, 100);
    // The same witness twice counts once.
    cosign(&mut note, 2, 101);
    assert_eq!(
        policy.check(&note),
        Err(PolicyError::NotEnough {
            valid: 1,
            threshold: 2
        })
    );
    // A witness outside the policy does not count.
    cosign(&mut note, 4, 100);
    assert!(matches!(
        policy.check(&note),
        Err(PolicyError::NotEnough { valid: 1, .. })
    ));
    cosign(&mut note, 3, 102);
    let cosigned = policy.check(&note).unwrap();
    assert_eq!(
        cosigned
            .iter()
            .map(|c| (c.witness, c.timestamp))
            .collect::<Vec<_>>(),
        vec![(1, 100), (2, 102)]
    );
    // The organisation's own signature is no cosignature, even under a witness's name.
    let org_as_witness = note::sign(&note.text, "witness.example/w1", &witness_key(1)).unwrap();
    let mut pretend = signed_checkpoint();
    pretend.signatures.push(org_as_witness);
    cosign(&mut pretend, 2, 100);
    assert!(matches!(
        policy.check(&pretend),
        Err(PolicyError::NotEnough { valid: 1, .. })
    ));
    // A listed witness's cosignature that fails refuses the note.
    let mut forged = note.clone();
    let last = forged.signatures.len() - 1;
    forged.signatures[last].signature[20] ^= 1;
    assert!(matches!(
        policy.check(&forged),
        Err(PolicyError::Note(NoteError::BadSignature { .. }))
    ));
    // A cosignature of another checkpoint does not carry over.
    let other = Checkpoint::new(&network(), "GB-GOV-1", 6, Digest([7; 32]));
    let line = cosignature::sign(&other.text(), "witness.example/w1", &witness_key(1), 5).unwrap();
    let mut moved = signed_checkpoint();
    moved.signatures.push(line);
    assert!(matches!(
        WitnessPolicy::new(witnesses.clone(), 1)
            .unwrap()
            .check(&moved),
        Err(PolicyError::Note(NoteError::BadSignature { .. }))
    ));
}

#[test]
fn witness_policies_refuse_what_cannot_work() {
    let witnesses: Vec<VerifierKey> = (1..=3).map(witness_vkey).collect();
    assert!(matches!(
        WitnessPolicy::new(witnesses.clone(), 0),
        Err(PolicyError::Threshold { .. })
    ));
    assert!(matches!(
        WitnessPolicy::new(witnesses.clone(), 4),
        Err(PolicyError::Threshold { .. })
    ));
    let mut twice = witnesses.clone();
    twice.push(witnesses[0].clone());
    assert!(matches!(
        WitnessPolicy::new(twice, 2),
        Err(PolicyError::DuplicateWitness(_))
    ));
    // One key under two names would let one witness count twice.
    let renamed = VerifierKey::new(
        "other.example/w1",
        KeyType::Cosignature,
        *witnesses[0].public_key(),
    )
    .unwrap();
    assert!(matches!(
        WitnessPolicy::new(vec![witnesses[0].clone(), renamed], 2),
        Err(PolicyError::DuplicateWitness(_))
    ));
    let plain = VerifierKey::new("w", KeyType::Ed25519, *witnesses[0].public_key()).unwrap();
    assert!(matches!(
        WitnessPolicy::new(vec![plain], 1),
        Err(PolicyError::NotACosignatureKey(_))
    ));
    assert!(cosignature::sign("a\n", "w", &witness_key(1), 1 << 63).is_err());
}

// ---------------------------------------------------------------------------------------------
// Grammar

#[test]
fn checkpoint_lines_follow_the_c2sp_grammar() {
    let root = BASE64.encode([7u8; 32]);
    let good = format!("o\n5\n{root}\n");
    assert_eq!(Checkpoint::parse(&good).unwrap().size, 5);
    assert_eq!(
        Checkpoint::parse(&format!("o\n0\n{root}\n")).unwrap().size,
        0
    );
    let ext = Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\nx\ny\n")).unwrap();
    assert_eq!(ext.size, u64::MAX);
    assert_eq!(ext.extensions, vec!["x".to_owned(), "y".to_owned()]);
    assert_eq!(
        ext.text(),
        format!("o\n18446744073709551615\n{root}\nx\ny\n")
    );
    for bad in [
        format!("o\n05\n{root}\n"),
        format!("o\n+5\n{root}\n"),
        format!("o\n-0\n{root}\n"),
        format!("o\n 5\n{root}\n"),
        format!("o\n18446744073709551616\n{root}\n"),
        format!("o\n5\n{}\n", BASE64.encode([7u8; 31])),
        format!("o\n5\n{}\n", BASE64.encode([7u8; 33])),
        format!("o\n5\n{}\n", &root[..43]),
        format!("o\n5\n{root}"),
        format!("o\n5\n{root}\n\n"),
        format!("o\n5\n{root}\nx\n\ny\n"),
        format!("\n5\n{root}\n"),
        "o\n5\n".to_owned(),
        format!("o\n5\n{root}\n{}", "x\n".repeat(17)),
        format!("o\t\n5\n{root}\n"),
    ] {
        assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
    }
}

#[test]
fn notes_and_keys_follow_the_signed_note_grammar() {
    let line = |name: &str| format!("\u{2014} {name} {}\n", BASE64.encode([1, 2, 3, 4, 5]));
    let note = |block: &str| format!("text\n\n{block}");
    assert!(Note::parse(&note(&line("a"))).is_ok());
    // The text may hold blank lines: the last blank line ends it.
    let parsed = Note::parse(&format!("a\n\nb\n\n{}", line("k"))).unwrap();
    assert_eq!(parsed.text, "a\n\nb\n");
    for bad in [
        "text\n".to_owned(),
        "text\n\n".to_owned(),
        note(&line("a")).trim_end().to_owned(),
        note(&line("a+b")),
        note(&line("a\u{a0}b")),
        note(&format!("\u{2014} a  {}\n", BASE64.encode([1, 2, 3, 4, 5]))),
        note(&format!("\u{2014} a {}\n", BASE64.encode([1, 2, 3, 4]))),
        note(&format!("\u{2014} a {}\n", "AQIDBAU")),
        note(&format!("- a {}\n", BASE64.encode([1, 2, 3, 4, 5]))),
        note(&format!("{}x\n", line("a"))),
        format!("te\rxt\n\n{}", line("a")),
        note(&line("a").repeat(NOTE_SIGNATURES_MAX + 1)),
        format!("{}\n\n{}", "x".repeat(NOTE_BYTES_MAX), line("a")),
    ] {
        assert!(
            Note::parse(&bad).is_err(),
            "{:?}",
            &bad[..bad.len().min(80)]
        );
    }
    assert!(Note::parse(&note(&line("a").repeat(NOTE_SIGNATURES_MAX))).is_ok());
    assert_eq!(Note::parse_bytes(b"\xff\n\n"), Err(NoteError::NotUtf8));

    let good = VerifierKey::parse(C2SP_VKEY).unwrap();
    for bad in [
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k".to_owned(),
        "example.com/fo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k".to_owned(),
        "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k".to_owned(),
        "example.com/foo+530d903a".to_owned(),
        format!("{C2SP_VKEY}+x"),
        "example.com/foo+530d903a+Aeky+eRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k".to_owned(),
        // Type 0x02 (ECDSA) is not one we verify.
        format!(
            "example.com/foo+530d903a+{}",
            BASE64.encode([&[2u8][..], &good.public_key().0].concat())
        ),
        format!(
            "example.com/foo+530d903a+{}",
            BASE64.encode([&[1u8][..], &good.public_key().0[..31]].concat())
        ),
        // A small-order key (the identity point) is refused like everywhere in the protocol.
        format!(
            "e+{:08x}+{}",
            key_id("e", KeyType::Ed25519, &identity()),
            BASE64.encode([&[1u8][..], &identity().0].concat())
        ),
    ] {
        assert!(VerifierKey::parse(&bad).is_err(), "{bad}");
    }
}

fn identity() -> PublicKey {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    PublicKey(bytes)
}

#[test]
fn a_trusted_key_listed_twice_is_ambiguous() {
    let key = VerifierKey::parse(C2SP_VKEY).unwrap();
    let note = Note::parse(C2SP_NOTE).unwrap();
    assert!(matches!(
        note.verify(&[key.clone(), key]),
        Err(NoteError::AmbiguousKey { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any text: parsing never panics, and what parses writes back the same text.
    #[test]
    fn parsing_any_text_never_panics_and_round_trips(text in "(\\PC|\n|\u{2014} |[a-z]{1,3} |[A-Za-z0-9+/=]{4,12}){0,40}") {
        if let Ok(note) = Note::parse(&text) {
            prop_assert_eq!(note.to_text(), text.clone());
            let _ = Checkpoint::parse(&note.text);
        }
        let _ = Checkpoint::parse(&text);
        let _ = VerifierKey::parse(&text);
        let _ = parse_origin(&text);
    }

    /// Any bytes: never panics.
    #[test]
    fn parsing_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Note::parse_bytes(&bytes);
    }

    /// A well-formed note with random signature bytes: parses, writes back, and (no trusted
    /// key matching) verifies nothing.
    #[test]
    fn random_signature_lines_round_trip(
        lines in proptest::collection::vec(("[a-z.]{1,12}", proptest::collection::vec(any::<u8>(), 5..80)), 1..8)
    ) {
        let mut text = "aidledger/x\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n".to_owned();
        for (name, bytes) in &lines {
            text.push_str(&format!("\u{2014} {name} {}\n", BASE64.encode(bytes)));
        }
        let note = Note::parse(&text).unwrap();
        prop_assert_eq!(note.signatures.len(), lines.len());
        prop_assert_eq!(note.to_text(), text);
        prop_assert_eq!(note.verify(&[witness_vkey(1)]), Err(NoteError::NoTrustedSignature));
    }
}
