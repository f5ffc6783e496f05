//! `--org-map FILE`: which member node records each publisher's activities, so that one run over
//! a file of several publishers has every record signed by its publisher's own organisation.
//!
//! The file is JSON: reporting-org ref → where that organisation's node takes records, with the
//! same choices as the command's own flags (`--data-dir`, or `--submit` with `--token-file` and
//! `--public`). Relative paths are read from the map file's directory.
//!
//! ```json
//! {
//!   "GB-GOV-1": {"data_dir": "nodes/GB-GOV-1"},
//!   "DK-CVR-20699310": {"submit": "http://127.0.0.1:7400", "token_file": "drc.token",
//!                       "public": "http://127.0.0.1:7401"}
//! }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::submit::SubmitTarget;

use super::ImportError;

/// Largest org map read (a map of every IATI publisher is far smaller).
pub const ORG_MAP_BYTES_MAX: u64 = 1024 * 1024;

/// One entry as written.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// The node's data directory (its endpoints.json and submit.token are read).
    data_dir: Option<PathBuf>,
    /// The node's submit URL (`node` is accepted as another name for it).
    #[serde(alias = "node")]
    submit: Option<String>,
    /// The file holding the submit token, with `submit`.
    token_file: Option<PathBuf>,
    /// The node's public URL, with `submit` (needed to read what is already imported).
    public: Option<String>,
}

/// Reads an org map: (reporting-org ref, its node) in ref order.
pub fn read_org_map(path: &Path) -> Result<Vec<(String, SubmitTarget)>, ImportError> {
    let error = |detail: String| ImportError::OrgMap(format!("{}: {detail}", path.display()));
    let size = std::fs::metadata(path)
        .map_err(|source| error(source.to_string()))?
        .len();
    if size > ORG_MAP_BYTES_MAX {
        return Err(error(format!(
            "{size} bytes, more than the {ORG_MAP_BYTES_MAX} an org map may have"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|source| error(source.to_string()))?;
    let entries: BTreeMap<String, Entry> =
        serde_json::from_str(&text).map_err(|source| error(source.to_string()))?;
    if entries.is_empty() {
        return Err(error("the map names no publisher".to_owned()));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    entries
        .into_iter()
        .map(|(reference, entry)| {
            let target = entry_target(base, entry)
                .map_err(|detail| error(format!("{reference:?}: {detail}")))?;
            Ok((reference, target))
        })
        .collect()
}

fn entry_target(base: &Path, entry: Entry) -> Result<SubmitTarget, String> {
    match (entry.data_dir, entry.submit, entry.token_file) {
        (Some(dir), None, None) => {
            SubmitTarget::from_data_dir(&base.join(dir)).map_err(|error| error.to_string())
        }
        (None, Some(url), Some(token_file)) => {
            SubmitTarget::from_url(url, &base.join(token_file), entry.public)
                .map_err(|error| error.to_string())
        }
        _ => Err(
            "give either \"data_dir\", or \"submit\" with \"token_file\" (and \"public\")"
                .to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_name_a_data_dir_or_a_url_and_token() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("drc.token"), "secret\n").unwrap();
        let map = dir.path().join("map.json");
        std::fs::write(
            &map,
            r#"{"DK-CVR-20699310": {"node": "http://127.0.0.1:7400", "token_file": "drc.token",
                "public": "http://127.0.0.1:7401"}}"#,
        )
        .unwrap();
        let read = read_org_map(&map).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].0, "DK-CVR-20699310");
        assert_eq!(read[0].1.url, "http://127.0.0.1:7400");
        assert_eq!(read[0].1.token, "secret");
        assert_eq!(
            read[0].1.public_url.as_deref(),
            Some("http://127.0.0.1:7401")
        );

        for bad in [
            r#"{}"#,
            r#"{"X": {}}"#,
            r#"{"X": {"submit": "http://h", "colour": "red"}}"#,
            r#"{"X": {"submit": "http://h"}}"#,
            r#"["X"]"#,
        ] {
            std::fs::write(&map, bad).unwrap();
            let error = read_org_map(&map).unwrap_err().to_string();
            assert!(error.contains("map.json"), "{bad}: {error}");
        }
    }
}
