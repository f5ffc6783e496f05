//! HTML writing with one escaping rule: every text that is not a `&'static str` of this crate
//! goes through [`escape`], so nothing that came from a record (or a URL) can become markup.
//!
//! [`Html::raw`] takes only `&'static str`: markup is written by this crate's code, never built
//! from data. Attribute values and text are escaped the same way (quotes included).

use std::fmt::Write as _;

/// The pages' style sheet (`explorer.css` beside this file), served at [`STYLESHEET_PATH`] (not
/// inline, so that the Content-Security-Policy can allow styles from this origin only): plain,
/// readable on a phone (tables scroll or stack, see the file's media query), no JavaScript.
pub const STYLE: &str = include_str!("explorer.css");

/// Where the pages' style sheet is served.
pub const STYLESHEET_PATH: &str = "/explorer.css";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Bytes checked at a time for a special character or a non-hex digit: a fixed-size block
/// without an early exit, which the compiler turns into vector compares.
const SCAN_BLOCK_BYTES: usize = 16;

/// Whether `byte` needs escaping: five compares without a branch, which vectorise.
fn is_special(byte: u8) -> bool {
    (byte == b'&') | (byte == b'<') | (byte == b'>') | (byte == b'"') | (byte == b'\'')
}

/// Appends `text` to `out`, escaped: runs without a special character are copied whole (the
/// five special characters are ASCII, so splitting at them keeps UTF-8 intact).
fn escape_into(out: &mut String, text: &str) {
    // A byte loop: the five characters are ASCII, so every cut is at a char boundary; it is
    // several times faster than `str::find` with a char set, which decodes every char. Whole
    // blocks without a special character (most of a page's text) are skipped after one
    // vector check.
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut block_at = 0;
    while block_at < bytes.len() {
        let block_end = bytes.len().min(block_at + SCAN_BLOCK_BYTES);
        let block = &bytes[block_at..block_end];
        let plain = match <&[u8; SCAN_BLOCK_BYTES]>::try_from(block) {
            Ok(whole) => !whole
                .iter()
                .fold(false, |any, &byte| any | is_special(byte)),
            Err(_) => false, // the last, shorter block: read byte by byte
        };
        if !plain {
            for (offset, &byte) in block.iter().enumerate() {
                let replacement = match byte {
                    b'&' => "&amp;",
                    b'<' => "&lt;",
                    b'>' => "&gt;",
                    b'"' => "&quot;",
                    b'\'' => "&#39;",
                    _ => continue,
                };
                let at = block_at + offset;
                out.push_str(&text[start..at]);
                out.push_str(replacement);
                start = at + 1;
            }
        }
        block_at = block_end;
    }
    out.push_str(&text[start..]);
}

/// Whether `text` is hex digits only, checked a block at a time.
fn is_hex(text: &str) -> bool {
    let mut blocks = text.as_bytes().chunks_exact(SCAN_BLOCK_BYTES);
    let whole_blocks_hex = blocks.by_ref().all(|block| {
        <&[u8; SCAN_BLOCK_BYTES]>::try_from(block).is_ok_and(|block| {
            block
                .iter()
                .fold(true, |hex, byte| hex & byte.is_ascii_hexdigit())
        })
    });
    whole_blocks_hex && blocks.remainder().iter().all(u8::is_ascii_hexdigit)
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

/// A column of a table whose rows stack on a phone (see [`Html::stacked_table`]): its heading,
/// which is also the label written before each of its values on a narrow screen, and whether it
/// holds numbers (right-aligned, tabular figures on a wide screen).
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// The heading, and each cell's `data-label`.
    pub label: &'static str,
    /// A numeric column (class `num`).
    pub numeric: bool,
}

impl Column {
    /// A column of text.
    pub const fn text(label: &'static str) -> Column {
        Column {
            label,
            numeric: false,
        }
    }

    /// A column of numbers or amounts.
    pub const fn number(label: &'static str) -> Column {
        Column {
            label,
            numeric: true,
        }
    }
}

