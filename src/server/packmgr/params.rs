//! A Package Manager request's parameters as Sling merges them: the query string,
//! an urlencoded body and the text parts of a multipart body, in that order (the
//! first value of a name wins). The package file is the part named `file`
//! (`service.jsp`) or `package` (`service/…`), whatever its filename or content
//! type; it is streamed to a temporary file (chunked bodies included), never held
//! in memory.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// The largest text parameter (a filter's JSON, a name).
const MAX_TEXT: usize = 1 << 20;

/// An uploaded package file.
#[derive(Debug)]
pub struct Upload {
    /// The part's name (`file` or `package`).
    pub field: String,
    /// The filename the client gave, if any.
    pub filename: Option<String>,
    /// The temporary file (removed when dropped).
    pub file: tempfile::TempPath,
    /// Its size in bytes.
    pub size: u64,
}

/// The merged parameters.
#[derive(Debug, Default)]
pub struct Params {
    /// Every parameter in arrival order (query first); an upload appears as its
    /// field name with the filename as value, as CRX echoes it.
    pub all: Vec<(String, String)>,
    /// The package file, if one was sent.
    pub upload: Option<Upload>,
}

impl Params {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.all
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is `true` (case-insensitive).
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The non-file parameters (for the XML echo the file is shown by its filename).
    pub fn echo(&self) -> &[(String, String)] {
        &self.all
    }
}

/// Why the parameters could not be read (answered 400).
#[derive(Debug)]
pub struct BadRequest(pub String);

/// The handlers' prologue as an extractor: after the user (the authentication
/// layer ran first), the merged parameters, or a malformed request answered 400
/// with the reason as text. Upload files go to the server's `tmp_dir`.
impl FromRequest<crate::server::state::AppState> for Params {
    type Rejection = axum::response::Response;

    async fn from_request(
        req: Request,
        state: &crate::server::state::AppState,
    ) -> Result<Params, Self::Rejection> {
        use axum::response::IntoResponse;
        read(req, &state.config().tmp_dir).await.map_err(|e| {
            (
                axum::http::StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "text/plain;charset=utf-8")],
                format!("{}\n", e.0),
            )
                .into_response()
        })
    }
}

/// Reads the parameters of `req`; file parts are written into `tmp`.
pub async fn read(req: Request, tmp: &Path) -> Result<Params, BadRequest> {
    let mut params = Params::default();
    if let Some(q) = req.uri().query() {
        params.all.extend(parse_urlencoded(q.as_bytes()));
    }
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| BadRequest(e.body_text()))?;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(BadRequest(e.body_text())),
            };
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(str::to_string);
            if (name == "file" || name == "package") && params.upload.is_none() {
                let upload = save(field, &name, filename.clone(), tmp).await?;
                params.all.push((name, filename.unwrap_or_default()));
                params.upload = Some(upload);
            } else {
                let mut field = field;
                let mut buf = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) => {
                            if buf.len() + c.len() > MAX_TEXT {
                                return Err(BadRequest(format!(
                                    "parameter '{name}' is longer than {MAX_TEXT} bytes"
                                )));
                            }
                            buf.extend_from_slice(&c);
                        }
                        Ok(None) => break,
                        Err(e) => return Err(BadRequest(e.body_text())),
                    }
                }
                params
                    .all
                    .push((name, String::from_utf8_lossy(&buf).into_owned()));
            }
        }
    } else if ctype.starts_with("application/x-www-form-urlencoded") {
        let body = axum::body::to_bytes(req.into_body(), MAX_TEXT)
            .await
            .map_err(|e| BadRequest(format!("reading the form: {e}")))?;
        params.all.extend(parse_urlencoded(&body));
    }
    Ok(params)
}

async fn save(
    mut field: axum::extract::multipart::Field<'_>,
    name: &str,
    filename: Option<String>,
    tmp: &Path,
) -> Result<Upload, BadRequest> {
    let io = |e: std::io::Error| BadRequest(format!("storing the upload: {e}"));
    let temp = tempfile::Builder::new()
        .prefix(".jcrpack-upload-")
        .tempfile_in(tmp)
        .map_err(io)?;
    let (file, path) = temp.into_parts();
    let mut file = tokio::fs::File::from_std(file);
    let mut size = 0u64;
    loop {
        match field.chunk().await {
            Ok(Some(c)) => {
                size += c.len() as u64;
                file.write_all(&c).await.map_err(io)?;
            }
            Ok(None) => break,
            Err(e) => return Err(BadRequest(e.body_text())),
        }
    }
    // Flushed, not synced: the file lives as long as the request, and the
    // repository syncs its own copy when the upload is stored.
    file.flush().await.map_err(io)?;
    Ok(Upload {
        field: name.to_string(),
        filename,
        file: path,
        size,
    })
}

/// `a=1&b=x%20y` (with `+` as space); a pair without `=` has an empty value.
pub fn parse_urlencoded(bytes: &[u8]) -> Vec<(String, String)> {
    bytes
        .split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => {
                let hex = std::str::from_utf8(&s[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_pairs() {
        assert_eq!(
            parse_urlencoded(b"cmd=install&recursive=true&acHandling=&x&a+b=c%2Fd%"),
            vec![
                ("cmd".into(), "install".into()),
                ("recursive".into(), "true".into()),
                ("acHandling".into(), "".into()),
                ("x".into(), "".into()),
                ("a b".into(), "c/d%".into()),
            ]
        );
        assert!(parse_urlencoded(b"").is_empty());
    }
}
