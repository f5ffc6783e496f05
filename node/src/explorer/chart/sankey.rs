//! The flow diagram of one currency: organisations as columns (donors left, final recipients
//! right, intermediaries between, by the longest chain of flows reaching them), a band per
//! flow whose width is proportional to its amount, and the part the receiver has not
//! acknowledged drawn apart at the band's end and labelled.
//!
//! Drawn twice from one layout (`sankey_svg.rs`): a wide picture for screens and a narrow
//! one for phones (the style sheet shows one), so that labels stay legible at 360 px without
//! scrolling. Each has exactly one `<path>` per flow.

use std::collections::BTreeMap;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::{Flow, Org, FLOWS_DRAWN_MAX};

/// The status name of the flow that stands for those beyond [`FLOWS_DRAWN_MAX`].
pub const OTHERS: &str = "others";

/// A flow diagram's layout, independent of its size.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The organisations, each in one column, in drawing order (column, then larger first).
    pub nodes: Vec<Node>,
    /// The flows drawn (at most [`FLOWS_DRAWN_MAX`]; the last stands for the rest when
    /// `grouped` > 0), largest first.
    pub flows: Vec<Flow>,
    /// Per drawn flow, its source and target node.
    pub ends: Vec<(usize, usize)>,
    /// Columns (at least 2).
    pub columns: usize,
    /// How many flows the "others" flow stands for (0: every flow is drawn).
    pub grouped: usize,
    /// Flows not drawn at all (their sum would exceed 28 digits); said in the picture.
    pub dropped: usize,
}

/// One organisation of a diagram.
#[derive(Clone, Debug)]
pub struct Node {
    /// Who.
    pub org: Org,
    /// Its column (0: gives only).
    pub column: usize,
    /// Its height in amount: the larger of what flows in and what flows out (drawn amounts).
    pub value: f64,
}

/// The size of one drawing of a layout.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    /// `wide` or `narrow`: the class the style sheet shows by screen width.
    pub name: &'static str,
    /// viewBox width.
    pub width: f64,
    /// Font size (user units).
    pub font: f64,
    /// The height the largest column's amounts take.
    pub money_height: f64,
    /// Width of a node's bar.
    pub node_width: f64,
    /// Width of the mark of an unacknowledged part at a band's end.
    pub gap_width: f64,
    /// Whether nodes are named by letters with a list of names under the drawing (and the
    /// unacknowledged parts listed there rather than beside the bands).
    pub keyed: bool,
}

/// For screens wider than the style sheet's phone width.
pub const WIDE: Geometry = Geometry {
    name: "wide",
    width: 760.0,
    font: 13.0,
    money_height: 280.0,
    node_width: 12.0,
    gap_width: 16.0,
    keyed: false,
};

/// For phones: 360 units drawn on about 340 px, so that the text stays about its size.
pub const NARROW: Geometry = Geometry {
    name: "narrow",
    width: 360.0,
    font: 12.0,
    money_height: 220.0,
    node_width: 10.0,
    gap_width: 10.0,
    keyed: true,
};

/// Space above and below the columns, and between nodes.
pub(super) const MARGIN: f64 = 8.0;
const NODE_GAP: f64 = 10.0;
/// The height the amounts of a column take grows by this per organisation in its busiest
/// column, from this base, up to [`Geometry::money_height`].
const MONEY_HEIGHT_PER_NODE: f64 = 60.0;
const MONEY_HEIGHT_BASE: f64 = 40.0;
/// Approximate width of a character of the labels, as a share of the font size.
pub(super) const CHAR_WIDTH: f64 = 0.58;

