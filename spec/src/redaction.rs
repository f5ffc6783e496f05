//! Redaction (FORMAT.md §5.11, §6.1, §18.2.1 `redact`, §27): an order that a record's body be
//! forgotten, and what a verifier concludes from the orders and the withheld records it reads.
//!
//! A record's header carries its body's hash and size, its id hashes the header and the
//! signature covers the id: a node can drop the body, keep header and signature, and the
//! chain, the Merkle tree and every proof still verify. What must be shown is *why* a body is
//! missing: a withheld body is valid only under an **order in force** — a `redaction` record
//! (kind 9) by the record's own author, later in the same chain, or an effective `redact`
//! proposal of the network's admins (another organisation's record). Anything else withheld is
//! a finding (`withheld-without-order`), so a node cannot hide evidence by dropping bodies.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::governance::Authority;
use crate::ids::RecordId;
use crate::limits::{DESCRIPTION_BYTES_MAX, REDACTION_RECORDS_MAX};
use crate::rejection::Rejection;
use crate::text::{check_text, FieldError};

/// Why a record's content is withheld: a category, so that readers know the kind of reason
/// without the reason repeating what was withheld.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bincode::Encode, bincode::Decode, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum RedactionCategory {
    /// 0: the content puts people in danger (named partners, staff, beneficiaries).
    SafetyOfPersons,
    /// 1: personal data whose erasure the person may ask for (GDPR art. 17).
    PersonalData,
    /// 2: a court or another authority ordered the content removed.
    LegalOrder,
    /// 3: the author withdraws the content for a reason of its own.
    AuthorsRequest,
}

impl RedactionCategory {
    /// Every category, in wire order.
    pub const ALL: [RedactionCategory; 4] = [
        RedactionCategory::SafetyOfPersons,
        RedactionCategory::PersonalData,
        RedactionCategory::LegalOrder,
        RedactionCategory::AuthorsRequest,
    ];

    /// The category's name, as the CLI and explorer take and show it.
    pub fn name(self) -> &'static str {
        match self {
            RedactionCategory::SafetyOfPersons => "safety-of-persons",
            RedactionCategory::PersonalData => "personal-data",
            RedactionCategory::LegalOrder => "legal-order",
            RedactionCategory::AuthorsRequest => "authors-request",
        }
    }

    /// The category in words, for people.
    pub fn words(self) -> &'static str {
        match self {
            RedactionCategory::SafetyOfPersons => "the safety of persons",
            RedactionCategory::PersonalData => "personal data",
            RedactionCategory::LegalOrder => "a legal order",
            RedactionCategory::AuthorsRequest => "the author's request",
        }
    }

    /// The category with this name.
    pub fn parse(name: &str) -> Option<RedactionCategory> {
        Self::ALL
            .into_iter()
            .find(|category| category.name() == name)
    }
}

/// One record an order names: its position in the author's chain and its id.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    bincode::Encode,
    bincode::Decode,
    serde::Serialize,
)]
pub struct RedactedRecord {
    /// The record's `seq`.
    pub seq: u64,
    /// The record's id.
    pub id: RecordId,
}

/// Kind 9: the author orders its own earlier records' bodies forgotten.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Redaction {
    /// The author's records, strictly ascending by `seq`, 1 to [`REDACTION_RECORDS_MAX`].
    pub records: Vec<RedactedRecord>,
    /// Why.
    pub category: RedactionCategory,
    /// Words for readers; they must not repeat the content withheld (the author's duty: the
    /// note stays public forever, and an order is never redacted).
    pub note: String,
}

impl Redaction {
    pub(crate) fn check(&self, field: &str) -> Result<(), FieldError> {
        check_redacted_records(&format!("{field}.records"), &self.records)?;
        check_text(&format!("{field}.note"), &self.note, DESCRIPTION_BYTES_MAX)
    }
}

/// The rule of a list of redacted records (a `redaction` body's and a `redact` change's): not
/// empty, at most [`REDACTION_RECORDS_MAX`], strictly ascending by `seq` (one entry a position).
pub(crate) fn check_redacted_records(
    field: &str,
    records: &[RedactedRecord],
) -> Result<(), FieldError> {
    if records.is_empty() {
        return Err(FieldError::new(field, "must name at least one record"));
    }
    if records.len() > REDACTION_RECORDS_MAX {
        return Err(FieldError::new(
            field,
            format!("more than {REDACTION_RECORDS_MAX} records"),
        ));
    }
    if records.windows(2).any(|pair| pair[0].seq >= pair[1].seq) {
        return Err(FieldError::new(
            field,
            "must be strictly ascending by seq (one entry a position)",
        ));
    }
    Ok(())
}

