//! Java's XML properties format (`Properties.loadFromXML`/`storeToXML`), which
//! `META-INF/vault/properties.xml` uses (reference section 4.1).
//!
//! ```xml
//! <?xml version="1.0" encoding="utf-8" standalone="no"?>
//! <!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
//! <properties>
//! <comment>FileVault Package Properties</comment>
//! <entry key="name">my-package</entry>
//! <entry key="version"/>
//! </properties>
//! ```
//!
//! The reader follows the format's DTD: the DOCTYPE is required (as Java requires
//! it) and is recognized, never fetched; a DOCTYPE with an internal subset, an
//! unknown system identifier or entity references other than the five predefined
//! ones are refused. `properties` holds an optional `comment`, then `entry`
//! elements with a required `key` attribute; a later entry with the same key wins.
//! Every error names the file, line and column.
//!
//! The writer produces what FileVault's exporter writes through Java's XML
//! serializer, byte for byte, with the entries in the order given.

use crate::location::Location;
use crate::xml_encoding::{self, Utf16Error, XmlStart};
use quick_xml::events::{BytesStart, Event};
use quick_xml::XmlVersion;
use std::borrow::Cow;
use std::io::{Read, Write};

/// The system identifier of the properties DTD; the only one Java accepts.
pub const PROPERTIES_DTD_URI: &str = "http://java.sun.com/dtd/properties.dtd";

/// Why a properties file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PropertiesError {
    /// The bytes are not in the encoding the file declares, or in none jcrpack reads.
    #[error("{location}: {message}")]
    Encoding {
        /// Where.
        location: Location,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The text is not well-formed XML.
    #[error("{location}: malformed XML: {message}")]
    Malformed {
        /// Where.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// The DOCTYPE is missing, unknown, or declares something (an internal subset).
    #[error("{location}: {message}")]
    Doctype {
        /// Where.
        location: Location,
        /// What is wrong and what was expected.
        message: String,
    },
    /// Well-formed XML that does not follow the properties DTD.
    #[error("{location}: {message}")]
    Structure {
        /// Where.
        location: Location,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The file could not be read.
    #[error("{location}: cannot read: {source}")]
    Io {
        /// The file.
        location: Location,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl PropertiesError {
    /// Where the error was found.
    pub fn location(&self) -> &Location {
        match self {
            PropertiesError::Encoding { location, .. }
            | PropertiesError::Malformed { location, .. }
            | PropertiesError::Doctype { location, .. }
            | PropertiesError::Structure { location, .. }
            | PropertiesError::Io { location, .. } => location,
        }
    }
}

/// The content of a properties file: its comment and its entries in document
/// order (duplicates kept; the last one is the effective value).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawProperties {
    /// The text of the `comment` element, if there is one.
    pub comment: Option<String>,
    /// `(key, value)` pairs in document order.
    pub entries: Vec<(String, String)>,
}

/// Reads a properties file from `reader`; `file` names it in errors.
pub fn read_properties_xml(
    mut reader: impl Read,
    file: &str,
) -> Result<RawProperties, PropertiesError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| PropertiesError::Io {
            location: Location::file(file),
            source,
        })?;
    parse_properties_xml(&bytes, file)
}

/// Parses the bytes of a properties file; `file` names it in errors.
pub fn parse_properties_xml(bytes: &[u8], file: &str) -> Result<RawProperties, PropertiesError> {
    let text = decode(bytes, file)?;
    Parser::new(&text, file).run()
}

/// Writes a properties file as Java 8's `storeToXML(out, comment, "utf-8")` does:
/// XML declaration, DOCTYPE, one element a line, `<entry key="k"/>` for an empty
/// value, and Java's serializer escaping. `entries` are written in the order given.
pub fn write_properties_xml<'a>(
    mut out: impl Write,
    comment: Option<&str>,
    entries: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> std::io::Result<()> {
    let mut s = String::with_capacity(512);
    s.push_str("<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"no\"?>\n");
    s.push_str("<!DOCTYPE properties SYSTEM \"");
    s.push_str(PROPERTIES_DTD_URI);
    s.push_str("\">\n<properties>\n");
    if let Some(c) = comment {
        element(&mut s, "comment", None, c);
    }
    for (k, v) in entries {
        element(&mut s, "entry", Some(k), v);
    }
    s.push_str("</properties>\n");
    out.write_all(s.as_bytes())
}

fn element(out: &mut String, name: &str, key: Option<&str>, text: &str) {
    out.push('<');
    out.push_str(name);
    if let Some(k) = key {
        out.push_str(" key=\"");
        escape_into(out, k, true);
        out.push('"');
    }
    if text.is_empty() {
        out.push_str("/>\n");
    } else {
        out.push('>');
        escape_into(out, text, false);
        out.push_str("</");
        out.push_str(name);
        out.push_str(">\n");
    }
}

/// Java's XML serializer escaping: `& < >` always, `"` and `\t \n \r` in attribute
/// values, `\r` in text, and C0/C1 controls and U+2028 as decimal references.
fn escape_into(out: &mut String, s: &str, attribute: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' | '\n' if !attribute => out.push(c),
            '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{2028}' => {
                out.push_str(&format!("&#{};", c as u32));
            }
            _ => out.push(c),
        }
    }
}

