//! Builds one [`Activity`] from the XML events inside its element, keeping only what the
//! importer needs: the transactions, and what the activity is about ([`ActivityAbout`]:
//! titles and descriptions in every language, status, dates, places, sectors, organisations). Elements it does not know (other IATI elements, foreign-namespace extensions
//! such as `usg:*`) are skipped with their whole subtree.

use std::collections::HashMap;

use quick_xml::events::BytesStart;
use quick_xml::XmlVersion;

use crate::error::{Warning, WarningReason};
use crate::mapping::date_part;
use crate::model::{
    Activity, ActivityAbout, DateEntry, Description, IatiTransaction, Narrative, OrgReference,
    Participant, Share,
};

/// The elements the reader tracks below `iati-activity`; everything else is [`Element::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Element {
    Activity,
    Identifier,
    ReportingOrg,
    Transaction,
    TransactionType,
    TransactionDate,
    Value,
    Description,
    ProviderOrg,
    ReceiverOrg,
    Narrative,
    Title,
    ActivityDescription,
    ActivityStatus,
    ActivityDate,
    RecipientCountry,
    RecipientRegion,
    Sector,
    ParticipatingOrg,
    Other,
}

impl Element {
    /// What an element called `name` is when its parent is `self`. Names are compared with their
    /// prefix, so `usg:transaction` or `iati-extra:value` are never taken for IATI elements.
    fn child(self, name: &str) -> Element {
        match (self, name) {
            (Element::Activity, "iati-identifier") => Element::Identifier,
            (Element::Activity, "reporting-org") => Element::ReportingOrg,
            (Element::Activity, "transaction") => Element::Transaction,
            (Element::Activity, "title") => Element::Title,
            (Element::Activity, "description") => Element::ActivityDescription,
            (Element::Activity, "activity-status") => Element::ActivityStatus,
            (Element::Activity, "activity-date") => Element::ActivityDate,
            (Element::Activity, "recipient-country") => Element::RecipientCountry,
            (Element::Activity, "recipient-region") => Element::RecipientRegion,
            (Element::Activity, "sector") => Element::Sector,
            (Element::Activity, "participating-org") => Element::ParticipatingOrg,
            (Element::Transaction, "transaction-type") => Element::TransactionType,
            (Element::Transaction, "transaction-date") => Element::TransactionDate,
            (Element::Transaction, "value") => Element::Value,
            (Element::Transaction, "description") => Element::Description,
            (Element::Transaction, "provider-org") => Element::ProviderOrg,
            (Element::Transaction, "receiver-org") => Element::ReceiverOrg,
            (
                Element::ReportingOrg
                | Element::Description
                | Element::ProviderOrg
                | Element::ReceiverOrg
                | Element::Title
                | Element::ActivityDescription
                | Element::ParticipatingOrg,
                "narrative",
            ) => Element::Narrative,
            _ => Element::Other,
        }
    }

    /// Whether text directly inside this element is kept.
    fn keeps_text(self) -> bool {
        !matches!(
            self,
            Element::Activity
                | Element::Transaction
                | Element::TransactionType
                | Element::TransactionDate
                | Element::ActivityStatus
                | Element::ActivityDate
                | Element::RecipientCountry
                | Element::RecipientRegion
                | Element::Sector
                | Element::Other
        )
    }

    /// The element's name, for duplicate warnings.
    fn name(self) -> &'static str {
        match self {
            Element::Activity => "iati-activity",
            Element::Identifier => "iati-identifier",
            Element::ReportingOrg => "reporting-org",
            Element::Transaction => "transaction",
            Element::TransactionType => "transaction-type",
            Element::TransactionDate => "transaction-date",
            Element::Value => "value",
            Element::Description => "description",
            Element::ProviderOrg => "provider-org",
            Element::ReceiverOrg => "receiver-org",
            Element::Narrative => "narrative",
            Element::Title => "title",
            Element::ActivityDescription => "description",
            Element::ActivityStatus => "activity-status",
            Element::ActivityDate => "activity-date",
            Element::RecipientCountry => "recipient-country",
            Element::RecipientRegion => "recipient-region",
            Element::Sector => "sector",
            Element::ParticipatingOrg => "participating-org",
            Element::Other => "(other)",
        }
    }
}

/// An element open below the activity, with the text collected directly inside it.
struct Open {
    element: Element,
    text: String,
    /// `@xml:lang` of a narrative, or of a 1.0x title, description or organisation name.
    language: Option<String>,
    /// Whether a narrative inside it was kept (then its own text, 1.0x style, is not).
    narratives: bool,
}

