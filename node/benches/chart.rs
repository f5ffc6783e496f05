//! The pictures of an activity's money (`node/src/explorer/chart/`): from a money model of 50
//! disbursement links in 3 currencies (3 donors, 6 intermediaries, 20 final recipients; most
//! links acknowledged, some short, some unacknowledged, over 24 months), the flows and months
//! taken from the model and written as HTML (wide and narrow SVG per currency, tables), and
//! the monthly bars alone. Target: under 5 ms per activity's flow pictures.
//!
//! `cargo bench -p aidledger-node --bench chart`.

use std::time::Duration;

use aidledger_node::explorer::chart;
use aidledger_node::explorer::html::Html;
use aidledger_spec::record::{Money, Party, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::Digest;
use aidledger_view::corrections::Entry;
use aidledger_view::money::MoneyModel;
use criterion::{criterion_group, criterion_main, Criterion};

/// Links in the activity, and their currencies.
const LINKS: usize = 50;
const CURRENCIES: [&str; 3] = ["EUR", "GBP", "USD"];

fn party(org: &str, activity: &str) -> Option<Party> {
    Some(Party {
        org_ref: org.to_owned(),
        name: format!("Organisation {org} with a long name"),
        activity_id: activity.to_owned(),
    })
}

fn entry(id: usize, author: &str, kind: u8, amount: String, currency: &str, month: u8) -> Entry {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&(id as u64).to_be_bytes());
    let date = Date {
        year: 2024 + u16::from(month / 12),
        month: month % 12 + 1,
        day: 3,
    };
    Entry {
        id: Digest(bytes),
        author: author.to_owned(),
        seq: id as u64,
        transaction: Transaction {
            activity_id: "XM-BENCH-1".to_owned(),
            transaction_type: kind,
            value: Money {
                amount,
                currency: currency.to_owned(),
            },
            value_date: date,
            transaction_date: date,
            provider: None,
            receiver: None,
            description: String::new(),
            acknowledges: None,
            iati: None,
        },
        corrected_by: None,
        acknowledged_by: Vec::new(),
        withdrawn: false,
    }
}

/// 50 links: donors pay intermediaries, intermediaries pay final recipients; a receipt answers
/// each disbursement explicitly, short by 1 % every fifth, missing every seventh.
fn model() -> MoneyModel {
    let mut entries = Vec::new();
    for link in 0..LINKS {
        let (from, to) = if link < 15 {
            (
                format!("XM-DONOR-{}", link % 3),
                format!("XM-MID-{}", link % 6),
            )
        } else {
            (
                format!("XM-MID-{}", link % 6),
                format!("XM-END-{}", link % 20),
            )
        };
        let currency = CURRENCIES[link % CURRENCIES.len()];
        let cents = 1_000_000 + 37_519 * link as u64;
        let month = (link % 24) as u8;
        let mut paid = entry(
            2 * link,
            &from,
            3,
            format!("{}.{:02}", cents, link % 100),
            currency,
            month,
        );
        paid.transaction.provider = party(&from, "XM-BENCH-1");
        paid.transaction.receiver = party(&to, "");
        let paid_id = paid.id;
        entries.push(paid);
        if link % 7 == 0 {
            continue;
        }
        let received = if link % 5 == 0 {
            cents * 99 / 100
        } else {
            cents
        };
        let mut receipt = entry(
            2 * link + 1,
            &to,
            1,
            format!("{}.{:02}", received, link % 100),
            currency,
            month,
        );
        receipt.transaction.provider = party(&from, "XM-BENCH-1");
        receipt.transaction.receiver = party(&to, "");
        receipt.transaction.acknowledges = Some(paid_id);
        entries.push(receipt);
    }
    let as_of = Date {
        year: 2026,
        month: 12,
        day: 7,
    };
    MoneyModel::build(entries, as_of, 90).expect("the bench's model builds")
}

fn names(_: &str) -> Option<String> {
    None
}

fn pictures(criterion: &mut Criterion) {
    let model = model();
    let every = chart::pictures(&model, |_| true, |_| true, &names);
    assert_eq!(every.flows.len(), LINKS, "one flow per link");
    let bars_only = chart::Pictures {
        flows: Vec::new(),
        months: every.months.clone(),
        note: None,
    };
    let mut group = criterion.benchmark_group("chart");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("activity_flow_50_links_3_currencies", |bench| {
        bench.iter(|| {
            let pictures = chart::pictures(&model, |_| true, |_| true, &names);
            let mut html = Html::default();
            chart::write(&mut html, &pictures, "activity XM-BENCH-1", "activity", "");
            html.finish().len()
        })
    });
    group.bench_function("monthly_bars_3_currencies", |bench| {
        bench.iter(|| {
            let mut html = Html::default();
            chart::write(&mut html, &bars_only, "activity XM-BENCH-1", "activity", "");
            html.finish().len()
        })
    });
    group.finish();
}

criterion_group!(benches, pictures);
criterion_main!(benches);
