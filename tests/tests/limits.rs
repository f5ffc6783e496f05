//! No stop from outside (issue 17): idle, half-open and stalled clients of a node's public
//! ports cannot stop its writer or starve its APIs. Real node processes on loopback.
//!
//! - 1,100 half-open connections to the public HTTP port and 1,100 to the libp2p port, under a
//!   soft open-files limit of 1,024 set by the test: connections over the caps are closed at
//!   once, the rest when their request head times out, and durable submits succeed meanwhile.
//! - 600 clients that request `/api/export` and never read: at most `EXPORTS_MAX` exports
//!   start, the others are answered 503 with `Retry-After`, submits and explorer pages keep
//!   answering within 1 s, the stalled exports are dropped after the write timeout, and the
//!   node is healthy once the clients are gone.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use aidledger_node::limits::{
    EXPORTS_MAX, HTTP_REQUEST_HEAD_TIMEOUT_MS, HTTP_WRITE_TIMEOUT_MS, P2P_PENDING_INCOMING_MAX,
    PUBLIC_CONNECTIONS_MAX,
};
use aidledger_spec::record::Statement;
use aidledger_spec::{codec, Body};
use aidledger_tests::{wait_for, wait_until, Endpoints, Network};
use serde_json::Value;

/// Half-open connections per port: more than the usual soft limit of 1,024 descriptors.
const HALF_OPEN_CONNECTIONS: usize = 1_100;
/// The node's soft open-files limit, set by the test (the hard one is [`NODE_HARD_OPEN_FILES`]).
const NODE_SOFT_OPEN_FILES: u64 = 1_024;
const NODE_HARD_OPEN_FILES: u64 = 4_096;
/// Clients that request an export and never read.
const STALLED_EXPORTS: usize = 600;
/// The functional bound on each request's latency while the ports are flooded.
const ANSWER_LATENCY_MAX: Duration = Duration::from_secs(1);
/// How long a test waits for the node to start or to close connections.
const WAIT: Duration = Duration::from_secs(30);
/// One connect's bound (a full accept backlog drops SYNs; the client then retries in 1 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

fn statement(text: String) -> Body {
    Body::Statement(Statement {
        title: "Field report".into(),
        language: "en".into(),
        text,
    })
}

/// Raises this test process's own soft open-files limit to its hard one: it holds thousands
/// of client sockets.
fn raise_own_open_files(needed: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write a plain struct owned here.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    assert!(
        limit.rlim_cur >= needed,
        "this test needs {needed} open files; the hard limit is {}",
        limit.rlim_cur
    );
}

/// A node started on an existing data directory with a soft open-files limit of 1,024;
/// killed when dropped.
struct LimitedNode {
    child: Child,
    endpoints: Endpoints,
    stderr: PathBuf,
}

impl LimitedNode {
    fn start(data_dir: &Path) -> LimitedNode {
        let stderr = data_dir.with_extension("limited.stderr");
        let mut command = aidledger_tests::node_command(data_dir);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("create the stderr log"));
        // SAFETY: between fork and exec only setrlimit runs, which is async-signal-safe and
        // touches no memory of the parent's threads.
        unsafe {
            command.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: NODE_SOFT_OPEN_FILES,
                    rlim_max: NODE_HARD_OPEN_FILES,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("start aidledger-node");
        let pid = child.id();
        let endpoints = wait_for(WAIT, "the limited node to write endpoints.json", || {
            Endpoints::read(data_dir).filter(|endpoints| endpoints.pid == pid)
        });
        LimitedNode {
            child,
            endpoints,
            stderr,
        }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for LimitedNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client")
}

fn status(client: &reqwest::blocking::Client, submit: &str, token: &str) -> Value {
    client
        .get(format!("{submit}/v1/status"))
        .bearer_auth(token)
        .send()
        .expect("GET /v1/status")
        .json()
        .expect("status JSON")
}

fn token(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join("submit.token"))
        .expect("read submit.token")
        .trim()
        .to_string()
}

