//! Access control content (`rep:ACL`, `rep:CugPolicy`, `rep:PrincipalPolicy`)
//! imported according to `acHandling` (reference §10): ignore, overwrite, merge,
//! merge_preserve, clear.

use super::error::ImportError;
use super::report::Action;
use super::session::{convert_property, PrefixMap, Session};
use crate::docview::DocViewElement;
use crate::node::Node;
use crate::path;
use crate::properties::AcHandling;
use crate::repository::AddOptions;
use crate::value::{Property, PropertyType, Value};

/// Imports the policy element `el` at `policy_path` (of type `ptype`).
pub fn import(
    s: &mut Session<'_>,
    pm: &PrefixMap,
    el: &DocViewElement,
    policy_path: &str,
    ptype: &str,
) -> Result<(), ImportError> {
    if s.opts.no_acl {
        return Err(ImportError::AccessControlRefused {
            path: policy_path.to_string(),
        });
    }
    let parent = path::parent(policy_path).unwrap_or("/").to_string();
    let Some(parent_info) = s.node(&parent)? else {
        s.report.warn(format!(
            "{policy_path}: access control list skipped: {parent} does not exist"
        ));
        return Ok(());
    };
    if matches!(s.ac, AcHandling::Ignore) {
        // FileVault's default: the policy is dropped. Counted, so that the report
        // can say what the package held and the install left out.
        s.report.ignored_acls.push(policy_path.to_string());
        return Ok(());
    }
    s.report.acls.push(policy_path.to_string());
    let existing = s.node(policy_path)?;
    if matches!(s.ac, AcHandling::Clear) {
        if existing.is_some() {
            s.txn.remove_node(&s.ws, policy_path)?;
            s.record(policy_path, Action::Deleted);
        }
        return Ok(());
    }
    let mixin = match ptype {
        "rep:CugPolicy" => "rep:CugMixin",
        "rep:PrincipalPolicy" => "rep:PrincipalBasedMixin",
        _ if policy_path == "/rep:repoPolicy" => "rep:RepoAccessControllable",
        _ => "rep:AccessControllable",
    };
    if !parent_info.mixins.iter().any(|m| m == mixin) {
        let mut mixins = parent_info.mixins.clone();
        mixins.push(mixin.to_string());
        s.txn.set_mixins(&s.ws, &parent, &mixins)?;
    }
    let package = to_node(s, pm, el, policy_path);
    let merged = match (&existing, s.ac) {
        (Some(_), AcHandling::Merge | AcHandling::MergePreserve) => {
            let current = read_subtree(s, policy_path)?;
            if ptype == "rep:CugPolicy" {
                merge_cug(current, &package)
            } else {
                merge_entries(current, &package, s.ac == AcHandling::MergePreserve)
            }
        }
        _ => package,
    };
    let mut merged = merged;
    rename_entries(&mut merged);
    if existing.is_some() {
        if same_tree(&read_subtree(s, policy_path)?, &merged) {
            // The same policy again: nothing to write (a second install of the
            // same package changes nothing).
            s.processed.insert(policy_path);
            s.record(policy_path, Action::Unchanged);
            return Ok(());
        }
        s.txn.remove_node(&s.ws, policy_path)?;
    }
    s.txn
        .add_node(&s.ws, &parent, &merged, &AddOptions::append())?;
    // Access control content is not checked against node types.
    let action = if existing.is_some() {
        Action::Updated
    } else {
        Action::Added
    };
    s.touched(policy_path, action, false);
    Ok(())
}

fn to_node(s: &Session<'_>, pm: &PrefixMap, el: &DocViewElement, at: &str) -> Node {
    let primary = el
        .primary_type()
        .map(|t| pm.name(t).into_owned())
        .unwrap_or_else(|| "nt:unstructured".into());
    let mixins: Vec<String> = el
        .mixin_types()
        .iter()
        .map(|m| pm.name(m).into_owned())
        .collect();
    let eff = s.types.effective(&primary, &mixins);
    let mut n = Node::new(pm.name(&el.name), primary.clone());
    if n.name.is_empty() {
        n.name = path::name(at).to_string();
    }
    n.mixins = mixins.clone();
    for dp in &el.properties {
        let name = pm.name(&dp.name);
        if name == "jcr:primaryType" || name == "jcr:mixinTypes" {
            continue;
        }
        if let Some(mut p) = convert_property(dp, &name, pm, &eff) {
            if name == "rep:privileges" || name == "rep:principalNames" {
                p.multiple = true;
                if name == "rep:privileges" {
                    p.ptype = PropertyType::Name;
                    p.values = p
                        .values
                        .iter()
                        .map(|v| Value::Name(v.to_string()))
                        .collect();
                }
            }
            n.set(p);
        }
    }
    for c in &el.children {
        if c.is_placeholder() {
            continue;
        }
        let cp = path::join(at, &pm.name(&c.name));
        n.children.push(to_node(s, pm, c, &cp));
    }
    n
}

