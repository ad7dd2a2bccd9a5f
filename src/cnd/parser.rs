//! The CND parser: JCR 2.0 §25.2 compact syntax, as Jackrabbit's
//! `CompactNodeTypeDefReader` reads it.
//!
//! ```text
//! cnd        := { ns_mapping | node_type }
//! ns_mapping := '<' string '=' string '>'
//! node_type  := '[' name ']' [ '>' ( name { ',' name } | '?' ) ] { option } { prop | child }
//! option     := (orderable|ord|o | mixin|mix|m | abstract|abs|a) ['?']
//!             | noquery|nq | query|q | (primaryitem|'!') (name | '?')
//! prop       := '-' (name | '*') [ '(' type ')' ] [ '=' (string {',' string} | '?') ]
//!               { prop_attr } [ '<' (string {',' string} | '?') ]
//! child      := '+' (name | '*') [ '(' (name {',' name} | '?') ')' ] [ '=' (name | '?') ]
//!               { child_attr }
//! ```
//!
//! Keywords (options, attributes, types, on-parent-version actions) are matched
//! without regard to case; every attribute may be followed by `?` (a "variant",
//! which a registry reads as "not set"). Namespace mappings may appear between node
//! types (the JCR grammar allows it; Jackrabbit only reads them before the first
//! type). The model's normalisations are listed in [`super::definition`].

use super::definition::{
    normalize_supertypes, ChildNodeDef, CndFile, NodeTypeDef, OnParentVersion, PropertyDef,
    QueryOperator, NT_BASE, RESIDUAL,
};
use super::error::CndError;
use super::lexer::{Lexer, Token, TokenKind};
use crate::location::Location;
use crate::name;
use crate::value::PropertyType;

const ORDERABLE: &[&str] = &["orderable", "ord", "o"];
const MIXIN: &[&str] = &["mixin", "mix", "m"];
const ABSTRACT: &[&str] = &["abstract", "abs", "a"];
const NOQUERY: &[&str] = &["noquery", "nq"];
const QUERY: &[&str] = &["query", "q"];
const PRIMARYITEM: &[&str] = &["primaryitem"];
const PRIMARY: &[&str] = &["primary", "pri"];
const AUTOCREATED: &[&str] = &["autocreated", "aut", "a"];
const MANDATORY: &[&str] = &["mandatory", "man", "m"];
const PROTECTED: &[&str] = &["protected", "pro", "p"];
const MULTIPLE: &[&str] = &["multiple", "mul"];
const SNS: &[&str] = &["sns", "multiple"];
const QUERYOPS: &[&str] = &["queryops", "qop"];
const NOFULLTEXT: &[&str] = &["nofulltext", "nof"];
const NOQUERYORDER: &[&str] = &["noqueryorder", "nqord"];
const OPV: &[&str] = &[
    "COPY",
    "VERSION",
    "INITIALIZE",
    "COMPUTE",
    "IGNORE",
    "ABORT",
];
const OPV_VARIANT: &[&str] = &["OPV"];

const TYPES_EXPECTED: &str = "a property type (STRING, BINARY, LONG, DOUBLE, DECIMAL, \
     BOOLEAN, DATE, NAME, PATH, REFERENCE, WEAKREFERENCE, URI, UNDEFINED or *)";

/// Parses CND text. `file` names the input in error locations.
pub fn parse(text: &str, file: &str) -> Result<CndFile, CndError> {
    let mut p = Parser::new(text, file)?;
    p.file()
}

/// Parses CND bytes, which must be UTF-8 (as FileVault reads them).
pub fn parse_bytes(bytes: &[u8], file: &str) -> Result<CndFile, CndError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text, file),
        Err(e) => Err(CndError::Lexical {
            location: Location::from_offset(file, bytes, e.valid_up_to()),
            message: "the file is not valid UTF-8".into(),
        }),
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    cur: Token,
}

