//! One file: its activities routed to their publishers, each transaction recorded, found
//! unchanged, corrected or skipped with its reason, and (with `republished`) the transactions
//! its activities no longer list withdrawn.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use aidledger_iati::{
    content_digest, date_part, import_key, to_transaction, Activity, ActivityReader, ReadError,
    WarningReason,
};
use aidledger_spec::record::{Correction, Replacement, Transaction};
use aidledger_spec::{Body, Digest};
use rust_decimal::Decimal;

use super::activity::record_activity;
use super::publisher::WITHDRAWN;
use super::skips::{reason_slug, WarningPrinter, DUPLICATE_KEY};
use super::{
    open_error, FileReport, ImportError, ImportWarning, OrgCounts, Pending, Route, Routes,
    READ_BUFFER_BYTES,
};

/// Per file: what it lists, to tell which recorded transactions it no longer does.
#[derive(Default)]
struct Listed {
    /// Import keys of mapped transactions → their line.
    mapped: HashMap<Digest, u64>,
    /// Import keys of transactions that could not be mapped (still listed by the publisher).
    unmapped: HashSet<Digest>,
    /// Per publisher, the activities read whole, in file order.
    activities: Vec<Vec<String>>,
    /// Activities seen (to list each once) and those too large to have been read whole.
    seen: HashSet<String>,
    too_large: HashSet<String>,
    /// Per publisher, what was recorded (named by organisation in the report at the end).
    counts: Vec<OrgCounts>,
}

impl Listed {
    fn holds(&self, key: &Digest) -> bool {
        self.mapped.contains_key(key) || self.unmapped.contains(key)
    }
}

/// Imports one file; a file that cannot be read whole is reported, not an error.
pub(super) fn import_file(
    path: &Path,
    routes: &mut Routes,
    republished: bool,
    printer: &mut WarningPrinter,
) -> Result<FileReport, ImportError> {
    let label = path.display().to_string();
    let file = File::open(path).map_err(|source| open_error(path, source))?;
    let mut reader = ActivityReader::new(BufReader::with_capacity(READ_BUFFER_BYTES, file));
    let mut report = FileReport {
        file: label.clone(),
        ..FileReport::default()
    };
    let mut listed = Listed {
        activities: vec![Vec::new(); routes.publishers.len()],
        counts: vec![OrgCounts::default(); routes.publishers.len()],
        ..Listed::default()
    };
    let mut doctype_warned = false;
    while let Some(next) = reader.next() {
        let activity = match next {
            Ok(activity) => activity,
            Err(error) => {
                report.broken = Some(format!(
                    "{label}:{}: {error}",
                    error_line(&error, reader.line())
                ));
                break;
            }
        };
        if !doctype_warned {
            if let Some(line) = reader.entity_notice().doctype_line {
                eprintln!("warning: {label}:{line}: the file has a DOCTYPE; its entities are not expanded (external ones are never read) and references to them are kept as written");
                doctype_warned = true;
            }
        }
        report.activities += 1;
        report.transactions += activity.transactions.len() as u64;
        import_activity(&label, &activity, routes, &mut listed, &mut report, printer)?;
    }
    report.bytes = reader.bytes_read();
    report.entities = reader.entity_notice().clone();
    if report.broken.is_none() {
        let reason = format!(
            "no longer in the publisher's file {} of {}",
            path.file_name()
                .map_or(label.clone(), |name| name.to_string_lossy().into_owned()),
            file_date(path, reader.generated_datetime())
        );
        withdraw_not_listed(routes, &mut listed, republished, &reason)?;
    }
    for (publisher, counts) in routes.publishers.iter().zip(listed.counts) {
        report.by_org.insert(publisher.org.clone(), counts);
    }
    for publisher in &mut routes.publishers {
        publisher.finish()?;
    }
    Ok(report)
}

