//! Importing one DocView file, element by element (reference §3.4, §3.5): create
//! missing nodes, update contained ones by their mode, leave the rest, delete
//! contained children the package no longer lists, and restore child order.

use super::acl;
use super::authorizable::Placement;
use super::error::ImportError;
use super::report::Action;
use super::session::{convert_property, PrefixMap, Session, AC_MIXINS};
use crate::cnd::EffectiveType;
use crate::docview::{DocViewDocument, DocViewElement};
use crate::filter::ImportMode;
use crate::node::Node;
use crate::path;
use crate::properties::AcHandling;
use crate::repository::{AddOptions, NodeInfo};
use crate::validate::accesscontrol::ACL_TYPES;
use crate::value::{Property, PropertyType, Value};
use std::borrow::Cow;

/// Properties the importer sets only when it creates a node (FileVault creates new
/// nodes through a system view import, which may set them although protected).
const CREATION_PROPERTIES: [&str; 3] = ["jcr:uuid", "jcr:mixinTypes", "jcr:isCheckedOut"];

/// Properties that describe version history; there is none here, so they are dropped.
const VERSION_PROPERTIES: [&str; 4] = [
    "jcr:baseVersion",
    "jcr:predecessors",
    "jcr:successors",
    "jcr:versionHistory",
];

/// Imports a parsed DocView file that stands for the node at `node_path`. Answers
/// `false` when `merge` skipped the aggregate whole (its node exists), so that a
/// file it describes is left as it is too (FileVault's `FileArtifactHandler`).
pub fn import_document(
    s: &mut Session<'_>,
    doc: &DocViewDocument,
    node_path: &str,
) -> Result<bool, ImportError> {
    let pm = PrefixMap::for_document(s, &doc.namespaces)?;
    s.document_nodes.clear();
    // The node the file stands for is named by its folder, and FileVault resolves that
    // name's prefix with the document's own declarations first (DocViewSAXHandler, the
    // `jcr:root` element), so `_p_x/.content.xml` declaring `p` for a URI the
    // repository knows by another prefix names the node by that URI.
    let resolved = resolved_root_path(&pm, doc, node_path);
    let node_path = resolved.as_deref().unwrap_or(node_path);
    if !doc.root_is_jcr_root {
        // Legacy form: the root element is a child of the node the file stands for.
        if s.node(node_path)?.is_none() {
            return Ok(true);
        }
        let seg = segment(&pm, &doc.root);
        let p = path::join(node_path, &seg);
        return element(s, &pm, &doc.root, &p, false).map(|()| true);
    }
    let primary = doc.root.primary_type().map(|t| pm.name(t));
    let special = primary.as_deref().is_some_and(|t| {
        ACL_TYPES.contains(&t) || matches!(t, "rep:User" | "rep:SystemUser" | "rep:Group")
    });
    if !special && s.mode(node_path) == ImportMode::Merge && s.node(node_path)?.is_some() {
        // `merge` works at file level: an aggregate whose node exists is skipped whole.
        s.touched(node_path, Action::Unchanged, false);
        return Ok(false);
    }
    element(s, &pm, &doc.root, node_path, false).map(|()| true)
}

/// The path of a `jcr:root` document's node with the prefix of its last segment
/// rewritten by the document's declarations; `None` when nothing changes.
fn resolved_root_path(pm: &PrefixMap, doc: &DocViewDocument, node_path: &str) -> Option<String> {
    if !doc.root_is_jcr_root || node_path == "/" {
        return None;
    }
    let parent = path::parent(node_path)?;
    let last = path::last_segment(node_path);
    let renamed = pm.name(last);
    (renamed != last).then(|| path::join(parent, &renamed))
}

fn segment(pm: &PrefixMap, el: &DocViewElement) -> String {
    let n = pm.name(&el.name);
    if el.index > 1 {
        format!("{n}[{}]", el.index)
    } else {
        n.into_owned()
    }
}

