//! What the redaction tests share: a network of three admins, records signed in chain order
//! (some kept only as their withheld envelopes), the bundle, and runs of the real binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use aidledger_cli::network::build_genesis;
use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::genesis::{Genesis, Member, Role};
use aidledger_spec::record::{Money, Party, Statement, Transaction};
use aidledger_spec::redaction::{RedactedRecord, Redaction, RedactionCategory};
use aidledger_spec::text::Date;
use aidledger_spec::withheld::withhold;
use aidledger_spec::{sign_record, Body, PublicKey, RecordDraft, RecordId};
use ed25519_dalek::SigningKey;
use serde_json::Value;

pub(crate) const DONOR: &str = "GB-GOV-1";
pub(crate) const IMPLEMENTER: &str = "DK-CVR-20699310";
pub(crate) const AUDITOR: &str = "XM-AUDIT-1";
/// Words that the redacted records said: no output may show them.
pub(crate) const SECRET: &str = "Ahmad Karimi in Herat";

pub(crate) fn key_of(author: &str) -> SigningKey {
    let byte = match author {
        DONOR => 1,
        IMPLEMENTER => 2,
        _ => 3,
    };
    SigningKey::from_bytes(&[byte; 32])
}

pub(crate) fn member(id: &str, role: Role) -> Member {
    Member {
        id: id.into(),
        name: format!("{id} name"),
        roles: vec![role],
        signing_keys: vec![PublicKey(key_of(id).verifying_key().to_bytes())],
        node_keys: vec![],
    }
}

/// A network of a donor, an implementer and an auditor, all admins, 2 of 3.
pub(crate) fn genesis() -> Genesis {
    build_genesis(
        "redaction test",
        1_700_000_000_000,
        vec![
            member(DONOR, Role::Donor),
            member(IMPLEMENTER, Role::Implementer),
            member(AUDITOR, Role::Auditor),
        ],
        None,
        None,
    )
    .expect("genesis")
}

/// Records signed in chain order per author, written to a bundle in the order they are
/// pushed (governance records first, as a canonical bundle has them).
pub(crate) struct Network {
    pub(crate) genesis: Genesis,
    pub(crate) heads: std::collections::HashMap<String, (u64, RecordId)>,
    pub(crate) records: Vec<Vec<u8>>,
}

impl Network {
    pub(crate) fn new() -> Network {
        Network {
            genesis: genesis(),
            heads: Default::default(),
            records: Vec::new(),
        }
    }

    /// Signs the next record of `author`; returns its position and id and its bytes (not yet
    /// in the bundle).
    pub(crate) fn sign(&mut self, author: &str, body: Body) -> (RedactedRecord, Vec<u8>) {
        let (seq, prev) = match self.heads.get(author) {
            Some((seq, id)) => (seq + 1, *id),
            None => (0, RecordId::ZERO),
        };
        let draft = RecordDraft {
            network_id: self.genesis.network_id(),
            author: author.into(),
            seq,
            prev,
            // A day apart per position, so that an order's date is told apart.
            timestamp_ms: 1_700_000_000_000 + seq * 86_400_000,
            body,
        };
        let (id, bytes) = sign_record(&draft, &key_of(author)).expect("signs");
        self.heads.insert(author.into(), (seq, id));
        (RedactedRecord { seq, id }, bytes)
    }

    /// Signs and keeps the record.
    pub(crate) fn add(&mut self, author: &str, body: Body) -> RedactedRecord {
        let (named, bytes) = self.sign(author, body);
        self.records.push(bytes);
        named
    }

    /// Signs the record and keeps only its withheld envelope (its body forgotten).
    pub(crate) fn add_withheld(&mut self, author: &str, body: Body) -> RedactedRecord {
        let (named, bytes) = self.sign(author, body);
        self.records.push(withhold(bytes).expect("a record"));
        named
    }

    pub(crate) fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("network.bundle");
        let file = std::fs::File::create(&path).expect("create the bundle");
        let mut writer = BundleWriter::new(file, &self.genesis.encode()).expect("bundle");
        for record in &self.records {
            writer.record(record).expect("write");
        }
        writer.finish().expect("finish");
        let bytes = std::fs::read(&path).expect("read the bundle");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "the bundle holds no redacted words"
        );
        path
    }
}

pub(crate) fn statement(text: &str) -> Body {
    Body::Statement(Statement {
        title: "Field report".into(),
        language: "en".into(),
        text: text.into(),
    })
}

pub(crate) fn order(records: Vec<RedactedRecord>, category: RedactionCategory) -> Body {
    Body::Redaction(Redaction {
        records,
        category,
        note: "names a partner's staff member".into(),
    })
}

pub(crate) fn date() -> Date {
    Date {
        year: 2024,
        month: 3,
        day: 1,
    }
}

pub(crate) fn transaction(activity: &str, kind: u8, amount: &str) -> Transaction {
    Transaction {
        activity_id: activity.into(),
        transaction_type: kind,
        value: Money {
            amount: amount.into(),
            currency: "GBP".into(),
        },
        value_date: date(),
        transaction_date: date(),
        provider: None,
        receiver: None,
        description: String::new(),
        acknowledges: None,
        iati: None,
    }
}

pub(crate) fn party(org: &str, activity: &str) -> Option<Party> {
    Some(Party {
        org_ref: org.into(),
        name: String::new(),
        activity_id: activity.into(),
    })
}

/// The output of one run of the binary.
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn describe(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|_| panic!("JSON:\n{}", self.describe()))
    }
}

pub(crate) fn aidledger(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(args)
        .env_remove("AIDLEDGER_DATA_DIR")
        .env_remove("AIDLEDGER_NETWORK_ID")
        .output()
        .expect("run aidledger");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "no output shows the redacted words:\n{}",
        run.describe()
    );
    run
}

pub(crate) fn on_bundle(command: &[&str], bundle: &Path) -> Run {
    let mut args = command.to_vec();
    let path = bundle.display().to_string();
    args.extend(["--bundle", &path]);
    aidledger(&args)
}

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("aidledger-redaction-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The donor's statement naming a person, redacted by the donor's own order two records later.
pub(crate) struct AuthorsRedaction {
    pub(crate) bundle: PathBuf,
    pub(crate) redacted: RedactedRecord,
    pub(crate) order: RedactedRecord,
}

pub(crate) fn authors_redaction(dir: &Path) -> AuthorsRedaction {
    let mut network = Network::new();
    let redacted = network.add_withheld(DONOR, statement(&format!("We pay {SECRET}.")));
    network.add(DONOR, statement("Quarterly report"));
    let order = network.add(
        DONOR,
        order(vec![redacted], RedactionCategory::SafetyOfPersons),
    );
    AuthorsRedaction {
        bundle: network.write(dir),
        redacted,
        order,
    }
}
