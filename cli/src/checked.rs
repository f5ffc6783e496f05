//! The one verifying reader behind every command that reads a source (`verify`, `provenance`,
//! `show`, `log`, `flow`, `reconcile`, `gov status`): the whole source goes through the
//! pipeline, its genesis is checked against the network id the auditor pinned, and damage to
//! its bytes is kept with its offset. Every command therefore reaches the verdict `verify`
//! reaches, and states on its first line which network it judged against and whether that was
//! pinned.

use aidledger_spec::bundle::BundleItem;
use aidledger_spec::chain::Report;
use aidledger_spec::genesis::Genesis;
use aidledger_spec::governance::{self, Derivation};
use aidledger_spec::splitview::SplitViewProof;
use aidledger_spec::verify::{RejectedRecord, VerifiedRecord, Verifier};
use aidledger_spec::{NetworkId, Rejection, RuleCheckedRecord};
use serde_json::{json, Map, Value};

use crate::pipeline::{verify_items, SignatureMode};
use crate::source::{Damage, Source, SourceError};

/// A source from another network than the one pinned.
#[derive(Debug, thiserror::Error)]
#[error("the source belongs to network {found} ({name}), not to the pinned network {pinned} (--network-id or AIDLEDGER_NETWORK_ID)")]
pub struct NetworkMismatch {
    /// The network id the auditor gave.
    pub pinned: NetworkId,
    /// The network id the source's genesis hashes to.
    pub found: NetworkId,
    /// The source's network name (its own claim, shown to help the reader, never trusted).
    pub name: String,
}

/// Why a source could not be judged record by record.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The source could not be read (exit 2), or its bytes were damaged before the genesis was
    /// known (exit 1; see [`SourceError::is_invalid_data`]).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The source belongs to another network (exit 1).
    #[error(transparent)]
    OtherNetwork(#[from] NetworkMismatch),
}

impl CheckError {
    /// Whether the source was read and found invalid (exit 1) rather than unreadable (exit 2).
    pub fn is_invalid_data(&self) -> bool {
        match self {
            CheckError::Source(error) => error.is_invalid_data(),
            CheckError::OtherNetwork(_) => true,
        }
    }
}

/// Whether `error`, or an error it wraps, says the data is invalid rather than unreadable: the
/// binary maps such errors to exit 1 wherever they surface.
pub fn is_invalid_data(error: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(error) = error.downcast_ref::<SourceError>() {
        return error.is_invalid_data();
    }
    if let Some(error) = error.downcast_ref::<CheckError>() {
        return error.is_invalid_data();
    }
    error.downcast_ref::<NetworkMismatch>().is_some()
}

/// Refuses a genesis that does not hash to the pinned network id; without a pin, accepts any.
pub fn check_network(genesis: &Genesis, pinned: Option<NetworkId>) -> Result<(), NetworkMismatch> {
    match pinned {
        Some(pinned) if pinned != genesis.network_id() => Err(NetworkMismatch {
            pinned,
            found: genesis.network_id(),
            name: genesis.name.clone(),
        }),
        _ => Ok(()),
    }
}

/// What a command states about its source: the network, whether it was pinned, and whether
/// the source as a whole verified.
#[derive(Clone, Debug)]
pub struct Standing {
    /// The network id the source's genesis hashes to.
    pub network_id: NetworkId,
    /// The network's name as the genesis gives it.
    pub network_name: String,
    /// Whether the auditor pinned the network id (and it matched: a mismatch is refused).
    pub pinned: bool,
    /// Problems the verification reported (records left out, broken chains).
    pub problems: usize,
    /// Whether the verification report is valid (problems not attributed to a chain count too).
    pub report_valid: bool,
    /// Damage to the source's bytes after the genesis; what came before it was read.
    pub damage: Option<Damage>,
}

impl Standing {
    /// Whether the source verified completely: no damage and a valid report.
    pub fn is_valid(&self) -> bool {
        self.damage.is_none() && self.report_valid
    }

    /// The first line of every reading command's text output.
    pub fn first_line(&self) -> String {
        network_line(self.network_id, &self.network_name, self.pinned)
    }

    /// Why the source is invalid, one line, when it is.
    pub fn invalid_line(&self) -> Option<String> {
        if let Some(damage) = &self.damage {
            return Some(format!(
                "INVALID   damaged bytes: {damage}; only the records before the damage were read (run `aidledger verify` for the report)"
            ));
        }
        (!self.report_valid).then(|| {
            format!(
                "INVALID   the source has {} verification problem(s); only verified records are used (run `aidledger verify` for the report)",
                self.problems.max(1)
            )
        })
    }

