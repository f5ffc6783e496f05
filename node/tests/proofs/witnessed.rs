//! The node's collector of cosigned checkpoints and split-view proofs (node/src/witnessed/),
//! in-process over a real store, governance and writer: a checkpoint with two cosignatures
//! merged from two polls, forged and unknown cosignature lines dropped, a larger consistent
//! checkpoint taking the place of the stored one, and conflicting checkpoints becoming one
//! split-view proof of each shape, which checks offline; the node's own checkpoint served with
//! the cosignatures collected for exactly its text.

use std::sync::Arc;

use aidledger_node::checkpoints::Checkpoints;
use aidledger_node::governance::Governance;
use aidledger_node::witnessed::report;
use aidledger_node::witnessed::{Accepted, Witnessed};
use aidledger_node::writer::{SigningKeys, Writer};
use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::codec::Codec as _;
use aidledger_spec::cosignature;
use aidledger_spec::governance::{Approval, Change, Proposal, WitnessEntry};
use aidledger_spec::note::{Note, NoteSignature};
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
use aidledger_spec::{Body, Digest, PublicKey, RecordId};
use aidledger_store::Store;
use ed25519_dalek::SigningKey;

use super::common::*;

const WITNESS_A: &str = "witness.example/a";
const WITNESS_B: &str = "witness.example/b";

fn witness_key(name: &str) -> SigningKey {
    SigningKey::from_bytes(&[if name == WITNESS_A { 71 } else { 72 }; 32])
}

/// A store with DONOR's writer, a 2-of-2 witness policy in force (proposed by DONOR,
/// approved by IMPLEMENTER) and the auditor's chain of 6 records.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    store: Arc<Store>,
    governance: Arc<Governance>,
    writer: Arc<Writer>,
    witnessed: Witnessed,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(open_new_store(&bare_data_dir(dir.path())));
        let governance = Arc::new(Governance::load(store.clone()).unwrap());
        let writer = Arc::new(
            Writer::start(
                store.clone(),
                governance.clone(),
                DONOR.into(),
                SigningKeys::single(key_of(DONOR)),
            )
            .unwrap(),
        );
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let witnesses = [WITNESS_A, WITNESS_B]
            .iter()
            .map(|name| WitnessEntry {
                name: (*name).into(),
                key: PublicKey(witness_key(name).verifying_key().to_bytes()),
            })
            .collect();
        let proposal = runtime
            .block_on(writer.submit(
                Body::Proposal(Proposal {
                    base: RecordId::ZERO,
                    change: Change::SetWitnesses {
                        witnesses,
                        threshold: 2,
                    },
                    note: "two witnesses".into(),
                }),
                0,
            ))
            .unwrap()
            .id;
        let approval = record(
            IMPLEMENTER,
            0,
            RecordId::ZERO,
            Body::Approval(Approval { proposal }),
        );
        runtime
            .block_on(writer.ingest(vec![approval], Vec::new()))
            .unwrap();
        runtime
            .block_on(writer.ingest(chain(AUDITOR, 6), Vec::new()))
            .unwrap();
        assert!(governance.current().authority().witness_policy().is_some());
        let witnessed = Witnessed::new(store.clone(), governance.clone());
        Fixture {
            runtime,
            store,
            governance,
            writer,
            witnessed,
            _dir: dir,
        }
    }

    /// The auditor's checkpoint of `size` with `root` (the replica's when `None`), signed by
    /// its key, with cosignatures of `witnesses`.
    fn auditor_note(&self, size: u64, root: Option<Digest>, witnesses: &[&str]) -> Note {
        let root = root.unwrap_or_else(|| self.store.merkle_root(AUDITOR, size).unwrap());
        let mut note = Checkpoint::new(&genesis().network_id(), AUDITOR, size, root)
            .sign(&key_of(AUDITOR))
            .unwrap();
        for name in witnesses {
            note.signatures.push(
                cosignature::sign(&note.text, name, &witness_key(name), 1_700_000_000).unwrap(),
            );
        }
        note
    }

    fn stored(&self, org: &str) -> Note {
        Note::parse(&self.store.cosigned_checkpoint(org).unwrap().unwrap()).unwrap()
    }
}

