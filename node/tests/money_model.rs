//! The property test of issue 19: one money meaning in every tool. Random histories of
//! transactions among the three members (disbursements, commitments, pledges, receipts before
//! and after their targets, corrections of both sides that change amounts, retarget a
//! receipt, move a transaction to another activity, withdraw and replace again, foreign
//! "corrections" that must not count, multi-receipt links, activity links, receipts of
//! records never stored, several currencies) are appended to a real store with the explorer's
//! index, in a random interleaving of the chains and random groups, as peers' records arrive.
//! Then for every activity the explorer's money (links, statuses, sides, findings; the model
//! over the records it gathers from its index) must equal the CLI's (the model of `reconcile`
//! and `flow`: the CLI's `Ledger` over every record of the stopped node's data directory),
//! and so must the link of every transaction's record page.
//!
//! `MONEY_MODEL_SEED=N` replays a run; a failure names the seed of its history.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use aidledger_node::explorer::model::{
    activity_money, concerns, date_of_day_number, finding_concerns, record_link, FindingView,
    LinkView,
};
use aidledger_spec::record::{Correction, Money, Party, Replacement, Statement, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::{Body, RecordId, VerifiedRecord};
use aidledger_view::money::{day_number, MoneyModel, WINDOW_DAYS_DEFAULT};
use common::*;

/// Histories per run (issue 19 asks for at least 500).
const HISTORIES: u64 = 500;
/// Threads running histories.
const THREADS: u64 = 2;
/// Most events of one history.
const EVENTS_MAX: u64 = 24;
const ORGS: [&str; 3] = [DONOR, IMPLEMENTER, AUDITOR];
const ACTIVITIES: [&str; 3] = ["ACT-A", "ACT-B", "ACT-C"];
const CURRENCIES: [&str; 3] = ["GBP", "EUR", "USD"];
const AMOUNTS: [&str; 7] = [
    "100.00",
    "50.00",
    "50.50",
    "25.00",
    "125000.00",
    "120000.00",
    "0.50",
];

/// SplitMix64: a small seeded generator, so that a seed replays a history exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn org(&mut self) -> &'static str {
        ORGS[self.below(ORGS.len())]
    }

    fn activity(&mut self) -> &'static str {
        ACTIVITIES[self.below(ACTIVITIES.len())]
    }
}

/// One history: each member's chain of signed records, a record signed but never stored
/// (a receipt may name it), and every transaction record's id.
struct History {
    chains: Vec<Vec<VerifiedRecord>>,
    transactions: Vec<RecordId>,
}

/// The transactions of the history so far (original bodies) by id, to correct or acknowledge.
struct Made {
    author: usize,
    transaction: Transaction,
}

fn party(org: &str, activity: &str) -> Option<Party> {
    Some(Party {
        org_ref: org.into(),
        name: String::new(),
        activity_id: activity.into(),
    })
}

fn history(seed: u64, today: i64) -> History {
    let mut rng = Rng(seed);
    let mut chains: Vec<Vec<VerifiedRecord>> = vec![Vec::new(); ORGS.len()];
    let mut made: Vec<(RecordId, Made)> = Vec::new();
    let mut transactions = Vec::new();
    // A disbursement that is never stored: receipts naming it are `unreported`.
    let ghost = record(
        DONOR,
        1_000,
        RecordId::ZERO,
        Body::Transaction(outgoing(&mut rng, DONOR, today)),
    );
    let events = 4 + rng.next() % (EVENTS_MAX - 3);
    for _ in 0..events {
        let author = rng.below(ORGS.len());
        let org = ORGS[author];
        let roll = rng.below(100);
        let body = if roll < 30 || made.is_empty() {
            Body::Transaction(outgoing(&mut rng, org, today))
        } else if roll < 65 {
            let target = if rng.chance(10) {
                Some(ghost.id())
            } else if rng.chance(55) {
                Some(made[rng.below(made.len())].0)
            } else {
                None
            };
            Body::Transaction(incoming(&mut rng, org, target, today))
        } else {
            // A correction: mostly of the author's own transaction, sometimes another's.
            let own: Vec<usize> = (0..made.len())
                .filter(|&at| made[at].1.author == author)
                .collect();
            let at = if own.is_empty() || rng.chance(15) {
                rng.below(made.len())
            } else {
                *rng.pick(&own)
            };
            let (corrects, original) = (&made[at].0, &made[at].1.transaction);
            let replacement = match rng.below(10) {
                0..=2 => None,
                3 => Some(Replacement::Statement(Statement {
                    title: "instead".into(),
                    language: "en".into(),
                    text: "not a transaction".into(),
                })),
                _ => Some(Replacement::Transaction(revised(
                    &mut rng,
                    original,
                    &made,
                    ghost.id(),
                ))),
            };
            Body::Correction(Correction {
                corrects: *corrects,
                reason: "revised".into(),
                replacement,
            })
        };
        let chain = &mut chains[author];
        let (seq, prev) = chain.last().map_or((0, RecordId::ZERO), |last| {
            (last.header().seq + 1, last.id())
        });
        let signed = record(org, seq, prev, body);
        if let Body::Transaction(transaction) = signed.body() {
            transactions.push(signed.id());
            made.push((
                signed.id(),
                Made {
                    author,
                    transaction: transaction.clone(),
                },
            ));
        }
        chain.push(signed);
    }
    History {
        chains,
        transactions,
    }
}