/// Identity of a transaction within its activity, for [`IatiTransaction::identity_occurrence`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Identity {
    Ref(String),
    TypeAndDate(Option<String>, Option<String>),
}

/// Elements seen once already in the current scope (activity or transaction).
#[derive(Default)]
struct Seen(Vec<Element>);

impl Seen {
    /// Records `element`; false when it was seen before.
    fn first(&mut self, element: Element) -> bool {
        if self.0.contains(&element) {
            return false;
        }
        self.0.push(element);
        true
    }
}

pub(crate) struct ActivityBuilder {
    activity: Activity,
    open: Vec<Open>,
    transaction: Option<IatiTransaction>,
    transaction_seen: Seen,
    activity_seen: Seen,
    identities: HashMap<Identity, usize>,
    too_large: bool,
}

impl ActivityBuilder {
    /// Starts an activity from its start tag.
    pub(crate) fn new(start: &BytesStart<'_>, line: u64) -> Result<Self, quick_xml::Error> {
        let [default_currency, default_language] =
            attributes(start, ["default-currency", "xml:lang"])?;
        Ok(Self {
            activity: Activity {
                default_currency,
                default_language,
                line,
                ..Activity::default()
            },
            open: Vec::new(),
            transaction: None,
            transaction_seen: Seen::default(),
            activity_seen: Seen::default(),
            identities: HashMap::new(),
            too_large: false,
        })
    }

    /// How many elements are open below the activity.
    pub(crate) fn depth(&self) -> usize {
        self.open.len()
    }

    /// The identifier read so far, for error messages.
    pub(crate) fn identifier(&self) -> Option<String> {
        self.activity.identifier.clone()
    }

    /// Whether text events are wanted now (so the reader can skip decoding the rest).
    pub(crate) fn wants_text(&self) -> bool {
        self.open
            .last()
            .is_some_and(|open| open.element.keeps_text())
    }

    pub(crate) fn push_text(&mut self, text: &str) {
        if let Some(open) = self.open.last_mut() {
            open.text.push_str(text);
        }
    }

    /// An element starts at `line`.
    pub(crate) fn open(
        &mut self,
        start: &BytesStart<'_>,
        line: u64,
    ) -> Result<(), quick_xml::Error> {
        let parent = self
            .open
            .last()
            .map_or(Element::Activity, |open| open.element);
        let mut element = if self.too_large {
            Element::Other
        } else {
            parent.child(start.name().as_ref())
        };
        if !self.first_of_its_kind(element, line) {
            element = Element::Other;
        }
        self.read_attributes(element, start, line)?;
        let language = if carries_language(element, parent) {
            let [language] = attributes(start, ["xml:lang"])?;
            language
        } else {
            None
        };
        self.open.push(Open {
            element,
            text: String::new(),
            language,
            narratives: false,
        });
        Ok(())
    }

    /// The innermost open element ends; true when it was the activity itself.
    pub(crate) fn close(&mut self) -> bool {
        let Some(open) = self.open.pop() else {
            return true;
        };
        match open.element {
            Element::Identifier => self.activity.identifier = non_empty(&open.text),
            Element::Narrative => {
                let parent = self
                    .open
                    .last()
                    .map_or(Element::Other, |parent| parent.element);
                if matches!(
                    parent,
                    Element::Title | Element::ActivityDescription | Element::ParticipatingOrg
                ) {
                    if let Some(narrative) = narrative(open) {
                        self.add_narrative(parent, narrative);
                        if let Some(parent) = self.open.last_mut() {
                            parent.narratives = true;
                        }
                    }
                } else {
                    self.set_name(parent, &open.text);
                }
            }
            // IATI 1.0x: the text is the element's own.
            Element::Title | Element::ActivityDescription | Element::ParticipatingOrg
                if !open.narratives =>
            {
                let element = open.element;
                if let Some(narrative) = narrative(open) {
                    self.add_narrative(element, narrative);
                }
            }
            // IATI 1.0x writes names as the element's own text, without narratives; a narrative,
            // closed earlier, wins.
            Element::ReportingOrg
            | Element::Description
            | Element::ProviderOrg
            | Element::ReceiverOrg => {
                self.set_name(open.element, &open.text);
            }
            Element::Value => {
                if let Some(transaction) = &mut self.transaction {
                    transaction.value = (!open.text.trim().is_empty()).then_some(open.text);
                }
            }
            Element::Transaction => self.finish_transaction(),
            _ => {}
        }
        false
    }