/// Imports `el` as the node at `node_path`; `known_absent`: no node is there (the
/// repository need not be asked).
fn element(
    s: &mut Session<'_>,
    pm: &PrefixMap,
    el: &DocViewElement,
    node_path: &str,
    known_absent: bool,
) -> Result<(), ImportError> {
    super::session::check_depth(node_path)?;
    let primary = el.primary_type().map(|t| pm.name(t).into_owned());
    if let Some(t) = primary.as_deref() {
        if ACL_TYPES.contains(&t) {
            return acl::import(s, pm, el, node_path, t);
        }
        if matches!(t, "rep:User" | "rep:SystemUser" | "rep:Group") {
            if s.opts.no_authorizables {
                return Err(ImportError::AuthorizableRefused {
                    path: node_path.to_string(),
                });
            }
            if let Placement::Existing(old) = super::authorizable::place(s, el, node_path)? {
                s.report.authorizables.push(old.clone());
                return existing_authorizable(s, pm, el, node_path, &old);
            }
            s.report.authorizables.push(node_path.to_string());
        }
    }
    // An existing node's identifier is read only when the element has one to
    // compare (`update` reads the properties against the element's).
    let mut existing = match known_absent {
        true => None,
        false if el.property("jcr:uuid").is_some() => s.node(node_path)?,
        false => s.txn.node_without_uuid(&s.ws, node_path)?,
    };
    let contained = s.contains(node_path);
    let mut before = None;
    let mut stashed = None;
    if let (Some(info), Some(uuid)) = (
        &existing,
        el.property("jcr:uuid").and_then(|p| p.values.first()),
    ) {
        if contained
            && info.uuid.as_deref() != Some(uuid.as_str())
            && node_path != "/"
            && s.opts.id_conflict != super::options::IdConflictPolicy::Legacy
        {
            // The package's identifier wins in every mode that reaches here
            // (`DocViewImporter.updateExistingNode`): the node is replaced by the
            // package's (legacy: the existing node keeps its identifier). `merge`
            // does not reach here for an aggregate's own node, which it skips
            // whole when it exists (`import_document`).
            before = next_sibling(s, node_path)?;
            // FileVault's NodeStash: the children, mixins and unprotected properties
            // go aside and come back on the new node (the children with their
            // identifiers), then the package's children are applied to them as to
            // any existing children.
            let stash = super::stash::stash(s, node_path)?;
            super::references::remove_with_references(s, node_path, true)?;
            s.record(node_path, Action::Replaced);
            existing = None;
            stashed = Some(stash);
        }
    }
    let fresh = existing.is_none() && stashed.is_none();
    let found = existing.is_some();
    match existing {
        None => create(s, pm, el, node_path, primary, before)?,
        Some(info) if contained => update(s, pm, el, &info, primary)?,
        Some(_) => {}
    }
    if let Some(stash) = stashed {
        let mode = s.mode(node_path);
        super::stash::recover(s, node_path, stash, mode)?;
    }
    if !fresh && !contained && el.children.len() >= 2 {
        // An existing node outside the filter (an ancestor of a root) is not
        // reordered; a child created below it, here or in its own file later,
        // takes its listed place.
        let listed = el.children.iter().map(|c| segment(pm, c)).collect();
        s.listed_children.insert(node_path.to_string(), listed);
    }
    let mut names: Vec<String> = Vec::with_capacity(el.children.len());
    // Below a node this element created, a child is there only when an earlier
    // sibling of the same name put it there (or, removed, let a later same-name
    // sibling take its place): the repository need not be asked otherwise.
    let mut named: std::collections::HashSet<_, foldhash::fast::RandomState> =
        std::collections::HashSet::default();
    let listed = el.children.iter().filter(|c| !c.is_placeholder()).count();
    if found && listed >= 1 {
        // The existing children in one read: the repository's read cache then
        // answers each child's own read below (one statement a family, not one a
        // child) and the read of them after the walk below. Nothing is decided
        // from it.
        s.txn.children_without_uuid(&s.ws, node_path)?;
    }
    for c in &el.children {
        let seg = segment(pm, c);
        let cpath = path::join(node_path, &seg);
        let first_of_name = fresh && named.insert(pm.name(&c.name)) && c.index == 1;
        names.push(seg);
        if c.is_placeholder() {
            continue;
        }
        element(s, pm, c, &cpath, first_of_name)?;
    }
    // A node this element created has exactly the children it listed, in listed
    // order (the node types autocreate properties, not children): nothing to delete
    // and nothing to reorder, so the repository need not be asked.
    let mut children = None;
    if !fresh {
        children = missing_children_deleted(s, node_path, &names)?;
    }
    if contained || fresh {
        if !fresh {
            restore_order_of(s, node_path, &names, children)?;
        }
        if names.len() >= 2 {
            // Children in their own files come later: order again after them.
            s.name_lists.insert(node_path.to_string(), names);
        }
    }
    Ok(())
}

/// The package's authorizable at `node_path` exists at `old`: updated there (contained,
/// `update` or `update_properties`) or left as it is, and the element's children go
/// below it (existing children the package does not list stay).
fn existing_authorizable(
    s: &mut Session<'_>,
    pm: &PrefixMap,
    el: &DocViewElement,
    node_path: &str,
    old: &str,
) -> Result<(), ImportError> {
    let update_here = s.contains(node_path)
        && matches!(
            s.mode(node_path),
            ImportMode::Update | ImportMode::UpdateProperties
        );
    match s.node(old)? {
        Some(info) if update_here => {
            // The existing node keeps its type.
            update(s, pm, el, &info, None)?;
        }
        _ => s.touched(old, Action::Unchanged, false),
    }
    for c in &el.children {
        if c.is_placeholder() {
            continue;
        }
        let cpath = path::join(old, &segment(pm, c));
        element(s, pm, c, &cpath, false)?;
    }
    Ok(())
}

/// The next sibling that exists after `name` in the listing the package gave for
/// `parent` when it is an existing node outside the filter: where a node created
/// there goes, so that a restored subtree keeps its place (issue 13, item 7; FileVault
/// appends it, as it orders only contained or new parents).
fn listed_place(s: &Session<'_>, parent: &str, name: &str) -> Result<Option<String>, ImportError> {
    let Some(names) = s.listed_children.get(parent) else {
        return Ok(None);
    };
    let Some(at) = names.iter().position(|n| n == name) else {
        return Ok(None);
    };
    for n in &names[at + 1..] {
        if n.ends_with(']') {
            return Ok(None);
        }
        if s.node(&path::join(parent, n))?.is_some() {
            return Ok(Some(n.clone()));
        }
    }
    Ok(None)
}

