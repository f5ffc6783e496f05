//! The explorer's downloads over real loopback HTTP on a real sled store: every table's CSV
//! (parsed with the csv crate) holds exactly the numbers of the HTML table under which its
//! link stands (the page's grouping stripped), and a treaty's page stays small whatever its
//! text's size, marks each language's text with its own `lang`, links the parts and serves each
//! language's whole text, byte for byte as signed.

mod common;

use aidledger_node::explorer::model::TREATY_TEXT_PART_BYTES;
use aidledger_spec::record::{Party, TextVersion, TreatyAction, TreatyActionKind};
use aidledger_spec::{Body, RecordId};
use common::explorer_server::*;
use common::*;

fn disbursement(activity: &str, amount: &str, currency: &str) -> Body {
    let Body::Transaction(mut transaction) = transaction(currency, None) else {
        unreachable!()
    };
    transaction.activity_id = activity.into();
    transaction.value.amount = amount.into();
    transaction.provider = Some(Party {
        org_ref: DONOR.into(),
        ..Party::default()
    });
    transaction.receiver = Some(Party {
        org_ref: IMPLEMENTER.into(),
        ..Party::default()
    });
    Body::Transaction(transaction)
}

/// `body` (a transaction) with IATI type `transaction_type`, acknowledging `acknowledges`.
fn typed(body: Body, transaction_type: u8, acknowledges: Option<RecordId>) -> Body {
    let Body::Transaction(mut transaction) = body else {
        unreachable!()
    };
    transaction.transaction_type = transaction_type;
    transaction.acknowledges = acknowledges;
    Body::Transaction(transaction)
}

/// HTML entities the pages write, undone.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text of an HTML fragment: tags dropped, entities undone, white space collapsed.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    unescape(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The table whose "Download CSV" link is `href`: its rows of cell texts (the header row
/// first), and the link. Panics when the page has no such link.
fn html_table(page: &str, table: &str) -> (Vec<Vec<String>>, String) {
    let link_at = page
        .match_indices("<a href=\"/csv")
        .map(|(at, _)| at)
        .find(|at| {
            let end = page[*at..].find("\" download>").unwrap() + at;
            unescape(&page[at + 9..end]).ends_with(&format!("table={table}"))
        })
        .unwrap_or_else(|| panic!("no download link of table {table}:\n{page}"));
    let href_end = page[link_at..].find("\" download>").unwrap() + link_at;
    let href = unescape(&page[link_at + 9..href_end]);
    let start = page[..link_at].rfind("<table").unwrap();
    let end = page[start..].find("</table>").unwrap() + start;
    let rows = page[start..end].split("<tr>").skip(1).map(cells).collect();
    (rows, href)
}

/// The texts of a table row's cells (`<th>` or `<td>`).
fn cells(row: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut rest = row;
    while let Some(at) = ["<td", "<th"]
        .iter()
        .filter_map(|open| rest.find(open))
        .min()
    {
        let content = rest[at..].find('>').unwrap() + at + 1;
        let close = rest[content..].find("</t").unwrap() + content;
        cells.push(text_of(&rest[content..close]));
        rest = &rest[close..];
    }
    cells
}

/// A CSV download: its response checked (type, attachment), parsed by the csv crate.
fn csv_table(server: &Server, href: &str) -> Vec<Vec<String>> {
    let response = server.get(href);
    assert_eq!(response.status(), 200, "GET {href}");
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap().to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let body = response.bytes().unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_ref());
    reader
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// `125,000.00` → `125000.00`: the page's digit grouping (a comma between digits) stripped.
/// A page's money text in the CSV's words: every `CUR 1,000.00` back to `1000.00 CUR`.
fn money_as_signed(text: &str) -> String {
    let words: Vec<String> = ungrouped(text).split(' ').map(str::to_owned).collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < words.len() {
        let word = &words[at];
        let is_code = word.len() == 3 && word.bytes().all(|b| b.is_ascii_uppercase());
        match words.get(at + 1) {
            Some(next) if is_code && next.starts_with(|c: char| c.is_ascii_digit()) => {
                // The amount, without the punctuation after it (`1000.00),`).
                let end = next.trim_end_matches(|c: char| !c.is_ascii_digit());
                out.push(format!("{end} {word}{}", &next[end.len()..]));
                at += 2;
            }
            _ => {
                out.push(word.clone());
                at += 1;
            }
        }
    }
    out.join(" ")
}

