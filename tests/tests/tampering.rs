//! Tampered bundles are caught: a flipped header byte, a flipped body byte, a cut-off file and
//! a record removed from the middle each make `verify` fail and say where and why.
//!
//! One bundle is made once (a network, five records, an export) and every test tampers with
//! its own copy in its own directory, so that the node runs once for this file.

use std::io::Cursor;
use std::sync::OnceLock;

use aidledger_spec::bundle::{BundleItem, BundleReader, BundleWriter};
use aidledger_spec::signed::{SignedRecord, SIGNATURE_BYTES};
use aidledger_tests::{path_str, Cli, Network, Output, TestDir, DONOR};

/// The seq of the record that the tests tamper with: in the middle of the chain.
const TAMPERED_SEQ: u64 = 2;

/// A record's place in the bundle file.
struct RecordFrame {
    /// The record's wire bytes.
    bytes: Vec<u8>,
    /// Byte offset of the record's first byte (the frame's payload) in the file.
    offset: usize,
    /// Length of the record's header.
    header_size_bytes: usize,
    /// The record's seq.
    seq: u64,
    /// The author's id, as encoded in the header.
    author: String,
}

struct Original {
    bundle: Vec<u8>,
    genesis: Vec<u8>,
    records: Vec<RecordFrame>,
}

/// Makes the bundle once: five records of the donor, exported from its running node.
fn original() -> &'static Original {
    static ORIGINAL: OnceLock<Original> = OnceLock::new();
    ORIGINAL.get_or_init(|| {
        let network = Network::start("tamper-source");
        for amount in ["100", "200.25", "300.5"] {
            network.record_transaction(amount);
        }
        network.record(
            "statement",
            &[
                "--title",
                "Quarterly note",
                "--language",
                "en",
                "--text",
                "All tranches paid.",
            ],
        );
        network.record_transaction("500");
        let path = network.dir.join("original.bundle");
        let public = network.node.public_url();
        network
            .cli
            .run(["export", "--out", path_str(&path), "--node", &public])
            .assert_exit(0);
        let bundle = std::fs::read(&path).expect("read the exported bundle");
        parse(bundle)
    })
}

/// Reads the bundle and locates each record frame. Frames are `kind u8, length u64 LE,
/// payload`, after the 8-byte magic and u16 version; the genesis frame comes first.
fn parse(bundle: Vec<u8>) -> Original {
    const FRAME_HEADER_BYTES: usize = 9;
    let mut reader = BundleReader::new(Cursor::new(&bundle)).expect("the export is a bundle");
    let genesis = reader.genesis_bytes().to_vec();
    let mut offset = 8 + 2 + FRAME_HEADER_BYTES + genesis.len();
    let mut records = Vec::new();
    while let Some(item) = reader.next_item().expect("the export reads") {
        let BundleItem::Record(bytes) = item else {
            panic!("a fresh single-node export holds no proofs")
        };
        assert_eq!(bundle[offset], 2, "a record frame at byte {offset}");
        let payload = offset + FRAME_HEADER_BYTES;
        assert_eq!(
            &bundle[payload..payload + bytes.len()],
            &bytes[..],
            "record located at byte {payload}"
        );
        let record = SignedRecord::parse(bytes.clone()).expect("exported records parse");
        let header_size_bytes =
            bytes.len() - record.header.body_size_bytes as usize - SIGNATURE_BYTES;
        records.push(RecordFrame {
            offset: payload,
            header_size_bytes,
            seq: record.header.seq,
            author: record.header.author.clone(),
            bytes,
        });
        offset = payload + records.last().map_or(0, |record| record.bytes.len());
    }
    assert_eq!(records.len(), 5, "the export holds the five records");
    Original {
        bundle,
        genesis,
        records,
    }
}

fn tampered_record(original: &Original) -> &RecordFrame {
    original
        .records
        .iter()
        .find(|record| record.seq == TAMPERED_SEQ)
        .expect("a record at the tampered seq")
}

/// Writes `bytes` as a bundle in a fresh directory and runs `verify --bundle` on it.
fn verify_bytes(name: &str, bytes: &[u8]) -> (TestDir, Output) {
    let dir = TestDir::new(name);
    let path = dir.write("tampered.bundle", bytes);
    let output = Cli::new(dir.path())
        .run(["verify", "--bundle", path_str(&path)])
        .assert_no_panic();
    (dir, output)
}

