//! Authorizables (users, system users, groups) that already exist somewhere else
//! (FileVault's `DocViewImporter.handleAuthorizable`).
//!
//! An authorizable is found by its identifier: the package node's `jcr:uuid`, else the
//! one Oak derives from the authorizable id (`rep:authorizableId`, else the node's
//! name). When a node elsewhere holds it:
//!
//! * contained in the filter with mode `replace`: the existing one is removed and the
//!   package's is created at the package's path (it moves);
//! * contained with `update` or `update_properties`: the existing one is updated where
//!   it is;
//! * contained with `merge` or `merge_properties`, or not contained: it is left as it
//!   is.
//!
//! Except for `replace`, the package's path is remapped to the existing one, so that
//! the content the package holds below the authorizable (a profile, a picture, a
//! policy), in the same file or in files of its own, goes to where the authorizable
//! lives.

use super::error::ImportError;
use super::report::Action;
use super::session::Session;
use crate::docview::DocViewElement;
use crate::filter::ImportMode;
use crate::path;

/// Where the package's authorizable goes.
pub enum Placement {
    /// At the package's path (new, or the existing one is there or was removed).
    Here,
    /// The authorizable exists at this other path and stays there.
    Existing(String),
}

/// The primary types of authorizable nodes.
pub fn is_authorizable_type(t: &str) -> bool {
    matches!(t, "rep:User" | "rep:SystemUser" | "rep:Group")
}

/// Decides where the authorizable element `el` for `node_path` goes, removing the
/// existing one when a contained `replace` moves it, and remapping the package path
/// when it stays elsewhere.
pub fn place(
    s: &mut Session<'_>,
    el: &DocViewElement,
    node_path: &str,
) -> Result<Placement, ImportError> {
    if node_path == "/" {
        return Ok(Placement::Here);
    }
    let id = el
        .property("rep:authorizableId")
        .and_then(|p| p.values.first().cloned())
        .unwrap_or_else(|| path::name(node_path).to_string());
    let uuid = el
        .property("jcr:uuid")
        .and_then(|p| p.values.first().cloned())
        .unwrap_or_else(|| content_id(&id));
    let mut holder = s.txn.find_by_uuid(&s.ws, &uuid)?;
    if holder.is_none() {
        let derived = content_id(&id);
        if derived != uuid {
            holder = s.txn.find_by_uuid(&s.ws, &derived)?;
        }
    }
    let Some(old) = holder else {
        return Ok(Placement::Here);
    };
    if old == node_path {
        return Ok(Placement::Here);
    }
    let is_authorizable = s
        .node(&old)?
        .is_some_and(|n| is_authorizable_type(&n.primary_type));
    if !is_authorizable {
        // Not an authorizable: an ordinary identifier conflict.
        return Ok(Placement::Here);
    }
    if s.contains(node_path) && s.mode(node_path) == ImportMode::Replace {
        super::references::remove_node(s, &old)?;
        s.record(&old, Action::Replaced);
        return Ok(Placement::Here);
    }
    s.report.warn(format!(
        "authorizable '{id}' of {node_path} exists at {old}: the package's content for it goes there"
    ));
    s.remapped.push((node_path.to_string(), old.clone()));
    Ok(Placement::Existing(old))
}

/// The identifier Oak gives the authorizable `id`: a name-based (version 3) UUID of
/// the id in lower case (`UUIDUtils.generateUUID`).
pub fn content_id(id: &str) -> String {
    let mut h = md5(id.to_lowercase().as_bytes());
    h[6] = (h[6] & 0x0f) | 0x30;
    h[8] = (h[8] & 0x3f) | 0x80;
    let x = crate::dump::hex(&h);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// MD5 (RFC 1321), for name-based UUIDs only.
fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_le_bytes());
    let (mut a0, mut b0, mut c0, mut d0) = (
        0x6745_2301u32,
        0xefcd_ab89u32,
        0x98ba_dcfeu32,
        0x1032_5476u32,
    );
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, v) in [a0, b0, c0, d0].iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_the_rfc_vectors() {
        assert_eq!(
            crate::dump::hex(&md5(b"")),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            crate::dump::hex(&md5(b"The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        // Longer than one block.
        assert_eq!(
            crate::dump::hex(&md5(&[b'a'; 100])),
            "36a92cc94a9e0fa21f625f8bfb007adf"
        );
    }

    #[test]
    fn the_content_id_is_oaks_name_based_uuid_of_the_lower_case_id() {
        // The identifier FileVault's test packages give user test-user-a.
        assert_eq!(
            content_id("test-user-a"),
            "9a7c5a7a-77e0-3850-8cf5-7bc92cf5d407"
        );
        assert_eq!(content_id("Test-User-A"), content_id("test-user-a"));
    }
}
