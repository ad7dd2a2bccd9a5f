//! Reading `filter.xml` with FileVault's acceptance rules (reference §2.1).
//!
//! FileVault parses the whole file into a DOM first (any XML error wins) and then
//! walks it, stopping at the first semantic problem. This reader streams quick-xml
//! events, checks well-formedness to the end of the document, and reports the first
//! semantic problem in document order only if the XML is well-formed. DOCTYPEs with
//! an internal subset are refused (FileVault would expand the entities they declare);
//! an external DTD is never loaded, as in FileVault, which substitutes an empty one.
//! No entity is resolved beyond the five predefined ones and character references.

use crate::xml_encoding::{self, Utf16Error, XmlStart};
use std::borrow::Cow;
use std::path::Path;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use quick_xml::XmlVersion;

use self::wellformed::Problem;
use super::error::FilterError;
use super::mode::ImportMode;
use super::model::{FilterSet, Rule, Source, WorkspaceFilter};
use super::pattern::Pattern;
use super::version::FilterVersion;
use crate::location::{Location, Locator};

impl WorkspaceFilter {
    /// Reads a `filter.xml` from its bytes; `file` names it in error locations.
    pub fn parse(bytes: &[u8], file: &str) -> Result<WorkspaceFilter, FilterError> {
        parse(bytes, file)
    }

    /// Reads a `filter.xml` from a file.
    pub fn load(path: &Path) -> Result<WorkspaceFilter, FilterError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| FilterError::Io {
            file: file.clone(),
            message: e.to_string(),
        })?;
        parse(&bytes, &file)
    }
}

/// Reads a `filter.xml` from its bytes; `file` names it in error locations.
pub fn parse(bytes: &[u8], file: &str) -> Result<WorkspaceFilter, FilterError> {
    let text = decode(bytes, file)?;
    check_characters(&text, file)?;
    let mut reader = Reader::new(&text, file);
    let (version, sets) = reader.run()?;
    Ok(WorkspaceFilter {
        sets: sets.clone(),
        version,
        source: Some(Source {
            bytes: bytes.to_vec(),
            version,
            sets,
        }),
    })
}

mod wellformed;

// ----- encodings -----

/// Turns the bytes into text: UTF-8 (with or without BOM), UTF-16 (BOM or `<?`
/// pattern), or the ISO-8859-1 / US-ASCII encodings named in the XML declaration.
fn decode<'b>(bytes: &'b [u8], file: &str) -> Result<Cow<'b, str>, FilterError> {
    let encoding_error = |pos: usize, message: String| FilterError::Encoding {
        location: Location::from_offset(file, bytes, pos),
        message,
    };
    match xml_encoding::sniff(bytes) {
        XmlStart::Utf8Bom => return utf8(&bytes[3..], 3, bytes, file).map(Cow::Borrowed),
        XmlStart::Utf16 { big_endian, skip } => {
            let body = bytes.get(skip..).unwrap_or_default();
            return match xml_encoding::decode_utf16(body, big_endian) {
                Ok(text) => Ok(Cow::Owned(text)),
                Err(Utf16Error::OddLength) => Err(encoding_error(
                    bytes.len(),
                    "UTF-16 text with an odd number of bytes".into(),
                )),
                Err(Utf16Error::UnpairedSurrogate { at, .. }) => Err(encoding_error(
                    skip + at,
                    "unpaired surrogate in UTF-16 text".into(),
                )),
            };
        }
        XmlStart::Plain => {}
    }
    match declared_encoding(bytes) {
        None => utf8(bytes, 0, bytes, file).map(Cow::Borrowed),
        Some((name, pos)) => {
            let lower = name.to_ascii_lowercase();
            match lower.as_str() {
                "utf-8" | "utf8" => utf8(bytes, 0, bytes, file).map(Cow::Borrowed),
                "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "iso8859_1" | "latin1"
                | "latin-1" | "l1" | "iso-latin-1" | "cp819" | "ibm819" | "8859_1" => {
                    Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()))
                }
                "us-ascii" | "ascii" | "iso646-us" => match bytes.iter().position(|&b| b >= 0x80) {
                    Some(bad) => Err(encoding_error(
                        bad,
                        format!("byte 0x{:02X} is not US-ASCII, the declared encoding", bytes[bad]),
                    )),
                    None => utf8(bytes, 0, bytes, file).map(Cow::Borrowed),
                },
                _ => Err(encoding_error(
                    pos,
                    format!(
                        "unsupported encoding '{name}' (expected UTF-8, UTF-16, ISO-8859-1 or US-ASCII)"
                    ),
                )),
            }
        }
    }
}

