//! Where records are read from: a bundle file, a running node's public API, or a stopped
//! node's data directory. Every source yields raw bytes; nothing a source says is trusted,
//! everything is verified by the caller.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use aidledger_spec::bundle::{
    BundleError, BundleItem, BundleReader, BUNDLE_VERSION_1, GENESIS_PAYLOAD_OFFSET,
};
use aidledger_spec::genesis::{Genesis, GenesisError};
use aidledger_spec::ids::RecordId;
use aidledger_store::export::in_bundle_order;
use aidledger_store::StoreReader;

/// Most records one page of `log` asks a node for.
pub const PAGE_RECORDS_MAX: usize = 1000;

/// A place records are read from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A bundle file.
    Bundle(PathBuf),
    /// A running node's public base URL.
    Node(String),
    /// A stopped node's data directory.
    DataDir(PathBuf),
}

/// Bytes of a source that were read and break the format: where, and which rule. A damaged
/// source is invalid data (exit 1), not a source that could not be read (exit 2).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Damage {
    /// Byte offset of the damage in what the source served (the bundle file or the export).
    pub offset: u64,
    /// The broken rule as a stable code (`truncated`, `bad-magic`, `genesis`, …).
    pub rule: &'static str,
    /// What is wrong, for people.
    pub problem: String,
}

impl Damage {
    /// The damage a bundle reader reported; `None` when the bundle could not be read at all.
    pub fn of_bundle(error: &BundleError) -> Option<Damage> {
        Some(Damage {
            offset: error.offset()?,
            rule: error.rule()?,
            problem: error.to_string(),
        })
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Bundle messages already name their offset; a genesis error does not.
        if self.problem.contains(&format!("byte {}", self.offset)) {
            write!(out, "{} ({})", self.problem, self.rule)
        } else {
            write!(
                out,
                "at byte {}: {} ({})",
                self.offset, self.problem, self.rule
            )
        }
    }
}

/// Why a source could not be used. [`SourceError::is_invalid_data`] tells the two exits apart:
/// [`SourceError::Damaged`] means the bytes were read and are invalid (exit 1); every other
/// variant means the source could not be read (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Reading the bundle's bytes failed (an I/O error, not bad content).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or URL.
        path: String,
        /// The reason.
        source: std::io::Error,
    },
    /// The source's bytes break the format.
    #[error("{path}: damaged bytes: {damage}")]
    Damaged {
        /// The file or URL.
        path: String,
        /// Where and how.
        damage: Damage,
    },
    /// A file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// The reason.
        source: std::io::Error,
    },
    /// The node could not be reached or answered with an error.
    #[error("node {url}: {detail}")]
    Node {
        /// The URL asked.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The data directory could not be used.
    #[error("data directory {path}: {detail}")]
    DataDir {
        /// The directory.
        path: String,
        /// What went wrong.
        detail: String,
    },
}

impl SourceError {
    /// Whether the source was read and found invalid (exit 1) rather than unreadable (exit 2).
    pub fn is_invalid_data(&self) -> bool {
        matches!(self, SourceError::Damaged { .. })
    }

    /// The damage, when the source's bytes break the format.
    pub fn damage(&self) -> Option<&Damage> {
        match self {
            SourceError::Damaged { damage, .. } => Some(damage),
            _ => None,
        }
    }

    fn of_bundle(path: &str, error: BundleError) -> SourceError {
        match Damage::of_bundle(&error) {
            Some(damage) => SourceError::Damaged {
                path: path.to_owned(),
                damage,
            },
            None => SourceError::Read {
                path: path.to_owned(),
                source: match error {
                    BundleError::Io(source) => source,
                    other => std::io::Error::other(other.to_string()),
                },
            },
        }
    }

    /// A genesis that does not decode or breaks a genesis rule, found at `offset`.
    fn bad_genesis(path: &str, offset: u64, error: GenesisError) -> SourceError {
        SourceError::Damaged {
            path: path.to_owned(),
            damage: Damage {
                offset,
                rule: "genesis",
                problem: format!("the genesis is not valid: {error}"),
            },
        }
    }
}

/// A stream of bundle items from a source.
pub type Items = Box<dyn Iterator<Item = Result<BundleItem, SourceError>>>;

impl Source {
    /// Opens the source: its genesis (checked) and a stream of every record and proof (and,
    /// from a version 2 bundle, its checkpoint notes and split-view proofs).
    pub fn open(&self) -> Result<(Genesis, Items), SourceError> {
        self.open_versioned()
            .map(|(genesis, _, items)| (genesis, items))
    }