    /// The same facts as JSON fields, merged into each command's JSON object.
    pub fn json_fields(&self) -> Map<String, Value> {
        let value = json!({
            "network_id": self.network_id,
            "network_name": self.network_name,
            "pinned": self.pinned,
            "source_valid": self.is_valid(),
            "problems": self.problems,
            "framing_error": self.damage,
        });
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// Adds the fields of [`Standing::json_fields`] to `value` (a JSON object).
    pub fn add_to_json(&self, value: &mut Value) {
        if let Value::Object(object) = value {
            object.extend(self.json_fields());
        }
    }

    /// Folds in the standing of another source of the same network (flow and reconcile read
    /// several): the first damage is kept, problems add up.
    pub fn merge(&mut self, other: Standing) {
        self.problems += other.problems;
        self.report_valid &= other.report_valid;
        if self.damage.is_none() {
            self.damage = other.damage;
        }
    }
}

/// `network   ID (NAME), pinned…` or `…, NOT pinned…`.
pub fn network_line(network_id: NetworkId, name: &str, pinned: bool) -> String {
    if pinned {
        format!(
            "network   {network_id} ({name}), pinned: the genesis matches the network id you gave"
        )
    } else {
        format!("network   {network_id} ({name}), NOT pinned: the source's own genesis was trusted (give --network-id or AIDLEDGER_NETWORK_ID to pin it)")
    }
}

/// A source read to its end, or to the damage in its bytes.
pub struct Checked {
    /// The source's genesis (matching the pinned network id, if one was given).
    pub genesis: Genesis,
    /// The verification report of every record read.
    pub report: Report,
    /// What the command states about the source.
    pub standing: Standing,
    /// The checkpoint notes and split-view proofs the source carried (a version 2 bundle or
    /// export, FORMAT.md §13), not yet judged: `verify` judges them (`crate::cosigned`).
    pub carried: Carried,
}

/// Checkpoint notes and split-view proofs a source carried beside its records.
#[derive(Clone, Debug, Default)]
pub struct Carried {
    /// Checkpoint notes, whole, in the source's order.
    pub checkpoints: Vec<String>,
    /// Split-view proofs, in the source's order.
    pub split_views: Vec<SplitViewProof>,
}

impl Checked {
    /// The governance state the report derived (the genesis alone when there is none).
    pub fn derivation(&self) -> Derivation {
        self.report
            .governance
            .clone()
            .unwrap_or_else(|| governance::derive(&self.genesis, &[]))
    }

    /// A verifier that judges records under the source's governance.
    pub fn governed_verifier(&self) -> Verifier {
        Verifier::with_authority(self.genesis.clone(), self.derivation().authority)
    }
}

/// Verifies one record under the governance; a record the governance declared invalid (a
/// revoked key, a removed author) is read by the record rules alone and comes with the reason.
pub fn verify_governed(
    verifier: &Verifier,
    bytes: Vec<u8>,
) -> Result<(RuleCheckedRecord, Option<Rejection>), Box<RejectedRecord>> {
    match verifier.verify(bytes.clone()) {
        Ok(record) => Ok((record.into_rule_checked(), None)),
        Err(rejected) if rejected.reason.is_revocation() => {
            let record = verifier.verify_record_rules(bytes)?;
            Ok((record, Some(rejected.reason)))
        }
        Err(rejected) => Err(rejected),
    }
}

/// Reads every record and proof of `source` through the verification pipeline, after checking
/// its genesis against `pinned`. `observe` sees every record that passed every rule (as in
/// [`verify_items`]). Damage after the genesis ends the reading and is kept in the standing,
/// so the report covers what came before it.
pub fn read_checked(
    source: &Source,
    pinned: Option<NetworkId>,
    mode: SignatureMode,
    observe: impl FnMut(&VerifiedRecord),
) -> Result<Checked, CheckError> {
    let (genesis, items) = source.open()?;
    check_network(&genesis, pinned)?;
    let mut damage: Option<Damage> = None;
    let mut carried = Carried::default();
    // The pipeline stops at the first error; damage is not an error of the run but part of the
    // verdict, so it ends the stream here and the pipeline reports what was read before it.
    // Checkpoints and split views are kept aside: they are judged against the chains read.
    let items = items
        .map_while(|item| match item {
            Err(SourceError::Damaged { damage: found, .. }) => {
                damage = Some(found);
                None
            }
            other => Some(other),
        })
        .filter(|item| match item {
            Ok(BundleItem::Checkpoint(note)) => {
                carried.checkpoints.push(note.clone());
                false
            }
            Ok(BundleItem::SplitView(proof)) => {
                carried.split_views.push(proof.clone());
                false
            }
            _ => true,
        });
    let verifier = Verifier::new(genesis.clone());
    let report = verify_items(&verifier, items, mode, observe)?;
    let standing = Standing {
        network_id: genesis.network_id(),
        network_name: genesis.name.clone(),
        pinned: pinned.is_some(),
        problems: report.problems().count(),
        report_valid: report.is_valid(),
        damage,
    };
    Ok(Checked {
        genesis,
        report,
        standing,
        carried,
    })
}

/// The text a command prints for a source refused as invalid data: a first line about the
/// network, then why. `None` when the error means the source could not be read (exit 2).
pub fn refusal_text(error: &CheckError) -> Option<String> {
    if !error.is_invalid_data() {
        return None;
    }
    let first = match error {
        CheckError::OtherNetwork(mismatch) => format!(
            "network   {} ({}), pinned to {}: MISMATCH",
            mismatch.found, mismatch.name, mismatch.pinned
        ),
        CheckError::Source(_) => "network   unknown: the source's genesis could not be read".into(),
    };
    Some(format!("{first}\nINVALID   {error}\n"))
}

/// [`refusal_text`] as JSON.
pub fn refusal_json(error: &CheckError, pinned: Option<NetworkId>) -> Option<Value> {
    if !error.is_invalid_data() {
        return None;
    }
    let (network_id, network_name) = match error {
        CheckError::OtherNetwork(mismatch) => (Some(mismatch.found), Some(mismatch.name.clone())),
        CheckError::Source(_) => (None, None),
    };
    let damage = match error {
        CheckError::Source(source) => source.damage().cloned(),
        CheckError::OtherNetwork(_) => None,
    };
    Some(json!({
        "valid": false,
        "source_valid": false,
        "network_id": network_id,
        "network_name": network_name,
        "pinned": pinned.is_some(),
        "pinned_network_id": pinned,
        "network_id_matches": !matches!(error, CheckError::OtherNetwork(_)),
        "framing_error": damage,
        "problem": error.to_string(),
    }))
}