fn ungrouped(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .filter(|(at, c)| {
            !(**c == ','
                && *at > 0
                && chars[at - 1].is_ascii_digit()
                && chars.get(at + 1).is_some_and(char::is_ascii_digit))
        })
        .map(|(_, c)| *c)
        .collect()
}

/// Checks that the CSV of `table` on `page` equals the HTML table: the same rows, each HTML
/// cell equal to its CSV field(s): an organisation cell shows the name and the id (the CSV
/// has both), a record its short id (the CSV the full one), an amount or count grouped (the
/// CSV the signed text). `csv_only` are the CSV's fields the page does not show (they come
/// last; the page's own columns after its table's are not compared). Returns the CSV rows.
fn same_numbers(server: &Server, page: &str, table: &str, csv_only: &[&str]) -> Vec<Vec<String>> {
    let (html, href) = html_table(page, table);
    let csv = csv_table(server, &href);
    assert_eq!(html.len(), csv.len(), "{table}: rows\n{html:?}\n{csv:?}");
    let header = csv[0].clone();
    assert!(html.len() > 1, "{table}: compare a table with rows");
    for (html_row, csv_row) in html.iter().zip(&csv).skip(1) {
        assert_eq!(csv_row.len(), header.len(), "{table}");
        let mut cells = html_row.iter();
        let mut at = 0;
        while at < csv_row.len() && !csv_only.contains(&header[at].as_str()) {
            let cell = cells
                .next()
                .unwrap_or_else(|| panic!("{table}: {html_row:?}"));
            let field = &csv_row[at];
            let companion = header.get(at + 1).map_or("", String::as_str);
            if companion == "record_label" {
                // A record: its label and short id on the page, full id and label in the CSV.
                let label = &csv_row[at + 1];
                assert_eq!(cell, &format!("{label} {}", &field[..12]), "{table}");
                at += 2;
                continue;
            }
            if companion == "timestamp_ms" {
                // A claimed time: readable on the page and in the CSV, the number beside it.
                assert_eq!(cell, field, "{table}");
                assert!(csv_row[at + 1].parse::<u64>().is_ok(), "{table}");
                at += 2;
                continue;
            }
            if companion.ends_with("_name") {
                let name = &csv_row[at + 1];
                let shown = if name.is_empty() {
                    field.clone()
                } else {
                    format!("{name} {field}")
                };
                assert_eq!(cell, &shown, "{table}");
                at += 2;
                continue;
            }
            let ids: Vec<&str> = field.split(' ').collect();
            if cell == field {
                // Shown as it is (text, a key).
            } else if ids.iter().all(|id| id.len() == 64) {
                let shown: Vec<&str> = cell.split(' ').collect();
                assert_eq!(shown.len(), ids.len(), "{table}: {cell} {field}");
                for (short, id) in shown.iter().zip(&ids) {
                    assert!(
                        short.len() == 12 && id.starts_with(short),
                        "{table}: {cell}"
                    );
                }
            } else if field.is_empty() {
                assert_eq!(cell, "—", "{table}");
            } else if ungrouped(cell) == *field {
                // An amount: grouped on the page, as signed in the CSV.
            } else {
                // Money in the model's words: `125000.00 GBP` in the CSV, `GBP 125,000.00` on
                // the page; the same words once the page's are put back in the CSV's order.
                assert_eq!(
                    money_as_signed(cell),
                    *field,
                    "{table}: {html_row:?} {csv_row:?}"
                );
            }
            at += 1;
        }
    }
    csv
}