fn import_activity(
    label: &str,
    activity: &Activity,
    routes: &mut Routes,
    listed: &mut Listed,
    report: &mut FileReport,
    printer: &mut WarningPrinter,
) -> Result<(), ImportError> {
    let mut too_large = false;
    for warning in &activity.warnings {
        too_large |= matches!(warning.reason, WarningReason::ActivityTooLarge { .. });
        skip(
            report,
            printer,
            reason_slug(&warning.reason),
            file_warning(label, warning),
        );
    }
    let route = match activity.reporting_org_ref.as_deref() {
        // Without a ref every transaction is skipped by the mapping, with its reason.
        None => None,
        Some(reporting) => match routes.by_ref.get(reporting) {
            Some(route) => {
                if route.on_behalf {
                    let about = report.on_behalf.entry(reporting.to_owned()).or_default();
                    about.0 += 1;
                    about.1 += activity.transactions.len() as u64;
                }
                Some(*route)
            }
            None => {
                let other = report
                    .other_publishers
                    .entry(reporting.to_owned())
                    .or_default();
                other.0 += 1;
                other.1 += activity.transactions.len() as u64;
                return Ok(());
            }
        },
    };
    if let (Some(route), Some(id)) = (route, activity.identifier.as_deref()) {
        if too_large {
            listed.too_large.insert(id.to_owned());
        } else if listed.seen.insert(id.to_owned()) {
            listed.activities[route.publisher].push(id.to_owned());
        }
        // Before its transactions, so that a reader meets the activity first.
        if !too_large {
            record_activity(
                label,
                activity,
                &mut routes.publishers[route.publisher],
                &mut listed.counts[route.publisher],
                &mut |reason, warning| skip(report, printer, reason, warning),
            )?;
        }
    }
    for transaction in &activity.transactions {
        let mapped = match to_transaction(activity, transaction) {
            Ok(mapped) => mapped,
            Err(warning) => {
                if let (Some(reporting), Some(id)) = (
                    activity.reporting_org_ref.as_deref(),
                    activity.identifier.as_deref(),
                ) {
                    listed
                        .unmapped
                        .insert(import_key(reporting, id, transaction));
                }
                skip(
                    report,
                    printer,
                    reason_slug(&warning.reason),
                    file_warning(label, &warning),
                );
                continue;
            }
        };
        // A mapped transaction has a reporting-org ref, so it has a route.
        let Some(route) = route else { continue };
        record(
            label,
            mapped,
            transaction.line,
            route,
            routes,
            listed,
            report,
            printer,
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn record(
    label: &str,
    transaction: Transaction,
    line: u64,
    route: Route,
    routes: &mut Routes,
    listed: &mut Listed,
    report: &mut FileReport,
    printer: &mut WarningPrinter,
) -> Result<(), ImportError> {
    let key = transaction
        .iati
        .as_ref()
        .map_or(Digest([0; 32]), |iati| iati.import_key);
    if let Some(first_line) = listed.mapped.insert(key, line) {
        let warning = ImportWarning {
            file: label.to_owned(),
            line,
            activity_id: transaction.activity_id.clone(),
            reason: format!("the same transaction (same import key) as at line {first_line}; the activity or transaction appears twice, the second is not imported"),
        };
        skip(report, printer, DUPLICATE_KEY, warning);
        return Ok(());
    }
    add_totals(report, &transaction);
    let publisher = &mut routes.publishers[route.publisher];
    let counts = &mut listed.counts[route.publisher];
    let digest = content_digest(&transaction);
    let (body, corrects) = match publisher.known(&key) {
        Some(known) if known.digest == digest => {
            counts.unchanged += 1;
            return Ok(());
        }
        Some(known) => {
            counts.corrections += 1;
            let reason = format!(
                "IATI re-import: the publisher changed this transaction ({label} line {line})"
            );
            let body = Body::Correction(Correction {
                corrects: known.record,
                reason,
                replacement: Some(Replacement::Transaction(transaction)),
            });
            (body, Some(known.record))
        }
        None => {
            counts.recorded += 1;
            let activity = transaction.activity_id.clone();
            let pending = Pending {
                key,
                digest,
                corrects: None,
            };
            return publisher.send(Body::Transaction(transaction), pending, Some(&activity));
        }
    };
    let pending = Pending {
        key,
        digest,
        corrects,
    };
    publisher.send(body, pending, None)
}

/// For each activity of the file, the transactions recorded before that it no longer lists:
/// withdrawn when `republished`, else counted.
fn withdraw_not_listed(
    routes: &mut Routes,
    listed: &mut Listed,
    republished: bool,
    reason: &str,
) -> Result<(), ImportError> {
    for (index, publisher) in routes.publishers.iter_mut().enumerate() {
        let mut counts = std::mem::take(&mut listed.counts[index]);
        for activity in &listed.activities[index] {
            if listed.too_large.contains(activity) {
                continue;
            }
            for (key, record) in publisher.not_listed(activity, |key| listed.holds(key)) {
                if !republished {
                    counts.not_listed += 1;
                    continue;
                }
                counts.withdrawn += 1;
                let body = Body::Correction(Correction {
                    corrects: record,
                    reason: reason.to_owned(),
                    replacement: None,
                });
                let pending = Pending {
                    key,
                    digest: WITHDRAWN,
                    corrects: Some(record),
                };
                publisher.send(body, pending, None)?;
            }
        }
        listed.counts[index] = counts;
    }
    Ok(())
}

fn skip(
    report: &mut FileReport,
    printer: &mut WarningPrinter,
    reason: &'static str,
    warning: ImportWarning,
) {
    printer.print(&warning);
    report.skipped.add(reason, warning);
}

/// The date a withdrawal names the file by: the root's `generated-datetime`, else the file's
/// modification day (UTC), else "an unknown date".
fn file_date(path: &Path, generated: Option<&str>) -> String {
    if let Some(generated) = generated {
        return date_part(generated).to_owned();
    }
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| modified.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or_else(
            || "an unknown date".to_owned(),
            |since| civil_date(since.as_secs() / 86_400),
        )
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (the money model's calendar).
fn civil_date(days: u64) -> String {
    i64::try_from(days)
        .ok()
        .and_then(aidledger_view::money::date_of_day)
        .map_or_else(|| "an unknown date".to_owned(), |date| date.to_string())
}

/// The line of a read error (most variants carry one).
fn error_line(error: &ReadError, fallback: u64) -> u64 {
    match error {
        ReadError::NoRootElement { line }
        | ReadError::NotXml { line, .. }
        | ReadError::NotIati { line, .. }
        | ReadError::TokenTooLarge { line, .. }
        | ReadError::TooDeep { line, .. }
        | ReadError::Malformed { line, .. }
        | ReadError::Truncated { line, .. }
        | ReadError::Io { line, .. } => *line,
        _ => fallback,
    }
}

fn file_warning(file: &str, warning: &aidledger_iati::Warning) -> ImportWarning {
    ImportWarning {
        file: file.to_owned(),
        line: warning.line,
        activity_id: warning.activity_id.clone(),
        reason: warning.reason.to_string(),
    }
}

fn add_totals(report: &mut FileReport, transaction: &Transaction) {
    let slot = report
        .totals
        .entry((
            transaction.transaction_type,
            transaction.value.currency.clone(),
        ))
        .or_insert((0, Decimal::ZERO));
    slot.0 += 1;
    // The amount is canonical decimal text; one beyond rust_decimal's 28 digits is counted
    // but left out of the printed sum, which then says so (see `summary_text`).
    match Decimal::from_str_exact(&transaction.value.amount)
        .ok()
        .and_then(|amount| slot.1.checked_add(amount))
    {
        Some(sum) => slot.1 = sum,
        None => report.notices.push(ImportWarning {
            file: report.file.clone(),
            line: 0,
            activity_id: transaction.activity_id.clone(),
            reason: format!(
                "amount {} is recorded but too long to add to the summary's sum",
                transaction.value.amount
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(59), "1970-03-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_605), "2026-06-01");
    }
}
