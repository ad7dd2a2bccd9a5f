//! Custom privileges a package registers (`META-INF/vault/privileges.xml`, FileVault's
//! `Importer.registerPrivileges` and `JackrabbitPrivilegeInstaller`): before the
//! content, each privilege the repository does not know yet is registered with its
//! abstract flag and aggregates; one it knows is left as it is. They are stored as Oak
//! stores them, as `rep:Privilege` nodes below `/jcr:system/rep:privileges`. A
//! malformed file fails the install (FileVault cannot read the package's metadata);
//! a privilege that cannot be registered (an unknown aggregate, a name in a reserved
//! namespace) fails a strict install and is a warning otherwise, as FileVault tracks
//! the error unless strict.
//!
//! Oak's privilege bits (`rep:bits`, `rep:next`) are an implementation detail of its
//! permission evaluation, which jcrpack does not have; they are not written.

use super::error::ImportError;
use super::session::Session;
use crate::archive::Archive;
use crate::node::Node;
use crate::repository::AddOptions;
use crate::value::{Property, PropertyType, Value};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::HashMap;

/// The entry holding a package's privileges.
pub const ENTRY: &str = "META-INF/vault/privileges.xml";

/// Where Oak keeps the registered privileges.
pub const PRIVILEGES_ROOT: &str = "/jcr:system/rep:privileges";

/// The privileges a JCR 2.0 / Oak repository has built in (JCR 2.0 §16.2.3 and Oak's
/// `PrivilegeConstants`): never registered by a package.
pub const BUILT_IN: &[&str] = &[
    "jcr:read",
    "jcr:modifyProperties",
    "jcr:addChildNodes",
    "jcr:removeNode",
    "jcr:removeChildNodes",
    "jcr:write",
    "jcr:readAccessControl",
    "jcr:modifyAccessControl",
    "jcr:lockManagement",
    "jcr:versionManagement",
    "jcr:nodeTypeManagement",
    "jcr:retentionManagement",
    "jcr:lifecycleManagement",
    "jcr:workspaceManagement",
    "jcr:nodeTypeDefinitionManagement",
    "jcr:namespaceManagement",
    "jcr:all",
    "rep:write",
    "rep:privilegeManagement",
    "rep:userManagement",
    "rep:readNodes",
    "rep:readProperties",
    "rep:addProperties",
    "rep:alterProperties",
    "rep:removeProperties",
    "rep:indexDefinitionManagement",
    "rep:addNodes",
    "rep:removeNodes",
];

/// One `<privilege>` of the file, names as the file writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivilegeDef {
    /// The qualified name.
    pub name: String,
    /// `abstract="true"`.
    pub is_abstract: bool,
    /// The `<contains name="..."/>` children.
    pub aggregates: Vec<String>,
}

/// The privileges of a `privileges.xml` and the namespaces it declares
/// (`(prefix, uri)`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PrivilegeFile {
    /// The namespace declarations, in document order.
    pub namespaces: Vec<(String, String)>,
    /// The privileges, in document order.
    pub privileges: Vec<PrivilegeDef>,
}

/// Reads a `privileges.xml`: `<privileges>` holding `<privilege name=".."
/// abstract="..">` elements, each with `<contains name=".."/>` children.
pub fn parse(text: &str) -> Result<PrivilegeFile, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut out = PrivilegeFile::default();
    let mut depth = 0usize;
    let mut current: Option<PrivilegeDef> = None;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        let (e, empty) = match ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    out.privileges.extend(current.take());
                }
                continue;
            }
            Event::DocType(_) => return Err("DOCTYPE is not allowed".to_string()),
            Event::Eof => break,
            _ => continue,
        };
        let attrs = attributes(&e)?;
        for (k, v) in &attrs {
            if let Some(p) = k.strip_prefix("xmlns:") {
                out.namespaces.push((p.to_string(), v.clone()));
            }
        }
        let local = e.local_name().as_ref().to_string();
        let name = attrs
            .iter()
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.clone());
        match (depth, local.as_str()) {
            (0, "privileges") => {}
            (0, other) => return Err(format!("the root element is <{other}>, not <privileges>")),
            (1, "privilege") => {
                let name = name.ok_or("a <privilege> without a name")?;
                let is_abstract = attrs
                    .iter()
                    .any(|(k, v)| k == "abstract" && v.trim() == "true");
                current = Some(PrivilegeDef {
                    name,
                    is_abstract,
                    aggregates: Vec::new(),
                });
            }
            (2, "contains") => {
                let name = name.ok_or("a <contains> without a name")?;
                if let Some(c) = current.as_mut() {
                    c.aggregates.push(name);
                }
            }
            _ => {}
        }
        if empty {
            if depth == 1 {
                out.privileges.extend(current.take());
            }
        } else {
            depth += 1;
        }
    }
    Ok(out)
}

fn attributes(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("bad attribute: {e}"))?;
        let key = a.key.as_ref().to_string();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad attribute value: {e}"))?
            .into_owned();
        out.push((key, value));
    }
    Ok(out)
}

