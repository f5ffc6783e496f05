//! Governance in the node (issue 7): a revocation rewinds the chain and keeps what it removed
//! readable; records signed by a revoked key are refused at ingest without blaming the peer;
//! `POST /v1/key/rotate` switches keys; the submit policy refuses governance bodies that cannot
//! count; `/api/governance` and the export follow the governance state.

mod common;

use std::sync::Arc;

use aidledger_node::governance::Governance;
use aidledger_node::writer::{Placement, SigningKeys, Writer};
use aidledger_node::ExplorerIndex;
use aidledger_spec::bundle::BundleItem;
use aidledger_spec::governance::{Approval, Change, KeyGrant, Proposal};
use aidledger_spec::signed::peek_body_kind;
use aidledger_spec::{
    sign_record, Body, BodyKind, PublicKey, RecordDraft, RecordId, RuleCheckedRecord,
    VerifiedRecord, Verifier,
};
use aidledger_store::Store;
use common::*;
use ed25519_dalek::SigningKey;

/// A record of `org` signed by `key`, checked by the record rules only (the writer applies
/// the authority rules itself).
fn signed_by(
    key: &SigningKey,
    org: &str,
    seq: u64,
    prev: RecordId,
    body: Body,
) -> RuleCheckedRecord {
    let draft = RecordDraft {
        network_id: genesis().network_id(),
        author: org.into(),
        seq,
        prev,
        timestamp_ms: 1_700_000_000_000 + seq,
        body,
    };
    let (_, bytes) = sign_record(&draft, key).unwrap();
    Verifier::new(genesis()).verify_record_rules(bytes).unwrap()
}

fn public(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// A store, its governance state and a writer for DONOR, without HTTP or network.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    store: Arc<Store>,
    governance: Arc<Governance>,
    writer: Writer,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(open_new_store(&bare_data_dir(dir.path())));
        let governance = Arc::new(Governance::load(store.clone()).unwrap());
        let writer = Writer::start(
            store.clone(),
            governance.clone(),
            DONOR.into(),
            SigningKeys::single(key_of(DONOR)),
        )
        .unwrap();
        Fixture {
            runtime: tokio::runtime::Runtime::new().unwrap(),
            store,
            governance,
            writer,
            _dir: dir,
        }
    }

    fn ingest<R: Into<RuleCheckedRecord>>(
        &self,
        records: Vec<R>,
    ) -> aidledger_node::writer::IngestOutcome {
        self.runtime
            .block_on(self.writer.ingest(records, Vec::new()))
            .unwrap()
    }

    fn submit(&self, body: Body) -> Result<RecordId, String> {
        self.runtime
            .block_on(self.writer.submit(body, 0))
            .map(|committed| committed.id)
            .map_err(|error| error.to_string())
    }

    fn head_seq(&self, org: &str) -> Option<u64> {
        self.store.head(org).unwrap().map(|head| head.seq)
    }
}

/// The auditor's chain of 4 statements (seq 0–3), a revocation of its key from seq 2 with a
/// replacement, proposed by DONOR and approved by IMPLEMENTER: returns the chain, the
/// replacement key and the proposal id.
fn revoke_auditor(fixture: &Fixture) -> (Vec<VerifiedRecord>, SigningKey, RecordId) {
    let auditor_chain = chain(AUDITOR, 4);
    let stored = fixture.ingest(auditor_chain.clone());
    assert_eq!(stored.stored, 4);
    let replacement = SigningKey::from_bytes(&[42; 32]);
    let proposal = Body::Proposal(Proposal {
        base: RecordId::ZERO,
        change: Change::RevokeKey {
            member: AUDITOR.into(),
            key: public(&key_of(AUDITOR)),
            from_seq: 2,
            replacement: Some(KeyGrant::prove(
                &genesis().network_id(),
                AUDITOR,
                &replacement,
            )),
        },
        note: "the auditor's laptop was stolen".into(),
    });
    let proposal_id = fixture.submit(proposal).unwrap();
    // One admin of two: nothing changes yet.
    assert_eq!(fixture.head_seq(AUDITOR), Some(3));
    let approval = record(
        IMPLEMENTER,
        0,
        RecordId::ZERO,
        Body::Approval(Approval {
            proposal: proposal_id,
        }),
    );
    let outcome = fixture.ingest(vec![approval]);
    assert_eq!(outcome.placements, vec![Placement::Stored]);
    (auditor_chain, replacement, proposal_id)
}

