//! `gov propose CHANGE …`: the change subcommands and their flags, and turning them into a
//! [`Change`] and a proposal body.

use std::path::PathBuf;

use aidledger_spec::genesis::{AdminRule, Member, Role};
use aidledger_spec::governance::{Approval, Change, Proposal, WitnessEntry};
use aidledger_spec::note::{KeyType, VerifierKey};
use aidledger_spec::{Body, NetworkId, PublicKey, RecordId};

use super::grant::GrantFile;
use super::GovError;
use crate::compose::{
    named_record, redacted_records, redaction_category, ComposeError, NamedRecord,
};
use aidledger_spec::redaction::RedactedRecord;

/// The change a proposal makes, as `gov propose` takes it.
#[derive(clap::Subcommand, Clone, Debug, PartialEq, Eq)]
pub enum ProposeChange {
    /// Add a member organisation with its signing keys and node keys.
    AddMember {
        /// The organisation id (its IATI organisation identifier, such as GB-GOV-1).
        #[arg(long)]
        id: String,
        /// Its display name.
        #[arg(long)]
        name: String,
        /// A role: donor, implementer, recipient-government, auditor or observer; repeat or comma-separate.
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
        /// A record-signing public key (64 hex characters); repeat for each.
        #[arg(long = "signing-key", required = true)]
        signing_keys: Vec<String>,
        /// A node key (the public key of a node's libp2p identity, 64 hex); repeat for each.
        #[arg(long = "node-key")]
        node_keys: Vec<String>,
    },
    /// Remove a member: its records from --from-seq on are invalid and its nodes are refused.
    RemoveMember {
        /// The organisation id.
        #[arg(long)]
        member: String,
        /// The first invalid sequence number (default: one past the member's head as the node sees it).
        #[arg(long)]
        from_seq: Option<u64>,
    },
    /// Replace a member's roles.
    SetRoles {
        /// The organisation id.
        #[arg(long)]
        member: String,
        /// A role: donor, implementer, recipient-government, auditor or observer; repeat or comma-separate.
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
    },
    /// Replace a member's node keys (the peers its nodes connect as).
    SetNodeKeys {
        /// The organisation id.
        #[arg(long)]
        member: String,
        /// A node key (64 hex characters); repeat for each.
        #[arg(long = "node-key", required_unless_present = "none")]
        node_keys: Vec<String>,
        /// The member runs no node: remove every node key.
        #[arg(long, conflicts_with = "node_keys")]
        none: bool,
    },
    /// Revoke a compromised signing key from a sequence number on, optionally granting a replacement.
    RevokeKey {
        /// The organisation id.
        #[arg(long)]
        member: String,
        /// The compromised public key (64 hex characters).
        #[arg(long)]
        key: String,
        /// The first sequence number the key may no longer sign.
        #[arg(long)]
        from_seq: u64,
        /// A key grant file (from `aidledger key grant`) naming the key the member continues with.
        #[arg(long)]
        replacement_grant: Option<PathBuf>,
    },
    /// Replace the admin rule: which members are admins and how many must approve.
    SetAdminRule {
        /// An admin organisation; repeat or comma-separate.
        #[arg(long = "admin", required = true, value_delimiter = ',')]
        admins: Vec<String>,
        /// How many admins must approve a change.
        #[arg(long)]
        threshold: u16,
    },
    /// Replace the witness policy: which witnesses' cosignatures a checkpoint needs, and how
    /// many (k of n). `--none` removes the policy.
    SetWitnesses {
        /// A witness's verifier key, `NAME+KEYID+BASE64` of type cosignature (as `aidledger
        /// witness key` prints it); repeat for each.
        #[arg(long = "witness", required_unless_present = "none")]
        witnesses: Vec<String>,
        /// How many of the witnesses must cosign a checkpoint.
        #[arg(long, required_unless_present = "none")]
        threshold: Option<u16>,
        /// No witness policy.
        #[arg(long, conflicts_with_all = ["witnesses", "threshold"])]
        none: bool,
    },
    /// Redact records of a member (a court order, the safety of persons): once the admins'
    /// threshold approves, every node forgets their content and keeps their header, signature
    /// and place, so the chain still verifies. The proposal's --note says why, publicly.
    Redact {
        /// The organisation whose records are redacted.
        #[arg(long)]
        member: String,
        /// A record: SEQ:ID (its sequence number in the member's chain, a colon, its id), or
        /// the id alone (its sequence number is then read from the node); repeat for each.
        #[arg(long = "record", required = true)]
        records: Vec<String>,
        /// Why: safety-of-persons, personal-data, legal-order or authors-request.
        #[arg(long)]
        category: String,
    },
}

/// What composing a change may need to ask the node.
pub trait ProposeContext {
    /// The network's id (a key grant is bound to it).
    fn network_id(&mut self) -> Result<NetworkId, GovError>;
    /// One past `member`'s head as the node sees it (0 for an empty chain).
    fn next_seq(&mut self, member: &str) -> Result<u64, GovError>;
    /// The sequence number of record `id` of `member`'s chain as the node holds it.
    fn record_seq(&mut self, member: &str, id: RecordId) -> Result<u64, GovError> {
        let _ = member;
        Err(GovError::flag(
            "--record",
            format!("give {id} as SEQ:ID: its position cannot be looked up here"),
        ))
    }
}