    /// The activity has grown past the limit: drop what was collected and collect nothing more.
    pub(crate) fn mark_too_large(&mut self, activity_bytes_max: u64) {
        if self.too_large {
            return;
        }
        self.too_large = true;
        self.activity.transactions = Vec::new();
        self.activity.about = ActivityAbout::default();
        self.transaction = None;
        self.identities = HashMap::new();
        for open in &mut self.open {
            open.element = Element::Other;
            open.text = String::new();
        }
        let line = self.activity.line;
        self.warn(line, WarningReason::ActivityTooLarge { activity_bytes_max });
    }

    /// The finished activity, with the activity id filled into its warnings.
    pub(crate) fn finish(mut self) -> Activity {
        if self.activity.identifier.is_none() {
            let line = self.activity.line;
            self.warn(line, WarningReason::MissingActivityIdentifier);
        }
        let identifier = self.activity.identifier_or_empty().to_owned();
        for warning in &mut self.activity.warnings {
            warning.activity_id.clone_from(&identifier);
        }
        self.activity
    }

    /// False (with a warning) for a second `iati-identifier`, `value`, … in the same scope.
    fn first_of_its_kind(&mut self, element: Element, line: u64) -> bool {
        let first = match element {
            Element::Identifier | Element::ReportingOrg | Element::ActivityStatus => {
                self.activity_seen.first(element)
            }
            Element::TransactionType
            | Element::TransactionDate
            | Element::Value
            | Element::Description
            | Element::ProviderOrg
            | Element::ReceiverOrg => self.transaction_seen.first(element),
            _ => true,
        };
        if !first {
            self.warn(
                line,
                WarningReason::DuplicateElement {
                    element: element.name(),
                },
            );
        }
        first
    }

    fn read_attributes(
        &mut self,
        element: Element,
        start: &BytesStart<'_>,
        line: u64,
    ) -> Result<(), quick_xml::Error> {
        match element {
            Element::ReportingOrg => {
                [self.activity.reporting_org_ref] = attributes(start, ["ref"])?;
            }
            Element::Transaction => {
                let [transaction_ref] = attributes(start, ["ref"])?;
                self.transaction = Some(IatiTransaction {
                    position: self.activity.transactions.len(),
                    line,
                    transaction_ref,
                    ..IatiTransaction::default()
                });
                self.transaction_seen = Seen::default();
            }
            Element::ActivityDescription => {
                let [type_code] = attributes(start, ["type"])?;
                self.activity.about.descriptions.push(Description {
                    type_code,
                    narratives: Vec::new(),
                });
            }
            Element::ActivityStatus => {
                [self.activity.about.status] = attributes(start, ["code"])?;
            }
            Element::ActivityDate => {
                let [type_code, iso_date] = attributes(start, ["type", "iso-date"])?;
                self.activity.about.dates.push(DateEntry {
                    type_code,
                    iso_date,
                    line,
                });
            }
            Element::RecipientCountry => {
                let [code, percentage] = attributes(start, ["code", "percentage"])?;
                self.activity.about.recipient_countries.push(Share {
                    vocabulary: None,
                    code,
                    percentage,
                });
            }
            Element::RecipientRegion | Element::Sector => {
                let [vocabulary, code, percentage] =
                    attributes(start, ["vocabulary", "code", "percentage"])?;
                let share = Share {
                    vocabulary,
                    code,
                    percentage,
                };
                match element {
                    Element::Sector => self.activity.about.sectors.push(share),
                    _ => self.activity.about.recipient_regions.push(share),
                }
            }
            Element::ParticipatingOrg => {
                let [role, org_ref, org_type, activity_id] =
                    attributes(start, ["role", "ref", "type", "activity-id"])?;
                self.activity.about.participating_orgs.push(Participant {
                    role,
                    org_ref,
                    org_type,
                    activity_id,
                    names: Vec::new(),
                });
            }
            _ => self.read_transaction_attributes(element, start)?,
        }
        Ok(())
    }

    /// Adds a narrative to the title list, the last description or the last organisation.
    fn add_narrative(&mut self, owner: Element, narrative: Narrative) {
        let about = &mut self.activity.about;
        match owner {
            Element::Title => about.titles.push(narrative),
            Element::ActivityDescription => {
                if let Some(description) = about.descriptions.last_mut() {
                    description.narratives.push(narrative);
                }
            }
            Element::ParticipatingOrg => {
                if let Some(org) = about.participating_orgs.last_mut() {
                    org.names.push(narrative);
                }
            }
            _ => {}
        }
    }