/// Registers the privileges of the package's `privileges.xml`, if it has one.
pub(super) fn register(s: &mut Session<'_>, archive: &dyn Archive) -> Result<(), ImportError> {
    if archive.entry(ENTRY).is_none() {
        return Ok(());
    }
    let bytes = archive.read_to_vec(ENTRY)?;
    let file = match std::str::from_utf8(&bytes)
        .map_err(|e| format!("not UTF-8: {e}"))
        .and_then(parse)
    {
        Ok(f) => f,
        // FileVault fails to read such a package's metadata at all
        // (`DefaultMetaInf.loadPrivileges` throws), strict or not.
        Err(e) => {
            return Err(ImportError::Package(
                crate::package::PackageError::Metadata(format!("{}:{ENTRY}: {e}", archive.name())),
            ))
        }
    };
    // The file's prefixes → the repository's, registering new namespaces.
    let mut prefixes: HashMap<String, String> = HashMap::new();
    for (p, uri) in &file.namespaces {
        let q = match s.ns.prefix(uri) {
            Some(q) => q.to_string(),
            None => {
                let (q, _) = s.ns.register(p, uri);
                s.txn.register_namespace(&q, uri)?;
                s.report.registered_namespaces.push(format!("{q}={uri}"));
                q
            }
        };
        prefixes.insert(p.clone(), q);
    }
    let rename = |n: &str| -> Result<String, String> {
        match n.split_once(':') {
            Some((p, l)) => match prefixes.get(p) {
                Some(q) => Ok(format!("{q}:{l}")),
                None if crate::namespace::NamespaceRegistry::is_built_in_prefix(p) => {
                    Ok(n.to_string())
                }
                None => Err(format!(
                    "the prefix of privilege name '{n}' is not declared"
                )),
            },
            None => Ok(n.to_string()),
        }
    };
    for def in &file.privileges {
        let resolved = rename(&def.name).and_then(|name| {
            let aggregates = def
                .aggregates
                .iter()
                .map(|a| rename(a))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((name, aggregates))
        });
        let (name, aggregates) = match resolved {
            Ok(r) => r,
            Err(e) => {
                s.fail_or_warn(ENTRY, format!("{ENTRY}: {e}"))?;
                continue;
            }
        };
        if is_known(s, &name)? {
            continue;
        }
        if let Some(reason) = refusal(s, &name, &aggregates)? {
            s.fail_or_warn(
                ENTRY,
                format!("{ENTRY}: privilege {name} cannot be registered: {reason}"),
            )?;
            continue;
        }
        add(s, &name, def.is_abstract, &aggregates)?;
        s.report.registered_privileges.push(name);
    }
    Ok(())
}

/// Whether the repository has privilege `name` (built in or registered).
fn is_known(s: &Session<'_>, name: &str) -> Result<bool, ImportError> {
    if BUILT_IN.contains(&name) {
        return Ok(true);
    }
    Ok(s.txn
        .node(&s.ws, &crate::path::join(PRIVILEGES_ROOT, name))?
        .is_some())
}

/// Why Oak's `PrivilegeManager.registerPrivilege` would refuse `name`, if it would.
fn refusal(
    s: &Session<'_>,
    name: &str,
    aggregates: &[String],
) -> Result<Option<String>, ImportError> {
    let prefix = name.split_once(':').map_or("", |(p, _)| p);
    if matches!(
        prefix,
        "" | "jcr" | "rep" | "nt" | "mix" | "sv" | "xml" | "oak"
    ) {
        return Ok(Some(format!(
            "the namespace of '{name}' is reserved for built-in privileges"
        )));
    }
    for a in aggregates {
        if a == name {
            return Ok(Some("it aggregates itself".to_string()));
        }
        if !is_known(s, a)? {
            return Ok(Some(format!(
                "the aggregated privilege {a} is not registered"
            )));
        }
    }
    Ok(None)
}

fn add(
    s: &mut Session<'_>,
    name: &str,
    is_abstract: bool,
    aggregates: &[String],
) -> Result<(), ImportError> {
    if s.txn.node(&s.ws, PRIVILEGES_ROOT)?.is_none() {
        let holder = Node {
            name: "rep:privileges".to_string(),
            index: 1,
            primary_type: "rep:Privileges".to_string(),
            ..Node::default()
        };
        s.txn
            .add_node(&s.ws, "/jcr:system", &holder, &AddOptions::append())?;
    }
    let mut node = Node {
        name: name.to_string(),
        index: 1,
        primary_type: "rep:Privilege".to_string(),
        ..Node::default()
    };
    if is_abstract {
        node.properties.insert(
            "rep:isAbstract".to_string(),
            Property::single("rep:isAbstract", Value::Boolean(true)),
        );
    }
    if !aggregates.is_empty() {
        node.properties.insert(
            "rep:aggregates".to_string(),
            Property {
                name: "rep:aggregates".to_string(),
                ptype: PropertyType::Name,
                multiple: true,
                values: aggregates.iter().map(|a| Value::Name(a.clone())).collect(),
            },
        );
    }
    s.txn
        .add_node(&s.ws, PRIVILEGES_ROOT, &node, &AddOptions::append())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_privileges_with_aggregates_and_namespaces() {
        let f = parse(
            r#"<?xml version="1.0"?>
<privileges xmlns:t="urn:t">
  <privilege abstract="false" name="t:one"/>
  <privilege abstract="true" name="t:two">
    <contains name="t:one"/>
    <contains name="jcr:read"/>
  </privilege>
</privileges>"#,
        )
        .unwrap();
        assert_eq!(f.namespaces, vec![("t".to_string(), "urn:t".to_string())]);
        assert_eq!(
            f.privileges,
            vec![
                PrivilegeDef {
                    name: "t:one".into(),
                    is_abstract: false,
                    aggregates: vec![],
                },
                PrivilegeDef {
                    name: "t:two".into(),
                    is_abstract: true,
                    aggregates: vec!["t:one".into(), "jcr:read".into()],
                },
            ]
        );
    }

    #[test]
    fn refuses_other_roots_and_malformed_xml() {
        assert!(parse("<nodes/>").is_err());
        assert!(parse("<privileges><privilege name='a:b'></privileges>").is_err());
        assert!(parse("<privileges><privilege/></privileges>").is_err());
    }
}
