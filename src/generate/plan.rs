//! How a node budget and a binary budget are split into sites, pages, assets, tags
//! and access control lists.

/// The shape of the content for one `--nodes` and `--binary-bytes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The seed everything derives from.
    pub seed: u64,
    /// Site names (`/content/NAME`, `/content/dam/NAME`).
    pub site_names: Vec<String>,
    /// Language roots per site.
    pub languages: usize,
    /// Pages below each language root (the root counted).
    pub pages_per_language: u64,
    /// About how many component nodes a page's `jcr:content` holds.
    pub components_per_page: u64,
    /// Nested pages of the deep chain.
    pub deep_levels: u64,
    /// DAM assets per site.
    pub assets_per_site: u64,
    /// Binary bytes over all renditions.
    pub binary_bytes: u64,
    /// Tags in the one wide folder (`/content/cq:tags/SITE/topics`).
    pub tags: u64,
    /// Pages that get their own `rep:policy`, per site.
    pub acl_pages_per_site: u64,
}

/// The names of the first sites.
const SITES: &[&str] = &[
    "wknd",
    "we-retail",
    "brandhub",
    "corporate",
    "shop",
    "careers",
    "support",
    "events",
];

/// Nodes one page writes on average (page, content, grid, components).
const NODES_PER_PAGE: u64 = 13;
/// Nodes one asset writes (asset, content, metadata, related, renditions folder,
/// four renditions of two nodes each).
pub const NODES_PER_ASSET: u64 = 13;

impl Plan {
    /// The plan for about `nodes` nodes and `binary_bytes` bytes of binaries.
    pub fn new(seed: u64, nodes: u64, binary_bytes: u64) -> Plan {
        let nodes = nodes.max(1_000);
        let sites = (nodes / 100_000).clamp(1, SITES.len() as u64) as usize;
        let site_names: Vec<String> = SITES.iter().take(sites).map(|s| s.to_string()).collect();
        let languages = if nodes >= 50_000 { 5 } else { 3 };
        // One folder with 10,000 children from 100,000 nodes on.
        let tags = (nodes / 10).min(10_000);
        let deep_levels = 40;
        let acl_pages_per_site = (nodes / 5_000 / sites as u64).max(1);
        let assets = (nodes * 20 / 100 / NODES_PER_ASSET).max(1);
        let assets_per_site = (assets / sites as u64).max(1);
        let rest = nodes
            .saturating_sub(tags + deep_levels * 6 + acl_pages_per_site * sites as u64 * 6)
            .saturating_sub(assets_per_site * sites as u64 * NODES_PER_ASSET);
        let pages = rest / NODES_PER_PAGE;
        let pages_per_language = (pages / (sites * languages) as u64).max(1);
        Plan {
            seed,
            site_names,
            languages,
            pages_per_language,
            components_per_page: NODES_PER_PAGE - 3,
            deep_levels,
            assets_per_site,
            binary_bytes,
            tags,
            acl_pages_per_site,
        }
    }
}
