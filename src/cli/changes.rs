//! The one printer of node changes, for `jcrpack diff` and `jcrpack restore -v`:
//! a line with the mark (`+`, `-`, `~`), the path and the type, then the mixins,
//! the child order and the properties, indented.

use crate::diff::PropertyChange;
use std::io::Write;

/// One node's change as `diff` and `restore` print it.
pub struct NodeLines<'a> {
    /// `+`, `-` or `~`.
    pub mark: char,
    /// The path, with a `[workspace] ` prefix when the caller wants one.
    pub label: &'a str,
    /// Primary type before → after (the type of an added node).
    pub primary_type: &'a Option<(Option<String>, Option<String>)>,
    /// Mixins before → after.
    pub mixins: &'a Option<(Vec<String>, Vec<String>)>,
    /// Child order before → after.
    pub order: &'a Option<(Vec<String>, Vec<String>)>,
    /// Property changes.
    pub properties: &'a [PropertyChange],
    /// A note after the path instead of the type (`(12 nodes)` for a deletion).
    pub note: Option<String>,
}

/// Writes `c` to `out`.
pub fn write_node(mut out: &mut dyn Write, c: &NodeLines<'_>) -> std::io::Result<()> {
    let (mark, label) = (c.mark, c.label);
    match (&c.note, c.primary_type) {
        (Some(n), _) => outln!(out, "{mark} {label} {n}")?,
        (None, Some((Some(b), Some(t)))) => outln!(out, "{mark} {label} ({b} -> {t})")?,
        (None, Some((_, Some(t)))) => outln!(out, "{mark} {label} ({t})")?,
        _ => outln!(out, "{mark} {label}")?,
    }
    if let Some((b, t)) = c.mixins {
        outln!(out, "    mixins: [{}] -> [{}]", b.join(", "), t.join(", "))?;
    }
    if let Some((b, t)) = c.order {
        outln!(out, "    order: [{}] -> [{}]", b.join(", "), t.join(", "))?;
    }
    for p in c.properties {
        match (&p.before, &p.after) {
            (None, Some(v)) => outln!(out, "    + {} = {v}", p.name)?,
            (Some(v), None) => outln!(out, "    - {} = {v}", p.name)?,
            (Some(b), Some(v)) => outln!(out, "    ~ {}: {b} -> {v}", p.name)?,
            (None, None) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_the_mark_type_mixins_order_and_properties() {
        let pt = Some((Some("nt:folder".to_string()), Some("cq:Page".to_string())));
        let mixins = Some((vec![], vec!["mix:title".to_string()]));
        let order = Some((
            vec!["b".to_string(), "a".to_string()],
            vec!["a".to_string(), "b".to_string()],
        ));
        let props = vec![
            PropertyChange {
                name: "n".into(),
                before: None,
                after: Some("1".into()),
            },
            PropertyChange {
                name: "t".into(),
                before: Some("x".into()),
                after: Some("y".into()),
            },
        ];
        let mut out = Vec::new();
        write_node(
            &mut out,
            &NodeLines {
                mark: '~',
                label: "[config] /a",
                primary_type: &pt,
                mixins: &mixins,
                order: &order,
                properties: &props,
                note: None,
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "~ [config] /a (nt:folder -> cq:Page)\n    mixins: [] -> [mix:title]\n    order: [b, a] -> [a, b]\n    + n = 1\n    ~ t: x -> y\n"
        );
        let mut out = Vec::new();
        write_node(
            &mut out,
            &NodeLines {
                mark: '-',
                label: "/gone",
                primary_type: &pt,
                mixins: &None,
                order: &None,
                properties: &[],
                note: Some("(3 nodes)".into()),
            },
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "- /gone (3 nodes)\n");
    }
}
