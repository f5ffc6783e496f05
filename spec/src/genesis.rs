//! The genesis: a network's name, members, their keys, and the admin rule (design note §2).
//!
//! The network id is the hash of the genesis' canonical bytes. An auditor needs nothing but it.

use crate::ids::{hash_with_domain, NetworkId, PublicKey};
use crate::limits::{KEYS_PER_MEMBER_MAX, MEMBERS_MAX, SHORT_TEXT_BYTES_MAX};
use crate::text::{check_org_id, check_required, FieldError};
use crate::{codec, domain, signature};

/// The only genesis format version this crate reads and writes.
pub const GENESIS_FORMAT_VERSION: u16 = 1;

/// What a member does in the network. Roles inform readers; authorization of records does not depend on them.
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
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// 0: gives money.
    Donor,
    /// 1: implements activities.
    Implementer,
    /// 2: a recipient government.
    RecipientGovernment,
    /// 3: audits.
    Auditor,
    /// 4: observes.
    Observer,
}

impl Role {
    /// The role's name, as in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Donor => "donor",
            Role::Implementer => "implementer",
            Role::RecipientGovernment => "recipient-government",
            Role::Auditor => "auditor",
            Role::Observer => "observer",
        }
    }
}

/// A member organisation.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    bincode::Encode,
    bincode::Decode,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Member {
    /// Organisation id, preferably its IATI organisation identifier (`GB-GOV-1`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Roles, strictly ascending.
    pub roles: Vec<Role>,
    /// Record-signing public keys, strictly ascending, at least one.
    pub signing_keys: Vec<PublicKey>,
    /// The ed25519 public keys of the member's nodes' libp2p identities, strictly ascending (the
    /// libp2p peer id is derived from them); may be empty for a member that runs no node.
    pub node_keys: Vec<PublicKey>,
}

/// How later changes to the network are approved (used by governance records).
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    bincode::Encode,
    bincode::Decode,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct AdminRule {
    /// Member ids of the admins, strictly ascending.
    pub admins: Vec<String>,
    /// How many admins must approve, 1 to the number of admins.
    pub threshold: u16,
}

/// A network's founding document.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    bincode::Encode,
    bincode::Decode,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Genesis {
    /// [`GENESIS_FORMAT_VERSION`].
    pub format_version: u16,
    /// The network's name.
    pub name: String,
    /// When the network was founded, milliseconds since the Unix epoch; makes two networks of
    /// the same members distinct.
    pub created_ms: u64,
    /// Members, strictly ascending by id.
    pub members: Vec<Member>,
    /// The admin rule.
    pub admin_rule: AdminRule,
}

pub(crate) fn check_ascending<T: Ord + std::fmt::Debug>(
    field: &str,
    items: &[T],
) -> Result<(), FieldError> {
    match items.windows(2).find(|pair| pair[0] >= pair[1]) {
        Some(pair) => Err(FieldError::new(
            field,
            format!(
                "must be strictly ascending without repeats; {:?} then {:?}",
                pair[0], pair[1]
            ),
        )),
        None => Ok(()),
    }
}

impl Genesis {
    /// The canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// The network id: SHA-256 over the genesis domain and the canonical bytes.
    pub fn network_id(&self) -> NetworkId {
        hash_with_domain(domain::GENESIS, &[&self.encode()])
    }

