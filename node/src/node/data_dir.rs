//! The data directory at start: locked, initialised on the first start or checked against the
//! flags on later ones, its transport key made or checked, its store opened and its governance
//! state derived, its retired key files removed.

use std::io;
use std::path::Path;
use std::sync::Arc;

use aidledger_spec::Genesis;
use ed25519_dalek::SigningKey;

use super::{NodeConfig, StartError, NODE_KEY_FILE, PUBLIC_FILE_MODE};
use crate::governance::Governance;
use aidledger_store::datadir::{self, DirLock, GENESIS_FILE, KEY_FILE, PRIVATE_FILE_MODE};
use aidledger_store::{OpenMode, Store};

/// The directory's transport key: copied in from `given` on first use, checked against it
/// later, or made new when there is none.
pub(super) fn node_key(dir: &Path, given: Option<&Path>) -> Result<SigningKey, StartError> {
    let path = dir.join(NODE_KEY_FILE);
    if path.exists() {
        let held = datadir::read_private_key_file(&path)?;
        if let Some(given) = given {
            if datadir::read_key_file(given)?.to_bytes() != held.to_bytes() {
                return Err(StartError::Config(format!(
                    "--node-key {} differs from the node key {} already holds",
                    given.display(),
                    dir.display()
                )));
            }
        }
        return Ok(held);
    }
    let key = match given {
        Some(given) => {
            warn_if_exposed("--node-key", given);
            datadir::read_key_file(given)?
        }
        None => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|error| StartError::Io {
                what: "draw a random node key".into(),
                source: io::Error::other(error.to_string()),
            })?;
            SigningKey::from_bytes(&seed)
        }
    };
    write(
        &path,
        datadir::key_file_text(&key).as_bytes(),
        PRIVATE_FILE_MODE,
    )?;
    Ok(key)
}

/// A data directory opened for a node: its store, governance state, organisation and keys.
pub(super) struct Opened {
    pub(super) store: Arc<Store>,
    pub(super) governance: Arc<Governance>,
    pub(super) org: String,
    pub(super) keys: Vec<SigningKey>,
    pub(super) keep_retired_keys: bool,
}

