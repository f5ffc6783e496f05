//! The three governance body kinds (a [`Proposal`], an [`Approval`], a [`KeyRotation`]), the
//! [`Change`] a proposal carries, and the [`KeyGrant`] by which a new key proves possession.

use ed25519_dalek::SigningKey;

use crate::cosignature::WitnessPolicy;
use crate::genesis::{check_ascending, check_member, AdminRule, Member, Role};
use crate::ids::{hash_with_domain, Digest, NetworkId, PublicKey, RecordId, SignatureBytes};
use crate::limits::{DESCRIPTION_BYTES_MAX, KEYS_PER_MEMBER_MAX, WITNESSES_MAX};
use crate::note::{check_key_name, KeyType, NoteError, VerifierKey};
use crate::redaction::{check_redacted_records, RedactedRecord, RedactionCategory};
use crate::signature;
use crate::text::{check_org_id, check_text, FieldError};

/// Prefix of the message a new key signs to prove that its holder has it.
pub const POSSESSION_DOMAIN: &str = "aidledger:key-possession:v1\n";

/// A new signing key with a proof that whoever names it holds its secret half: an ed25519
/// signature by the new key over [`possession_message`].
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct KeyGrant {
    /// The new public key.
    pub key: PublicKey,
    /// The new key's signature over [`possession_message`] for the member it is granted to.
    pub proof_of_possession: SignatureBytes,
}

/// The 32 bytes a new key signs: SHA-256 over [`POSSESSION_DOMAIN`], the network id, the new
/// key, and the member id's UTF-8 bytes. It binds the proof to one key, one member, one network.
pub fn possession_message(network_id: &NetworkId, member: &str, key: &PublicKey) -> Digest {
    hash_with_domain(
        POSSESSION_DOMAIN,
        &[&network_id.0, &key.0, member.as_bytes()],
    )
}

impl KeyGrant {
    /// Grants `key` to `member` of `network_id`, with the proof signed by `key` itself.
    pub fn prove(network_id: &NetworkId, member: &str, key: &SigningKey) -> KeyGrant {
        use ed25519_dalek::Signer as _;
        let public = signature::public_key_of(key);
        let message = possession_message(network_id, member, &public);
        KeyGrant {
            key: public,
            proof_of_possession: SignatureBytes(key.sign(&message.0).to_bytes()),
        }
    }

    /// Whether the key is acceptable and the proof verifies (the signature rule, FORMAT.md §7.1).
    pub fn verify(&self, network_id: &NetworkId, member: &str) -> Result<(), &'static str> {
        let key = signature::check_public_key(&self.key)?;
        let message = possession_message(network_id, member, &self.key);
        if signature::verify_message(&key, &message.0, &self.proof_of_possession) {
            Ok(())
        } else {
            Err("the proof of possession does not verify")
        }
    }
}

/// A witness of a `set-witnesses` change: its C2SP key name and its Ed25519 cosignature key
/// (FORMAT.md §18.2.1, §24).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct WitnessEntry {
    /// The witness's key name (a C2SP key name: no space, no plus; a schema-less URL is usual).
    pub name: String,
    /// Its Ed25519 public key, which signs cosignatures (key type `0x04`).
    pub key: PublicKey,
}

impl WitnessEntry {
    /// The witness's verifier key (type cosignature, `0x04`).
    pub fn verifier_key(&self) -> Result<VerifierKey, NoteError> {
        VerifierKey::new(&self.name, KeyType::Cosignature, self.key)
    }
}