/// POSTs a statement and returns the status code and how long the answer took.
fn submit(
    client: &reqwest::blocking::Client,
    submit: &str,
    token: &str,
    text: String,
) -> (u16, Duration, String) {
    let started = Instant::now();
    let response = client
        .post(format!("{submit}/v1/records"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(codec::encode(&statement(text)))
        .send()
        .expect("POST /v1/records");
    let code = response.status().as_u16();
    let answer = response.text().unwrap_or_default();
    (code, started.elapsed(), answer)
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|port| port.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}

/// The node's libp2p TCP port, from `/api/status`'s `listen`.
fn p2p_port(client: &reqwest::blocking::Client, public: &str) -> u16 {
    let status: Value = client
        .get(format!("{public}/api/status"))
        .send()
        .expect("GET /api/status")
        .json()
        .expect("status JSON");
    status["listen"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find_map(|addr| addr.split("/tcp/").nth(1)?.split('/').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no TCP listen address in {status}"))
}

/// Opens `count` connections to 127.0.0.1:`port` and sends `first_bytes` on each; keeps the
/// ones that connected (a write to a connection the node closed already may fail: kept too).
fn open_half(port: u16, count: usize, first_bytes: &[u8]) -> Vec<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) else {
            continue;
        };
        let _ = stream.write_all(first_bytes);
        streams.push(stream);
    }
    streams
}

/// Whether the node closed the connection (end of stream or reset); reads without waiting.
fn closed_by_node(stream: &mut TcpStream) -> bool {
    stream.set_nonblocking(true).expect("set non-blocking");
    let mut buffer = [0u8; 512];
    let closed = match stream.read(&mut buffer) {
        Ok(0) => true,
        Ok(_) => false,
        Err(error) => error.kind() != ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    closed
}

fn count_closed(streams: &mut [TcpStream]) -> usize {
    streams
        .iter_mut()
        .map(closed_by_node)
        .filter(|closed| *closed)
        .count()
}

#[test]
fn half_open_connections_on_both_ports_do_not_stop_durable_submits() {
    // Both floods plus the test's own client.
    raise_own_open_files(2 * HALF_OPEN_CONNECTIONS as u64 + 256);
    let mut network = Network::start("limits_half_open");
    let data_dir = network.data_dir();
    network.node.terminate();
    let node = LimitedNode::start(&data_dir);
    let client = http();
    let token = token(&data_dir);
    let (public, submit_url) = (&node.endpoints.public, &node.endpoints.submit);

    let limits = status(&client, submit_url, &token)["limits"].clone();
    assert_eq!(
        limits["open_files"]["soft_at_start"].as_u64(),
        Some(NODE_SOFT_OPEN_FILES),
        "the node started under the test's soft limit: {limits}"
    );
    assert_eq!(
        limits["open_files"]["soft"].as_u64(),
        Some(NODE_HARD_OPEN_FILES),
        "the node raised its soft limit to the hard one: {limits}"
    );

    let p2p = p2p_port(&client, public);
    let started = Instant::now();
    // Half a request line; half a multistream header (its length prefix and part of it).
    let mut http_half = open_half(port_of(public), HALF_OPEN_CONNECTIONS, b"GET /api/sta");
    let mut p2p_half = open_half(p2p, HALF_OPEN_CONNECTIONS, b"\x13/multistream/1");
    eprintln!(
        "{} + {} half-open connections in {:?}",
        http_half.len(),
        p2p_half.len(),
        started.elapsed()
    );
    // Each flood alone is more than the node's soft limit at start.
    for flood in [&http_half, &p2p_half] {
        assert!(
            flood.len() > NODE_SOFT_OPEN_FILES as usize,
            "{} connected",
            flood.len()
        );
    }

    // Over the caps: closed at once, not held (the head timeout has not run yet).
    let prompt = Duration::from_millis(HTTP_REQUEST_HEAD_TIMEOUT_MS / 2);
    wait_until(prompt, "the connections over the caps to be closed", || {
        count_closed(&mut http_half) >= http_half.len() - PUBLIC_CONNECTIONS_MAX
            && count_closed(&mut p2p_half) >= p2p_half.len() - 2 * P2P_PENDING_INCOMING_MAX as usize
    });

    // Durable submits succeed while the rest are held.
    for index in 0..5 {
        let (code, _, answer) = submit(&client, submit_url, &token, format!("held {index}"));
        assert_eq!(code, 200, "submit {index}: {answer}\n{}", node.logs());
    }
    let status = status(&client, submit_url, &token);
    assert_eq!(
        status["accepting_records"],
        Value::Bool(true),
        "{status}\n{}",
        node.logs()
    );
    assert!(
        !node.logs().contains("Too many open files"),
        "{}",
        node.logs()
    );

    // The ones under the cap are closed when their request head times out.
    wait_until(
        Duration::from_millis(2 * HTTP_REQUEST_HEAD_TIMEOUT_MS),
        "every half-open HTTP connection to be closed",
        || count_closed(&mut http_half) == http_half.len(),
    );
    let (code, _, answer) = submit(&client, submit_url, &token, "after".into());
    assert_eq!(code, 200, "{answer}");
}

/// Connects and asks for the export with a tiny receive buffer, then never reads.
fn stalled_export(port: u16) -> Option<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).ok()?;
    let receive_buffer_bytes: libc::c_int = 4096;
    // SAFETY: setsockopt reads an int owned here, on a socket this stream owns.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            std::ptr::addr_of!(receive_buffer_bytes).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    let _ = stream.write_all(b"GET /api/export HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    Some(stream)
}

