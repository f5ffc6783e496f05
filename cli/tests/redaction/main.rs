//! Redacted records through the real binary: bundles holding withheld envelopes (a record's
//! header and signature, its body forgotten) are verified, and `verify`, `provenance`, `show`,
//! `log` and the money views say what was redacted, by whom, when and why; a withheld body
//! without an order in force, and an order naming what its author's chain does not hold, are
//! problems with their rule codes. `record redaction`'s bad flags are refused with the reason.
//! One test binary: `support` builds the networks and runs the binary, `reading` checks
//! `verify`, `provenance`, `show` and `log`, `money_and_flags` the money views and the flags,
//! `packets` `verify --proof` of packets of redacted records.

mod money_and_flags;
mod packets;
mod reading;
mod support;
