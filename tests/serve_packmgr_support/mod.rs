//! Shared by the `serve` tests: a `jcrpack serve` child on a free loopback port, a
//! raw HTTP/1.1 client (requests are replayed byte for byte), and small packages.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The jcrpack binary: this build's, or `$JCRPACK_SERVE_BIN` (the load test's
/// figures for a release build: `cargo build --release` and point it there).
pub fn bin() -> PathBuf {
    std::env::var_os("JCRPACK_SERVE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_jcrpack")))
}

/// Runs jcrpack with `args`, asserting success; returns stdout.
pub fn run(args: &[&str]) -> String {
    let out = Command::new(bin()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "jcrpack {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// How long [`Server::stop`] waits for the server to exit after SIGTERM: the
/// running install finishes or rolls back first, and a debug build's install of a
/// few thousand files on a loaded 2-core machine takes seconds, so generous, but
/// bounded: a server that hangs fails the test.
pub const STOP_ALLOWANCE: Duration = Duration::from_secs(120);

/// A running `jcrpack serve`.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub repo: PathBuf,
    pub dir: Option<tempfile::TempDir>,
}

impl Server {
    /// A new repository served on 127.0.0.1 with `extra` options.
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        run(&["init", repo.to_str().unwrap()]);
        Server::start_on(dir, repo, extra)
    }

    /// Serves an existing repository.
    pub fn start_on(dir: tempfile::TempDir, repo: PathBuf, extra: &[&str]) -> Server {
        Server::start_with(&bin(), dir, repo, extra)
    }

    /// Serves an existing repository with the jcrpack binary `exe`.
    pub fn start_with(exe: &Path, dir: tempfile::TempDir, repo: PathBuf, extra: &[&str]) -> Server {
        let mut child = Command::new(exe)
            .args([
                "serve",
                "--repo",
                repo.to_str().unwrap(),
                "--bind",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("serve did not start: {line}"))
            .to_string();
        // Keep draining stderr so the child never blocks on it.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = err.read_to_string(&mut sink);
        });
        Server {
            child,
            addr,
            repo,
            dir: Some(dir),
        }
    }

    /// `http://ADDR`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The repository path as a string.
    pub fn repo(&self) -> &str {
        self.repo.to_str().unwrap()
    }

    /// Sends SIGTERM and waits (at most [`STOP_ALLOWANCE`]); returns the exit
    /// status and the folder that holds the repository (kept until the caller
    /// drops it).
    pub fn stop(mut self) -> (std::process::ExitStatus, tempfile::TempDir) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let start = std::time::Instant::now();
        while start.elapsed() < STOP_ALLOWANCE {
            if let Some(s) = self.child.try_wait().unwrap() {
                return (s, self.dir.take().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("serve did not stop within {STOP_ALLOWANCE:?} of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` (bytes as a client sends them; `Connection: close` is the
/// caller's) and reads the whole response.
pub fn raw(addr: &str, request: &[u8]) -> Response {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(request).unwrap();
    let mut r = BufReader::new(s);
    read_response(&mut r, request.starts_with(b"HEAD "), true)
        .unwrap_or_else(|e| panic!("reading the response: {e}"))
}

/// Reads one response from `r`. `head`: the request was a HEAD (no body);
/// `to_end`: a body without length or chunks runs to the connection's end (else
/// such a response is an error: a kept-alive connection needs one or the other).
pub fn read_response(r: &mut impl BufRead, head: bool, to_end: bool) -> std::io::Result<Response> {
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let mut status_line = String::new();
    if r.read_line(&mut status_line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ));
    }
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l)?;
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header {l:?}")))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if head {
        // No body, whatever the headers say.
    } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16)
                .map_err(|_| bad(format!("bad chunk size {size:?}")))?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = get("content-length") {
        let n: usize = n
            .parse()
            .map_err(|_| bad(format!("bad content-length {n:?}")))?;
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else if to_end {
        r.read_to_end(&mut body)?;
    } else if status != 204 && status != 304 {
        return Err(bad(format!(
            "a {status} response without Content-Length or chunks on a kept-alive connection"
        )));
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// An HTTP/1.1 client connection kept alive between requests, as pyaem2's requests
/// session, the Maven and Gradle HTTP clients and browsers use one.
pub struct KeepAlive {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
    /// Connections opened so far (1 while the server keeps the first one open).
    pub opened: usize,
}

impl KeepAlive {
    /// A client for `addr`; it connects on its first request.
    pub fn new(addr: &str) -> KeepAlive {
        KeepAlive {
            addr: addr.to_string(),
            conn: None,
            opened: 0,
        }
    }

    /// Sends a request on the open connection (opening one when there is none) and
    /// reads its response. A connection the server closed while idle is reopened
    /// once, as HTTP clients retry an idempotent request; a response that says
    /// `Connection: close` closes it.
    pub fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &str,
        body: &[u8],
    ) -> std::io::Result<Response> {
        let mut req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\n{headers}",
            self.addr
        )
        .into_bytes();
        if !body.is_empty() || method == "POST" {
            req.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(body);
        let reused = self.conn.is_some();
        match self.send(&req, method == "HEAD") {
            Err(_) if reused && (method == "GET" || method == "HEAD") => {
                self.conn = None;
                self.send(&req, method == "HEAD")
            }
            r => r,
        }
    }

    fn send(&mut self, req: &[u8], head: bool) -> std::io::Result<Response> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.addr)?;
            s.set_read_timeout(Some(Duration::from_secs(60)))?;
            s.set_nodelay(true)?;
            self.conn = Some(BufReader::new(s));
            self.opened += 1;
        }
        let c = self.conn.as_mut().expect("connected above");
        let r = c
            .get_mut()
            .write_all(req)
            .and_then(|()| read_response(c, head, false));
        match &r {
            Ok(resp)
                if resp
                    .header("connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close")) =>
            {
                self.conn = None
            }
            Ok(_) => {}
            Err(_) => self.conn = None,
        }
        r
    }
}