    /// [`Source::open`], and the bundle version the items fit in: the bundle's own for a
    /// bundle file or a node's export; for a data directory, 2 when it holds cosigned
    /// checkpoints or split views to carry, else 1.
    pub fn open_versioned(&self) -> Result<(Genesis, u16, Items), SourceError> {
        match self {
            Source::Bundle(path) => {
                let file = File::open(path).map_err(|source| open_error(path, source))?;
                bundle_items(
                    &path.display().to_string(),
                    BufReader::with_capacity(1 << 20, file),
                )
            }
            Source::Node(url) => {
                let response = http_get(url, "/api/export")?;
                bundle_items(url, BufReader::with_capacity(1 << 20, response))
            }
            Source::DataDir(path) => {
                let store = open_store(path)?;
                let genesis = store.genesis().clone();
                let label = path.display().to_string();
                // In bundle order (FORMAT.md, "Bundle order"): proofs and split views first,
                // then governance records, so the verifier derives the authority before it
                // judges the others; then the chains, the records held as revoked, and the
                // cosigned checkpoints: what the node's export carries.
                let witnessed = store
                    .witnessed_for_export(false)
                    .map_err(|error| data_dir_error(&label, error))?;
                let version = witnessed.bundle_version();
                let items = in_bundle_order(store.bundle_items(), witnessed);
                // The store (and its directory lock) lives as long as the stream reads from it.
                let items = items.map(move |result| {
                    let _keep_open = &store;
                    result.map_err(|error| data_dir_error(&label, error))
                });
                Ok((genesis, version, Box::new(items)))
            }
        }
    }

    /// Whether the source may carry checkpoint notes and split-view proofs: a version 2
    /// bundle file (its header says so), a node (its export is version 2 when it collected
    /// any; asking would cost a second download), a data directory (the same, from its
    /// store). `verify` collects every chain's record ids only for such sources.
    pub fn may_carry_witnessed(&self) -> bool {
        match self {
            Source::Bundle(path) => File::open(path)
                .ok()
                .and_then(|file| BundleReader::new(BufReader::new(file)).ok())
                .is_some_and(|reader| reader.version() > BUNDLE_VERSION_1),
            // Asking a data directory would open its store twice in a row, and sled lets go
            // of its lock only a moment after a store is dropped.
            Source::Node(_) | Source::DataDir(_) => true,
        }
    }

    /// The genesis alone.
    pub fn genesis(&self) -> Result<Genesis, SourceError> {
        match self {
            Source::Node(url) => {
                let mut bytes = Vec::new();
                http_get(url, "/api/genesis.bin")?
                    .read_to_end(&mut bytes)
                    .map_err(|error| node_error(url, error.to_string()))?;
                Genesis::decode(&bytes).map_err(|error| {
                    SourceError::bad_genesis(&format!("{url}/api/genesis.bin"), 0, error)
                })
            }
            Source::DataDir(path) => Ok(open_store(path)?.genesis().clone()),
            Source::Bundle(_) => Ok(self.open()?.0),
        }
    }

    /// One record's bytes by id, if the source has it (in a bundle, before any damage).
    pub fn record(&self, id: &RecordId) -> Result<Option<Vec<u8>>, SourceError> {
        match self {
            Source::Node(url) => {
                let path = format!("/api/records/{id}/raw");
                match http_get_optional(url, &path)? {
                    Some(mut response) => {
                        let mut bytes = Vec::new();
                        response
                            .read_to_end(&mut bytes)
                            .map_err(|error| node_error(url, error.to_string()))?;
                        Ok(Some(bytes))
                    }
                    None => Ok(None),
                }
            }
            Source::DataDir(path) => open_store(path)?
                .get(id)
                .map_err(|error| data_dir_error(&path.display().to_string(), error)),
            Source::Bundle(_) => {
                let (_, items) = self.open()?;
                // By the header alone: a redacted record is held as its withheld envelope
                // (header and signature), and the caller verifies what it finds.
                find_in_items(until_damage(items), |bytes| {
                    aidledger_spec::signed::record_id_of_bytes(bytes)
                        .is_ok_and(|found| found == *id)
                })
            }
        }
    }

    /// Up to `limit` records of `org`'s chain with seq below `before_seq` (all when none), newest
    /// first (in a bundle, of the records before any damage).
    pub fn chain_page(
        &self,
        org: &str,
        before_seq: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, SourceError> {
        let limit = limit.min(PAGE_RECORDS_MAX);
        match self {
            Source::Node(url) => node_chain_page(url, org, before_seq, limit),
            Source::DataDir(path) => {
                let store = open_store(path)?;
                let label = path.display().to_string();
                store
                    .chain_newest_first(org, before_seq, limit)
                    .map(|entry| {
                        entry
                            .map(|(_, bytes)| bytes)
                            .map_err(|error| data_dir_error(&label, error))
                    })
                    .collect()
            }
            Source::Bundle(_) => {
                let (_, items) = self.open()?;
                let mut page: std::collections::VecDeque<Vec<u8>> =
                    std::collections::VecDeque::new();
                for item in until_damage(items) {
                    if let BundleItem::Record(bytes) = item? {
                        // By the header alone, so that withheld envelopes are listed too.
                        let header = aidledger_spec::codec::decode_prefix::<
                            aidledger_spec::RecordHeader,
                        >(&bytes);
                        let fits = header.is_ok_and(|(header, _)| {
                            header.author == org
                                && before_seq.is_none_or(|before| header.seq < before)
                        });
                        if fits {
                            page.push_back(bytes);
                            if page.len() > limit {
                                page.pop_front();
                            }
                        }
                    }
                }
                Ok(page.into_iter().rev().collect())
            }
        }
    }
}

fn bundle_items<R: Read + 'static>(
    label: &str,
    reader: R,
) -> Result<(Genesis, u16, Items), SourceError> {
    let reader = BundleReader::new(reader).map_err(|error| SourceError::of_bundle(label, error))?;
    let version = reader.version();
    let genesis = Genesis::decode(reader.genesis_bytes())
        .map_err(|error| SourceError::bad_genesis(label, GENESIS_PAYLOAD_OFFSET, error))?;
    let label = label.to_owned();
    let items = reader.map(move |item| item.map_err(|error| SourceError::of_bundle(&label, error)));
    Ok((genesis, version, Box::new(items)))
}