fn date_of(rng: &mut Rng, today: i64) -> Date {
    // Old (a finding when unacknowledged) or within the window (pending).
    if rng.chance(70) {
        date_of_day_number(today - 400 - rng.below(30) as i64)
    } else {
        date_of_day_number(today - rng.below(60) as i64)
    }
}

fn base(rng: &mut Rng, kind: u8, today: i64) -> Transaction {
    let date = date_of(rng, today);
    Transaction {
        activity_id: rng.pick(&ACTIVITIES).to_string(),
        transaction_type: kind,
        value: Money {
            amount: rng.pick(&AMOUNTS).to_string(),
            currency: if rng.chance(80) {
                "GBP".into()
            } else {
                rng.pick(&CURRENCIES).to_string()
            },
        },
        value_date: date,
        transaction_date: date,
        provider: None,
        receiver: None,
        description: String::new(),
        acknowledges: None,
        iati: None,
    }
}

/// A disbursement (mostly), commitment, pledge or expenditure of `org`.
fn outgoing(rng: &mut Rng, org: &str, today: i64) -> Transaction {
    let kind = *rng.pick(&[3, 3, 3, 3, 2, 2, 12, 4]);
    let mut transaction = base(rng, kind, today);
    // Mostly the author as provider; sometimes another organisation (provider-differs).
    let provider = if rng.chance(85) { org } else { rng.org() };
    transaction.provider = party(provider, &transaction.activity_id.clone());
    transaction.receiver = if rng.chance(90) {
        party(rng.org(), if rng.chance(50) { rng.activity() } else { "" })
    } else {
        None // receiver not named
    };
    transaction
}

/// Incoming funds (mostly), an incoming commitment or pledge of `org`, acknowledging
/// `target` or naming a provider activity (or neither).
fn incoming(rng: &mut Rng, org: &str, target: Option<RecordId>, today: i64) -> Transaction {
    let kind = *rng.pick(&[1, 1, 1, 1, 11, 13]);
    let mut transaction = base(rng, kind, today);
    let provider_activity = if rng.chance(80) { rng.activity() } else { "" };
    transaction.provider = party(rng.org(), provider_activity);
    transaction.receiver = party(org, &transaction.activity_id.clone());
    transaction.acknowledges = target;
    transaction
}

/// A replacement: another amount, currency, activity or acknowledged record.
fn revised(
    rng: &mut Rng,
    original: &Transaction,
    made: &[(RecordId, Made)],
    ghost: RecordId,
) -> Transaction {
    let mut transaction = original.clone();
    match rng.below(6) {
        0 | 1 => transaction.value.amount = rng.pick(&AMOUNTS).to_string(),
        2 => transaction.value.currency = rng.pick(&CURRENCIES).to_string(),
        3 => transaction.activity_id = rng.pick(&ACTIVITIES).to_string(),
        4 => {
            transaction.acknowledges = match rng.below(3) {
                0 => None,
                1 => Some(ghost),
                _ => Some(made[rng.below(made.len())].0),
            }
        }
        _ => {
            if let Some(provider) = &mut transaction.provider {
                provider.activity_id = rng.pick(&ACTIVITIES).to_string();
            }
        }
    }
    transaction
}

/// Appends the chains in a random interleaving and random groups (a group may hold several
/// chains' records, as a peer's ingest does).
fn append_randomly(store: &aidledger_store::Store, history: &History, rng: &mut Rng) {
    let mut next = vec![0usize; history.chains.len()];
    loop {
        let open: Vec<usize> = (0..history.chains.len())
            .filter(|&chain| next[chain] < history.chains[chain].len())
            .collect();
        if open.is_empty() {
            return;
        }
        let mut group = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let chain = *rng.pick(&open);
            if let Some(record) = history.chains[chain].get(next[chain]) {
                group.push(record.clone());
                next[chain] += 1;
            }
        }
        store.append_group(&group).unwrap();
    }
}

/// What a tool says of one activity: its links (key → status and both sides), its findings.
#[derive(Debug, PartialEq, Eq)]
struct ActivityAnswer {
    links: BTreeMap<String, String>,
    findings: Vec<String>,
}