/// Lays out the flows of one currency: the largest [`FLOWS_DRAWN_MAX`]` - 1` drawn, the rest
/// grouped as one flow "others" when there are more than [`FLOWS_DRAWN_MAX`].
pub fn layout(flows: &[&Flow]) -> Layout {
    let mut sorted: Vec<Flow> = flows.iter().map(|flow| (*flow).clone()).collect();
    // Largest first; ties in the order given (the model's link order), so pictures are stable.
    sorted.sort_by_key(|flow| std::cmp::Reverse(flow.drawn()));
    let (mut grouped, mut dropped) = (0, 0);
    if sorted.len() > FLOWS_DRAWN_MAX {
        let rest = sorted.split_off(FLOWS_DRAWN_MAX - 1);
        match others(&rest) {
            Some(flow) => {
                grouped = rest.len();
                sorted.push(flow);
            }
            None => dropped = rest.len(),
        }
    }
    // One node per organisation id (one without an id by its name): a link's records may
    // name it and another's not.
    let mut index: BTreeMap<(bool, String), usize> = BTreeMap::new();
    let mut orgs: Vec<Org> = Vec::new();
    let mut ends = Vec::with_capacity(sorted.len());
    let mut node = |org: &Org| -> usize {
        let key = if org.id.is_empty() {
            (false, org.name.clone())
        } else {
            (true, org.id.clone())
        };
        let at = *index.entry(key).or_insert_with(|| {
            orgs.push(org.clone());
            orgs.len() - 1
        });
        if orgs[at].name.is_empty() {
            orgs[at].name.clone_from(&org.name);
        }
        at
    };
    for flow in &sorted {
        ends.push((node(&flow.from), node(&flow.to)));
    }
    let columns = columns(orgs.len(), &ends);
    let count = columns.iter().max().map_or(0, |max| max + 1).max(2);
    let mut inflow = vec![0.0; orgs.len()];
    let mut outflow = vec![0.0; orgs.len()];
    for (flow, &(from, to)) in sorted.iter().zip(&ends) {
        let amount = flow.drawn().to_f64().unwrap_or(0.0);
        outflow[from] += amount;
        inflow[to] += amount;
    }
    let nodes: Vec<Node> = orgs
        .into_iter()
        .enumerate()
        .map(|(at, org)| Node {
            org,
            column: columns[at],
            value: inflow[at].max(outflow[at]),
        })
        .collect();
    // Drawing order: by column, larger first, so that big flows run straight.
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| {
        (nodes[a].column, -nodes[a].value)
            .partial_cmp(&(nodes[b].column, -nodes[b].value))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut position = vec![0; nodes.len()];
    for (new, &old) in order.iter().enumerate() {
        position[old] = new;
    }
    let nodes = order.iter().map(|&old| nodes[old].clone()).collect();
    let ends = ends
        .into_iter()
        .map(|(from, to)| (position[from], position[to]))
        .collect();
    Layout {
        nodes,
        flows: sorted,
        ends,
        columns: count,
        grouped,
        dropped,
    }
}

/// The flow standing for `rest`: their exact sums, between "other providers" and "other
/// receivers"; `None` when a sum exceeds 28 digits.
fn others(rest: &[Flow]) -> Option<Flow> {
    let add = |sum: Option<Decimal>, amount: Option<Decimal>| -> Option<Option<Decimal>> {
        match (sum, amount) {
            (Some(sum), Some(amount)) => sum.checked_add(amount).map(Some),
            (sum, None) => Some(sum),
            (None, amount) => Some(amount),
        }
    };
    let (mut sent, mut received, mut missing) = (None, None, None);
    for flow in rest {
        sent = add(sent, flow.sent)?;
        received = add(received, flow.received)?;
        missing = add(missing, flow.missing.filter(|_| flow.finding))?;
    }
    let first = rest.first()?;
    Some(Flow {
        from: Org {
            id: String::new(),
            name: "other providers".to_owned(),
        },
        to: Org {
            id: String::new(),
            name: "other receivers".to_owned(),
        },
        currency: first.currency.clone(),
        sent,
        received,
        missing,
        status: OTHERS,
        status_text: format!("{} smaller flows, grouped", rest.len()),
        finding: missing.is_some(),
        count: rest.iter().map(|flow| flow.count).sum(),
    })
}

/// Each node's column: the longest chain of flows reaching it (donors 0); nodes nothing
/// flows out of (final recipients) go to the last column. A cycle stops growing at the number
/// of nodes.
fn columns(nodes: usize, ends: &[(usize, usize)]) -> Vec<usize> {
    let mut column = vec![0; nodes];
    let limit = nodes.saturating_sub(1);
    for _ in 0..nodes {
        let mut changed = false;
        for &(from, to) in ends {
            let next = (column[from] + 1).min(limit);
            if from != to && column[to] < next {
                column[to] = next;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let last = column.iter().copied().max().unwrap_or(0).max(1);
    let mut gives = vec![false; nodes];
    for &(from, to) in ends {
        if from != to {
            gives[from] = true;
        }
    }
    for (at, column) in column.iter_mut().enumerate() {
        if !gives[at] {
            *column = last;
        }
    }
    column
}

/// One drawing's coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawing {
    /// viewBox height.
    pub height: f64,
    /// Per node: x, y (top) and height of its bar.
    pub nodes: Vec<(f64, f64, f64)>,
    /// Per flow: source x and y (top of the band), target x and y, width of the band, and
    /// the width of its unacknowledged part.
    pub bands: Vec<Band>,
}

/// One band of a drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    /// Where it leaves its source: x, and y of its top.
    pub from: (f64, f64),
    /// Where it enters its target.
    pub to: (f64, f64),
    /// Its width, proportional to its drawn amount.
    pub width: f64,
    /// The width of the part not acknowledged (0 when none).
    pub missing: f64,
}

/// The coordinates of `layout` drawn at `geometry`.
pub fn drawing(layout: &Layout, geometry: &Geometry) -> Drawing {
    let label_height = geometry.font * 1.4;
    let mut totals = vec![0.0; layout.columns];
    for node in &layout.nodes {
        totals[node.column] += node.value;
    }
    let largest = totals.iter().copied().fold(0.0, f64::max);
    let mut per_column = vec![0usize; layout.columns];
    for node in &layout.nodes {
        per_column[node.column] += 1;
    }
    // A few organisations need no full-height block: the height grows with the busiest column.
    let crowded = per_column.iter().copied().max().unwrap_or(1) as f64;
    let money_height = geometry
        .money_height
        .min(MONEY_HEIGHT_PER_NODE * crowded + MONEY_HEIGHT_BASE);
    let scale = if largest > 0.0 {
        money_height / largest
    } else {
        0.0
    };
    let step = (geometry.width - 2.0 * MARGIN - geometry.node_width) / (layout.columns - 1) as f64;
    let mut next_y = vec![MARGIN + label_height; layout.columns];
    let mut nodes = Vec::with_capacity(layout.nodes.len());
    for node in &layout.nodes {
        let x = MARGIN + step * node.column as f64;
        let height = node.value * scale;
        let y = next_y[node.column];
        // Each node keeps room for its label above it.
        next_y[node.column] = y + height.max(1.0) + NODE_GAP + label_height;
        nodes.push((x, y, height));
    }
    let height = next_y.iter().copied().fold(0.0, f64::max) - label_height + MARGIN;
    // Bands leave a source ordered by their targets' heights, and enter a target ordered by
    // their sources' heights: fewer crossings.
    let mut out_order: Vec<usize> = (0..layout.flows.len()).collect();
    out_order.sort_by(|&a, &b| {
        let (ya, yb) = (nodes[layout.ends[a].1].1, nodes[layout.ends[b].1].1);
        ya.partial_cmp(&yb).unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut in_order = out_order.clone();
    in_order.sort_by(|&a, &b| {
        let (ya, yb) = (nodes[layout.ends[a].0].1, nodes[layout.ends[b].0].1);
        ya.partial_cmp(&yb).unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut bands = vec![
        Band {
            from: (0.0, 0.0),
            to: (0.0, 0.0),
            width: 0.0,
            missing: 0.0,
        };
        layout.flows.len()
    ];
    let mut used_out = vec![0.0; nodes.len()];
    for &at in &out_order {
        let source = layout.ends[at].0;
        let (x, y, _) = nodes[source];
        let width = layout.flows[at].drawn().to_f64().unwrap_or(0.0) * scale;
        let missing = layout.flows[at]
            .missing
            .and_then(|missing| missing.to_f64())
            .unwrap_or(0.0)
            * scale;
        bands[at].from = (x + geometry.node_width, y + used_out[source]);
        bands[at].width = width;
        bands[at].missing = missing.min(width);
        used_out[source] += width;
    }
    let mut used_in = vec![0.0; nodes.len()];
    for &at in &in_order {
        let target = layout.ends[at].1;
        let (x, y, _) = nodes[target];
        bands[at].to = (x, y + used_in[target]);
        used_in[target] += bands[at].width;
    }
    Drawing {
        height,
        nodes,
        bands,
    }
}