/// The next sibling that exists after `name` in the child name list of `parent` (a
/// node this document or an earlier one imported, whose children in their own files
/// are being created): where a node created there goes, so that ordering the
/// children after them moves nothing. `None` (appended, and ordered afterwards as
/// before) when the list has same-name siblings, is long or does not name it, or
/// `parent` is not orderable: wherever a listed child goes, the order restored
/// afterwards is the same, as it orders the listed children and keeps the others'
/// order.
fn place_as_listed(
    s: &mut Session<'_>,
    parent_info: &NodeInfo,
    parent: &str,
    name: &str,
) -> Result<Option<String>, ImportError> {
    // Below a remapped authorizable the lists are kept past their walk: left alone.
    let Some(names) = s.name_lists.get(parent).filter(|_| s.remapped.is_empty()) else {
        return Ok(None);
    };
    if names.len() > super::order::MAX_PLACED_NAMES
        || names.iter().any(|n| n.ends_with(']'))
        || s.types.is_orderable(&parent_info.primary_type) == Some(false)
    {
        return Ok(None);
    }
    let Some(at) = names.iter().position(|n| n == name) else {
        return Ok(None);
    };
    if !s.placements.holds(parent) {
        let children = s.txn.children_without_uuid(&s.ws, parent)?;
        let existing: std::collections::HashSet<&str> = children
            .iter()
            .map(|c| path::last_segment(&c.path))
            .collect();
        let present = names
            .iter()
            .map(|n| existing.contains(n.as_str()))
            .collect();
        s.placements.hold(parent, present);
    }
    let present = s.placements.present(parent).cloned().unwrap_or_default();
    let mut place = None;
    for (j, n) in names.iter().enumerate().skip(at + 1) {
        if !present.get(j).copied().unwrap_or(false) {
            continue;
        }
        // Removed since, perhaps: the store says.
        if s.node(&path::join(parent, n))?.is_some() {
            place = Some(n.clone());
            break;
        }
        if let Some(p) = s.placements.present(parent) {
            p[j] = false;
        }
    }
    if let Some(p) = s.placements.present(parent) {
        if let Some(here) = p.get_mut(at) {
            *here = true;
        }
    }
    Ok(place)
}

fn next_sibling(s: &Session<'_>, node_path: &str) -> Result<Option<String>, ImportError> {
    let parent = path::parent(node_path).unwrap_or("/");
    let children = s.txn.children(&s.ws, parent)?;
    let pos = children.iter().position(|c| c.path == node_path);
    Ok(pos
        .and_then(|i| children.get(i + 1))
        .map(|c| path::last_segment(&c.path).to_string())
        .filter(|seg| !seg.ends_with(']')))
}

/// The properties of `el` as they go into a node with these types: converted,
/// protected ones dropped (those set at creation kept when `creating`).
fn properties_for(
    s: &Session<'_>,
    pm: &PrefixMap,
    el: &DocViewElement,
    node_path: &str,
    primary: &str,
    mixins: &[String],
    creating: bool,
) -> (Vec<Property>, Vec<String>) {
    // One effective type for every property of the element.
    let eff = s.types.effective(primary, mixins);
    properties_with(s, pm, el, node_path, (primary, mixins, &eff), creating)
}

/// [`properties_for`] with the effective type of `primary` and `mixins` made
/// already (a node being created needs it for its autocreated properties too).
fn properties_with(
    s: &Session<'_>,
    pm: &PrefixMap,
    el: &DocViewElement,
    node_path: &str,
    (primary, mixins, eff): (&str, &[String], &EffectiveType<'_>),
    creating: bool,
) -> (Vec<Property>, Vec<String>) {
    let mut out = Vec::with_capacity(el.properties.len());
    let mut violations = Vec::new();
    let authorizable = matches!(primary, "rep:User" | "rep:SystemUser" | "rep:Group");
    // A group's members beyond what its rep:members holds are in rep:membersList's
    // rep:MemberReferences nodes (rep:Members in Jackrabbit 2's tree); Oak's user
    // importer takes their protected rep:members as membership too.
    let members_overflow = matches!(primary, "rep:MemberReferences" | "rep:Members");
    let counter = primary == "mix:atomicCounter" || mixins.iter().any(|m| m == "mix:atomicCounter");
    for dp in &el.properties {
        let name = pm.name(&dp.name);
        let name = name.as_ref();
        if name == "jcr:primaryType" || name == "jcr:mixinTypes" {
            continue;
        }
        if VERSION_PROPERTIES.contains(&name) {
            continue;
        }
        if !s.includes_property(node_path, name) {
            continue;
        }
        // Authorizables are created through a system view import that sets their
        // protected properties (rep:members, rep:password, ...); there is no counter
        // service, so oak:counter is set as the package gives it.
        let keep_protected = (creating && CREATION_PROPERTIES.contains(&name))
            || (authorizable && name != "jcr:created" && name != "jcr:createdBy")
            || (members_overflow && name != "jcr:created" && name != "jcr:createdBy")
            || (counter && name == "oak:counter");
        if !keep_protected && eff.is_protected_property(name, dp.ptype, dp.multiple) {
            continue;
        }
        if dp.ptype == PropertyType::Undefined
            && !creating
            && !keep_protected
            && s.mode(node_path) != ImportMode::Replace
        {
            // The existing node keeps its type: an untyped value needs a definition
            // of any type with this name (or a residual one) and multiplicity.
            if eff.is_complete()
                && !eff.property_definitions().any(|d| {
                    (d.def.name == name || d.def.name == "*") && d.def.multiple == dp.multiple
                })
            {
                violations.push(format!(
                    "{node_path}: no property definition of {primary} allows {name}"
                ));
                continue;
            }
        }
        if !matches!(dp.ptype, PropertyType::Undefined | PropertyType::Binary)
            && !keep_protected
            && eff.is_complete()
            && eff
                .property_definition(name, dp.ptype, dp.multiple)
                .is_none()
        {
            violations.push(format!(
                "{node_path}: no property definition of {primary}{} allows {name} of type {}{}",
                if mixins.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", mixins.join(", "))
                },
                dp.ptype.jcr_name(),
                if dp.multiple { " (multi-valued)" } else { "" }
            ));
            continue;
        }
        if let Some(p) = convert_property(dp, name, pm, eff) {
            out.push(p);
        }
    }
    (out, violations)
}

