//! Differential test against `java.util.regex` itself: when a JDK is available
//! (`$JAVA`, else `java` on PATH), every pattern below is compiled and matched by the
//! JDK (`fixtures/filter/RegexOracle.java`) and by jcrpack, and the answers must
//! agree: same patterns rejected, same paths matched. Patterns jcrpack reports as
//! unsupported are only checked to be accepted by Java.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{Pattern, PatternErrorKind};

/// Patterns people write, Java syntax corner cases, and known rejections.
const PATTERNS: &[&str] = &[
    "/a",
    "/a(/.*)?",
    "/a/.*",
    "/a/[^/]*",
    ".*/b",
    "^/a$",
    r"/a\.b",
    r"\Q/a.b\E",
    r"\Q/a",
    r"\Q\E",
    r"a\Qb\Ec",
    r"\Qa\\E",
    r"\\Q",
    r"[\Q]\E]",
    r"[\Q-\Ea]",
    r"\Q(\E*",
    "a|ab",
    "ab|a",
    "(a|)b",
    "()",
    "a**",
    "*a",
    "a{",
    "{2}",
    "a{2}{3}",
    "a{,2}",
    "a{2,1}",
    "a{1,}",
    "a{0}",
    "x{2147483648}",
    "a{99999999999}",
    "a]",
    "a}",
    "[]a]",
    "[^]a]",
    "[]",
    "[^]",
    "[a-]",
    "[-a]",
    "[a-c-e]",
    "[c-a]",
    r"[\d-z]",
    r"[a-\d]",
    "[a&&b]",
    "[a-z&&[def]]",
    "[a-z&&[^bc]]",
    "[^a-z&&[aeiou]]",
    "[a[b]]",
    "[^a[b]]",
    "[&&a]",
    "[a&&]",
    "[[a]b&&]",
    "[a&b]",
    "[a&&&b]",
    "[a&&[b]c]",
    "[a&&[b]&c]",
    "[a&&[b]&&c]",
    "[[a]&&[ab]]",
    "[a-z&&]",
    "[^&&a]",
    "[.]",
    "[a^]",
    "[\\^a]",
    "[[:alpha:]]",
    r"[\w&&[^\d]]",
    r"\d\D\w\W\s\S",
    r"\h\H\v\V",
    r"[\v-\v]",
    r"[\v]",
    r"\t\n\r\f\a\e",
    r"\x41",
    r"\x{1F600}",
    r"\x{110000}",
    r"\x4",
    r"\x",
    r"\u0041",
    r"\uD83D\uDE00",
    r"\uD800",
    r"[\uD800-\uDFFF]",
    r"\u12",
    r"\0101",
    r"\0377",
    r"\0400",
    r"\09",
    r"\0",
    r"\cA",
    r"\c",
    r"\y",
    r"\E",
    r"\C",
    r"\i",
    r"\\",
    r"\.",
    r"\/",
    r"\-",
    r"\<",
    r"\@",
    r"\ ",
    r"a\",
    r"\p{Lu}",
    r"\pL",
    r"\PL",
    r"\p{IsLatin}",
    r"\p{Latin}",
    r"\p{IsLu}",
    r"\p{sc=Greek}",
    r"\p{script=latn}",
    r"\p{gc=Nd}",
    r"\p{general_category=Lu}",
    r"\p{Alpha}",
    r"\p{Lower}",
    r"\p{Punct}",
    r"\p{Print}",
    r"\p{Graph}",
    r"\p{Blank}",
    r"\p{Cntrl}",
    r"\p{XDigit}",
    r"\p{Space}",
    r"\p{ASCII}",
    r"\p{L1}",
    r"\p{LD}",
    r"\p{LC}",
    r"\p{all}",
    r"\p{Cs}",
    r"\p{IsAlphabetic}",
    r"\p{IsWhite_Space}",
    r"\p{IsHex_Digit}",
    r"\p{IsPunctuation}",
    r"\p{javaLowerCase}",
    r"\p{javaWhitespace}",
    r"\p{javaISOControl}",
    r"\p{javaDigit}",
    r"\p{Nope}",
    r"\p{}",
    r"\p{Lu",
    r"\p",
    "(?i)abc",
    "(?i)é",
    "(?iu)é",
    "(?i)[a-c]",
    "(?i)[^a]",
    "(?i)[é]",
    "(?iu)[é]",
    "(?i)[A-z]",
    "(?i)[Z-a]",
    "(?i:a)b",
    "a(?i)b",
    "(a(?i)b)c",
    "(?i)(?-i)a",
    "(?s).",
    "(?d).",
    "(?m)^a$",
    "(?x) a b ",
    "(?x)a#c\nb",
    "(?x)[a b]",
    r"(?x)a\ b",
    "(?U)\\w",
    "(?U)\\d",
    "(?U)\\s",
    "(?U)\\p{Alpha}",
    "(?U)\\p{Punct}",
    "(?z)",
    "(?",
    "(?i",
    "(?i-)a",
    "(?-i)a",
    "(?<n>a)",
    "(?<n>a)(?<n>b)",
    "(?<1>a)",
    "(?<n",
    "(?:a)+",
    "(a",
    "a)",
    ")",
    "(?$)",
    "(?@)",
    r"\b",
    r".*\bb\b.*",
    r"a\Bb",
    r"\A/a\z",
    r"/a\Z",
    "^*a",
    "$*",
    "a$b",
    "a^b",
    "(?m)a$\nb",
    ".",
    "..",
    ".*",
    "a*?",
    "a+?",
    "a??",
    "a{1,2}?",
    "/content/*",
    "/content/**",
    "/a/(?!b).*",
    "(?=a)a",
    "(?<=a)b",
    "(?<!a)b",
    "(?>a)",
    r"(a)\1",
    r"(?<n>a)\k<n>",
    r"\k<n>",
    "a*+",
    "a++",
    "a?+",
    "a{2}+",
    r"\G",
    r"\R",
    r"\X",
    r"\b{g}",
    r"\N{LATIN SMALL LETTER A}",
    r"\p{InGreek}",
    "(?c)a",
    r"\p{IsLower}",
    r"\p{IsUpper}",
    r"\p{IsAlpha}",
    r"\p{IsDigit}",
    r"\p{IsSpace}",
    r"\p{IsPunct}",
    r"\p{IsAlnum}",
    r"\p{IsXDigit}",
    r"\p{IsCntrl}",
    r"\p{IsBlank}",
    r"\p{IsGraph}",
    r"\p{IsPrint}",
    r"\p{IsASCII}",
    r"\p{IsL1}",
    r"\p{IsLD}",
    r"\p{IsjavaDigit}",
    r"\p{ISLATIN}",
    r"\p{Islatin}",
    r"\p{Isletter}",
    r"\p{IsDIGIT}",
    r"(?i)\p{Lu}",
    r"(?iu)\p{Ll}",
    r"(?i)\p{Lt}",
    r"(?i)\p{gc=Lu}",
    r"(?i)\p{IsLu}",
    r"(?i)\p{Lower}",
    r"(?i)\p{Upper}",
    r"(?i)\p{IsLower}",
    r"(?iu)\p{Lower}",
    r"(?U)(?i)\p{Lower}",
    r"(?i)\p{javaLowerCase}",
    r"(?i)\p{javaTitleCase}",
    r"(?i)\p{IsUppercase}",
    r"(?i)\p{IsTitlecase}",
    r"(?i)\P{Lu}",
    r"(?i)[\p{Lu}1]",
    r"(?iu)[\w]",
    r"(?iu)\w",
    r"(?iu)i",
    r"(?iu)I",
    r"(?iu)k",
    r"(?iu)s",
    r"(?iu)[i]",
    r"(?iu)[k-l]",
    r"(?iu)[h-j]",
    r"(?iu)[ß]",
    r"(?iu)[ÿ]",
    r"(?iu)[µ]",
    r"(?iu)[å]",
    r"(?iu)å",
    r"(?iu)ǅ",
    r"(?iu)[ǅ]",
    r"(?iu)[a-z]+",
    r"(?iu)[^a-z]",
    r"(?i)[^a-z]",
    r"(?iu)[Ω]",
    r"(?iu)[\x{130}]",
    "(?-c)a",
    "[a-z&&[^aeiou]]+",
    "/content/dam/.*\\.(jpg|png)",
    ".*/rep:policy(/.*)?",
    "/apps/[^/]+/components(/.*)?",
    "/etc/acs-commons/lists/.*/jcr:content/list/item_\\d+",
];

