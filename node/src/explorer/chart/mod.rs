//! Pictures of the money, drawn on the server as SVG (no JavaScript): a flow diagram
//! (`sankey.rs` lays it out, `sankey_svg.rs` draws it: donors → intermediaries → final
//! recipients) and a bar chart per month of
//! disbursements and receipts (`bars.rs`), one picture per currency (amounts in two currencies
//! are never added), each with the same numbers as an HTML table beside it.
//!
//! The numbers come from the money model (`aidledger_view::money`): a flow is one link's sums
//! in one currency and its status is the link's; nothing here decides a status. Geometry uses
//! `f64` (pixels only); every number written as text goes through `aidledger_view::format`
//! from the exact decimals. Markup is written through `html.rs` (all text escaped), with
//! classes of the style sheet, never a `style` attribute (the Content-Security-Policy allows
//! styles from the style sheet only).

mod bars;
mod sankey;
mod sankey_svg;

use std::collections::BTreeMap;

use aidledger_spec::record::Party as RecordParty;
use aidledger_view::corrections::Entry;
use aidledger_view::format;
use aidledger_view::money::{Link, LinkKey, LinkStatus, MoneyModel, Pair};
use rust_decimal::Decimal;

use super::html::Html;

pub use bars::MonthRow;
pub use sankey::{drawing, layout, Band, Drawing, Geometry, Layout, NARROW, WIDE};

/// Most flows one diagram draws; the smaller ones beyond are drawn as one flow "others"
/// (between nodes "other providers" and "other receivers"), and the picture says so. Keeps a
/// picture readable and its page small.
pub const FLOWS_DRAWN_MAX: usize = 24;

/// Most months one bar chart draws (the latest); earlier months are one row "earlier".
pub const MONTHS_DRAWN_MAX: usize = 24;

/// IATI TransactionType codes drawn as disbursed (disbursement, expenditure) and as received
/// (incoming funds) in the bar chart: money that moved, not promises.
const DISBURSED_TYPES: [u8; 2] = [3, 4];
const RECEIVED_TYPES: [u8; 1] = [1];

/// An organisation as a picture names it: its id, and its name when known (a member's name,
/// else the name the records give).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Org {
    /// The id (`GB-GOV-1`); empty when the records name none.
    pub id: String,
    /// The name; empty when unknown.
    pub name: String,
}

impl Org {
    /// `Danish Refugee Council (DK-CVR-20699310)`, or the one of the two that is known.
    pub fn label(&self) -> String {
        match (self.name.is_empty(), self.id.is_empty()) {
            (false, false) if self.name != self.id => format!("{} ({})", self.name, self.id),
            (false, _) => self.name.clone(),
            (true, false) => self.id.clone(),
            (true, true) => "not named".to_owned(),
        }
    }

    /// The name, or the id when no name is known (short labels in a drawing).
    pub fn short(&self) -> &str {
        if self.name.is_empty() {
            if self.id.is_empty() {
                "not named"
            } else {
                &self.id
            }
        } else {
            &self.name
        }
    }
}

/// One flow: a link's sums in one currency, with the link's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// The provider.
    pub from: Org,
    /// The receiver.
    pub to: Org,
    /// The currency (a flow is in one currency).
    pub currency: String,
    /// What the provider reports sending in this currency (withdrawn transactions not
    /// counted); `None` when its side holds nothing in this currency.
    pub sent: Option<Decimal>,
    /// What the receiver reports receiving in this currency.
    pub received: Option<Decimal>,
    /// The part the model finds short in this currency (`short`), or the whole sent amount
    /// of an `unacknowledged` link; drawn apart and labelled.
    pub missing: Option<Decimal>,
    /// The link's status name (`full`, `short`, …), `others` for flows grouped by the bound.
    pub status: &'static str,
    /// The link's status in words, without amounts (`short`, `unacknowledged (pending)`).
    pub status_text: String,
    /// Whether the link is a finding (the model's `Link::is_finding`).
    pub finding: bool,
    /// How many flows this one stands for (more than one for "others").
    pub count: usize,
}

