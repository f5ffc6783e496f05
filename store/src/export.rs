//! A store's bundle, written to any `Write`: what a node's `/api/export` streams and what the
//! committed bundle fixture is compared with, byte for byte.

use std::io::{self, Write};

use aidledger_spec::bundle::{BundleItem, BundleWriter};

use crate::StoreReader;

/// Writes the bundle of the whole store to `out` in bundle order (`Store::bundle_items`):
/// genesis, governance records, the other records chain by chain, the records held as
/// revoked, proofs, end; each chain up to its durable head (`Store::durable_bundle_items`).
pub fn write_bundle<W: Write>(store: &StoreReader, out: W) -> io::Result<W> {
    let mut writer = BundleWriter::new(out, store.genesis_bytes())?;
    for item in store.durable_bundle_items().map_err(io::Error::other)? {
        match item.map_err(io::Error::other)? {
            BundleItem::Record(bytes) => writer.record(&bytes)?,
            BundleItem::Proof(proof) => writer.proof(&proof)?,
        }
    }
    writer.finish()
}
