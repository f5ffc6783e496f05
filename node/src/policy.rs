//! The node's checks on a submitted body, beyond the wire rules of `Body::check`.
//!
//! Checked in this order, and the first failure is the answer (docs/INTERFACES.md):
//! 1. the bytes decode as exactly one body;
//! 2. `Body::check`;
//! 3. currencies are in the IATI codelist;
//! 4. treaty parties are members;
//! 5. referenced records exist and fit: an acknowledged record is a transaction, a corrected
//!    record is this organisation's (and a replacement has its kind), an acted-upon record is a
//!    treaty text whose text hash is the one acted upon, a superseded record is a treaty text.
//!
//! A correction's replacement is checked like a body. Records are never removed, so a check
//! that passed stays true until the record is appended.

use aidledger_spec::codec::{self, DecodeError};
use aidledger_spec::currency::is_known_currency;
use aidledger_spec::record::{Replacement, Transaction, TreatyAction, TreatyText};
use aidledger_spec::signed::SignedRecord;
use aidledger_spec::text::FieldError;
use aidledger_spec::{Body, BodyKind, Digest, Genesis, RecordId};

use crate::store::{Store, StoreError};

/// Why a submitted body is refused. Every message names the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The bytes are not one canonical body.
    #[error("malformed record body: {0}")]
    Malformed(DecodeError),
    /// A field breaks a wire rule.
    #[error("invalid field {0}")]
    Field(FieldError),
    /// A currency is not in the IATI Currency codelist.
    #[error("unknown currency code {code:?} in {field} (not in the IATI Currency codelist)")]
    UnknownCurrency {
        /// The field.
        field: String,
        /// The code given.
        code: String,
    },
    /// A treaty party is not a member.
    #[error("treaty party {party:?} is not a member of the network")]
    PartyNotMember {
        /// The party named.
        party: String,
    },
    /// A referenced record is not in the store.
    #[error("{role} record {id} not found")]
    NotFound {
        /// How the body refers to it (`acknowledged`, `corrected`, `treaty`, `superseded`).
        role: &'static str,
        /// The id.
        id: RecordId,
    },
    /// A referenced record has the wrong kind.
    #[error("{role} record {id} is a {found}, not a {expected}")]
    WrongKind {
        /// How the body refers to it.
        role: &'static str,
        /// The id.
        id: RecordId,
        /// The kind it must have.
        expected: &'static str,
        /// The kind it has.
        found: &'static str,
    },
    /// A correction names another organisation's record.
    #[error("corrected record {id} belongs to {author}, not to {org}: an organisation corrects only its own records")]
    CorrectsOtherOrganisation {
        /// The corrected record.
        id: RecordId,
        /// Its author.
        author: String,
        /// This node's organisation.
        org: String,
    },
    /// A treaty action's text hash is not the treaty's.
    #[error("treaty action names text hash {found}, but treaty {treaty} has text hash {expected}")]
    TextHashMismatch {
        /// The treaty record.
        treaty: RecordId,
        /// The treaty's text hash.
        expected: Digest,
        /// The hash in the action.
        found: Digest,
    },
    /// The store failed while checking (not the submitter's fault).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Decodes and checks a submitted body for the node of `org`.
pub fn check_submission(store: &Store, org: &str, body_bytes: &[u8]) -> Result<Body, PolicyError> {
    let body: Body = codec::decode_exact(body_bytes).map_err(PolicyError::Malformed)?;
    body.check().map_err(PolicyError::Field)?;
    let checker = Checker {
        store,
        genesis: store.genesis(),
        org,
    };
    checker.check_codelists(&body)?;
    checker.check_references(&body)?;
    Ok(body)
}

struct Checker<'a> {
    store: &'a Store,
    genesis: &'a Genesis,
    org: &'a str,
}