/// Who ordered a redaction.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum OrderedBy {
    /// The record's author, by its `redaction` record at `seq`.
    Author {
        /// The order's position in the author's chain.
        seq: u64,
        /// The order's `timestamp_ms` (the author's claimed time).
        timestamp_ms: u64,
    },
    /// The network's admins, by an effective `redact` proposal.
    Admins {
        /// The proposal's step in the governance (1-based).
        step: usize,
        /// The admins whose approvals made it effective.
        approved_by: Vec<String>,
    },
}

/// An order: the record id of the `redaction` record or of the `redact` proposal, who made it
/// and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Order {
    /// The order's record id.
    pub order: RecordId,
    /// Who ordered it.
    #[serde(flatten)]
    pub by: OrderedBy,
    /// Why.
    pub category: RedactionCategory,
}

/// A withheld record a verifier accepted: the order in force that covers it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RedactedEntry {
    /// The record's position.
    pub seq: u64,
    /// The record's id.
    pub id: RecordId,
    /// The header's body kind (the record's kind stays known: only its content is withheld).
    pub body_kind: u16,
    /// The order.
    pub order: Order,
}

/// The orders in force for one network: (author, seq, record id) → the order that covers it.
/// Built from the authority's effective `redact` steps and the `redaction` records that passed
/// every rule; a verifier asks it about each withheld record once the whole input is read.
///
/// When several orders name one record, the one that covers it does not depend on the order
/// they were read in (FORMAT.md §27): the admins' before the author's, the admins' by step, the
/// author's by `seq`, then by the order's record id ([`precedence`]). An entry is keyed by the
/// position it names too, so an entry naming a record at a wrong position never hides a right
/// one.
#[derive(Clone, Debug, Default)]
pub struct OrdersInForce {
    orders: HashMap<(String, u64, RecordId), Order>,
}

/// The rank of an order among those naming one record: smaller covers it.
fn precedence(order: &Order) -> (u8, u64, RecordId) {
    match order.by {
        OrderedBy::Admins { step, .. } => (0, step as u64, order.order),
        OrderedBy::Author { seq, .. } => (1, seq, order.order),
    }
}

impl OrdersInForce {
    /// The orders of the authority's effective `redact` proposals.
    pub fn from_authority(authority: &Authority) -> OrdersInForce {
        let mut orders = OrdersInForce::default();
        for (index, step) in authority.steps().iter().enumerate() {
            if let crate::governance::Change::Redact {
                member,
                records,
                category,
            } = &step.change
            {
                let order = Order {
                    order: step.proposal,
                    by: OrderedBy::Admins {
                        step: index + 1,
                        approved_by: step.approved_by.clone(),
                    },
                    category: *category,
                };
                for record in records {
                    orders.add(member, record, order.clone());
                }
            }
        }
        orders
    }

    /// Adds an author's `redaction` record (one that passed rules 1–17) at `seq`: it covers
    /// only records of its own author, below its own position.
    pub fn add_author_order(
        &mut self,
        author: &str,
        seq: u64,
        timestamp_ms: u64,
        order_id: RecordId,
        redaction: &Redaction,
    ) {
        let order = Order {
            order: order_id,
            by: OrderedBy::Author { seq, timestamp_ms },
            category: redaction.category,
        };
        for record in redaction.records.iter().filter(|record| record.seq < seq) {
            self.add(author, record, order.clone());
        }
    }

    /// Adds `record` if it is an author's `redaction` record (one that passed rules 1–17);
    /// returns whether it was one.
    pub fn add_order_record(&mut self, record: &crate::verify::VerifiedRecord) -> bool {
        let crate::record::Body::Redaction(redaction) = record.body() else {
            return false;
        };
        let header = record.header();
        self.add_author_order(
            &header.author,
            header.seq,
            header.timestamp_ms,
            record.id(),
            redaction,
        );
        true
    }

    /// Adds `other`'s orders; of two naming one record, the one that precedes covers it.
    pub fn extend(&mut self, other: OrdersInForce) {
        for (key, order) in other.orders {
            self.insert(key, order);
        }
    }

    fn add(&mut self, author: &str, record: &RedactedRecord, order: Order) {
        self.insert((author.to_owned(), record.seq, record.id), order);
    }

    fn insert(&mut self, key: (String, u64, RecordId), order: Order) {
        match self.orders.entry(key) {
            Entry::Vacant(vacant) => {
                vacant.insert(order);
            }
            Entry::Occupied(mut occupied) => {
                if precedence(&order) < precedence(occupied.get()) {
                    occupied.insert(order);
                }
            }
        }
    }

