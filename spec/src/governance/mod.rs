//! Governance: membership changes by the genesis' admin rule, key rotation by an organisation,
//! and revocation of a compromised key from a point of its chain on (FORMAT.md, "Governance").
//!
//! Three body kinds carry it: a [`Proposal`] (kind 5) by an admin, an [`Approval`] (kind 6) by
//! an admin, each in the signer's own chain, and a [`KeyRotation`] (kind 7) in the chain of the
//! organisation whose key changes. [`derive()`] turns a set of such records into an
//! [`Authority`]: who is a member, and which key may sign which positions of which chain. The
//! derivation depends on the set of records only, never on the order they arrived in, so every
//! verifier holding the same records reaches the same authority.
//!
//! Effects are stated in chain positions, never in time: a revocation or a removal names the
//! first sequence number it invalidates, and a rotation takes effect right after its own
//! record. A record's validity is therefore a function of (author, seq, signing key) and the
//! authority, which is what [`Authority::check`] decides.

mod authority;
mod bodies;
mod derivation;
mod record;

pub use authority::{Authority, KeyEnd, KeyEndReason, KeySpan, MemberState, Removal, Step};
pub use bodies::{
    possession_message, witness_policy_of, Approval, Change, KeyGrant, KeyRotation, Proposal,
    WitnessEntry, POSSESSION_DOMAIN,
};
pub use derivation::{derive, Derivation, Finding, ProposalState, ProposalStatus};
pub use record::{uncontested, Act, GovernanceRecord};
