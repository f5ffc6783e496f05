//! HTML writing with one escaping rule: every text that is not a `&'static str` of this crate
//! goes through [`escape`], so nothing that came from a record (or a URL) can become markup.
//!
//! [`Html::raw`] takes only `&'static str`: markup is written by this crate's code, never built
//! from data. Attribute values and text are escaped the same way (quotes included).

use std::fmt::Write as _;

/// The pages' style sheet, served at [`STYLESHEET_PATH`] (not inline, so that the
/// Content-Security-Policy can allow styles from this origin only): plain, readable on a phone,
/// no JavaScript anywhere.
pub const STYLE: &str = "body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;\
padding:0 .8rem 2rem;color:#1b1b1b;background:#fff}\
header{border-bottom:2px solid #1b4f72;padding:.6rem 0;display:flex;flex-wrap:wrap;gap:.4rem 1rem;\
align-items:center}header a.home{font-weight:700;color:#1b4f72;text-decoration:none}\
header form{margin-left:auto}input[type=search]{padding:.3rem;width:14rem;max-width:60vw}\
h1{font-size:1.5rem;margin:1rem 0 .4rem}h2{font-size:1.15rem;margin:1.4rem 0 .4rem}\
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{text-align:left;padding:.3rem .4rem;\
border-bottom:1px solid #ddd;vertical-align:top}th{background:#f3f5f7}\
.scroll{overflow-x:auto}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
code,.mono,pre.mono{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}\
pre{font-family:inherit;white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.6rem;border-radius:4px}\
dl{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.2rem 1rem;margin:.4rem 0}\
dt{font-weight:600;color:#444}dd{margin:0;word-break:break-word}\
.ok{color:#176f2c;font-weight:600}.bad{color:#a4161a;font-weight:700}.muted{color:#666}\
.note{border-left:4px solid #1b4f72;background:#eef4f8;padding:.5rem .8rem;margin:.8rem 0}\
.warn{border-left:4px solid #a4161a;background:#fbeeee;padding:.5rem .8rem;margin:.8rem 0}\
nav.pages a{margin-right:1rem}";

/// Where the pages' style sheet is served.
pub const STYLESHEET_PATH: &str = "/explorer.css";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Appends `text` to `out`, escaped: runs without a special character are copied whole (the
/// five special characters are ASCII, so splitting at them keeps UTF-8 intact).
fn escape_into(out: &mut String, text: &str) {
    // A byte loop: the five characters are ASCII, so every cut is at a char boundary; it is
    // several times faster than `str::find` with a char set, which decodes every char.
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[start..at]);
        out.push_str(replacement);
        start = at + 1;
    }
    out.push_str(&text[start..]);
}

/// Percent-encodes a path segment or query value (everything but unreserved characters).
pub fn url_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// An HTML document being written.
#[derive(Debug, Default)]
pub struct Html {
    out: String,
}

impl Html {
    /// Starts a page: doctype, head with title and style, the header with the search form.
    pub fn page(title: &str, network_name: &str) -> Html {
        let mut html = Html::default();
        html.raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .raw("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
            .raw("<title>")
            .text(title)
            .raw(" · ")
            .text(network_name)
            .raw("</title><link rel=\"stylesheet\" href=\"")
            .raw(STYLESHEET_PATH)
            .raw("\"></head><body><header><a class=\"home\" href=\"/\">")
            .text(network_name)
            .raw("</a><span class=\"muted\">aidledger explorer</span>")
            .raw("<form action=\"/search\" method=\"get\" role=\"search\">")
            .raw("<input type=\"search\" name=\"q\" placeholder=\"record id, organisation, activity, treaty\" aria-label=\"Search\"> ")
            .raw("<button>Search</button></form></header><main>");
        html
    }

    /// Ends the page and returns the document.
    pub fn finish(mut self) -> String {
        self.raw("</main></body></html>");
        self.out
    }

    /// Markup written by this crate.
    pub fn raw(&mut self, markup: &'static str) -> &mut Html {
        self.out.push_str(markup);
        self
    }

    /// Text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Html {
        escape_into(&mut self.out, text);
        self
    }

    /// Text that should be hex digits only (ids, a record's raw bytes): put in as it is when it
    /// is, escaped otherwise. A record page carries kilobytes of hex, which never need escaping.
    pub fn hex_text(&mut self, text: &str) -> &mut Html {
        if text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            self.out.push_str(text);
        } else {
            escape_into(&mut self.out, text);
        }
        self
    }

    /// A number or other `Display` value, escaped.
    pub fn display(&mut self, value: impl std::fmt::Display) -> &mut Html {
        self.text(&value.to_string())
    }

    /// `<tag>text</tag>` for a static tag.
    pub fn element(&mut self, open: &'static str, text: &str, close: &'static str) -> &mut Html {
        self.raw(open).text(text).raw(close)
    }

    /// A link; `href` and text are escaped.
    pub fn link(&mut self, href: &str, text: &str) -> &mut Html {
        self.raw("<a href=\"")
            .text(href)
            .raw("\">")
            .text(text)
            .raw("</a>")
    }

    /// A link whose text is monospace (ids).
    pub fn code_link(&mut self, href: &str, text: &str) -> &mut Html {
        self.raw("<a class=\"mono\" href=\"")
            .text(href)
            .raw("\">")
            .text(text)
            .raw("</a>")
    }

    /// A `<dt>name</dt><dd>value</dd>` pair of texts.
    pub fn field(&mut self, name: &str, value: &str) -> &mut Html {
        self.element("<dt>", name, "</dt>")
            .element("<dd>", value, "</dd>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }

    #[test]
    fn text_is_escaped_in_pages() {
        let mut html = Html::page("<b>", "net\"work");
        html.text("<img src=x onerror=alert(1)>");
        let page = html.finish();
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>"));
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    }

    #[test]
    fn escapes_multibyte_text_around_markup() {
        assert_eq!(escape("é<ü>ß&"), "é&lt;ü&gt;ß&amp;");
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn hex_text_is_kept_and_anything_else_escaped() {
        let mut html = Html::page("t", "n");
        html.hex_text("00ff1a");
        html.hex_text("ab<script>");
        let page = html.finish();
        assert!(page.contains("00ff1a"));
        assert!(page.contains("ab&lt;script&gt;"));
        assert!(!page.contains("<script>"));
    }

    #[test]
    fn url_components_are_percent_encoded() {
        assert_eq!(url_component("GB-GOV-1"), "GB-GOV-1");
        assert_eq!(url_component("a/b c?&\""), "a%2Fb%20c%3F%26%22");
    }
}