#[test]
fn csv_downloads_parse_and_hold_the_html_tables_numbers() {
    let (_root, store) = new_store();
    append(
        &store,
        DONOR,
        vec![
            disbursement("ACT-1", "125000.00", "GBP"),
            disbursement("ACT-1", "1234567.5", "GBP"),
            disbursement("ACT-1", "0.25", "USD"),
        ],
    );
    append(
        &store,
        IMPLEMENTER,
        vec![disbursement("ACT-1", "1000000", "GBP")],
    );
    let server = Server::start(store.clone());

    // The activity page's money tables: over every publisher, and by publisher.
    let page = server.page("/activity/ACT-1");
    let own = same_numbers(&server, &page, "own", &[]);
    assert_eq!(
        own[0],
        ["transaction_type", "currency", "transactions", "total"]
    );
    assert!(
        own.contains(&vec![
            "disbursement".into(),
            "GBP".into(),
            "3".into(),
            "2359567.50".into()
        ]),
        "{own:?}"
    );
    assert!(page.contains("2,359,567.50"), "the page groups digits");
    let by_org = same_numbers(&server, &page, "own-by-org", &[]);
    assert_eq!(
        by_org[0],
        [
            "organisation",
            "organisation_name",
            "transaction_type",
            "currency",
            "transactions",
            "total"
        ]
    );
    assert!(by_org.contains(&vec![
        DONOR.into(),
        "Donor".into(),
        "disbursement".into(),
        "GBP".into(),
        "2".into(),
        "1359567.50".into()
    ]));

    // The organisation page's own totals.
    let page = server.page(&format!("/org/{DONOR}"));
    let totals = same_numbers(&server, &page, "totals", &[]);
    assert_eq!(totals.len(), 3, "{totals:?}");
    assert!(totals.contains(&vec![
        "disbursement".into(),
        "USD".into(),
        "1".into(),
        "0.25".into()
    ]));
    let page = server.page(&format!("/org/{IMPLEMENTER}"));
    same_numbers(&server, &page, "others", &[]);

    // The money model's tables: a receipt short of its disbursement, and a commitment.
    let given = append(
        &store,
        DONOR,
        vec![
            disbursement("ACT-2", "125000.00", "GBP"),
            typed(disbursement("ACT-2", "200000.00", "GBP"), 2, None),
        ],
    );
    append(
        &store,
        IMPLEMENTER,
        vec![typed(
            disbursement("ACT-2", "120000.00", "GBP"),
            1,
            Some(given[0].id()),
        )],
    );
    let page = server.page("/activity/ACT-2");
    let links = same_numbers(
        &server,
        &page,
        "links",
        &["provider_records", "receiver_records"],
    );
    let short = links
        .iter()
        .find(|row| row[0] == "short 5000.00 GBP")
        .unwrap_or_else(|| panic!("{links:?}"));
    assert_eq!(short[3], "125000.00 GBP");
    assert_eq!(short[5], given[0].id().to_hex());
    assert!(page.contains("short GBP 5,000.00"));
    let findings = same_numbers(
        &server,
        &page,
        "findings",
        &["provider_records", "receiver_records"],
    );
    assert!(findings.iter().any(|row| row[0] == "short"), "{findings:?}");
    let commitments = same_numbers(&server, &page, "commitments", &[]);
    assert!(
        commitments
            .iter()
            .any(|row| row[1] == DONOR && row[4] == "200000.00" && row[5] == "125000.00"),
        "{commitments:?}"
    );
    let transactions = same_numbers(
        &server,
        &page,
        "transactions",
        &["acknowledges", "corrected_by"],
    );
    assert_eq!(transactions.len(), 4, "{transactions:?}");
    assert!(transactions
        .iter()
        .any(|row| row[4] == "120000.00" && row[7] == given[0].id().to_hex()));

    // The home page's members and latest records, a chain's page, the governance keys.
    let page = server.page("/");
    let members = same_numbers(&server, &page, "members", &[]);
    assert!(
        members.contains(&vec![
            DONOR.into(),
            "Donor".into(),
            "donor".into(),
            "5".into(),
            store.head(DONOR).unwrap().unwrap().id.to_hex(),
            "verified, no fork".into()
        ]),
        "{members:?}"
    );
    let latest = same_numbers(&server, &page, "latest", &["kind", "what"]);
    assert_eq!(latest.len(), 8, "{latest:?}");
    let page = server.page(&format!("/org/{DONOR}"));
    let records = same_numbers(&server, &page, "records", &["kind", "what"]);
    assert_eq!(
        records[0],
        [
            "seq",
            "record",
            "record_label",
            "signed",
            "timestamp_ms",
            "kind",
            "what"
        ]
    );
    assert_eq!(records.len(), 6);
    let page = server.page("/governance");
    let keys = same_numbers(&server, &page, "keys", &[]);
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert_eq!(
        server.get("/csv/governance?table=keys").headers()["content-disposition"],
        "attachment; filename=\"governance-keys.csv\""
    );

    // A table the page does not have is a 404, a malformed query a 400.
    assert_eq!(server.get("/csv/activity/ACT-1?table=nope").status(), 404);
    assert_eq!(
        server
            .get(&format!("/csv/org/{DONOR}?before_seq=x&table=totals"))
            .status(),
        400
    );
}