fn create(
    s: &mut Session<'_>,
    pm: &PrefixMap,
    el: &DocViewElement,
    node_path: &str,
    primary: Option<String>,
    before: Option<String>,
) -> Result<(), ImportError> {
    let parent = path::parent(node_path).unwrap_or("/").to_string();
    // The parent's types and place are what matter here, not its identifier.
    let Some(parent_info) = s.txn.node_without_uuid(&s.ws, &parent)? else {
        return Ok(());
    };
    let name = path::name(node_path).to_string();
    if s.mode(node_path) != ImportMode::Replace {
        // A mode other than replace keeps the existing parent's type: a child it
        // does not allow is skipped, not forced (its subtree with it).
        if let Some(t) = primary.as_deref() {
            let eff = s
                .types
                .effective(&parent_info.primary_type, &parent_info.mixins);
            if eff.is_complete() && s.types.is_known(t) && eff.child_definition(&name, t).is_none()
            {
                s.report.warn(format!(
                    "{node_path}: skipped: {} does not allow a child {name} of type {t}",
                    parent_info.primary_type
                ));
                return Ok(());
            }
        }
    }
    // The repository root's element mapped elsewhere (`--at`, `--map /=...`): there
    // is one root, so the node there takes the type a new child would.
    let primary = primary.filter(|p| !(p == crate::repository::ROOT_TYPE && node_path != "/"));
    let primary = match primary {
        Some(p) => p,
        None => s
            .types
            .default_child_type(&parent_info.primary_type, &parent_info.mixins, &name)
            .unwrap_or_else(|| "nt:unstructured".to_string()),
    };
    let mixins: Vec<String> = el
        .mixin_types()
        .iter()
        .map(|m| pm.name(m).into_owned())
        .collect();
    // One effective type for the element's properties and the autocreated ones.
    let eff = s.types.effective(&primary, &mixins);
    let (props, violations) =
        properties_with(s, pm, el, node_path, (&primary, &mixins, &eff), true);
    let mut node = Node::new(name, primary);
    node.mixins = mixins;
    node.properties.reserve(props.len());
    for p in props {
        node.set(p);
    }
    let autocreated = autocreated(s, &eff, &node);
    for v in violations {
        s.fail_or_warn(node_path, format!("node type constraint violated: {v}"))?;
    }
    set_autocreated(s, &mut node, node_path, autocreated);
    if let Some(uuid) = node
        .value("jcr:uuid")
        .and_then(Value::as_str)
        .map(str::to_string)
    {
        // create_new_id imports every node with a fresh identifier, conflict or not
        // (IMPORT_UUID_CREATE_NEW).
        let fresh = s.opts.id_conflict == super::options::IdConflictPolicy::CreateNewId
            && !matches!(
                node.primary_type.as_str(),
                "rep:User" | "rep:SystemUser" | "rep:Group"
            );
        if fresh || !super::identity::resolve_conflict(s, node_path, &uuid)? {
            node.properties.shift_remove("jcr:uuid");
            let fresh = s.new_uuid(node_path);
            node.set(Property::string("jcr:uuid", fresh));
        }
    }
    let checked_in = matches!(node.value("jcr:isCheckedOut"), Some(Value::Boolean(false)));
    if checked_in {
        s.check_in.push(node_path.to_string());
    }
    let idx = crate::path::Segment::parse(path::last_segment(node_path))
        .map(|sg| sg.index)
        .unwrap_or(1);
    let before = match before {
        Some(b) => Some(b),
        None if idx == 1 => match listed_place(s, &parent, path::last_segment(node_path))? {
            Some(b) => Some(b),
            None => place_as_listed(s, &parent_info, &parent, path::last_segment(node_path))?,
        },
        None => None,
    };
    let opts = if idx > 1 {
        AddOptions::allow_same_name()
    } else if let Some(b) = before {
        AddOptions::before(b)
    } else {
        AddOptions::append()
    };
    s.add_node(node_path, &node, &opts)?;
    s.document_nodes.insert(node_path.to_string());
    // The parent's children changed: its child definitions are checked again (a
    // parent created by this install is on the list already; the check runs once).
    // The root belongs to the repository (rep:root's mandatory jcr:system is not
    // kept here), so it is left out.
    if parent != "/" {
        s.to_check.push(&parent);
    }
    Ok(())
}

/// Sets what the node types autocreate and the package did not give.
pub fn autocreate(s: &mut Session<'_>, node: &mut Node, node_path: &str) {
    let eff = s.types.effective(&node.primary_type, &node.mixins);
    let props = autocreated(s, &eff, node);
    set_autocreated(s, node, node_path, props);
}

