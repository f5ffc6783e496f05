//! The flow diagram's SVG and its table: each drawing of a layout (`sankey.rs`) written as
//! markup through `html.rs`, one `<path>` per flow, the unacknowledged parts marked and
//! labelled, organisations by name; under it a table of the same numbers.

use rust_decimal::Decimal;

use super::sankey::{drawing, Band, Geometry, Layout, CHAR_WIDTH, MARGIN, NARROW, OTHERS, WIDE};
use super::{fit, money, open_svg, Flow, Org, Px, FLOWS_DRAWN_MAX};
use crate::explorer::html::{Column, Html};

/// Writes the picture of one currency (wide and narrow drawings) and its table.
pub fn write(html: &mut Html, layout: &Layout, currency: &str, subject: &str, id: &str) {
    let findings = layout.flows.iter().filter(|flow| flow.finding).count();
    let title = format!("Flow of {currency} in {subject}");
    let mut desc = format!(
        "{} organisation{}, {} flow{} of {currency}, {findings} with a finding; band widths are proportional to the amounts",
        layout.nodes.len(),
        plural(layout.nodes.len()),
        layout.flows.len(),
        plural(layout.flows.len()),
    );
    if layout.grouped > 0 {
        desc.push_str(&format!(
            "; the {} smallest flows are drawn as one, \"others\" (at most {FLOWS_DRAWN_MAX} flows are drawn)",
            layout.grouped
        ));
    }
    if layout.dropped > 0 {
        desc.push_str(&format!(
            "; {} smaller flows are not drawn (their sum exceeds 28 digits)",
            layout.dropped
        ));
    }
    desc.push_str(". The table below holds the same numbers.");
    html.raw("<figure class=\"chart\">");
    for geometry in [WIDE, NARROW] {
        svg(html, layout, &geometry, &title, &desc, id, currency);
    }
    html.raw("<figcaption>").text(&title).raw(": ").text(&desc);
    html.raw("</figcaption></figure>");
    table(html, layout, currency);
}

