//! `jackrabbit-accesscontrol`: access control lists (`rep:ACL`, `rep:CugPolicy`,
//! `rep:PrincipalPolicy` nodes) against the package's `acHandling`. With `ignore`
//! (the default) or `clear` they are dropped on install; with any other handling a
//! package without one has a pointless setting.

use super::{DocCheck, DocNode, Finding, Package, Severity};
use crate::package::PROPERTIES_ENTRY;
use crate::properties::{keys, AcHandling};

/// The validator id.
pub const ID: &str = "jackrabbit-accesscontrol";

/// The primary types of access control list nodes.
pub const ACL_TYPES: [&str; 3] = ["rep:ACL", "rep:CugPolicy", "rep:PrincipalPolicy"];

/// Reports ACLs that are never installed and an acHandling with nothing to handle.
pub fn check<'p>(pkg: &'p Package<'_>, _out: &mut Vec<Finding>) -> Option<Box<dyn DocCheck + 'p>> {
    let handling = pkg
        .properties
        .as_ref()
        .map(|p| p.ac_handling())
        .unwrap_or_default();
    Some(Box::new(Acls {
        handling,
        found: false,
    }))
}

struct Acls {
    handling: AcHandling,
    /// Whether an access control list was seen.
    found: bool,
}

impl Acls {
    /// ACLs are dropped on install.
    fn dropped(&self) -> bool {
        matches!(self.handling, AcHandling::Ignore | AcHandling::Clear)
    }
}

impl DocCheck for Acls {
    fn doc(&mut self, _pkg: &Package<'_>, nodes: &[DocNode<'_>], out: &mut Vec<Finding>) {
        for n in nodes {
            let Some(t) = n.element.primary_type() else {
                continue;
            };
            if !ACL_TYPES.contains(&t) {
                continue;
            }
            self.found = true;
            if self.dropped() {
                out.push(
                    Finding::new(
                        Severity::Warning,
                        ID,
                        format!(
                            "access control list '{}' is never installed: acHandling is '{}'",
                            n.path, self.handling
                        ),
                        "set acHandling to merge_preserve, merge or overwrite in properties.xml, or remove the ACL",
                    )
                    .at(&n.element.location)
                    .node(n.path),
                );
            }
        }
    }

    fn finish(self: Box<Self>, pkg: &Package<'_>, out: &mut Vec<Finding>) {
        let explicit = pkg
            .properties
            .as_ref()
            .is_some_and(|p| p.get(keys::AC_HANDLING).is_some());
        if !self.found && !self.dropped() && explicit {
            out.push(
                Finding::new(
                    Severity::Warning,
                    ID,
                    format!(
                        "acHandling is '{}' but the package holds no access control list",
                        self.handling
                    ),
                    "remove acHandling from properties.xml, or add the rep:policy nodes it is meant for",
                )
                .in_entry(PROPERTIES_ENTRY),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::ID;

    fn run(ac: Option<&str>) -> Vec<String> {
        let mut entries = vec![("group", "g"), ("name", "n"), ("version", "1")];
        if let Some(a) = ac {
            entries.push(("acHandling", a));
        }
        let acl = docview(
            r#"jcr:primaryType="rep:ACL"><allow jcr:primaryType="rep:GrantACE" rep:principalName="everyone" rep:privileges="{Name}[jcr:read]"/>"#,
        );
        let r = validate(&[
            (
                "META-INF/vault/filter.xml",
                &filter(r#"<filter root="/content/x"/>"#),
            ),
            ("META-INF/vault/properties.xml", &properties(&entries)),
            (
                "jcr_root/content/x/.content.xml",
                &docview(
                    r#"jcr:primaryType="nt:unstructured" jcr:mixinTypes="[rep:AccessControllable]">"#,
                ),
            ),
            ("jcr_root/content/x/_rep_policy.xml", &acl),
        ]);
        messages(&r, ID)
    }

    #[test]
    fn acl_with_default_handling_is_dropped() {
        let m = run(None);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with(
                "warning: access control list '/content/x/rep:policy' is never installed"
            ),
            "{m:?}"
        );
    }

    #[test]
    fn acl_with_merge_is_fine() {
        assert!(run(Some("merge")).is_empty());
    }
}