/// The items before any damage. `record` and `chain_page` look records up in a bundle that the
/// verifying reader (`crate::checked`) has already read and judged, damage included; a lookup
/// finds what that reading could see rather than failing again on the same bytes.
fn until_damage(items: Items) -> impl Iterator<Item = Result<BundleItem, SourceError>> {
    items.take_while(|item| !matches!(item, Err(SourceError::Damaged { .. })))
}

fn find_in_items(
    items: impl Iterator<Item = Result<BundleItem, SourceError>>,
    mut wanted: impl FnMut(&[u8]) -> bool,
) -> Result<Option<Vec<u8>>, SourceError> {
    for item in items {
        if let BundleItem::Record(bytes) = item? {
            if wanted(&bytes) {
                return Ok(Some(bytes));
            }
        }
    }
    Ok(None)
}

fn open_store(path: &Path) -> Result<StoreReader, SourceError> {
    StoreReader::open(path).map_err(|error| {
        let running = matches!(
            &error,
            aidledger_store::OpenError::Lock(aidledger_store::datadir::LockError::InUse { .. })
        );
        let mut detail = error.to_string();
        if running {
            // The store of a running node is its own; its public API serves the same records.
            detail.push_str(
                "; read it through the node instead: --node URL (its public URL is \"public\" in \
                 endpoints.json of the directory)",
            );
        }
        data_dir_error(&path.display().to_string(), detail)
    })
}

fn open_error(path: &Path, source: std::io::Error) -> SourceError {
    SourceError::Open {
        path: path.display().to_string(),
        source,
    }
}

fn data_dir_error(path: &str, error: impl std::fmt::Display) -> SourceError {
    SourceError::DataDir {
        path: path.to_owned(),
        detail: error.to_string(),
    }
}

fn node_error(url: &str, detail: String) -> SourceError {
    SourceError::Node {
        url: url.to_owned(),
        detail,
    }
}

/// A blocking HTTP client without a total timeout (exports can be large) but with a connect timeout.
pub fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(None)
        .build()
        // Building fails only if the TLS backend cannot initialise; this client has none.
        .unwrap_or_else(|_| reqwest::blocking::Client::new())
}

fn http_get(base: &str, path: &str) -> Result<reqwest::blocking::Response, SourceError> {
    http_get_optional(base, path)?.ok_or_else(|| node_error(base, format!("{path} was not found")))
}

fn http_get_optional(
    base: &str,
    path: &str,
) -> Result<Option<reqwest::blocking::Response>, SourceError> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let response = http_client()
        .get(&url)
        .send()
        .map_err(|error| node_error(base, format!("cannot reach it: {error}")))?;
    match response.status() {
        status if status.is_success() => Ok(Some(response)),
        reqwest::StatusCode::NOT_FOUND => Ok(None),
        status => {
            let text = response.text().unwrap_or_default();
            Err(node_error(
                base,
                format!("GET {path} answered {status}: {text}"),
            ))
        }
    }
}

#[derive(serde::Deserialize)]
struct ChainPage {
    records: Vec<PageRecord>,
}

#[derive(serde::Deserialize)]
struct PageRecord {
    bytes_hex: String,
}

fn node_chain_page(
    url: &str,
    org: &str,
    before_seq: Option<u64>,
    limit: usize,
) -> Result<Vec<Vec<u8>>, SourceError> {
    let mut path = format!(
        "/api/orgs/{}/records?limit={limit}",
        encode_path_segment(org)
    );
    if let Some(before) = before_seq {
        path.push_str(&format!("&before_seq={before}"));
    }
    // A node answers 404 for an organisation it holds no chain of and the genesis does not
    // list (a member added later that has not recorded yet); callers know who is a member.
    let Some(response) = http_get_optional(url, &path)? else {
        return Ok(Vec::new());
    };
    let page: ChainPage = response
        .json()
        .map_err(|error| node_error(url, format!("bad page: {error}")))?;
    page.records
        .into_iter()
        .map(|record| {
            hex::decode(&record.bytes_hex)
                .map_err(|error| node_error(url, format!("bad record hex: {error}")))
        })
        .collect()
}

/// Percent-encodes a path segment (organisation ids may hold `/`, `:` and other reserved bytes).
pub fn encode_path_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