/// Bytes a page's document reserves when it starts: a record page (about 9 KB) is written
/// without growing its buffer, which grew and copied it four times.
const PAGE_BYTES_RESERVED: usize = 16 * 1024;

/// An HTML document being written.
#[derive(Debug, Default)]
pub struct Html {
    out: String,
}

impl Html {
    /// Starts a page: doctype, head with title and style, then the landmarks every page shares:
    /// a skip link, the header (home link, site navigation, the search form with its label) and
    /// `<main id="main">`, where the page's own content goes.
    pub fn page(title: &str, network_name: &str) -> Html {
        let mut html = Html {
            out: String::with_capacity(PAGE_BYTES_RESERVED),
        };
        html.raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .raw("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
            .raw("<title>")
            .text(title)
            .raw(" · ")
            .text(network_name)
            .raw("</title><link rel=\"stylesheet\" href=\"")
            .raw(STYLESHEET_PATH)
            .raw("\"></head><body><a class=\"skip\" href=\"#main\">Skip to content</a>")
            .raw("<header><a class=\"home\" href=\"/\">")
            .text(network_name)
            .raw("</a><span class=\"muted\">aidledger explorer</span>")
            .raw("<nav aria-label=\"Site\"><a href=\"/\">Home</a><a href=\"/governance\">Governance</a><a href=\"/genuine\">Is this genuine?</a></nav>")
            .raw("<form action=\"/search\" method=\"get\" role=\"search\">")
            .raw("<label class=\"sr-only\" for=\"site-search\">Search the ledger</label>")
            .raw("<input type=\"search\" id=\"site-search\" name=\"q\" placeholder=\"record id, organisation, activity, treaty\">")
            .raw("<button>Search</button></form></header><main id=\"main\">");
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
        if is_hex(text) {
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

    /// Starts a table whose rows become stacked blocks on a phone (every value after its
    /// column's name) instead of a row to scroll sideways: `<table class="stack">`, the headings
    /// in `<thead>`, then `<tbody>`. Write each row as `<tr>`, its cells with [`Html::cell`] …
    /// `</td>`, `</tr>`, and end with [`Html::end_table`].
    ///
    /// For the page writers: any table can use it; a table that does not still never widens the
    /// page on a phone (the style sheet makes every table its own scroll container there), but
    /// stacked rows read better when a row has more than three or four columns or long names.
    /// Give each row's cells in the order of `columns` (one `cell` per column), so that every
    /// value carries its own column's label.
    pub fn stacked_table(&mut self, columns: &[Column]) -> &mut Html {
        self.raw("<div class=\"scroll\"><table class=\"stack\"><thead><tr>");
        for column in columns {
            if column.numeric {
                self.raw("<th class=\"num\" scope=\"col\">");
            } else {
                self.raw("<th scope=\"col\">");
            }
            self.text(column.label).raw("</th>");
        }
        self.raw("</tr></thead><tbody>")
    }

    /// Opens a cell of a [`Html::stacked_table`]: `<td data-label="…">` (with class `num` for a
    /// numeric column); the caller writes the content and `</td>`.
    pub fn cell(&mut self, column: Column) -> &mut Html {
        if column.numeric {
            self.raw("<td class=\"num\" data-label=\"");
        } else {
            self.raw("<td data-label=\"");
        }
        self.text(column.label).raw("\">")
    }

    /// Ends a [`Html::stacked_table`].
    pub fn end_table(&mut self) -> &mut Html {
        self.raw("</tbody></table></div>")
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
    fn escapes_special_characters_anywhere_in_long_text() {
        // Specials before, inside and after whole blocks, and in a last partial block.
        let plain = "abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJ";
        for at in 0..=plain.len() {
            for special in ["&", "<", ">", "\"", "'", "é<"] {
                let text = format!("{}{special}{}", &plain[..at], &plain[at..]);
                let expected = text
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;")
                    .replace('\'', "&#39;");
                assert_eq!(escape(&text), expected, "{text}");
            }
        }
        assert_eq!(escape(plain), plain);
        assert_eq!(escape(""), "");
    }

    /// The escaping before it scanned 16-byte blocks (dcd902b), the reference.
    fn escape_reference(text: &str) -> String {
        let mut out = String::new();
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
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        #[test]
        fn block_escaping_equals_byte_escaping(
            text in "[a<>&\"'\u{e9}\u{20ac}\u{1f600}0-9 ]{0,70}"
        ) {
            proptest::prop_assert_eq!(escape(&text), escape_reference(&text));
            let mut html = Html::default();
            html.hex_text(&text);
            let expected = if text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                text.clone()
            } else {
                escape_reference(&text)
            };
            proptest::prop_assert_eq!(html.out, expected);
        }

        #[test]
        fn block_escaping_equals_byte_escaping_any_string(text in ".{0,70}") {
            proptest::prop_assert_eq!(escape(&text), escape_reference(&text));
        }

        #[test]
        fn is_hex_equals_byte_check(text in "[0-9a-fA-Fg\u{e9}]{0,70}") {
            proptest::prop_assert_eq!(
                is_hex(&text),
                text.bytes().all(|byte| byte.is_ascii_hexdigit())
            );
        }
    }

    #[test]
    fn block_escaping_equals_byte_escaping_at_every_length_and_position() {
        let fillers = ["a", "\u{e9}", "\u{20ac}", "\u{1f600}"];
        for filler in fillers {
            for length in 0..=49 {
                let plain = filler.repeat(length);
                assert_eq!(escape(&plain), escape_reference(&plain));
                for special in ['&', '<', '>', '"', '\'', 'x'] {
                    for at in 0..=length {
                        let mut text = filler.repeat(at);
                        text.push(special);
                        text.push_str(&filler.repeat(length - at));
                        assert_eq!(escape(&text), escape_reference(&text), "{text:?}");
                        // every byte special from `at` on
                        let mut tail = filler.repeat(at);
                        tail.extend(std::iter::repeat_n(special, length + 1 - at));
                        assert_eq!(escape(&tail), escape_reference(&tail), "{tail:?}");
                    }
                }
            }
        }
        for length in 0..=49 {
            let hex = "f".repeat(length);
            assert!(is_hex(&hex));
            for at in 0..length {
                for bad in ["g", "<", " ", "\u{e9}"] {
                    let mut text = hex.clone();
                    text.replace_range(at..=at, bad);
                    assert!(!is_hex(&text), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn is_hex_checks_every_byte() {
        let hex = "0123456789abcdefABCDEF0123456789abcdef";
        assert!(is_hex(hex));
        assert!(is_hex(""));
        for at in 0..hex.len() {
            let mut text = hex.to_owned();
            text.replace_range(at..=at, "g");
            assert!(!is_hex(&text), "{text}");
        }
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
    fn stacked_tables_label_every_cell() {
        const NAME: Column = Column::text("organisation");
        const SUM: Column = Column::number("total");
        let mut html = Html::default();
        html.stacked_table(&[NAME, SUM]).raw("<tr>");
        html.cell(NAME).text("A<B").raw("</td>");
        html.cell(SUM).text("1,000.00").raw("</td></tr>");
        html.end_table();
        let table = html.out;
        assert!(table.starts_with("<div class=\"scroll\"><table class=\"stack\"><thead><tr><th scope=\"col\">organisation</th><th class=\"num\" scope=\"col\">total</th></tr></thead><tbody>"));
        assert!(table.contains("<td data-label=\"organisation\">A&lt;B</td>"));
        assert!(table.contains("<td class=\"num\" data-label=\"total\">1,000.00</td>"));
        assert!(table.ends_with("</tbody></table></div>"));
    }

    #[test]
    fn url_components_are_percent_encoded() {
        assert_eq!(url_component("GB-GOV-1"), "GB-GOV-1");
        assert_eq!(url_component("a/b c?&\""), "a%2Fb%20c%3F%26%22");
    }
}