impl Flow {
    /// The amount the flow is drawn with: the larger of the two sides (so that what was
    /// sent and what was received both fit).
    pub fn drawn(&self) -> Decimal {
        match (self.sent, self.received) {
            (Some(sent), Some(received)) => sent.max(received),
            (Some(amount), None) | (None, Some(amount)) => amount,
            (None, None) => Decimal::ZERO,
        }
    }
}

/// A flow diagram's and a bar chart's data for one page.
#[derive(Clone, Debug, Default)]
pub struct Pictures {
    /// Every flow of money (disbursement links and explicit links: no commitments or
    /// pledges), in the model's link order.
    pub flows: Vec<Flow>,
    /// Disbursed and received per currency and month.
    pub months: Vec<MonthRow>,
    /// Why a picture is not drawn (a sum over 28 digits), when it is not.
    pub note: Option<String>,
}

/// Names of organisations: a member's name by id (the network's), else none.
pub type Names<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The pictures of the links `keep` selects, and of the transactions `counted` selects for
/// the bars (`entry` is current or withdrawn; withdrawn ones are never counted).
pub fn pictures(
    model: &MoneyModel,
    keep: impl Fn(&Link<'_>) -> bool,
    counted: impl Fn(&Entry) -> bool,
    names: Names<'_>,
) -> Pictures {
    let mut pictures = Pictures::default();
    for link in model.links().filter(|link| keep(link)) {
        // Promises are not money that moved: commitments and pledges are not drawn.
        if matches!(link.pair(), Some(Pair::Commitment | Pair::Pledge)) {
            continue;
        }
        pictures.flows.extend(flows_of(&link, names));
    }
    let entries = model.links().filter(|link| keep(link)).flat_map(|link| {
        link.provider()
            .chain(link.receiver())
            .collect::<Vec<_>>()
            .into_iter()
    });
    match bars::months(model, entries.filter(|entry| counted(entry))) {
        Ok(months) => pictures.months = months,
        Err(note) => pictures.note = Some(note),
    }
    pictures
}

/// The flows of one link: one per currency of either side.
pub fn flows_of(link: &Link<'_>, names: Names<'_>) -> Vec<Flow> {
    let (from, to) = ends(link, names);
    let (sent, received) = (link.provider_sums(), link.receiver_sums());
    let mut currencies: Vec<&str> = sent
        .0
        .iter()
        .chain(&received.0)
        .map(|held| held.currency.as_str())
        .collect();
    currencies.sort_unstable();
    currencies.dedup();
    let status = link.status();
    currencies
        .into_iter()
        .map(|currency| {
            let missing = match status {
                LinkStatus::Short { shortfall, .. } => shortfall.get(currency),
                LinkStatus::Unacknowledged { .. } => sent.get(currency),
                _ => None,
            };
            Flow {
                from: from.clone(),
                to: to.clone(),
                currency: currency.to_owned(),
                sent: sent.get(currency),
                received: received.get(currency),
                missing,
                status: status.name(),
                status_text: status_words(status),
                finding: link.is_finding(),
                count: 1,
            }
        })
        .collect()
}

/// A status in words without its amounts (the picture's table writes those through
/// `format`): `short`, `unacknowledged (pending)`, `full`.
fn status_words(status: &LinkStatus) -> String {
    match status {
        LinkStatus::Unacknowledged { .. } => super::model::status_line(status),
        other => other.name().to_owned(),
    }
}

/// Who a link's money goes from and to: the provider side's author (or, with no provider
/// record held, the provider a receipt names) and the receiver the link names (the receipt's
/// author, its key, or the provider's transaction).
fn ends(link: &Link<'_>, names: Names<'_>) -> (Org, Org) {
    let provider = link.provider().find(|entry| !entry.withdrawn);
    let provider = provider.or_else(|| link.provider().next());
    let receipt = link.receiver().next();
    let from = match (provider, receipt) {
        (Some(entry), _) => entry.author.as_str(),
        (None, Some(entry)) => party_ref(entry.transaction.provider.as_ref()),
        (None, None) => "",
    };
    let to = match (link.key(), provider, receipt) {
        (_, _, Some(entry)) => entry.author.as_str(),
        (LinkKey::Activity { receiver_org, .. }, _, None) => receiver_org.as_str(),
        (_, Some(entry), None) => party_ref(entry.transaction.receiver.as_ref()),
        (_, None, None) => "",
    };
    (org(link, from, names), org(link, to, names))
}

/// A party's organisation id, empty when there is no party.
fn party_ref(party: Option<&RecordParty>) -> &str {
    party.map_or("", |party| &party.org_ref)
}

/// An organisation by id: the member's name, else the first name the link's records give it
/// (as provider or receiver).
fn org(link: &Link<'_>, id: &str, names: Names<'_>) -> Org {
    let name = names(id).or_else(|| {
        link.provider()
            .chain(link.receiver())
            .flat_map(|entry| [&entry.transaction.provider, &entry.transaction.receiver])
            .flatten()
            .filter(|party| party.org_ref == id)
            .map(|party| party.name.trim())
            .find(|name| !name.is_empty())
            .map(str::to_owned)
    });
    Org {
        id: id.to_owned(),
        name: name.unwrap_or_default(),
    }
}

/// The flows of each currency, in currency order: one diagram each.
pub fn by_currency(flows: &[Flow]) -> BTreeMap<&str, Vec<&Flow>> {
    let mut currencies: BTreeMap<&str, Vec<&Flow>> = BTreeMap::new();
    for flow in flows {
        currencies.entry(&flow.currency).or_default().push(flow);
    }
    currencies
}

/// Writes the pictures of a page with their tables: a flow diagram per currency, then the
/// bars per currency. `subject` names what the page is about in the pictures' titles
/// (`activity GB-GOV-1-301150-117`); `id` makes the element ids unique on the page.
/// `scope`, when not empty, says what the pictures cover (under the heading).
pub fn write(html: &mut Html, pictures: &Pictures, subject: &str, id: &str, scope: &str) {
    html.raw("<h2>Flow of money</h2>");
    if !scope.is_empty() {
        html.raw("<p class=\"muted\">").text(scope).raw("</p>");
    }
    if pictures.flows.is_empty() {
        html.raw("<p class=\"muted\">No disbursements or receipts to draw.</p>");
    } else {
        html.raw("<p class=\"muted\">Who paid whom, one picture per currency (amounts in two currencies are never added). A band's width is the amount: what the provider reports sending, or what the receiver reports receiving if that is more. Red hatched ends, labelled, are money the receiver has not acknowledged (grey while still within the window). Commitments and pledges are not drawn. The table under each picture holds the same numbers.</p>");
        for (currency, flows) in by_currency(&pictures.flows) {
            let layout = sankey::layout(&flows);
            sankey_svg::write(html, &layout, currency, subject, id);
        }
    }
    html.raw("<h2>Money per month</h2>");
    if let Some(note) = &pictures.note {
        html.raw("<p class=\"warn\">").text(note).raw("</p>");
    } else if pictures.months.is_empty() {
        html.raw("<p class=\"muted\">No disbursements or receipts.</p>");
    } else {
        bars::write(html, &pictures.months, subject, id);
    }
}

/// An amount for people: `GBP 125,000.00` (exact, scale kept).
pub fn money(amount: &Decimal, currency: &str) -> String {
    format::money(&amount.to_string(), currency)
}

/// Opens an accessible SVG: `<svg class=… viewBox=… font-size=… role="img">` labelled by its
/// `<title>` and `<desc>` (ids `ELEMENT-t`, `ELEMENT-d`), the one opening of every picture.
fn open_svg(
    html: &mut Html,
    class: &str,
    (width, height, font): (f64, f64, f64),
    element: &str,
    title: &str,
    desc: &str,
) {
    html.raw("<svg class=\"")
        .text(class)
        .raw("\" viewBox=\"0 0 ")
        .display(Px(width))
        .raw(" ")
        .display(Px(height))
        .raw("\" font-size=\"")
        .display(Px(font))
        .raw("\" role=\"img\" aria-labelledby=\"")
        .text(element)
        .raw("-t ")
        .text(element)
        .raw("-d\"><title id=\"")
        .text(element)
        .raw("-t\">")
        .text(title)
        .raw("</title><desc id=\"")
        .text(element)
        .raw("-d\">")
        .text(desc)
        .raw("</desc>");
}

/// A coordinate written with one decimal (pixels; never an amount).
struct Px(f64);

impl std::fmt::Display for Px {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Whole pixels print without a fraction: smaller pages, same picture.
        let tenths = (self.0 * 10.0).round() / 10.0;
        if tenths.fract() == 0.0 {
            write!(out, "{tenths:.0}")
        } else {
            write!(out, "{tenths:.1}")
        }
    }
}