/// The names of a note's signature lines.
fn names(note: &Note) -> Vec<String> {
    note.signatures
        .iter()
        .map(|line| line.name.clone())
        .collect()
}

#[test]
fn cosignatures_are_merged_forged_lines_dropped_and_conflicts_become_split_view_proofs() {
    let fixture = Fixture::new();
    let policy = fixture
        .governance
        .current()
        .authority()
        .witness_policy()
        .unwrap();
    let origin = aidledger_spec::checkpoint::origin(&genesis().network_id(), AUDITOR);

    // The first poll: witness A's cosignature.
    let first = fixture.auditor_note(4, None, &[WITNESS_A]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&first.to_text())
            .unwrap(),
        Accepted::Stored
    );
    assert_eq!(
        names(&fixture.stored(AUDITOR)),
        vec![origin.clone(), WITNESS_A.into()]
    );
    assert!(
        policy.check(&fixture.stored(AUDITOR)).is_err(),
        "one of two"
    );

    // The second poll: witness B's, with a forged line under A's name and key id, and a line
    // of a witness the policy does not list. Only B's is added.
    let mut second = fixture.auditor_note(4, None, &[WITNESS_B]);
    let mut forged = second.signatures[1].clone();
    forged.name = WITNESS_A.into();
    forged.key_id = first.signatures[1].key_id;
    second.signatures.insert(1, forged);
    second.signatures.push(
        cosignature::sign(
            &second.text,
            "stranger.example",
            &SigningKey::from_bytes(&[9; 32]),
            5,
        )
        .unwrap(),
    );
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&second.to_text())
            .unwrap(),
        Accepted::Merged(1)
    );
    let stored = fixture.stored(AUDITOR);
    assert_eq!(
        names(&stored),
        vec![origin.clone(), WITNESS_A.into(), WITNESS_B.into()]
    );
    assert_eq!(
        policy.check(&stored).unwrap().len(),
        2,
        "2 of 2, the forged line gone"
    );
    // The same again: nothing new.
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&second.to_text())
            .unwrap(),
        Accepted::Unchanged
    );
    // The organisation's explorer page says how far its chain is witnessed.
    let reader = fixture.store.reader();
    let view = fixture.governance.current();
    let page = aidledger_node::explorer::model::org_page(&reader, view.authority(), AUDITOR, None)
        .unwrap();
    let html = aidledger_node::explorer::pages::org(&page, "test network");
    assert!(
        html.contains(
            "<span class=\"ok\">witnessed at size 4 by 2 of 2 witnesses (2 needed)</span>"
        ),
        "{html}"
    );
    let chains = report::witnessed_chains(
        &fixture.store.reader(),
        fixture.governance.current().authority(),
    )
    .unwrap();
    assert_eq!(chains.len(), 1);
    assert_eq!(
        (
            chains[0].org.as_str(),
            chains[0].size,
            chains[0].cosigned,
            chains[0].witnesses,
            chains[0].threshold
        ),
        (AUDITOR, 4, 2, 2, 2)
    );

    // A larger consistent checkpoint takes its place; the older one changes nothing.
    let larger = fixture.auditor_note(6, None, &[WITNESS_A]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&larger.to_text())
            .unwrap(),
        Accepted::Stored
    );
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&first.to_text())
            .unwrap(),
        Accepted::Unchanged
    );
    assert_eq!(fixture.stored(AUDITOR).text, larger.text);
    assert!(fixture.store.split_views().unwrap().is_empty());

    // A note not signed by the organisation, of another network, of an unknown member: refused.
    let mut unsigned = larger.clone();
    unsigned.signatures.remove(0);
    assert!(fixture
        .witnessed
        .accept_checkpoint(&unsigned.to_text())
        .is_err());
    let foreign = Checkpoint::new(&Digest([7; 32]), AUDITOR, 6, Digest([1; 32]))
        .sign(&key_of(AUDITOR))
        .unwrap();
    assert!(fixture
        .witnessed
        .accept_checkpoint(&foreign.to_text())
        .is_err());
    assert!(fixture
        .witnessed
        .accept_checkpoint("garbage\n\n— x AAAA\n")
        .is_err());

    // Same size, another root: a SameSize proof; shown again, nothing more is stored.
    let forked = fixture.auditor_note(6, Some(Digest([5; 32])), &[]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&forked.to_text())
            .unwrap(),
        Accepted::SplitView(true)
    );
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&forked.to_text())
            .unwrap(),
        Accepted::SplitView(false)
    );
    assert_eq!(
        fixture.stored(AUDITOR).text,
        larger.text,
        "the replica's history is kept"
    );
    // A smaller one the replica's tree does not have: a Prefix proof.
    let behind = fixture.auditor_note(3, Some(Digest([6; 32])), &[]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&behind.to_text())
            .unwrap(),
        Accepted::SplitView(true)
    );
    let proofs = fixture.store.split_views().unwrap();
    assert_eq!(proofs.len(), 2);
    let keys = vec![PublicKey(key_of(AUDITOR).verifying_key().to_bytes())];
    let mut shapes = Vec::new();
    for bytes in &proofs {
        let proof = SplitViewProof::from_bytes(bytes).unwrap();
        let view = proof.check(&keys).unwrap();
        assert_eq!(view.org, AUDITOR);
        shapes.push(match proof.evidence {
            SplitEvidence::SameSize => (view.first.size, view.second.size, "same"),
            SplitEvidence::Prefix { .. } => (view.first.size, view.second.size, "prefix"),
        });
        // Given again (a peer's gossip), it is known.
        assert!(!fixture.witnessed.accept_split_view(bytes).unwrap().1);
    }
    shapes.sort();
    assert_eq!(shapes, vec![(3, 6, "prefix"), (6, 6, "same")]);
    let reports = report::split_views(
        &fixture.store.reader(),
        fixture.governance.current().authority(),
    )
    .unwrap();
    assert_eq!(reports.len(), 2);
    assert!(reports
        .iter()
        .all(|report| report.checks && !report.explained));

    // A split-view proof that does not check (the Prefix proof's checkpoints, of sizes 3
    // and 6, called SameSize), or does not decode, is refused and not stored.
    let mut broken = proofs
        .iter()
        .map(|bytes| SplitViewProof::from_bytes(bytes).unwrap())
        .find(|proof| matches!(proof.evidence, SplitEvidence::Prefix { .. }))
        .unwrap();
    broken.evidence = SplitEvidence::SameSize;
    assert!(fixture
        .witnessed
        .accept_split_view(&broken.to_bytes())
        .is_err());
    assert_eq!(fixture.store.split_views().unwrap().len(), 2);
    assert!(fixture.witnessed.accept_split_view(b"not a proof").is_err());
}