/// What the node types (`eff`, the effective type of `node`) autocreate and
/// the package did not give, with where the identifier goes: issuing one needs
/// the session mutably, not the types ([`set_autocreated`]).
fn autocreated(
    s: &Session<'_>,
    eff: &EffectiveType<'_>,
    node: &Node,
) -> (Vec<Property>, Option<usize>) {
    let mut props: Vec<Property> = Vec::new();
    let mut uuid_at = None;
    for d in eff.autocreated_properties() {
        let name = d.def.name.as_str();
        if name == "*"
            || node.properties.contains_key(name)
            || name == "jcr:primaryType"
            || name == "jcr:mixinTypes"
        {
            continue;
        }
        if VERSION_PROPERTIES.contains(&name) {
            continue;
        }
        let value = match name {
            "jcr:uuid" => {
                uuid_at = Some(props.len());
                Some(Value::String(String::new()))
            }
            "jcr:created" | "jcr:lastModified" => Some(Value::Date(s.opts.actor.time)),
            "jcr:createdBy" | "jcr:lastModifiedBy" => {
                Some(Value::String(s.opts.session_user.clone()))
            }
            "jcr:isCheckedOut" => Some(Value::Boolean(true)),
            _ => None,
        };
        let prop = match value {
            Some(v) => Some(Property::single(name, v)),
            None if !d.def.default_values.is_empty() => {
                let t = if d.def.required_type == PropertyType::Undefined {
                    PropertyType::String
                } else {
                    d.def.required_type
                };
                let vals: Option<Vec<Value>> = d
                    .def
                    .default_values
                    .iter()
                    .map(|v| Value::parse(t, v).ok())
                    .collect();
                vals.map(|mut vals| {
                    if d.def.multiple {
                        Property::multi(name, t, vals)
                    } else {
                        Property::single(name, vals.remove(0))
                    }
                })
            }
            None => None,
        };
        props.extend(prop);
    }
    (props, uuid_at)
}

/// Sets the [`autocreated`] properties on `node`, with a new identifier where
/// one goes.
fn set_autocreated(
    s: &mut Session<'_>,
    node: &mut Node,
    node_path: &str,
    (mut props, uuid_at): (Vec<Property>, Option<usize>),
) {
    if let Some(at) = uuid_at {
        props[at].values = vec![Value::String(s.new_uuid(node_path))];
    }
    for p in props {
        node.set(p);
    }
}

/// Updates the existing node `info` from `el` by its mode.
fn update(
    s: &mut Session<'_>,
    pm: &PrefixMap,
    el: &DocViewElement,
    info: &NodeInfo,
    primary: Option<String>,
) -> Result<(), ImportError> {
    // Borrowed, not copied: a re-install updates every node it meets.
    let node_path = info.path.as_str();
    s.document_nodes.insert(node_path.to_string());
    let mode = s.mode(node_path);
    let mut changed = false;
    let mut primary_now = Cow::Borrowed(info.primary_type.as_str());
    if let Some(p) = primary {
        if mode == ImportMode::Replace
            && p != info.primary_type
            && info.primary_type != "rep:root"
            && p != "rep:root"
        {
            s.txn.set_primary_type(&s.ws, node_path, &p)?;
            primary_now = Cow::Owned(p);
            changed = true;
        }
    }
    let package_mixins: Vec<String> = el
        .mixin_types()
        .iter()
        .map(|m| pm.name(m).into_owned())
        .collect();
    let mut mixins = info.mixins.clone();
    if mode == ImportMode::Replace && el.property("jcr:mixinTypes").is_some() {
        let keep_ac = !matches!(s.ac, AcHandling::Overwrite | AcHandling::Clear);
        mixins
            .retain(|m| package_mixins.contains(m) || (keep_ac && AC_MIXINS.contains(&m.as_str())));
    }
    for m in &package_mixins {
        if !mixins.contains(m) {
            mixins.push(m.clone());
        }
    }
    if mixins != info.mixins {
        s.txn.set_mixins(&s.ws, node_path, &mixins)?;
        changed = true;
    }
    let (props, violations) = properties_for(s, pm, el, node_path, &primary_now, &mixins, false);
    for v in violations {
        if mode == ImportMode::Replace {
            s.fail_or_warn(node_path, format!("node type constraint violated: {v}"))?;
        } else {
            s.report.warn(format!("property skipped: {v}"));
        }
    }
    let members_merge = primary_now == "rep:Group"
        && matches!(mode, ImportMode::Merge | ImportMode::MergeProperties);
    // Read after the type and mixin changes (which may change what is stored),
    // against the element's properties: those stored as the element gives them
    // come back as the element's own (not decoded), and compare equal at once.
    let stored = s.txn.properties_against(&s.ws, node_path, &props)?;
    let existing: Vec<&Property> = stored.iter().map(|e| e.resolve(&props)).collect();
    let overwrite = !matches!(mode, ImportMode::Merge | ImportMode::MergeProperties);
    for p in &props {
        if p.name == "jcr:uuid" {
            continue;
        }
        if members_merge && p.name == "rep:members" {
            let mut merged = existing
                .iter()
                .find(|e| e.name == p.name)
                .map(|e| (*e).clone())
                .unwrap_or_else(|| p.clone());
            for v in &p.values {
                if !merged.values.contains(v) {
                    merged.values.push(v.clone());
                }
            }
            merged.multiple = true;
            if existing.iter().find(|e| e.name == p.name) != Some(&&merged) {
                s.txn.set_property(&s.ws, node_path, &merged)?;
                changed = true;
            }
            continue;
        }
        match existing.iter().find(|e| e.name == p.name) {
            Some(e) if std::ptr::eq(*e, p) || *e == p => {}
            Some(_) if !overwrite => {}
            _ => {
                s.txn.set_property(&s.ws, node_path, p)?;
                changed = true;
            }
        }
    }
    if mode == ImportMode::Replace {
        for e in &existing {
            if e.name == "jcr:uuid" || props.iter().any(|p| p.name == e.name) {
                continue;
            }
            if has_binary_placeholder(el, pm, &e.name) {
                continue;
            }
            let from_file = s.file_content.contains(node_path) || data_from_file(s, node_path)?;
            if from_file
                && matches!(
                    e.name.as_str(),
                    "jcr:data" | "jcr:lastModified" | "jcr:lastModifiedBy"
                )
            {
                continue;
            }
            if from_file && e.name == "jcr:mimeType" && is_default_mime(node_path, e) {
                // FileVault removes it here and its file handler sets it again from
                // the extension (`importNtResource`): the same value, so it stays.
                continue;
            }
            if !s.includes_property(node_path, &e.name) {
                continue;
            }
            if primary_now == "vlt:PackageDefinition"
                && matches!(e.name.as_str(), "lastUnpacked" | "lastUnpackedBy")
            {
                // The package registry's record that the sub package is installed
                // (see sub_packages): kept when the definition is imported again.
                continue;
            }
            if s.types
                .is_protected_property(&primary_now, &mixins, &e.name, e.ptype, e.multiple)
                || VERSION_PROPERTIES.contains(&e.name.as_str())
            {
                continue;
            }
            s.txn.remove_property(&s.ws, node_path, &e.name)?;
            changed = true;
        }
    }
    if matches!(
        el.property("jcr:isCheckedOut")
            .and_then(|p| p.values.first())
            .map(String::as_str),
        Some("false")
    ) {
        s.check_in.push(node_path.to_string());
    }
    // As Oak, which validates what a commit changes: a node left as it was is not
    // checked again (a node whose children are added or removed is queued where
    // that happens).
    let action = if changed {
        Action::Updated
    } else {
        Action::Unchanged
    };
    s.touched(node_path, action, changed);
    Ok(())
}

