//! Writes the golden vectors of FORMAT.md to `spec/vectors/` (run from anywhere:
//! `cargo run -p aidledger-spec --example make_vectors`).
//!
//! The vectors are deterministic (fixed seeds, fixed timestamps, deterministic ed25519), so
//! running this again rewrites the same bytes; `tests/vectors.rs` checks that the files agree
//! with the code.

#[path = "../tests/support/activity_vectors.rs"]
mod activity_vectors;
#[path = "../tests/support/bundle_v2_vectors.rs"]
mod bundle_v2_vectors;
#[path = "../tests/support/checkpoint_vectors.rs"]
mod checkpoint_vectors;
#[path = "../tests/support/governance_vectors.rs"]
mod governance_vectors;
#[path = "../tests/support/merkle_vectors.rs"]
mod merkle_vectors;
#[path = "../tests/support/packet_redacted_vectors.rs"]
mod packet_redacted_vectors;
#[path = "../tests/support/packet_vectors.rs"]
mod packet_vectors;
#[path = "../tests/support/redaction_vectors.rs"]
mod redaction_vectors;
#[path = "../tests/support/signature_edges.rs"]
mod signature_edges;
#[path = "../tests/support/split_view_vectors.rs"]
mod split_view_vectors;
#[path = "../tests/support/vector_set.rs"]
mod vector_set;

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors");
    std::fs::create_dir_all(&directory)?;
    for file in vector_set::all().into_iter().chain([
        activity_vectors::activities_file(),
        merkle_vectors::merkle_file(),
        checkpoint_vectors::checkpoints_file(),
        split_view_vectors::split_views_file(),
        packet_vectors::packet_file(),
        bundle_v2_vectors::bundle_v2_file(),
        redaction_vectors::redaction_file(),
        packet_redacted_vectors::packet_redacted_file(),
    ]) {
        let path = directory.join(file.name);
        std::fs::write(&path, vector_set::render(&file))?;
        println!("wrote {}", path.display());
    }
    let packet = packet_vectors::packet(&vector_set::Fixture::new(), 0, &[0, 1]);
    let path = directory.join(packet_vectors::BIN_NAME);
    std::fs::write(&path, packet.to_packet_bytes())?;
    println!("wrote {}", path.display());
    Ok(())
}
