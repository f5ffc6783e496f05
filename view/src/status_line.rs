//! A record's standing in one line for people, under its headline: valid, corrected (now X,
//! was Y), WITHDRAWN, not valid (revoked, and why), and for a transaction its link as the
//! money model says it (acknowledged in full, short by Z). The explorer's record page and
//! `aidledger show` both write it, from facts their callers gathered.
//!
//! Which correction stands: the author's own latest one, later in its chain (the rule of
//! [`crate::corrections`] for transactions, applied here to every kind a correction can
//! replace: statements, treaty texts and actions too). A correction by anyone else is listed
//! by the pages but changes nothing.

use aidledger_spec::record::Correction;
use aidledger_spec::Body;

use crate::format;
use crate::headline::{changes, Changed, Names};
use crate::money::{Amounts, LinkStatus};

/// Where a record stands.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Standing {
    /// Valid, never corrected by its author.
    Valid,
    /// The network's governance declared it not valid (a revoked key, a removed member).
    Revoked {
        /// Why, for people.
        reason: String,
    },
    /// Its author withdrew it: it counts for nothing.
    Withdrawn {
        /// The author's reason.
        reason: String,
    },
    /// Its author corrected it: the current version reads differently.
    Corrected {
        /// What changed (empty when no field people read changed).
        changes: Vec<Changed>,
        /// The author's reason.
        reason: String,
    },
}

/// A record's status line: its standing and, for a transaction, its link in words.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StatusLine {
    /// Where the record stands.
    pub standing: Standing,
    /// The link in words (`acknowledged in full`, `short by GBP 5,000.00`), if any.
    pub link: Option<String>,
}

impl StatusLine {
    /// The facts of a record: its body, the reason it was declared not valid (if it was),
    /// its author's latest correction of it (if any), and its link's status (if computed).
    pub fn of(
        body: &Body,
        revoked: Option<&str>,
        latest_correction: Option<&Correction>,
        link: Option<&LinkStatus>,
        names: &dyn Names,
    ) -> StatusLine {
        let standing = match (revoked, latest_correction) {
            (Some(reason), _) => Standing::Revoked {
                reason: reason.to_owned(),
            },
            (None, Some(correction)) => match &correction.replacement {
                None => Standing::Withdrawn {
                    reason: correction.reason.clone(),
                },
                Some(replacement) => Standing::Corrected {
                    changes: changes(body, &replacement.to_body(), names),
                    reason: correction.reason.clone(),
                },
            },
            (None, None) => Standing::Valid,
        };
        // A withdrawn or revoked record counts for nothing: the link it sat in concerns the
        // other records only.
        let link = match standing {
            Standing::Valid | Standing::Corrected { .. } => link.map(link_words),
            Standing::Withdrawn { .. } | Standing::Revoked { .. } => None,
        };
        StatusLine { standing, link }
    }

    /// The line as text: `valid · acknowledged in full`, `corrected: amount now GBP
    /// 120,000.00, was GBP 125,000.00`, `WITHDRAWN by its author (“entered twice”)`,
    /// `NOT VALID: revoked (key revoked from seq 3)`.
    pub fn text(&self) -> String {
        let mut line = match &self.standing {
            Standing::Valid => "valid".to_owned(),
            Standing::Revoked { reason } => format!("NOT VALID: revoked ({reason})"),
            Standing::Withdrawn { reason } => format!("WITHDRAWN by its author (“{reason}”)"),
            Standing::Corrected { changes, reason } if changes.is_empty() => {
                format!("corrected by its author (“{reason}”)")
            }
            Standing::Corrected { changes, .. } => format!(
                "corrected: {}",
                changes
                    .iter()
                    .map(Changed::text)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        if let Some(link) = &self.link {
            line.push_str(" · ");
            line.push_str(link);
        }
        line
    }
}

/// Sums per currency as people read them: `GBP 5,000.00 and EUR 10.00`.
fn amounts(amounts: &Amounts) -> String {
    if amounts.is_empty() {
        return "nothing".to_owned();
    }
    amounts
        .0
        .iter()
        .map(|held| format::money(&held.amount.to_string(), &held.currency))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A link's status in words.
pub fn link_words(status: &LinkStatus) -> String {
    match status {
        LinkStatus::Full => "acknowledged in full".to_owned(),
        LinkStatus::Short { shortfall, excess } if excess.is_empty() => {
            format!("short by {}", amounts(shortfall))
        }
        LinkStatus::Short { shortfall, excess } => format!(
            "short by {}, over by {}",
            amounts(shortfall),
            amounts(excess)
        ),
        LinkStatus::Over { excess } => format!("receipts exceed it by {}", amounts(excess)),
        LinkStatus::CurrencyDiffers { provider, receiver } => format!(
            "acknowledged in another currency (provided {}, received {})",
            amounts(provider),
            amounts(receiver)
        ),
        LinkStatus::Unacknowledged { pending: true } => {
            "not yet acknowledged (still within the window)".to_owned()
        }
        LinkStatus::Unacknowledged { pending: false } => "never acknowledged".to_owned(),
        LinkStatus::Withdrawn { receiver } => format!(
            "the provider withdrew its records; receipts of {} stand",
            amounts(receiver)
        ),
        LinkStatus::Unreported { receiver } => format!(
            "received {}; the provider's record is not held",
            amounts(receiver)
        ),
    }
}
