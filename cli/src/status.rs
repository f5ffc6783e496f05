//! `aidledger status --node URL`: a node's view of the network — its peers, the head of every
//! chain it holds, how far it is behind its peers, the chains it has proof of a fork for, and
//! whether it takes records. Exit 0 when all is well, 1 when a chain is forked or the node has
//! stopped taking records (it must be restarted), 2 when the node cannot be asked.

use std::process::ExitCode;

use aidledger_cli::source::http_client;
use anyhow::{bail, Context, Result};
use serde_json::Value;

/// Fetches `GET URL/api/status`.
pub fn fetch(node: &str) -> Result<Value> {
    let url = format!("{}/api/status", node.trim_end_matches('/'));
    let response = http_client()
        .get(&url)
        .send()
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    response
        .json()
        .with_context(|| format!("{url} did not answer JSON"))
}

/// Runs the command.
pub fn run(node: &str, json: bool) -> Result<ExitCode> {
    let status = fetch(node)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", render(&status));
    }
    let forked = status["forks"]
        .as_array()
        .is_some_and(|forks| !forks.is_empty());
    Ok(
        if forked || split_view(&status) || refuses_records(&status) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// Whether the node holds a split-view proof that a revocation does not explain (a node before
/// issue 21 says nothing).
fn split_view(status: &Value) -> bool {
    status["split_views"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|view| view["explained"] != Value::Bool(true))
}

/// Whether the node says its writer has stopped (a node before this field says nothing).
fn refuses_records(status: &Value) -> bool {
    status["accepting_records"] == Value::Bool(false)
}

/// The status as text.
pub fn render(status: &Value) -> String {
    let text = |value: &Value| value.as_str().unwrap_or("?").to_string();
    let mut out = format!(
        "node of {} (peer {})\nnetwork {}\n",
        text(&status["org"]),
        text(&status["peer_id"]),
        text(&status["network_id"])
    );
    for addr in status["listen"].as_array().into_iter().flatten() {
        out.push_str(&format!("listening on {}\n", text(addr)));
    }
    match status["signing_key"].as_str() {
        Some(key) => out.push_str(&format!("signing key {key}\n")),
        None if status.get("signing_key").is_some() => {
            out.push_str("signing key: none may sign the next record\n")
        }
        None => {}
    }
    out.push_str(&format!(
        "records {} (waiting for a predecessor: {}), behind peers by {}\n",
        status["records"], status["pending"], status["behind"]
    ));
    if refuses_records(status) {
        out.push_str(
            "STOPPED: the node takes no records until it is restarted (its submit API's \
             /v1/status says why)\n",
        );
    }
    out.push_str(&render_limits(&status["limits"]));
    let peers = status["peers"].as_array().cloned().unwrap_or_default();
    out.push_str(&format!("peers: {}\n", peers.len()));
    for peer in &peers {
        out.push_str(&format!(
            "  {} {} {} rejected {}\n",
            text(&peer["org"]),
            text(&peer["peer_id"]),
            score_text(&peer["score"]),
            peer["rejected"]
        ));
    }
    out.push_str("heads:\n");
    for head in status["heads"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {} seq {} id {}\n",
            text(&head["org"]),
            head["seq"],
            text(&head["id"])
        ));
    }
    match status["forks"].as_array() {
        Some(forks) if !forks.is_empty() => {
            for fork in forks {
                out.push_str(&format!(
                    "FORKED: {} seq {}: two signed records at this seq (equivocation proof stored)\n",
                    text(&fork["org"]),
                    fork["seq"]
                ));
            }
        }
        _ => out.push_str("forks: none\n"),
    }
    out.push_str(&render_witnessed(status));
    out
}

/// Per organisation the cosigned checkpoint the node collected (witnessed at size N by k of n),
/// and every split-view proof, unexplained ones as prominently as forks.
fn render_witnessed(status: &Value) -> String {
    let text = |value: &Value| value.as_str().unwrap_or("?").to_string();
    let mut out = String::new();
    for chain in status["witnessed"].as_array().into_iter().flatten() {
        let of = chain["witnesses"].as_u64().unwrap_or(0);
        let line = if of == 0 {
            format!(
                "  {} checkpoint of size {} (no witness policy)\n",
                text(&chain["org"]),
                chain["size"]
            )
        } else {
            format!(
                "  {} witnessed at size {} by {} of {} witnesses (policy: {} of {})\n",
                text(&chain["org"]),
                chain["size"],
                chain["cosigned"],
                of,
                chain["threshold"],
                of
            )
        };
        if out.is_empty() {
            out.push_str("witnessed:\n");
        }
        out.push_str(&line);
    }
    match status["split_views"].as_array() {
        Some(views) if !views.is_empty() => {
            for view in views {
                let sizes = format!("sizes {} and {}", view["first_size"], view["second_size"]);
                if view["explained"] == Value::Bool(true) {
                    out.push_str(&format!(
                        "split view of {} ({sizes}) explained by a revocation of its records\n",
                        text(&view["org"])
                    ));
                } else {
                    out.push_str(&format!(
                        "SPLIT VIEW: {} signed two checkpoints that cannot both be true ({sizes}; \
                         split-view proof stored, /api/split-views)\n",
                        text(&view["org"])
                    ));
                }
            }
        }
        Some(_) => out.push_str("split views: none\n"),
        None => {}
    }
    out
}

