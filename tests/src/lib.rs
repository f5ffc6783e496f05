//! The end-to-end test harness: runs the real `aidledger` and `aidledger-node` binaries in a
//! temporary directory per test, asserts exit codes and output, and waits for conditions with
//! a deadline instead of sleeping (in the manner of ripgrep's `tests/util.rs`).
//!
//! The binaries are not built by `cargo test -p aidledger-tests`: run
//! `cargo build --workspace --bins` first. They are looked up in the target profile directory of
//! the running test executable, so a debug test run uses debug binaries.
//!
//! Environment: `AIDLEDGER_BIN_DIR` (where the binaries are), `AIDLEDGER_KEEP_TEST_DIRS` (keep
//! each test's directory), `AIDLEDGER_TEST_SHOW_OUTPUT` (print every command's output; add
//! `-- --nocapture`), `AIDLEDGER_TEST_SEED` (repeat the random-ish choices of a run).

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aidledger_process::ChildGuard;
use serde_json::Value;

pub mod browser;
pub mod network;
pub mod tamper;
pub mod witness;

/// The donor organisation of the [`Network`] fixture; it runs the fixture's node.
pub const DONOR: &str = "GB-GOV-1";
/// The implementing organisation of the [`Network`] fixture (a Danish company register id).
pub const IMPLEMENTER: &str = "DK-CVR-20699310";
/// The auditing organisation of the [`Network`] fixture.
pub const AUDITOR: &str = "XM-AUDIT-1";

/// How long a CLI command may run before the test fails (debug builds, 2 cores, big texts).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a node may take to bind its listeners and write `endpoints.json`.
pub const NODE_START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a node may take to exit after SIGTERM, or to refuse a bad configuration.
pub const NODE_EXIT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one HTTP request to a node may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The directory holding `aidledger` and `aidledger-node`: `AIDLEDGER_BIN_DIR` if set, else
/// the target profile directory of this test executable (`target/<profile>/deps/..`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AIDLEDGER_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let mut dir = exe
        .parent()
        .expect("the test executable has a directory")
        .to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// The path of one of the workspace's binaries; panics with what to do when it was not built.
pub fn bin_path(name: &str) -> PathBuf {
    let path = bin_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "the binary {name:?} is not at {}: run `cargo build --workspace --bins` (same profile as the tests) \
         before `cargo test -p aidledger-tests`, or set AIDLEDGER_BIN_DIR",
        path.display()
    );
    path
}

/// Polls `condition` until it holds, failing the test with `what` when `timeout` passes first:
/// [`aidledger_process::wait_until`], the workspace's one wait helper, as a test assertion.
#[track_caller]
pub fn wait_until(timeout: Duration, what: &str, condition: impl FnMut() -> bool) {
    let mut condition = condition;
    wait_for(timeout, what, || condition().then_some(()))
}

/// Polls `probe` until it yields a value, failing the test with `what` when `timeout` passes
/// first: [`aidledger_process::wait_for`] as a test assertion.
#[track_caller]
pub fn wait_for<T>(timeout: Duration, what: &str, probe: impl FnMut() -> Option<T>) -> T {
    match aidledger_process::wait_for(timeout, what, probe) {
        Ok(value) => value,
        Err(timed_out) => panic!("{timed_out}"),
    }
}

/// A seed for "random-ish" choices: `AIDLEDGER_TEST_SEED` if set, else the clock. Printed, so
/// that a failing run can be repeated with the same choices.
pub fn test_seed() -> u64 {
    let seed = match std::env::var("AIDLEDGER_TEST_SEED") {
        Ok(text) => text.parse().expect("AIDLEDGER_TEST_SEED must be a u64"),
        Err(_) => {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
        }
    };
    eprintln!("test seed: {seed} (set AIDLEDGER_TEST_SEED={seed} to repeat)");
    seed
}

/// A small deterministic generator (xorshift64*), enough for test choices and filler text.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