fn utf8<'b>(text: &'b [u8], offset: usize, all: &[u8], file: &str) -> Result<&'b str, FilterError> {
    std::str::from_utf8(text).map_err(|e| FilterError::Encoding {
        location: Location::from_offset(file, all, offset + e.valid_up_to()),
        message: "invalid UTF-8 byte sequence (expected UTF-8, as declared or by default)".into(),
    })
}

/// The `encoding` pseudo-attribute of a leading `<?xml ...?>` and its byte offset.
fn declared_encoding(bytes: &[u8]) -> Option<(String, usize)> {
    if !bytes.starts_with(b"<?xml") {
        return None;
    }
    let end = bytes.windows(2).take(1024).position(|w| w == b"?>")?;
    let decl = &bytes[..end];
    let key = decl.windows(8).position(|w| w == b"encoding")?;
    let mut i = key + 8;
    while decl.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    if decl.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    while decl.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    let quote = *decl.get(i)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let start = i + 1;
    let len = decl.get(start..)?.iter().position(|&b| b == quote)?;
    let name = std::str::from_utf8(&decl[start..start + len]).ok()?;
    Some((name.to_string(), start))
}

/// XML 1.0 `Char`: every character of the document must be one.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn check_characters(text: &str, file: &str) -> Result<(), FilterError> {
    match text.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        Some((pos, c)) => Err(FilterError::Xml {
            location: Location::from_offset(file, text.as_bytes(), pos),
            message: format!("character U+{:04X} is not allowed in XML", u32::from(c)),
        }),
        None => Ok(()),
    }
}

// ----- the document walk -----

/// Which element the reader is inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Before the root element.
    Prolog,
    /// Inside `<workspaceFilter>`.
    Root,
    /// Inside a `<filter>`.
    Filter,
    /// Inside an include/exclude or deeper (content ignored, like FileVault).
    Ignored(usize),
    /// After the root element.
    Epilog,
}

struct Reader<'t> {
    text: &'t str,
    file: &'t str,
    /// The first semantic error in document order (reported if the XML is well-formed).
    first_error: Option<FilterError>,
    version: FilterVersion,
    sets: Vec<FilterSet>,
    /// The `<filter>` being read.
    current: Option<FilterSet>,
    /// Include and exclude rules read so far, against
    /// [`crate::limits::Limits::filter_patterns`].
    rules: usize,
    /// The DOCTYPE names an external DTD (never loaded): undeclared entities are then
    /// not errors and expand to nothing, as with FileVault's empty substitute DTD.
    external_dtd: bool,
    /// Locates sets and rules in time linear in the file.
    locator: Locator,
}

