//! Access control lists: `rep:policy` nodes (`rep:ACL`) written as full-coverage
//! `_rep_policy.xml` files, with allow and deny entries and `rep:glob`
//! restrictions.

use super::dam;
use super::output::{node, string, typed, with, Output};
use super::page;
use super::plan::Plan;
use super::rng::Rng;
use crate::value::PropertyType;
use std::io;

/// Writes a policy on every site root, every DAM root and on some pages.
pub fn write_acls(out: &Output, plan: &Plan) -> io::Result<()> {
    for site in 0..plan.site_names.len() {
        let mut rng = Rng::derive(plan.seed, "acl-site", site as u64);
        out.docview(
            &format!("{}/rep:policy", page::site_path(plan, site)),
            policy(&mut rng, 3),
            true,
        )?;
        out.docview(
            &format!("{}/rep:policy", dam::dam_root(plan, site)),
            policy(&mut rng, 2),
            true,
        )?;
        let mut done = std::collections::HashSet::new();
        for k in 0..plan.acl_pages_per_site {
            let mut rng = Rng::derive(plan.seed, "acl-page", ((site as u64) << 32) ^ k);
            let lang = rng.below(plan.languages as u64) as usize;
            let i = rng.below(plan.pages_per_language);
            let path = page::page_path(plan, site, lang, i);
            if !done.insert(path.clone()) {
                continue;
            }
            out.docview(&format!("{path}/rep:policy"), policy(&mut rng, 2), true)?;
        }
    }
    Ok(())
}

/// A `rep:ACL` with `entries` entries.
fn policy(rng: &mut Rng, entries: u64) -> crate::docview::DocViewElement {
    let principals = [
        "everyone",
        "content-authors",
        "dam-users",
        "contributor",
        "Müller-Gruppe",
    ];
    let privileges = [
        "jcr:read",
        "rep:write",
        "jcr:versionManagement",
        "crx:replicate",
        "jcr:lockManagement",
    ];
    let mut acl = node("", "rep:ACL");
    for k in 0..entries {
        let allow = k == 0 || rng.chance(70);
        let name = match (allow, k) {
            (true, 0) => "allow".to_string(),
            (true, _) => format!("allow{k}"),
            (false, _) => format!("deny{k}"),
        };
        let n = rng.range(1, 3) as usize;
        let privs: Vec<&str> = privileges
            .iter()
            .skip(rng.below(2) as usize)
            .take(n)
            .copied()
            .collect();
        let mut ace = with(
            node(&name, if allow { "rep:GrantACE" } else { "rep:DenyACE" }),
            vec![
                string("rep:principalName", rng.pick(&principals)),
                typed("rep:privileges", PropertyType::Name, &privs, true),
            ],
        );
        if rng.chance(40) {
            ace.children.push(with(
                node("rep:restrictions", "rep:Restrictions"),
                vec![string("rep:glob", "*/jcr:content*")],
            ));
        }
        acl.children.push(ace);
    }
    acl
}
