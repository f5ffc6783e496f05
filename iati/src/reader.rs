//! The streaming reader: one [`Activity`] per `next()`, bounded memory, fatal errors with a line.

use std::io::{self, BufRead};
use std::sync::Arc;

use quick_xml::events::{BytesDecl, BytesRef, BytesStart, Event};
use quick_xml::Reader;

use crate::builder::{attributes, ActivityBuilder};
use crate::error::ReadError;
use crate::limits::ReaderLimits;
use crate::model::Activity;
use crate::source::CountingSource;

/// The root element of an IATI activity file.
const ROOT_ELEMENT: &str = "iati-activities";
/// The element the reader yields.
const ACTIVITY_ELEMENT: &str = "iati-activity";
/// Longest root name quoted back in [`ReadError::NotIati`], in characters.
const QUOTED_NAME_CHARS_MAX: usize = 64;

/// Reads IATI activities one at a time from any `BufRead`.
///
/// Yields `Ok(activity)` for every `iati-activity` element in document order, then `None`; or,
/// when the file breaks, every activity before the break and then one `Err` naming the line.
/// Memory stays bounded by [`ReaderLimits`] whatever the input.
///
/// ```
/// let xml = r#"<iati-activities version="2.03"><iati-activity default-currency="EUR">
///   <iati-identifier>XM-1</iati-identifier><reporting-org ref="XM"/>
///   <transaction ref="t1"><transaction-type code="3"/><transaction-date iso-date="2020-01-02"/>
///   <value>1000.50</value></transaction></iati-activity></iati-activities>"#;
/// let mut reader = aidledger_iati::ActivityReader::new(xml.as_bytes());
/// let activity = reader.next().unwrap().unwrap();
/// assert_eq!(activity.transactions[0].value.as_deref(), Some("1000.50"));
/// assert_eq!(activity.transactions[0].currency.as_deref(), Some("EUR"));
/// assert!(reader.next().is_none());
/// ```
pub struct ActivityReader<R: BufRead> {
    xml: Reader<CountingSource<R>>,
    buffer: Vec<u8>,
    limits: ReaderLimits,
    phase: Phase,
    /// Depth of non-activity elements open below the root (IATI has none; tolerated wrappers).
    outer_depth: usize,
    file_version: Option<String>,
    generated: Option<String>,
    entities: EntityNotice,
}

/// What a file's DTD could have changed: a DOCTYPE is never read (its entities are not expanded,
/// external ones never fetched), so a reference to an entity it declares stays in the text as
/// written (`&org;`). The importer warns about both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntityNotice {
    /// The line of the `<!DOCTYPE`, when the file has one.
    pub doctype_line: Option<u64>,
    /// How many entity references in kept text were left as written (not one of the five XML
    /// entities, not a character reference).
    pub unexpanded: u64,
    /// The first such reference and its line.
    pub first: Option<(u64, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Prolog,
    Root,
    Trailing,
    Finished,
}

/// Where an XML error happened, to turn it into the right [`ReadError`].
struct Context {
    token_line: u64,
    in_prolog: bool,
}

impl<R: BufRead> ActivityReader<R> {
    /// A reader with the default [`ReaderLimits`].
    pub fn new(input: R) -> Self {
        Self::with_limits(input, ReaderLimits::default())
    }

    /// A reader with other limits.
    pub fn with_limits(input: R, limits: ReaderLimits) -> Self {
        let mut xml = Reader::from_reader(CountingSource::new(input));
        let config = xml.config_mut();
        config.check_end_names = true;
        config.trim_text(false);
        Self {
            xml,
            buffer: Vec::new(),
            limits,
            phase: Phase::Prolog,
            outer_depth: 0,
            file_version: None,
            generated: None,
            entities: EntityNotice::default(),
        }
    }

    /// The root's `@version` (`"2.03"`, `"1.01"`), once the root has been read; `None` when the
    /// root has none (some datastore exports put it on each activity instead).
    pub fn file_version(&self) -> Option<&str> {
        self.file_version.as_deref()
    }

    /// The root's `@generated-datetime` as written, once the root has been read.
    pub fn generated_datetime(&self) -> Option<&str> {
        self.generated.as_deref()
    }