impl<'t> Reader<'t> {
    fn new(text: &'t str, file: &'t str) -> Reader<'t> {
        Reader {
            text,
            file,
            first_error: None,
            version: FilterVersion::SUPPORTED,
            sets: Vec::new(),
            current: None,
            rules: 0,
            external_dtd: false,
            locator: Locator::new(),
        }
    }

    fn location(&self, pos: usize) -> Location {
        self.locator.locate(self.file, self.text.as_bytes(), pos)
    }

    fn xml_error(&self, pos: usize, message: impl Into<String>) -> FilterError {
        FilterError::Xml {
            location: self.location(pos),
            message: message.into(),
        }
    }

    /// Records a semantic error unless an earlier one exists.
    fn fail(&mut self, error: FilterError) {
        if self.first_error.is_none() {
            self.first_error = Some(error);
        }
    }

    fn run(&mut self) -> Result<(FilterVersion, Vec<FilterSet>), FilterError> {
        let mut reader = NsReader::from_str(self.text);
        let config = reader.config_mut();
        config.trim_text(false);
        config.check_comments = true;
        config.check_end_names = true;
        config.allow_unmatched_ends = false;
        config.expand_empty_elements = false;
        let mut level = Level::Prolog;
        let mut root_name = String::new();
        loop {
            let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    let pos = usize::try_from(reader.error_position()).unwrap_or(start);
                    return Err(self.xml_error(pos, e.to_string()));
                }
            };
            let end = usize::try_from(reader.buffer_position()).unwrap_or(start);
            let raw = self.text.get(start..end).unwrap_or_default();
            self.check_raw(&event, raw, start)?;
            match event {
                Event::Decl(decl) => {
                    if start != 0 {
                        return Err(self.xml_error(
                            start,
                            "the XML declaration must be at the very beginning of the file",
                        ));
                    }
                    let version = decl
                        .version()
                        .map_err(|e| self.xml_error(start, e.to_string()))?;
                    if version != "1.0" && version != "1.1" {
                        return Err(self.xml_error(
                            start,
                            format!("XML version '{version}' is not supported (expected 1.0)"),
                        ));
                    }
                }
                Event::DocType(doctype) => {
                    let content: &str = &doctype;
                    if level != Level::Prolog {
                        return Err(self.xml_error(start, "DOCTYPE after the root element"));
                    }
                    // An internal subset could declare entities: refused. An external DTD
                    // is never loaded (FileVault substitutes an empty one), so a
                    // DOCTYPE that only names one is accepted.
                    if content.contains('[') {
                        return Err(FilterError::Doctype {
                            location: self.location(start),
                        });
                    }
                    let upper = content.to_ascii_uppercase();
                    self.external_dtd = upper.contains("SYSTEM") || upper.contains("PUBLIC");
                }
                Event::Start(element) => {
                    self.check_names(&reader, &element, start)?;
                    level = self.open(level, &element, start, false, &mut root_name)?;
                }
                Event::Empty(element) => {
                    self.check_names(&reader, &element, start)?;
                    let inner = self.open(level, &element, start, true, &mut root_name)?;
                    level = self.close(inner);
                }
                Event::End(_) => {
                    level = self.close(level);
                }
                Event::Text(text) => {
                    let content: &str = &text;
                    let outside = matches!(level, Level::Prolog | Level::Epilog);
                    if outside {
                        if let Some(offset) =
                            content.find(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
                        {
                            return Err(self.xml_error(
                                start + offset,
                                "text is not allowed outside the root element",
                            ));
                        }
                    }
                }
                Event::CData(_) => {
                    if matches!(level, Level::Prolog | Level::Epilog) {
                        return Err(
                            self.xml_error(start, "CDATA is not allowed outside the root element")
                        );
                    }
                }
                Event::GeneralRef(reference) => {
                    if matches!(level, Level::Prolog | Level::Epilog) {
                        return Err(
                            self.xml_error(start, "text is not allowed outside the root element")
                        );
                    }
                    if reference.is_char_ref() {
                        match reference.resolve_char_ref() {
                            Ok(Some(c)) if is_xml_char(c) => {}
                            _ => {
                                return Err(self.xml_error(
                                    start,
                                    "character reference to a character not allowed in XML",
                                ))
                            }
                        }
                    } else {
                        let name: &str = &reference;
                        if !self.external_dtd
                            && !matches!(name, "lt" | "gt" | "amp" | "apos" | "quot")
                        {
                            return Err(self.xml_error(
                                start,
                                format!("entity '&{name};' is not declared (only the five predefined entities are allowed)"),
                            ));
                        }
                    }
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => {
                    if level != Level::Epilog {
                        let message = if level == Level::Prolog {
                            "no root element (expected <workspaceFilter>)".to_string()
                        } else {
                            format!("unexpected end of file: <{root_name}> is not closed")
                        };
                        return Err(self.xml_error(self.text.len(), message));
                    }
                    break;
                }
            }
        }
        match self.first_error.take() {
            Some(error) => Err(error),
            None => Ok((self.version, std::mem::take(&mut self.sets))),
        }
    }

    /// Checks the raw text of tags, declarations and processing instructions with the
    /// XML grammar (see the `wellformed` module).
    fn check_raw(&self, event: &Event<'_>, raw: &str, start: usize) -> Result<(), FilterError> {
        let inner = |open: usize, close: usize| {
            raw.get(open..raw.len().saturating_sub(close))
                .unwrap_or_default()
        };
        let (result, offset): (Result<(), Problem>, usize) = match event {
            Event::Start(_) => (
                wellformed::check_start_tag(inner(1, 1), self.external_dtd),
                1,
            ),
            Event::Empty(_) => (
                wellformed::check_start_tag(inner(1, 2), self.external_dtd),
                1,
            ),
            Event::End(_) => (wellformed::check_end_tag(inner(2, 1)), 2),
            Event::Decl(_) => (wellformed::check_declaration(inner(2, 2)), 2),
            Event::PI(_) => (wellformed::check_processing_instruction(inner(2, 2)), 2),
            Event::Text(_) => match raw.find("]]>") {
                Some(at) => (Err((at, "']]>' is not allowed in text".to_string())), 0),
                None => (Ok(()), 0),
            },
            _ => (Ok(()), 0),
        };
        result.map_err(|(at, message)| self.xml_error(start + offset + at, message))
    }

    /// Namespace-aware checks Xerces makes: every prefix used on the element or an
    /// attribute must be declared; no `<` in attribute values.
    fn check_names(
        &self,
        reader: &NsReader<&[u8]>,
        element: &BytesStart<'_>,
        start: usize,
    ) -> Result<(), FilterError> {
        if let (ResolveResult::Unknown(prefix), _) =
            reader.resolver().resolve_element(element.name())
        {
            return Err(self.xml_error(
                start,
                format!(
                    "the namespace prefix '{prefix}' of <{}> is not declared",
                    element.name().0
                ),
            ));
        }
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|e| self.xml_error(start, e.to_string()))?;
            let key = attribute.key.0;
            if key != "xmlns" && !key.starts_with("xmlns:") {
                if let (ResolveResult::Unknown(prefix), _) =
                    reader.resolver().resolve_attribute(attribute.key)
                {
                    return Err(self.xml_error(
                        start,
                        format!(
                            "the namespace prefix '{prefix}' of attribute '{key}' is not declared"
                        ),
                    ));
                }
            }
            if attribute.value.contains('<') {
                let pos = self.attribute_position(element, start, key);
                return Err(self.xml_error(
                    pos,
                    format!("'<' is not allowed in the value of attribute '{key}'"),
                ));
            }
        }
        Ok(())
    }

    /// Handles a start tag at `level`; returns the level inside the element.
    fn open(
        &mut self,
        level: Level,
        element: &BytesStart<'_>,
        start: usize,
        empty: bool,
        root_name: &mut String,
    ) -> Result<Level, FilterError> {
        let name = element.name().0;
        Ok(match level {
            Level::Prolog => {
                *root_name = name.to_string();
                if name != "workspaceFilter" {
                    self.fail(FilterError::RootElement {
                        location: self.location(start),
                        found: name.to_string(),
                    });
                } else {
                    self.read_version(element, start)?;
                }
                Level::Root
            }
            Level::Root => {
                if name != "filter" {
                    self.fail(FilterError::UnexpectedElement {
                        location: self.location(start),
                        expected: "<filter>",
                        found: name.to_string(),
                    });
                } else {
                    let set = self.read_filter(element, start)?;
                    if empty {
                        self.sets.push(set);
                    } else {
                        self.current = Some(set);
                    }
                }
                Level::Filter
            }
            Level::Filter => {
                if name == "include" || name == "exclude" {
                    if let Some(rule) = self.read_rule(element, start, name == "include")? {
                        if let Some(set) = self.current.as_mut() {
                            set.rules.push(rule);
                        }
                    }
                } else {
                    self.fail(FilterError::UnexpectedElement {
                        location: self.location(start),
                        expected: "<include> or <exclude>",
                        found: name.to_string(),
                    });
                }
                Level::Ignored(1)
            }
            Level::Ignored(depth) => Level::Ignored(depth + 1),
            Level::Epilog => {
                return Err(self.xml_error(
                    start,
                    format!(
                        "only one root element is allowed, found <{name}> after </{root_name}>"
                    ),
                ))
            }
        })
    }

    /// Handles an end tag; returns the enclosing level.
    fn close(&mut self, level: Level) -> Level {
        match level {
            Level::Ignored(1) => Level::Filter,
            Level::Ignored(depth) => Level::Ignored(depth - 1),
            Level::Filter => {
                if let Some(set) = self.current.take() {
                    self.sets.push(set);
                }
                Level::Root
            }
            Level::Root | Level::Prolog | Level::Epilog => Level::Epilog,
        }
    }

    /// The normalised value of attribute `key` (exact qualified name, like DOM
    /// `getAttribute`), or `None` when absent.
    fn attribute(
        &self,
        element: &BytesStart<'_>,
        start: usize,
        key: &str,
    ) -> Result<Option<String>, FilterError> {
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|e| self.xml_error(start, e.to_string()))?;
            if attribute.key.0 == key {
                let value = attribute
                    .normalized_value_with(XmlVersion::Implicit1_0, 1, |name| {
                        // Entities an external DTD might declare are never loaded;
                        // like FileVault (which reads an empty DTD) they expand to nothing.
                        resolve_predefined_entity(name).or(self.external_dtd.then_some(""))
                    })
                    .map_err(|e| {
                        self.xml_error(self.attribute_position(element, start, key), e.to_string())
                    })?;
                if let Some(bad) = value.chars().find(|c| !is_xml_char(*c)) {
                    return Err(self.xml_error(
                        self.attribute_position(element, start, key),
                        format!("character U+{:04X} is not allowed in XML", u32::from(bad)),
                    ));
                }
                return Ok(Some(value.into_owned()));
            }
        }
        Ok(None)
    }

    /// Whether the raw value of `key` needs no unescaping or normalisation.
    fn attribute_is_verbatim(&self, element: &BytesStart<'_>, key: &str) -> bool {
        element
            .attributes()
            .flatten()
            .find(|a| a.key.0 == key)
            .is_some_and(|a| !a.value.contains(['&', '\t', '\n', '\r']))
    }

    /// Byte offset in the document of the first character of the value of `key`
    /// (the element start when it cannot be found).
    fn attribute_position(&self, element: &BytesStart<'_>, start: usize, key: &str) -> usize {
        match attribute_value_offset(element, key) {
            Some(offset) => start + 1 + offset,
            None => start,
        }
    }

    fn read_version(&mut self, element: &BytesStart<'_>, start: usize) -> Result<(), FilterError> {
        let value = self
            .attribute(element, start, "version")?
            .unwrap_or_default();
        if value.is_empty() {
            return Ok(());
        }
        let location = self.location(self.attribute_position(element, start, "version"));
        match FilterVersion::parse(&value) {
            None => self.fail(FilterError::InvalidVersion { location, value }),
            Some(version) if !version.is_supported() => {
                self.fail(FilterError::UnsupportedVersion {
                    location,
                    version: version.to_string(),
                })
            }
            Some(version) => self.version = version,
        }
        Ok(())
    }

    fn read_filter(
        &mut self,
        element: &BytesStart<'_>,
        start: usize,
    ) -> Result<FilterSet, FilterError> {
        let written_root = self.attribute(element, start, "root")?;
        let root = match written_root.as_deref() {
            None | Some("") => "/",
            Some(root) => root,
        };
        let mut set = FilterSet::new(root);
        set.written_root = written_root;
        set.location = Some(self.location(start));
        if let Some(mode) = self.attribute(element, start, "mode")? {
            if !mode.is_empty() {
                match ImportMode::parse(&mode) {
                    Ok(mode) => set.mode = mode,
                    Err(_) => {
                        let location =
                            self.location(self.attribute_position(element, start, "mode"));
                        self.fail(FilterError::InvalidMode {
                            location,
                            value: mode,
                        });
                    }
                }
            }
        }
        if let Some(kind) = self.attribute(element, start, "type")? {
            if !kind.is_empty() {
                set.kind = Some(kind);
            }
        }
        Ok(set)
    }

    fn read_rule(
        &mut self,
        element: &BytesStart<'_>,
        start: usize,
        include: bool,
    ) -> Result<Option<Rule>, FilterError> {
        // Each pattern compiles to an automaton: 150,000 of them took 2.3 GB and
        // 100 s. Stop at the limit, before compiling more.
        self.rules += 1;
        let limit = crate::limits::get().filter_patterns;
        if self.rules > limit {
            return Err(FilterError::TooManyPatterns {
                location: self.location(start),
                limit,
            });
        }
        let pattern = self
            .attribute(element, start, "pattern")?
            .unwrap_or_default();
        if pattern.is_empty() {
            self.fail(FilterError::EmptyPattern {
                location: self.location(start),
                element: element.name().0.to_string(),
            });
            return Ok(None);
        }
        // Java's Boolean.valueOf: only a case-insensitive "true" is true.
        let match_properties = self
            .attribute(element, start, "matchProperties")?
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let value_pos = self.attribute_position(element, start, "pattern");
        match Pattern::new(&pattern) {
            Ok(compiled) => Ok(Some(Rule {
                include,
                pattern: compiled,
                match_properties,
                location: Some(self.location(start)),
            })),
            Err(source) => {
                let mut pos = value_pos;
                if self.attribute_is_verbatim(element, "pattern") {
                    pos += pattern
                        .char_indices()
                        .nth(source.index)
                        .map_or(pattern.len(), |(byte, _)| byte);
                }
                self.fail(FilterError::Pattern {
                    location: self.location(pos),
                    source,
                });
                Ok(None)
            }
        }
    }
}

/// Offset, within the tag text after `<`, of the first character of the value of
/// attribute `key` (the tag is well-formed: quick-xml has checked it).
fn attribute_value_offset(element: &BytesStart<'_>, key: &str) -> Option<usize> {
    let tag: &str = element;
    let bytes = tag.as_bytes();
    let mut i = element.name().0.len();
    loop {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'=')
        {
            i += 1;
        }
        if i == name_start {
            return None;
        }
        let name = tag.get(name_start..i)?;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let quote = *bytes.get(i)?;
        let value_start = i + 1;
        let len = bytes.get(value_start..)?.iter().position(|&b| b == quote)?;
        if name == key {
            return Some(value_start);
        }
        i = value_start + len + 1;
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod oracle_tests;