/// Whether the node at `node_path` is the `jcr:content` of an `nt:file` whose data a
/// plain file of the package supplies after this DocView (an "enhanced file
/// aggregate": the file is declared inline in an ancestor's DocView).
fn data_from_file(s: &Session<'_>, node_path: &str) -> Result<bool, ImportError> {
    if path::name(node_path) != "jcr:content" {
        return Ok(false);
    }
    let Some(file) = path::parent(node_path) else {
        return Ok(false);
    };
    if !s.hints.contains(file) {
        return Ok(false);
    }
    Ok(s.node(file)?.is_some_and(|f| {
        f.primary_type == "nt:file" || s.types.is_node_type(&f.primary_type, "nt:file")
    }))
}

/// Whether `p` (a `jcr:mimeType` of the `jcr:content` at `content_path`) is what
/// the file handler sets when it is missing: the default for the file's extension.
fn is_default_mime(content_path: &str, p: &Property) -> bool {
    let file = path::parent(content_path).map(path::name).unwrap_or("");
    let default = crate::mime::for_name_or_default(file);
    matches!(p.values.as_slice(), [Value::String(v)] if v == default)
}

/// The element names `name` as a `{Binary}` placeholder: its value comes from a
/// `.binary` file or stays as it is.
fn has_binary_placeholder(el: &DocViewElement, pm: &PrefixMap, name: &str) -> bool {
    el.properties
        .iter()
        .any(|p| p.ptype == PropertyType::Binary && !p.binary_ref && pm.name(&p.name) == name)
}

/// Deletes the existing children of `node_path` that the element does not list, that
/// the package has no entry for, that are contained and whose mode is `replace`.
pub fn delete_missing_children(
    s: &mut Session<'_>,
    node_path: &str,
    names: &[String],
) -> Result<(), ImportError> {
    missing_children_deleted(s, node_path, names).map(|_| ())
}

