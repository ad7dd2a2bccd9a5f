//! Words, titles, rich text and dates: the values of generated properties, in the
//! languages of a multilingual AEM site (non-ASCII included).

use super::rng::Rng;

/// The language roots of every site, with the words their texts use.
pub const LANGUAGES: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "adventure",
            "mountain",
            "trail",
            "coffee",
            "city",
            "guide",
            "summer",
            "winter",
            "journey",
            "river",
            "camp",
            "bike",
            "surf",
            "ski",
            "hut",
            "view",
            "morning",
            "family",
            "weekend",
            "travel",
            "story",
            "local",
            "food",
            "market",
        ],
    ),
    (
        "de",
        &[
            "Abenteuer",
            "Berg",
            "Wanderweg",
            "Kaffee",
            "Stadt",
            "Führer",
            "Sommer",
            "Hütte",
            "Größe",
            "Straße",
            "Brücke",
            "Frühstück",
            "Übersicht",
            "Gebäude",
            "Fluss",
            "Wald",
        ],
    ),
    (
        "fr",
        &[
            "aventure", "montagne", "sentier", "café", "ville", "été", "hiver", "élève", "forêt",
            "rivière", "crème", "brûlée", "début", "château", "marché", "à",
        ],
    ),
    (
        "ja",
        &[
            "冒険",
            "山",
            "登山道",
            "コーヒー",
            "都市",
            "ガイド",
            "夏",
            "冬",
            "旅行",
            "川",
            "キャンプ",
            "自転車",
            "朝",
            "家族",
            "週末",
            "物語",
        ],
    ),
    (
        "ar",
        &[
            "مغامرة",
            "جبل",
            "قهوة",
            "مدينة",
            "دليل",
            "صيف",
            "شتاء",
            "رحلة",
            "نهر",
        ],
    ),
];

/// Short names for pages, components and assets (ASCII, lower case).
pub const SLUGS: &[&str] = &[
    "about",
    "news",
    "products",
    "services",
    "contact",
    "blog",
    "events",
    "team",
    "careers",
    "press",
    "support",
    "faq",
    "magazine",
    "adventures",
    "offers",
    "stories",
];

/// Tag namespaces and topics.
pub const TOPICS: &[&str] = &[
    "activity", "region", "season", "audience", "product", "campaign",
];

/// `count` words of language `lang` (an index into [`LANGUAGES`]) joined by spaces
/// (no spaces in Japanese).
pub fn words(rng: &mut Rng, lang: usize, count: usize) -> String {
    let (code, list) = LANGUAGES[lang % LANGUAGES.len()];
    let sep = if code == "ja" { "" } else { " " };
    let mut s = String::new();
    for i in 0..count {
        if i > 0 {
            s.push_str(sep);
        }
        s.push_str(rng.pick(list));
    }
    s
}

/// A title: two to five words, the first capitalized.
pub fn title(rng: &mut Rng, lang: usize) -> String {
    let n = rng.range(2, 5) as usize;
    capitalize(&words(rng, lang, n))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Rich text as AEM's text component stores it: HTML with entities, quotes,
/// ampersands and line feeds, so every XML escape of the DocView writer is used.
pub fn rich_text(rng: &mut Rng, lang: usize) -> String {
    let paragraphs = rng.range(1, 4);
    let mut s = String::new();
    for p in 0..paragraphs {
        if p > 0 {
            s.push('\n');
        }
        let n = rng.range(8, 40) as usize;
        s.push_str("<p>");
        s.push_str(&capitalize(&words(rng, lang, n)));
        if rng.chance(30) {
            s.push_str(" &amp; <b>\"");
            s.push_str(&words(rng, lang, 2));
            s.push_str("\"</b>");
        }
        if rng.chance(20) {
            s.push_str(" <a href=\"/content/x.html?a=1&b=2\">link</a>\t");
        }
        s.push_str(".</p>");
    }
    s
}

/// An ISO 8601 date with milliseconds and offset, between 2015 and 2025, as JCR
/// writes `{Date}` values.
pub fn date(rng: &mut Rng) -> String {
    let offsets = ["+00:00", "+01:00", "+02:00", "-05:00", "+09:00", "Z"];
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{}",
        rng.range(2015, 2025),
        rng.range(1, 12),
        rng.range(1, 28),
        rng.below(24),
        rng.below(60),
        rng.below(60),
        rng.below(1000),
        rng.pick(&offsets)
    )
}

/// A random version-4 style UUID (for `jcr:uuid`).
pub fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// A user id for `cq:lastModifiedBy` and friends.
pub fn user(rng: &mut Rng) -> String {
    let users = [
        "admin",
        "editor",
        "jdoe",
        "müller",
        "élodie",
        "author-42",
        "workflow-process-service",
    ];
    rng.pick(&users).to_string()
}