fn treaty_action(
    treaty: RecordId,
    text: &aidledger_spec::record::TreatyText,
    kind: TreatyActionKind,
    date: &str,
) -> Body {
    Body::TreatyAction(TreatyAction {
        treaty,
        text_hash: text.text_hash(),
        action: kind,
        date: aidledger_spec::text::Date::parse(date).unwrap(),
        note: String::new(),
    })
}

/// About `size` bytes of French prose, lines numbered so that parts differ.
fn long_french_text(size: usize) -> String {
    let mut text = String::with_capacity(size + 100);
    let mut line = 0;
    while text.len() < size {
        line += 1;
        text.push_str(&format!(
            "Article {line}. Les parties s'engagent à coopérer de bonne foi ; « aucune réserve ».\n"
        ));
    }
    text
}

#[test]
fn a_long_treaty_is_shown_in_parts_with_its_languages_and_served_whole_as_signed() {
    let (_root, store) = new_store();
    let french = long_french_text(3 * 1024 * 1024);
    let mut text = treaty(
        &[DONOR, IMPLEMENTER],
        "The parties agree.\r\nTrailing space ",
    );
    text.versions.push(TextVersion {
        language: "fr".into(),
        text: french.clone(),
    });
    let made = append(&store, DONOR, vec![Body::TreatyText(text.clone())]);
    let id = made[0].id();
    append(
        &store,
        DONOR,
        vec![treaty_action(
            id,
            &text,
            TreatyActionKind::Ratify,
            "2024-03-01",
        )],
    );
    let server = Server::start(store.clone());

    let page = server.page(&format!("/treaty/{id}"));
    // Bounded: two languages' first parts (escaping at most doubles this French text) and
    // the page around them, not the 3 MiB text.
    assert!(
        page.len() < 2 * 2 * TREATY_TEXT_PART_BYTES + 32 * 1024,
        "page of {} bytes",
        page.len()
    );
    // The page speaks English; each text is marked with its own language.
    assert!(page.starts_with("<!doctype html><html lang=\"en\">"));
    assert!(page.contains("<section dir=\"auto\" lang=\"en\"><pre>The parties agree."));
    assert!(page
        .contains("<section dir=\"auto\" lang=\"fr\"><pre>Article 1. Les parties s&#39;engagent"));
    assert!(page.contains("French (fr)"));
    // Not in force, and who it waits for, by name with the id.
    assert!(
        page.contains(&format!(
            "<strong>Not in force:</strong> waiting for Implementer ({IMPLEMENTER}) to ratify or accede"
        )),
        "{page}"
    );
    assert!(page.contains(&format!(
        "Donor</a> <span class=\"muted mono\">{DONOR}</span>"
    )));

    // Part links: the next part of the French text, and past the last a 404.
    let parts = french.len().div_ceil(TREATY_TEXT_PART_BYTES);
    assert!(page.contains(&format!("Part 1 of {}", parts)) || page.contains("Part 1 of "));
    let next = format!("/treaty/{id}?lang=fr&amp;part=2#text-fr");
    assert!(page.contains(&next), "no link to part 2");
    let second = server.page(&format!("/treaty/{id}?lang=fr&part=2"));
    assert!(second.len() < 2 * 2 * TREATY_TEXT_PART_BYTES + 32 * 1024);
    assert!(!second.contains("Article 1. Les"));
    assert!(second.contains("Part 2 of "));
    // Every part together is the text, exactly.
    let api = server
        .get(&format!("/api/treaty/{id}?lang=fr&part=2"))
        .text()
        .unwrap();
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    let fr = &api["versions"][1];
    assert_eq!(fr["language"], "fr");
    assert_eq!(fr["part"], 2);
    assert_eq!(fr["bytes"], french.len());
    let all_parts = fr["parts"].as_u64().unwrap();
    let mut joined = String::new();
    for part in 1..=all_parts {
        let api: serde_json::Value = server
            .get(&format!("/api/treaty/{id}?lang=fr&part={part}"))
            .json()
            .unwrap();
        let shown = api["versions"][1]["text"].as_str().unwrap();
        assert!(shown.len() <= TREATY_TEXT_PART_BYTES);
        joined.push_str(shown);
    }
    assert_eq!(joined, french);
    assert_eq!(
        server
            .get(&format!("/treaty/{id}?lang=fr&part={}", all_parts + 1))
            .status(),
        404
    );
    assert_eq!(server.get(&format!("/treaty/{id}?lang=de")).status(), 404);
    assert_eq!(server.get(&format!("/treaty/{id}?part=x")).status(), 400);

    // The downloads: exactly the signed bytes, as a text file with a name.
    for (language, signed) in [("fr", &french), ("en", &text.versions[0].text)] {
        let href = format!("/treaty/{id}/text/{language}");
        assert!(page.contains(&href), "no link to {href}");
        let response = server.get(&href);
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        let short = &id.to_hex()[..12];
        assert_eq!(
            response.headers()["content-disposition"],
            format!("attachment; filename=\"treaty-{short}-{language}.txt\"").as_str()
        );
        assert_eq!(response.bytes().unwrap().as_ref(), signed.as_bytes());
    }
    assert_eq!(server.get(&format!("/treaty/{id}/text/de")).status(), 404);
    let prefix = &id.to_hex()[..10];
    let redirect = server.get(&format!("/treaty/{prefix}/text/fr"));
    assert_eq!(redirect.status(), 303);
    assert_eq!(
        redirect.headers()["location"],
        format!("/treaty/{id}/text/fr").as_str()
    );

    // The parties table and its CSV agree; then the implementer accedes: in force, since
    // the later date.
    let parties = same_numbers(&server, &page, "parties", &[]);
    assert_eq!(parties[1][0], DONOR);
    assert_eq!(parties[1][2], "ratify");
    assert_eq!(parties[2][2], "no action");
    append(
        &store,
        IMPLEMENTER,
        vec![treaty_action(
            id,
            &text,
            TreatyActionKind::Accede,
            "2024-04-15",
        )],
    );
    let page = server.page(&format!("/treaty/{id}"));
    assert!(
        page.contains("<p class=\"ok\">In force since 2024-04-15</p>"),
        "{page}"
    );
    let parties = same_numbers(&server, &page, "parties", &[]);
    assert_eq!(parties[2][2], "accede");
    assert_eq!(parties[2][3], "2024-04-15");
}