/// Turns the flags into a change; keys and roles are sorted and repeats dropped, as the
/// record rules want them strictly ascending.
pub fn compose_change(
    change: &ProposeChange,
    context: &mut dyn ProposeContext,
) -> Result<Change, GovError> {
    Ok(match change {
        ProposeChange::AddMember {
            id,
            name,
            roles,
            signing_keys,
            node_keys,
        } => Change::AddMember {
            member: Member {
                id: id.clone(),
                name: name.clone(),
                roles: parse_roles(roles)?,
                signing_keys: parse_keys("--signing-key", signing_keys)?,
                node_keys: parse_keys("--node-key", node_keys)?,
            },
        },
        ProposeChange::RemoveMember { member, from_seq } => Change::RemoveMember {
            member: member.clone(),
            from_seq: match from_seq {
                Some(seq) => *seq,
                None => context.next_seq(member)?,
            },
        },
        ProposeChange::SetRoles { member, roles } => Change::SetRoles {
            member: member.clone(),
            roles: parse_roles(roles)?,
        },
        ProposeChange::SetNodeKeys {
            member, node_keys, ..
        } => Change::SetNodeKeys {
            member: member.clone(),
            node_keys: parse_keys("--node-key", node_keys)?,
        },
        ProposeChange::RevokeKey {
            member,
            key,
            from_seq,
            replacement_grant,
        } => {
            let replacement = match replacement_grant {
                Some(path) => {
                    let network_id = context.network_id()?;
                    Some(GrantFile::read(path)?.check(&network_id, member)?)
                }
                None => None,
            };
            Change::RevokeKey {
                member: member.clone(),
                key: public_key("--key", key)?,
                from_seq: *from_seq,
                replacement,
            }
        }
        ProposeChange::SetAdminRule { admins, threshold } => {
            let mut admins = admins.clone();
            admins.sort();
            admins.dedup();
            Change::SetAdminRule {
                rule: AdminRule {
                    admins,
                    threshold: *threshold,
                },
            }
        }
        ProposeChange::SetWitnesses {
            witnesses,
            threshold,
            ..
        } => Change::SetWitnesses {
            witnesses: parse_witnesses(witnesses)?,
            threshold: threshold.unwrap_or(0),
        },
        ProposeChange::Redact {
            member,
            records,
            category,
        } => {
            let mut named = Vec::with_capacity(records.len());
            for text in records {
                named.push(match named_record("--record", text).map_err(flag_error)? {
                    NamedRecord::At(record) => record,
                    NamedRecord::Id(id) => RedactedRecord {
                        seq: context.record_seq(member, id)?,
                        id,
                    },
                });
            }
            Change::Redact {
                member: member.clone(),
                records: redacted_records("--record", named).map_err(flag_error)?,
                category: redaction_category("--category", category).map_err(flag_error)?,
            }
        }
    })
}

/// A flag's value refused while composing, as the governance commands report it.
fn flag_error(error: ComposeError) -> GovError {
    match error {
        ComposeError::Flag { flag, problem } => GovError::flag(flag, problem),
        other => GovError::flag("--record", other.to_string()),
    }
}

/// Reads `--witness` vkeys (type cosignature), sorted by name as the record rules want them;
/// the same vkey given twice counts once.
fn parse_witnesses(texts: &[String]) -> Result<Vec<WitnessEntry>, GovError> {
    let mut witnesses = Vec::with_capacity(texts.len());
    for text in texts {
        let key = VerifierKey::parse(text.trim())
            .map_err(|error| GovError::flag("--witness", format!("{text:?}: {error}")))?;
        if key.key_type() != KeyType::Cosignature {
            return Err(GovError::flag(
                "--witness",
                format!(
                    "{text:?} is not a witness's cosignature key (type 04); `aidledger witness key` prints one"
                ),
            ));
        }
        witnesses.push(WitnessEntry {
            name: key.name().to_owned(),
            key: *key.public_key(),
        });
    }
    witnesses.sort_by(|a, b| a.name.cmp(&b.name).then(a.key.cmp(&b.key)));
    witnesses.dedup();
    Ok(witnesses)
}

/// The proposal body, checked against the field rules.
pub fn proposal_body(base: RecordId, change: Change, note: String) -> Result<Body, GovError> {
    let body = Body::Proposal(Proposal { base, change, note });
    body.check()?;
    Ok(body)
}

/// The approval body of `proposal`.
pub fn approval_body(proposal: RecordId) -> Body {
    Body::Approval(Approval { proposal })
}

/// Reads a role by its name (as in the members file: `recipient-government`).
pub fn parse_role(text: &str) -> Result<Role, GovError> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_owned())).map_err(|_| {
        GovError::flag(
            "--role",
            format!(
                "{text:?} is not a role; use donor, implementer, recipient-government, auditor or observer"
            ),
        )
    })
}

fn parse_roles(texts: &[String]) -> Result<Vec<Role>, GovError> {
    let mut roles = texts
        .iter()
        .map(|text| parse_role(text))
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// Reads a public key flag.
pub fn public_key(flag: &'static str, text: &str) -> Result<PublicKey, GovError> {
    PublicKey::from_hex(text).map_err(|error| GovError::flag(flag, error.to_string()))
}

fn parse_keys(flag: &'static str, texts: &[String]) -> Result<Vec<PublicKey>, GovError> {
    let mut keys = texts
        .iter()
        .map(|text| public_key(flag, text))
        .collect::<Result<Vec<_>, _>>()?;
    keys.sort();
    keys.dedup();
    Ok(keys)
}