/// Whether `c` may appear in an XML 1.0 document.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Decodes the file to text: UTF-8 (with or without BOM), UTF-16 with a BOM or an
/// unambiguous start, or the single-byte encodings an XML declaration may name
/// (ISO-8859-1, US-ASCII, windows-1252).
fn decode<'b>(bytes: &'b [u8], file: &str) -> Result<Cow<'b, str>, PropertiesError> {
    let encoding_error = |pos: usize, message: String| PropertiesError::Encoding {
        location: Location::from_offset(file, bytes, pos),
        message,
    };
    match xml_encoding::sniff(bytes) {
        XmlStart::Utf8Bom => return utf8(&bytes[3..], bytes, 3, file),
        XmlStart::Utf16 { big_endian, skip } => {
            return match xml_encoding::decode_utf16(&bytes[skip..], big_endian) {
                Ok(text) => Ok(Cow::Owned(text)),
                Err(Utf16Error::OddLength) => Err(encoding_error(
                    bytes.len(),
                    "UTF-16 text with an odd number of bytes".into(),
                )),
                Err(Utf16Error::UnpairedSurrogate { at, decoded }) => {
                    Err(PropertiesError::Encoding {
                        location: Location::from_offset(file, decoded.as_bytes(), decoded.len()),
                        message: format!(
                            "unpaired UTF-16 surrogate at byte {}: expected valid UTF-16",
                            skip + at
                        ),
                    })
                }
            };
        }
        XmlStart::Plain => {}
    }
    match declared_encoding(bytes).as_deref() {
        None | Some("utf-8" | "utf8") => utf8(bytes, bytes, 0, file),
        Some("iso-8859-1" | "iso8859-1" | "iso_8859-1" | "iso8859_1" | "latin1" | "l1") => {
            Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()))
        }
        Some("us-ascii" | "ascii") => match bytes.iter().position(|&b| b > 0x7F) {
            Some(pos) => Err(encoding_error(
                pos,
                format!(
                    "byte 0x{:02X} is not US-ASCII, the encoding the XML declaration names",
                    bytes[pos]
                ),
            )),
            None => utf8(bytes, bytes, 0, file),
        },
        Some("windows-1252" | "cp1252") => {
            Ok(Cow::Owned(bytes.iter().map(|&b| windows_1252(b)).collect()))
        }
        Some(other) => Err(encoding_error(
            0,
            format!(
                "unsupported encoding '{other}' in the XML declaration \
                 (expected UTF-8, UTF-16, ISO-8859-1, US-ASCII or windows-1252)"
            ),
        )),
    }
}

fn utf8<'b>(
    body: &'b [u8],
    whole: &[u8],
    skip: usize,
    file: &str,
) -> Result<Cow<'b, str>, PropertiesError> {
    std::str::from_utf8(body)
        .map(Cow::Borrowed)
        .map_err(|e| PropertiesError::Encoding {
            location: Location::from_offset(file, whole, skip + e.valid_up_to()),
            message: format!(
                "invalid UTF-8 byte 0x{:02X}: the file must be UTF-8 unless its XML declaration names another encoding",
                body.get(e.valid_up_to()).copied().unwrap_or(0)
            ),
        })
}

