//! Binary file contents of realistic kinds: images as incompressible random bytes
//! behind a real file signature, documents as compressible text.

use super::rng::Rng;
use super::text;

/// The kinds of binaries an asset has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// JPEG image: random bytes (already compressed data does not deflate).
    Jpeg,
    /// PNG image: random bytes.
    Png,
    /// PDF document: mostly text, compresses well.
    Pdf,
    /// SVG drawing: XML text, compresses well.
    Svg,
    /// Plain text / CSV: compresses well.
    Csv,
}

impl Kind {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
            Kind::Pdf => "pdf",
            Kind::Svg => "svg",
            Kind::Csv => "csv",
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Pdf => "application/pdf",
            Kind::Svg => "image/svg+xml",
            Kind::Csv => "text/csv",
        }
    }

    /// A kind drawn with realistic DAM frequencies (images dominate).
    pub fn draw(rng: &mut Rng) -> Kind {
        match rng.below(100) {
            0..=59 => Kind::Jpeg,
            60..=74 => Kind::Png,
            75..=84 => Kind::Pdf,
            85..=94 => Kind::Svg,
            _ => Kind::Csv,
        }
    }
}

/// `size` bytes of a file of kind `kind`.
pub fn content(rng: &mut Rng, kind: Kind, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    match kind {
        Kind::Jpeg => {
            out.extend_from_slice(
                b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00",
            );
            random_to(rng, &mut out, size.saturating_sub(2));
            out.extend_from_slice(b"\xff\xd9");
        }
        Kind::Png => {
            out.extend_from_slice(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR");
            random_to(rng, &mut out, size);
        }
        Kind::Pdf => {
            out.extend_from_slice(b"%PDF-1.7\n");
            let mut obj = 1;
            while out.len() < size {
                let line = format!(
                    "{obj} 0 obj\n<< /Type /Page /Contents [({})] >>\nendobj\n",
                    text::words(rng, obj % 3, 12)
                );
                out.extend_from_slice(line.as_bytes());
                obj += 1;
            }
        }
        Kind::Svg => {
            out.extend_from_slice(
                b"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 512 512\">\n",
            );
            while out.len() < size {
                let line = format!(
                    "  <path d=\"M{} {} L{} {} Z\" fill=\"#{:06x}\"/>\n",
                    rng.below(512),
                    rng.below(512),
                    rng.below(512),
                    rng.below(512),
                    rng.below(8) * 0x202020
                );
                out.extend_from_slice(line.as_bytes());
            }
        }
        Kind::Csv => {
            out.extend_from_slice(b"id;name;price;date\n");
            let mut id = 0;
            while out.len() < size {
                let line = format!(
                    "{id};{};{}.{:02};{}\n",
                    text::words(rng, id % 2, 2),
                    rng.below(500),
                    rng.below(100),
                    text::date(rng)
                );
                out.extend_from_slice(line.as_bytes());
                id += 1;
            }
        }
    }
    out.truncate(size.max(1));
    out
}

fn random_to(rng: &mut Rng, out: &mut Vec<u8>, size: usize) {
    let start = out.len();
    if size > start {
        out.resize(size, 0);
        rng.fill(&mut out[start..]);
    }
}