#[test]
fn revocation_rewinds_the_chain_and_keeps_the_revoked_records_readable() {
    let fixture = Fixture::new();
    let changes = fixture.governance.subscribe();
    let (auditor_chain, replacement, proposal_id) = revoke_auditor(&fixture);
    assert!(changes.has_changed().unwrap(), "subscribers are told");
    assert_eq!(
        fixture.head_seq(AUDITOR),
        Some(1),
        "the chain goes back to seq 1"
    );
    assert_eq!(fixture.store.revoked_count(), 2);
    assert_eq!(fixture.store.record_count().unwrap(), 2 + 1 + 1);
    for revoked in &auditor_chain[2..] {
        let bytes = fixture.store.get(&revoked.id()).unwrap().unwrap();
        assert_eq!(bytes, revoked.bytes(), "a revoked record stays readable");
        let why = fixture.store.revocation(&revoked.id()).unwrap().unwrap();
        assert_eq!(why.code, "key-revoked");
        assert_eq!(why.by, Some(proposal_id));
        assert!(
            why.reason.contains("after its revocation from seq 2"),
            "{}",
            why.reason
        );
    }
    assert!(fixture
        .store
        .revocation(&auditor_chain[1].id())
        .unwrap()
        .is_none());

    // The revoked key cannot sign there again, and offering the revoked records again does
    // not bring them back; neither is the sender's fault (placement Unauthorized).
    let thief = record(
        AUDITOR,
        2,
        auditor_chain[1].id(),
        statement("a second false statement"),
    );
    let refused = fixture.ingest(vec![thief, auditor_chain[3].clone()]);
    assert_eq!(refused.placements, vec![Placement::Unauthorized; 2]);
    assert_eq!(refused.unauthorized[0].1.code(), "key-revoked");
    assert_eq!(fixture.head_seq(AUDITOR), Some(1));

    // The auditor continues its chain at seq 2 with the replacement key.
    let continued = signed_by(
        &replacement,
        AUDITOR,
        2,
        auditor_chain[1].id(),
        statement("we are back"),
    );
    let outcome = fixture.ingest(vec![continued]);
    assert_eq!(outcome.placements, vec![Placement::Stored]);
    assert_eq!(fixture.head_seq(AUDITOR), Some(2));

    // The export lists governance records first, revoked records after the chains.
    let kinds: Vec<(bool, bool)> = fixture
        .store
        .bundle_items()
        .map(|item| match item.unwrap() {
            BundleItem::Record(bytes) => {
                let kind = BodyKind::from_wire(peek_body_kind(&bytes).unwrap()).unwrap();
                let revoked = fixture
                    .store
                    .revocation(&aidledger_spec::SignedRecord::parse(bytes).unwrap().id)
                    .unwrap()
                    .is_some();
                (kind.is_governance(), revoked)
            }
            other => panic!("no proofs, checkpoints or split views here: {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            vec![(true, false); 2],
            vec![(false, false); 3],
            vec![(false, true); 2]
        ]
        .concat()
    );

    // A restart derives the same state and moves nothing more.
    let view = fixture.governance.current();
    let reloaded = Governance::load(fixture.store.clone()).unwrap();
    assert_eq!(
        reloaded.current().derivation.authority,
        view.derivation.authority
    );
    assert_eq!(fixture.store.revoked_count(), 2);
}

/// A thief's governance record refused for good (its key revoked at its position) is kept as
/// revoked evidence and reaches the derivation, whatever order it arrived in; a stored proof
/// whose records the revocation invalidates no longer counts as the member's fork.
#[test]
fn refused_governance_records_are_kept_for_the_derivation_and_revoked_proofs_are_dropped() {
    let fixture = Fixture::new();
    // Before the revocation, the thief equivocates far ahead of the auditor's chain: both
    // records verify then, so the proof is stored.
    let fork_at = |text: &str| {
        record(
            AUDITOR,
            10,
            RecordId::from_hex(&"ab".repeat(32)).unwrap(),
            statement(text),
        )
    };
    let (first, second) = (fork_at("one"), fork_at("two"));
    let outcome = fixture
        .runtime
        .block_on(
            fixture
                .writer
                .ingest(Vec::<RuleCheckedRecord>::new(), vec![(first, second)]),
        )
        .unwrap();
    assert_eq!(outcome.proofs.len(), 1, "{outcome:?}");
    assert_eq!(fixture.store.proof_count(), 1);

    let (auditor_chain, _, proposal_id) = revoke_auditor(&fixture);
    assert_eq!(
        fixture.store.proof_count(),
        0,
        "a proof of two records signed after the revocation point is dropped"
    );

    // The thief's approval at seq 2 with the revoked key: refused, not the peer's fault, and
    // kept as revoked evidence that the derivation reads.
    let thief_approval = record(
        AUDITOR,
        2,
        auditor_chain[1].id(),
        Body::Approval(Approval {
            proposal: proposal_id,
        }),
    );
    let refused = fixture.ingest(vec![thief_approval.clone()]);
    assert_eq!(refused.placements, vec![Placement::Unauthorized]);
    let why = fixture
        .store
        .revocation(&thief_approval.id())
        .unwrap()
        .expect("kept as revoked evidence");
    assert_eq!(why.code, "key-revoked");
    assert!(fixture
        .governance
        .current()
        .records
        .iter()
        .any(|record| record.id == thief_approval.id()));
    // The export lists it with the governance records, before every ordinary record.
    let first_ordinary = fixture
        .store
        .bundle_items()
        .map(|item| match item.unwrap() {
            BundleItem::Record(bytes) => bytes,
            _ => Vec::new(),
        })
        .position(|bytes| {
            !BodyKind::from_wire(peek_body_kind(&bytes).unwrap())
                .unwrap()
                .is_governance()
        })
        .unwrap();
    let position = fixture
        .store
        .bundle_items()
        .position(|item| match item.unwrap() {
            BundleItem::Record(bytes) => bytes == thief_approval.bytes(),
            _ => false,
        })
        .unwrap();
    assert!(position < first_ordinary, "{position} < {first_ordinary}");
}

/// Two records at one position count for neither side: an approval a thief signed with an
/// admin's key at a position the admin's chain already holds stops counting once the proof of
/// the two records is stored, whichever of the two this node saw first (FORMAT.md 18.6).
#[test]
fn a_governance_record_at_a_contested_position_stops_counting() {
    let fixture = Fixture::new();
    let proposal = fixture
        .submit(Body::Proposal(Proposal {
            base: RecordId::ZERO,
            change: Change::SetRoles {
                member: AUDITOR.into(),
                roles: vec![aidledger_spec::Role::Observer],
            },
            note: String::new(),
        }))
        .unwrap();
    let steps = |fixture: &Fixture| fixture.governance.current().authority().steps().len();
    assert_eq!(steps(&fixture), 0, "one admin of two: pending");
    // The thief's approval reaches this node first and takes the implementer's seq 0.
    let thief = record(
        IMPLEMENTER,
        0,
        RecordId::ZERO,
        Body::Approval(Approval { proposal }),
    );
    assert_eq!(
        fixture.ingest(vec![thief]).placements,
        vec![Placement::Stored]
    );
    assert_eq!(steps(&fixture), 1, "the approval counted while uncontested");
    // The implementer's own record at seq 0 arrives: an equivocation, proven and stored.
    let real = record(
        IMPLEMENTER,
        0,
        RecordId::ZERO,
        statement("our real first record"),
    );
    let outcome = fixture.ingest(vec![real]);
    assert_eq!(outcome.proofs.len(), 1, "{outcome:?}");
    assert_eq!(
        steps(&fixture),
        0,
        "an approval at a contested position counts for neither side"
    );
    // The export lists the proof first, so an offline verifier knows it before deriving.
    let first = fixture.store.bundle_items().next().unwrap().unwrap();
    assert!(matches!(first, BundleItem::Proof(_)));
}

#[test]
fn records_of_an_unknown_key_are_refused_without_blame_and_the_writer_names_its_key() {
    let fixture = Fixture::new();
    let stranger = SigningKey::from_bytes(&[77; 32]);
    let outcome = fixture.ingest(vec![signed_by(
        &stranger,
        AUDITOR,
        0,
        RecordId::ZERO,
        statement("not yet"),
    )]);
    assert_eq!(outcome.placements, vec![Placement::Unauthorized]);
    assert_eq!(outcome.unauthorized[0].1.code(), "key-not-authors");

    // A writer whose key the authority does not grant refuses to sign, naming why.
    let writer = Writer::start(
        fixture.store.clone(),
        fixture.governance.clone(),
        "XX-NEW-1".into(),
        SigningKeys::single(stranger),
    )
    .unwrap();
    let error = fixture
        .runtime
        .block_on(writer.submit(statement("hello"), 0))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("this node's key") && error.contains("is not valid for XX-NEW-1 at seq 0"),
        "{error}"
    );
}

