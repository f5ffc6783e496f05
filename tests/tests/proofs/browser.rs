//! A record checked in the reader's browser (issue 21): headless Chromium opens a disbursement's
//! page; its script, `/verify.js`, fetches the record's bytes, inclusion proof, checkpoint and
//! genesis and checks them with WebCrypto, and the page says "Verified in your browser", naming
//! the network id: the server's own claim without a trust root, the reader's `#network=` (then
//! remembered for the next visit), and NOT VERIFIED for a network id the genesis is not of.
//! Behind a tampering server (one flipped byte of the record's body or signature, one changed
//! hash of the inclusion proof, one changed character of the checkpoint) the page says NOT
//! VERIFIED and what failed; without a checkpoint, "Not fully checked". With JavaScript off the page has no such line and is otherwise the
//! text the reader sees with it on. The script's inclusion check gives the golden vectors'
//! roots (spec/vectors/merkle.json). Screenshots in `target/test-artifacts/verify/`.

use std::sync::Arc;

use aidledger_tests::browser::{Browser, BROWSER_TIMEOUT};
use aidledger_tests::tamper::tampering_server;
use aidledger_tests::{wait_for, Network};
use serde_json::Value;

fn is_raw_record(path: &str) -> bool {
    path.starts_with("/api/records/") && path.ends_with("/raw")
}

/// A byte of the body (just before the signature) flipped.
/// A change to a response body (see `tampering_server`), named for the cases below.
type TamperFn = fn(&str, &mut Vec<u8>);

#[allow(clippy::ptr_arg)] // a `Tamper`: others replace the whole body
fn flip_body_byte(path: &str, body: &mut Vec<u8>) {
    if is_raw_record(path) {
        let at = body.len() - 65;
        body[at] ^= 0x01;
    }
}

/// A byte of the signature flipped.
#[allow(clippy::ptr_arg)] // a `Tamper`: others replace the whole body
fn flip_signature_byte(path: &str, body: &mut Vec<u8>) {
    if is_raw_record(path) {
        let at = body.len() - 10;
        body[at] ^= 0x01;
    }
}

/// The inclusion proof's first hash changed.
fn change_proof_hash(path: &str, body: &mut Vec<u8>) {
    if path.starts_with("/api/proof/") {
        let mut proof: Value = serde_json::from_slice(body).unwrap();
        let first = proof["inclusion"][0].as_str().unwrap().to_string();
        let changed = if first.starts_with('0') { "1" } else { "0" };
        proof["inclusion"][0] = Value::String(format!("{changed}{}", &first[1..]));
        *body = serde_json::to_vec(&proof).unwrap();
    }
}

/// The checkpoint's root line changed (one base64 character).
fn change_checkpoint_root(path: &str, body: &mut Vec<u8>) {
    if path.starts_with("/api/proof/") {
        let mut proof: Value = serde_json::from_slice(body).unwrap();
        let note = proof["checkpoint"].as_str().unwrap().to_string();
        let mut lines: Vec<String> = note.split('\n').map(str::to_string).collect();
        let changed = if lines[2].starts_with('A') { "B" } else { "A" };
        lines[2] = format!("{changed}{}", &lines[2][1..]);
        proof["checkpoint"] = Value::String(lines.join("\n"));
        *body = serde_json::to_vec(&proof).unwrap();
    }
}

/// The proof served without a checkpoint, as a node serves another organisation's records.
fn drop_checkpoint(path: &str, body: &mut Vec<u8>) {
    if path.starts_with("/api/proof/") {
        let mut proof: Value = serde_json::from_slice(body).unwrap();
        proof["checkpoint"] = Value::Null;
        *body = serde_json::to_vec(&proof).unwrap();
    }
}