#[test]
fn an_uncosigned_note_is_only_compared_never_stored_in_place_of_a_cosigned_one() {
    let fixture = Fixture::new();
    // With a witness policy in force, the organisation's own note (as its node gossips it)
    // is not stored when nothing is stored yet either.
    let own = fixture.auditor_note(3, None, &[]);
    assert_eq!(
        fixture.witnessed.accept_checkpoint(&own.to_text()).unwrap(),
        Accepted::NotCosigned
    );
    assert!(fixture
        .store
        .cosigned_checkpoint(AUDITOR)
        .unwrap()
        .is_none());

    let cosigned = fixture.auditor_note(4, None, &[WITNESS_A, WITNESS_B]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&cosigned.to_text())
            .unwrap(),
        Accepted::Stored
    );
    // A larger consistent note with no cosignature (or only lines that do not verify) does
    // not evict the cosigned one.
    let larger = fixture.auditor_note(6, None, &[]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&larger.to_text())
            .unwrap(),
        Accepted::NotCosigned
    );
    let mut forged = fixture.auditor_note(6, None, &[WITNESS_A]);
    forged.signatures[1].signature[12] ^= 1;
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&forged.to_text())
            .unwrap(),
        Accepted::NotCosigned
    );
    // The same checkpoint as stored, with only its organisation's line: nothing merged.
    let same = fixture.auditor_note(4, None, &[]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&same.to_text())
            .unwrap(),
        Accepted::Unchanged
    );
    assert_eq!(
        fixture.stored(AUDITOR),
        cosigned,
        "the cosigned note is kept"
    );
    assert!(fixture.store.split_views().unwrap().is_empty());

    // An uncosigned note that conflicts with the stored one is still a split-view proof,
    // and the cosigned note stays.
    let forked = fixture.auditor_note(4, Some(Digest([8; 32])), &[]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&forked.to_text())
            .unwrap(),
        Accepted::SplitView(true)
    );
    let forked_larger = fixture.auditor_note(6, Some(Digest([9; 32])), &[]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&forked_larger.to_text())
            .unwrap(),
        Accepted::Undecided(format!(
            "this node's replica of {AUDITOR}'s chain (6 records) does not hold the tree of the \
             checkpoint of size 6"
        )),
        "neither the replica's history nor a proof of another: not judged"
    );
    assert_eq!(fixture.store.split_views().unwrap().len(), 1);
    assert_eq!(fixture.stored(AUDITOR), cosigned);

    // A cosigned larger note behaves as before: it takes the place of the stored one.
    let cosigned_larger = fixture.auditor_note(6, None, &[WITNESS_B]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&cosigned_larger.to_text())
            .unwrap(),
        Accepted::Stored
    );
    assert_eq!(fixture.stored(AUDITOR), cosigned_larger);
}