/// A temporary directory for one test, removed on drop unless `AIDLEDGER_KEEP_TEST_DIRS` is set.
pub struct TestDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TestDir {
    /// A new empty directory whose name starts with `name`.
    pub fn new(name: &str) -> TestDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("aidledger-{name}-"))
            .tempdir()
            .expect("create a temporary directory");
        let path = dir.path().to_path_buf();
        if std::env::var_os("AIDLEDGER_KEEP_TEST_DIRS").is_some() {
            eprintln!("keeping test directory {}", path.display());
            return TestDir {
                dir: None,
                path: dir.keep(),
            };
        }
        TestDir {
            dir: Some(dir),
            path,
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.path.join(relative)
    }

    /// Writes a file inside the directory (creating parents) and returns its path.
    pub fn write(&self, relative: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent directories");
        }
        fs::write(&path, contents)
            .unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
        path
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        // Removal errors are not worth failing a test over; the OS cleans temp dirs too.
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// What a finished process did.
#[derive(Debug)]
pub struct Output {
    /// The command line, for messages.
    pub command: String,
    /// How it exited.
    pub status: ExitStatus,
    /// Its standard output, lossily decoded.
    pub stdout: String,
    /// Its standard error, lossily decoded.
    pub stderr: String,
}

impl Output {
    /// The exit code, `None` when a signal ended the process.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Standard output.
    pub fn stdout(&self) -> &str {
        &self.stdout
    }

    /// Standard error.
    pub fn stderr(&self) -> &str {
        &self.stderr
    }

    /// Standard output and error together, lower-cased, for looking for words in messages.
    pub fn text_lowercase(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr).to_lowercase()
    }

    /// Whether stdout or stderr holds `needle` (exact case).
    pub fn mentions(&self, needle: &str) -> bool {
        self.stdout.contains(needle) || self.stderr.contains(needle)
    }

    /// Fails the test unless the process exited with `code`.
    #[track_caller]
    pub fn assert_exit(self, code: i32) -> Output {
        self.assert_exit_in(&[code])
    }

    /// Fails the test unless the process exited with one of `codes`.
    #[track_caller]
    pub fn assert_exit_in(self, codes: &[i32]) -> Output {
        match self.code() {
            Some(code) if codes.contains(&code) => self,
            _ => panic!(
                "expected exit code {codes:?}, got {:?}\n{}",
                self.code(),
                self.describe()
            ),
        }
    }

    /// Fails the test if the process panicked (Rust's panic message in its stderr).
    #[track_caller]
    pub fn assert_no_panic(self) -> Output {
        assert!(
            !self.stderr.contains("panicked"),
            "the process panicked instead of reporting an error\n{}",
            self.describe()
        );
        self
    }

    /// Fails the test unless stderr says something (an error a person can act on).
    #[track_caller]
    pub fn assert_stderr_nonempty(self) -> Output {
        assert!(
            !self.stderr.trim().is_empty(),
            "expected a message on stderr\n{}",
            self.describe()
        );
        self
    }

    /// Fails the test unless stdout or stderr holds one of `needles` (compared lower-cased).
    #[track_caller]
    pub fn assert_mentions_any(self, needles: &[&str]) -> Output {
        let text = self.text_lowercase();
        assert!(
            needles
                .iter()
                .any(|needle| text.contains(&needle.to_lowercase())),
            "expected the output to mention one of {needles:?}\n{}",
            self.describe()
        );
        self
    }

    /// The single non-empty line of stdout, trimmed (commands that print one id or key).
    #[track_caller]
    pub fn stdout_line(&self) -> String {
        let lines: Vec<&str> = self
            .stdout
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "expected exactly one line on stdout\n{}",
            self.describe()
        );
        lines[0].to_string()
    }

    /// Stdout as a 64-hex-digit id (record id, network id, public key).
    #[track_caller]
    pub fn stdout_hex32(&self) -> String {
        let line = self.stdout_line();
        assert!(
            is_hex32(&line),
            "expected 64 lowercase hex digits on stdout, got {line:?}\n{}",
            self.describe()
        );
        line
    }

    /// Stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON: {error}\n{}", self.describe()))
    }

    /// The command, its exit and its output, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "command: {}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.status,
            truncate_for_message(&self.stdout),
            truncate_for_message(&self.stderr)
        )
    }
}

/// Starts the node of `data_dir` with each set of flags, expecting each refused with exit 2 and
/// its message.
#[track_caller]
pub fn assert_starts_refused<'a>(
    data_dir: &Path,
    refusals: impl IntoIterator<Item = (Vec<&'a str>, String)>,
) {
    for (args, named) in refusals {
        let output = NodeProcess::run_expecting_refusal(data_dir, args)
            .assert_exit(2)
            .assert_no_panic();
        assert!(output.stderr().contains(&named), "{}", output.describe());
    }
}

