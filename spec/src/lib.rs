//! The aidledger protocol as a pure library: record types, the canonical encoding, hashing,
//! signatures, chain verification and the bundle format.
//!
//! Like rustls, this crate does no I/O of its own: bytes come in, values and errors go out.
//! It has no clock, no randomness, no filesystem and no network; time and keys are arguments.
//! Every byte that is hashed or signed anywhere in aidledger is produced here. `FORMAT.md`
//! beside this crate documents every byte, and `vectors/` pins the encoding.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod activity;
pub mod amount;
pub mod bundle;
pub mod chain;
pub mod checkpoint;
pub mod codec;
pub mod cosignature;
pub mod currency;
pub mod genesis;
pub mod governance;
pub mod ids;
pub mod limits;
pub mod merkle;
pub mod note;
pub mod packet;
pub mod record;
pub mod redaction;
mod rejection;
pub mod signature;
pub mod signed;
pub mod sortkey;
pub mod splitview;
pub mod submit;
pub mod sync;
pub mod text;
pub mod verify;
pub mod withheld;
pub mod witnessed;

pub use genesis::{AdminRule, Genesis, Member, Role};
pub use ids::{Digest, NetworkId, PublicKey, RecordId, SignatureBytes};
pub use record::{Body, BodyKind, RecordHeader};
pub use signed::{sign_record, RecordDraft, SignedRecord};
pub use verify::{Rejection, RuleCheckedRecord, VerifiedRecord, Verifier};

/// Domain-separation strings: each hash or signature input starts with one, so that bytes made
/// for one purpose can never be taken for another.
pub mod domain {
    /// Prefix of the network id hash input.
    pub const GENESIS: &str = "aidledger:genesis:v1\n";
    /// Prefix of the record id hash input.
    pub const RECORD_ID: &str = "aidledger:record-id:v1\n";
    /// Prefix of the body hash input.
    pub const BODY: &str = "aidledger:body:v1\n";
    /// Prefix of the message an organisation signs (followed by the 32-byte record id).
    pub const SIGNATURE: &str = "aidledger:signature:v1\n";
    /// Prefix of the hash of one treaty text version.
    pub const TEXT_VERSION: &str = "aidledger:text-version:v1\n";
    /// Prefix of the hash of all versions of a treaty text together.
    pub const TREATY_TEXT: &str = "aidledger:treaty-text:v1\n";
}
