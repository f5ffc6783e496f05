//! What records mean to people: the one view of a record (JSON for machines, text for people)
//! and the one set of correction rules (which version of a transaction is current, what a
//! withdrawal removes, how an acknowledgement moves when its receipt is corrected), and the
//! one money model ([`money`]: links, their statuses — full, short, over, … — and the
//! findings). The explorer, the node's public API and the CLI all read records through this
//! crate, so that they cannot show one record two ways, count one correction two ways, or
//! give one link two statuses.
//! What a record says in one sentence for people ([`headline`]) and where it stands
//! (valid, corrected, withdrawn, revoked, its link: [`status_line`]) are written once too.
//! A treaty's standing (each party's current action, whether it is in force, actions by
//! non-parties) is computed once, in [`treaty`].
//!
//! Pure: no file, network, clock or store. Callers decode records and hand in bodies, headers
//! and, for the explorer's incremental index, the state of the corrected record they looked
//! up; the rules answer with values.
//!
//! # Where the old views disagreed, and the meaning kept
//!
//! The node's API and the CLI each had a `body_json` and they had drifted:
//!
//! - **`version_hashes`** (a treaty text's per-language version hashes): the CLI showed them,
//!   the API did not. Kept: like `text_hash` they are derived from the signed fields, and a
//!   reader checking one language version against what a party signed needs that version's
//!   own hash without recomputing the encoding.
//! - **A correction's replacement**: the API flattened the replacement's fields and slipped a
//!   `kind` key in among them; the CLI nested it as `{"kind", "body"}`. Kept: the nested
//!   form, the same shape as a record's own `kind` and `body`, so one reader handles a record
//!   and a replacement alike, and no body field can ever collide with `kind`.
//! - The record envelope: the API showed the wire bytes (`bytes_hex`), the CLI their size
//!   (`size_bytes`). [`RecordView`] carries the size; the API adds the hex beside it (it
//!   serves records' bytes; a CLI listing of a million records need not print them twice).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod activity_text;
pub mod corrections;
pub mod format;
pub mod genuine;
pub mod headline;
pub mod money;
pub mod record_text;
pub mod record_view;
pub mod status_line;
pub mod treaty;

pub use record_text::{record_text, summary};
pub use record_view::{body_json, RecordView};