fn read_subtree(s: &Session<'_>, at: &str) -> Result<Node, ImportError> {
    let info = s.node(at)?.ok_or_else(|| ImportError::Vanished {
        path: at.to_string(),
    })?;
    let mut n = Node::new(info.name.clone(), info.primary_type.clone());
    n.mixins = info.mixins.clone();
    for p in s.txn.properties(&s.ws, at)? {
        n.set(p);
    }
    for c in s.txn.children(&s.ws, at)? {
        n.children.push(read_subtree(s, &c.path)?);
    }
    Ok(n)
}

/// Says how many access control lists acHandling `ignore` left out, if any: the
/// package held them, and an install that drops them must not look complete.
pub fn warn_ignored(report: &mut super::Report) {
    let n = report.ignored_acls.len();
    if n > 0 {
        report.warn(format!(
            "{n} access control list{} in the package {} not installed: acHandling is              ignore (the package names none, or --ac-handling ignore); install with              --ac-handling merge_preserve or overwrite to apply {} (first: {})",
            if n == 1 { "" } else { "s" },
            if n == 1 { "was" } else { "were" },
            if n == 1 { "it" } else { "them" },
            report.ignored_acls[0]
        ));
    }
}

/// Whether two policy trees hold the same: names, types, properties (in any order)
/// and children (in order).
fn same_tree(a: &Node, b: &Node) -> bool {
    fn props(n: &Node) -> Vec<&Property> {
        let mut v: Vec<&Property> = n.properties.values().collect();
        v.sort_by(|x, y| x.name.cmp(&y.name));
        v
    }
    a.name == b.name
        && a.primary_type == b.primary_type
        && a.mixins == b.mixins
        && props(a) == props(b)
        && a.children.len() == b.children.len()
        && a.children
            .iter()
            .zip(&b.children)
            .all(|(x, y)| same_tree(x, y))
}

fn principal(ace: &Node) -> Option<String> {
    ace.value("rep:principalName").map(|v| v.to_string())
}

/// merge: entries of the package's principals replace the existing ones of those
/// principals; merge_preserve: principals that already have entries keep them and
/// get nothing from the package.
fn merge_entries(mut current: Node, package: &Node, preserve: bool) -> Node {
    let package_principals: Vec<String> = package.children.iter().filter_map(principal).collect();
    let existing_principals: Vec<String> = current.children.iter().filter_map(principal).collect();
    if preserve {
        for ace in &package.children {
            if principal(ace).is_some_and(|p| !existing_principals.contains(&p)) {
                current.children.push(ace.clone());
            }
        }
    } else {
        current
            .children
            .retain(|ace| principal(ace).is_none_or(|p| !package_principals.contains(&p)));
        current.children.extend(package.children.iter().cloned());
    }
    current
}

fn merge_cug(mut current: Node, package: &Node) -> Node {
    let mut names: Vec<String> = current
        .property("rep:principalNames")
        .map(|p| p.values.iter().map(|v| v.to_string()).collect())
        .unwrap_or_default();
    if let Some(p) = package.property("rep:principalNames") {
        for v in &p.values {
            let v = v.to_string();
            if !names.contains(&v) {
                names.push(v);
            }
        }
    }
    current.set(Property::multi(
        "rep:principalNames",
        PropertyType::String,
        names.into_iter().map(Value::String).collect(),
    ));
    current
}

/// Names entries as Oak does: `allow`, `deny`, then `allow1`, `deny2`, ... by position.
fn rename_entries(policy: &mut Node) {
    for (i, ace) in policy.children.iter_mut().enumerate() {
        let base = match ace.primary_type.as_str() {
            "rep:GrantACE" => "allow",
            "rep:DenyACE" => "deny",
            _ => continue,
        };
        ace.name = if i == 0 {
            base.to_string()
        } else {
            format!("{base}{i}")
        };
    }
    policy.renumber_children();
}