    /// The DOCTYPE and the entity references left as written, so far.
    pub fn entity_notice(&self) -> &EntityNotice {
        &self.entities
    }

    /// The 1-based line the reader has reached.
    pub fn line(&self) -> u64 {
        self.xml.get_ref().line()
    }

    /// How many bytes of the input the reader has consumed.
    pub fn bytes_read(&self) -> u64 {
        self.xml.get_ref().consumed_bytes()
    }

    fn advance(&mut self) -> Result<Option<Activity>, ReadError> {
        loop {
            match self.phase {
                Phase::Prolog => self.read_prolog()?,
                Phase::Root => {
                    if let Some(activity) = self.read_to_next_activity()? {
                        return Ok(Some(activity));
                    }
                }
                Phase::Trailing => {
                    self.check_trailing()?;
                    self.phase = Phase::Finished;
                }
                Phase::Finished => return Ok(None),
            }
        }
    }

    /// Reads up to the root start tag and checks it; sets the next phase.
    fn read_prolog(&mut self) -> Result<(), ReadError> {
        self.sniff_encoding()?;
        loop {
            let consumed = self.xml.get_ref().consumed_bytes();
            let remaining = self.limits.prolog_bytes_max.saturating_sub(consumed);
            let context = Context {
                token_line: self.line(),
                in_prolog: true,
            };
            let allowed = remaining.min(self.limits.token_bytes_max);
            let event = next_event(&mut self.xml, &mut self.buffer, allowed).map_err(|error| {
                classify(self.xml.get_ref(), error, &context, &self.limits, None)
            })?;
            match event {
                Event::Decl(declaration) => check_declared_encoding(&declaration)?,
                Event::Comment(_) | Event::PI(_) => {}
                Event::DocType(_) => self.entities.doctype_line = Some(context.token_line),
                Event::Text(text) if text.xml10_content().trim().is_empty() => {}
                Event::Start(start) => {
                    (self.file_version, self.generated) = open_root(&start, &context)?;
                    self.phase = Phase::Root;
                    return Ok(());
                }
                Event::Empty(start) => {
                    (self.file_version, self.generated) = open_root(&start, &context)?;
                    self.phase = Phase::Trailing;
                    return Ok(());
                }
                Event::Eof if consumed == 0 => return Err(ReadError::Empty),
                Event::Eof => return Err(ReadError::NoRootElement { line: self.line() }),
                _ => {
                    return Err(ReadError::NotXml {
                        line: context.token_line,
                        reason: "text or markup before the root element".to_owned(),
                    })
                }
            }
        }
    }

    /// Refuses input that starts like UTF-16 or UTF-32, which the parser would read as garbage.
    fn sniff_encoding(&mut self) -> Result<(), ReadError> {
        let head = self
            .xml
            .get_mut()
            .peek()
            .map_err(|source| ReadError::Io { line: 1, source })?;
        let encoding = match head {
            [] => return Err(ReadError::Empty),
            [0xFE, 0xFF, ..] | [0xFF, 0xFE, ..] => "UTF-16 or UTF-32 (byte order mark)",
            [0x00, 0x00, ..] | [0x00, b'<', ..] | [b'<', 0x00, ..] => {
                "UTF-16 or UTF-32 (no byte order mark)"
            }
            _ => return Ok(()),
        };
        Err(ReadError::UnsupportedEncoding {
            encoding: encoding.to_owned(),
        })
    }

    /// Reads inside the root until the next activity has been read whole, or the root ends.
    fn read_to_next_activity(&mut self) -> Result<Option<Activity>, ReadError> {
        loop {
            let start_bytes = self.xml.get_ref().consumed_bytes();
            let context = Context {
                token_line: self.line(),
                in_prolog: false,
            };
            let event = next_event(&mut self.xml, &mut self.buffer, self.limits.token_bytes_max)
                .map_err(|error| {
                    classify(self.xml.get_ref(), error, &context, &self.limits, None)
                })?;
            match event {
                Event::Start(start) if start.name().as_ref() == ACTIVITY_ELEMENT => {
                    let builder =
                        ActivityBuilder::new(&start, context.token_line).map_err(|error| {
                            classify(self.xml.get_ref(), error, &context, &self.limits, None)
                        })?;
                    return self.read_activity(builder, start_bytes).map(Some);
                }
                Event::Empty(start) if start.name().as_ref() == ACTIVITY_ELEMENT => {
                    let builder =
                        ActivityBuilder::new(&start, context.token_line).map_err(|error| {
                            classify(self.xml.get_ref(), error, &context, &self.limits, None)
                        })?;
                    return Ok(Some(builder.finish()));
                }
                Event::Start(_) => {
                    self.outer_depth += 1;
                    self.check_depth(self.outer_depth + 1, context.token_line)?;
                }
                Event::End(_) if self.outer_depth > 0 => self.outer_depth -= 1,
                Event::End(_) => {
                    self.phase = Phase::Trailing;
                    return Ok(None);
                }
                Event::Eof => {
                    return Err(ReadError::Truncated {
                        line: self.line(),
                        open_element: "iati-activities".to_owned(),
                        activity_id: None,
                    })
                }
                _ => {}
            }
        }
    }

