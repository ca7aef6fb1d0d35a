//! Tools for the reliability tests: a harness with chosen settings, raw TCP clients, small
//! misbehaving upstreams written against a bare socket, the `gateway` binary as a child process
//! (its own file-descriptor table and memory, measurable from `/proc`), and a panic watch.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Once};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::Harness;

/// GETs `path` and answers the status: the "other routes keep serving" check.
pub async fn status_of(h: &Harness, path: &str) -> u16 {
    h.http
        .get(h.url(path))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Sends `bytes` on a fresh connection and reads until the server closes it or `wait` passes.
pub async fn raw_exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> (String, bool) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    read_until_closed(&mut stream, wait).await
}

/// Everything the server sends until it closes (`true`) or `wait` passes (`false`).
pub async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> (String, bool) {
    let deadline = tokio::time::Instant::now() + wait;
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), false),
        }
    }
}

/// An address on loopback where nothing listens: bound, then released.
pub fn closed_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local address")
}

/// The status code of the first response in `text`.
pub fn status_line(text: &str) -> Option<u16> {
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// The body after the first blank line (for responses with a `Content-Length`).
pub fn body_of(text: &str) -> &str {
    text.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A fake upstream on `127.0.0.1:0`: every accepted connection is handed to `serve` on a
/// task of its own. It records how many connections it accepted.
pub struct FakeUpstream {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeUpstream {
    pub async fn start<F, Fut>(serve: F) -> FakeUpstream
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let serve = Arc::new(serve);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let serve = serve.clone();
                tokio::spawn(async move { serve(stream).await });
            }
        });
        FakeUpstream {
            addr,
            accepted,
            task,
        }
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads a request head (up to the blank line); answers what was read.
pub async fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    head
}

/// Reads one request: its head, then its `Content-Length` body. `None` when the connection
/// closed first.
pub async fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let head = read_head(stream).await;
    if head.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(body)
}

/// Closes with a TCP reset instead of an orderly FIN.
pub fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Counts panics on the gateway's and actix's threads (installed once, chained to the
/// default hook). A test compares the count before and after its faults.
pub fn panics() -> usize {
    static HOOK: Once = Once::new();
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("");
            if name.starts_with("actix") || name.starts_with("gateway") {
                COUNT.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
    COUNT.load(Ordering::SeqCst)
}

/// The `gateway` binary running as a child process, its addresses read from its own log.
pub struct ChildGateway {
    pub child: Child,
    pub proxy: SocketAddr,
    pub admin: SocketAddr,
    /// Every line it printed (stdout), collected by a reader thread.
    lines: mpsc::Receiver<String>,
    pub log: Vec<String>,
}

impl ChildGateway {
    /// Starts `gateway --declarative-config config` with `env` (`KONG_*` settings) added.
    pub fn start(config: &Path, env: &[(&str, &str)]) -> ChildGateway {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gateway"));
        cmd.arg("--declarative-config")
            .arg(config)
            .env("KONG_PROXY_LISTEN", "127.0.0.1:0")
            .env("KONG_ADMIN_LISTEN", "127.0.0.1:0")
            .env("KONG_LOG_LEVEL", "info")
            .env("KONG_DECLARATIVE_CONFIG_POLL_MS", "50")
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("gateway binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut gw = ChildGateway {
            child,
            proxy: "0.0.0.0:0".parse().unwrap(),
            admin: "0.0.0.0:0".parse().unwrap(),
            lines,
            log: Vec::new(),
        };
        gw.proxy = gw.listener("proxy");
        gw.admin = gw.listener("admin");
        gw
    }

    /// Waits for the `listening` line of `what` and parses its first address.
    fn listener(&mut self, what: &str) -> SocketAddr {
        let marker = format!("listener=\"{what}\"");
        let line = self
            .wait_for_line(Duration::from_secs(60), |l| {
                l.contains("listening") && l.contains(&marker)
            })
            .unwrap_or_else(|| panic!("no {what} listener line in {:?}", self.log));
        let start = line.find("addrs=[").expect("addrs field") + "addrs=[".len();
        let end = line[start..].find([',', ']']).expect("address end") + start;
        line[start..end].parse().expect("an address")
    }

    /// Collects output until a line satisfies `pred` (answered) or `wait` passes.
    pub fn wait_for_line(&mut self, wait: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        if let Some(l) = self.log.iter().find(|l| pred(l)) {
            return Some(l.clone());
        }
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = pred(&line);
                    self.log.push(line.clone());
                    if hit {
                        return Some(line);
                    }
                }
                Err(_) => return None,
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.proxy)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }

    /// Resident memory in KiB, from `/proc/PID/status`.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }

    /// Sends SIGTERM (through the `kill` utility: the crate forbids `unsafe`).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits up to `wait` for the process to exit; its exit code, or `None` if it did not.
    /// Sleeps asynchronously: servers of the test's own runtime keep answering meanwhile.
    pub async fn wait_exit(&mut self, wait: Duration) -> Option<i32> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status.code().unwrap_or(-1));
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Drains what the process printed so far into `log`.
    pub fn collect_log(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
    }
}

impl Drop for ChildGateway {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Resident memory of process `pid` in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The soft limit on open files of this process (from `/proc/self/limits`), first raised to the
/// hard limit: a fresh shell's soft limit is often 1024.
pub fn open_files_limit() -> u64 {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("open-files limit not raised: {e}");
    }
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// The value of the series `name{labels…}` in a `/metrics` text (0 when absent).
pub fn counter(metrics: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