impl<'a> Parser<'a> {
    fn new(text: &str, file: &'a str) -> Result<Parser<'a>, CndError> {
        let mut lexer = Lexer::new(text, file);
        let cur = lexer.next_token()?;
        Ok(Parser { lexer, cur })
    }

    fn advance(&mut self) -> Result<Token, CndError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.cur, next))
    }

    fn here(&self) -> Location {
        self.lexer.location(self.cur.line, self.cur.column)
    }

    fn at(&self, t: &Token) -> Location {
        self.lexer.location(t.line, t.column)
    }

    fn expected(&self, what: impl Into<String>) -> CndError {
        CndError::Syntax {
            location: self.here(),
            expected: what.into(),
            found: self.cur.to_string(),
        }
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), CndError> {
        if self.cur.is(c) {
            self.advance()?;
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// Consumes a `?` (variant marker) if there is one.
    fn variant(&mut self) -> Result<bool, CndError> {
        if self.cur.is('?') {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// A word or quoted string.
    fn string(&mut self, what: &str) -> Result<String, CndError> {
        match &self.cur.kind {
            TokenKind::Word(_) | TokenKind::Quoted(_) => {
                let t = self.advance()?;
                Ok(t.text().unwrap_or_default().to_string())
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A valid JCR name (word or quoted string).
    fn name(&mut self, what: &'static str) -> Result<String, CndError> {
        let location = self.here();
        let s = match &self.cur.kind {
            TokenKind::Word(_) | TokenKind::Quoted(_) => self.string(what)?,
            _ => return Err(self.expected(format!("a {what}"))),
        };
        name::validate(&s).map_err(|source| CndError::InvalidName {
            location,
            name: s.clone(),
            what,
            source,
        })?;
        Ok(s)
    }

    /// A valid JCR name or `*`.
    fn item_name(&mut self, what: &'static str) -> Result<String, CndError> {
        if self.cur.is('*') {
            self.advance()?;
            return Ok(RESIDUAL.to_string());
        }
        self.name(what)
    }

    fn file(&mut self) -> Result<CndFile, CndError> {
        let mut out = CndFile {
            file: self.lexer.file().to_string(),
            namespaces: Vec::new(),
            types: Vec::new(),
            locations: Vec::new(),
        };
        loop {
            if self.cur.is('<') {
                let (prefix, uri) = self.namespace()?;
                match out.namespaces.iter_mut().find(|(p, _)| *p == prefix) {
                    Some(entry) => entry.1 = uri,
                    None => out.namespaces.push((prefix, uri)),
                }
            } else if self.cur.is('[') {
                let location = self.here();
                out.types.push(self.node_type()?);
                out.locations.push(location);
            } else if self.cur.kind == TokenKind::Eof {
                return Ok(out);
            } else {
                let hint = if self.cur.is('#') {
                    " (comments in CND start with '//' or '/*')"
                } else {
                    ""
                };
                return Err(self.expected(format!(
                    "'<' (a namespace mapping) or '[' (a node type definition){hint}"
                )));
            }
        }
    }

    fn namespace(&mut self) -> Result<(String, String), CndError> {
        let start = self.advance()?;
        let prefix_at = self.here();
        let prefix = self.string("a namespace prefix after '<'")?;
        self.expect('=', "'=' after the namespace prefix")?;
        let uri = self.string("a namespace URI after '='")?;
        self.expect('>', "'>' after the namespace URI")?;
        if !prefix.is_empty() && !name::is_ncname(&prefix) {
            return Err(CndError::Invalid {
                location: prefix_at,
                message: format!("'{prefix}' is not a valid namespace prefix (an XML NCName)"),
            });
        }
        if !prefix.is_empty() && uri.is_empty() {
            return Err(CndError::Invalid {
                location: self.at(&start),
                message: format!("prefix '{prefix}' cannot be mapped to the empty namespace URI"),
            });
        }
        Ok((prefix, uri))
    }

    fn node_type(&mut self) -> Result<NodeTypeDef, CndError> {
        self.advance()?; // '['
        let name = self.name("node type name")?;
        self.expect(']', "']' after the node type name")?;
        let mut def = NodeTypeDef::new(name);
        if self.cur.is('>') {
            self.advance()?;
            if !self.variant()? {
                loop {
                    def.supertypes.push(self.name("supertype name")?);
                    if !self.cur.is(',') {
                        break;
                    }
                    self.advance()?;
                }
            }
        }
        self.options(&mut def)?;
        loop {
            if self.cur.is('-') {
                let p = self.property(&mut def)?;
                def.properties.push(p);
            } else if self.cur.is('+') {
                let c = self.child(&mut def)?;
                def.children.push(c);
            } else if self.cur.is('[') || self.cur.is('<') || self.cur.kind == TokenKind::Eof {
                break;
            } else {
                let hint = if is_option(&self.cur) {
                    " (node type options come before the property and child node definitions)"
                } else {
                    ""
                };
                return Err(self.expected(format!(
                    "'-' (a property definition), '+' (a child node definition), \
                     '[' (the next node type) or the end of the file{hint}"
                )));
            }
        }
        normalize_supertypes(&mut def.supertypes);
        Ok(def)
    }

    fn options(&mut self, def: &mut NodeTypeDef) -> Result<(), CndError> {
        loop {
            if self.cur.is_keyword(ORDERABLE) {
                self.advance()?;
                def.orderable = !self.variant()?;
            } else if self.cur.is_keyword(MIXIN) {
                self.advance()?;
                def.mixin = !self.variant()?;
            } else if self.cur.is_keyword(ABSTRACT) {
                self.advance()?;
                def.abstract_ = !self.variant()?;
            } else if self.cur.is_keyword(NOQUERY) {
                self.advance()?;
                def.queryable = if self.variant()? { None } else { Some(false) };
            } else if self.cur.is_keyword(QUERY) {
                self.advance()?;
                def.queryable = if self.variant()? { None } else { Some(true) };
            } else if self.cur.is_keyword(PRIMARYITEM) || self.cur.is('!') {
                self.advance()?;
                def.primary_item = if self.variant()? {
                    None
                } else {
                    Some(self.name("primary item name")?)
                };
            } else {
                return Ok(());
            }
        }
    }

    /// Sets the primary item of `def` to the item `name` (the `primary` attribute).
    fn primary(&mut self, def: &mut NodeTypeDef, name: &str) -> Result<(), CndError> {
        let at = self.advance()?;
        if self.variant()? {
            return Ok(());
        }
        if name == RESIDUAL {
            return Err(CndError::Invalid {
                location: self.at(&at),
                message: "a residual ('*') definition cannot be the primary item".into(),
            });
        }
        def.primary_item = Some(name.to_string());
        Ok(())
    }

    fn property(&mut self, def: &mut NodeTypeDef) -> Result<PropertyDef, CndError> {
        self.advance()?; // '-'
        let name = self.item_name("property name after '-'")?;
        let mut pd = PropertyDef::new(name, PropertyType::String);
        if self.cur.is('(') {
            self.advance()?;
            pd.required_type = if self.cur.is('*') || self.cur.is('?') {
                self.advance()?;
                PropertyType::Undefined
            } else {
                match self.cur.text().and_then(PropertyType::from_cnd_name) {
                    Some(t) => {
                        self.advance()?;
                        t
                    }
                    None => return Err(self.expected(TYPES_EXPECTED)),
                }
            };
            self.expect(')', "')' after the property type")?;
        }
        if self.cur.is('=') {
            self.advance()?;
            if !self.variant()? {
                pd.default_values = self.values("a default value")?;
            }
        }
        loop {
            if self.cur.is_keyword(PRIMARY) || self.cur.is('!') {
                let n = pd.name.clone();
                self.primary(def, &n)?;
            } else if self.cur.is_keyword(AUTOCREATED) {
                self.advance()?;
                pd.autocreated = !self.variant()?;
            } else if self.cur.is_keyword(MANDATORY) {
                self.advance()?;
                pd.mandatory = !self.variant()?;
            } else if self.cur.is_keyword(PROTECTED) {
                self.advance()?;
                pd.protected = !self.variant()?;
            } else if self.cur.is_keyword(MULTIPLE) || self.cur.is('*') {
                self.advance()?;
                pd.multiple = !self.variant()?;
            } else if let Some(opv) = self.opv()? {
                pd.on_parent_version = opv;
            } else if self.cur.is_keyword(NOFULLTEXT) {
                self.advance()?;
                pd.full_text_searchable = self.variant()?;
            } else if self.cur.is_keyword(NOQUERYORDER) {
                self.advance()?;
                pd.query_orderable = self.variant()?;
            } else if self.cur.is_keyword(QUERYOPS) {
                self.advance()?;
                pd.available_query_operators = self.query_operators()?;
            } else {
                break;
            }
        }
        if self.cur.is('<') {
            self.advance()?;
            if !self.variant()? {
                pd.value_constraints = self.values("a value constraint")?;
            }
        }
        if self.cur.is('=') {
            return Err(self.expected(
                "the next definition (default values come right after the property type, \
                 before the attributes)",
            ));
        }
        if is_property_attribute(&self.cur) && !self.cur.is('*') {
            return Err(
                self.expected("the next definition (attributes come before the value constraints)")
            );
        }
        Ok(pd)
    }

    /// An on-parent-version action (or the `OPV ?` variant), if the current token is one.
    fn opv(&mut self) -> Result<Option<OnParentVersion>, CndError> {
        if self.cur.is_keyword(OPV) {
            let t = self.advance()?;
            let action = t
                .text()
                .and_then(OnParentVersion::from_name)
                .unwrap_or(OnParentVersion::Copy);
            return Ok(Some(if self.variant()? {
                OnParentVersion::Copy
            } else {
                action
            }));
        }
        if self.cur.is_keyword(OPV_VARIANT) {
            self.advance()?;
            if !self.variant()? {
                return Err(self.expected("'?' after 'OPV'"));
            }
            return Ok(Some(OnParentVersion::Copy));
        }
        Ok(None)
    }

    /// The operator list after `queryops`: a quoted, comma-separated list, a single
    /// unquoted operator, or `?`. `None` when it lists every operator.
    fn query_operators(&mut self) -> Result<Option<Vec<QueryOperator>>, CndError> {
        if self.variant()? {
            return Ok(None);
        }
        let location = self.here();
        let text = match &self.cur.kind {
            TokenKind::Quoted(s) | TokenKind::Word(s) => s.clone(),
            TokenKind::Punct(c @ ('=' | '<' | '>')) => c.to_string(),
            _ => {
                return Err(self.expected(
                    "a quoted list of query operators after 'queryops' (like '=, <>, LIKE')",
                ))
            }
        };
        self.advance()?;
        let mut ops = Vec::new();
        for part in text.split(',') {
            let s = part.trim();
            match QueryOperator::from_symbol(s) {
                Some(op) => ops.push(op),
                None => {
                    return Err(CndError::Invalid {
                        location,
                        message: format!(
                            "'{s}' is not a query operator (expected =, <>, <, <=, >, >= or LIKE)"
                        ),
                    })
                }
            }
        }
        if QueryOperator::ALL.iter().all(|o| ops.contains(o)) {
            return Ok(None);
        }
        Ok(Some(ops))
    }

    /// A comma-separated list of strings.
    fn values(&mut self, what: &str) -> Result<Vec<String>, CndError> {
        let expected = format!(
            "{what} (quote values that contain spaces or characters such as - + / * < > =)"
        );
        let mut out = vec![self.string(&expected)?];
        while self.cur.is(',') {
            self.advance()?;
            out.push(self.string(&expected)?);
        }
        Ok(out)
    }

    fn child(&mut self, def: &mut NodeTypeDef) -> Result<ChildNodeDef, CndError> {
        self.advance()?; // '+'
        let name = self.item_name("child node name after '+'")?;
        let mut cd = ChildNodeDef::new(name);
        cd.required_primary_types.clear();
        if self.cur.is('(') {
            self.advance()?;
            if !self.variant()? {
                loop {
                    cd.required_primary_types
                        .push(self.name("required primary type name")?);
                    if !self.cur.is(',') {
                        break;
                    }
                    self.advance()?;
                }
            }
            self.expect(')', "')' after the required primary types")?;
        }
        if self.cur.is('=') {
            self.advance()?;
            if !self.variant()? {
                cd.default_primary_type = Some(self.name("default primary type name")?);
            }
        }
        loop {
            if self.cur.is_keyword(PRIMARY) || self.cur.is('!') {
                let n = cd.name.clone();
                self.primary(def, &n)?;
            } else if self.cur.is_keyword(AUTOCREATED) {
                self.advance()?;
                cd.autocreated = !self.variant()?;
            } else if self.cur.is_keyword(MANDATORY) {
                self.advance()?;
                cd.mandatory = !self.variant()?;
            } else if self.cur.is_keyword(PROTECTED) {
                self.advance()?;
                cd.protected = !self.variant()?;
            } else if self.cur.is_keyword(SNS) || self.cur.is('*') {
                self.advance()?;
                cd.same_name_siblings = !self.variant()?;
            } else if let Some(opv) = self.opv()? {
                cd.on_parent_version = opv;
            } else {
                break;
            }
        }
        if self.cur.is('=') || self.cur.is('(') {
            return Err(self.expected(
                "the next definition (required types and the default type come right after \
                 the child node name, before the attributes)",
            ));
        }
        if cd.required_primary_types.is_empty() {
            cd.required_primary_types.push(NT_BASE.to_string());
        }
        Ok(cd)
    }
}

fn is_option(t: &Token) -> bool {
    t.is_keyword(ORDERABLE)
        || t.is_keyword(MIXIN)
        || t.is_keyword(ABSTRACT)
        || t.is_keyword(NOQUERY)
        || t.is_keyword(QUERY)
        || t.is_keyword(PRIMARYITEM)
}

fn is_property_attribute(t: &Token) -> bool {
    [
        PRIMARY,
        AUTOCREATED,
        MANDATORY,
        PROTECTED,
        MULTIPLE,
        QUERYOPS,
        NOFULLTEXT,
        NOQUERYORDER,
        OPV,
    ]
    .iter()
    .any(|k| t.is_keyword(k))
        || t.is('!')
        || t.is('*')
}

#[cfg(test)]
mod tests;
