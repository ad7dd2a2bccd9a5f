//! Whether an entry is worth deflating.
//!
//! Deflating data that is already compressed costs a lot of time (zlib-rs manages
//! 30-80 MB/s on random bytes against 500 on XML) and can even grow it (5.5 % at
//! level 1, shared/reference/deps.md G2). So the package writer stores such entries:
//! those whose name ends in a known compressed-format extension, and those whose first
//! bytes carry a compressed format's magic number (a `.binary` file holding a JPEG, say).

/// Extensions of formats that are already compressed (compared without case).
const COMPRESSED_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "zip", "jar", "gz", "tgz", "bz2", "xz", "7z", "mp3",
    "mp4", "m4v", "mov", "avi", "webm", "woff", "woff2", "pdf", "zst",
];

/// True when the entry should be stored rather than deflated: its name has a compressed
/// format's extension, or `head` (the first bytes, 16 are enough) starts with a
/// compressed format's magic number.
pub fn is_precompressed(name: &str, head: &[u8]) -> bool {
    has_compressed_extension(name) || has_compressed_magic(head)
}

/// True when `sample` (the start of an entry, up to 64 KiB are looked at) looks like
/// random bytes: its byte entropy is so close to 8 bits that deflate would save less
/// than a few percent, at 30-80 MB/s instead of 500. Deterministic: the same bytes give
/// the same answer, so package output stays reproducible. Samples under 1 KiB are
/// never judged (too noisy).
pub fn looks_incompressible(sample: &[u8]) -> bool {
    let sample = &sample[..sample.len().min(64 * 1024)];
    if sample.len() < 1024 {
        return false;
    }
    let mut counts = [0u32; 256];
    for &b in sample {
        counts[b as usize] += 1;
    }
    let n = sample.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum();
    // A uniform sample of n bytes falls short of 8 bits by about 255 / (2 n ln 2).
    let expected_shortfall = 255.0 / (2.0 * n * std::f64::consts::LN_2);
    entropy > 7.9 - expected_shortfall
}

/// True when the last segment of `name` ends in one of the known extensions.
pub(crate) fn has_compressed_extension(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => COMPRESSED_EXTENSIONS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(ext)),
        _ => false,
    }
}

/// True when `head` starts like a compressed file.
pub(crate) fn has_compressed_magic(head: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        &[0xFF, 0xD8, 0xFF],                         // JPEG
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A], // PNG
        b"GIF87a",
        b"GIF89a",
        &[b'P', b'K', 0x03, 0x04],             // zip, jar, docx, ...
        &[0x1F, 0x8B],                         // gzip
        b"BZh",                                // bzip2
        &[0xFD, b'7', b'z', b'X', b'Z', 0x00], // xz
        &[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C], // 7z
        &[0x28, 0xB5, 0x2F, 0xFD],             // zstd
        b"%PDF-",
        b"ID3",                    // mp3 with ID3 tag
        &[0x1A, 0x45, 0xDF, 0xA3], // webm, mkv
        b"wOFF",
        b"wOF2",
    ];
    if PREFIXES.iter().any(|p| head.starts_with(p)) {
        return true;
    }
    // RIFF containers: WEBP images, AVI video (WAV audio is not compressed).
    if head.len() >= 12 && head.starts_with(b"RIFF") {
        let kind = head.get(8..12).unwrap_or_default();
        if kind == b"WEBP" || kind == b"AVI " {
            return true;
        }
    }
    // ISO base media (mp4, m4v, mov, heic): a box size, then `ftyp`.
    if head.get(4..8) == Some(b"ftyp".as_slice()) {
        return true;
    }
    // An MPEG audio frame sync without an ID3 tag.
    matches!(head, [0xFF, second, ..] if second & 0xE0 == 0xE0 && *second != 0xFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_extension() {
        for name in [
            "a.jpg",
            "x/y/IMAGE.JPEG",
            "f.woff2",
            "pkg.zip",
            "doc.pdf",
            "a.tar.gz",
        ] {
            assert!(is_precompressed(name, b""), "{name}");
        }
        for name in [
            ".content.xml",
            "a.txt",
            "jpg",
            ".png",
            "x.jpg/y",
            "a.js",
            "a.pngx",
        ] {
            assert!(!is_precompressed(name, b"<?xml version"), "{name}");
        }
    }

    #[test]
    fn random_bytes_look_incompressible_and_text_does_not() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let random: Vec<u8> = (0..8192)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        assert!(looks_incompressible(&random));
        assert!(looks_incompressible(&random[..1024]));
        assert!(!looks_incompressible(&random[..512]));
        let text = "<jcr:root jcr:primaryType=\"nt:unstructured\" title=\"Hello\"/>\n".repeat(200);
        assert!(!looks_incompressible(text.as_bytes()));
        let zeros = vec![0u8; 8192];
        assert!(!looks_incompressible(&zeros));
    }

    #[test]
    fn by_magic_number() {
        let cases: &[&[u8]] = &[
            &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'],
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            b"GIF89a\x01\0",
            b"PK\x03\x04\x14\0",
            b"\x1f\x8b\x08\0",
            b"RIFF\0\0\0\0WEBPVP8 ",
            b"\0\0\0\x18ftypmp42",
            b"%PDF-1.7\n",
            b"wOF2\0\x01",
        ];
        for head in cases {
            assert!(
                is_precompressed("jcr_root/x/_jcr_data.binary", head),
                "{head:?}"
            );
        }
        for head in [&b"RIFF\0\0\0\0WAVEfmt "[..], b"<?xml", b"", b"\xff\xff\xff"] {
            assert!(!is_precompressed("a.binary", head), "{head:?}");
        }
    }
}
