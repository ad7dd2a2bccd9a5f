//! What the backup API and page tests share: the example site in a repository
//! with a user and (optionally) a backup, `jcrpack serve` started on a free
//! loopback port (stopped when dropped), and a small HTTP/1.1 client.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "editor";
pub const PASSWORD: &str = "s3cret-Pass";
/// The page subtree the tests restore.
pub const EN: &str = "/content/wknd-lite/en";
/// A page below it that the editor deletes and the backup has.
pub const ABOUT: &str = "/content/wknd-lite/en/about";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jcrpack"))
}

/// Runs jcrpack with `args`, asserting success; returns stdout.
pub fn run(args: &[&str], stdin: Option<&str>) -> String {
    let mut c = Command::new(bin());
    c.args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("jcrpack runs");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "jcrpack {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `jcrpack dump --repo REPO PATH` finds the node.
pub fn has_node(repo: &Path, path: &str) -> bool {
    Command::new(bin())
        .args(["dump", "--repo"])
        .arg(repo)
        .arg(path)
        .output()
        .unwrap()
        .status
        .success()
}

/// A repository with the example site and the user `editor`.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
}

impl Site {
    pub fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let r = repo.to_str().unwrap();
        run(&["init", r], None);
        run(&["import", "fixtures/example", "--repo", r], None);
        run(
            &["user", "add", USER, "--repo", r, "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
        );
        Site { dir, repo }
    }

    pub fn r(&self) -> &str {
        self.repo.to_str().unwrap()
    }

    /// `jcrpack backup create` and the new id.
    pub fn backup(&self) -> String {
        run(&["backup", "create", "--repo", self.r()], None);
        let list: serde_json::Value = serde_json::from_str(&run(
            &["backup", "list", "--json", "--repo", self.r()],
            None,
        ))
        .unwrap();
        list["backups"].as_array().unwrap().last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The editor's mistake: the about page deleted.
    pub fn delete_about(&self) {
        run(&["rm", ABOUT, "--repo", self.r()], None);
    }
}

/// `jcrpack serve` on a free loopback port; killed when dropped.
/// Servers started by this process: each its own log file.
static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub log: PathBuf,
}

impl Server {
    /// Serves the site's repository on a port the server picks (`--bind
    /// 127.0.0.1:0`), read from its `listening on` line: a port chosen here and
    /// bound later could be taken meanwhile by another test, whose listener then
    /// answered the readiness probe while this server had failed to start.
    pub fn start(site: &Site) -> Server {
        let log = site.dir.path().join(format!(
            "serve-{}.log",
            SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let child = Command::new(bin())
            .args(["serve", "--repo", site.r(), "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(
                std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .expect("jcrpack serve starts");
        let mut s = Server {
            child,
            addr: String::new(),
            log,
        };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(&s.log).unwrap_or_default();
            if let Some(addr) = text
                .lines()
                .find_map(|l| l.strip_prefix("listening on http://"))
            {
                s.addr = addr.trim().to_string();
                break;
            }
            if let Ok(Some(st)) = s.child.try_wait() {
                panic!("jcrpack serve exited with {st}: {text}");
            }
            assert!(
                Instant::now() < until,
                "jcrpack serve did not say where it listens: {text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }
}

pub fn basic() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    )
}

/// One request with `Connection: close`; `headers` as given (add `basic()` for
/// auth).
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..eol])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
    out
}

/// A request as the user `editor` with HTTP Basic.
pub fn api(addr: &str, method: &str, path: &str, body: Option<&serde_json::Value>) -> Response {
    let auth = basic();
    match body {
        Some(b) => request(
            addr,
            method,
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            b.to_string().as_bytes(),
        ),
        None => request(addr, method, path, &[("Authorization", &auth)], b""),
    }
}

/// Polls a job until it is no longer running.
pub fn wait_job(addr: &str, id: u64) -> serde_json::Value {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let r = api(addr, "GET", &format!("/api/backups/jobs/{id}"), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let j = r.json();
        if j["state"] != "running" {
            return j;
        }
        assert!(Instant::now() < until, "job {id} still running: {j}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The subtree the test package installs (not in the example site).
pub const NEWS: &str = "/content/wknd-lite/news";
/// The test package's id and where the server keeps it.
pub const NEWS_PID: &str = "web-test:news:1.0";
pub const NEWS_ZIP: &str = "/etc/packages/web-test/news-1.0.zip";

/// A small content package (`web-test:news:1.0`) that adds [`NEWS`] with two
/// children.
pub fn news_package() -> Vec<u8> {
    use std::io::Write as _;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default();
        z.start_file("META-INF/vault/filter.xml", o).unwrap();
        z.write_all(
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<workspaceFilter version=\"1.0\">\n    <filter root=\"{NEWS}\"/>\n</workspaceFilter>\n")
                .as_bytes(),
        )
        .unwrap();
        z.start_file("META-INF/vault/properties.xml", o).unwrap();
        z.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<!DOCTYPE properties SYSTEM \"http://java.sun.com/dtd/properties.dtd\">\n<properties>\n<entry key=\"name\">news</entry>\n<entry key=\"version\">1.0</entry>\n<entry key=\"group\">web-test</entry>\n</properties>\n").unwrap();
        z.add_directory("jcr_root/", o).unwrap();
        z.start_file(
            format!("jcr_root{NEWS}/.content.xml").trim_start_matches('/'),
            o,
        )
        .unwrap();
        z.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<jcr:root xmlns:jcr=\"http://www.jcp.org/jcr/1.0\" xmlns:nt=\"http://www.jcp.org/jcr/nt/1.0\" jcr:primaryType=\"nt:unstructured\" title=\"News\">\n    <first jcr:primaryType=\"nt:unstructured\" text=\"First story\"/>\n    <second jcr:primaryType=\"nt:unstructured\" text=\"Second story\"/>\n</jcr:root>\n").unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

/// A `multipart/form-data` body with text `fields` and one file part; returns
/// the content type and the body.
pub fn multipart(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "----jcrpack-web-test-7d41";
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    let (name, filename, data) = file;
    b.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/zip\r\n\r\n")
            .as_bytes(),
    );
    b.extend_from_slice(data);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}