/// A node's saved settings, its data directory's `config.json`.
#[track_caller]
pub fn saved_settings(data_dir: &Path) -> Value {
    let text = fs::read_to_string(data_dir.join("config.json")).expect("read config.json");
    serde_json::from_str(&text).expect("config.json is JSON")
}

/// The 32-byte seed in a key file written by `aidledger keygen` (hex, one line).
#[track_caller]
pub fn read_key_seed(path: &Path) -> [u8; 32] {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("read key file {}: {error}", path.display()));
    let text = text.trim();
    assert!(
        is_hex32(text),
        "{} holds no 64-digit hex key",
        path.display()
    );
    let mut seed = [0u8; 32];
    for (index, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * index..2 * index + 2], 16).expect("hex checked above");
    }
    seed
}

/// `aidledger-node --data-dir DIR` with both HTTP APIs on any free loopback port; the caller
/// adds the rest.
pub fn node_command(data_dir: &Path) -> Command {
    let mut command = Command::new(bin_path("aidledger-node"));
    command.arg("--data-dir").arg(data_dir).args([
        "--submit-addr",
        "127.0.0.1:0",
        "--public-addr",
        "127.0.0.1:0",
    ]);
    command
}

/// Whether `text` is 64 lowercase hex digits.
pub fn is_hex32(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

fn truncate_for_message(text: &str) -> String {
    const SHOWN_BYTES_MAX: usize = 8 * 1024;
    if text.len() <= SHOWN_BYTES_MAX {
        return text.to_string();
    }
    let mut end = SHOWN_BYTES_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

fn describe_command(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|arg| {
        let arg = arg.to_string_lossy();
        if arg.len() > 200 {
            format!(
                "{}…",
                &arg[..arg.char_indices().nth(200).map_or(arg.len(), |(at, _)| at)]
            )
        } else {
            arg.into_owned()
        }
    }));
    words.join(" ")
}

/// Runs `command` to its end with captured output; kills it and fails the test after `timeout`.
#[track_caller]
pub fn run_with_timeout(mut command: Command, timeout: Duration) -> Output {
    let description = describe_command(&command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {description}: {error}"));
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let mut child = ChildGuard::new(child);
    let ended = aidledger_process::wait_for(timeout, "the command to exit", || {
        child
            .try_wait()
            .unwrap_or_else(|error| panic!("waiting for {description}: {error}"))
    });
    let status = match ended {
        Ok(status) => status,
        Err(_) => {
            let status = child.kill().expect("kill and reap the command");
            let output = Output {
                command: description,
                status,
                stdout: stdout.join().unwrap_or_default(),
                stderr: stderr.join().unwrap_or_default(),
            };
            panic!(
                "killed after {timeout:?} without exiting\n{}",
                output.describe()
            );
        }
    };
    let output = Output {
        command: description,
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    if std::env::var_os("AIDLEDGER_TEST_SHOW_OUTPUT").is_some() {
        eprintln!("{}\n", output.describe());
    }
    output
}

fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The `aidledger` CLI, run in a working directory with a clean environment for its own variables.
#[derive(Clone, Debug)]
pub struct Cli {
    bin: PathBuf,
    cwd: PathBuf,
}

impl Cli {
    /// The CLI, run in `cwd`.
    pub fn new(cwd: &Path) -> Cli {
        Cli {
            bin: bin_path("aidledger"),
            cwd: cwd.to_path_buf(),
        }
    }

    /// The command, ready to run, without `AIDLEDGER_DATA_DIR` from the test's environment.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .current_dir(&self.cwd)
            .env_remove("AIDLEDGER_DATA_DIR")
            .env("NO_COLOR", "1");
        command
    }

    /// Runs the CLI to its end (failing the test after [`COMMAND_TIMEOUT`]).
    #[track_caller]
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run_with_timeout(self.command(args), COMMAND_TIMEOUT)
    }
}

/// A path as `&str`; temporary directories made by the tests are UTF-8.
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The contents of a node's `endpoints.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// The submit API's base URL.
    pub submit: String,
    /// The public API's base URL.
    pub public: String,
    /// The node's process id.
    pub pid: u32,
}

