//! Java character classes (`[...]`): parsed like the JDK (nested classes are
//! unions, `&&` intersects, `^` negates the whole class, single characters below
//! U+0100 collect in a bit set) and written as `regex` class expressions.

use super::case;
use super::java::{ascii_swap_case, ch, is_surrogate, lit, Escape, Parser, NEVER};
use super::property::{self, PropertyError};
use super::PatternError;

/// A Java character class while it is being parsed. Java keeps the single characters
/// of a class in a bit set that later operands may still add to, and reads it only
/// when matching; the tree is rendered once the outermost class is complete, so a
/// [`ClassNode::Bits`] always sees the final set.
#[derive(Debug, Clone)]
pub(super) enum ClassNode {
    /// A finished `regex` class expression (`[...]` or `\p{...}`).
    Expr(String),
    /// The single-character bit set with this index in [`Parser::bits`].
    Bits(usize),
    /// Union of two operands.
    Union(Box<ClassNode>, Box<ClassNode>),
    /// Intersection of two operands (`&&`).
    And(Box<ClassNode>, Box<ClassNode>),
    /// Complement (`[^...]`).
    Not(Box<ClassNode>),
}

/// A class expression for the code points `lo..=hi`, skipping surrogates (which a
/// Rust string, and a JCR path, can never contain).
fn range_expr(lo: u32, hi: u32) -> String {
    let mut parts = String::new();
    if lo <= 0xD7FF {
        parts.push_str(&format!("\\x{{{lo:X}}}-\\x{{{:X}}}", hi.min(0xD7FF)));
    }
    if hi >= 0xE000 {
        parts.push_str(&format!("\\x{{{:X}}}-\\x{{{hi:X}}}", lo.max(0xE000)));
    }
    if parts.is_empty() {
        NEVER.to_string()
    } else {
        format!("[{parts}]")
    }
}

fn union(a: Option<ClassNode>, b: ClassNode) -> ClassNode {
    match a {
        None => b,
        Some(a) => ClassNode::Union(Box::new(a), Box::new(b)),
    }
}