#[test]
fn the_nodes_own_checkpoint_is_served_with_the_cosignatures_collected_for_it() {
    let fixture = Fixture::new();
    let checkpoints =
        Checkpoints::new(fixture.store.reader(), DONOR.into(), fixture.writer.clone());
    let published = checkpoints.latest().unwrap();
    let reader = fixture.store.reader();
    // Nothing collected: the note alone.
    assert_eq!(
        report::with_cosignatures(&reader, DONOR, &published.note).unwrap(),
        published.note
    );
    let mut cosigned = Note::parse(&published.note).unwrap();
    for name in [WITNESS_A, WITNESS_B] {
        let line: NoteSignature =
            cosignature::sign(&cosigned.text, name, &witness_key(name), 1_700_000_001).unwrap();
        cosigned.signatures.push(line);
    }
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&cosigned.to_text())
            .unwrap(),
        Accepted::Stored
    );
    let served = report::with_cosignatures(&reader, DONOR, &published.note).unwrap();
    assert_eq!(served, cosigned.to_text());
    let policy = fixture
        .governance
        .current()
        .authority()
        .witness_policy()
        .unwrap();
    assert_eq!(
        policy.check(&Note::parse(&served).unwrap()).unwrap().len(),
        2
    );

    // Once the chain grows, the new note is served alone until witnesses cosign it.
    fixture
        .runtime
        .block_on(fixture.writer.submit(statement("one more"), 0))
        .unwrap();
    let newer = checkpoints.latest().unwrap();
    assert_ne!(newer.note, published.note);
    assert_eq!(
        report::with_cosignatures(&reader, DONOR, &newer.note).unwrap(),
        newer.note
    );
}

/// A witness stand-in: serves `/api/witness` with whatever the test puts in `answer`.
struct FakeWitness {
    url: String,
    answer: Arc<std::sync::Mutex<serde_json::Value>>,
    _runtime: tokio::runtime::Runtime,
}

impl FakeWitness {
    fn start() -> FakeWitness {
        use axum::routing::get;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answer = Arc::new(std::sync::Mutex::new(serde_json::json!({
            "witness": "witness.example/a+00000000+AAAA", "checkpoints": [], "split_views": []
        })));
        let served = answer.clone();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/api/witness",
            get(move || {
                let answer = served.lock().unwrap().clone();
                async move { axum::Json(answer) }
            }),
        );
        runtime.spawn(async move { axum::serve(listener, app).await });
        FakeWitness {
            url,
            answer,
            _runtime: runtime,
        }
    }

    fn serve(&self, checkpoints: &[String], split_views: &[String]) {
        let mut answer = self.answer.lock().unwrap();
        answer["checkpoints"] = serde_json::json!(checkpoints);
        answer["split_views"] = serde_json::json!(split_views);
    }
}

