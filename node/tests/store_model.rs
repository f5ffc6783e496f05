//! A model-based property test: random appends (good and bad), groups, reads and reopens run
//! against the real store and against a `BTreeMap` model; they must agree after every step.

mod common;

use std::collections::BTreeMap;

use aidledger_node::ExplorerIndex;
use aidledger_spec::{RecordId, VerifiedRecord};
use aidledger_store::Store;
use common::*;
use proptest::prelude::*;

const AUTHORS: [&str; 3] = [DONOR, IMPLEMENTER, AUDITOR];

#[derive(Clone, Debug)]
enum Operation {
    /// Append the next record of an author.
    Append { author: usize },
    /// Append a record that does not extend the head: a gap or a wrong predecessor.
    AppendBad { author: usize, gap: bool },
    /// Append several next records of one author in one group.
    AppendGroup { author: usize, count: u64 },
    /// Drop the store and open it again.
    Reopen,
    /// Compare a chain read from a seq on.
    ReadRange { author: usize, from_seq: u64 },
    /// Compare a newest-first page.
    ReadPage {
        author: usize,
        before_seq: Option<u64>,
        limit: usize,
    },
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        4 => (0..AUTHORS.len()).prop_map(|author| Operation::Append { author }),
        1 => (0..AUTHORS.len(), any::<bool>()).prop_map(|(author, gap)| Operation::AppendBad { author, gap }),
        2 => (0..AUTHORS.len(), 1..5u64).prop_map(|(author, count)| Operation::AppendGroup { author, count }),
        1 => Just(Operation::Reopen),
        1 => (0..AUTHORS.len(), 0..8u64).prop_map(|(author, from_seq)| Operation::ReadRange { author, from_seq }),
        1 => (0..AUTHORS.len(), proptest::option::of(0..10u64), 1..6usize)
            .prop_map(|(author, before_seq, limit)| Operation::ReadPage { author, before_seq, limit }),
    ]
}

/// What the store should hold: (author, seq) → (id, bytes).
#[derive(Default)]
struct Model {
    records: BTreeMap<(String, u64), (RecordId, Vec<u8>)>,
}

impl Model {
    fn next(&self, author: &str) -> (u64, RecordId) {
        match self
            .records
            .range((author.to_string(), 0)..=(author.to_string(), u64::MAX))
            .next_back()
        {
            Some(((_, seq), (id, _))) => (seq + 1, *id),
            None => (0, RecordId::ZERO),
        }
    }

    fn make_next(&self, author: &str, salt: usize) -> VerifiedRecord {
        let (seq, prev) = self.next(author);
        record(
            author,
            seq,
            prev,
            statement(&format!("{author} {seq} {salt}")),
        )
    }

    fn add(&mut self, record: &VerifiedRecord) {
        let header = record.header();
        self.records.insert(
            (header.author.clone(), header.seq),
            (record.id(), record.bytes().to_vec()),
        );
    }

    fn chain(&self, author: &str) -> Vec<(u64, Vec<u8>)> {
        self.records
            .range((author.to_string(), 0)..=(author.to_string(), u64::MAX))
            .map(|((_, seq), (_, bytes))| (*seq, bytes.clone()))
            .collect()
    }
}

fn check_agrees(store: &Store, model: &Model) {
    assert_eq!(store.record_count().unwrap(), model.records.len() as u64);
    for author in AUTHORS {
        let (next_seq, last_id) = model.next(author);
        let head = store.head(author).unwrap();
        assert_eq!(
            head.map(|head| (head.seq + 1, head.id)),
            (next_seq > 0).then_some((next_seq, last_id))
        );
    }
    for ((author, seq), (id, bytes)) in &model.records {
        assert_eq!(store.get(id).unwrap().as_ref(), Some(bytes));
        assert_eq!(store.position(id).unwrap(), Some((author.clone(), *seq)));
    }
}

fn run(operations: Vec<Operation>) {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let mut store = Some(open_new_store(&dir));
    let mut model = Model::default();
    for (step, operation) in operations.into_iter().enumerate() {
        let current = store.as_ref().unwrap();
        match operation {
            Operation::Append { author } => {
                let made = model.make_next(AUTHORS[author], step);
                current.append_durable(std::slice::from_ref(&made)).unwrap();
                model.add(&made);
            }
            Operation::AppendBad { author, gap } => {
                let author = AUTHORS[author];
                let (seq, prev) = model.next(author);
                let wrong_prev = aidledger_spec::Digest([7; 32]);
                // A seq-0 record with a predecessor does not verify, so "wrong predecessor" on an
                // empty chain is tried at seq 1.
                let bad = match (gap, seq) {
                    (true, _) => record(author, seq + 1, prev, statement("gap")),
                    (false, 0) => record(
                        author,
                        1,
                        wrong_prev,
                        statement("wrong prev on an empty chain"),
                    ),
                    (false, _) => record(author, seq, wrong_prev, statement("wrong prev")),
                };
                assert!(current.append(&bad).is_err());
            }
            Operation::AppendGroup { author, count } => {
                let author = AUTHORS[author];
                let mut group = Vec::new();
                let (mut seq, mut prev) = model.next(author);
                for index in 0..count {
                    let made = record(
                        author,
                        seq,
                        prev,
                        statement(&format!("group {step} {index}")),
                    );
                    (seq, prev) = (seq + 1, made.id());
                    group.push(made);
                }
                current.append_durable(&group).unwrap();
                group.iter().for_each(|made| model.add(made));
            }
            Operation::Reopen => {
                // The old store must be closed (its lock released) before the reopen.
                drop(store.take());
                store = Some(Store::open(&dir, ExplorerIndex).unwrap());
            }
            Operation::ReadRange { author, from_seq } => {
                let got: Vec<_> = current
                    .chain_range(AUTHORS[author], from_seq)
                    .map(Result::unwrap)
                    .collect();
                let expected: Vec<_> = model
                    .chain(AUTHORS[author])
                    .into_iter()
                    .filter(|(seq, _)| *seq >= from_seq)
                    .collect();
                assert_eq!(got, expected);
            }
            Operation::ReadPage {
                author,
                before_seq,
                limit,
            } => {
                let got: Vec<_> = current
                    .chain_newest_first(AUTHORS[author], before_seq, limit)
                    .map(Result::unwrap)
                    .collect();
                let expected: Vec<_> = model
                    .chain(AUTHORS[author])
                    .into_iter()
                    .rev()
                    .filter(|(seq, _)| before_seq.is_none_or(|before| *seq < before))
                    .take(limit)
                    .collect();
                assert_eq!(got, expected);
            }
        }
        check_agrees(store.as_ref().unwrap(), &model);
    }
    let store = store.unwrap();
    let order: Vec<(String, u64)> = store
        .iter_records()
        .map(|stored| stored.map(|stored| (stored.author, stored.seq)).unwrap())
        .collect();
    let mut expected: Vec<(String, u64)> = model.records.keys().cloned().collect();
    // The store orders chains by author length, then bytes; within a chain by seq.
    expected.sort_by(|a, b| (a.0.len(), &a.0, a.1).cmp(&(b.0.len(), &b.0, b.1)));
    assert_eq!(order, expected);
    assert!(verify_store(&store).is_valid());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn store_agrees_with_a_btreemap_model(operations in proptest::collection::vec(operation(), 1..40)) {
        run(operations);
    }
}