    /// Reads and checks a genesis from its canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<Genesis, GenesisError> {
        let genesis: Genesis = codec::decode_exact(bytes).map_err(GenesisError::Malformed)?;
        genesis.check()?;
        Ok(genesis)
    }

    /// Sorts the lists that must be ascending, so a genesis built by hand becomes canonical.
    pub fn normalise(&mut self) {
        self.members.sort_by(|a, b| a.id.cmp(&b.id));
        for member in &mut self.members {
            member.roles.sort();
            member.roles.dedup();
            member.signing_keys.sort();
            member.node_keys.sort();
        }
        self.admin_rule.admins.sort();
    }

    /// Checks every rule of the genesis (FORMAT.md, "Genesis").
    pub fn check(&self) -> Result<(), GenesisError> {
        if self.format_version != GENESIS_FORMAT_VERSION {
            return Err(GenesisError::UnsupportedVersion(self.format_version));
        }
        check_required("name", &self.name)?;
        if self.members.is_empty() || self.members.len() > MEMBERS_MAX {
            return Err(FieldError::new(
                "members",
                format!("must list 1 to {MEMBERS_MAX} members"),
            )
            .into());
        }
        let ids: Vec<&str> = self
            .members
            .iter()
            .map(|member| member.id.as_str())
            .collect();
        check_ascending("members (by id)", &ids)?;
        for member in &self.members {
            check_member(&format!("members[{}]", member.id), member)?;
        }
        self.check_keys_unique()?;
        let rule = &self.admin_rule;
        check_ascending("admin_rule.admins", &rule.admins)?;
        if let Some(unknown) = rule
            .admins
            .iter()
            .find(|admin| self.member(admin).is_none())
        {
            return Err(
                FieldError::new("admin_rule.admins", format!("{unknown} is not a member")).into(),
            );
        }
        if rule.threshold == 0 || usize::from(rule.threshold) > rule.admins.len() {
            return Err(FieldError::new(
                "admin_rule.threshold",
                format!(
                    "{} is not between 1 and the {} admins",
                    rule.threshold,
                    rule.admins.len()
                ),
            )
            .into());
        }
        Ok(())
    }

    /// A signing key names exactly one organisation, so a record's key says whose it is.
    fn check_keys_unique(&self) -> Result<(), GenesisError> {
        let mut keys: Vec<&PublicKey> = self
            .members
            .iter()
            .flat_map(|member| &member.signing_keys)
            .collect();
        keys.sort();
        match keys.windows(2).find(|pair| pair[0] == pair[1]) {
            Some(pair) => Err(FieldError::new(
                "signing_keys",
                format!("{} belongs to two members", pair[0]),
            )
            .into()),
            None => Ok(()),
        }
    }

    /// The member with this id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members
            .binary_search_by(|member| member.id.as_str().cmp(id))
            .ok()
            .map(|index| &self.members[index])
    }

    /// The index of the member with this id (members are sorted, so indexes are stable).
    pub fn member_index(&self, id: &str) -> Option<usize> {
        self.members
            .binary_search_by(|member| member.id.as_str().cmp(id))
            .ok()
    }
}

/// Checks one member's fields; `prefix` names it in errors (`members[GB-GOV-1]`).
pub(crate) fn check_member(prefix: &str, member: &Member) -> Result<(), FieldError> {
    let field = |name: &str| format!("{prefix}.{name}");
    check_org_id(&field("id"), &member.id)?;
    check_required(&field("name"), &member.name)?;
    if member.name.len() > SHORT_TEXT_BYTES_MAX {
        return Err(FieldError::new(field("name"), "too long"));
    }
    check_ascending(&field("roles"), &member.roles)?;
    if member.signing_keys.is_empty() || member.signing_keys.len() > KEYS_PER_MEMBER_MAX {
        return Err(FieldError::new(
            field("signing_keys"),
            format!("must hold 1 to {KEYS_PER_MEMBER_MAX} keys"),
        ));
    }
    if member.node_keys.len() > KEYS_PER_MEMBER_MAX {
        return Err(FieldError::new(
            field("node_keys"),
            format!("more than {KEYS_PER_MEMBER_MAX} keys"),
        ));
    }
    check_ascending(&field("signing_keys"), &member.signing_keys)?;
    check_ascending(&field("node_keys"), &member.node_keys)?;
    for key in member.signing_keys.iter().chain(&member.node_keys) {
        signature::check_public_key(key)
            .map_err(|problem| FieldError::new(field("keys"), format!("{key}: {problem}")))?;
    }
    Ok(())
}

/// Why a genesis is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GenesisError {
    /// The bytes are not a genesis.
    #[error("genesis is malformed: {0}")]
    Malformed(codec::DecodeError),
    /// A format version this crate does not know.
    #[error("genesis format version {0} is not supported (this build reads version {GENESIS_FORMAT_VERSION})")]
    UnsupportedVersion(u16),
    /// A field breaks a rule.
    #[error("genesis field {0}")]
    Field(#[from] FieldError),
}
