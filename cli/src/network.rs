//! `network init`: a genesis from a members file.

use aidledger_spec::genesis::{AdminRule, Genesis, Member, GENESIS_FORMAT_VERSION};

/// The fields of a member in the members file; any other is refused, so that a typo
/// (`node_key` for `node_keys`) cannot silently leave a member without node keys.
pub const MEMBER_FIELDS: [&str; 5] = ["id", "name", "roles", "signing_keys", "node_keys"];

/// Why a members file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MembersError {
    /// The file is not a JSON array of objects.
    #[error("expected a JSON array of members ({{\"id\",\"name\",\"roles\",\"signing_keys\",\"node_keys\"}}): {0}")]
    Json(#[from] serde_json::Error),
    /// A member has a field the format does not know.
    #[error("member {member}: unknown field {field:?} (the fields are {})", MEMBER_FIELDS.join(", "))]
    UnknownField {
        /// The member's id, or its position when it has none.
        member: String,
        /// The unknown field.
        field: String,
    },
    /// A key of a member is not 64 hex digits (serde's own message names no field).
    #[error("member {member}: {field}[{position}] is {value}, not a public key (64 hex digits)")]
    BadKey {
        /// The member's id, or its position.
        member: String,
        /// `signing_keys` or `node_keys`.
        field: &'static str,
        /// The key's place in the list, from 0.
        position: usize,
        /// The value as written (JSON).
        value: String,
    },
    /// A member's fields do not have the right form.
    #[error("member {member}: {source}")]
    Member {
        /// The member's id, or its position.
        member: String,
        /// What serde said.
        source: serde_json::Error,
    },
}

/// Parses a members file: a JSON array of members, every field known.
pub fn parse_members(text: &str) -> Result<Vec<Member>, MembersError> {
    let values: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(text)?;
    values
        .into_iter()
        .enumerate()
        .map(|(index, fields)| {
            let member = match fields.get("id").and_then(serde_json::Value::as_str) {
                Some(id) => id.to_owned(),
                None => format!("#{} (no id)", index + 1),
            };
            if let Some(field) = fields
                .keys()
                .find(|field| !MEMBER_FIELDS.contains(&field.as_str()))
            {
                return Err(MembersError::UnknownField {
                    member,
                    field: field.clone(),
                });
            }
            check_keys(&member, &fields)?;
            serde_json::from_value(serde_json::Value::Object(fields))
                .map_err(|source| MembersError::Member { member, source })
        })
        .collect()
}

/// Each entry of `signing_keys` and `node_keys` that is not 64 hex digits, named by field and
/// place (the rest of the form is serde's to judge).
fn check_keys(
    member: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), MembersError> {
    for field in ["signing_keys", "node_keys"] {
        let keys = fields.get(field).and_then(serde_json::Value::as_array);
        for (position, value) in keys.into_iter().flatten().enumerate() {
            // The parser's own judgement (it takes surrounding spaces), so the two never differ.
            let is_key = value
                .as_str()
                .is_some_and(|text| aidledger_spec::PublicKey::from_hex(text).is_ok());
            if !is_key {
                return Err(MembersError::BadKey {
                    member: member.to_owned(),
                    field,
                    position,
                    value: value.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Builds and checks a genesis. Admins default to every member, the threshold to a majority of them.
pub fn build_genesis(
    name: &str,
    created_ms: u64,
    members: Vec<Member>,
    admins: Option<Vec<String>>,
    threshold: Option<u16>,
) -> Result<Genesis, aidledger_spec::genesis::GenesisError> {
    let admins = admins.unwrap_or_else(|| members.iter().map(|member| member.id.clone()).collect());
    let majority = u16::try_from(admins.len() / 2 + 1).unwrap_or(u16::MAX);
    let mut genesis = Genesis {
        format_version: GENESIS_FORMAT_VERSION,
        name: name.to_owned(),
        created_ms,
        members,
        admin_rule: AdminRule {
            admins,
            threshold: threshold.unwrap_or(majority),
        },
    };
    genesis.normalise();
    genesis.check()?;
    Ok(genesis)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";

    #[test]
    fn refuses_a_key_that_is_not_one_naming_its_field_and_place() {
        let text = format!(
            r#"[{{"id":"A","name":"A","roles":["donor"],"signing_keys":["{KEY}"],"node_keys":["{KEY}","abcd"]}}]"#
        );
        let error = parse_members(&text).unwrap_err().to_string();
        assert_eq!(
            error,
            r#"member A: node_keys[1] is "abcd", not a public key (64 hex digits)"#
        );
        // What the key parser takes, the check takes: a key with a trailing newline.
        let text = format!(
            r#"[{{"id":"A","name":"A","roles":["donor"],"signing_keys":["{KEY}\n"],"node_keys":[]}}]"#
        );
        assert!(parse_members(&text).is_ok());
        let text = r#"[{"id":"B","name":"B","roles":["donor"],"signing_keys":[7]}]"#;
        let error = parse_members(text).unwrap_err().to_string();
        assert_eq!(
            error,
            "member B: signing_keys[0] is 7, not a public key (64 hex digits)"
        );
    }

    #[test]
    fn refuses_an_unknown_field_naming_it_and_the_member() {
        let text = format!(
            r#"[{{"id":"GB-GOV-1","name":"FCDO","roles":["donor"],"signing_keys":["{KEY}"],"node_key":["{KEY}"]}}]"#
        );
        let message = parse_members(&text).unwrap_err().to_string();
        assert!(message.contains("member GB-GOV-1"), "{message}");
        assert!(message.contains("\"node_key\""), "{message}");
    }

    #[test]
    fn reads_a_member_with_every_field() {
        let text = format!(
            r#"[{{"id":"GB-GOV-1","name":"FCDO","roles":["donor"],"signing_keys":["{KEY}"],"node_keys":[]}}]"#
        );
        let members = parse_members(&text).unwrap();
        assert_eq!(members[0].id, "GB-GOV-1");
    }
}