/// The first bytes the node sent on a connection, without waiting.
fn answer_start(stream: &mut TcpStream) -> String {
    stream.set_nonblocking(true).expect("set non-blocking");
    let mut buffer = [0u8; 256];
    let read = stream.read(&mut buffer).unwrap_or(0);
    String::from_utf8_lossy(&buffer[..read]).to_lowercase()
}

fn timed_get(client: &reqwest::blocking::Client, url: &str) -> (u16, Duration) {
    let started = Instant::now();
    let response = client.get(url).send().expect("GET");
    let code = response.status().as_u16();
    let _ = response.bytes();
    (code, started.elapsed())
}

#[test]
fn stalled_exports_do_not_starve_submits_or_pages() {
    raise_own_open_files(STALLED_EXPORTS as u64 + 256);
    let network = Network::start("limits_stalled_exports");
    let client = http();
    let data_dir = network.data_dir();
    let token = token(&data_dir);
    let (public, submit_url) = (network.node.public_url(), network.node.submit_url());
    // A store larger than what socket buffers hold, so that an unread export stalls.
    let big_text = "water point inspection; ".repeat(3 * 1024 * 1024 / 24);
    for index in 0..4 {
        let (code, _, answer) = submit(&client, &submit_url, &token, format!("{index} {big_text}"));
        assert_eq!(code, 200, "{answer}");
    }

    let port = port_of(&public);
    let mut stalled: Vec<TcpStream> = (0..STALLED_EXPORTS)
        .filter_map(|_| stalled_export(port))
        .collect();
    assert!(
        stalled.len() > STALLED_EXPORTS / 2,
        "{} connected",
        stalled.len()
    );

    // Submits and pages answer within the bound while the clients hold their exports.
    let pages = [
        "/",
        "/api/network",
        "/api/status",
        &format!("/org/{}", aidledger_tests::DONOR),
    ];
    for round in 0..3 {
        for page in pages {
            let (code, took) = timed_get(&client, &format!("{public}{page}"));
            assert_eq!(code, 200, "{page}");
            assert!(
                took < ANSWER_LATENCY_MAX,
                "{page} took {took:?} (round {round})"
            );
        }
        let (code, took, answer) = submit(&client, &submit_url, &token, format!("round {round}"));
        assert_eq!(code, 200, "{answer}");
        assert!(
            took < ANSWER_LATENCY_MAX,
            "a submit took {took:?} (round {round})"
        );
    }

    // At most EXPORTS_MAX exports started; others were refused with 503 and Retry-After.
    let answers: Vec<String> = stalled.iter_mut().map(answer_start).collect();
    let exporting = answers
        .iter()
        .filter(|answer| answer.starts_with("http/1.1 200"))
        .count();
    let refused = answers
        .iter()
        .filter(|answer| answer.starts_with("http/1.1 503") && answer.contains("retry-after: 1"))
        .count();
    eprintln!("{exporting} exports started, {refused} refused with 503");
    assert!(
        (1..=EXPORTS_MAX).contains(&exporting),
        "{exporting} exports started"
    );
    assert!(refused >= 1, "no export was refused with 503 + Retry-After");

    // The stalled exports are dropped after the write timeout: a new export then completes
    // while their clients still hold their sockets.
    let deadline = Duration::from_millis(HTTP_WRITE_TIMEOUT_MS) + WAIT;
    let bundle = wait_for(
        deadline,
        "an export to complete beside the stalled ones",
        || {
            let response = client.get(format!("{public}/api/export")).send().ok()?;
            (response.status().as_u16() == 200)
                .then(|| response.bytes().ok())
                .flatten()
        },
    );
    assert!(bundle.len() > 12 * 1024 * 1024, "{} bytes", bundle.len());

    drop(stalled);
    let status = network.node.status();
    assert_eq!(status["accepting_records"], Value::Bool(true), "{status}");
    let (code, took, answer) = submit(&client, &submit_url, &token, "after".into());
    assert_eq!(code, 200, "{answer}");
    assert!(took < ANSWER_LATENCY_MAX, "{took:?}");
    assert_eq!(network.node.record_count(), 4 + 3 + 1);
}