/// Waits for the script's verdict and returns the line's text and its kind.
#[track_caller]
fn verdict(browser: &Browser) -> (String, String) {
    let found = wait_for(BROWSER_TIMEOUT, "the check in the browser", || {
        let value = browser.eval(
            "(function () { var line = document.getElementById('verify-browser'); \
             return line && line.getAttribute('data-verdict') \
               ? [line.getAttribute('data-verdict'), line.textContent] : null; })()",
        );
        value.as_array().cloned()
    });
    let kind = found[0].as_str().unwrap().to_string();
    let text = found[1].as_str().unwrap().to_string();
    assert!(
        browser.csp_violations().is_empty(),
        "{:?}",
        browser.csp_violations()
    );
    (text, kind)
}

/// Opens `url` afresh (a fragment alone would not load the page again).
#[track_caller]
fn open(browser: &Browser, url: &str) {
    browser.goto("about:blank");
    browser.goto(url);
}

#[test]
fn the_record_page_checks_its_record_in_the_browser() {
    let network = Network::start("verify-browser");
    network.record_transaction("100.00");
    let id = network.record_transaction("250000.00");
    network.record_transaction("5.00");
    let base = network.node.public_url();
    let network_id = &network.network_id;
    // The page checks against the node's checkpoint, signed once the record is durable.
    let client = reqwest::blocking::Client::new();
    wait_for(BROWSER_TIMEOUT, "the record in a checkpoint", || {
        let response = client.get(format!("{base}/api/proof/{id}")).send().ok()?;
        let proof: Value = response.json().ok()?;
        (proof["size"].as_u64()? >= 3).then_some(())
    });
    let page = format!("{base}/record/{id}");
    let browser = Browser::launch("verify");

    // Without a trust root: verified, against what the server itself claims, and said so.
    open(&browser, &page);
    assert_eq!(browser.script_count(), 1);
    let (text, kind) = verdict(&browser);
    assert_eq!(kind, "verified", "{text}");
    assert!(
        text.starts_with(&format!(
            "Verified in your browser against network {network_id}, which is only what this server itself claims"
        )),
        "{text}"
    );
    assert!(text.contains("#network=ID"), "{text}");
    assert!(
        text.ends_with("Witnesses' cosignatures were not checked: aidledger verify --proof with --witness-key checks them."),
        "{text}"
    );
    assert!(
        text.contains("position 1 of the 3 records of the checkpoint"),
        "{text}"
    );
    browser.set_viewport(360, 800);
    let width = browser
        .eval("document.documentElement.scrollWidth")
        .as_u64()
        .unwrap();
    assert!(width <= 360, "the page is {width} px wide at 360");
    browser.screenshot("verified-server-claim-360");
    browser.set_viewport(1280, 900);
    browser.screenshot("verified-server-claim");

    // The script's inclusion check reaches the golden vectors' roots, and refuses a changed hash.
    let vectors: Value =
        serde_json::from_str(include_str!("../../../spec/vectors/merkle.json")).unwrap();
    let checked = browser.run_script(&format!(
        "(function (v) {{ var a = window.aidledgerVerify; \
           return Promise.all(v.inclusion.map(function (c) {{ \
             var leaf = a.fromHex(v.leaves[c.leaf_index].leaf_hash); \
             var path = c.path.map(a.fromHex); \
             var good = a.inclusionRoot(leaf, c.leaf_index, c.tree_size, path).then(a.hex); \
             var bad = path.length === 0 ? Promise.resolve('none') : \
               a.inclusionRoot(leaf, c.leaf_index, c.tree_size, \
                 path.map(function (h, i) {{ var x = h.slice(); if (i === 0) {{ x[0] ^= 1; }} return x; }})) \
               .then(a.hex, function () {{ return 'refused'; }}); \
             var short = path.length === 0 ? Promise.resolve('none') : \
               a.inclusionRoot(leaf, c.leaf_index, c.tree_size, path.slice(1)).then(a.hex, function () {{ return 'refused'; }}); \
             return Promise.all([good, bad, short]); }})); }})({})",
        vectors
    ));
    let cases = vectors["inclusion"].as_array().unwrap();
    assert!(!cases.is_empty());
    for (case, found) in cases.iter().zip(checked.as_array().unwrap()) {
        assert_eq!(found[0], case["root"], "{case}");
        assert_ne!(found[1], case["root"], "changed hash accepted: {case}");
        assert_ne!(found[2], case["root"], "short path accepted: {case}");
        if !case["path"].as_array().unwrap().is_empty() {
            assert_eq!(found[2], "refused", "{case}");
        }
    }

    // The reader's network id, from the address; then remembered by the browser.
    open(&browser, &format!("{page}#network={network_id}"));
    let (text, kind) = verdict(&browser);
    assert_eq!(kind, "verified", "{text}");
    assert!(
        text.starts_with(&format!(
            "Verified in your browser against network {network_id}, the network id from the address you opened"
        )),
        "{text}"
    );
    browser.screenshot("verified-reader-network");
    open(&browser, &page);
    let (text, kind) = verdict(&browser);
    assert_eq!(kind, "verified", "{text}");
    assert!(
        text.contains("the network id from an earlier visit"),
        "{text}"
    );

    // Another network id than the genesis': not verified.
    let other = "ab".repeat(32);
    open(&browser, &format!("{page}#network={other}"));
    let (text, kind) = verdict(&browser);
    assert_eq!(kind, "failed", "{text}");
    assert!(
        text.starts_with("NOT VERIFIED in your browser:")
            && text.contains(&format!("not of the network {other} you trust")),
        "{text}"
    );

    // The text a reader sees with JavaScript, less the line the script added...
    open(&browser, &page);
    verdict(&browser);
    browser.eval("document.getElementById('verify-browser').remove(); true");
    let with_script = browser.visible_text();
    // ...is the page without JavaScript, which has no such line.
    browser.set_javascript(false);
    open(&browser, &page);
    assert_eq!(
        browser.eval("document.getElementById('verify-browser') === null"),
        Value::Bool(true)
    );
    let without_script = browser.visible_text();
    assert!(
        !without_script.contains("in your browser"),
        "{without_script}"
    );
    assert!(
        without_script.contains("Check it yourself"),
        "{without_script}"
    );
    assert_eq!(without_script, with_script);
    browser.screenshot("no-javascript");
    browser.set_javascript(true);

    // A server that tampers: flagged, and what failed is named.
    let cases: [(&str, TamperFn, &str); 4] = [
        (
            "body-byte",
            flip_body_byte,
            "the record's body does not hash to the body hash its header signs",
        ),
        (
            "signature-byte",
            flip_signature_byte,
            "the record's signature does not verify",
        ),
        (
            "proof-hash",
            change_proof_hash,
            "the inclusion proof does not lead to the root of the checkpoint",
        ),
        (
            "checkpoint-root",
            change_checkpoint_root,
            "the checkpoint's signature does not verify",
        ),
    ];
    for (name, tamper, failure) in cases {
        let liar = tampering_server(base.clone(), Arc::new(tamper));
        open(&browser, &format!("{liar}/record/{id}"));
        let (text, kind) = verdict(&browser);
        assert_eq!(kind, "failed", "{name}: {text}");
        assert!(
            text.starts_with("NOT VERIFIED in your browser:") && text.contains(failure),
            "{name}: {text}"
        );
        assert!(!text.contains("Verified in your browser"), "{name}: {text}");
        browser.screenshot(&format!("tampered-{name}"));
    }

    // No checkpoint (another organisation's record, whose checkpoint only its own node
    // publishes): not verified, not flagged either; the page says what it could not check.
    let liar = tampering_server(base.clone(), Arc::new(drop_checkpoint));
    open(&browser, &format!("{liar}/record/{id}"));
    let (text, kind) = verdict(&browser);
    assert_eq!(kind, "unchecked", "{text}");
    assert_eq!(
        text,
        "Not fully checked in your browser: the record's id and signature verify, but its place \
         in GB-GOV-1's chain was not checked (this server serves no checkpoint of GB-GOV-1's chain that covers it: a node publishes its own organisation's and those witnesses cosigned)."
    );
}