/// The lower-cased `encoding` of an ASCII-compatible XML declaration, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.strip_prefix(b"<?xml")?;
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|&q| q == '"' || q == '\'')?;
    let value = &rest[1..];
    let close = value.find(quote)?;
    Some(value[..close].to_ascii_lowercase())
}

/// The character of a windows-1252 byte.
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}',
        '\u{8F}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}',
        '\u{2014}', '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}',
        '\u{178}',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// Where the parser is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the root element.
    Prolog,
    /// Inside `<properties>`, before any entry.
    Root,
    /// Inside `<properties>`, after at least one entry.
    RootAfterEntry,
    /// Inside `<comment>`.
    Comment,
    /// Inside `<entry>`.
    Entry,
    /// After `</properties>`.
    Epilog,
}

struct Parser<'t> {
    text: &'t str,
    file: &'t str,
    reader: quick_xml::Reader<&'t [u8]>,
    state: State,
    seen_doctype: bool,
    seen_comment: bool,
    key: String,
    value: String,
    result: RawProperties,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str, file: &'t str) -> Parser<'t> {
        Parser {
            text,
            file,
            reader: quick_xml::Reader::from_str(text),
            state: State::Prolog,
            seen_doctype: false,
            seen_comment: false,
            key: String::new(),
            value: String::new(),
            result: RawProperties::default(),
        }
    }

    fn at(&self, pos: usize) -> Location {
        Location::from_offset(self.file, self.text.as_bytes(), pos)
    }

    fn structure(&self, pos: usize, message: impl Into<String>) -> PropertiesError {
        PropertiesError::Structure {
            location: self.at(pos),
            message: message.into(),
        }
    }

    fn run(mut self) -> Result<RawProperties, PropertiesError> {
        loop {
            let pos = to_usize(self.reader.buffer_position());
            let event = match self.reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    return Err(PropertiesError::Malformed {
                        location: self.at(to_usize(self.reader.error_position())),
                        message: e.to_string(),
                    })
                }
            };
            match event {
                Event::Eof => break,
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::DocType(d) => self.doctype(&d, pos)?,
                Event::Start(e) => self.start(&e, pos, false)?,
                Event::Empty(e) => self.start(&e, pos, true)?,
                Event::End(_) => self.end(),
                Event::Text(t) => {
                    let raw: &str = &t;
                    self.text_content(&t.xml10_content(), raw, pos)?;
                }
                Event::CData(c) => {
                    let content = c.xml10_content();
                    self.text_content(&content, &content, pos + "<![CDATA[".len())?;
                }
                Event::GeneralRef(r) => {
                    let name: &str = &r;
                    let c = self.reference(name, r.resolve_char_ref(), pos)?;
                    let mut buf = [0u8; 4];
                    let s: &str = c.encode_utf8(&mut buf);
                    self.text_content(s, s, pos)?;
                }
            }
        }
        match self.state {
            State::Epilog => Ok(self.result),
            State::Prolog => Err(self.structure(
                self.text.len(),
                "no <properties> element: expected <properties> as the root element",
            )),
            _ => Err(PropertiesError::Malformed {
                location: self.at(self.text.len()),
                message: "unexpected end of file: the <properties> element is not closed".into(),
            }),
        }
    }

    fn doctype(&mut self, content: &str, pos: usize) -> Result<(), PropertiesError> {
        let location = self.at(pos);
        let fail = |message: String| PropertiesError::Doctype {
            location: location.clone(),
            message,
        };
        if self.state != State::Prolog || self.seen_doctype {
            return Err(fail(
                "a DOCTYPE is allowed only once, before the root element".into(),
            ));
        }
        self.seen_doctype = true;
        let d = content.trim_start();
        let name_end = d
            .find(|c: char| c.is_ascii_whitespace() || c == '[')
            .unwrap_or(d.len());
        let (name, rest) = d.split_at(name_end);
        if name != "properties" {
            return Err(fail(format!(
                "the DOCTYPE names '{name}': expected <!DOCTYPE properties SYSTEM \"{PROPERTIES_DTD_URI}\">"
            )));
        }
        let mut rest = rest.trim_start();
        let mut system = None;
        if let Some(r) = rest.strip_prefix("SYSTEM") {
            let (lit, r) = quoted(r).ok_or_else(|| {
                fail("SYSTEM must be followed by a quoted system identifier".into())
            })?;
            system = Some(lit);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("PUBLIC") {
            let (_, r) = quoted(r).ok_or_else(|| {
                fail("PUBLIC must be followed by a quoted public identifier".into())
            })?;
            let (lit, r) = quoted(r).ok_or_else(|| {
                fail("the public identifier must be followed by a quoted system identifier".into())
            })?;
            system = Some(lit);
            rest = r;
        }
        let rest = rest.trim_start();
        if rest.starts_with('[') {
            return Err(fail(
                "the DOCTYPE has an internal subset: declarations (entities and others) are not allowed in properties.xml".into(),
            ));
        }
        if !rest.is_empty() {
            return Err(fail(format!(
                "unexpected '{rest}' in the DOCTYPE: expected <!DOCTYPE properties SYSTEM \"{PROPERTIES_DTD_URI}\">"
            )));
        }
        if let Some(sys) = system {
            if sys != PROPERTIES_DTD_URI {
                return Err(fail(format!(
                    "invalid system identifier '{sys}': expected \"{PROPERTIES_DTD_URI}\""
                )));
            }
        }
        Ok(())
    }

    fn start(&mut self, e: &BytesStart, pos: usize, empty: bool) -> Result<(), PropertiesError> {
        let name = e.name().as_ref().to_string();
        match (self.state, name.as_str()) {
            (State::Prolog, "properties") => {
                if !self.seen_doctype {
                    return Err(PropertiesError::Doctype {
                        location: self.at(pos),
                        message: format!(
                            "missing DOCTYPE: Java requires <!DOCTYPE properties SYSTEM \"{PROPERTIES_DTD_URI}\"> before <properties>"
                        ),
                    });
                }
                for (attr, value) in self.attributes(e, pos)? {
                    if attr != "version" {
                        return Err(self.structure(
                            pos,
                            format!("<properties> has no attribute '{attr}' (only 'version')"),
                        ));
                    }
                    if value != "1.0" {
                        return Err(self.structure(
                            pos,
                            format!(
                                "<properties version=\"{value}\">: the version must be \"1.0\""
                            ),
                        ));
                    }
                }
                self.state = if empty { State::Epilog } else { State::Root };
            }
            (State::Prolog, _) => {
                return Err(self.structure(
                    pos,
                    format!("the root element is <{name}>: expected <properties>"),
                ))
            }
            (State::Root, "comment") => {
                if self.seen_comment {
                    return Err(self.structure(
                        pos,
                        "a second <comment>: only one is allowed, before the entries",
                    ));
                }
                if let Some((attr, _)) = self.attributes(e, pos)?.into_iter().next() {
                    return Err(self.structure(pos, format!("<comment> has no attribute '{attr}'")));
                }
                self.seen_comment = true;
                self.value.clear();
                if empty {
                    self.result.comment = Some(String::new());
                } else {
                    self.state = State::Comment;
                }
            }
            (State::RootAfterEntry, "comment") => {
                return Err(self.structure(
                    pos,
                    "<comment> after an <entry>: the comment must come first (comment?, entry*)",
                ))
            }
            (State::Root | State::RootAfterEntry, "entry") => {
                let mut key = None;
                for (attr, value) in self.attributes(e, pos)? {
                    if attr != "key" {
                        return Err(self.structure(
                            pos,
                            format!("<entry> has no attribute '{attr}' (only 'key')"),
                        ));
                    }
                    key = Some(value);
                }
                let Some(key) = key else {
                    return Err(self.structure(pos, "<entry> without the required 'key' attribute"));
                };
                if empty {
                    self.result.entries.push((key, String::new()));
                    self.state = State::RootAfterEntry;
                } else {
                    self.key = key;
                    self.value.clear();
                    self.state = State::Entry;
                }
            }
            (State::Root | State::RootAfterEntry, _) => {
                return Err(self.structure(
                    pos,
                    format!("unexpected element <{name}>: expected <comment> or <entry>"),
                ))
            }
            (State::Comment | State::Entry, _) => {
                let parent = if self.state == State::Entry {
                    "entry"
                } else {
                    "comment"
                };
                return Err(self.structure(
                    pos,
                    format!("element <{name}> inside <{parent}>: only text is allowed there"),
                ));
            }
            (State::Epilog, _) => {
                return Err(self.structure(
                    pos,
                    format!("element <{name}> after </properties>: expected the end of the file"),
                ))
            }
        }
        Ok(())
    }

    /// The attributes of `e` as (name, normalized value), refusing malformed ones and
    /// characters XML forbids.
    fn attributes(
        &self,
        e: &BytesStart,
        pos: usize,
    ) -> Result<Vec<(String, String)>, PropertiesError> {
        let mut out = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|err| PropertiesError::Malformed {
                location: self.at(pos),
                message: err.to_string(),
            })?;
            let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|err| {
                PropertiesError::Malformed {
                    location: self.at(pos),
                    message: err.to_string(),
                }
            })?;
            if let Some(c) = value.chars().find(|&c| !is_xml_char(c)) {
                return Err(PropertiesError::Malformed {
                    location: self.at(pos),
                    message: format!("character U+{:04X} is not allowed in XML 1.0", c as u32),
                });
            }
            out.push((a.key.as_ref().to_string(), value.into_owned()));
        }
        Ok(out)
    }

    fn end(&mut self) {
        match self.state {
            State::Entry => {
                let value = std::mem::take(&mut self.value);
                let key = std::mem::take(&mut self.key);
                self.result.entries.push((key, value));
                self.state = State::RootAfterEntry;
            }
            State::Comment => {
                self.result.comment = Some(std::mem::take(&mut self.value));
                self.state = State::Root;
            }
            // quick-xml checks that end tags match their start tags.
            _ => self.state = State::Epilog,
        }
    }

    /// Character data: kept inside `entry` and `comment`, only white space elsewhere.
    /// `raw` is the source text starting at `pos`, to point at the offending character.
    fn text_content(
        &mut self,
        content: &str,
        raw: &str,
        pos: usize,
    ) -> Result<(), PropertiesError> {
        if let Some((i, c)) = raw.char_indices().find(|&(_, c)| !is_xml_char(c)) {
            return Err(PropertiesError::Malformed {
                location: self.at(pos + i),
                message: format!("character U+{:04X} is not allowed in XML 1.0", c as u32),
            });
        }
        match self.state {
            State::Entry | State::Comment => self.value.push_str(content),
            _ => {
                if let Some(i) = raw.find(|c: char| !matches!(c, ' ' | '\t' | '\n' | '\r')) {
                    let place = match self.state {
                        State::Prolog => "before <properties>",
                        State::Epilog => "after </properties>",
                        _ => "between the elements of <properties>",
                    };
                    return Err(self.structure(
                        pos + i,
                        format!("text {place}: only <comment> and <entry> elements are allowed"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Resolves `&name;`: a character reference or one of the five predefined entities.
    fn reference(
        &self,
        name: &str,
        char_ref: Result<Option<char>, quick_xml::Error>,
        pos: usize,
    ) -> Result<char, PropertiesError> {
        let c = match char_ref {
            Ok(Some(c)) => c,
            Ok(None) => match name {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "apos" => '\'',
                "quot" => '"',
                _ => {
                    return Err(PropertiesError::Malformed {
                        location: self.at(pos),
                        message: format!(
                            "undeclared entity '&{name};': only &lt; &gt; &amp; &apos; &quot; and character references are allowed"
                        ),
                    })
                }
            },
            Err(e) => {
                return Err(PropertiesError::Malformed {
                    location: self.at(pos),
                    message: format!("invalid character reference '&{name};': {e}"),
                })
            }
        };
        if !is_xml_char(c) {
            return Err(PropertiesError::Malformed {
                location: self.at(pos),
                message: format!(
                    "'&{name};' refers to U+{:04X}, which XML 1.0 does not allow",
                    c as u32
                ),
            });
        }
        Ok(c)
    }
}

/// A quoted literal at the start of `s` (after blanks), and the rest.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    let q = s.chars().next().filter(|&q| q == '"' || q == '\'')?;
    let body = &s[1..];
    let end = body.find(q)?;
    Some((&body[..end], &body[end + 1..]))
}

fn to_usize(pos: u64) -> usize {
    usize::try_from(pos).unwrap_or(usize::MAX)
}