/// Paths every pattern is matched against.
const PATHS: &[&str] = &[
    "",
    "/",
    "a",
    "b",
    "ab",
    "aab",
    "aB",
    "Ab",
    "AB",
    "abc",
    "ABC",
    "aBc",
    "a b",
    "ab\n",
    "a\nb",
    "a\rb",
    "a\u{85}b",
    "a\u{2028}b",
    "/a",
    "/a/",
    "/a/b",
    "/ab",
    "/a.b",
    "/aXb",
    "/a/b/c",
    "-",
    "]",
    "&",
    "^",
    "{",
    "}",
    "(",
    ".",
    "\\",
    "\\Q",
    "a]",
    "a}",
    "aa",
    "aaa",
    "e",
    "é",
    "É",
    "k",
    "K",
    "\u{212A}",
    "s",
    "S",
    "\u{17F}",
    "ß",
    "i",
    "I",
    "\u{130}",
    "\u{131}",
    "0",
    "5",
    "٣",
    "_",
    "\t",
    "\u{b}",
    "\u{a0}",
    "\u{1F600}",
    "A",
    "\u{1}",
    "\u{ff}",
    "\u{178}",
    "\u{b5}",
    "\u{39c}",
    "\u{3bc}",
    "Å",
    "\u{212B}",
    "ǅ",
    "Ǆ",
    "ǆ",
    "ω",
    "\u{2126}",
    "Ω",
    "/content//",
    "/content/dam/a.jpg",
    "/x/rep:policy",
    "/apps/site/components/x",
    "/etc/acs-commons/lists/x/jcr:content/list/item_12",
    "/a/c",
    "/a/bc",
    "a-b",
    "x",
    "aé",
    "b b",
];

