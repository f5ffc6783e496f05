//! The node's checks on a submitted body, beyond the wire rules of `Body::check`.
//!
//! Checked in this order, and the first failure is the answer (docs/INTERFACES.md):
//! 1. the bytes decode as exactly one body;
//! 2. `Body::check`;
//! 3. currencies are in the IATI codelist;
//! 4. treaty parties are members;
//! 5. referenced records exist and fit: an acknowledged record is a transaction, a corrected
//!    record is this organisation's (and a replacement has its kind), an acted-upon record is a
//!    treaty text whose text hash is the one acted upon and that lists this organisation among
//!    its parties (`NotAParty`: only a party signs, ratifies, accedes to or withdraws from a
//!    treaty), a superseded record is a treaty text;
//! 6. governance bodies fit the node's current governance state: a key rotation is refused
//!    here (`POST /v1/key/rotate` makes and keeps the new key); a proposal comes from an admin,
//!    names the current tip as its base, and its change applies now (a dry run of the
//!    derivation with every admin approving); an approval comes from an admin, of a pending
//!    proposal on the current tip, that this organisation has not approved yet.
//!
//! An activity record is not corrected (its author records the activity again).
//! A correction's replacement is checked like a body. Records leave a chain only by a
//! governance rewind (`Store::revoke_from`, when a key is revoked or a member removed from a
//! position on), so a check that passed stays true until the record is appended unless such a
//! rewind comes between: the new record then refers to a record held as revoked, which is kept
//! by id as evidence (`Store::get` still reads it) and shown as revoked by every reader.

use aidledger_spec::codec::{self, DecodeError};
use aidledger_spec::currency::is_known_currency;
use aidledger_spec::governance::{Approval, Change, Proposal, ProposalState};
use aidledger_spec::record::{Replacement, Transaction, TreatyAction, TreatyText};
use aidledger_spec::redaction::RedactedRecord;
use aidledger_spec::signed::SignedRecord;
use aidledger_spec::text::FieldError;
use aidledger_spec::{Body, BodyKind, Digest, RecordId};

use crate::governance::GovernanceView;
use aidledger_store::{Store, StoreError};

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
    /// A treaty action (or a correction whose replacement is one) by an organisation the
    /// acted-upon treaty text does not list as a party.
    #[error("{org} is not a party to treaty {treaty} (its parties: {parties}): only a party acts on a treaty")]
    NotAParty {
        /// This node's organisation.
        org: String,
        /// The treaty text record acted upon.
        treaty: RecordId,
        /// The parties the treaty text lists.
        parties: String,
    },
    /// A correction names an activity record.
    #[error("record {id} is an activity record, which is not corrected: record the activity again (the latest activity record of an identifier supersedes the earlier ones)")]
    ActivityCorrected {
        /// The activity record named.
        id: RecordId,
    },
    /// A referenced record's content was redacted: nothing can be checked against it.
    #[error("{role} record {id} is redacted: its content was withheld by a redaction order, so a record can no longer refer to what it said")]
    Redacted {
        /// How the body refers to it.
        role: &'static str,
        /// The id.
        id: RecordId,
    },
    /// A redaction order names a record its author's chain does not hold there.
    #[error("{author} holds no record {id} at seq {seq}: a redaction order names records of its author's own chain (another organisation's records are redacted by the admins, `gov propose redact`)")]
    RedactedNotFound {
        /// The chain named.
        author: String,
        /// The position named.
        seq: u64,
        /// The id named.
        id: RecordId,
    },
    /// A redaction order names a record whose body may not be withheld.
    #[error("record {id} is a {kind}: only content records can be redacted (governance records and redaction orders stay whole)")]
    NotRedactable {
        /// The record.
        id: RecordId,
        /// Its kind.
        kind: &'static str,
    },
    /// Key rotations are made by the node itself.
    #[error("a key rotation is not submitted as a record: use POST /v1/key/rotate, which makes and keeps the new key")]
    KeyRotationBody,
    /// A proposal or approval by an organisation that is not an admin now.
    #[error(
        "{org} is not an admin of the network (admins: {admins}); only admins propose and approve"
    )]
    NotAdmin {
        /// This node's organisation.
        org: String,
        /// The current admins.
        admins: String,
    },
    /// A proposal whose base is not the last effective proposal.
    #[error(
        "the proposal's base {found} is not the current governance tip {tip}: propose on the tip"
    )]
    StaleBase {
        /// The base named.
        found: RecordId,
        /// The current tip.
        tip: RecordId,
    },
    /// A proposal whose change cannot apply to the current state.
    #[error("the proposed change cannot apply: {0}")]
    ChangeNotApplicable(String),
    /// An approval of a record that is not a known proposal.
    #[error("record {0} is not a known proposal")]
    UnknownProposal(RecordId),
    /// An approval of a proposal that is not pending.
    #[error("proposal {id} is not pending: it is {state}")]
    ProposalNotPending {
        /// The proposal.
        id: RecordId,
        /// What it is.
        state: String,
    },
    /// A second approval by the same admin.
    #[error("{org} already approved proposal {id} (a proposer's proposal counts as its approval)")]
    AlreadyApproved {
        /// This node's organisation.
        org: String,
        /// The proposal.
        id: RecordId,
    },
    /// The store failed while checking (not the submitter's fault).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Decodes and checks a submitted body for the node of `org`, under the governance state
