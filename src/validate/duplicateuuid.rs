//! `jackrabbit-duplicateuuid`: two contained nodes of the package with the same
//! `jcr:uuid`; the second would replace the first's identity on import.

use super::{DocCheck, DocNode, Finding, Package, Severity};
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// The validator id.
pub const ID: &str = "jackrabbit-duplicateuuid";

/// Reports every `jcr:uuid` value seen on a second contained node.
pub fn check<'p>(_pkg: &'p Package<'_>, _out: &mut Vec<Finding>) -> Option<Box<dyn DocCheck + 'p>> {
    Some(Box::new(Uuids::default()))
}

/// The first contained node of each `jcr:uuid` seen so far.
#[derive(Default)]
struct Uuids(HashMap<UuidKey, Box<str>>);

/// A `jcr:uuid` value: the usual lowercase form as its 128 bits, anything else as
/// written.
#[derive(PartialEq, Eq, Hash)]
enum UuidKey {
    Bits(u128),
    Text(Box<str>),
}

impl UuidKey {
    fn of(uuid: &str) -> UuidKey {
        let b = uuid.as_bytes();
        let canonical = b.len() == 36
            && b.iter().enumerate().all(|(i, &c)| match i {
                8 | 13 | 18 | 23 => c == b'-',
                _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
            });
        if canonical {
            let hex: String = uuid.chars().filter(|&c| c != '-').collect();
            if let Ok(bits) = u128::from_str_radix(&hex, 16) {
                return UuidKey::Bits(bits);
            }
        }
        UuidKey::Text(uuid.into())
    }
}

impl DocCheck for Uuids {
    fn doc(&mut self, pkg: &Package<'_>, nodes: &[DocNode<'_>], out: &mut Vec<Finding>) {
        for n in nodes {
            let Some(uuid) = n
                .element
                .property("jcr:uuid")
                .and_then(|p| p.values.first())
            else {
                continue;
            };
            if !pkg.contains(n.path) {
                continue;
            }
            match self.0.entry(UuidKey::of(uuid)) {
                Entry::Occupied(first) => out.push(
                    Finding::new(
                        Severity::Error,
                        ID,
                        format!(
                            "jcr:uuid '{uuid}' of '{}' is already used by '{}'",
                            n.path,
                            first.get()
                        ),
                        "give one of the nodes a new jcr:uuid, or remove the property so that one is generated",
                    )
                    .at(&n.element.location)
                    .node(n.path),
                ),
                Entry::Vacant(v) => {
                    v.insert(n.path.into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    #[test]
    fn duplicate_uuids_across_files() {
        let u = "0bb6a2c2-8e7b-4c1c-9d3e-0a8c6d1f0e11";
        let a = docview(&format!(
            r#"jcr:primaryType="nt:unstructured" jcr:mixinTypes="[mix:referenceable]" jcr:uuid="{u}">"#
        ));
        let r = validate(&[
            (
                "META-INF/vault/filter.xml",
                &filter(r#"<filter root="/content/x"/>"#),
            ),
            ("jcr_root/content/x/a/.content.xml", &a),
            ("jcr_root/content/x/b/.content.xml", &a),
            (
                "jcr_root/content/x/c/.content.xml",
                &docview(r#"jcr:primaryType="nt:unstructured">"#),
            ),
        ]);
        let m = messages(&r, ID);
        assert_eq!(
            m,
            vec![format!(
                "error: jcr:uuid '{u}' of '/content/x/b' is already used by '/content/x/a'"
            )]
        );
    }

    #[test]
    fn uuids_are_compared_as_written() {
        use super::UuidKey;
        let u = "0bb6a2c2-8e7b-4c1c-9d3e-0a8c6d1f0e11";
        assert!(matches!(UuidKey::of(u), UuidKey::Bits(_)));
        assert!(UuidKey::of(u) == UuidKey::of(u));
        // Another spelling of the same bits is another value, as in FileVault.
        assert!(matches!(UuidKey::of(&u.to_uppercase()), UuidKey::Text(_)));
        assert!(UuidKey::of(&u.to_uppercase()) != UuidKey::of(u));
        assert!(UuidKey::of("not-a-uuid") == UuidKey::of("not-a-uuid"));
        assert!(UuidKey::of("0bb6a2c2-8e7b-4c1c-9d3e-0a8c6d1f0e12") != UuidKey::of(u));
    }
}