fn link_line(link: &LinkView) -> String {
    let side = |entries: &[aidledger_node::explorer::model::SideEntry]| {
        entries
            .iter()
            .map(|entry| {
                format!(
                    "{}:{} {}{}",
                    &entry.record.to_hex()[..8],
                    entry.amount,
                    entry.currency,
                    if entry.withdrawn { " withdrawn" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{} [{}] {} | provider {} | receiver {}",
        serde_json::to_string(&link.status).unwrap(),
        link.pair.unwrap_or("-"),
        link.note.unwrap_or(""),
        side(&link.provider),
        side(&link.receiver)
    )
}

fn finding_line(finding: &FindingView) -> String {
    format!("{} {}", finding.finding, finding.detail)
}

/// Every activity a history names, as its own or a party's.
fn named_activities(model: &MoneyModel) -> BTreeSet<String> {
    let mut named: BTreeSet<String> = ACTIVITIES.iter().map(|a| a.to_string()).collect();
    for entry in model.entries() {
        named.extend(
            aidledger_node::explorer::index::activities(&entry.transaction)
                .into_iter()
                .map(str::to_owned),
        );
    }
    named
}

/// The CLI's answer: the money model that `reconcile`, `flow` and `provenance` read, built
/// by the CLI's `Ledger` over every record of the stopped node's data directory (each
/// verified against the genesis, corrections applied by the shared rules).
fn cli_model(dir: &std::path::Path, as_of: Date) -> MoneyModel {
    use aidledger_cli::money::ledger::{Ledger, Window};
    use aidledger_cli::source::Source;
    let window = Window {
        as_of,
        days: WINDOW_DAYS_DEFAULT,
    };
    let ledger = Ledger::load(&[Source::DataDir(dir.to_path_buf())], None, window).unwrap();
    assert!(ledger.problems.is_empty(), "{:?}", ledger.problems);
    ledger.model
}

/// Runs one history; returns the statuses seen (for the coverage check) or panics naming
/// the seed.
fn check(seed: u64, today: i64, seen: &mut BTreeMap<String, usize>) {
    let as_of = date_of_day_number(today);
    let history = history(seed, today);
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let store = open_new_store(&dir);
    append_randomly(&store, &history, &mut Rng(seed ^ 0xA5A5));

    // The explorer: per activity and per record, through its model functions.
    let mut explorer: BTreeMap<String, ActivityAnswer> = BTreeMap::new();
    let mut explorer_records = BTreeMap::new();
    let activities: BTreeSet<String> = ACTIVITIES.iter().map(|a| a.to_string()).collect();
    for activity in &activities {
        let money = activity_money(&store, activity, as_of).unwrap();
        assert!(money.computed, "seed {seed}: {:?}", money.note);
        explorer.insert(
            activity.clone(),
            ActivityAnswer {
                links: money
                    .links
                    .iter()
                    .map(|link| (format!("{} {}", link.kind, link.key), link_line(link)))
                    .collect(),
                findings: money.findings.iter().map(finding_line).collect(),
            },
        );
    }
    for id in &history.transactions {
        let (link, _) = record_link(&store, id, as_of).unwrap();
        explorer_records.insert(*id, link.map(|link| link_line(&link)));
    }
    drop(store);

    // The CLI: the same model over every record.
    let model = cli_model(&dir, as_of);
    assert!(
        named_activities(&model).is_subset(&activities),
        "seed {seed}: the history names only its activities"
    );
    for activity in &activities {
        let links = model
            .links()
            .filter(|link| concerns(link, activity))
            .map(|link| {
                let view = LinkView::of(&link);
                *seen.entry(view.status.name().to_owned()).or_default() += 1;
                (format!("{} {}", view.kind, view.key), link_line(&view))
            })
            .collect();
        let findings = model
            .findings()
            .iter()
            .filter(|finding| finding_concerns(finding, activity))
            .map(|finding| finding_line(&FindingView::of(finding)))
            .collect();
        let cli = ActivityAnswer { links, findings };
        assert_eq!(
            explorer[activity], cli,
            "seed {seed}: activity {activity}: the explorer (left) and the CLI (right) disagree"
        );
    }
    for (id, explorer_link) in &explorer_records {
        let cli_link = model
            .link_of(id)
            .map(|link| link_line(&LinkView::of(&link)));
        assert_eq!(
            explorer_link, &cli_link,
            "seed {seed}: record {id}: the explorer's record page (left) and the CLI (right) disagree"
        );
    }
}

#[test]
fn the_explorer_and_the_cli_give_every_link_one_status() {
    let today = day_number(date_of_day_number(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                / 86_400,
        )
        .unwrap(),
    ));
    let first = match std::env::var("MONEY_MODEL_SEED") {
        Ok(seed) => seed.parse().expect("MONEY_MODEL_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    };
    println!(
        "money model property test: seeds {first} … {}",
        first.wrapping_add(HISTORIES - 1)
    );
    // Histories are independent (a store each): two threads halve the run's time.
    let seen = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|worker| {
                scope.spawn(move || {
                    let mut seen = BTreeMap::new();
                    for offset in (worker..HISTORIES).step_by(THREADS as usize) {
                        check(first.wrapping_add(offset), today, &mut seen);
                    }
                    seen
                })
            })
            .collect();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for worker in workers {
            for (status, count) in worker.join().expect("a history failed (its seed is above)") {
                *seen.entry(status).or_default() += count;
            }
        }
        seen
    });
    println!("statuses seen over {HISTORIES} histories: {seen:?}");
    // The histories exercise every status, so agreement is not agreement on nothing.
    for status in [
        "full",
        "short",
        "over",
        "currency-differs",
        "unacknowledged",
        "withdrawn",
        "unreported",
    ] {
        assert!(seen.contains_key(status), "no {status} link in {seen:?}");
    }
}