/// A node started with `--witness` polls it: the checkpoints it serves are stored and served at
/// `/checkpoint/{org}`, a conflicting one becomes a split-view proof listed at
/// `/api/split-views`, and garbage from the witness changes nothing.
#[test]
fn a_node_polls_its_witnesses_and_serves_what_it_collected() {
    let witness = FakeWitness::start();
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start_with_network(
        root.path(),
        DONOR,
        aidledger_node::NetworkOptions {
            witnesses: vec![witness.url.clone()],
            witness_poll_ms: Some(50),
            ..Default::default()
        },
    );
    let network = genesis().network_id();
    let note = |root: u8| {
        Checkpoint::new(&network, AUDITOR, 5, Digest([root; 32]))
            .sign(&key_of(AUDITOR))
            .unwrap()
            .to_text()
    };
    let path = format!("/checkpoint/{AUDITOR}");
    assert_eq!(node.public_get(&path).status().as_u16(), 404);

    // Garbage first: refused, logged, the poller goes on.
    witness.serve(&["not a note".into()], &["zz".into()]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(node.public_get(&path).status().as_u16(), 404);

    witness.serve(&[note(1)], &[]);
    wait_until(
        std::time::Duration::from_secs(20),
        "the checkpoint collected",
        || node.public_get(&path).status().as_u16() == 200,
    );
    assert_eq!(node.public_get(&path).text().unwrap(), note(1));

    // Another root at the same size: a split-view proof, which the API lists.
    witness.serve(&[note(2)], &[]);
    wait_until(
        std::time::Duration::from_secs(20),
        "the split view stored",
        || node.node().store().split_view_count() == 1,
    );
    let listed: serde_json::Value = node.public_get("/api/split-views").json().unwrap();
    let listed = listed["split_views"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["org"], AUDITOR);
    assert_eq!(
        (
            listed[0]["first_size"].as_u64(),
            listed[0]["second_size"].as_u64()
        ),
        (Some(5), Some(5))
    );
    assert_eq!(listed[0]["checks"], true);
    assert_eq!(listed[0]["explained"], false);
    // The status API says it, and the auditor's collected checkpoint (no witness policy).
    let status: serde_json::Value = node.public_get("/api/status").json().unwrap();
    assert_eq!(
        status["split_views"],
        serde_json::json!([{"org": AUDITOR, "first_size": 5, "second_size": 5,
            "explained": false, "checks": true}])
    );
    assert_eq!(
        status["witnessed"],
        serde_json::json!([{"org": AUDITOR, "size": 5, "cosigned": 0, "witnesses": 0,
            "threshold": 0}])
    );
    // The organisation's explorer page says it in plain words, as prominently as a fork.
    let page = node.public_get(&format!("/org/{AUDITOR}")).text().unwrap();
    assert!(
        page.contains("<span class=\"bad\">SPLIT VIEW: this organisation signed two checkpoints of its chain that cannot both be true (sizes 5 and 5)"),
        "{page}"
    );
    assert!(page.contains("signed at size 5; the network has no witness policy"));
    let home = node.public_get("/").text().unwrap();
    assert!(
        home.contains(&format!("<span class=\"bad\">SPLIT VIEW: {AUDITOR} signed two checkpoints of its chain that cannot both be true")),
        "{home}"
    );
    let other = node.public_get(&format!("/org/{DONOR}")).text().unwrap();
    assert!(other.contains("no cosigned checkpoint collected from witnesses"));
    assert!(!other.contains("SPLIT VIEW"));
    let json: serde_json::Value = node
        .public_get(&format!("/api/org/{AUDITOR}"))
        .json()
        .unwrap();
    assert_eq!(
        json["split_views"],
        serde_json::json!([{"first_size": 5, "second_size": 5, "explained": false}])
    );
    let bytes = hex::decode(listed[0]["proof"].as_str().unwrap()).unwrap();
    let keys = vec![PublicKey(key_of(AUDITOR).verifying_key().to_bytes())];
    SplitViewProof::from_bytes(&bytes)
        .unwrap()
        .check(&keys)
        .unwrap();
}

/// A checkpoint over records a governance revocation later moved out of the chain, against a
/// checkpoint of the same size over the continued chain: a split-view proof, reported as
/// explained by the revocation (FORMAT.md §25.2), and the stored checkpoint follows the chain.
#[test]
fn a_split_view_across_a_revocation_is_explained() {
    use aidledger_spec::governance::KeyGrant;
    use aidledger_spec::{sign_record, RecordDraft, Verifier};
    let fixture = Fixture::new();
    // Cosigned, as witnesses show them: only a cosigned note is stored (FORMAT.md §24.4).
    let before = fixture.auditor_note(4, None, &[WITNESS_A]);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&before.to_text())
            .unwrap(),
        Accepted::Stored
    );
    // The auditor's key is revoked from seq 2, with a replacement (DONOR proposes, the
    // implementer approves): its records 2–5 leave the chain.
    let replacement = SigningKey::from_bytes(&[42; 32]);
    let network = genesis().network_id();
    let proposal = fixture
        .runtime
        .block_on(fixture.writer.submit(
            Body::Proposal(Proposal {
                base: fixture.governance.current().authority().tip(),
                change: Change::RevokeKey {
                    member: AUDITOR.into(),
                    key: PublicKey(key_of(AUDITOR).verifying_key().to_bytes()),
                    from_seq: 2,
                    replacement: Some(KeyGrant::prove(&network, AUDITOR, &replacement)),
                },
                note: "stolen".into(),
            }),
            0,
        ))
        .unwrap()
        .id;
    let implementer_head = fixture.store.head(IMPLEMENTER).unwrap().unwrap();
    let approval = record(
        IMPLEMENTER,
        implementer_head.seq + 1,
        implementer_head.id,
        Body::Approval(Approval { proposal }),
    );
    fixture
        .runtime
        .block_on(fixture.writer.ingest(vec![approval], Vec::new()))
        .unwrap();
    assert_eq!(
        fixture.store.chain_size(AUDITOR).unwrap(),
        2,
        "rewound to seq 2"
    );
    // The chain continues with the replacement key.
    let mut prev = fixture.store.head(AUDITOR).unwrap().unwrap().id;
    let mut continued = Vec::new();
    for seq in 2..4 {
        let draft = RecordDraft {
            network_id: network,
            author: AUDITOR.into(),
            seq,
            prev,
            timestamp_ms: 1_700_000_100_000 + seq,
            body: statement(&format!("after the revocation {seq}")),
        };
        let (id, bytes) = sign_record(&draft, &replacement).unwrap();
        continued.push(Verifier::new(genesis()).verify_record_rules(bytes).unwrap());
        prev = id;
    }
    fixture
        .runtime
        .block_on(fixture.writer.ingest(continued, Vec::new()))
        .unwrap();
    assert_eq!(fixture.store.chain_size(AUDITOR).unwrap(), 4);
    let mut after = Checkpoint::new(
        &network,
        AUDITOR,
        4,
        fixture.store.merkle_root(AUDITOR, 4).unwrap(),
    )
    .sign(&replacement)
    .unwrap();
    after.signatures.push(
        cosignature::sign(
            &after.text,
            WITNESS_A,
            &witness_key(WITNESS_A),
            1_700_000_000,
        )
        .unwrap(),
    );
    assert_ne!(after.text, before.text);
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&after.to_text())
            .unwrap(),
        Accepted::SplitView(true)
    );
    assert_eq!(
        fixture.stored(AUDITOR).text,
        after.text,
        "the chain's history is kept"
    );
    let reports = report::split_views(
        &fixture.store.reader(),
        fixture.governance.current().authority(),
    )
    .unwrap();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].checks, "{:?}", reports[0]);
    assert!(reports[0].explained, "{:?}", reports[0]);

    // A fork of the continued chain is not explained by that revocation.
    let forked = Checkpoint::new(&network, AUDITOR, 4, Digest([3; 32]))
        .sign(&replacement)
        .unwrap();
    assert_eq!(
        fixture
            .witnessed
            .accept_checkpoint(&forked.to_text())
            .unwrap(),
        Accepted::SplitView(true)
    );
    let reports = report::split_views(
        &fixture.store.reader(),
        fixture.governance.current().authority(),
    )
    .unwrap();
    assert_eq!(reports.iter().filter(|report| report.explained).count(), 1);
    assert_eq!(reports.len(), 2);
}
