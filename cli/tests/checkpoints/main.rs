//! The CLI's checkpoint commands against real files (issue 21): `verify --checkpoint`
//! (freshness), `checkpoint check` (consistency over time), `mirror-check` and `witness` against
//! stand-in nodes, and `verify` of bundles carrying cosigned checkpoints and split views
//! (`--witnessed`, `--witness`). One test binary for them all, so that CI links it once.

// vector_set reads the other two support files; its genesis and seeds serve every module here.
#[path = "../../../spec/tests/support/governance_vectors.rs"]
mod governance_vectors;
#[path = "../../../spec/tests/support/signature_edges.rs"]
mod signature_edges;
#[path = "../../../spec/tests/support/vector_set.rs"]
mod vector_set;

mod check;
mod freshness;
mod mirror_views;
mod witness;
mod witnessed;