    /// Reads the rest of one activity whose start tag began at byte `start_bytes`.
    fn read_activity(
        &mut self,
        mut builder: ActivityBuilder,
        start_bytes: u64,
    ) -> Result<Activity, ReadError> {
        // The events borrow the buffer while `self` is used to check them; after an error the
        // reader is finished, so the buffer need not come back then.
        let mut buffer = std::mem::take(&mut self.buffer);
        loop {
            let context = Context {
                token_line: self.line(),
                in_prolog: false,
            };
            let event = next_event(&mut self.xml, &mut buffer, self.limits.token_bytes_max)
                .map_err(|error| {
                    classify(
                        self.xml.get_ref(),
                        error,
                        &context,
                        &self.limits,
                        builder.identifier(),
                    )
                })?;
            let closed = match event {
                Event::Start(start) => {
                    self.open_in_activity(&mut builder, &start, &context)?;
                    false
                }
                Event::Empty(start) => {
                    self.open_in_activity(&mut builder, &start, &context)?;
                    builder.close()
                }
                Event::End(_) => builder.close(),
                Event::Text(text) if builder.wants_text() => {
                    builder.push_text(&text.xml10_content());
                    false
                }
                Event::CData(data) if builder.wants_text() => {
                    builder.push_text(&data.xml10_content());
                    false
                }
                Event::GeneralRef(reference) if builder.wants_text() => {
                    let text = match resolve_reference(&reference) {
                        Some(text) => text,
                        None => {
                            let written = format!("&{};", reference.xml10_content());
                            self.entities.unexpanded += 1;
                            if self.entities.first.is_none() {
                                self.entities.first = Some((context.token_line, written.clone()));
                            }
                            written
                        }
                    };
                    builder.push_text(&text);
                    false
                }
                Event::Eof => {
                    return Err(ReadError::Truncated {
                        line: self.line(),
                        open_element: "iati-activity".to_owned(),
                        activity_id: builder.identifier(),
                    })
                }
                _ => false,
            };
            if closed {
                self.buffer = buffer;
                return Ok(builder.finish());
            }
            let size_bytes = self.xml.get_ref().consumed_bytes() - start_bytes;
            if size_bytes > self.limits.activity_bytes_max {
                builder.mark_too_large(self.limits.activity_bytes_max);
            }
        }
    }

    fn open_in_activity(
        &self,
        builder: &mut ActivityBuilder,
        start: &BytesStart<'_>,
        context: &Context,
    ) -> Result<(), ReadError> {
        // root + wrappers + activity + the elements open below it + this one
        self.check_depth(self.outer_depth + builder.depth() + 3, context.token_line)?;
        builder.open(start, context.token_line).map_err(|error| {
            classify(
                self.xml.get_ref(),
                error,
                context,
                &self.limits,
                builder.identifier(),
            )
        })
    }

    fn check_depth(&self, depth: usize, line: u64) -> Result<(), ReadError> {
        if depth > self.limits.depth_max {
            return Err(ReadError::TooDeep {
                line,
                depth_max: self.limits.depth_max,
            });
        }
        Ok(())
    }