    /// The order covering `author`'s record `id` at `seq`, if one is in force.
    pub fn covering(&self, author: &str, seq: u64, id: &RecordId) -> Option<&Order> {
        self.orders.get(&(author.to_owned(), seq, *id))
    }

    /// How many records the orders name.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// Whether no order is in force.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }
}

/// The verdict on a withheld record once every order is known: the entry, or
/// `withheld-without-order`.
pub fn judge_withheld(
    orders: &OrdersInForce,
    author: &str,
    seq: u64,
    id: RecordId,
    body_kind: u16,
) -> Result<RedactedEntry, Rejection> {
    match orders.covering(author, seq, &id) {
        Some(order) => Ok(RedactedEntry {
            seq,
            id,
            body_kind,
            order: order.clone(),
        }),
        None => Err(Rejection::WithheldWithoutOrder),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Digest;

    fn record(seq: u64) -> RedactedRecord {
        RedactedRecord {
            seq,
            id: RecordId::ZERO,
        }
    }

    #[test]
    fn a_list_of_redacted_records_is_not_empty_and_strictly_ascending() {
        assert!(check_redacted_records("records", &[]).is_err());
        assert!(check_redacted_records("records", &[record(2), record(2)]).is_err());
        assert!(check_redacted_records("records", &[record(3), record(2)]).is_err());
        assert!(check_redacted_records("records", &[record(2), record(3)]).is_ok());
    }

    #[test]
    fn categories_read_back_by_name() {
        for category in RedactionCategory::ALL {
            assert_eq!(RedactionCategory::parse(category.name()), Some(category));
        }
        assert_eq!(RedactionCategory::parse("because"), None);
    }

    #[test]
    fn an_authors_order_covers_only_its_own_earlier_records_at_the_named_position() {
        let mut orders = OrdersInForce::default();
        let redaction = Redaction {
            records: vec![
                RedactedRecord {
                    seq: 1,
                    id: Digest([1; 32]),
                },
                RedactedRecord {
                    seq: 9,
                    id: Digest([9; 32]),
                },
            ],
            category: RedactionCategory::SafetyOfPersons,
            note: String::new(),
        };
        orders.add_author_order("A", 5, 0, Digest([5; 32]), &redaction);
        assert!(orders.covering("A", 1, &Digest([1; 32])).is_some());
        assert!(orders.covering("A", 2, &Digest([1; 32])).is_none());
        assert!(orders.covering("B", 1, &Digest([1; 32])).is_none());
        // An order cannot name a record after itself.
        assert!(orders.covering("A", 9, &Digest([9; 32])).is_none());
    }

    fn order_naming(seq: u64, id: u8) -> Redaction {
        Redaction {
            records: vec![RedactedRecord {
                seq,
                id: Digest([id; 32]),
            }],
            category: RedactionCategory::AuthorsRequest,
            note: String::new(),
        }
    }

    #[test]
    fn an_entry_with_a_wrong_seq_does_not_shadow_a_right_one() {
        // Order 5 names record 1 at seq 4 (it is at seq 1: it orders nothing, rule 27);
        // order 6 names it where it is. Whichever is read first, order 6 covers it.
        for reversed in [false, true] {
            let mut orders = OrdersInForce::default();
            let mut adds = vec![(5, order_naming(4, 1)), (6, order_naming(1, 1))];
            if reversed {
                adds.reverse();
            }
            for (seq, redaction) in &adds {
                orders.add_author_order("A", *seq, 0, Digest([*seq as u8; 32]), redaction);
            }
            let order = orders
                .covering("A", 1, &Digest([1; 32]))
                .map(|order| order.order);
            assert_eq!(order, Some(Digest([6; 32])), "reversed: {reversed}");
        }
    }

    #[test]
    fn the_earliest_order_covers_a_record_whatever_the_order_they_are_read_in() {
        for reversed in [false, true] {
            let mut orders = OrdersInForce::default();
            let mut adds = vec![(5, order_naming(1, 1)), (7, order_naming(1, 1))];
            if reversed {
                adds.reverse();
            }
            for (seq, redaction) in &adds {
                orders.add_author_order("A", *seq, 0, Digest([*seq as u8; 32]), redaction);
            }
            let order = orders
                .covering("A", 1, &Digest([1; 32]))
                .map(|order| order.order);
            assert_eq!(order, Some(Digest([5; 32])), "reversed: {reversed}");
        }
    }
}