#[track_caller]
fn assert_names_record(output: &Output, author: &str, seq: u64) {
    let position = format!("{author} seq {seq}");
    assert!(
        output.mentions(&position),
        "expected the report to name `{position}`\n{}",
        output.describe()
    );
    assert!(
        output.stdout().lines().any(|line| line.trim() == "INVALID"),
        "expected a line INVALID\n{}",
        output.describe()
    );
}

#[test]
fn untouched_copy_verifies() {
    let original = original();
    let (_dir, output) = verify_bytes("tamper-none", &original.bundle);
    output.assert_exit(0);
}

#[test]
fn flipped_header_byte_is_caught() {
    let original = original();
    let record = tampered_record(original);
    assert_eq!(record.author, DONOR);
    // Header layout: format_version u16, network_id [32], author (u64 length + bytes), seq u64,
    // prev [32], timestamp_ms u64, … Flip the lowest byte of the timestamp: the header still
    // decodes, names the same author and seq, and its id (so its signature) no longer matches.
    let timestamp_at = 2 + 32 + 8 + record.author.len() + 8 + 32;
    assert!(timestamp_at < record.header_size_bytes);
    let mut bytes = original.bundle.clone();
    bytes[record.offset + timestamp_at] ^= 0x01;
    let (_dir, output) = verify_bytes("tamper-header", &bytes);
    let output = output.assert_exit(1);
    assert_names_record(&output, DONOR, TAMPERED_SEQ);
}

#[test]
fn flipped_body_byte_is_caught() {
    let original = original();
    let record = tampered_record(original);
    let body_size_bytes = record.bytes.len() - record.header_size_bytes - SIGNATURE_BYTES;
    let mut bytes = original.bundle.clone();
    bytes[record.offset + record.header_size_bytes + body_size_bytes / 2] ^= 0x20;
    let (_dir, output) = verify_bytes("tamper-body", &bytes);
    let output = output.assert_exit(1);
    assert_names_record(&output, DONOR, TAMPERED_SEQ);
}

/// Runs `verify --bundle` on damaged bytes and checks the verdict of FORMAT.md 13.2: exit 1
/// (invalid data, not "could not run"), the byte offset and the rule named in the text, and the
/// same in `verify --json`'s `framing_error`.
#[track_caller]
fn assert_damaged(name: &str, bytes: &[u8], offset: u64, rule: &str) -> TestDir {
    let (dir, output) = verify_bytes(name, bytes);
    let output = output.assert_exit(1);
    assert!(
        output.mentions(&format!("byte {offset}")) && output.mentions(rule),
        "expected the offset {offset} and the rule {rule} in the report\n{}",
        output.describe()
    );
    assert!(
        output.stdout().lines().any(|line| line.trim() == "INVALID"),
        "expected a line INVALID\n{}",
        output.describe()
    );
    let path = dir.join("tampered.bundle");
    let json = Cli::new(dir.path())
        .run(["verify", "--bundle", path_str(&path), "--json"])
        .assert_exit(1)
        .json();
    assert_eq!(json["valid"], false, "{json}");
    assert_eq!(json["framing_error"]["offset"], offset, "{json}");
    assert_eq!(json["framing_error"]["rule"], rule, "{json}");
    dir
}

/// Every command that reads a source judges damaged bytes as `verify` does: exit 1, with the
/// offset named.
#[track_caller]
fn assert_every_reader_refuses(dir: &TestDir, offset: u64) {
    let original = original();
    let path = dir.join("tampered.bundle");
    let bundle = path_str(&path);
    let record_id = SignedRecord::parse(original.records[0].bytes.clone())
        .expect("exported records parse")
        .id
        .to_hex();
    let out = dir.join("copy.bundle");
    let commands: Vec<Vec<&str>> = vec![
        vec!["show", &record_id],
        vec!["provenance", &record_id],
        vec!["log", DONOR],
        vec!["flow", "GB-GOV-1-300123"],
        vec!["reconcile"],
        vec!["gov", "status"],
        vec!["export", "--out", path_str(&out)],
    ];
    for mut args in commands {
        args.extend(["--bundle", bundle]);
        let output = Cli::new(dir.path()).run(&args).assert_no_panic();
        assert_eq!(
            output.code(),
            Some(1),
            "`{}` on a damaged bundle\n{}",
            args.join(" "),
            output.describe()
        );
        assert!(
            output.mentions(&format!("byte {offset}")),
            "`{}` names the offset {offset}\n{}",
            args.join(" "),
            output.describe()
        );
    }
    assert!(!out.exists(), "export wrote a copy of a damaged bundle");
}

