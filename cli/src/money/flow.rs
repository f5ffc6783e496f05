//! `flow ACTIVITY_ID`: the tree of money around an activity — who funded it, whom it paid,
//! and on through the activities those transactions name.
//!
//! A transaction makes a **link** in two ways:
//! - the paying side reports it: an outgoing transaction ([`OUTGOING_TYPES`]) naming a receiver
//!   (another organisation, or another activity) links its own activity to the receiver;
//! - the receiving side reports it: a transaction naming a `provider-activity-id` (of another
//!   activity), or an incoming one ([`INCOMING_TYPES`]) naming another provider organisation,
//!   links the provider to the transaction's own activity.
//!
//! Links with the same provider (activity, or organisation when no activity is named) and the
//! same receiving organisation form one **edge**, so that a donor's disbursements (which often
//! name only the receiving organisation) and the receiver's incoming funds (which name the
//! donor's activity) meet. Per edge: each side's amounts by type and currency, and the status
//! of every money-model link its transactions belong to (`full`, `short 5000.00 GBP`, …; the
//! model in `aidledger_view::money` computes them, as for `reconcile` and the explorer).
//!
//! An outgoing transaction whose provider is another organisation than its author, and that
//! names no receiver, still makes an edge (to a receiver "not named"), as the explorer shows
//! it; such transactions are labelled `provider-differs` wherever they appear.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::ledger::{Entry, Ledger};
use aidledger_view::money::entry_json;

use super::{AmountError, Totals, INCOMING_TYPES, OUTGOING_TYPES};
use aidledger_view::money::Link as MoneyLink;

/// Deepest the tree is followed, upstream or downstream; real chains of funding are a few
/// levels deep, and the bound keeps a pathological ledger from printing forever.
pub const FLOW_DEPTH_MAX: usize = 8;

/// Who reported a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The paying organisation (an outgoing transaction).
    Provider,
    /// The receiving organisation (a transaction naming its provider).
    Receiver,
}

/// Where money comes from: an activity when one is named, else an organisation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// An IATI activity id.
    Activity(String),
    /// An organisation ref (or name, when it has no ref).
    Org(String),
}

/// One transaction's contribution to an edge.
#[derive(Clone, Debug)]
struct Link {
    entry: usize,
    side: Side,
    to_activity: Option<String>,
}

/// All links from one origin to one receiving organisation.
#[derive(Default)]
struct Edge {
    links: Vec<Link>,
}

/// The link graph of a ledger.
pub struct FlowGraph<'a> {
    ledger: &'a Ledger,
    edges: BTreeMap<(Origin, String), Edge>,
    /// activity id → organisations that publish transactions of it.
    publishers: BTreeMap<&'a str, BTreeSet<&'a str>>,
}

/// What `flow` shows.
pub struct FlowView {
    /// The activity asked about.
    pub activity: String,
    /// Its publishers.
    pub publishers: Vec<String>,
    /// Edges into the activity, each with its own funders below it.
    pub funded_by: Vec<Value>,
    /// Edges out of the activity, each with its own receivers below it.
    pub paid_to: Vec<Value>,
    /// Redacted transactions in the ledger: their activities, parties and amounts are
    /// withheld, so no edge can hold them; the view says how many there are.
    pub redacted_transactions: u64,
    /// The same, in words (`plus 1 redacted transaction …`), or `None` for none.
    pub redacted_text: Option<String>,
}

