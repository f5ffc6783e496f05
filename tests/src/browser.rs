//! A headless Chromium for end-to-end tests of the explorer, driven over the DevTools protocol
//! by `chromiumoxide` with a blocking API, so that tests read like the rest of the suite.
//!
//! The browser is the system's `chromium` (Debian's package; `.ci/run` installs it), or the
//! file named by `AIDLEDGER_CHROMIUM`. Each browser gets its own profile directory (parallel
//! tests would otherwise fight over the profile lock) and runs without the sandbox, which
//! Chromium refuses to use as root. Screenshots go to `target/test-artifacts/`. Every page
//! records its `alert` calls and Content-Security-Policy violations for the tests to read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chromiumoxide::browser::{Browser as CdpBrowser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::emulation::{
    SetDeviceMetricsOverrideParams, SetScriptExecutionDisabledParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;
use futures_util::StreamExt;

use crate::{bin_dir, wait_for, TestDir};

/// How long one browser operation (launch, navigation, evaluation) may take.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);
/// The window: a laptop-sized viewport; pages are captured in full height.
const WINDOW_WIDTH: u32 = 1100;
const WINDOW_HEIGHT: u32 = 900;
/// Runs before any page script: records any `alert` so a test can prove none ran.
const ALERT_TRAP: &str = "window.__alerts = []; window.alert = function (message) { window.__alerts.push(String(message)); };";
/// Runs before any page script: records every Content-Security-Policy violation of the page
/// (the directive and what it blocked), so a test can prove that the pages obey their policy.
const CSP_TRAP: &str = "window.__csp = []; document.addEventListener('securitypolicyviolation', function (event) { window.__csp.push(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' at ' + event.sourceFile + ':' + event.lineNumber); });";

/// The directory for screenshots and other artifacts: `target/test-artifacts/NAME/`.
pub fn artifacts_dir(name: &str) -> PathBuf {
    let target = bin_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"));
    let dir = target.join("test-artifacts").join(name);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|error| panic!("create {}: {error}", dir.display()));
    dir
}

/// The Chromium executable: `AIDLEDGER_CHROMIUM`, else `chromium` on the PATH.
pub fn chromium_path() -> PathBuf {
    if let Some(path) = std::env::var_os("AIDLEDGER_CHROMIUM") {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|path| path.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "chromium is not installed: run `apt-get install -y chromium` (as .ci/run does) \
             or set AIDLEDGER_CHROMIUM to a Chromium executable"
        )
    })
}

/// One headless Chromium with one tab.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    browser: CdpBrowser,
    page: Page,
    artifacts: PathBuf,
    // Dropped after the browser: its profile directory.
    _profile: TestDir,
}

