//! Reads IATI activity files one activity at a time and maps their transactions to aidledger
//! [`Transaction`](aidledger_spec::record::Transaction)s.
//!
//! Like `spec`, this crate does no I/O of its own: it reads from any [`std::io::BufRead`] the
//! caller opens, and returns values, warnings and errors. No floats are used anywhere: values
//! stay text until [`canonical_amount`](aidledger_spec::amount::canonical_amount) makes them
//! exact decimal text.
//!
//! # Reading
//!
//! [`ActivityReader`] yields one [`Activity`] per `iati-activity` element. It holds one activity
//! at a time, and every buffer has a named bound ([`ReaderLimits`]): an activity larger than
//! [`ACTIVITY_BYTES_MAX`] is yielded without transactions and with an
//! [`ActivityTooLarge`](WarningReason::ActivityTooLarge) warning; a token longer than
//! [`TOKEN_BYTES_MAX`], a root that does not start within [`PROLOG_BYTES_MAX`], or nesting
//! deeper than [`DEPTH_MAX`] is a fatal [`ReadError`].
//!
//! What the reader accepts from real files: a UTF-8 byte order mark; IATI 2.0x and 1.0x, with or
//! without a root `@version`; foreign-namespace attributes and elements (`dstore:`, `iati-extra:`,
//! `usg:`), which are ignored with their subtree; names as `narrative` children (2.0x) or as the
//! element's own text (1.0x), the first non-empty one winning; empty attributes (`currency=""`)
//! as absent; dates with a time or zone (`2020-06-22T00:00:00`), whose date part is used.
//! Not accepted: encodings other than UTF-8 ([`ReadError::UnsupportedEncoding`]).
//!
//! A broken file yields every activity before the break, then one error with the line.
//!
//! # Mapping and warnings
//!
//! [`to_transaction`] maps one transaction or returns a [`Warning`] with its line and activity
//! id; [`Activity::warnings`] holds what the reader itself noticed. Every transaction read is
//! therefore either mapped or named in a warning. The value date falls back to the transaction
//! date and the transaction date to the value date.
//!
//! IATI 1.0x letter codes are mapped to the 2.0x numbers where IATI's 2.01 renumbering gives one
//! code for one ([`LEGACY_TRANSACTION_TYPE_MAPPING`], which says where it comes from): `IF`→1,
//! `D`→3, `E`→4, `IR`→5, `LR`→6, `R`→7, `QP`→8, `QS`→9, `CG`→10. 1.0x `C` ("Commitment")
//! covered both what 2.02 splits into 2 (outgoing) and 11 (incoming commitment), so it produces
//! [`LegacyTransactionType`](WarningReason::LegacyTransactionType). The import key keeps the
//! code as written, so a file re-published with numeric codes gives new keys only for
//! transactions without a `@ref`.
//!
//! # Activity records
//!
//! [`to_activity`] maps what an activity is about ([`ActivityAbout`]: titles and descriptions
//! in every language, with `xml:lang` or else the activity's own `xml:lang`; status; dates;
//! recipient countries and regions; sectors; participating organisations) to a protocol
//! activity record (FORMAT.md §5.10), with [`activity_import_key`] (the publisher and the
//! identifier, §21.1) and [`activity_digest`] for idempotent re-imports. What breaks a field
//! rule or limit of the record is left out with a
//! [`WarningReason::ActivityField`] warning; the transactions never depend on it.
//!
//! # Import key
//!
//! [`IatiSource::import_key`](aidledger_spec::record::IatiSource::import_key) is
//! SHA-256 over [`IMPORT_KEY_DOMAIN`] (`"aidledger:iati-import-key:v1\n"`) followed by, each text
//! field as an 8-byte big-endian length then its UTF-8 bytes (spec/FORMAT.md §21, built with
//! the spec's key builder):
//!
//! | part | content |
//! |---|---|
//! | field | `reporting-org/@ref` |
//! | field | `iati-identifier` |
//! | 1 byte | `1` when the transaction has a `@ref`, else `2` |
//! | field(s) | with `1`: the `@ref`; with `2`: `transaction-type/@code`, then the date part of `transaction-date/@iso-date` (empty when absent) |
//! | 8 bytes | [`IatiTransaction::identity_occurrence`], big-endian: how many earlier transactions of the activity have the same `@ref` (or, without one, the same type code and date) |
//!
//! So the key comes from the transaction's identity, never from its value, currency, parties or
//! description: importing the same file twice gives the same keys, and a publisher who corrects
//! a value gives the same key with another [`content_digest`], which an importer records as a
//! correction. The occurrence number separates repeated `@ref`s (real files have them) and
//! same-day transactions of one type, without depending on the transactions around them. What
//! the rule cannot see: a transaction without `@ref` whose type or date is changed looks like
//! one removed and one added.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod activity;
mod builder;
mod error;
mod limits;
mod mapping;
mod model;
mod reader;
mod source;

pub use activity::{
    activity_digest, activity_import_key, to_activity, ACTIVITY_CONTENT_DOMAIN, ACTIVITY_KEY_DOMAIN,
};
pub use error::{ReadError, Warning, WarningReason};
pub use limits::{ReaderLimits, ACTIVITY_BYTES_MAX, DEPTH_MAX, PROLOG_BYTES_MAX, TOKEN_BYTES_MAX};
pub use mapping::{
    content_digest, date_part, import_key, to_transaction, CONTENT_DIGEST_DOMAIN,
    IMPORT_KEY_DOMAIN, LEGACY_TRANSACTION_TYPE_CODES, LEGACY_TRANSACTION_TYPE_MAPPING,
};
pub use model::{
    Activity, ActivityAbout, DateEntry, Description, IatiTransaction, Narrative, OrgReference,
    Participant, Share,
};
pub use reader::{ActivityReader, EntityNotice};