impl Endpoints {
    /// Reads `DIR/endpoints.json`; `None` while it is absent or not yet complete.
    pub fn read(data_dir: &Path) -> Option<Endpoints> {
        let text = fs::read_to_string(data_dir.join("endpoints.json")).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        Some(Endpoints {
            submit: value
                .get("submit")?
                .as_str()?
                .trim_end_matches('/')
                .to_string(),
            public: value
                .get("public")?
                .as_str()?
                .trim_end_matches('/')
                .to_string(),
            pid: u32::try_from(value.get("pid")?.as_u64()?).ok()?,
        })
    }
}

/// A running `aidledger-node`, killed when dropped. Its stdout and stderr go to log files
/// beside the data directory (`<data dir>.<start>.stdout` / `.stderr`).
pub struct NodeProcess {
    data_dir: PathBuf,
    child: Option<ChildGuard>,
    endpoints: Option<Endpoints>,
    starts: u32,
    http: reqwest::blocking::Client,
}

impl NodeProcess {
    /// First start: copies the genesis and key into `data_dir`; waits for `endpoints.json`.
    #[track_caller]
    pub fn start_first(data_dir: &Path, genesis: &Path, org: &str, key: &Path) -> NodeProcess {
        let mut node = NodeProcess {
            data_dir: data_dir.to_path_buf(),
            child: None,
            endpoints: None,
            starts: 0,
            http: http_client(),
        };
        node.spawn(&[
            "--genesis".as_ref(),
            genesis.as_os_str(),
            "--org".as_ref(),
            org.as_ref(),
            "--key".as_ref(),
            key.as_os_str(),
        ]);
        node
    }

    /// Starts a node on an existing data directory (later starts need only `--data-dir`).
    #[track_caller]
    pub fn start_existing(data_dir: &Path) -> NodeProcess {
        let mut node = NodeProcess {
            data_dir: data_dir.to_path_buf(),
            child: None,
            endpoints: None,
            starts: 0,
            http: http_client(),
        };
        node.spawn(&[]);
        node
    }

    /// Runs the node with `args` (after `--data-dir DIR` and loopback listeners) expecting it to
    /// refuse to start; fails the test if it is still running after [`NODE_EXIT_TIMEOUT`].
    #[track_caller]
    pub fn run_expecting_refusal<I, S>(data_dir: &Path, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = node_command(data_dir);
        command.args(args);
        run_with_timeout(command, NODE_EXIT_TIMEOUT)
    }

