//! "Is this genuine?" in a real browser with JavaScript on (issue 20): headless Chromium pastes
//! a signed statement's exact text and a variant with other white space into `/genuine`; the
//! served script computes the fingerprints and the page finds the record, while the URL shows
//! that only the fingerprints left the browser. A text with one word changed is not signed;
//! the button that sends the text shows the nearest signed statement with the difference. The
//! script's normalisation gives the golden vectors' hashes, the page obeys its policy, fits a
//! phone, and the form works without JavaScript (a plain POST). Screenshots at 1280 and 360
//! pixels go to `target/test-artifacts/genuine/`.

use aidledger_tests::browser::Browser;
use aidledger_tests::Network;
use serde_json::Value;

const FLOUR: &str = "We delivered 40 tonnes of wheat flour to the warehouse in Gaza City.\n\
No payment was diverted to any armed group.";

/// Puts `text` into the form's text area, as a reader's paste would.
fn paste(browser: &Browser, text: &str) {
    let literal = serde_json::to_string(text).unwrap();
    browser.eval(&format!(
        "document.getElementById('genuine-text').value = {literal}; true"
    ));
}

#[track_caller]
fn assert_policy_kept(browser: &Browser) {
    let violations = browser.csp_violations();
    assert!(violations.is_empty(), "{}: {violations:?}", browser.url());
}

/// Screenshots of the page at 360 (checking that nothing overflows a phone) and 1280 pixels.
#[track_caller]
fn screenshots(browser: &Browser, name: &str) {
    browser.set_viewport(360, 800);
    let width = browser
        .eval("document.documentElement.scrollWidth")
        .as_u64()
        .unwrap();
    assert!(width <= 360, "{name}: the page is {width} px wide at 360");
    browser.screenshot(&format!("{name}-360"));
    browser.set_viewport(1280, 900);
    browser.screenshot(&format!("{name}-1280"));
}

#[test]
fn a_browser_checks_texts_by_their_fingerprints_only() {
    let network = Network::start("genuine-browser");
    let statement = network.record(
        "statement",
        &["--title", "Flour deliveries", "--text", FLOUR],
    );
    network.record(
        "statement",
        &[
            "--title",
            "Budget",
            "--text",
            "Our budget for 2027 is published in full.",
        ],
    );
    let base = network.node.public_url();
    let record_link = format!("a[href=\"/record/{statement}\"]");
    let browser = Browser::launch("genuine");

    // The served script normalises and hashes as the golden vectors say.
    browser.goto(&format!("{base}/genuine"));
    assert_eq!(browser.script_count(), 1);
    let vectors: Value =
        serde_json::from_str(include_str!("../../spec/vectors/text-fingerprints.json")).unwrap();
    let computed = browser.run_script(&format!(
        "Promise.all({}.map(function (c) {{ \
           var bytes = new Uint8Array(c.text_utf8_hex.match(/../g).map(function (h) {{ return parseInt(h, 16); }})); \
           return window.aidledgerGenuine.fingerprints(bytes); }}))",
        vectors["cases"]
    ));
    for (case, prints) in vectors["cases"]
        .as_array()
        .unwrap()
        .iter()
        .zip(computed.as_array().unwrap())
    {
        assert_eq!(prints[0], case["sha256"], "{}", case["name"]);
        assert_eq!(prints[1], case["normalised_sha256"], "{}", case["name"]);
    }

    // The exact text: found, and only its fingerprints were sent.
    paste(&browser, FLOUR);
    browser.click("#genuine-form button[type=submit]");
    let url = browser.url();
    assert!(
        url.contains("sha256=") && url.contains("normalised="),
        "{url}"
    );
    assert!(
        !url.contains("text=") && !url.to_lowercase().contains("flour"),
        "{url}"
    );
    let text = browser.visible_text();
    assert!(
        text.contains("Signed.") && text.contains("Exactly this text was signed"),
        "{text}"
    );
    assert!(browser.eval(&format!("document.querySelector('{record_link}') !== null")) == true);
    assert_policy_kept(&browser);
    screenshots(&browser, "signed");

    // Other line endings and trailing spaces: found by the normalised fingerprint.
    browser.goto(&format!("{base}/genuine"));
    paste(
        &browser,
        &format!("  {}  \r\n\r\n", FLOUR.replace('\n', " \t\r\n")),
    );
    browser.click("#genuine-form button[type=submit]");
    let text = browser.visible_text();
    assert!(
        text.contains("Signed.") && text.contains("normalised match"),
        "{text}"
    );
    assert!(browser.eval(&format!("document.querySelector('{record_link}') !== null")) == true);
    assert!(!browser.url().to_lowercase().contains("flour"));

    // One word changed: not signed; the text is sent only by the button that says so.
    let forged = FLOUR.replace("No payment", "Some payment");
    browser.goto(&format!("{base}/genuine"));
    paste(&browser, &forged);
    browser.click("#genuine-form button[type=submit]");
    assert!(!browser.url().to_lowercase().contains("payment"));
    assert!(browser.visible_text().contains("Not signed."));
    assert_eq!(
        browser.eval("document.getElementById('genuine-resend-text').value"),
        Value::String(forged.clone()),
        "the text comes back from the tab's own storage"
    );
    assert_policy_kept(&browser);
    browser.click("#genuine-resend-button");
    let text = browser.visible_text();
    assert!(
        text.contains("Not signed.") && text.contains("The nearest signed statement"),
        "{text}"
    );
    assert!(browser.eval(&format!("document.querySelector('{record_link}') !== null")) == true);
    assert_eq!(
        browser.eval_string("document.querySelector('#genuine-diff del').textContent"),
        "No"
    );
    assert_eq!(
        browser.eval_string("document.querySelector('#genuine-diff ins').textContent"),
        "Some"
    );
    assert_policy_kept(&browser);
    screenshots(&browser, "not-signed");

    // Without JavaScript: the form posts the text and the node computes the fingerprints.
    let response = reqwest::blocking::Client::new()
        .post(format!("{base}/genuine"))
        .form(&[
            ("text", FLOUR.replace('\n', "\r\n")),
            ("org", String::new()),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().unwrap();
    assert!(
        page.contains("Signed.") && page.contains(&format!("/record/{statement}")),
        "{page}"
    );
}