fn svg(
    html: &mut Html,
    layout: &Layout,
    geometry: &Geometry,
    title: &str,
    desc: &str,
    id: &str,
    currency: &str,
) {
    let drawing = drawing(layout, geometry);
    let element = format!("{id}-flow-{}-{}", id_safe(currency), geometry.name);
    let line = geometry.font * 1.4;
    // A keyed drawing names nodes by letters, and lists them (and the unacknowledged parts)
    // under the drawing at its full width, where a phone has room for a name.
    let missing: Vec<&Flow> = layout
        .flows
        .iter()
        .filter(|flow| flow.missing.is_some())
        .collect();
    let legend_rows = if geometry.keyed {
        layout.nodes.len() + missing.len()
    } else {
        0
    };
    let height = drawing.height + legend_rows as f64 * line;
    open_svg(
        html,
        &format!("chart flow {}", geometry.name),
        (geometry.width, height, geometry.font),
        &element,
        title,
        desc,
    );
    html.raw("<defs><pattern id=\"")
        .text(&element)
        .raw("-h\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect class=\"hatch-bg\" width=\"6\" height=\"6\"></rect><line class=\"hatch\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\"></line></pattern></defs>");
    for (flow, band) in layout.flows.iter().zip(&drawing.bands) {
        path(html, flow, band);
    }
    for (flow, band) in layout.flows.iter().zip(&drawing.bands) {
        if band.missing > 0.0 {
            gap(html, flow, band, geometry, &element);
        }
    }
    let step = (geometry.width - 2.0 * MARGIN - geometry.node_width) / (layout.columns - 1) as f64;
    let chars = |share: f64| ((step * share) / (geometry.font * CHAR_WIDTH)).max(6.0) as usize;
    for (at, (node, &(x, y, height))) in layout.nodes.iter().zip(&drawing.nodes).enumerate() {
        html.raw("<rect class=\"node\" x=\"")
            .display(Px(x))
            .raw("\" y=\"")
            .display(Px(y))
            .raw("\" width=\"")
            .display(Px(geometry.node_width))
            .raw("\" height=\"")
            .display(Px(height.max(1.0)))
            .raw("\"><title>")
            .text(&node.org.label())
            .raw("</title></rect>");
        // Labels sit just above their bar, running right into the gap before the next
        // column (half of it when that column's labels run left into it), the last column's
        // ending at its right edge.
        let last = node.column + 1 == layout.columns;
        let (anchor_x, anchor, share): (f64, &'static str, f64) = if last {
            (x + geometry.node_width, "end", 0.5)
        } else if node.column + 2 == layout.columns {
            (x, "start", 0.48)
        } else {
            (x, "start", 0.85)
        };
        let label = if geometry.keyed {
            key(at)
        } else {
            fit(node.org.short(), chars(share))
        };
        html.raw("<text x=\"")
            .display(Px(anchor_x))
            .raw("\" y=\"")
            .display(Px(y - geometry.font * 0.35))
            .raw("\" text-anchor=\"")
            .raw(anchor)
            .raw("\">")
            .text(&label)
            .raw("</text>");
    }
    if geometry.keyed {
        let full = ((geometry.width - 2.0 * MARGIN) / (geometry.font * CHAR_WIDTH)) as usize;
        let mut y = drawing.height + geometry.font * 0.4;
        for (at, node) in layout.nodes.iter().enumerate() {
            html.raw("<text x=\"")
                .display(Px(MARGIN))
                .raw("\" y=\"")
                .display(Px(y))
                .raw("\"><tspan class=\"key\">")
                .text(&key(at))
                .raw("</tspan> ")
                .text(&fit(node.org.short(), full.saturating_sub(4)))
                .raw("</text>");
            y += line;
        }
        for flow in missing {
            let class: &'static str = if flow.finding { "gap" } else { "gap pending" };
            let ends = |org: &Org| {
                layout
                    .nodes
                    .iter()
                    .position(|node| node.org.id == org.id && node.org.short() == org.short())
                    .map_or_else(|| org.short().to_owned(), key)
            };
            let text = format!(
                "{} → {}: {}",
                ends(&flow.from),
                ends(&flow.to),
                missing_text(flow)
            );
            html.raw("<text class=\"")
                .raw(class)
                .raw("\" x=\"")
                .display(Px(MARGIN))
                .raw("\" y=\"")
                .display(Px(y))
                .raw("\">")
                .text(&fit(&text, full))
                .raw("</text>");
            y += line;
        }
    }
    html.raw("</svg>");
}

/// A node's key in a keyed drawing: `A` … `Z`, then `AA`, `AB`, ….
fn key(at: usize) -> String {
    let letter = |at: usize| char::from(b'A' + (at % 26) as u8);
    if at < 26 {
        letter(at).to_string()
    } else {
        format!("{}{}", letter(at / 26 - 1), letter(at))
    }
}

/// One band: a closed shape between two cubic curves, one `<path>` per flow.
fn path(html: &mut Html, flow: &Flow, band: &Band) {
    let ((x0, y0), (x1, y1), width) = (band.from, band.to, band.width);
    let middle = (x0 + x1) / 2.0;
    html.raw("<path class=\"flow s-")
        .raw(flow.status)
        .raw("\" d=\"M")
        .display(Px(x0))
        .raw(" ")
        .display(Px(y0))
        .raw("C")
        .display(Px(middle))
        .raw(" ")
        .display(Px(y0))
        .raw(" ")
        .display(Px(middle))
        .raw(" ")
        .display(Px(y1))
        .raw(" ")
        .display(Px(x1))
        .raw(" ")
        .display(Px(y1))
        .raw("V")
        .display(Px(y1 + width.max(0.5)))
        .raw("C")
        .display(Px(middle))
        .raw(" ")
        .display(Px(y1 + width.max(0.5)))
        .raw(" ")
        .display(Px(middle))
        .raw(" ")
        .display(Px(y0 + width.max(0.5)))
        .raw(" ")
        .display(Px(x0))
        .raw(" ")
        .display(Px(y0 + width.max(0.5)))
        .raw("Z\"><title>")
        .text(&flow_text(flow))
        .raw("</title></path>");
}