    fn read_transaction_attributes(
        &mut self,
        element: Element,
        start: &BytesStart<'_>,
    ) -> Result<(), quick_xml::Error> {
        let Some(transaction) = &mut self.transaction else {
            return Ok(());
        };
        match element {
            Element::TransactionType => [transaction.type_code] = attributes(start, ["code"])?,
            Element::TransactionDate => {
                [transaction.transaction_date] = attributes(start, ["iso-date"])?
            }
            Element::Value => {
                [transaction.currency, transaction.value_date] =
                    attributes(start, ["currency", "value-date"])?;
            }
            Element::ProviderOrg => {
                transaction.provider = Some(org_reference(start, "provider-activity-id")?)
            }
            Element::ReceiverOrg => {
                transaction.receiver = Some(org_reference(start, "receiver-activity-id")?)
            }
            _ => {}
        }
        Ok(())
    }

    /// Gives `owner` (an organisation or description) its name or text, unless it has one.
    fn set_name(&mut self, owner: Element, text: &str) {
        let Some(text) = non_empty(text) else {
            return;
        };
        let slot = match (owner, &mut self.transaction) {
            (Element::ReportingOrg, _) => &mut self.activity.reporting_org_name,
            (Element::Description, Some(transaction)) => &mut transaction.description,
            (Element::ProviderOrg, Some(transaction)) => match &mut transaction.provider {
                Some(org) => &mut org.name,
                None => return,
            },
            (Element::ReceiverOrg, Some(transaction)) => match &mut transaction.receiver {
                Some(org) => &mut org.name,
                None => return,
            },
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(text);
        }
    }

    fn finish_transaction(&mut self) {
        let Some(mut transaction) = self.transaction.take() else {
            return;
        };
        if transaction.currency.is_none() {
            transaction
                .currency
                .clone_from(&self.activity.default_currency);
        }
        let identity = match &transaction.transaction_ref {
            Some(transaction_ref) => Identity::Ref(transaction_ref.clone()),
            None => Identity::TypeAndDate(
                transaction.type_code.clone(),
                transaction
                    .transaction_date
                    .as_deref()
                    .map(|date| date_part(date).to_owned()),
            ),
        };
        let occurrences = self.identities.entry(identity).or_insert(0);
        transaction.identity_occurrence = *occurrences;
        *occurrences += 1;
        self.activity.transactions.push(transaction);
    }

    fn warn(&mut self, line: u64, reason: WarningReason) {
        self.activity.warnings.push(Warning {
            line,
            activity_id: String::new(),
            reason,
        });
    }
}

/// Whether an element's `xml:lang` is read: a narrative of a title, description or
/// organisation, or (1.0x, text without narratives) one of those elements itself.
fn carries_language(element: Element, parent: Element) -> bool {
    match element {
        Element::Narrative => matches!(
            parent,
            Element::Title | Element::ActivityDescription | Element::ParticipatingOrg
        ),
        Element::Title | Element::ActivityDescription | Element::ParticipatingOrg => true,
        _ => false,
    }
}

/// A closed element's text as a narrative, unless it is empty.
fn narrative(open: Open) -> Option<Narrative> {
    non_empty(&open.text).map(|text| Narrative {
        language: open.language,
        text,
    })
}

fn org_reference(
    start: &BytesStart<'_>,
    activity_id_key: &str,
) -> Result<OrgReference, quick_xml::Error> {
    let [org_ref, activity_id] = attributes(start, ["ref", activity_id_key])?;
    Ok(OrgReference {
        org_ref,
        name: None,
        activity_id,
    })
}

/// The values of the attributes named `keys` (unprefixed), trimmed; empty values count as absent.
/// A value with an entity the parser cannot resolve is kept as written.
pub(crate) fn attributes<const N: usize>(
    start: &BytesStart<'_>,
    keys: [&str; N],
) -> Result<[Option<String>; N], quick_xml::Error> {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    for attribute in start.attributes() {
        let attribute = attribute?;
        let Some(index) = keys.iter().position(|key| *key == attribute.key.as_ref()) else {
            continue;
        };
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .unwrap_or_else(|_| attribute.value.clone());
        values[index] = non_empty(&value);
    }
    Ok(values)
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}