    #[track_caller]
    fn spawn(&mut self, first_start_args: &[&OsStr]) {
        assert!(self.child.is_none(), "the node is already running");
        self.starts += 1;
        let log = |stream: &str| {
            let mut name = self.data_dir.file_name().unwrap_or_default().to_os_string();
            name.push(format!(".{}.{stream}", self.starts));
            self.data_dir.with_file_name(name)
        };
        let (stdout_path, stderr_path) = (log("stdout"), log("stderr"));
        // The logs live beside the data directory; the node itself creates the directory.
        if let Some(parent) = self.data_dir.parent() {
            fs::create_dir_all(parent).expect("create the data directory's parent");
        }
        let mut command = node_command(&self.data_dir);
        command
            .args(first_start_args)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&stdout_path).expect("create the node's stdout log"))
            .stderr(fs::File::create(&stderr_path).expect("create the node's stderr log"));
        let description = describe_command(&command);
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {description}: {error}"));
        let pid = child.id();
        self.child = Some(ChildGuard::new(child));
        // After a kill -9 the old endpoints.json stays behind: wait for the one of this process.
        let endpoints = wait_for(
            NODE_START_TIMEOUT,
            "the node to write endpoints.json",
            || {
                if let Some(status) = self
                    .child
                    .as_mut()
                    .and_then(|child| child.try_wait().ok().flatten())
                {
                    self.child = None;
                    panic!(
                    "the node exited with {status} before writing endpoints.json\ncommand: {description}\n{}",
                    self.logs()
                );
                }
                Endpoints::read(&self.data_dir).filter(|endpoints| endpoints.pid == pid)
            },
        );
        self.endpoints = Some(endpoints);
    }

    /// The node's standard output and error of its latest start, for messages and checks.
    pub fn logs(&self) -> String {
        let read = |stream: &str| {
            let mut name = self.data_dir.file_name().unwrap_or_default().to_os_string();
            name.push(format!(".{}.{stream}", self.starts));
            fs::read_to_string(self.data_dir.with_file_name(name)).unwrap_or_default()
        };
        format!(
            "--- node stdout ---\n{}\n--- node stderr ---\n{}",
            read("stdout"),
            truncate_for_message(&read("stderr"))
        )
    }

    /// The latest start's stdout.
    pub fn stdout_log(&self) -> String {
        let mut name = self.data_dir.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".{}.stdout", self.starts));
        fs::read_to_string(self.data_dir.with_file_name(name)).unwrap_or_default()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The running node's endpoints.
    #[track_caller]
    pub fn endpoints(&self) -> &Endpoints {
        self.endpoints.as_ref().expect("the node is not running")
    }

    /// The public API's base URL.
    #[track_caller]
    pub fn public_url(&self) -> String {
        self.endpoints().public.clone()
    }

    /// The submit API's base URL.
    #[track_caller]
    pub fn submit_url(&self) -> String {
        self.endpoints().submit.clone()
    }

    /// The node's process id.
    #[track_caller]
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the node is not running").id()
    }

    /// The current submit token.
    pub fn submit_token(&self) -> String {
        fs::read_to_string(self.data_dir.join("submit.token"))
            .expect("read submit.token")
            .trim()
            .to_string()
    }

    /// `GET /v1/status` on the submit API.
    #[track_caller]
    pub fn status(&self) -> Value {
        let url = format!("{}/v1/status", self.submit_url());
        let response = self
            .http
            .get(&url)
            .bearer_auth(self.submit_token())
            .send()
            .unwrap_or_else(|error| panic!("GET {url}: {error}"));
        let status = response.status();
        let body = response.text().unwrap_or_default();
        assert!(status.is_success(), "GET {url} answered {status}: {body}");
        serde_json::from_str(&body)
            .unwrap_or_else(|error| panic!("GET {url} is not JSON ({error}): {body}"))
    }

    /// The number of records the node holds, from `/v1/status`.
    #[track_caller]
    pub fn record_count(&self) -> u64 {
        let status = self.status();
        status["records"]
            .as_u64()
            .unwrap_or_else(|| panic!("/v1/status has no \"records\" number: {status}"))
    }

    /// A GET on the public API; returns the status code and body bytes.
    #[track_caller]
    pub fn public_get(&self, path: &str) -> (u16, Vec<u8>) {
        let url = format!("{}{path}", self.public_url());
        let response = self
            .http
            .get(&url)
            .send()
            .unwrap_or_else(|error| panic!("GET {url}: {error}"));
        let status = response.status().as_u16();
        (
            status,
            response
                .bytes()
                .map(|bytes| bytes.to_vec())
                .unwrap_or_default(),
        )
    }

    /// Kills the node with SIGKILL and waits for it to be gone.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
        }
        self.endpoints = None;
    }

    /// Sends SIGTERM and fails the test unless the node exits with code 0 in time.
    #[track_caller]
    pub fn terminate(&mut self) {
        let mut child = self.child.take().expect("the node is not running");
        let ended = child.terminate(NODE_EXIT_TIMEOUT);
        self.endpoints = None;
        let Some(status) = ended.expect("signal and wait for the node") else {
            panic!(
                "the node did not exit within {NODE_EXIT_TIMEOUT:?} of SIGTERM\n{}",
                self.logs()
            );
        };
        assert_eq!(
            status.code(),
            Some(0),
            "the node should exit 0 on SIGTERM, got {status}\n{}",
            self.logs()
        );
    }

    /// Starts the node again on its data directory, with only `--data-dir`.
    #[track_caller]
    pub fn restart(&mut self) {
        self.spawn(&[]);
    }

    /// Starts the node again on its data directory with `args` after `--data-dir` (flags that
    /// are not kept from the first start, such as `--witness URL`).
    #[track_caller]
    pub fn restart_with(&mut self, args: &[&str]) {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        self.spawn(&args);
    }

    /// Whether the node process is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .expect("build an HTTP client")
}

/// One member organisation of a [`Network`].
#[derive(Clone, Debug)]
pub struct Organisation {
    /// Organisation id.
    pub id: String,
    /// Its signing key file (written by `aidledger keygen`).
    pub key_file: PathBuf,
    /// Its signing public key, hex.
    pub public_key: String,
}

/// A network of three organisations (donor, implementer, auditor) and a running node of the
/// donor, in a fresh temporary directory.
///
/// Layout: `keys/ORG.key`, `keys/ORG.node.key`, `members.json`, `genesis.bin`, `nodes/ORG/`.
pub struct Network {
    /// The donor's node; declared first so that it is killed before the directory is removed.
    pub node: NodeProcess,
    /// The members, in the order donor, implementer, auditor.
    pub organisations: Vec<Organisation>,
    /// The genesis file.
    pub genesis: PathBuf,
    /// The network id, hex.
    pub network_id: String,
    /// The CLI, run in the test directory.
    pub cli: Cli,
    /// The test directory.
    pub dir: TestDir,
}