/// The witness policy a `set-witnesses` list gives: `Ok(None)` for no witnesses (threshold 0),
/// else `threshold` of them. Fails for a list that breaks the field rules (FORMAT.md §18.5).
pub fn witness_policy_of(
    witnesses: &[WitnessEntry],
    threshold: u16,
) -> Result<Option<WitnessPolicy>, String> {
    if witnesses.is_empty() && threshold == 0 {
        return Ok(None);
    }
    let keys = witnesses
        .iter()
        .map(|witness| {
            witness
                .verifier_key()
                .map_err(|error| format!("witness {}: {error}", witness.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    WitnessPolicy::new(keys, usize::from(threshold))
        .map(Some)
        .map_err(|error| error.to_string())
}

/// A change to the network that admins propose and approve.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// 0: a new member organisation, with its keys and nodes, as in the genesis.
    AddMember {
        /// The member.
        member: Member,
    },
    /// 1: a member leaves: its records from `from_seq` on are invalid and its nodes are refused.
    RemoveMember {
        /// The member id.
        member: String,
        /// The first sequence number of its chain that is no longer valid.
        from_seq: u64,
    },
    /// 2: a member's roles are replaced.
    SetRoles {
        /// The member id.
        member: String,
        /// The new roles, strictly ascending.
        roles: Vec<Role>,
    },
    /// 3: a member's node keys (libp2p identities) are replaced.
    SetNodeKeys {
        /// The member id.
        member: String,
        /// The new node keys, strictly ascending.
        node_keys: Vec<PublicKey>,
    },
    /// 4: emergency revocation: records of `member` signed with `key` at `from_seq` or later
    /// are invalid; `replacement`, if given, may sign from `from_seq` on.
    RevokeKey {
        /// The member id.
        member: String,
        /// The compromised key.
        key: PublicKey,
        /// The first sequence number the key may no longer sign.
        from_seq: u64,
        /// The key the member continues with, with its proof of possession.
        replacement: Option<KeyGrant>,
    },
    /// 5: the admin rule is replaced.
    SetAdminRule {
        /// The new rule.
        rule: AdminRule,
    },
    /// 6: the witness policy is replaced: checkpoints count as witnessed when `threshold` of
    /// `witnesses` cosigned them (FORMAT.md §24). No witnesses and threshold 0: no policy.
    SetWitnesses {
        /// The witnesses, strictly ascending by name, at most [`WITNESSES_MAX`].
        witnesses: Vec<WitnessEntry>,
        /// How many must cosign: 1 to the number of witnesses (0 when there are none).
        threshold: u16,
    },
    /// 7: the bodies of `member`'s records are to be forgotten (FORMAT.md §27): how the admins
    /// redact another organisation's records, so that no single member can erase another's
    /// evidence. The proposal's note says why, without repeating the content.
    Redact {
        /// The member whose records are redacted.
        member: String,
        /// Its records, strictly ascending by `seq`, 1 to `REDACTION_RECORDS_MAX`.
        records: Vec<RedactedRecord>,
        /// Why.
        category: RedactionCategory,
    },
}

impl Change {
    /// The change's name, as the CLI and explorer show it.
    pub fn name(&self) -> &'static str {
        match self {
            Change::AddMember { .. } => "add-member",
            Change::RemoveMember { .. } => "remove-member",
            Change::SetRoles { .. } => "set-roles",
            Change::SetNodeKeys { .. } => "set-node-keys",
            Change::RevokeKey { .. } => "revoke-key",
            Change::SetAdminRule { .. } => "set-admin-rule",
            Change::SetWitnesses { .. } => "set-witnesses",
            Change::Redact { .. } => "redact",
        }
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        match self {
            Change::AddMember { member } => format!("add member {} ({})", member.id, member.name),
            Change::RemoveMember { member, from_seq } => {
                format!("remove member {member} from seq {from_seq}")
            }
            Change::SetRoles { member, roles } => {
                let names: Vec<&str> = roles.iter().map(|role| role.name()).collect();
                format!("set roles of {member} to {}", names.join(", "))
            }
            Change::SetNodeKeys { member, node_keys } => {
                format!("set {} node key(s) of {member}", node_keys.len())
            }
            Change::RevokeKey {
                member,
                key,
                from_seq,
                replacement,
            } => format!(
                "revoke key {key} of {member} from seq {from_seq}{}",
                replacement.as_ref().map_or(String::new(), |grant| format!(
                    ", replaced by {}",
                    grant.key
                ))
            ),
            Change::SetAdminRule { rule } => format!(
                "admin rule {} of {}: {}",
                rule.threshold,
                rule.admins.len(),
                rule.admins.join(", ")
            ),
            Change::SetWitnesses {
                witnesses,
                threshold,
            } if witnesses.is_empty() => format!("no witness policy (threshold {threshold})"),
            Change::SetWitnesses {
                witnesses,
                threshold,
            } => {
                let names: Vec<&str> = witnesses.iter().map(|entry| entry.name.as_str()).collect();
                format!(
                    "witness policy {threshold} of {}: {}",
                    witnesses.len(),
                    names.join(", ")
                )
            }
            Change::Redact {
                member,
                records,
                category,
            } => format!(
                "redact {} record(s) of {member} for {}",
                records.len(),
                category.words()
            ),
        }
    }

    fn check(&self, field: &str) -> Result<(), FieldError> {
        match self {
            Change::AddMember { member } => check_member(&format!("{field}.member"), member),
            Change::RemoveMember { member, .. } => check_org_id(&format!("{field}.member"), member),
            Change::SetRoles { member, roles } => {
                check_org_id(&format!("{field}.member"), member)?;
                check_ascending(&format!("{field}.roles"), roles)
            }
            Change::SetNodeKeys { member, node_keys } => {
                check_org_id(&format!("{field}.member"), member)?;
                if node_keys.len() > KEYS_PER_MEMBER_MAX {
                    return Err(FieldError::new(
                        format!("{field}.node_keys"),
                        format!("more than {KEYS_PER_MEMBER_MAX} keys"),
                    ));
                }
                check_ascending(&format!("{field}.node_keys"), node_keys)?;
                for key in node_keys {
                    signature::check_public_key(key).map_err(|problem| {
                        FieldError::new(format!("{field}.node_keys"), format!("{key}: {problem}"))
                    })?;
                }
                Ok(())
            }
            Change::RevokeKey { member, .. } => check_org_id(&format!("{field}.member"), member),
            Change::SetAdminRule { rule } => {
                check_ascending(&format!("{field}.rule.admins"), &rule.admins)?;
                for admin in &rule.admins {
                    check_org_id(&format!("{field}.rule.admins"), admin)?;
                }
                if rule.threshold == 0 || usize::from(rule.threshold) > rule.admins.len() {
                    return Err(FieldError::new(
                        format!("{field}.rule.threshold"),
                        format!(
                            "{} is not between 1 and the {} admins",
                            rule.threshold,
                            rule.admins.len()
                        ),
                    ));
                }
                Ok(())
            }
            Change::SetWitnesses {
                witnesses,
                threshold,
            } => check_witnesses(field, witnesses, *threshold),
            Change::Redact {
                member, records, ..
            } => {
                check_org_id(&format!("{field}.member"), member)?;
                check_redacted_records(&format!("{field}.records"), records)
            }
        }
    }

    /// The key grant inside the change and the member it is granted to, if any.
    pub fn key_grant(&self) -> Option<(&str, &KeyGrant)> {
        match self {
            Change::RevokeKey {
                member,
                replacement: Some(grant),
                ..
            } => Some((member, grant)),
            _ => None,
        }
    }
}

/// The field rules of `set-witnesses` (FORMAT.md §18.5): at most [`WITNESSES_MAX`] witnesses,
/// names strictly ascending and each a key name, keys acceptable and distinct, and a threshold
/// of 1 to the number of witnesses (0 with none). Such a list always makes a policy.
fn check_witnesses(
    field: &str,
    witnesses: &[WitnessEntry],
    threshold: u16,
) -> Result<(), FieldError> {
    let list = format!("{field}.witnesses");
    if witnesses.len() > WITNESSES_MAX {
        return Err(FieldError::new(
            list,
            format!("more than {WITNESSES_MAX} witnesses"),
        ));
    }
    let names: Vec<&str> = witnesses.iter().map(|entry| entry.name.as_str()).collect();
    check_ascending(&format!("{list}.name"), &names)?;
    for (index, witness) in witnesses.iter().enumerate() {
        check_key_name(&witness.name).map_err(|error| {
            FieldError::new(format!("{list}.name"), format!("{}: {error}", witness.name))
        })?;
        signature::check_public_key(&witness.key).map_err(|problem| {
            FieldError::new(format!("{list}.key"), format!("{}: {problem}", witness.key))
        })?;
        if witnesses[..index]
            .iter()
            .any(|earlier| earlier.key == witness.key)
        {
            return Err(FieldError::new(
                format!("{list}.key"),
                format!("{} is listed twice", witness.key),
            ));
        }
    }
    let allowed = if witnesses.is_empty() {
        threshold == 0
    } else {
        threshold >= 1 && usize::from(threshold) <= witnesses.len()
    };
    if !allowed {
        return Err(FieldError::new(
            format!("{field}.threshold"),
            format!(
                "{threshold} is not between 1 and the {} witnesses (0 with none)",
                witnesses.len()
            ),
        ));
    }
    Ok(())
}

/// Kind 5: an admin proposes a change. The proposal counts as its author's approval.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Proposal {
    /// The last effective proposal this one builds on, or all zero for the genesis. Only a
    /// proposal on the current tip can take effect, so changes apply in one order everywhere.
    pub base: RecordId,
    /// The change.
    pub change: Change,
    /// Why, for readers.
    pub note: String,
}

impl Proposal {
    pub(crate) fn check(&self, field: &str) -> Result<(), FieldError> {
        self.change.check(&format!("{field}.change"))?;
        check_text(&format!("{field}.note"), &self.note, DESCRIPTION_BYTES_MAX)
    }
}

/// Kind 6: an admin approves a proposal, named by its record id (which covers its content).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Approval {
    /// The proposal record.
    pub proposal: RecordId,
}

/// Kind 7: the author replaces the key that signs this record by a new one. Signed by the old
/// key; the new key proves possession. Records after this one must be signed by the new key.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct KeyRotation {
    /// The new key.
    pub new_key: KeyGrant,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Body;
    use crate::signed::{peek_body_kind, sign_record, RecordDraft};

    #[test]
    fn peek_finds_the_kind_of_a_signed_record() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let draft = RecordDraft {
            network_id: Digest::ZERO,
            author: "GB-GOV-1".into(),
            seq: 3,
            prev: Digest::ZERO,
            timestamp_ms: 1,
            body: Body::Approval(Approval {
                proposal: Digest::ZERO,
            }),
        };
        let (_, bytes) = sign_record(&draft, &key).expect("signs");
        assert_eq!(peek_body_kind(&bytes), Some(6));
        assert_eq!(peek_body_kind(&bytes[..40]), None);
    }
}