impl<'a> FlowGraph<'a> {
    /// Builds the links of every transaction of the ledger.
    pub fn new(ledger: &'a Ledger) -> FlowGraph<'a> {
        let mut graph = FlowGraph {
            ledger,
            edges: BTreeMap::new(),
            publishers: BTreeMap::new(),
        };
        let current = ledger
            .model
            .entries()
            .iter()
            .enumerate()
            .filter(|(_, entry)| !entry.withdrawn);
        for (position, entry) in current {
            graph
                .publishers
                .entry(entry.transaction.activity_id.as_str())
                .or_default()
                .insert(entry.author.as_str());
            graph.add_links(position, entry);
        }
        graph
    }

    /// The edge a receiver's record of money in belongs on: the edge of the disbursement it
    /// acknowledges when this ledger holds that one and it pays this receiver (the two sides of
    /// one flow, whatever the receipt's own provider fields name: before, a receipt naming the
    /// provider organisation but not its activity landed on another edge than the money it
    /// acknowledged, which then read "receiver reports: none" above a link saying it did);
    /// else the activity or organisation its provider names.
    fn receiver_edge(&self, entry: &Entry) -> Option<(Origin, String)> {
        let transaction = &entry.transaction;
        let own = transaction.activity_id.as_str();
        let acknowledged = transaction
            .acknowledges
            .as_ref()
            .and_then(|id| self.ledger.model.entry(id))
            .filter(|paid| {
                !paid.withdrawn && OUTGOING_TYPES.contains(&paid.transaction.transaction_type)
            });
        if let Some(paid) = acknowledged {
            let pays_this_receiver = paid.transaction.receiver.as_ref().is_some_and(|receiver| {
                receiver.org_ref == entry.author
                    || (receiver.org_ref.is_empty() && receiver.name == entry.author)
            });
            if pays_this_receiver && paid.transaction.activity_id != own {
                return Some((
                    Origin::Activity(paid.transaction.activity_id.clone()),
                    entry.author.clone(),
                ));
            }
        }
        let provider = transaction.provider.as_ref()?;
        let names_activity = !provider.activity_id.is_empty() && provider.activity_id != own;
        let names_org = INCOMING_TYPES.contains(&transaction.transaction_type)
            && !provider.org_ref.is_empty()
            && provider.org_ref != entry.author;
        if names_activity {
            Some((
                Origin::Activity(provider.activity_id.clone()),
                entry.author.clone(),
            ))
        } else if names_org {
            Some((Origin::Org(provider.org_ref.clone()), entry.author.clone()))
        } else {
            None
        }
    }

    fn add_links(&mut self, position: usize, entry: &Entry) {
        let transaction = &entry.transaction;
        let own = transaction.activity_id.as_str();
        let kind = transaction.transaction_type;
        if let Some(edge) = self.receiver_edge(entry) {
            self.edges.entry(edge).or_default().links.push(Link {
                entry: position,
                side: Side::Receiver,
                to_activity: Some(own.to_owned()),
            });
        }
        let provider_differs = provider_differs(entry);
        let unnamed = aidledger_spec::record::Party::default();
        let receiver = match &transaction.receiver {
            Some(receiver) => Some(receiver),
            // Paid by another organisation to a receiver not named: still a flow out of this
            // activity, as the explorer shows it.
            None if provider_differs => Some(&unnamed),
            None => None,
        };
        if let (true, Some(receiver)) = (OUTGOING_TYPES.contains(&kind), receiver) {
            let org = if receiver.org_ref.is_empty() {
                receiver.name.clone()
            } else {
                receiver.org_ref.clone()
            };
            let names_activity = !receiver.activity_id.is_empty() && receiver.activity_id != own;
            if names_activity || (!org.is_empty() && org != entry.author) || provider_differs {
                self.edges
                    .entry((Origin::Activity(own.to_owned()), org))
                    .or_default()
                    .links
                    .push(Link {
                        entry: position,
                        side: Side::Provider,
                        to_activity: names_activity.then(|| receiver.activity_id.clone()),
                    });
            }
        }
    }

    /// Whether any transaction has or names this activity.
    pub fn knows(&self, activity: &str) -> bool {
        self.publishers.contains_key(activity)
            || self.edges.iter().any(|((origin, _), edge)| {
                *origin == Origin::Activity(activity.to_owned())
                    || edge
                        .links
                        .iter()
                        .any(|link| link.to_activity.as_deref() == Some(activity))
            })
    }

    /// The flow around `activity`.
    pub fn view(&self, activity: &str) -> Result<FlowView, AmountError> {
        let mut visited = BTreeSet::from([activity.to_owned()]);
        let paid_to = self.downstream(activity, 0, &mut visited)?;
        let mut visited = BTreeSet::from([activity.to_owned()]);
        let funded_by = self.upstream(activity, 0, &mut visited)?;
        Ok(FlowView {
            activity: activity.to_owned(),
            publishers: self.publishers_of(activity),
            funded_by,
            paid_to,
            redacted_transactions: self.ledger.redacted.count(),
            redacted_text: self.ledger.redacted.text(),
        })
    }

    fn publishers_of(&self, activity: &str) -> Vec<String> {
        self.publishers
            .get(activity)
            .map(|orgs| orgs.iter().map(|org| (*org).to_owned()).collect())
            .unwrap_or_default()
    }

    /// Edges out of `activity`, each followed into the activities it reaches.
    fn downstream(
        &self,
        activity: &str,
        depth: usize,
        visited: &mut BTreeSet<String>,
    ) -> Result<Vec<Value>, AmountError> {
        let origin = Origin::Activity(activity.to_owned());
        let mut out = Vec::new();
        let edges = self.edges.iter().filter(|((from, _), _)| *from == origin);
        for ((_, to_org), edge) in edges {
            let links: Vec<&Link> = edge.links.iter().collect();
            let mut value = self.edge_json(&origin, to_org, &links)?;
            let children: BTreeSet<&str> = links
                .iter()
                .filter_map(|link| link.to_activity.as_deref())
                .collect();
            let mut below = Vec::new();
            for child in children {
                if depth + 1 < FLOW_DEPTH_MAX && visited.insert(child.to_owned()) {
                    below.extend(self.downstream(child, depth + 1, visited)?);
                }
            }
            value["paid_to"] = Value::Array(below);
            out.push(value);
        }
        Ok(out)
    }

    /// Edges into `activity`, each followed back to the activity that funded it.
    fn upstream(
        &self,
        activity: &str,
        depth: usize,
        visited: &mut BTreeSet<String>,
    ) -> Result<Vec<Value>, AmountError> {
        let publishers = self.publishers_of(activity);
        let mut out = Vec::new();
        for ((origin, to_org), edge) in &self.edges {
            let links: Vec<&Link> = edge
                .links
                .iter()
                .filter(|link| match &link.to_activity {
                    Some(to) => to == activity,
                    None => publishers.contains(to_org),
                })
                .collect();
            if links.iter().all(|link| link.to_activity.is_none()) {
                // An edge is upstream only if some transaction names this very activity.
                continue;
            }
            let mut value = self.edge_json(origin, to_org, &links)?;
            let mut above = Vec::new();
            if let Origin::Activity(funder) = origin {
                if depth + 1 < FLOW_DEPTH_MAX && visited.insert(funder.clone()) {
                    above = self.upstream(funder, depth + 1, visited)?;
                }
            }
            value["funded_by"] = Value::Array(above);
            out.push(value);
        }
        Ok(out)
    }

    fn edge_json(
        &self,
        origin: &Origin,
        to_org: &str,
        links: &[&Link],
    ) -> Result<Value, AmountError> {
        let mut provider_totals = Totals::default();
        let mut receiver_totals = Totals::default();
        let mut transactions = Vec::new();
        let mut to_activities = BTreeSet::new();
        let mut money_links: Vec<MoneyLink<'_>> = Vec::new();
        for link in links {
            let entry = &self.ledger.model.entries()[link.entry];
            match link.side {
                Side::Provider => provider_totals.add(entry)?,
                Side::Receiver => receiver_totals.add(entry)?,
            }
            if let Some(to) = &link.to_activity {
                to_activities.insert(to.clone());
            }
            let mut item = entry_json(entry);
            item["acknowledged_by"] = json!(entry.acknowledged_by);
            item["reported_by"] = json!(match link.side {
                Side::Provider => "provider",
                Side::Receiver => "receiver",
            });
            item["provider_differs"] = provider_differs(entry).into();
            if let Some(money_link) = self.ledger.model.link_of(&entry.id) {
                item["link"] = money_link.key().text().into();
                item["link_status"] = money_link.status().text().into();
                if !money_links.contains(&money_link) {
                    money_links.push(money_link);
                }
            }
            transactions.push(item);
        }
        let redacted_money = &self.ledger.redacted;
        let statuses: Vec<Value> = money_links
            .iter()
            .map(|link| {
                let redacted = redacted_money.target_of(link).is_some();
                json!({
                    "kind": link.key().kind(),
                    "key": link.key().text(),
                    "pair": link.pair().map(|pair| pair.name()),
                    "status": link.status().to_json(),
                    "status_text": if redacted { "redacted".to_owned() } else { link.status().text() },
                    "redacted": redacted,
                    "summary": redacted_money.link_summary(link),
                })
            })
            .collect();
        // A receipt that acknowledges a redacted transaction: the provider's amount is withheld.
        let redacted = money_links
            .iter()
            .filter(|link| redacted_money.target_of(link).is_some())
            .count() as u64;
        let provider_differs_count = transactions
            .iter()
            .filter(|item| item["provider_differs"] == true)
            .count();
        let (from_activity, from_org) = match origin {
            Origin::Activity(activity) => {
                let orgs = self.publishers_of(activity);
                (Value::from(activity.clone()), json!(orgs))
            }
            Origin::Org(org) => (Value::Null, json!([org])),
        };
        Ok(json!({
            "from_activity": from_activity,
            "from_orgs": from_org,
            "to_org": to_org,
            "to_activities": to_activities,
            "provider_reported": provider_totals.to_json(),
            "receiver_reported": receiver_totals.to_json(),
            "provider_reported_text": provider_totals.to_text(),
            "receiver_reported_text": receiver_totals.to_text(),
            "links": statuses,
            "provider_differs": provider_differs_count,
            "redacted_transactions": redacted,
            "transactions": transactions,
        }))
    }
}

impl FlowView {
    /// The view as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "activity": self.activity,
            "publishers": self.publishers,
            "funded_by": self.funded_by,
            "paid_to": self.paid_to,
            "redacted_transactions": self.redacted_transactions,
            "redacted_text": self.redacted_text,
        })
    }

    /// The view as an indented tree.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "flow of money around activity {} (published by {})\n",
            self.activity,
            if self.publishers.is_empty() {
                "no organisation in this ledger".to_owned()
            } else {
                self.publishers.join(", ")
            }
        );
        out.push_str("funded by:\n");
        write_edges(&mut out, &self.funded_by, 1, "funded_by", true);
        out.push_str("paid to:\n");
        write_edges(&mut out, &self.paid_to, 1, "paid_to", false);
        if let Some(text) = &self.redacted_text {
            out.push_str(&format!(
                "in this ledger: {text}; their activities and parties are withheld too, so an edge shows one only where a receipt acknowledges it\n"
            ));
        }
        out
    }
}