/// The part not acknowledged, at the band's end: red for a finding, grey while pending.
fn gap(html: &mut Html, flow: &Flow, band: &Band, geometry: &Geometry, element: &str) {
    let (x1, y1) = band.to;
    let top = y1 + band.width - band.missing;
    let class: &'static str = if flow.finding { "gap" } else { "gap pending" };
    html.raw("<rect class=\"")
        .raw(class)
        .raw("\" fill=\"url(#")
        .text(element)
        .raw("-h)\" x=\"")
        .display(Px(x1 - geometry.gap_width))
        .raw("\" y=\"")
        .display(Px(top))
        .raw("\" width=\"")
        .display(Px(geometry.gap_width))
        .raw("\" height=\"")
        .display(Px(band.missing.max(1.0)))
        .raw("\"></rect>");
    if geometry.keyed {
        return;
    }
    html.raw("<text class=\"")
        .raw(class)
        .raw("\" x=\"")
        .display(Px(x1 - geometry.gap_width - 3.0))
        .raw("\" y=\"")
        .display(Px(top + band.missing / 2.0 + geometry.font * 0.35))
        .raw("\" text-anchor=\"end\">")
        .text(&missing_text(flow))
        .raw("</text>");
}

/// `short GBP 5,000.00`, `not acknowledged GBP 125,000.00`, `pending GBP 1,000.00`.
pub fn missing_text(flow: &Flow) -> String {
    let Some(missing) = flow.missing else {
        return String::new();
    };
    let what = match (flow.status, flow.finding) {
        ("short", _) | (OTHERS, _) => "short",
        (_, false) => "pending",
        _ => "not acknowledged",
    };
    format!("{what} {}", money(&missing, &flow.currency))
}

/// A flow in one line: `A → B: sent GBP 125,000.00, received GBP 120,000.00 (short 5000.00 GBP)`.
fn flow_text(flow: &Flow) -> String {
    let side = |amount: Option<Decimal>| {
        amount.map_or("nothing".to_owned(), |amount| {
            money(&amount, &flow.currency)
        })
    };
    format!(
        "{} → {}: sent {}, received {} ({})",
        flow.from.label(),
        flow.to.label(),
        side(flow.sent),
        side(flow.received),
        flow.status_text
    )
}

/// The table of the same numbers: from, to, sent, received, status.
fn table(html: &mut Html, layout: &Layout, currency: &str) {
    const FROM: Column = Column::text("from");
    const TO: Column = Column::text("to");
    const SENT: Column = Column::number("sent");
    const RECEIVED: Column = Column::number("received");
    const STATUS: Column = Column::text("status");
    html.stacked_table(&[FROM, TO, SENT, RECEIVED, STATUS]);
    let amount = |html: &mut Html, column: Column, amount: Option<Decimal>| {
        html.cell(column);
        match amount {
            Some(amount) => html.text(&money(&amount, currency)),
            None => html.raw("<span class=\"muted\">nothing</span>"),
        };
        html.raw("</td>");
    };
    for flow in &layout.flows {
        html.raw("<tr class=\"flow\">")
            .cell(FROM)
            .text(&flow.from.label())
            .raw("</td>")
            .cell(TO)
            .text(&flow.to.label())
            .raw("</td>");
        amount(html, SENT, flow.sent);
        amount(html, RECEIVED, flow.received);
        html.cell(STATUS);
        let class: &'static str = match (flow.finding, flow.status) {
            (true, _) => "bad",
            (false, "full") => "ok",
            (false, _) => "muted",
        };
        html.raw("<span class=\"")
            .raw(class)
            .raw("\">")
            .text(&flow.status_text)
            .raw("</span>");
        if flow.missing.is_some() {
            html.raw("<br>").text(&missing_text(flow));
        }
        html.raw("</td></tr>");
    }
    html.end_table();
}

/// A currency code as part of an element id: letters and digits only.
pub(super) fn id_safe(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// `s` after a count other than one.
fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}