#[test]
fn the_key_rotation_endpoint_switches_keys_durably() {
    let root = tempfile::tempdir().unwrap();
    let mut node = TestNode::start(root.path(), DONOR);
    node.submit(&statement("before the rotation"));
    let response = node
        .http
        .post(format!("{}/v1/key/rotate", node.node().submit_url()))
        .bearer_auth(node.node().token())
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().unwrap();
    assert_eq!(answer["seq"], 1);
    let new_key = answer["new_key"].as_str().unwrap().to_owned();
    let old_key = public(&key_of(DONOR)).to_string();
    assert_ne!(new_key, old_key);
    let (_, seq) = node.submit(&statement("after the rotation"));
    assert_eq!(seq, 2);

    // The key files: the new key is org.key; the old one, retired once the rotation was
    // durable, is gone (issue 17: a stolen directory must not sign where it once could).
    let held = aidledger_store::datadir::read_key_file(&node.data_dir.join("org.key")).unwrap();
    assert_eq!(public(&held).to_string(), new_key);
    assert!(!node.data_dir.join(format!("org.key.{old_key}")).exists());

    // The public API shows the rotation.
    let governance: serde_json::Value = node.public_get("/api/governance").json().unwrap();
    let keys = &governance["authority"]["members"][DONOR]["keys"];
    assert_eq!(keys.as_array().unwrap().len(), 2, "{governance}");
    assert_eq!(keys[1]["key"].as_str().unwrap(), new_key);
    assert_eq!(keys[1]["from_seq"], 2);

    // A restart picks the new key; every record verifies under the derived authority.
    node.stop();
    let restarted = TestNode::start(root.path(), DONOR);
    let (_, seq) = restarted.submit(&statement("after the restart"));
    assert_eq!(seq, 3);
    drop(restarted);
    let store = Arc::new(Store::open(&root.path().join("data"), ExplorerIndex).unwrap());
    let governance = Governance::load(store.clone()).unwrap();
    let view = governance.current();
    let signers: Vec<String> = store
        .chain_range(DONOR, 0)
        .map(|entry| {
            let record = view.verifier.verify(entry.unwrap().1).unwrap();
            record.header().signing_key.to_string()
        })
        .collect();
    assert_eq!(
        signers,
        [&old_key, &old_key, &new_key, &new_key].map(String::clone)
    );
}