/// `governance`.
pub fn check_submission(
    store: &Store,
    governance: &GovernanceView,
    org: &str,
    body_bytes: &[u8],
) -> Result<Body, PolicyError> {
    let body: Body = codec::decode_exact(body_bytes).map_err(PolicyError::Malformed)?;
    body.check().map_err(PolicyError::Field)?;
    let checker = Checker {
        store,
        governance,
        org,
    };
    checker.check_codelists(&body)?;
    checker.check_references(&body)?;
    checker.check_governance(&body)?;
    Ok(body)
}

struct Checker<'a> {
    store: &'a Store,
    governance: &'a GovernanceView,
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
            // An activity's codes are kept as the publisher wrote them (IATI has several
            // vocabularies for sectors and regions; readers name the codes they know).
            Body::TreatyAction(_)
            | Body::Statement(_)
            | Body::Proposal(_)
            | Body::Approval(_)
            | Body::KeyRotation(_)
            | Body::Activity(_)
            | Body::Redaction(_) => Ok(()),
        }
    }

    fn check_parties(&self, treaty: &TreatyText) -> Result<(), PolicyError> {
        let authority = self.governance.authority();
        match treaty.parties.iter().find(|party| {
            !authority
                .member(party)
                .is_some_and(|member| member.is_current())
        }) {
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
            // Governance bodies are checked against the governance state (rule 6).
            // An activity refers to no record: the latest of its author for an identifier counts.
            Body::Statement(_)
            | Body::Proposal(_)
            | Body::Approval(_)
            | Body::KeyRotation(_)
            | Body::Activity(_) => Ok(()),
            Body::Redaction(redaction) => self.check_redacted(self.org, &redaction.records),
            Body::Correction(correction) => {
                let corrected = self.load("corrected", &correction.corrects)?;
                if corrected.author != self.org {
                    return Err(PolicyError::CorrectsOtherOrganisation {
                        id: correction.corrects,
                        author: corrected.author,
                        org: self.org.to_owned(),
                    });
                }
                // The author's latest activity record for an identifier supersedes the earlier
                // ones (FORMAT.md §5.10): a correction of one would be a second way to say it.
                if corrected.body.kind() == BodyKind::Activity {
                    return Err(PolicyError::ActivityCorrected {
                        id: correction.corrects,
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

    /// Rule 6.
    fn check_governance(&self, body: &Body) -> Result<(), PolicyError> {
        match body {
            Body::KeyRotation(_) => Err(PolicyError::KeyRotationBody),
            Body::Proposal(proposal) => self.check_proposal(proposal),
            Body::Approval(approval) => self.check_approval(approval),
            _ => Ok(()),
        }
    }

    fn check_admin(&self) -> Result<(), PolicyError> {
        let authority = self.governance.authority();
        if authority.is_admin(self.org) {
            return Ok(());
        }
        Err(PolicyError::NotAdmin {
            org: self.org.to_owned(),
            admins: authority.admin_rule().admins.join(", "),
        })
    }

    fn check_proposal(&self, proposal: &Proposal) -> Result<(), PolicyError> {
        self.check_admin()?;
        if let Change::Redact {
            member, records, ..
        } = &proposal.change
        {
            self.check_redacted(member, records)?;
        }
        let tip = self.governance.authority().tip();
        if proposal.base != tip {
            return Err(PolicyError::StaleBase {
                found: proposal.base,
                tip,
            });
        }
        match self.governance.dry_run(self.org, proposal) {
            ProposalState::Inapplicable { reason } | ProposalState::Refused { reason } => {
                Err(PolicyError::ChangeNotApplicable(reason))
            }
            // Effective: it applies. Pending: too few admins could approve to tell; the
            // derivation judges it when they do.
            _ => Ok(()),
        }
    }

    fn check_approval(&self, approval: &Approval) -> Result<(), PolicyError> {
        self.check_admin()?;
        let id = approval.proposal;
        let status = self
            .governance
            .derivation
            .proposals
            .iter()
            .find(|status| status.id == id)
            .ok_or(PolicyError::UnknownProposal(id))?;
        let state = match &status.state {
            ProposalState::Pending { .. } => None,
            ProposalState::Effective { step } => Some(format!("effective (step {step})")),
            ProposalState::Stale => Some("stale: its base is no longer the tip".to_owned()),
            ProposalState::Inapplicable { reason } => Some(format!("inapplicable: {reason}")),
            ProposalState::Refused { reason } => Some(format!("refused: {reason}")),
        };
        if let Some(state) = state {
            return Err(PolicyError::ProposalNotPending { id, state });
        }
        if status.approved_by.iter().any(|admin| admin == self.org) {
            return Err(PolicyError::AlreadyApproved {
                org: self.org.to_owned(),
                id,
            });
        }
        Ok(())
    }

    /// A redaction order names records of `author`'s chain, each at the position and with the
    /// id it has there, of a kind whose body may be withheld (FORMAT.md §27): not governance
    /// records and not orders.
    fn check_redacted(&self, author: &str, records: &[RedactedRecord]) -> Result<(), PolicyError> {
        for named in records {
            let found = self.store.record_at(author, named.seq)?;
            let Some(bytes) = found else {
                return Err(PolicyError::RedactedNotFound {
                    author: author.to_owned(),
                    seq: named.seq,
                    id: named.id,
                });
            };
            let header = header_of_stored(&bytes)?;
            if header.0 != named.id {
                return Err(PolicyError::RedactedNotFound {
                    author: author.to_owned(),
                    seq: named.seq,
                    id: named.id,
                });
            }
            let kind = BodyKind::from_wire(header.1.body_kind);
            if !kind.is_some_and(BodyKind::is_redactable) {
                return Err(PolicyError::NotRedactable {
                    id: named.id,
                    kind: kind.map_or("unknown kind", BodyKind::name),
                });
            }
        }
        Ok(())
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
        if !text.parties.iter().any(|party| party == self.org) {
            return Err(PolicyError::NotAParty {
                org: self.org.to_owned(),
                treaty: action.treaty,
                parties: text.parties.join(", "),
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
        if aidledger_spec::withheld::is_withheld(&bytes) {
            return Err(PolicyError::Redacted { role, id: *id });
        }
        Ok(decode_stored(bytes)?)
    }
}

/// A stored record's author and body.
struct Loaded {
    author: String,
    body: Body,
}

/// A stored record's id and header, full or withheld.
fn header_of_stored(bytes: &[u8]) -> Result<(RecordId, aidledger_spec::RecordHeader), StoreError> {
    let (header, size): (aidledger_spec::RecordHeader, usize) = codec::decode_prefix(bytes)
        .map_err(|error| StoreError::Corrupt(format!("a stored record's header: {error}")))?;
    let id = aidledger_spec::record::record_id_of_header_bytes(&bytes[..size]);
    Ok((id, header))
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