impl Checker<'_> {
    /// Rules 3 and 4, for the body and a correction's replacement.
    fn check_codelists(&self, body: &Body) -> Result<(), PolicyError> {
        match body {
            Body::Transaction(transaction) => check_currency("body.value.currency", transaction),
            Body::TreatyText(treaty) => self.check_parties(treaty),
            Body::Correction(correction) => match &correction.replacement {
                Some(Replacement::Transaction(transaction)) => {
                    check_currency("body.replacement.value.currency", transaction)
                }
                Some(Replacement::TreatyText(treaty)) => self.check_parties(treaty),
                _ => Ok(()),
            },
            Body::TreatyAction(_)
            | Body::Statement(_)
            | Body::Proposal(_)
            | Body::Approval(_)
            | Body::KeyRotation(_) => Ok(()),
        }
    }

    fn check_parties(&self, treaty: &TreatyText) -> Result<(), PolicyError> {
        match treaty
            .parties
            .iter()
            .find(|party| self.genesis.member(party).is_none())
        {
            Some(party) => Err(PolicyError::PartyNotMember {
                party: party.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Rule 5.
    fn check_references(&self, body: &Body) -> Result<(), PolicyError> {
        match body {
            Body::Transaction(transaction) => self.check_acknowledged(transaction),
            Body::TreatyText(treaty) => self.check_superseded(treaty),
            Body::TreatyAction(action) => self.check_treaty_action(action),
            // Governance bodies are checked against the governance state (node helper: TODO).
            Body::Statement(_) | Body::Proposal(_) | Body::Approval(_) | Body::KeyRotation(_) => {
                Ok(())
            }
            Body::Correction(correction) => {
                let corrected = self.load("corrected", &correction.corrects)?;
                if corrected.author != self.org {
                    return Err(PolicyError::CorrectsOtherOrganisation {
                        id: correction.corrects,
                        author: corrected.author,
                        org: self.org.to_owned(),
                    });
                }
                match &correction.replacement {
                    Some(replacement) => {
                        let replacement = replacement.to_body();
                        let expected = corrected.body.kind();
                        if expected == BodyKind::Correction || replacement.kind() != expected {
                            return Err(PolicyError::WrongKind {
                                role: "corrected",
                                id: correction.corrects,
                                expected: replacement.kind().name(),
                                found: expected.name(),
                            });
                        }
                        self.check_references(&replacement)
                    }
                    None => Ok(()),
                }
            }
        }
    }

    fn check_acknowledged(&self, transaction: &Transaction) -> Result<(), PolicyError> {
        match &transaction.acknowledges {
            Some(id) => self
                .load_kind("acknowledged", id, BodyKind::Transaction)
                .map(drop),
            None => Ok(()),
        }
    }

    fn check_superseded(&self, treaty: &TreatyText) -> Result<(), PolicyError> {
        match &treaty.supersedes {
            Some(id) => self
                .load_kind("superseded", id, BodyKind::TreatyText)
                .map(drop),
            None => Ok(()),
        }
    }

    fn check_treaty_action(&self, action: &TreatyAction) -> Result<(), PolicyError> {
        let treaty = self.load("treaty", &action.treaty)?;
        let Body::TreatyText(text) = treaty.body else {
            let found = treaty.body.kind().name();
            return Err(PolicyError::WrongKind {
                role: "treaty",
                id: action.treaty,
                expected: "treaty-text",
                found,
            });
        };
        let expected = text.text_hash();
        if expected != action.text_hash {
            return Err(PolicyError::TextHashMismatch {
                treaty: action.treaty,
                expected,
                found: action.text_hash,
            });
        }
        Ok(())
    }

    fn load_kind(
        &self,
        role: &'static str,
        id: &RecordId,
        expected: BodyKind,
    ) -> Result<Loaded, PolicyError> {
        let loaded = self.load(role, id)?;
        let found = loaded.body.kind();
        if found != expected {
            return Err(PolicyError::WrongKind {
                role,
                id: *id,
                expected: expected.name(),
                found: found.name(),
            });
        }
        Ok(loaded)
    }

    fn load(&self, role: &'static str, id: &RecordId) -> Result<Loaded, PolicyError> {
        let bytes = self
            .store
            .get(id)?
            .ok_or(PolicyError::NotFound { role, id: *id })?;
        Ok(decode_stored(bytes)?)
    }
}

/// A stored record's author and body.
struct Loaded {
    author: String,
    body: Body,
}

fn decode_stored(bytes: Vec<u8>) -> Result<Loaded, StoreError> {
    let corrupt = |error: DecodeError| {
        StoreError::Corrupt(format!("a stored record does not decode: {error}"))
    };
    let record = SignedRecord::parse(bytes).map_err(corrupt)?;
    let body = codec::decode_exact(record.body_bytes()).map_err(corrupt)?;
    Ok(Loaded {
        author: record.header.author,
        body,
    })
}

fn check_currency(field: &str, transaction: &Transaction) -> Result<(), PolicyError> {
    let code = &transaction.value.currency;
    if is_known_currency(code) {
        return Ok(());
    }
    Err(PolicyError::UnknownCurrency {
        field: field.to_owned(),
        code: code.clone(),
    })
}