/// The node's resource limits (`"limits"` of its status), or nothing for a node before them.
fn render_limits(limits: &Value) -> String {
    if !limits.is_object() {
        return String::new();
    }
    let open_files = &limits["open_files"];
    let warning = if open_files["sufficient"] == Value::Bool(false) {
        " (LOW: raise LimitNOFILE / ulimit -n)"
    } else {
        ""
    };
    format!(
        "open files: limit {} (hard {}, at start {}; needs {}){warning}\n\
         limits: connections public {} submit {}, exports {}, peers {} (pending {} in / {} out)\n",
        open_files["soft"],
        open_files["hard"],
        open_files["soft_at_start"],
        open_files["needed"],
        limits["public_connections_max"],
        limits["submit_connections_max"],
        limits["exports_max"],
        limits["p2p_established_max"],
        limits["p2p_pending_incoming_max"],
        limits["p2p_pending_outgoing_max"],
    )
}

/// gossipsub's graylist threshold (the node uses the default thresholds): below it, the node
/// ignores the peer's gossip until its penalty decays.
const GRAYLIST_THRESHOLD: f64 = -80.0;

/// A peer's gossip score in words: the node scores only invalid messages, so any negative
/// score means the peer sent some.
fn score_text(score: &Value) -> String {
    match score.as_f64() {
        None => "score unknown".to_owned(),
        Some(score) if score >= 0.0 => format!("score {score:.0} (ok)"),
        Some(score) if score >= GRAYLIST_THRESHOLD => {
            format!("score {score:.0} (penalised for invalid messages)")
        }
        Some(score) => format!("score {score:.0} (gossip ignored: too many invalid messages)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(accepting: Option<bool>) -> Value {
        let mut status = json!({"org": "GB-GOV-1", "records": 3, "heads": [], "forks": []});
        if let Some(accepting) = accepting {
            status["accepting_records"] = Value::Bool(accepting);
        }
        status
    }

    #[test]
    fn limits_are_shown_and_a_low_open_files_limit_is_flagged() {
        let mut status = status(Some(true));
        assert!(
            !render(&status).contains("open files"),
            "no limits, no line"
        );
        status["limits"] = json!({
            "open_files": {"soft": 1024, "hard": 1024, "soft_at_start": 1024, "needed": 768, "sufficient": true},
            "public_connections_max": 256, "submit_connections_max": 64, "exports_max": 16,
            "p2p_established_max": 128, "p2p_pending_incoming_max": 32, "p2p_pending_outgoing_max": 32,
        });
        let text = render(&status);
        assert!(
            text.contains("open files: limit 1024 (hard 1024, at start 1024; needs 768)\n"),
            "{text}"
        );
        assert!(
            text.contains("connections public 256 submit 64, exports 16"),
            "{text}"
        );
        assert!(!text.contains("LOW"), "{text}");
        status["limits"]["open_files"]["sufficient"] = json!(false);
        assert!(render(&status).contains("LOW"));
    }

    #[test]
    fn a_score_says_what_it_means() {
        assert_eq!(score_text(&json!(0.0)), "score 0 (ok)");
        assert!(score_text(&json!(-10.0)).contains("penalised"));
        assert!(score_text(&json!(-100.0)).contains("ignored"));
        assert_eq!(score_text(&Value::Null), "score unknown");
    }

    #[test]
    fn witnessed_sizes_and_split_views_are_said() {
        let mut status = status(Some(true));
        assert!(!split_view(&status), "a node before issue 21");
        status["witnessed"] = json!([
            {"org": "GB-GOV-1", "size": 7, "cosigned": 2, "witnesses": 3, "threshold": 2},
            {"org": "XM-DAC-41122", "size": 4, "cosigned": 0, "witnesses": 0, "threshold": 0},
        ]);
        status["split_views"] = json!([]);
        let text = render(&status);
        assert!(
            text.contains("  GB-GOV-1 witnessed at size 7 by 2 of 3 witnesses (policy: 2 of 3)\n"),
            "{text}"
        );
        assert!(text.contains("  XM-DAC-41122 checkpoint of size 4 (no witness policy)\n"));
        assert!(text.contains("split views: none\n") && !split_view(&status));
        status["split_views"] = json!([
            {"org": "XI-IATI-AUD", "first_size": 3, "second_size": 6, "explained": true, "checks": true},
        ]);
        assert!(!split_view(&status), "explained by a revocation");
        assert!(render(&status).contains("split view of XI-IATI-AUD (sizes 3 and 6) explained"));
        status["split_views"][0]["explained"] = json!(false);
        assert!(split_view(&status));
        assert!(render(&status).contains(
            "SPLIT VIEW: XI-IATI-AUD signed two checkpoints that cannot both be true (sizes 3 and 6;"
        ));
    }

    #[test]
    fn a_stopped_writer_is_a_stopped_line() {
        assert!(refuses_records(&status(Some(false))));
        assert!(render(&status(Some(false))).contains("STOPPED: the node takes no records"));
        for fine in [Some(true), None] {
            assert!(!refuses_records(&status(fine)), "{fine:?}");
            assert!(!render(&status(fine)).contains("STOPPED"), "{fine:?}");
        }
    }
}