/// The file ends in the middle of a frame. Exit 1 since issue 16 (it was "1 or 2" before: a
/// cut-off file is damaged data, not a failure to run).
#[test]
fn truncated_bundle_is_invalid_with_its_offset() {
    let original = original();
    let record = tampered_record(original);
    // Cut inside the middle record, so the file ends in the middle of a frame.
    let cut = record.offset + record.bytes.len() / 2;
    let dir = assert_damaged(
        "tamper-truncate",
        &original.bundle[..cut],
        cut as u64,
        "truncated",
    );
    assert_every_reader_refuses(&dir, cut as u64);
}

#[test]
fn bad_magic_is_invalid_at_byte_0() {
    let mut bytes = original().bundle.clone();
    bytes[0] ^= 0x20;
    let dir = assert_damaged("tamper-magic", &bytes, 0, "bad-magic");
    assert_every_reader_refuses(&dir, 0);
}

#[test]
fn wrong_end_count_is_invalid_at_the_end_frame() {
    let mut bytes = original().bundle.clone();
    // The end frame is the last 9 + 16 bytes: kind, length, records u64, proofs u64.
    let end_frame = bytes.len() - 25;
    assert_eq!(bytes[end_frame], 0xff, "the end frame at byte {end_frame}");
    bytes[end_frame + 9] += 1;
    assert_damaged(
        "tamper-end-count",
        &bytes,
        end_frame as u64,
        "end-count-mismatch",
    );
}

#[test]
fn trailing_bytes_are_invalid_after_the_end_frame() {
    let mut bytes = original().bundle.clone();
    let end = bytes.len() as u64;
    bytes.push(0);
    assert_damaged("tamper-trailing", &bytes, end, "trailing-bytes");
}

#[test]
fn undecodable_genesis_is_invalid_at_its_frame() {
    let original = original();
    let mut bytes = original.bundle.clone();
    // The genesis payload starts after magic (8), version (2) and its frame header (9). Its
    // first two bytes are the genesis format version: an unknown one does not decode.
    const GENESIS_PAYLOAD: usize = 19;
    assert_eq!(&bytes[GENESIS_PAYLOAD..][..8], &original.genesis[..8]);
    bytes[GENESIS_PAYLOAD] = 0xfe;
    bytes[GENESIS_PAYLOAD + 1] = 0xfe;
    let dir = assert_damaged("tamper-genesis", &bytes, GENESIS_PAYLOAD as u64, "genesis");
    assert_every_reader_refuses(&dir, GENESIS_PAYLOAD as u64);
}

/// What could not be read at all still exits 2.
#[test]
fn missing_bundle_could_not_run() {
    let dir = TestDir::new("tamper-missing");
    let missing = dir.join("no-such.bundle");
    let cli = Cli::new(dir.path());
    cli.run(["verify", "--bundle", path_str(&missing)])
        .assert_exit(2)
        .assert_mentions_any(&["no-such.bundle"]);
    cli.run(["verify", "--bundle", path_str(&missing), "--json"])
        .assert_exit(2);
    cli.run([
        "provenance",
        &"0".repeat(64),
        "--bundle",
        path_str(&missing),
    ])
    .assert_exit(2);
}

#[test]
fn removed_record_is_a_gap() {
    let original = original();
    let mut writer = BundleWriter::new(Vec::new(), &original.genesis).expect("write to memory");
    for record in original
        .records
        .iter()
        .filter(|record| record.seq != TAMPERED_SEQ)
    {
        writer.record(&record.bytes).expect("write to memory");
    }
    let bytes = writer.finish().expect("write to memory");
    let (_dir, output) = verify_bytes("tamper-remove", &bytes);
    let output = output.assert_exit(1).assert_mentions_any(&["gap"]);
    assert!(
        output.stdout().lines().any(|line| line.trim() == "INVALID"),
        "expected a line INVALID\n{}",
        output.describe()
    );
}