impl Network {
    /// Makes the keys, members file and genesis, and starts the donor's node.
    #[track_caller]
    pub fn start(test_name: &str) -> Network {
        let dir = TestDir::new(test_name);
        let cli = Cli::new(dir.path());
        fs::create_dir_all(dir.join("keys")).expect("create keys/");
        let roles = [
            (DONOR, "Foreign Office", "donor"),
            (IMPLEMENTER, "Aid Implementer A/S", "implementer"),
            (AUDITOR, "Audit Office", "auditor"),
        ];
        let mut organisations = Vec::new();
        let mut members = Vec::new();
        for (id, name, role) in roles {
            let key_file = dir.join(format!("keys/{id}.key"));
            let public_key = cli
                .run(["keygen", "--out", path_str(&key_file)])
                .assert_exit(0)
                .stdout_hex32();
            let node_key_file = dir.join(format!("keys/{id}.node.key"));
            let node_key = cli
                .run(["keygen", "--out", path_str(&node_key_file)])
                .assert_exit(0)
                .stdout_hex32();
            members.push(serde_json::json!({
                "id": id, "name": name, "roles": [role],
                "signing_keys": [public_key], "node_keys": [node_key],
            }));
            organisations.push(Organisation {
                id: id.to_string(),
                key_file,
                public_key,
            });
        }
        let members_file = dir.write(
            "members.json",
            serde_json::to_vec_pretty(&members).expect("members JSON"),
        );
        let genesis = dir.join("genesis.bin");
        let network_id = cli
            .run([
                "network",
                "init",
                "--name",
                "Test Aid Network",
                "--members",
                path_str(&members_file),
                "--out",
                path_str(&genesis),
            ])
            .assert_exit(0)
            .stdout_hex32();
        let node = NodeProcess::start_first(
            &dir.join(format!("nodes/{DONOR}")),
            &genesis,
            DONOR,
            &organisations[0].key_file,
        );
        Network {
            node,
            organisations,
            genesis,
            network_id,
            cli,
            dir,
        }
    }

    /// The donor node's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.node.data_dir().to_path_buf()
    }

    /// The donor node's data directory as text, for command lines.
    pub fn data_dir_arg(&self) -> String {
        path_str(self.node.data_dir()).to_string()
    }

    /// Runs `aidledger record KIND ARGS… --data-dir DIR` without checking the result.
    #[track_caller]
    pub fn try_record(&self, kind: &str, args: &[&str]) -> Output {
        let data_dir = self.data_dir_arg();
        let mut all = vec!["record", kind];
        all.extend_from_slice(args);
        all.extend(["--data-dir", &data_dir]);
        self.cli.run(all)
    }

    /// Records through the donor's node and returns the printed record id.
    #[track_caller]
    pub fn record(&self, kind: &str, args: &[&str]) -> String {
        self.try_record(kind, args)
            .assert_exit(0)
            .assert_no_panic()
            .stdout_hex32()
    }

    /// Records a transaction of `amount` GBP and returns its id.
    #[track_caller]
    pub fn record_transaction(&self, amount: &str) -> String {
        self.record("transaction", &transaction_args(amount))
    }
}

/// The arguments of a disbursement of `amount` GBP from the donor to the implementer.
pub fn transaction_args(amount: &str) -> Vec<&str> {
    vec![
        "--activity",
        "GB-GOV-1-300123",
        "--type",
        "disbursement",
        "--amount",
        amount,
        "--currency",
        "GBP",
        "--value-date",
        "2024-03-01",
        "--provider-org",
        DONOR,
        "--receiver-org",
        IMPLEMENTER,
        "--description",
        "First tranche for water points",
    ]
}

/// Finds every string value under a key named `key`, anywhere in `value`.
pub fn strings_under_key<'a>(value: &'a Value, key: &str, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (name, inner) in map {
                if name == key {
                    if let Some(text) = inner.as_str() {
                        found.push(text);
                    }
                }
                strings_under_key(inner, key, found);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| strings_under_key(item, key, found)),
        _ => {}
    }
}