    /// After the root: only whitespace, comments and processing instructions may follow.
    fn check_trailing(&mut self) -> Result<(), ReadError> {
        loop {
            let context = Context {
                token_line: self.line(),
                in_prolog: false,
            };
            let event = next_event(&mut self.xml, &mut self.buffer, self.limits.token_bytes_max)
                .map_err(|error| {
                    classify(self.xml.get_ref(), error, &context, &self.limits, None)
                })?;
            match event {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(text) if text.xml10_content().trim().is_empty() => {}
                _ => {
                    return Err(ReadError::Malformed {
                        line: context.token_line,
                        activity_id: None,
                        reason: "content after the end of <iati-activities>".to_owned(),
                    })
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for ActivityReader<R> {
    type Item = Result<Activity, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.phase == Phase::Finished {
            return None;
        }
        match self.advance() {
            Ok(Some(activity)) => Some(Ok(activity)),
            Ok(None) => {
                self.phase = Phase::Finished;
                None
            }
            Err(error) => {
                self.phase = Phase::Finished;
                Some(Err(error))
            }
        }
    }
}

impl<R: BufRead> std::iter::FusedIterator for ActivityReader<R> {}

/// Reads one event, allowing the parser at most `allowed_bytes` of input for it.
fn next_event<'buffer, R: BufRead>(
    xml: &mut Reader<CountingSource<R>>,
    buffer: &'buffer mut Vec<u8>,
    allowed_bytes: u64,
) -> Result<Event<'buffer>, quick_xml::Error> {
    buffer.clear();
    xml.get_mut().allow(allowed_bytes);
    xml.read_event_into(buffer)
}

/// Turns a parser error into a [`ReadError`], telling limits, I/O and bad XML apart.
fn classify<R: BufRead>(
    source: &CountingSource<R>,
    error: quick_xml::Error,
    context: &Context,
    limits: &ReaderLimits,
    activity_id: Option<String>,
) -> ReadError {
    if source.stopped() {
        if context.in_prolog && source.consumed_bytes() >= limits.prolog_bytes_max {
            return ReadError::PrologTooLarge {
                prolog_bytes_max: limits.prolog_bytes_max,
            };
        }
        return ReadError::TokenTooLarge {
            line: context.token_line,
            token_bytes_max: limits.token_bytes_max,
        };
    }
    let line = source.line();
    match error {
        quick_xml::Error::Io(shared) => ReadError::Io {
            line,
            source: Arc::try_unwrap(shared)
                .unwrap_or_else(|shared| io::Error::new(shared.kind(), shared.to_string())),
        },
        other if context.in_prolog => ReadError::NotXml {
            line,
            reason: other.to_string(),
        },
        other => ReadError::Malformed {
            line,
            activity_id,
            reason: other.to_string(),
        },
    }
}

/// Checks the root element and returns its `@version` and `@generated-datetime`.
fn open_root(
    start: &BytesStart<'_>,
    context: &Context,
) -> Result<(Option<String>, Option<String>), ReadError> {
    let name = start.name();
    if name.as_ref() != ROOT_ELEMENT {
        return Err(ReadError::NotIati {
            line: context.token_line,
            root: name.as_ref().chars().take(QUOTED_NAME_CHARS_MAX).collect(),
        });
    }
    let [version, generated] =
        attributes(start, ["version", "generated-datetime"]).map_err(|error| {
            ReadError::NotXml {
                line: context.token_line,
                reason: error.to_string(),
            }
        })?;
    Ok((version, generated))
}

/// Refuses a declared encoding other than UTF-8 (the parser reads UTF-8 only).
fn check_declared_encoding(declaration: &BytesDecl<'_>) -> Result<(), ReadError> {
    let Some(Ok(encoding)) = declaration.encoding() else {
        return Ok(());
    };
    let normalised = encoding.trim().to_ascii_lowercase();
    if matches!(normalised.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
        return Ok(());
    }
    Err(ReadError::UnsupportedEncoding {
        encoding: encoding.chars().take(QUOTED_NAME_CHARS_MAX).collect(),
    })
}

/// The text a character reference or one of XML's five entities stands for; `None` for any
/// other entity (the caller keeps it as written and counts it).
fn resolve_reference(reference: &BytesRef<'_>) -> Option<String> {
    if let Ok(Some(character)) = reference.resolve_char_ref() {
        return Some(character.to_string());
    }
    let name = reference.xml10_content();
    let predefined = match name.as_ref() {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        _ => return None,
    };
    Some(predefined.to_owned())
}
