//! The network follows the governance state live (issue 7), with real swarms on loopback: a
//! member removed by the admins has its node disconnected and refused; a member added by them
//! has its node let in, and it syncs every chain, and the members sync its chain. Also the
//! range sync state machine when a batch is cut short by an authority rule. And what nodes
//! collect from witnesses (issue 21): a split-view proof made on one node reaches a connected
//! node by gossip and a node started later by sync.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aidledger_node::checkpoints::Checkpoints;
use aidledger_node::governance::Governance;
use aidledger_node::network::status::NetworkStatus;
use aidledger_node::network::sync::{Action, Syncer};
use aidledger_node::network::wire::{SyncRequest, WireHead};
use aidledger_node::network::{self, identity, NetworkConfig, NetworkHandle};
use aidledger_node::witnessed::{Accepted, Witnessed};
use aidledger_node::writer::{Committed, SigningKeys, Writer};
use aidledger_node::ExplorerIndex;
use aidledger_spec::genesis::{AdminRule, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::governance::{Approval, Change, Proposal};
use aidledger_spec::record::Statement;
use aidledger_spec::withheld::ChainRecord;
use aidledger_spec::{codec, sign_record, Body, Genesis, PublicKey, RecordDraft, RecordId};
use aidledger_store::{DirLock, OpenMode, Store};
use ed25519_dalek::SigningKey;
use libp2p::{Multiaddr, PeerId};

const ADMIN_A: &str = "GB-GOV-1";
const ADMIN_B: &str = "XM-DAC-41122";
const AUDITOR: &str = "XI-IATI-AUD";
const NEWCOMER: &str = "XM-OCHA-NEW";

/// How long a test waits for the network to do something (ticks are 1 s).
const WAIT: Duration = Duration::from_secs(15);

fn signing_key(org: &str) -> SigningKey {
    SigningKey::from_bytes(&seed(org, 1))
}

fn node_key(org: &str) -> SigningKey {
    SigningKey::from_bytes(&seed(org, 2))
}

fn seed(org: &str, purpose: u8) -> [u8; 32] {
    let mut seed = [purpose; 32];
    for (slot, byte) in seed.iter_mut().zip(org.bytes()) {
        *slot ^= byte;
    }
    seed
}

fn public(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

fn member(org: &str, role: Role) -> Member {
    Member {
        id: org.into(),
        name: format!("{org} (test)"),
        roles: vec![role],
        signing_keys: vec![public(&signing_key(org))],
        node_keys: vec![public(&node_key(org))],
    }
}

/// Admins A and B (2 of 2), and an auditor; every member runs a node.
fn genesis() -> Genesis {
    let mut genesis = Genesis {
        format_version: GENESIS_FORMAT_VERSION,
        name: "membership test network".into(),
        created_ms: 1_700_000_000_000,
        members: vec![
            member(ADMIN_A, Role::Donor),
            member(ADMIN_B, Role::Implementer),
            member(AUDITOR, Role::Auditor),
        ],
        admin_rule: AdminRule {
            admins: vec![ADMIN_A.into(), ADMIN_B.into()],
            threshold: 2,
        },
    };
    genesis.normalise();
    genesis.check().expect("test genesis is valid");
    genesis
}

fn peer_of(org: &str) -> PeerId {
    identity::keypair(&node_key(org)).public().to_peer_id()
}

/// A store, governance state, writer and network of one organisation, in a temporary
/// directory.
struct TestNode {
    org: String,
    store: Arc<Store>,
    writer: Arc<Writer>,
    witnessed: Arc<Witnessed>,
    network: Option<NetworkHandle>,
    _dir: tempfile::TempDir,
}

impl TestNode {
    async fn start(org: &str, genesis: &Genesis, bootstrap: Vec<Multiaddr>) -> TestNode {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("genesis.bin"), genesis.encode()).unwrap();
        let store = Arc::new(open_store(&data));
        let governance = Arc::new(Governance::load(store.clone()).unwrap());
        let witnessed = Arc::new(Witnessed::new(store.clone(), governance.clone()));
        let writer = Arc::new(
            Writer::start(
                store.clone(),
                governance,
                org.into(),
                SigningKeys::single(signing_key(org)),
            )
            .unwrap(),
        );
        let config = NetworkConfig {
            keypair: identity::keypair(&node_key(org)),
            listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
            bootstrap,
        };
        let checkpoints = Arc::new(Checkpoints::new(store.reader(), org.into(), writer.clone()));
        let network = network::start_with_witnessed(
            config,
            store.clone(),
            writer.clone(),
            witnessed.clone(),
            checkpoints,
        )
        .await
        .unwrap();
        TestNode {
            org: org.into(),
            store,
            writer,
            witnessed,
            network: Some(network),
            _dir: dir,
        }
    }

    fn addr(&self) -> Multiaddr {
        self.network().listen_addrs()[0].clone()
    }

    fn network(&self) -> &NetworkHandle {
        self.network.as_ref().unwrap()
    }

    fn status(&self) -> NetworkStatus {
        self.network()
            .status()
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn is_connected_to(&self, org: &str) -> bool {
        let peer = peer_of(org).to_string();
        self.status()
            .peers
            .iter()
            .any(|status| status.peer_id == peer)
    }

    fn head_seq(&self, org: &str) -> Option<u64> {
        self.store.head(org).unwrap().map(|head| head.seq)
    }

    fn is_member(&self, org: &str) -> bool {
        let view = self.writer.governance().current();
        view.derivation
            .authority
            .member(org)
            .is_some_and(|member| member.is_current())
    }

    async fn submit(&self, body: Body) -> Committed {
        let size = codec::encode(&body).len();
        self.writer
            .submit(body, size)
            .await
            .unwrap_or_else(|error| panic!("{} cannot record: {error}", self.org))
    }

    async fn stop(mut self) {
        if let Some(network) = self.network.take() {
            network.stop().await;
        }
        self.writer.stop().await;
    }
}

fn open_store(dir: &Path) -> Store {
    let lock = DirLock::acquire(dir).unwrap();
    Store::open_with_lock(dir, lock, OpenMode::CreateIfMissing, ExplorerIndex).unwrap()
}

fn statement(text: &str) -> Body {
    Body::Statement(Statement {
        title: "statement".into(),
        language: "en".into(),
        text: text.into(),
    })
}

fn proposal(change: Change) -> Body {
    Body::Proposal(Proposal {
        base: RecordId::ZERO,
        change,
        note: "membership test".into(),
    })
}

/// Waits until `condition` holds, failing the test after `timeout` ([`aidledger_process::wait_until`]).
#[track_caller]
fn wait_until(timeout: Duration, what: &str, condition: impl FnMut() -> bool) {
    // The poll blocks this worker thread; block_in_place hands the runtime's other tasks (the
    // nodes) to the other worker meanwhile.
    let waited =
        tokio::task::block_in_place(|| aidledger_process::wait_until(timeout, what, condition));
    if let Err(timed_out) = waited {
        panic!("{timed_out}");
    }
}

/// Checks that `condition` holds throughout `period`.
async fn holds_for(what: &str, period: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + period;
    while Instant::now() < deadline {
        assert!(condition(), "{what} no longer holds");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_members_node_is_disconnected_and_refused() {
    let genesis = genesis();
    let a = TestNode::start(ADMIN_A, &genesis, Vec::new()).await;
    let b = TestNode::start(ADMIN_B, &genesis, vec![a.addr()]).await;
    let auditor = TestNode::start(AUDITOR, &genesis, vec![a.addr()]).await;
    auditor.submit(statement("audit opinion")).await;
    wait_until(WAIT, "the auditor's node to connect and sync", || {
        a.is_connected_to(AUDITOR) && a.head_seq(AUDITOR) == Some(0)
    });

    let removal = a
        .submit(proposal(Change::RemoveMember {
            member: AUDITOR.into(),
            from_seq: 1,
        }))
        .await;
    wait_until(WAIT, "B to hold A's proposal", || {
        b.head_seq(ADMIN_A).is_some()
    });
    b.submit(Body::Approval(Approval {
        proposal: removal.id,
    }))
    .await;
    wait_until(WAIT, "A to apply the removal", || !a.is_member(AUDITOR));
    wait_until(WAIT, "A to disconnect the removed member's node", || {
        !a.is_connected_to(AUDITOR)
    });
    let refused_before = a.status().refused_connections;
    // The removed node keeps redialling A (its bootstrap peer) every second: refused each time.
    holds_for(
        "the removed member's node staying disconnected",
        Duration::from_millis(2500),
        || !a.is_connected_to(AUDITOR),
    )
    .await;
    assert!(
        a.status().refused_connections > refused_before,
        "A refused the removed node's new connections: {:?}",
        a.status()
    );
    assert!(auditor.status().peers.is_empty(), "{:?}", auditor.status());
    // The members stay connected, and the removed member's records before the removal stay.
    assert!(a.is_connected_to(ADMIN_B) && b.is_connected_to(ADMIN_A));
    assert_eq!(a.head_seq(AUDITOR), Some(0));
    assert_eq!(a.status().rejected_messages, 0, "{:?}", a.status());

    for node in [auditor, b, a] {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_members_node_joins_and_syncs_every_chain() {
    let genesis = genesis();
    let a = TestNode::start(ADMIN_A, &genesis, Vec::new()).await;
    let b = TestNode::start(ADMIN_B, &genesis, vec![a.addr()]).await;
    for n in 0..3 {
        a.submit(statement(&format!("before the newcomer {n}")))
            .await;
    }
    // The newcomer's node is not a member node yet: A refuses it, but it keeps dialling.
    let newcomer = TestNode::start(NEWCOMER, &genesis, vec![a.addr()]).await;
    wait_until(WAIT, "A to refuse the newcomer's node", || {
        a.status().refused_connections > 0
    });
    assert!(!a.is_connected_to(NEWCOMER));
    assert_eq!(newcomer.head_seq(ADMIN_A), None);

    let mut joining = member(NEWCOMER, Role::Implementer);
    joining.name = "Newcomer".into();
    let addition = a
        .submit(proposal(Change::AddMember { member: joining }))
        .await;
    wait_until(WAIT, "B to hold A's proposal", || {
        b.head_seq(ADMIN_A) == Some(3)
    });
    b.submit(Body::Approval(Approval {
        proposal: addition.id,
    }))
    .await;
    wait_until(WAIT, "A to apply the addition", || a.is_member(NEWCOMER));
    wait_until(WAIT, "the newcomer's node to connect and sync", || {
        a.is_connected_to(NEWCOMER)
            && newcomer.head_seq(ADMIN_A) == Some(3)
            && newcomer.head_seq(ADMIN_B) == Some(0)
    });
    wait_until(WAIT, "the newcomer to apply its own addition", || {
        newcomer.is_member(NEWCOMER)
    });

    // The newcomer records; the members fetch its chain.
    newcomer.submit(statement("newcomer's first record")).await;
    wait_until(WAIT, "the members to hold the newcomer's chain", || {
        a.head_seq(NEWCOMER) == Some(0) && b.head_seq(NEWCOMER) == Some(0)
    });

    // A member node that starts now syncs everything from A, including the newcomer's chain,
    // whose records it refuses until it has applied the addition (without holding it against A).
    let auditor = TestNode::start(AUDITOR, &genesis, vec![a.addr()]).await;
    wait_until(WAIT, "a late member node to sync every chain", || {
        auditor.head_seq(ADMIN_A) == Some(3)
            && auditor.head_seq(ADMIN_B) == Some(0)
            && auditor.head_seq(NEWCOMER) == Some(0)
    });
    assert!(auditor.is_connected_to(ADMIN_A));
    for node in [&a, &b, &newcomer, &auditor] {
        assert_eq!(
            node.status().rejected_messages,
            0,
            "{}: {:?}",
            node.org,
            node.status()
        );
    }

    for node in [auditor, newcomer, b, a] {
        node.stop().await;
    }
}

/// A verified record of the test network.
/// Two checkpoints of the auditor's chain of one size with different roots, shown to node A:
/// A stores the split-view proof; B, connected, gets it (gossip, or sync within a few
/// rounds); C, started after the gossip is long gone, gets it by sync, with the cosigned
/// checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_view_reaches_a_connected_node_and_a_node_started_later() {
    use aidledger_spec::checkpoint::Checkpoint;
    use aidledger_spec::codec::Codec as _;
    use aidledger_spec::splitview::SplitViewProof;
    let genesis = genesis();
    let a = TestNode::start(ADMIN_A, &genesis, Vec::new()).await;
    let b = TestNode::start(ADMIN_B, &genesis, vec![a.addr()]).await;
    wait_until(WAIT, "B to connect to A", || {
        a.is_connected_to(ADMIN_B) && b.is_connected_to(ADMIN_A)
    });
    // The gossip mesh forms at gossipsub's heartbeats.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let network_id = genesis.network_id();
    let note = move |root: u8| {
        Checkpoint::new(&network_id, AUDITOR, 5, aidledger_spec::Digest([root; 32]))
            .sign(&signing_key(AUDITOR))
            .unwrap()
            .to_text()
    };
    let witnessed = a.witnessed.clone();
    let (first, second) = tokio::task::spawn_blocking(move || {
        (
            witnessed.accept_checkpoint(&note(1)).unwrap(),
            witnessed.accept_checkpoint(&note(2)).unwrap(),
        )
    })
    .await
    .unwrap();
    assert_eq!(
        (first, second),
        (Accepted::Stored, Accepted::SplitView(true))
    );
    assert_eq!(a.store.split_view_count(), 1);
    wait_until(WAIT, "the split-view proof to reach B", || {
        b.store.split_view_count() == 1
    });
    assert_eq!(
        b.store.split_views().unwrap(),
        a.store.split_views().unwrap()
    );
    let keys = vec![public(&signing_key(AUDITOR))];
    let bytes = &b.store.split_views().unwrap()[0];
    SplitViewProof::from_bytes(bytes)
        .unwrap()
        .check(&keys)
        .unwrap();

    // Gossipsub keeps messages for a few heartbeats (1.5 s): a node started after that learns
    // them only from a peer's answer to the sync request `Witnessed`.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let c = TestNode::start(AUDITOR, &genesis, vec![b.addr()]).await;
    wait_until(WAIT, "the split-view proof to reach C by sync", || {
        c.store.split_view_count() == 1
    });
    assert_eq!(
        c.store.split_views().unwrap(),
        a.store.split_views().unwrap()
    );
    assert_eq!(
        c.store.cosigned_checkpoints().unwrap(),
        a.store.cosigned_checkpoints().unwrap()
    );
    assert_eq!(a.status().rejected_messages, 0, "{:?}", a.status());

    for node in [c, b, a] {
        node.stop().await;
    }
}

/// Each node gossips its own organisation's checkpoint once its chain has grown: B receives
/// A's (with no witness policy, the organisation's own note is what B keeps, FORMAT.md
/// "What witnesses showed"), follows A's chain as it grows, and a conflicting checkpoint of
/// A's chain signed with A's key, shown to B, becomes a split-view proof that reaches A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_own_checkpoint_reaches_its_peers_and_a_conflicting_one_is_a_split_view() {
    use aidledger_spec::checkpoint::Checkpoint;
    use aidledger_spec::note::Note;
    let genesis = genesis();
    let a = TestNode::start(ADMIN_A, &genesis, Vec::new()).await;
    let b = TestNode::start(ADMIN_B, &genesis, vec![a.addr()]).await;
    wait_until(WAIT, "B to connect to A", || {
        a.is_connected_to(ADMIN_B) && b.is_connected_to(ADMIN_A)
    });
    // Nothing is published for an empty chain.
    holds_for(
        "no checkpoint of A's empty chain",
        Duration::from_millis(1500),
        || b.store.cosigned_checkpoint(ADMIN_A).unwrap().is_none(),
    )
    .await;
    let stored_size = |node: &TestNode| {
        node.store
            .cosigned_checkpoint(ADMIN_A)
            .unwrap()
            .map(|text| {
                Checkpoint::parse(&Note::parse(&text).unwrap().text)
                    .unwrap()
                    .size
            })
    };
    a.submit(statement("first")).await;
    a.submit(statement("second")).await;
    wait_until(WAIT, "B to receive A's own checkpoint of 2 records", || {
        stored_size(&b) == Some(2)
    });
    let network_id = genesis.network_id();
    let text = b.store.cosigned_checkpoint(ADMIN_A).unwrap().unwrap();
    let expected = Checkpoint::new(
        &network_id,
        ADMIN_A,
        2,
        a.store.merkle_root(ADMIN_A, 2).unwrap(),
    )
    .sign(&signing_key(ADMIN_A))
    .unwrap();
    assert_eq!(text, expected.to_text(), "A's own note, as A signed it");
    a.submit(statement("third")).await;
    wait_until(WAIT, "B to follow A's chain to 3 records", || {
        stored_size(&b) == Some(3)
    });

    // A checkpoint of A's chain at the same size with another root, signed with A's key (a
    // node showing another history to someone), given to B: a split-view proof, which
    // reaches A by gossip.
    let forged = Checkpoint::new(&network_id, ADMIN_A, 3, aidledger_spec::Digest([7; 32]))
        .sign(&signing_key(ADMIN_A))
        .unwrap()
        .to_text();
    let witnessed = b.witnessed.clone();
    let accepted = tokio::task::spawn_blocking(move || witnessed.accept_checkpoint(&forged))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(accepted, Accepted::SplitView(true));
    assert_eq!(stored_size(&b), Some(3));
    wait_until(WAIT, "the split-view proof to reach A", || {
        a.store.split_view_count() == 1
    });
    assert_eq!(a.status().rejected_messages, 0, "{:?}", a.status());
    assert_eq!(b.status().rejected_messages, 0, "{:?}", b.status());

    for node in [b, a] {
        node.stop().await;
    }
}

fn record(org: &str, seq: u64, prev: RecordId) -> aidledger_spec::VerifiedRecord {
    let draft = RecordDraft {
        network_id: genesis().network_id(),
        author: org.into(),
        seq,
        prev,
        timestamp_ms: 1_700_000_000_000 + seq,
        body: statement(&format!("{org} {seq}")),
    };
    let (_, bytes) = sign_record(&draft, &signing_key(org)).unwrap();
    aidledger_spec::Verifier::new(genesis())
        .verify(bytes)
        .unwrap()
}

#[test]
fn a_batch_cut_short_by_an_authority_rule_ends_the_fetch_after_its_valid_records() {
    let peer = PeerId::random();
    let mut syncer = Syncer::default();
    let heads = [WireHead {
        author: AUDITOR.into(),
        seq: 9,
        id: [0; 32],
    }];
    let actions = syncer.on_heads(peer, &heads, |_| None, &Default::default());
    assert!(matches!(
        actions.as_slice(),
        [Action::Request {
            request: SyncRequest::Range { from_seq: 0, .. },
            ..
        }]
    ));
    // The peer answers in two parts: seq 0–4, then (asked from 5) seq 5–9.
    let first = syncer.on_records(AUDITOR, 0, vec![Vec::new(); 5]);
    assert!(first
        .iter()
        .any(|action| matches!(action, Action::Verify { from_seq: 0, .. })));
    let request_next = first.iter().find_map(|action| match action {
        Action::Request {
            request: SyncRequest::Range { from_seq, .. },
            ..
        } => Some(*from_seq),
        _ => None,
    });
    assert_eq!(request_next, Some(5));
    let second = syncer.on_records(AUDITOR, 5, vec![Vec::new(); 5]);
    assert!(second
        .iter()
        .any(|action| matches!(action, Action::Verify { from_seq: 5, .. })));

    // The first batch verifies up to seq 2; seq 3 breaks an authority rule.
    let mut prev = RecordId::ZERO;
    let valid: Vec<_> = (0..3)
        .map(|seq| {
            let made = record(AUDITOR, seq, prev);
            prev = made.id();
            ChainRecord::Full(made)
        })
        .collect();
    let actions = syncer.on_refused(AUDITOR, 0, valid);
    let ingested: Vec<u64> = actions
        .iter()
        .filter_map(|action| match action {
            Action::Ingest { records, .. } => Some(records.len() as u64),
            _ => None,
        })
        .collect();
    assert_eq!(ingested, vec![3], "{actions:?}");
    assert!(
        !actions
            .iter()
            .any(|action| matches!(action, Action::Request { .. })),
        "nothing more is asked: {actions:?}"
    );
    // The second batch, verified later, is dropped; the fetch ends once the prefix is in.
    let later = syncer.on_verified(
        AUDITOR,
        5,
        vec![ChainRecord::Full(record(AUDITOR, 5, prev))],
    );
    assert!(later.is_empty(), "{later:?}");
    assert_eq!(syncer.fetching(), 1);
    assert!(syncer.on_ingested(AUDITOR, true).is_empty());
    assert_eq!(syncer.fetching(), 0);

    // Refused at the chain's first record: nothing is ingested, the fetch ends.
    let actions = syncer.on_heads(peer, &heads, |_| None, &Default::default());
    assert_eq!(actions.len(), 1);
    let cut = syncer.on_records(AUDITOR, 0, vec![Vec::new(); 10]);
    assert!(cut
        .iter()
        .any(|action| matches!(action, Action::Verify { .. })));
    assert!(syncer.on_refused(AUDITOR, 0, Vec::new()).is_empty());
    assert_eq!(syncer.fetching(), 0);
}
