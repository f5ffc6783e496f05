//! `aidledger witness` processes for end-to-end tests: a witness's key and config file, and the
//! running process with the lines it printed and its `/api/witness` answer.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use aidledger_process::ChildGuard;
use serde_json::{json, Value};

use crate::{bin_path, path_str, Cli};

/// How long a witness may take to start, cosign, or print an awaited line.
pub const WITNESS_TIMEOUT: Duration = Duration::from_secs(90);
/// The rounds of the tests' witnesses (ms): short, so that the tests are quick.
pub const WITNESS_INTERVAL_MS: u64 = 200;

/// Writes a new witness key to `file` with `aidledger witness key`; returns the vkey it printed.
#[track_caller]
pub fn witness_key(cli: &Cli, name: &str, file: &Path) -> String {
    let vkey = cli
        .run(["witness", "key", "--name", name, "--out", path_str(file)])
        .assert_exit(0)
        .stdout_line();
    assert!(vkey.starts_with(&format!("{name}+")), "{vkey}");
    vkey
}

/// Writes the config of witness `name` (key `key_file`, state in `NAME-state` beside the
/// config) asking `nodes` of network `network_id`, its server on `listen` (`127.0.0.1:0`: any
/// port), every [`WITNESS_INTERVAL_MS`]; returns the config's path.
pub fn witness_config(
    dir: &Path,
    name: &str,
    key_file: &Path,
    network_id: &str,
    nodes: &[String],
    listen: &str,
) -> PathBuf {
    let file_name = name.replace('/', "-");
    let path = dir.join(format!("{file_name}.json"));
    let config = json!({
        "name": name,
        "key_file": path_str(key_file),
        "state_dir": path_str(&dir.join(format!("{file_name}-state"))),
        "network_id": network_id,
        "nodes": nodes,
        "listen": listen,
        "interval_ms": WITNESS_INTERVAL_MS,
    });
    std::fs::write(&path, config.to_string()).expect("write the witness config");
    path
}

/// A running `aidledger witness --config FILE`; killed when dropped.
pub struct WitnessProcess {
    /// Its server's base URL, from the line it prints on start.
    pub url: String,
    /// Every line it printed on stdout so far that a wait has read.
    pub log: Vec<String>,
    lines: Receiver<String>,
    _child: ChildGuard,
}

impl WitnessProcess {
    /// Starts the witness of `config` and waits for the line that names its address.
    #[track_caller]
    pub fn start(config: &Path) -> WitnessProcess {
        let mut child = Command::new(bin_path("aidledger"))
            .args(["witness", "--config", path_str(config)])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aidledger witness");
        let stdout = child.stdout.take().expect("the witness's stdout");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Read to the end even once nobody listens: a closed pipe would stop the witness.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let mut witness = WitnessProcess {
            url: String::new(),
            log: Vec::new(),
            lines,
            _child: ChildGuard::new(child),
        };
        let line = witness.wait_line(|line| line.contains("listening on http://"));
        witness.url = line.rsplit(' ').next().unwrap_or_default().to_owned();
        witness
    }

    /// Waits until the witness has printed a line that `matches` (printed earlier counts);
    /// returns it.
    #[track_caller]
    pub fn wait_line(&mut self, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WITNESS_TIMEOUT;
        loop {
            if let Some(line) = self.log.iter().find(|line| matches(line)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.log.push(line),
                Err(_) => panic!(
                    "the witness never printed it; log:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }

    /// Every line printed so far, read now.
    pub fn read_log(&mut self) -> String {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
        self.log.join("\n")
    }

    /// Its `/api/witness` answer, when it gives one.
    pub fn answer(&self) -> Option<Value> {
        reqwest::blocking::get(format!("{}/api/witness", self.url))
            .ok()?
            .json()
            .ok()
    }

    /// The cosigned notes it serves.
    pub fn notes(&self) -> Vec<String> {
        self.answer()
            .and_then(|answer| {
                answer["checkpoints"].as_array().map(|notes| {
                    notes
                        .iter()
                        .filter_map(|note| note.as_str().map(str::to_owned))
                        .collect()
                })
            })
            .unwrap_or_default()
    }

    /// The size of the latest checkpoint of `org`'s chain it cosigned.
    pub fn cosigned_size(&self, org: &str) -> Option<u64> {
        self.notes().iter().find_map(|note| {
            let mut lines = note.lines();
            lines.next()?.ends_with(&format!("/{org}")).then_some(())?;
            lines.next()?.parse().ok()
        })
    }

    /// Waits until it has cosigned `org`'s chain at `size` records or more; returns that note.
    #[track_caller]
    pub fn wait_cosigned(&self, org: &str, size: u64) -> String {
        let deadline = Instant::now() + WITNESS_TIMEOUT;
        loop {
            let found = self.notes().into_iter().find(|note| {
                let mut lines = note.lines();
                lines
                    .next()
                    .is_some_and(|origin| origin.ends_with(&format!("/{org}")))
                    && lines
                        .next()
                        .and_then(|text| text.parse::<u64>().ok())
                        .is_some_and(|cosigned| cosigned >= size)
            });
            if let Some(note) = found {
                return note;
            }
            assert!(
                Instant::now() < deadline,
                "no cosigned checkpoint of {org} at {size} records: {:?}",
                self.answer()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// How many split-view proofs it serves.
    pub fn split_views(&self) -> usize {
        self.answer()
            .and_then(|answer| answer["split_views"].as_array().map(Vec::len))
            .unwrap_or(0)
    }
}