impl Parser<'_> {
    /// After `\p` or `\P` (cursor on the `p`): a one-letter name or a `{name}`.
    pub(super) fn property_after_p(&mut self, negate: bool) -> Result<ClassNode, PatternError> {
        let c = self.next();
        let one_letter = c != ch('{');
        if one_letter {
            self.unread();
        }
        self.family(one_letter, negate)
    }

    /// A Unicode or POSIX property `\p{...}`; the cursor is on `p` (one letter) or `{`.
    pub(super) fn family(
        &mut self,
        one_letter: bool,
        negate: bool,
    ) -> Result<ClassNode, PatternError> {
        self.next();
        let name: String = if one_letter {
            let c = self.at(self.cursor);
            self.read();
            char::from_u32(c).map(String::from).unwrap_or_default()
        } else {
            let start = self.cursor;
            let close = (start..self.len).find(|&i| self.at(i) == ch('}'));
            let Some(close) = close else {
                self.cursor = self.len + 1;
                return Err(self.syntax_at(self.len, "unclosed character family"));
            };
            self.cursor = close + 1;
            if close == start {
                return Err(self.syntax("empty character family"));
            }
            self.chars[start..close]
                .iter()
                .filter_map(|&c| char::from_u32(c))
                .collect()
        };
        let expr = match property::java_property(
            &name,
            self.flags.unicode_class,
            self.flags.case_insensitive,
        ) {
            Ok(expr) => expr,
            Err(PropertyError::Unknown) => {
                return Err(self.syntax(&format!("unknown character property name {{{name}}}")))
            }
            Err(PropertyError::Unsupported(what)) => {
                self.unsupported(&format!("{what} '\\p{{{name}}}'"));
                NEVER.to_string()
            }
        };
        let node = ClassNode::Expr(expr);
        Ok(if negate {
            ClassNode::Not(Box::new(node))
        } else {
            node
        })
    }

    /// A class starting at `[` (the cursor is on it). With `consume == false` the
    /// class is the right-hand operand of `&&` and ends before the closing `]`.
    pub(super) fn class(&mut self, consume: bool) -> Result<ClassNode, PatternError> {
        self.enter()?;
        let bits = self.bits.len();
        self.bits.push(Vec::new());
        let mut prev: Option<ClassNode> = None;
        let mut curr: Option<ClassNode> = None;
        let mut has_bits = false;
        let mut negated = false;
        let mut c = self.next();
        if c == ch('^') && self.at(self.cursor.saturating_sub(1)) == ch('[') {
            c = self.next();
            negated = true;
        }
        loop {
            let mut literal_ampersand = false;
            if c == ch('[') {
                let nested = self.class(true)?;
                curr = Some(nested.clone());
                prev = Some(union(prev, nested));
                c = self.peek();
                continue;
            } else if c == ch('&') {
                c = self.next();
                if c == ch('&') {
                    c = self.next();
                    let mut right: Option<ClassNode> = None;
                    while c != ch(']') && c != ch('&') {
                        if c == ch('[') {
                            let nested = self.class(true)?;
                            right = Some(union(right, nested));
                        } else {
                            self.unread();
                            right = Some(self.class(false)?);
                        }
                        c = self.peek();
                    }
                    if has_bits {
                        if prev.is_none() {
                            prev = Some(ClassNode::Bits(bits));
                            curr = prev.clone();
                        } else {
                            prev = Some(union(prev, ClassNode::Bits(bits)));
                        }
                        has_bits = false;
                    }
                    if right.is_some() {
                        curr = right.clone();
                    }
                    prev = match (prev, right) {
                        (None, None) => return Err(self.syntax("bad class syntax")),
                        (None, Some(r)) => Some(r),
                        (Some(p), _) => match curr.clone() {
                            Some(operand) => Some(ClassNode::And(Box::new(p), Box::new(operand))),
                            // The JDK accepts this and fails with a NullPointerException
                            // when the class is first evaluated.
                            None => {
                                return Err(self.syntax(
                                    "'&&' in a character class needs an operand on its right",
                                ))
                            }
                        },
                    };
                    continue;
                }
                self.unread();
                literal_ampersand = true;
            } else if c == 0 && self.at_end() {
                return Err(self.syntax_at(self.len, "unclosed character class"));
            } else if c == ch(']') && (prev.is_some() || has_bits) {
                if consume {
                    self.next();
                }
                let mut node = match prev {
                    None => ClassNode::Bits(bits),
                    Some(p) if has_bits => union(Some(p), ClassNode::Bits(bits)),
                    Some(p) => p,
                };
                if negated {
                    node = ClassNode::Not(Box::new(node));
                }
                self.leave();
                return Ok(node);
            }
            let _ = literal_ampersand;
            curr = self.class_range(bits)?;
            match &curr {
                None => has_bits = true,
                Some(item) => prev = Some(union(prev, item.clone())),
            }
            c = self.peek();
        }
    }

    /// One character, range, escape or property inside a class. Single characters
    /// below U+0100 go into the class's bit set (returns `None`).
    pub(super) fn class_range(&mut self, bits: usize) -> Result<Option<ClassNode>, PatternError> {
        let mut c = self.peek();
        let first: u32;
        if c == ch('\\') {
            c = self.next_escaped();
            if c == ch('p') || c == ch('P') {
                return self.property_after_p(c == ch('P')).map(Some);
            }
            let is_range = self.at(self.cursor + 1) == ch('-');
            self.unread();
            match self.escape(true, is_range)? {
                Escape::Char(value) => first = value,
                Escape::Class(expr) => return Ok(Some(ClassNode::Expr(expr))),
                Escape::Assertion(_) => {
                    return Err(self.syntax("illegal/unsupported escape sequence"))
                }
            }
        } else {
            self.next();
            first = c;
        }
        if self.peek() == ch('-') {
            let end = self.at(self.cursor + 1);
            if end == ch('[') {
                return Ok(self.bits_or_single(bits, first));
            }
            if end != ch(']') {
                self.next();
                let mut last = self.peek();
                if last == ch('\\') {
                    last = match self.escape(true, true)? {
                        Escape::Char(value) => value,
                        _ => return Err(self.syntax("illegal character range")),
                    };
                } else {
                    self.next();
                }
                if last < first {
                    return Err(self.syntax("illegal character range"));
                }
                return Ok(Some(ClassNode::Expr(self.range_class(first, last))));
            }
        }
        Ok(self.bits_or_single(bits, first))
    }

    /// Adds `c` to the bit set (Java's `BitClass`, code points below 256) or returns a
    /// single-character class for it.
    pub(super) fn bits_or_single(&mut self, bits: usize, c: u32) -> Option<ClassNode> {
        let ci = self.flags.case_insensitive;
        let uc = self.flags.unicode_case;
        let special = [0xFF, 0xB5, 0x49, 0x69, 0x53, 0x73, 0x4B, 0x6B, 0xC5, 0xE5];
        if c < 256 && !(ci && uc && special.contains(&c)) {
            let mut add = vec![c];
            if ci {
                if c < 0x80 {
                    if let Some(other) = ascii_swap_case(c) {
                        add.push(other);
                    }
                } else if uc {
                    add.push(case::lower(c));
                    add.push(case::upper(c));
                }
            }
            if let Some(set) = self.bits.get_mut(bits) {
                for value in add {
                    let item = lit(value);
                    if !set.contains(&item) {
                        set.push(item);
                    }
                }
            }
            return None;
        }
        if is_surrogate(c) {
            return Some(ClassNode::Expr(NEVER.to_string()));
        }
        Some(ClassNode::Expr(self.single_class(c)))
    }

    /// The range `lo-hi`, widened like Java's `CIRange` (ASCII) under `(?i)` or its
    /// `CIRangeU` (upper case, or lower case of upper case, in range) under `(?iu)`.
    pub(super) fn range_class(&self, lo: u32, hi: u32) -> String {
        let mut expr = range_expr(lo, hi);
        if self.flags.case_insensitive && self.flags.unicode_case {
            let extra: String = case::range_extra(lo, hi).into_iter().map(lit).collect();
            if !extra.is_empty() {
                expr = format!("[{expr}[{extra}]]");
            }
        } else if self.flags.case_insensitive {
            let mut extra = Vec::new();
            for (start, end, shift_up) in [(0x41u32, 0x5Au32, true), (0x61, 0x7A, false)] {
                let a = lo.max(start);
                let b = hi.min(end);
                if a <= b {
                    extra.push(if shift_up {
                        range_expr(a + 0x20, b + 0x20)
                    } else {
                        range_expr(a - 0x20, b - 0x20)
                    });
                }
            }
            if !extra.is_empty() {
                expr = format!("[{expr}{}]", extra.concat());
            }
        }
        expr
    }

    /// Writes a finished class (case-insensitivity is already in its items).
    pub(super) fn render_class_node(&self, node: &ClassNode) -> String {
        self.render(node)
    }

    pub(super) fn render(&self, node: &ClassNode) -> String {
        match node {
            ClassNode::Expr(expr) => expr.clone(),
            ClassNode::Bits(index) => match self.bits.get(*index) {
                Some(items) if !items.is_empty() => format!("[{}]", items.concat()),
                _ => NEVER.to_string(),
            },
            ClassNode::Union(a, b) => format!("[{}{}]", self.render(a), self.render(b)),
            ClassNode::And(a, b) => format!("[{}&&{}]", self.render(a), self.render(b)),
            ClassNode::Not(a) => format!("[^{}]", self.render(a)),
        }
    }
}
