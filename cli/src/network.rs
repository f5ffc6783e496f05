//! `network init`: a genesis from a members file.

use aidledger_spec::genesis::{AdminRule, Genesis, Member, GENESIS_FORMAT_VERSION};

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
