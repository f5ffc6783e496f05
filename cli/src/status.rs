//! `aidledger status --node URL`: a node's view of the network — its peers, the head of every
//! chain it holds, how far it is behind its peers, and the chains it has proof of a fork for.
//! Exit 0 when no fork is known, 1 when a chain is forked, 2 when the node cannot be asked.

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
    Ok(if forked {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
    out.push_str(&format!(
        "records {} (waiting for a predecessor: {}), behind peers by {}\n",
        status["records"], status["pending"], status["behind"]
    ));
    let peers = status["peers"].as_array().cloned().unwrap_or_default();
    out.push_str(&format!("peers: {}\n", peers.len()));
    for peer in &peers {
        out.push_str(&format!(
            "  {} {} score {} rejected {}\n",
            text(&peer["org"]),
            text(&peer["peer_id"]),
            peer["score"],
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
    out
}