fn write_edges(out: &mut String, edges: &[Value], depth: usize, key: &str, upstream: bool) {
    let indent = "  ".repeat(depth);
    if edges.is_empty() && depth == 1 {
        out.push_str(&format!("{indent}(nothing recorded)\n"));
    }
    for edge in edges {
        let text = |name: &str| edge[name].as_str().unwrap_or("").to_owned();
        let list = |name: &str| {
            edge[name]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        };
        let from = match edge["from_activity"].as_str() {
            Some(activity) => format!("activity {activity} ({})", list("from_orgs")),
            None => format!("organisation {}", list("from_orgs")),
        };
        let to_org = match text("to_org") {
            org if org.is_empty() => "(receiver not named)".to_owned(),
            org => org,
        };
        let to = format!("{to_org} activity {}", {
            let activities = list("to_activities");
            if activities.is_empty() {
                "(not named)".to_owned()
            } else {
                activities
            }
        });
        let arrow = if upstream {
            format!("← from {from}")
        } else {
            format!("→ to {to}")
        };
        out.push_str(&format!("{indent}{arrow}\n"));
        out.push_str(&format!(
            "{indent}    provider reports: {}\n",
            text("provider_reported_text")
        ));
        let redacted = edge["redacted_transactions"].as_u64().unwrap_or(0);
        if let Some(text) = crate::redacted::plus_transactions_text(redacted) {
            out.push_str(&format!(
                "{indent}                      {text}, acknowledged by the receipts\n"
            ));
        }
        out.push_str(&format!(
            "{indent}    receiver reports: {}\n",
            text("receiver_reported_text")
        ));
        for link in edge["links"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "{indent}    link [{} {}]: {}\n",
                link["kind"].as_str().unwrap_or(""),
                link["key"].as_str().unwrap_or(""),
                link["summary"].as_str().unwrap_or("")
            ));
        }
        if edge["provider_differs"].as_u64().unwrap_or(0) > 0 {
            out.push_str(&format!(
                "{indent}    provider-differs: {} transaction(s) reported as paid by another organisation than their author\n",
                edge["provider_differs"]
            ));
        }
        if let Some(below) = edge[key].as_array() {
            write_edges(out, below, depth + 1, key, upstream);
        }
    }
}

/// An outgoing transaction whose provider organisation is set and is not its author.
fn provider_differs(entry: &Entry) -> bool {
    let transaction = &entry.transaction;
    let provider = transaction
        .provider
        .as_ref()
        .map_or("", |party| party.org_ref.as_str());
    OUTGOING_TYPES.contains(&transaction.transaction_type)
        && !provider.is_empty()
        && provider != entry.author
}