/// [`delete_missing_children`]; returns the children as they are after it when it
/// deleted none (so that ordering them need not read them again).
fn missing_children_deleted(
    s: &mut Session<'_>,
    node_path: &str,
    names: &[String],
) -> Result<Option<Vec<NodeInfo>>, ImportError> {
    // Read at once: only when that fails is it asked whether the node is there (a
    // node that is not has no children to delete).
    let children = match s.txn.children_without_uuid(&s.ws, node_path) {
        Ok(children) => children,
        Err(_) if s.node(node_path)?.is_none() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if are_as_listed(&children, names) {
        // Each child listed, in listed order (an unchanged re-import): none to
        // delete, and nothing to look up.
        return Ok(Some(children));
    }
    let mut deleted = false;
    let listed: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    // Later same-name siblings shift when an earlier one goes: delete from the end.
    for c in children.iter().rev() {
        let seg = path::last_segment(&c.path);
        if listed.contains(seg) || s.hints.contains(&c.path) || s.processed.contains(&c.path) {
            continue;
        }
        if !s.contains(&c.path) || s.mode(&c.path) != ImportMode::Replace {
            continue;
        }
        if super::SYSTEM_ROOTS.contains(&c.path.as_str()) {
            // The repository's own content (`/jcr:system`, ...): a package that
            // does not list it does not remove it.
            continue;
        }
        if ACL_TYPES.contains(&c.primary_type.as_str())
            && !matches!(s.ac, AcHandling::Overwrite | AcHandling::Clear)
        {
            continue;
        }
        if is_protected_child(s, node_path, &c.name, &c.primary_type)? {
            continue;
        }
        if is_sole_mandatory_child(s, node_path, c, &children)? {
            // DocViewImporter.endDocViewNode: a mandatory, non-residual child with no
            // sibling that could stand in for it is not deleted, with a warning.
            s.report.warn(format!(
                "refused to delete the mandatory child node {} (no other sibling matches its definition)",
                c.path
            ));
            continue;
        }
        super::references::remove_node(s, &c.path)?;
        s.record(&c.path, Action::Deleted);
        deleted = true;
        // A removed child may have been a mandatory one.
        if node_path != "/" {
            s.to_check.push(node_path);
        }
    }
    Ok((!deleted).then_some(children))
}

/// Whether `children` are the nodes `names` lists, in that order (by their
/// paths' last segments).
fn are_as_listed(children: &[NodeInfo], names: &[String]) -> bool {
    children.len() == names.len()
        && children
            .iter()
            .zip(names)
            .all(|(c, n)| path::last_segment(&c.path) == n)
}

/// Whether `child` is the only child of `parent` that satisfies its mandatory,
/// non-residual definition (FileVault's `hasSiblingWithPrimaryTypesAndName`: another
/// sibling of the same name and of every required type would do).
fn is_sole_mandatory_child(
    s: &Session<'_>,
    parent: &str,
    child: &NodeInfo,
    siblings: &[NodeInfo],
) -> Result<bool, ImportError> {
    let Some(p) = s.node(parent)? else {
        return Ok(false);
    };
    let effective = s.types.effective(&p.primary_type, &p.mixins);
    let Some(d) = effective.child_definition(&child.name, &child.primary_type) else {
        return Ok(false);
    };
    if !d.def.mandatory || d.def.is_residual() {
        return Ok(false);
    }
    let stands_in = siblings.iter().any(|o| {
        o.path != child.path
            && o.name == child.name
            && d.def.required_primary_types.iter().all(|r| {
                s.types.is_node_type(&o.primary_type, r)
                    || o.mixins.iter().any(|m| s.types.is_node_type(m, r))
            })
    });
    Ok(!stands_in)
}

fn is_protected_child(
    s: &Session<'_>,
    parent: &str,
    name: &str,
    child_type: &str,
) -> Result<bool, ImportError> {
    let Some(p) = s.node(parent)? else {
        return Ok(false);
    };
    Ok(s.types
        .effective(&p.primary_type, &p.mixins)
        .child_definition(name, child_type)
        .is_some_and(|d| d.def.protected))
}

/// Orders the children of `node_path` as `names` lists them (reference §3.9): listed
/// children move to the end in listed order; unlisted ones drift to the front.
pub fn restore_order(
    s: &mut Session<'_>,
    node_path: &str,
    names: &[String],
) -> Result<(), ImportError> {
    restore_order_of(s, node_path, names, None)
}

/// [`restore_order`] with the node's `children` when they were just read.
fn restore_order_of(
    s: &mut Session<'_>,
    node_path: &str,
    names: &[String],
    children: Option<Vec<NodeInfo>>,
) -> Result<(), ImportError> {
    if names.len() < 2 {
        return Ok(());
    }
    if children.as_deref().is_some_and(|c| are_as_listed(c, names)) {
        // In listed order already: whatever the type, nothing moves.
        return Ok(());
    }
    // Only its type and its children's paths are looked at: no identifiers read.
    let Some(info) = s.txn.node_without_uuid(&s.ws, node_path)? else {
        return Ok(());
    };
    if s.types.is_orderable(&info.primary_type) == Some(false) {
        return Ok(());
    }
    let children = match children {
        Some(c) => c,
        None => s.txn.children_without_uuid(&s.ws, node_path)?,
    };
    if are_as_listed(&children, names) {
        return Ok(());
    }
    let current: Vec<String> = children
        .iter()
        .map(|c| path::last_segment(&c.path).to_string())
        .collect();
    // Sets, not `Vec::contains`: 150,000 siblings were 2 x 150,000^2 comparisons.
    let current_set: std::collections::HashSet<&str> = current.iter().map(String::as_str).collect();
    let names_set: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let listed: Vec<&String> = names
        .iter()
        .filter(|n| current_set.contains(n.as_str()))
        .collect();
    let mut wanted: Vec<String> = current
        .iter()
        .filter(|c| !names_set.contains(c.as_str()))
        .cloned()
        .collect();
    wanted.extend(listed.iter().map(|n| n.to_string()));
    if wanted == current || names.iter().any(|n| n.ends_with(']')) {
        return Ok(());
    }
    // Without same-name siblings, where a move renumbers paths, only the children off
    // one longest run already in wanted order move: the same order in the end.
    let plain = !current.iter().any(|c| c.ends_with(']'));
    if let Some(moves) = plain
        .then(|| super::order::moves(&current, &wanted))
        .flatten()
    {
        for i in moves {
            let before = wanted.get(i + 1).map(String::as_str);
            s.txn.order_before(&s.ws, node_path, &wanted[i], before)?;
        }
        return Ok(());
    }
    let mut before: Option<String> = None;
    for n in names.iter().rev() {
        if !current_set.contains(n.as_str()) {
            continue;
        }
        s.txn.order_before(&s.ws, node_path, n, before.as_deref())?;
        before = Some(n.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::events::Actor;
    use crate::import::{install, ImportOptions};
    use crate::repository::DEFAULT_WORKSPACE as WS;
    use crate::value::{Date, Property, PropertyType, Value};

    /// A package of one document at `/content/a` holding `root` (its `jcr:root`'s
    /// attributes and children).
    fn package(root: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            (
                "META-INF/vault/filter.xml".to_string(),
                r#"<workspaceFilter version="1.0"><filter root="/content/a"/></workspaceFilter>"#
                    .to_string(),
            ),
            (
                "jcr_root/content/a/.content.xml".to_string(),
                format!(
                    r#"<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" xmlns:nt="http://www.jcp.org/jcr/nt/1.0" {root}</jcr:root>"#
                ),
            ),
        ];
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    fn options() -> ImportOptions {
        ImportOptions::new(Actor {
            user: "ci".into(),
            time: Date::from_epoch_millis(1_700_000_000_000),
        })
    }

    /// What a re-import reports for each node below `/content/a`.
    fn actions(report: &crate::import::Report) -> Vec<(char, String)> {
        report
            .entries
            .iter()
            .filter(|e| e.path.starts_with("/content/a"))
            .map(|e| (e.action.letter(), e.path.clone()))
            .collect()
    }

    /// The stored properties equal to the package's are not decoded on a
    /// re-import (the SQLite read answers them by index); every change the compare
    /// meets is still an update: an edited value, the same text with another type,
    /// one value of a multi-value changed, a value made multi-valued, a property
    /// removed; nodes left as they were stay unchanged.
    #[test]
    fn a_reimport_updates_exactly_the_nodes_whose_properties_changed() {
        let before = package(
            r#"jcr:primaryType="nt:unstructured" t="x" n="{Long}7" m="[a,b,c]" d="{Date}2020-01-02T03:04:05.006Z">
    <same jcr:primaryType="nt:unstructured" t="x" n="{Long}7" m="[a,b,c]"/>
    <edited jcr:primaryType="nt:unstructured" t="x"/>
    <retyped jcr:primaryType="nt:unstructured" n="{Long}7"/>
    <multi jcr:primaryType="nt:unstructured" m="[a,b,c]"/>
    <made_multi jcr:primaryType="nt:unstructured" t="x"/>
    <removed jcr:primaryType="nt:unstructured" t="x" gone="y"/>"#,
        );
        let after = package(
            r#"jcr:primaryType="nt:unstructured" t="x" n="{Long}7" m="[a,b,c]" d="{Date}2020-01-02T03:04:05.006Z">
    <same jcr:primaryType="nt:unstructured" t="x" n="{Long}7" m="[a,b,c]"/>
    <edited jcr:primaryType="nt:unstructured" t="y"/>
    <retyped jcr:primaryType="nt:unstructured" n="7"/>
    <multi jcr:primaryType="nt:unstructured" m="[a,b,d]"/>
    <made_multi jcr:primaryType="nt:unstructured" t="[x]"/>
    <removed jcr:primaryType="nt:unstructured" t="x"/>"#,
        );
        let repo = tempfile::tempdir().unwrap();
        let mut store = crate::repository::init(&repo.path().join("r")).unwrap();
        install(store.as_mut(), before.path(), &options()).unwrap();
        let again = install(store.as_mut(), before.path(), &options()).unwrap();
        let unchanged: Vec<char> = actions(&again).iter().map(|a| a.0).collect();
        assert!(unchanged.iter().all(|&c| c == '-'), "{:?}", actions(&again));
        assert_eq!(unchanged.len(), 7);
        let changed = install(store.as_mut(), after.path(), &options()).unwrap();
        let a = "/content/a";
        let want: Vec<(char, String)> = [
            ('-', a.to_string()),
            ('-', format!("{a}/same")),
            ('U', format!("{a}/edited")),
            ('U', format!("{a}/retyped")),
            ('U', format!("{a}/multi")),
            ('U', format!("{a}/made_multi")),
            ('U', format!("{a}/removed")),
        ]
        .into();
        assert_eq!(actions(&changed), want);
        let prop = |p: &str, n: &str| store.property(WS, p, n).unwrap();
        let strings = |l: &[&str]| l.iter().map(|s| Value::String(s.to_string())).collect();
        assert_eq!(
            prop("/content/a/edited", "t"),
            Some(Property::string("t", "y"))
        );
        assert_eq!(
            prop("/content/a/retyped", "n"),
            Some(Property::string("n", "7"))
        );
        assert_eq!(
            prop("/content/a/multi", "m"),
            Some(Property::multi(
                "m",
                PropertyType::String,
                strings(&["a", "b", "d"])
            ))
        );
        assert_eq!(
            prop("/content/a/made_multi", "t"),
            Some(Property::multi("t", PropertyType::String, strings(&["x"])))
        );
        assert_eq!(prop("/content/a/removed", "gone"), None);
        assert_eq!(
            prop("/content/a", "d"),
            Some(Property::single(
                "d",
                Value::Date(Date::parse("2020-01-02T03:04:05.006Z").unwrap())
            ))
        );
    }
}