/// Shortens a label to at most `chars` characters, with an ellipsis when cut.
fn fit(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use aidledger_spec::record::{Money, Party, Transaction};
    use aidledger_spec::text::Date;
    use aidledger_spec::Digest;
    use aidledger_view::corrections::Entry;
    use aidledger_view::money::MoneyModel;

    use super::bars::{lengths, months, EARLIER};
    use super::sankey::{OTHERS, WIDE};
    use super::*;

    const DONOR: &str = "GB-GOV-1";
    const PARTNER: &str = "DK-CVR-20699310";
    const LOCAL: &str = "XM-LOCAL-1";

    fn date(year: u16, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    fn party(org: &str, name: &str, activity: &str) -> Option<Party> {
        Some(Party {
            org_ref: org.to_owned(),
            name: name.to_owned(),
            activity_id: activity.to_owned(),
        })
    }

    /// A transaction entry: `kind` 3 (disbursement, `from` → `to`) or 1 (incoming funds,
    /// authored by `to`).
    #[allow(clippy::too_many_arguments)]
    fn entry(
        id: u8,
        author: &str,
        kind: u8,
        activity: &str,
        amount: &str,
        currency: &str,
        on: Date,
        provider: Option<Party>,
        receiver: Option<Party>,
        acknowledges: Option<u8>,
    ) -> Entry {
        Entry {
            id: Digest([id; 32]),
            author: author.to_owned(),
            seq: u64::from(id),
            transaction: Transaction {
                activity_id: activity.to_owned(),
                transaction_type: kind,
                value: Money {
                    amount: amount.to_owned(),
                    currency: currency.to_owned(),
                },
                value_date: on,
                transaction_date: on,
                provider,
                receiver,
                description: String::new(),
                acknowledges: acknowledges.map(|at| Digest([at; 32])),
                iati: None,
            },
            corrected_by: None,
            acknowledged_by: Vec::new(),
            withdrawn: false,
        }
    }

    /// Donor → partner GBP 125,000.00 acknowledged as 120,000.00 (short 5,000.00); donor →
    /// partner EUR 1,000 never acknowledged; partner → local GBP 50,000.00 fully received; a
    /// withdrawn disbursement.
    fn story() -> MoneyModel {
        let old = date(2024, 3, 1);
        let entries = vec![
            entry(
                1,
                DONOR,
                3,
                "A",
                "125000.00",
                "GBP",
                old,
                party(DONOR, "", "A"),
                party(PARTNER, "Danish Refugee Council", ""),
                None,
            ),
            entry(
                2,
                PARTNER,
                1,
                "B",
                "120000.00",
                "GBP",
                date(2024, 4, 2),
                party(DONOR, "", "A"),
                party(PARTNER, "", "B"),
                Some(1),
            ),
            entry(
                3,
                DONOR,
                3,
                "A",
                "1000",
                "EUR",
                old,
                party(DONOR, "", "A"),
                party(PARTNER, "Danish Refugee Council", ""),
                None,
            ),
            entry(
                4,
                PARTNER,
                3,
                "B",
                "50000.00",
                "GBP",
                date(2024, 5, 3),
                party(PARTNER, "", "B"),
                party(LOCAL, "Local <NGO>", ""),
                None,
            ),
            entry(
                5,
                LOCAL,
                1,
                "C",
                "50000.00",
                "GBP",
                date(2024, 5, 20),
                party(PARTNER, "", "B"),
                party(LOCAL, "", "C"),
                Some(4),
            ),
            {
                let mut withdrawn = entry(
                    6,
                    DONOR,
                    3,
                    "A",
                    "999.00",
                    "GBP",
                    old,
                    party(DONOR, "", "A"),
                    party(LOCAL, "", ""),
                    None,
                );
                withdrawn.withdrawn = true;
                withdrawn
            },
        ];
        MoneyModel::build(entries, date(2025, 1, 1), 90).expect("the model builds")
    }

    fn names(id: &str) -> Option<String> {
        (id == DONOR).then(|| "Foreign, Commonwealth and Development Office".to_owned())
    }

    fn story_pictures() -> Pictures {
        pictures(&story(), |_| true, |_| true, &names)
    }

    fn flow(from: &str, to: &str, amount: &str) -> Flow {
        let amount = Decimal::from_str(amount).expect("an amount");
        Flow {
            from: Org {
                id: from.to_owned(),
                name: String::new(),
            },
            to: Org {
                id: to.to_owned(),
                name: String::new(),
            },
            currency: "GBP".to_owned(),
            sent: Some(amount),
            received: Some(amount),
            missing: None,
            status: "full",
            status_text: "full".to_owned(),
            finding: false,
            count: 1,
        }
    }

    /// The `<svg …>…</svg>` elements of a page.
    fn svgs(page: &str) -> Vec<&str> {
        page.split("<svg ")
            .skip(1)
            .map(|rest| &rest[..rest.find("</svg>").expect("a closed svg")])
            .collect()
    }

    #[test]
    fn flows_come_from_the_model_one_per_link_and_currency() {
        let pictures = story_pictures();
        let currencies = by_currency(&pictures.flows);
        assert_eq!(
            currencies.keys().copied().collect::<Vec<_>>(),
            ["EUR", "GBP"]
        );
        // Never a flow of two currencies: each diagram holds its currency only.
        for (currency, flows) in &currencies {
            assert!(flows.iter().all(|flow| flow.currency == *currency));
        }
        let gbp = &currencies["GBP"];
        let short = gbp
            .iter()
            .find(|flow| flow.to.id == PARTNER)
            .expect("the donor's GBP flow");
        assert_eq!(
            short.from.name,
            "Foreign, Commonwealth and Development Office"
        );
        assert_eq!(short.to.name, "Danish Refugee Council");
        assert_eq!(short.sent, Decimal::from_str("125000.00").ok());
        assert_eq!(short.received, Decimal::from_str("120000.00").ok());
        assert_eq!(short.status, "short");
        assert_eq!(short.missing.map(|m| m.to_string()), Some("5000.00".into()));
        assert!(short.finding);
        let eur = &currencies["EUR"][0];
        assert_eq!(eur.status, "unacknowledged");
        assert_eq!(eur.missing.map(|m| m.to_string()), Some("1000".into()));
        let local = gbp
            .iter()
            .find(|flow| flow.to.id == LOCAL && flow.status == "full")
            .expect("the partner's flow to the local NGO");
        assert_eq!(local.missing, None);
        // The withdrawn disbursement is no money sent.
        assert!(!gbp
            .iter()
            .any(|flow| flow.sent == Decimal::from_str("999.00").ok()));
    }

    #[test]
    fn intermediaries_stand_between_donors_and_final_recipients() {
        let pictures = story_pictures();
        let gbp = &by_currency(&pictures.flows)["GBP"];
        let layout = layout(gbp);
        let column = |id: &str| {
            layout
                .nodes
                .iter()
                .find(|node| node.org.id == id)
                .map(|node| node.column)
        };
        assert_eq!(layout.columns, 3);
        assert_eq!(
            (column(DONOR), column(PARTNER), column(LOCAL)),
            (Some(0), Some(1), Some(2))
        );
    }

    #[test]
    fn band_widths_are_proportional_to_the_amounts() {
        let flows = [
            flow("A", "X", "400.00"),
            flow("A", "Y", "200.00"),
            flow("B", "Y", "100.00"),
            flow("B", "Z", "0.50"),
        ];
        let refs: Vec<&Flow> = flows.iter().collect();
        let layout = layout(&refs);
        for geometry in [WIDE, NARROW] {
            let drawing = drawing(&layout, &geometry);
            let per_unit: Vec<f64> = layout
                .flows
                .iter()
                .zip(&drawing.bands)
                .map(|(flow, band)| {
                    let amount = flow.drawn().to_string().parse::<f64>().expect("a number");
                    band.width / amount
                })
                .collect();
            for ratio in &per_unit {
                assert!((ratio - per_unit[0]).abs() < 1e-9, "{per_unit:?}");
            }
            assert!(drawing.bands[0].width > 0.0);
            // A node is as tall as what flows through it.
            let a = layout.nodes.iter().position(|node| node.org.id == "A");
            let a = drawing.nodes[a.expect("node A")];
            assert!((a.2 - 600.0 * per_unit[0]).abs() < 1e-9);
        }
    }

    #[test]
    fn each_drawing_has_one_path_per_flow_and_marks_the_shortfall() {
        let pictures = story_pictures();
        let mut html = Html::default();
        write(&mut html, &pictures, "activity A", "t", "");
        let page = html.finish();
        let flows = by_currency(&pictures.flows);
        let drawings: Vec<&str> = svgs(&page)
            .into_iter()
            .filter(|svg| svg.starts_with("class=\"chart flow"))
            .collect();
        // Wide and narrow, per currency.
        assert_eq!(drawings.len(), 2 * flows.len());
        for svg in &drawings {
            let currency = if svg.contains("Flow of EUR") {
                "EUR"
            } else {
                "GBP"
            };
            assert_eq!(
                svg.matches("<path ").count(),
                flows[currency].len(),
                "{svg}"
            );
            assert!(svg.contains("role=\"img\""));
            assert!(svg.contains("aria-labelledby=\""));
            assert!(svg.contains("<title id=") && svg.contains("<desc id="));
        }
        // The short part is drawn apart and labelled, with the amount written for people.
        let gbp_wide = drawings
            .iter()
            .find(|svg| svg.contains("Flow of GBP") && svg.contains("wide"))
            .expect("the wide GBP drawing");
        assert!(gbp_wide.contains("<rect class=\"gap\""));
        assert!(gbp_wide.contains("short GBP 5,000.00"));
        assert!(page.contains("not acknowledged EUR 1,000"));
        // The table beside it holds the same numbers.
        assert!(page.contains(
            "<td class=\"num\" data-label=\"sent\">GBP 125,000.00</td>\
             <td class=\"num\" data-label=\"received\">GBP 120,000.00</td>"
        ));
        assert_eq!(
            page.matches("<tr class=\"flow\">").count(),
            pictures.flows.len()
        );
        // Names escaped, no inline style (the Content-Security-Policy forbids it), no script.
        assert!(page.contains("Local &lt;NGO&gt;"));
        assert!(!page.contains("<NGO>"));
        assert!(!page.contains("style="));
        assert!(!page.contains("<script"));
    }

    #[test]
    fn the_number_of_flows_drawn_is_bounded_and_the_rest_grouped() {
        let flows: Vec<Flow> = (1..=60)
            .map(|at| flow("A", &format!("R{at}"), &format!("{at}.00")))
            .collect();
        let refs: Vec<&Flow> = flows.iter().collect();
        let layout = layout(&refs);
        assert_eq!(layout.flows.len(), FLOWS_DRAWN_MAX);
        assert_eq!(layout.grouped, 60 - (FLOWS_DRAWN_MAX - 1));
        let others = layout.flows.last().expect("the others flow");
        assert_eq!(others.status, OTHERS);
        // 1 + 2 + … + 37, exact.
        let rest = 60 - (FLOWS_DRAWN_MAX - 1);
        assert_eq!(
            others.sent.map(|sum| sum.to_string()),
            Some(format!("{}.00", rest * (rest + 1) / 2))
        );
        assert_eq!(others.count, rest);
        // The largest are drawn one by one.
        assert_eq!(layout.flows[0].to.id, "R60");
        let mut html = Html::default();
        sankey_svg::write(&mut html, &layout, "GBP", "test", "t");
        let page = html.finish();
        for svg in svgs(&page) {
            assert_eq!(svg.matches("<path ").count(), FLOWS_DRAWN_MAX);
        }
        assert!(page.contains(&format!("at most {FLOWS_DRAWN_MAX} flows are drawn")));
        assert!(page.contains("other receivers"));
    }

    #[test]
    fn months_sum_exactly_per_currency_and_leave_withdrawn_out() {
        let model = story();
        let rows = months(&model, model.entries().iter()).expect("sums");
        let row = |currency: &str, month: &str| {
            rows.iter()
                .find(|row| row.currency == currency && row.month == month)
                .cloned()
        };
        let march = row("GBP", "2024-03").expect("March");
        // 125,000.00 disbursed; the withdrawn 999.00 not counted.
        assert_eq!(
            march.disbursed.map(|sum| sum.to_string()),
            Some("125000.00".into())
        );
        assert_eq!(march.received, None);
        let may = row("GBP", "2024-05").expect("May");
        assert_eq!(
            may.disbursed.map(|sum| sum.to_string()),
            Some("50000.00".into())
        );
        assert_eq!(
            may.received.map(|sum| sum.to_string()),
            Some("50000.00".into())
        );
        assert_eq!(
            row("EUR", "2024-03")
                .and_then(|row| row.disbursed)
                .map(|sum| sum.to_string()),
            Some("1000".into())
        );
        let gbp: Vec<&MonthRow> = rows.iter().filter(|row| row.currency == "GBP").collect();
        let lengths = lengths(&gbp);
        // 125,000 is the longest bar; 50,000 is 2/5 of it.
        assert!(
            (lengths[2].0 / lengths[0].0 - 0.4).abs() < 1e-9,
            "{lengths:?}"
        );
        let mut html = Html::default();
        write(&mut html, &story_pictures(), "activity A", "t", "");
        let page = html.finish();
        let bars: Vec<&str> = svgs(&page)
            .into_iter()
            .filter(|svg| svg.starts_with("class=\"chart bars"))
            .collect();
        assert_eq!(bars.len(), 2, "one bar chart per currency");
        assert!(page.contains(
            "<td data-label=\"month\">2024-05</td>\
             <td class=\"num\" data-label=\"disbursed\">GBP 50,000.00</td>\
             <td class=\"num\" data-label=\"received\">GBP 50,000.00</td>"
        ));
    }

    #[test]
    fn months_beyond_the_bound_are_summed_as_earlier() {
        let entries: Vec<Entry> = (0..30u8)
            .map(|at| {
                entry(
                    at + 1,
                    DONOR,
                    3,
                    "A",
                    "10.00",
                    "GBP",
                    date(2020 + u16::from(at / 12), at % 12 + 1, 1),
                    party(DONOR, "", "A"),
                    party(PARTNER, "", ""),
                    None,
                )
            })
            .collect();
        let model = MoneyModel::build(entries, date(2025, 1, 1), 90).expect("the model builds");
        let rows = months(&model, model.entries().iter()).expect("sums");
        assert_eq!(rows.len(), MONTHS_DRAWN_MAX + 1);
        assert_eq!(rows[0].month, EARLIER);
        let earlier = 30 - MONTHS_DRAWN_MAX;
        assert_eq!(
            rows[0].disbursed.map(|sum| sum.to_string()),
            Some(format!("{}.00", earlier * 10))
        );
        assert_eq!(rows.last().map(|row| row.month.as_str()), Some("2022-06"));
    }
}