/// `Authorization: Basic` for admin:admin.
pub const ADMIN: &str = "Authorization: Basic YWRtaW46YWRtaW4=\r\n";

/// A simple request with optional body.
pub fn request(addr: &str, method: &str, target: &str, headers: &str, body: &[u8]) -> Response {
    let mut req =
        format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}")
            .into_bytes();
    if !body.is_empty() || method == "POST" {
        req.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    req.extend_from_slice(body);
    raw(addr, &req)
}

/// A multipart part: `(name, filename, content type, bytes)`.
pub type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A multipart body of `parts`.
pub fn multipart(boundary: &str, parts: &[Part]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, filename, ctype, data) in parts {
        b.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => b.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n")
                    .as_bytes(),
            ),
            None => b.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes(),
            ),
        }
        if let Some(c) = ctype {
            b.extend_from_slice(format!("Content-Type: {c}\r\n").as_bytes());
        }
        b.extend_from_slice(b"\r\n");
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    b
}

/// A `service.jsp` upload as aemsync and the CQ scripts send it: a multipart
/// `file` part with the zip, then `fields` (`force`, `install`, `name`, …).
/// Returns the headers after the caller's `Authorization` and the body.
pub fn jsp_upload_request(zip: &[u8], fields: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let mut parts: Vec<Part> = vec![("file", Some("p.zip"), Some("application/zip"), zip)];
    parts.extend(fields.iter().map(|(k, v)| (*k, None, None, *v)));
    (
        "Content-Type: multipart/form-data; boundary=b\r\n".to_string(),
        multipart("b", &parts),
    )
}

/// POSTs [`jsp_upload_request`] to `/crx/packmgr/service.jsp` as `auth` (an
/// `Authorization` header line).
pub fn jsp_upload(addr: &str, auth: &str, zip: &[u8], fields: &[(&str, &[u8])]) -> Response {
    let (headers, body) = jsp_upload_request(zip, fields);
    request(
        addr,
        "POST",
        "/crx/packmgr/service.jsp",
        &format!("{auth}{headers}"),
        &body,
    )
}

/// `body` as HTTP/1.1 chunks of `size` bytes.
pub fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for c in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A content package zip: `properties.xml` with `group`/`name`/`version` (none
/// when `name` is empty), one filter root per entry of `roots`, and `files`
/// (`jcr_root/…` names and contents).
pub fn package(
    group: &str,
    name: &str,
    version: &str,
    roots: &[&str],
    files: &[(&str, &str)],
) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default();
        let mut filter = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<workspaceFilter version=\"1.0\">\n",
        );
        for r in roots {
            filter.push_str(&format!("    <filter root=\"{r}\"/>\n"));
        }
        filter.push_str("</workspaceFilter>\n");
        z.start_file("META-INF/vault/filter.xml", o).unwrap();
        z.write_all(filter.as_bytes()).unwrap();
        if !name.is_empty() {
            z.start_file("META-INF/vault/properties.xml", o).unwrap();
            z.write_all(format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<!DOCTYPE properties SYSTEM \"http://java.sun.com/dtd/properties.dtd\">\n<properties>\n<entry key=\"name\">{name}</entry>\n<entry key=\"version\">{version}</entry>\n<entry key=\"group\">{group}</entry>\n</properties>\n").as_bytes()).unwrap();
        }
        z.add_directory("jcr_root/", o).unwrap();
        for (n, c) in files {
            z.start_file(*n, o).unwrap();
            z.write_all(c.as_bytes()).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

/// Replaces every run of digits after `in ` and before `ms` and every CRX date
/// (`Fri, 04 Dec 2026 16:02:00 +0000`) with placeholders, as the reference's
/// vectors write them (`{N}`, `{ts}`).
pub fn mask(s: &str) -> String {
    let dates =
        regex::Regex::new(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}")
            .unwrap();
    let ms = regex::Regex::new(r" in \d+ms\.").unwrap();
    let s = dates.replace_all(s, "{ts}");
    ms.replace_all(&s, " in {N}ms.").into_owned()
}

/// `jcrpack dump --repo REPO PATH`, or `None` when the path has no node.
pub fn dump(repo: &str, path: &str) -> Option<String> {
    let out = Command::new(bin())
        .args(["dump", "--repo", repo, path])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `jcrpack history --repo REPO --json` as a JSON value.
pub fn history(repo: &str) -> serde_json::Value {
    serde_json::from_str(&run(&["history", "--repo", repo, "--json"])).unwrap()
}

/// A folder's path as UTF-8.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
