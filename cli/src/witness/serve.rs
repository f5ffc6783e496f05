//! The witness's HTTP server (issue 21): `GET /api/witness` answers
//! `{"witness": vkey, "checkpoints": [note…], "split_views": [hex…]}` — per origin the latest
//! checkpoint it cosigned (the organisation's signature line and this witness's cosignature),
//! and the split-view proofs it built (FORMAT.md §25.1 bytes in hex). The answer is rendered
//! once per round that changed the state, after the state is durable, and served as it is.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::state::State as WitnessState;

/// The answer of `/api/witness`, shared between the rounds (which replace it) and the server.
#[derive(Clone, Default)]
pub struct Published(Arc<RwLock<Arc<Vec<u8>>>>);

impl Published {
    /// Renders `state` as the answer, replacing the one served.
    pub fn publish(&self, witness: &str, state: &WitnessState) {
        let body = serde_json::json!({
            "witness": witness,
            "checkpoints": state
                .cosigned
                .values()
                .map(|cosigned| cosigned.text())
                .collect::<Vec<_>>(),
            "split_views": state.split_views.iter().map(hex::encode).collect::<Vec<_>>(),
        });
        let bytes = Arc::new(body.to_string().into_bytes());
        // A poisoned lock only means a reader panicked; the answer inside is whole.
        let mut slot = match self.0.write() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = bytes;
    }

    fn current(&self) -> Arc<Vec<u8>> {
        match self.0.read() {
            Ok(slot) => Arc::clone(&slot),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

async fn witness(State(published): State<Published>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        published.current().as_ref().clone(),
    )
}

/// Binds `listen` and serves on a thread of its own; returns the bound address and the
/// thread, which ends only if the server fails.
pub fn start(
    listen: &str,
    published: Published,
) -> std::io::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let router = Router::new()
        .route("/api/witness", get(witness))
        .with_state(published);
    let thread = std::thread::Builder::new()
        .name("witness-http".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                axum::serve(listener, router).await
            })
        })?;
    Ok((address, thread))
}