/// Random patterns from a small alphabet (deterministic).
fn random_patterns(count: usize) -> Vec<String> {
    const ALPHABET: &[&str] = &[
        "a", "b", "/", ".", "*", "+", "?", "|", "(", ")", "[", "]", "^", "$", "-", "&&", "&", "{",
        "}", "{2}", "{1,2}", "\\", "\\d", "\\w", "\\Q", "\\E", "(?i)", "(?:", "[^", ",", "é",
        "\\p{L}", " ", "(?x)", "(?s)", "(?iu)", "(?-i)", "[a-z", "\\b", "\\s", "#", "\n", "\\x41",
        "\\u00e9", "\\0", "\\p{Lu}", "A", "\\.", "[[", "&&[", "\\v", "\\h", "(?<n>", "\\1",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = (next() % 7 + 1) as usize;
            (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect()
        })
        .collect()
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn translation_agrees_with_java_util_regex() {
    let java = std::env::var("JAVA").unwrap_or_else(|_| "java".to_string());
    let oracle = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/filter/RegexOracle.java"
    );
    let child = Command::new(&java)
        .arg(oracle)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!(
            "note: no JDK ('{java}') found; differential test against java.util.regex skipped"
        );
        return;
    };
    let mut patterns: Vec<String> = PATTERNS.iter().map(|s| s.to_string()).collect();
    patterns.extend(random_patterns(6000));
    let mut input = String::new();
    for pattern in &patterns {
        input.push_str(&hex(pattern));
        for path in PATHS {
            input.push(' ');
            input.push_str(&hex(path));
        }
        input.push('\n');
    }
    // Feed stdin from a thread so that neither side blocks on a full pipe.
    let writer = child.stdin.take().map(|mut stdin| {
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        })
    });
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    if !output.status.success() {
        eprintln!(
            "note: the JDK could not run the oracle ({}); differential test skipped",
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let feature: u32 = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let mut mismatches = Vec::new();
    let (mut compared, mut unsupported) = (0, 0);
    for (pattern, answer) in patterns.iter().zip(lines) {
        // Before JDK 19 `\b` used Unicode letters; jcrpack follows current JDKs.
        if feature < 19 && (pattern.contains("\\b") || pattern.contains("\\B")) {
            continue;
        }
        // Compiles but fails while matching (JDK 17 `[[a]b&&]`: NullPointerException);
        // jcrpack refuses such patterns, as current JDKs do.
        if answer.starts_with("C ") && answer.contains('X') {
            continue;
        }
        let ours = Pattern::new(pattern);
        match (answer.split_once(' '), &ours) {
            (Some(("E", _)), Ok(p)) => mismatches.push(format!(
                "{pattern:?}: Java rejects, jcrpack compiles to {}",
                p.translated()
            )),
            (Some(("E", _)), Err(e)) if !matches!(e.kind, PatternErrorKind::Syntax(_)) => {
                mismatches.push(format!("{pattern:?}: Java rejects, jcrpack says {e}"))
            }
            (Some(("E", _)), Err(_)) => compared += 1,
            (Some(("C", _)), Err(e)) if matches!(e.kind, PatternErrorKind::Syntax(_)) => {
                mismatches.push(format!("{pattern:?}: Java compiles, jcrpack says {e}"))
            }
            (Some(("C", _)), Err(_)) => unsupported += 1,
            (Some(("C", flags)), Ok(p)) => {
                compared += 1;
                for (path, flag) in PATHS.iter().zip(flags.chars()) {
                    let expected = match flag {
                        'T' => true,
                        'F' => false,
                        _ => continue,
                    };
                    if p.is_match(path) != expected {
                        mismatches.push(format!(
                            "{pattern:?} on {path:?}: Java {expected}, jcrpack {} ({})",
                            !expected,
                            p.translated()
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    eprintln!("JDK {feature}: {compared} patterns compared, {unsupported} unsupported by jcrpack");
    assert!(compared > 3000, "only {compared} patterns compared");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