/// Locks the directory, copies or checks the genesis, organisation and key, opens the store
/// and derives the governance state.
pub(super) fn open_data_dir(
    config: &NodeConfig,
    keep_retired_keys: bool,
) -> Result<Opened, StartError> {
    let dir = &config.data_dir;
    // Before anything is made or locked: a wrong setting leaves the directory as it was.
    let cache_bytes = config.store_cache_bytes()?;
    let first_start = !dir.join(GENESIS_FILE).exists();
    if first_start {
        if config.genesis.is_none() || config.org.is_none() || config.key.is_none() {
            return Err(StartError::Config(format!(
                "{} is not an initialised node directory: the first start needs --genesis, --org and --key",
                dir.display()
            )));
        }
        datadir::create_private_dir(dir).map_err(|source| StartError::Io {
            what: format!("create {}", dir.display()),
            source,
        })?;
    } else if !dir.is_dir() {
        return Err(StartError::Config(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let lock = DirLock::acquire(dir)?;
    if first_start {
        initialise(config)?;
    } else {
        check_genesis_flag(config)?;
    }
    // sled would create store/ under the umask; it holds every record, so it is made 0700.
    let store_dir = dir.join(datadir::STORE_DIR);
    datadir::create_private_dir(&store_dir).map_err(|source| StartError::Io {
        what: format!("create {}", store_dir.display()),
        source,
    })?;
    // The store first: it checks genesis.bin, the most telling problem of a damaged directory.
    let store = Arc::new(Store::open_with_cache(
        dir,
        lock,
        OpenMode::CreateIfMissing,
        crate::ExplorerIndex,
        cache_bytes,
    )?);
    report_start_state(store.start_state());
    let governance = Arc::new(Governance::load(store.clone()).map_err(StartError::Governance)?);
    let view = governance.current();
    let authority = view.authority();
    let held = datadir::read_private_key_file(&dir.join(KEY_FILE))?;
    let held_public = datadir::public_key(&held);
    let org = match datadir::read_org_file(dir).map_err(|source| StartError::Io {
        what: format!("read {}", dir.join(datadir::ORG_FILE).display()),
        source,
    })? {
        Some(org) => org,
        // A directory made before org.id existed: its key names its organisation.
        None => {
            let org = authority.key_owner(&held_public).ok_or_else(|| {
                StartError::Config(format!(
                    "the key in {} is not a signing key of any member",
                    dir.join(KEY_FILE).display()
                ))
            })?;
            datadir::write_org_file(dir, org).map_err(|source| StartError::Io {
                what: format!("write {}", dir.join(datadir::ORG_FILE).display()),
                source,
            })?;
            org.to_owned()
        }
    };
    if let Some(wanted) = &config.org {
        if *wanted != org {
            return Err(StartError::Config(format!(
                "--org {wanted} does not match {}: its key is {org}'s",
                dir.display()
            )));
        }
    }
    if let Some(key_path) = &config.key {
        let given = datadir::read_key_file(key_path)?;
        let given_public = datadir::public_key(&given);
        let already_held = datadir::read_signing_keys(dir)?
            .iter()
            .any(|key| datadir::public_key(key) == given_public);
        if !already_held {
            // Another member's key is a mistake; a key of nobody (yet) or of this member is a
            // replacement (after a revocation): it becomes org.key, the old one is kept.
            if let Some(owner) = authority
                .key_owner(&given_public)
                .filter(|owner| *owner != org)
            {
                return Err(StartError::Config(format!(
                    "--key {} differs from the key {} already holds (and is {owner}'s)",
                    key_path.display(),
                    dir.display()
                )));
            }
            datadir::install_signing_key(dir, &given, &held).map_err(|source| StartError::Io {
                what: format!("install --key {} as {}", key_path.display(), KEY_FILE),
                source,
            })?;
            crate::log_line!(
                "aidledger-node: --key {} is now {}'s key in {}; the old key {held_public} is kept as {}{held_public}",
                key_path.display(),
                org,
                dir.display(),
                datadir::KEY_BACKUP_PREFIX
            );
        }
    }
    if !keep_retired_keys {
        remove_retired_keys(dir, &store, authority, &org)?;
    }
    let keys = datadir::read_signing_keys(dir)?;
    drop(view);
    Ok(Opened {
        store,
        governance,
        org,
        keys,
        keep_retired_keys,
    })
}

/// Removes the files of keys that can sign nothing from the chain's next position on: left by
/// a node stopped between a rotation and its removal, or by a version that kept every key.
fn remove_retired_keys(
    dir: &Path,
    store: &Store,
    authority: &aidledger_spec::governance::Authority,
    org: &str,
) -> Result<(), StartError> {
    let head = store
        .head(org)
        .map_err(|error| StartError::Config(format!("cannot read {org}'s head: {error}")))?;
    let (next_seq, _) = aidledger_store::Head::next(head);
    let removed = datadir::remove_retired_keys(dir, authority, org, next_seq)
        .map_err(|error| StartError::Config(error.to_string()))?;
    for key in removed {
        crate::log_line!("aidledger-node: removed the retired signing key {key} ({}{key}): it can sign no position of {org}'s chain from seq {next_seq} on", datadir::KEY_BACKUP_PREFIX);
    }
    Ok(())
}

/// Says on stderr what the open found about the last run: an unclean end, and any chain tail
/// discarded because a record below its head did not survive it.
fn report_start_state(state: &aidledger_store::StartState) {
    if !state.unclean {
        return;
    }
    crate::log_line!(
        "aidledger-node: the last run did not shut down cleanly; checked the last {} records of every chain",
        aidledger_store::limits::TAIL_CHECK_RECORDS
    );
    for tail in &state.discarded {
        crate::log_line!(
            "aidledger-node: {} seq {} did not survive (a record lost with its blob file); its chain goes back from seq {} to seq {}: those records were never durable, so never acknowledged nor served to peers",
            tail.author,
            tail.from_seq,
            tail.old_head_seq,
            tail.from_seq as i128 - 1
        );
    }
}

/// First start: checks the genesis, org and key, then copies the key and (last, because its
/// presence marks an initialised directory) the genesis into the directory.
fn initialise(config: &NodeConfig) -> Result<(), StartError> {
    let (Some(genesis_path), Some(org), Some(key_path)) =
        (&config.genesis, &config.org, &config.key)
    else {
        return Err(StartError::Config(
            "the first start needs --genesis, --org and --key".into(),
        ));
    };
    let genesis_bytes = std::fs::read(genesis_path).map_err(|source| StartError::Io {
        what: format!("read {}", genesis_path.display()),
        source,
    })?;
    let genesis = Genesis::decode(&genesis_bytes).map_err(|error| {
        StartError::Config(format!(
            "{} is not a valid genesis: {error}",
            genesis_path.display()
        ))
    })?;
    let key = datadir::read_key_file(key_path)?;
    warn_if_exposed("--key", key_path);
    aidledger_spec::text::check_org_id("--org", org)
        .map_err(|error| StartError::Config(error.to_string()))?;
    // A key that the genesis does not list is allowed: the organisation may be a member added
    // by governance, or continue with a replacement key; the node signs once the network's
    // authority grants the key. Another member's key is always a mistake.
    let public = datadir::public_key(&key);
    if let Some(owner) = owner_of_key(&genesis, &key).filter(|owner| owner != org) {
        return Err(StartError::Config(match genesis.member(org) {
            Some(_) => format!(
                "the key in {} ({public}) is not one of {org}'s signing keys in the genesis: it is {owner}'s",
                key_path.display(),
            ),
            None => format!(
                "--org {org} is not a member of the network {:?} in its genesis, and the key in {} is {owner}'s",
                genesis.name,
                key_path.display(),
            ),
        }));
    }
    let dir = &config.data_dir;
    write(
        &dir.join(KEY_FILE),
        datadir::key_file_text(&key).as_bytes(),
        PRIVATE_FILE_MODE,
    )?;
    write(
        &dir.join(datadir::ORG_FILE),
        format!("{org}\n").as_bytes(),
        PUBLIC_FILE_MODE,
    )?;
    write(&dir.join(GENESIS_FILE), &genesis_bytes, PUBLIC_FILE_MODE)?;
    Ok(())
}

/// Later starts: a genesis given again must match the directory's.
fn check_genesis_flag(config: &NodeConfig) -> Result<(), StartError> {
    let dir = &config.data_dir;
    if let Some(genesis_path) = &config.genesis {
        let given = std::fs::read(genesis_path).map_err(|source| StartError::Io {
            what: format!("read {}", genesis_path.display()),
            source,
        })?;
        let held = std::fs::read(dir.join(GENESIS_FILE)).map_err(|source| StartError::Io {
            what: format!("read {}", dir.join(GENESIS_FILE).display()),
            source,
        })?;
        if given != held {
            return Err(StartError::Config(format!(
                "--genesis {} differs from the genesis {} already holds",
                genesis_path.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// The member whose signing keys include `key`.
fn owner_of_key(genesis: &Genesis, key: &SigningKey) -> Option<String> {
    let public_key = datadir::public_key(key);
    genesis
        .members
        .iter()
        .find(|member| member.signing_keys.contains(&public_key))
        .map(|member| member.id.clone())
}

pub(super) fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StartError> {
    datadir::write_file_atomically(path, bytes, mode).map_err(|source| StartError::Io {
        what: format!("write {}", path.display()),
        source,
    })
}

/// A key file given at a first start is copied into the directory with mode 0600 (and that
/// copy is what later starts read and refuse if exposed); the original is the user's, so an
/// exposed one is only named, with what to do.
fn warn_if_exposed(flag: &str, path: &Path) {
    if let Some(mode) = datadir::exposed_key_mode(path) {
        crate::log_line!(
            "aidledger-node: warning: {flag} {} has mode {mode:04o}: group or others may read it, \
             and whoever did can sign with it. The node keeps its own copy (mode 0600); remove \
             the original or `chmod 600` it, and rotate the key if others could have read it.",
            path.display()
        );
    }
}