impl Browser {
    /// Launches Chromium; screenshots go to `target/test-artifacts/{name}/`.
    #[track_caller]
    pub fn launch(name: &str) -> Browser {
        let profile = TestDir::new(&format!("{name}-chromium"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("build a runtime for the browser");
        let config = BrowserConfig::builder()
            .chrome_executable(chromium_path())
            .user_data_dir(profile.path())
            .no_sandbox()
            .window_size(WINDOW_WIDTH, WINDOW_HEIGHT)
            .viewport(None)
            .launch_timeout(BROWSER_TIMEOUT)
            .request_timeout(BROWSER_TIMEOUT)
            // Flags without leading dashes: chromiumoxide adds them.
            .args(["disable-gpu", "disable-dev-shm-usage", "no-first-run"])
            .build()
            .unwrap_or_else(|error| panic!("browser configuration: {error}"));
        let (browser, page) = runtime.block_on(async {
            let (browser, mut handler) = CdpBrowser::launch(config)
                .await
                .unwrap_or_else(|error| panic!("launch {}: {error}", chromium_path().display()));
            // The handler must be polled for the browser to work; it ends with the browser.
            // Errors from messages it cannot parse are not fatal, so it keeps polling.
            tokio::spawn(async move { while handler.next().await.is_some() {} });
            let page = browser
                .new_page("about:blank")
                .await
                .unwrap_or_else(|error| panic!("open a tab: {error}"));
            page.evaluate_on_new_document(ALERT_TRAP)
                .await
                .unwrap_or_else(|error| panic!("install the alert trap: {error}"));
            page.evaluate_on_new_document(CSP_TRAP)
                .await
                .unwrap_or_else(|error| panic!("install the CSP trap: {error}"));
            (browser, page)
        });
        Browser {
            runtime,
            browser,
            page,
            artifacts: artifacts_dir(name),
            _profile: profile,
        }
    }

    /// Opens `url` and waits until it has loaded.
    #[track_caller]
    pub fn goto(&self, url: &str) {
        self.runtime
            .block_on(async { tokio::time::timeout(BROWSER_TIMEOUT, self.page.goto(url)).await })
            .unwrap_or_else(|_| panic!("timed out opening {url}"))
            .unwrap_or_else(|error| panic!("open {url}: {error}"));
        self.wait_loaded();
    }

    /// Clicks the first element matching the CSS `selector` (a link) and waits for the page
    /// it leads to.
    #[track_caller]
    pub fn click(&self, selector: &str) {
        let before = self.url();
        self.runtime.block_on(async {
            let element = self
                .page
                .find_element(selector)
                .await
                .unwrap_or_else(|error| panic!("no element {selector:?} on {before}: {error}"));
            element
                .click()
                .await
                .unwrap_or_else(|error| panic!("click {selector:?} on {before}: {error}"));
        });
        wait_for(BROWSER_TIMEOUT, "the click to navigate", || {
            self.try_eval("location.href")
                .filter(|url| url.as_str() != Some(before.as_str()))
                .map(drop)
        });
        self.wait_loaded();
    }

    /// Waits until the document has loaded. While a navigation replaces the page, evaluations
    /// fail ("cannot find context"): those count as "not yet".
    #[track_caller]
    fn wait_loaded(&self) {
        wait_for(BROWSER_TIMEOUT, "the page to load", || {
            self.try_eval("document.readyState")
                .filter(|state| state.as_str() == Some("complete"))
                .map(drop)
        });
    }

    /// Evaluates an expression; `None` if the page is between documents.
    fn try_eval(&self, expression: &str) -> Option<serde_json::Value> {
        let result = self.runtime.block_on(async {
            tokio::time::timeout(BROWSER_TIMEOUT, self.page.evaluate(expression)).await
        });
        let result = result.ok()?.ok()?;
        Some(result.value().cloned().unwrap_or(serde_json::Value::Null))
    }

    /// The current URL.
    #[track_caller]
    pub fn url(&self) -> String {
        self.eval_string("location.href")
    }

    /// The text a person sees (`document.body.innerText`).
    #[track_caller]
    pub fn visible_text(&self) -> String {
        self.eval_string("document.body ? document.body.innerText : ''")
    }

    /// Evaluates a JavaScript expression that yields a string.
    #[track_caller]
    pub fn eval_string(&self, expression: &str) -> String {
        self.eval(expression)
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default()
    }

    /// Evaluates a JavaScript expression and returns its JSON value.
    #[track_caller]
    pub fn eval(&self, expression: &str) -> serde_json::Value {
        let result = self.runtime.block_on(async {
            tokio::time::timeout(BROWSER_TIMEOUT, self.page.evaluate(expression)).await
        });
        let result = result
            .unwrap_or_else(|_| panic!("timed out evaluating {expression:?}"))
            .unwrap_or_else(|error| panic!("evaluate {expression:?}: {error}"));
        result.value().cloned().unwrap_or(serde_json::Value::Null)
    }

    /// The messages of every `alert` called on the current page (none, if no script ran).
    #[track_caller]
    pub fn alerts(&self) -> Vec<String> {
        let value = self.eval("JSON.stringify(window.__alerts || [])");
        serde_json::from_str(value.as_str().unwrap_or("[]")).unwrap_or_default()
    }

    /// How many `<script>` elements the current page holds.
    #[track_caller]
    pub fn script_count(&self) -> u64 {
        self.eval("document.getElementsByTagName('script').length")
            .as_u64()
            .unwrap_or(0)
    }

    /// The Content-Security-Policy violations the current page has reported so far.
    #[track_caller]
    pub fn csp_violations(&self) -> Vec<String> {
        let value = self.eval("JSON.stringify(window.__csp || [])");
        serde_json::from_str(value.as_str().unwrap_or("[]")).unwrap_or_default()
    }

    /// Emulates a viewport of `width` × `height` CSS pixels (a phone at 360) for the pages
    /// opened next. A full-page [`Browser::screenshot`] ends the emulation: set it again after.
    #[track_caller]
    pub fn set_viewport(&self, width: u32, height: u32) {
        let params =
            SetDeviceMetricsOverrideParams::new(i64::from(width), i64::from(height), 1., false);
        self.runtime
            .block_on(self.page.execute(params))
            .unwrap_or_else(|error| panic!("set the viewport to {width}x{height}: {error}"));
    }

    /// Turns the pages' JavaScript off or on again, as a reader's browser setting would, for
    /// the pages opened next (the DevTools' own evaluations still run).
    #[track_caller]
    pub fn set_javascript(&self, enabled: bool) {
        let params = SetScriptExecutionDisabledParams::new(!enabled);
        self.runtime
            .block_on(self.page.execute(params))
            .unwrap_or_else(|error| panic!("set JavaScript enabled={enabled}: {error}"));
    }

    /// Runs a whole script (a library's source, or code that returns a promise) through the
    /// DevTools protocol, which the page's Content-Security-Policy does not restrict, and
    /// returns its JSON value after the promise settled. Panics if the script throws.
    #[track_caller]
    pub fn run_script(&self, source: &str) -> serde_json::Value {
        let params = EvaluateParams::builder()
            .expression(source)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .unwrap_or_else(|error| panic!("evaluation parameters: {error}"));
        let result = self.runtime.block_on(async {
            tokio::time::timeout(BROWSER_TIMEOUT, self.page.execute(params)).await
        });
        let result = result
            .unwrap_or_else(|_| panic!("timed out running a script on {}", self.url()))
            .unwrap_or_else(|error| panic!("run a script on {}: {error}", self.url()))
            .result
            .clone();
        if let Some(exception) = result.exception_details {
            panic!("a script threw on {}: {exception:?}", self.url());
        }
        result.result.value.unwrap_or(serde_json::Value::Null)
    }

    /// Saves a full-page PNG as `{artifacts}/{name}.png` and returns its path.
    #[track_caller]
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let path = self.artifacts.join(format!("{name}.png"));
        let params = ScreenshotParams::builder().full_page(true).build();
        self.runtime
            .block_on(self.page.save_screenshot(params, &path))
            .unwrap_or_else(|error| panic!("screenshot {}: {error}", path.display()));
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Best effort: a browser that will not close is killed with its process group.
        self.runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(10), self.browser.close()).await;
            let _ = tokio::time::timeout(Duration::from_secs(10), self.browser.wait()).await;
            let _ = self.browser.kill().await;
        });
    }
}
