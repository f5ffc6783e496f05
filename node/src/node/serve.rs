//! Serving an opened data directory: the submit token, the writer, the network, both HTTP
//! listeners and `endpoints.json`, which together make a [`RunningNode`].

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use super::data_dir::{write, Opened};
use super::{RunningNode, StartError, PUBLIC_FILE_MODE, TOKEN_BYTES};
use crate::checkpoints::Checkpoints;
use crate::network::{self, NetworkConfig};
use crate::witnessed::{poll, Witnessed};
use crate::writer::{SigningKeys, Writer};
use crate::{http, limits, public, submit};
use aidledger_store::datadir::{Endpoints, ENDPOINTS_FILE, PRIVATE_FILE_MODE, TOKEN_FILE};

/// A fresh token: [`TOKEN_BYTES`] random bytes, hex.
fn new_token() -> Result<String, StartError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| StartError::Io {
        what: "draw a random token".into(),
        source: io::Error::other(error.to_string()),
    })?;
    Ok(hex::encode(bytes))
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| match source.kind() {
            io::ErrorKind::AddrInUse => StartError::AddressInUse { addr },
            _ => StartError::Bind { addr, source },
        })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok((listener, local))
}

/// Both HTTP listeners: the submit API's and the public one's, with their local addresses.
async fn bind_both(
    submit_addr: SocketAddr,
    public_addr: SocketAddr,
) -> Result<(TcpListener, SocketAddr, TcpListener, SocketAddr), StartError> {
    let (submit_listener, submit_local) = bind(submit_addr).await?;
    let (public_listener, public_local) = bind(public_addr).await?;
    Ok((submit_listener, submit_local, public_listener, public_local))
}

/// Which witnesses the node polls, and how often.
pub(super) struct WitnessPolling {
    pub(super) witnesses: Vec<String>,
    pub(super) interval: std::time::Duration,
}

pub(super) async fn serve(
    dir: PathBuf,
    opened: Opened,
    (network, node_key): (NetworkConfig, aidledger_spec::PublicKey),
    (submit_addr, public_addr): (SocketAddr, SocketAddr),
    polling: WitnessPolling,
) -> Result<RunningNode, StartError> {
    let Opened {
        store,
        governance,
        org,
        keys,
        keep_retired_keys,
    } = opened;
    // The addresses first, before the token, the writer, the network or any other thread of a
    // running node: a port in use (another node on the same machine) ends the start with the
    // store closed cleanly, so that the next start is not taken for a crash. (What opening the
    // directory did stays done: a first start's files, a key given with --key installed.)
    let bound = bind_both(submit_addr, public_addr).await.and_then(|bound| {
        // The peer ports too: libp2p would share one another socket holds (`network::addrs`).
        network
            .listen
            .iter()
            .try_for_each(network::addrs::check_listen)?;
        Ok(bound)
    });
    let (submit_listener, submit_local, public_listener, public_local) = match bound {
        Ok(bound) => bound,
        Err(error) => {
            let store = store.clone();
            let closed = tokio::task::spawn_blocking(move || store.close_cleanly()).await;
            if !matches!(closed, Ok(Ok(()))) {
                crate::log_line!(
                    "aidledger-node: the store could not be closed cleanly after the refused start ({closed:?}); the next start checks its tail"
                );
            }
            return Err(error);
        }
    };
    let token = new_token()?;
    write(
        &dir.join(TOKEN_FILE),
        format!("{token}\n").as_bytes(),
        PRIVATE_FILE_MODE,
    )?;
    let keys = SigningKeys {
        dir: Some(dir.clone()),
        keys,
    };
    let writer = Writer::start(store.clone(), governance.clone(), org.clone(), keys)
        .map_err(StartError::Writer)?;
    let writer = Arc::new(if keep_retired_keys {
        writer
    } else {
        writer.removing_retired_keys(dir.clone())
    });
    let witnessed = Arc::new(Witnessed::new(store.clone(), governance.clone()));
    let checkpoints = Arc::new(Checkpoints::new(
        store.reader(),
        org.clone(),
        writer.clone(),
    ));
    let network = network::start_with_witnessed(
        network,
        store.clone(),
        writer.clone(),
        witnessed.clone(),
        checkpoints.clone(),
    )
    .await?;
    let witness_poll = if polling.witnesses.is_empty() {
        None
    } else {
        let (stop, stopped) = std::sync::mpsc::channel();
        let thread = poll::spawn(
            witnessed.clone(),
            polling.witnesses,
            polling.interval,
            stopped,
        )
        .map_err(|source| StartError::Io {
            what: "start the poller of witnesses".into(),
            source,
        })?;
        Some((stop, thread))
    };
    let index_follower = {
        let (stop, stopped) = std::sync::mpsc::channel();
        let thread = crate::explorer::follower::spawn(store.clone(), governance.clone(), stopped)
            .map_err(|source| StartError::Io {
            what: "start the explorer index's follower".into(),
            source,
        })?;
        (stop, thread)
    };
    let endpoints = Endpoints {
        submit: format!("http://{submit_local}"),
        public: format!("http://{public_local}"),
        pid: std::process::id(),
    };
    let endpoints_json = serde_json::to_vec(&endpoints).map_err(|error| StartError::Io {
        what: "encode endpoints.json".into(),
        source: io::Error::other(error),
    })?;
    write(&dir.join(ENDPOINTS_FILE), &endpoints_json, PUBLIC_FILE_MODE)?;
    let submit_state = Arc::new(submit::SubmitState {
        store: store.clone(),
        governance: governance.clone(),
        writer: writer.clone(),
        org: org.clone(),
        token: token.clone(),
        pool: submit::SubmitState::pool().map_err(|source| StartError::Io {
            what: "start the submit API's threads".into(),
            source,
        })?,
    });
    let (shutdown, shutdown_receiver) = watch::channel(false);
    let servers = vec![
        http::spawn(
            submit_listener,
            submit::router(submit_state),
            limits::SUBMIT_CONNECTIONS_MAX,
            shutdown_receiver.clone(),
        ),
        http::spawn(
            public_listener,
            network::status::router(store.clone(), writer.clone(), org.clone(), network.status())
                .merge(public::router_of_node(
                    store.reader(),
                    governance.clone(),
                    checkpoints,
                ))
                .layer(axum::Extension(witnessed.clone())),
            limits::PUBLIC_CONNECTIONS_MAX,
            shutdown_receiver,
        ),
    ];
    Ok(RunningNode {
        data_dir: dir,
        node_key,
        org,
        token,
        endpoints,
        store,
        governance,
        writer,
        network,
        witnessed,
        witness_poll,
        index_follower,
        shutdown,
        servers,
    })
}
