//! The workspace's own rules, checked on its source (rust-analyzer's "tidy" habit): each is a
//! rule a reviewer would otherwise have to remember.
//!
//! - every source file of every crate is named in ARCHITECTURE.md, so the map stays true;
//! - the protocol crate depends only on the crates of its allowlist (it must stay pure);
//! - no `unsafe` outside the `os` crate, and no `.unwrap()` / `.expect(` in production code
//!   (tests, benches and examples may);
//! - `[workspace.lints]` forbids unsafe code, and every crate but `os` and `tests` takes it;
//! - no production file over [`FILE_LINES_MAX`] lines (its unit tests not counted) without a
//!   reason in its header.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A production source file longer than this needs a reason in its header.
const FILE_LINES_MAX: usize = 600;
/// The header line that gives that reason (within the file's first [`HEADER_LINES`] lines).
const LONG_FILE_REASON: &str = "Why this file is long:";
/// How many lines of a file count as its header.
const HEADER_LINES: usize = 40;
/// The protocol crate's dependencies: hashing, signatures, the pinned encoding engine, derives,
/// typed errors, hex for ids and base64 for signed notes (C2SP). Nothing with I/O, time,
/// threads or networking.
const SPEC_DEPENDENCIES_ALLOWED: &[&str] = &[
    "base64",
    "bincode",
    "curve25519-dalek",
    "ed25519-dalek",
    "hex",
    "serde",
    "sha2",
    "thiserror",
];
/// The one crate that may hold unsafe code (its SAFETY arguments are in its source).
const UNSAFE_CRATE: &str = "os";
/// Crates that do not take `[workspace.lints]`, each with its reason in its Cargo.toml:
/// `os` holds the unsafe calls; `tests` sets up processes with `pre_exec`, FIFOs and socket
/// options in its end-to-end tests.
const CRATES_WITHOUT_WORKSPACE_LINTS: &[&str] = &["os", "tests"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the workspace")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The workspace's member directories, from the root Cargo.toml.
fn members() -> Vec<String> {
    let manifest = read(&workspace_root().join("Cargo.toml"));
    let line = manifest
        .lines()
        .find(|line| line.trim_start().starts_with("members"))
        .expect("the workspace lists its members on one line");
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Every `.rs` file under `dir`, recursively, as paths relative to the workspace root.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path
                    .strip_prefix(workspace_root())
                    .expect("under the root")
                    .to_path_buf();
                found.push(relative);
            }
        }
    }
    found.sort();
    found
}

/// The production source files: `<member>/src/**.rs` of every member but `tests`.
fn production_files() -> Vec<PathBuf> {
    members()
        .iter()
        .filter(|member| member.as_str() != "tests")
        .flat_map(|member| rust_files(&workspace_root().join(member).join("src")))
        .collect()
}

/// The lines of a file before its unit tests (`#[cfg(test)]` starts them, by the workspace's
/// habit), with `//` comments removed (doc examples may unwrap).
fn production_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, line)| line.trim() != "#[cfg(test)]")
        .map(|(index, line)| {
            let code = match line.find("//") {
                Some(at) => &line[..at],
                None => line,
            };
            (index + 1, code)
        })
}

#[test]
fn every_source_file_is_named_in_architecture_md() {
    let map = read(&workspace_root().join("ARCHITECTURE.md"));
    let missing: Vec<String> = members()
        .iter()
        .flat_map(|member| rust_files(&workspace_root().join(member).join("src")))
        .map(|path| path.display().to_string())
        .filter(|path| !map.contains(path.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name these files (add them to its code map):\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_protocol_crate_depends_only_on_its_allowlist() {
    let manifest = read(&workspace_root().join("spec/Cargo.toml"));
    let dependencies: BTreeSet<&str> = manifest
        .split("\n[")
        .find(|section| section.starts_with("dependencies]"))
        .expect("spec/Cargo.toml has [dependencies]")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let name = line.split(['=', '.']).next()?.trim();
            (!name.is_empty() && !name.starts_with('#')).then_some(name)
        })
        .collect();
    let allowed: BTreeSet<&str> = SPEC_DEPENDENCIES_ALLOWED.iter().copied().collect();
    let extra: Vec<&&str> = dependencies.difference(&allowed).collect();
    assert!(
        extra.is_empty(),
        "the protocol crate must stay pure; not on its allowlist: {extra:?}"
    );
    assert!(dependencies.contains("sha2"), "parsed {dependencies:?}");
}

#[test]
fn no_unsafe_outside_the_os_crate_and_no_unwrap_or_expect_in_production_code() {
    let mut found = Vec::new();
    for path in production_files() {
        let in_os_crate = path.starts_with(UNSAFE_CRATE);
        let text = read(&workspace_root().join(&path));
        for (number, code) in production_lines(&text) {
            let unsafe_code = code.contains("unsafe ") || code.contains("unsafe{");
            if (unsafe_code && !in_os_crate)
                || code.contains(".unwrap()")
                || code.contains(".expect(")
            {
                found.push(format!("{}:{number}: {}", path.display(), code.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "found in production code:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_workspace_forbids_unsafe_code_and_every_crate_takes_its_lints() {
    let root = read(&workspace_root().join("Cargo.toml"));
    let lints = root
        .split("\n[")
        .find(|section| section.starts_with("workspace.lints.rust]"))
        .expect("the root Cargo.toml has [workspace.lints.rust]");
    assert!(
        lints.contains("unsafe_code = \"forbid\""),
        "[workspace.lints.rust] must forbid unsafe code:\n{lints}"
    );
    let mut without = Vec::new();
    for member in members() {
        let manifest = read(&workspace_root().join(&member).join("Cargo.toml"));
        let takes = manifest.contains("[lints]\nworkspace = true");
        let exempt = CRATES_WITHOUT_WORKSPACE_LINTS.contains(&member.as_str());
        assert!(
            !(takes && exempt),
            "{member} takes the workspace lints: drop it from the exemptions"
        );
        if !takes && !exempt {
            without.push(member);
        }
    }
    assert!(
        without.is_empty(),
        "these crates do not take [workspace.lints] ([lints] workspace = true): {without:?}"
    );
}

#[test]
fn no_production_file_is_long_without_a_reason_in_its_header() {
    let mut long = Vec::new();
    for path in production_files() {
        let text = read(&workspace_root().join(&path));
        let lines = production_lines(&text).count();
        let explained = text
            .lines()
            .take(HEADER_LINES)
            .any(|line| line.contains(LONG_FILE_REASON));
        if lines > FILE_LINES_MAX && !explained {
            long.push(format!("{} ({lines} lines)", path.display()));
        }
    }
    assert!(
        long.is_empty(),
        "over {FILE_LINES_MAX} lines without \"{LONG_FILE_REASON}\" in the first {HEADER_LINES} \
         lines; split them by what they hold, or say why:\n{}",
        long.join("\n")
    );
}
