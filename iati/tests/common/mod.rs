//! Helpers shared by the integration tests: where the shared IATI data lives, and reading a file whole.

#![allow(dead_code)]

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use aidledger_iati::{Activity, ActivityReader, ReadError};

/// `shared/data/iati/` beside the workspace root.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/iati")
}

/// Opens a file of the shared data, by its path relative to `data_dir()`.
pub fn open(relative: &str) -> BufReader<File> {
    let path = data_dir().join(relative);
    BufReader::new(File::open(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display())))
}

/// Every activity of a shared file, which must read without error.
pub fn read_file(relative: &str) -> (Vec<Activity>, Option<String>) {
    let mut reader = ActivityReader::new(open(relative));
    let activities = reader
        .by_ref()
        .collect::<Result<Vec<_>, ReadError>>()
        .unwrap_or_else(|error| panic!("{relative}: {error}"));
    (activities, reader.file_version().map(str::to_owned))
}

/// Reads text whole: the activities before the first error, and that error.
pub fn read_text(text: &[u8]) -> (Vec<Activity>, Option<ReadError>) {
    let mut activities = Vec::new();
    for item in ActivityReader::new(text) {
        match item {
            Ok(activity) => activities.push(activity),
            Err(error) => return (activities, Some(error)),
        }
    }
    (activities, None)
}
