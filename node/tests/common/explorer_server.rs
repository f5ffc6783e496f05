//! The explorer's tests' shared parts: a node's public router serving a real sled store on a
//! loopback port, and chains appended to that store.

use std::sync::Arc;

use aidledger_spec::{Body, RecordId, VerifiedRecord};
use aidledger_store::Store;
use serde_json::Value;

use super::{bare_data_dir, open_new_store, record};

/// A node's public router serving a store on a loopback port, on its own runtime. Its client
/// does not follow redirects, so that a test sees the explorer's own 303s.
pub struct Server {
    _runtime: tokio::runtime::Runtime,
    pub base: String,
    pub http: reqwest::blocking::Client,
}

impl Server {
    pub fn start(store: Arc<Store>) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move {
            axum::serve(listener, aidledger_node::public::router(store.reader()))
                .await
                .unwrap()
        });
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Server {
            _runtime: runtime,
            base,
            http,
        }
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap()
    }

    /// A page that must answer 200, as text.
    pub fn page(&self, path: &str) -> String {
        let response = self.get(path);
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().unwrap()
    }

    /// A JSON answer that must be 200.
    pub fn json(&self, path: &str) -> Value {
        let response = self.get(path);
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().unwrap()
    }
}

/// A new store in a temporary data directory, which lives as long as the returned guard.
pub fn new_store() -> (tempfile::TempDir, Arc<Store>) {
    let root = tempfile::tempdir().unwrap();
    let store = Arc::new(open_new_store(&bare_data_dir(root.path())));
    (root, store)
}

/// Appends `bodies` to `org`'s chain after `next` (seq, previous id); returns the records.
pub fn extend(
    store: &Store,
    org: &str,
    bodies: Vec<Body>,
    mut next: (u64, RecordId),
) -> Vec<VerifiedRecord> {
    let mut made = Vec::new();
    for body in bodies {
        let record = record(org, next.0, next.1, body);
        next = (next.0 + 1, record.id());
        store.append_durable(std::slice::from_ref(&record)).unwrap();
        made.push(record);
    }
    made
}

/// Appends `bodies` to `org`'s chain after its head.
pub fn append(store: &Store, org: &str, bodies: Vec<Body>) -> Vec<VerifiedRecord> {
    let next = store
        .head(org)
        .unwrap()
        .map_or((0, RecordId::ZERO), |head| (head.seq + 1, head.id));
    extend(store, org, bodies, next)
}