/// Posts a body and returns (status, error message).
fn post(node: &TestNode, body: &Body) -> (u16, String) {
    let (status, json) = node.submit_raw(encode(body));
    (
        status,
        json["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn the_policy_refuses_governance_bodies_that_cannot_count() {
    let root = tempfile::tempdir().unwrap();
    for org in ["donor", "auditor"] {
        std::fs::create_dir_all(root.path().join(org)).unwrap();
    }
    let donor = TestNode::start(&root.path().join("donor"), DONOR);
    let auditor = TestNode::start(&root.path().join("auditor"), AUDITOR);
    let add = |base: RecordId, id: &str| {
        Body::Proposal(Proposal {
            base,
            change: Change::SetRoles {
                member: id.into(),
                roles: vec![aidledger_spec::Role::Donor, aidledger_spec::Role::Auditor],
            },
            note: String::new(),
        })
    };
    let refused = |node: &TestNode, body: &Body, problem: &str| {
        let before = node.store_status();
        let (status, message) = post(node, body);
        assert_eq!(status, 400, "{message}");
        assert!(
            message.contains(problem),
            "{message:?} should name {problem:?}"
        );
        assert_eq!(
            node.store_status(),
            before,
            "a refused body changed the store"
        );
    };
    refused(&auditor, &add(RecordId::ZERO, AUDITOR), "is not an admin");
    refused(
        &donor,
        &add(aidledger_spec::Digest([9; 32]), AUDITOR),
        "is not the current governance tip",
    );
    refused(&donor, &add(RecordId::ZERO, "XX-NOBODY"), "cannot apply");
    let rotation = Body::KeyRotation(aidledger_spec::governance::KeyRotation {
        new_key: KeyGrant::prove(
            &genesis().network_id(),
            DONOR,
            &SigningKey::from_bytes(&[5; 32]),
        ),
    });
    refused(&donor, &rotation, "POST /v1/key/rotate");
    let unknown = Body::Approval(Approval {
        proposal: aidledger_spec::Digest([8; 32]),
    });
    refused(&donor, &unknown, "is not a known proposal");

    let (proposal, _) = donor.submit(&add(RecordId::ZERO, AUDITOR));
    let approve = Body::Approval(Approval { proposal });
    refused(&donor, &approve, "already approved");
    refused(&auditor, &approve, "is not an admin");
}

#[test]
fn a_rotation_cut_short_by_a_crash_leaves_the_node_signing_with_the_granted_key() {
    let root = tempfile::tempdir().unwrap();
    let mut node = TestNode::start(root.path(), DONOR);
    node.submit(&statement("before"));
    node.stop();
    // As if the node died after writing the new key file, before the rotation record.
    let unrecorded = SigningKey::from_bytes(&[99; 32]);
    aidledger_store::datadir::install_signing_key(&node.data_dir, &unrecorded, &key_of(DONOR))
        .unwrap();
    drop(node);
    let node = TestNode::start(root.path(), DONOR);
    let (id, seq) = node.submit(&statement("after the crash"));
    assert_eq!(seq, 1);
    let record: serde_json::Value = node
        .public_get(&format!("/api/records/{id}"))
        .json()
        .unwrap();
    assert_eq!(
        record["signing_key"].as_str().unwrap(),
        public(&key_of(DONOR)).to_string()
    );
}
