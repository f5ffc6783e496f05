//! `keygen` and `network init`: an organisation's key and a network's genesis, written to new
//! files (never over existing ones); and the clock the genesis takes its creation time from.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use aidledger_cli::{keys, network};
use anyhow::{Context, Result};

/// `keygen --out FILE`: prints the new public key.
pub(crate) fn keygen(out: &Path) -> Result<ExitCode> {
    let key = keys::generate_key_file(out)?;
    println!("{key}");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn network_init(
    name: &str,
    members_path: &Path,
    admins: Option<Vec<String>>,
    threshold: Option<u16>,
    out: &Path,
) -> Result<ExitCode> {
    let text = std::fs::read_to_string(members_path)
        .with_context(|| format!("cannot read {}", members_path.display()))?;
    let members = network::parse_members(&text)
        .with_context(|| format!("{} is not a members list", members_path.display()))?;
    let created_ms = now_ms();
    let genesis = network::build_genesis(name, created_ms, members, admins, threshold)?;
    write_new_file(out, &genesis.encode())?;
    println!("{}", genesis.network_id());
    Ok(ExitCode::SUCCESS)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

pub(crate) fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}
