//! The servers under test and their upstreams: the marketplace mocks, the gateway (with the
//! plugins of `config/observability.yaml`), nginx as a plain reverse proxy, and where each one
//! runs (CPU pinning).

use std::io::BufRead;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use mock_marketplace::{MockHandle, Options};

use crate::procs::{self, Pids, Proc};
use crate::RunArgs;

/// The scratch directory; removed at the end unless the user chose it.
pub struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    pub fn new(chosen: Option<PathBuf>) -> anyhow::Result<WorkDir> {
        let keep = chosen.is_some();
        let path = chosen.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("gateway-bench-{}", std::process::id()))
        });
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(WorkDir { path, keep })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Which CPUs each party runs on. Pinned (the default on two or more CPUs): both proxies run one
/// worker; under load the proxy under test has CPU 0 to itself while the mock, the load generator
/// and this process share CPU 1 (CPU 2 for the load generator when there is one); see
/// [`Layout::place`] for one connection. Unpinned: every process floats and both proxies run one
/// worker per CPU.
pub struct Layout {
    pub proxy_cpus: Option<String>,
    pub mock_cpus: Option<String>,
    pub load_cpus: Option<String>,
    /// Proxy workers for both the gateway and nginx.
    pub workers: usize,
}

impl Layout {
    pub fn new(pin: bool) -> anyhow::Result<Layout> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let has_taskset = Command::new("taskset")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !pin || cpus < 2 || !has_taskset {
            if pin {
                eprintln!("bench: not pinning (CPUs: {cpus}, taskset found: {has_taskset})");
            }
            return Ok(Layout {
                proxy_cpus: None,
                mock_cpus: None,
                load_cpus: None,
                workers: cpus,
            });
        }
        let load = if cpus >= 3 { "2" } else { "1" };
        let layout = Layout {
            proxy_cpus: Some("0".into()),
            mock_cpus: Some("1".into()),
            load_cpus: Some(load.into()),
            workers: 1,
        };
        // This process (stream and memory clients, the in-process mocks) stays off the proxy's CPU.
        let status = Command::new("taskset")
            .args(["-a", "-p", "-c", "1", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status()
            .context("taskset on the bench process")?;
        if !status.success() {
            bail!("taskset could not pin the bench process");
        }
        Ok(layout)
    }

    /// Moves the proxy under test for a load point: with one connection only one party is busy
    /// at a time, so all of them share the mock's CPU (no cross-CPU wake-up on every hop, which
    /// costs more than the work itself on small VMs); with more, the proxy has its own CPU.
    pub fn place(&self, pids: &Pids, connections: u32) -> anyhow::Result<()> {
        let cpus = if connections <= 1 {
            &self.mock_cpus
        } else {
            &self.proxy_cpus
        };
        let Some(cpus) = cpus else {
            return Ok(());
        };
        for pid in &pids.0 {
            let status = Command::new("taskset")
                .args(["-a", "-p", "-c", cpus, &pid.to_string()])
                .stdout(Stdio::null())
                .status()?;
            if !status.success() {
                bail!("taskset could not move process {pid} to CPU {cpus}");
            }
        }
        Ok(())
    }

    /// `program`, wrapped in `taskset -c CPUS` when `cpus` is set.
    pub fn command(cpus: &Option<String>, program: &Path) -> Command {
        match cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpus).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    pub fn describe(&self) -> String {
        match (&self.proxy_cpus, &self.mock_cpus, &self.load_cpus) {
            (Some(p), Some(m), Some(l)) => format!(
                "pinned with taskset, proxies with {} worker: at 1 connection everything on CPU {m} \
                 (one party busy at a time; no cross-CPU wake-ups); at more connections the proxy \
                 under test alone on CPU {p}, the mock on CPU {m}, wrk on CPU {l}; the stream and \
                 memory tests: gateway on CPU {p}, mocks and clients on CPU {m}",
                self.workers
            ),
            _ => format!(
                "not pinned; gateway and nginx run {} workers each",
                self.workers
            ),
        }
    }
}

/// A free loopback port (bound, then released for the server to take).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until `addr` accepts connections, failing early if the process exits.
pub fn wait_listening(proc: &mut Proc, addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        proc.check_alive()?;
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("nothing listening on {addr} after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `gateway-bench mock`: the mock on loopback with recording off; prints its URL, then serves
/// until the process is terminated.
pub async fn serve_mock(port: u16) -> anyhow::Result<()> {
    let mock =
        mock_marketplace::spawn_on(SocketAddr::from(([127, 0, 0, 1], port)), Options::default())
            .await?;
    mock.state().set_recording(false);
    println!("{}", mock.url());
    use std::io::Write;
    std::io::stdout().flush()?;
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Every upstream of a run: the load mock in its own (pinned) process, and in-process mocks for
/// the stream and memory tests.
pub struct Upstreams {
    pub load: Proc,
    pub load_addr: SocketAddr,
    /// SSE answers: progress events, then a delayed result (time to first event).
    pub sse: MockHandle,
    /// Legacy sessions with GET streams.
    pub stateful: MockHandle,
    /// SSE answers whose stream stays open after its first progress event.
    pub held: MockHandle,
    /// `list_orders` padded to the large response size.
    pub large: MockHandle,
}

/// The SSE mock's plan: `TTFE_PROGRESS` progress events `TTFE_INTERVAL_MS` apart, then the result
/// after `TTFE_DELAY_MS`.
pub const TTFE_PROGRESS: u32 = 2;
pub const TTFE_INTERVAL_MS: u64 = 10;
pub const TTFE_DELAY_MS: u64 = 10;

impl Upstreams {
    pub async fn start(work: &WorkDir, layout: &Layout, args: &RunArgs) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating gateway-bench")?;
        let mut command = Layout::command(&layout.mock_cpus, &exe);
        command
            .args(["mock", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(work.file("mock.log"))?);
        let mut load = Proc::spawn(command, "mock")?;
        let stdout = load.child_mut().stdout.take().context("mock stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading the mock's URL")?;
        let load_addr: SocketAddr = line
            .trim()
            .trim_start_matches("http://")
            .parse()
            .with_context(|| format!("the mock printed {line:?}"))?;

        let quiet = |options: Options| async move {
            let mock = mock_marketplace::spawn(options).await?;
            mock.state().set_recording(false);
            anyhow::Ok(mock)
        };
        let sse = quiet(Options {
            sse: true,
            progress: TTFE_PROGRESS,
            progress_interval: Duration::from_millis(TTFE_INTERVAL_MS),
            delay: Some(Duration::from_millis(TTFE_DELAY_MS)),
            ..Options::default()
        })
        .await?;
        let stateful = quiet(Options {
            stateful: true,
            keep_alive: Duration::from_secs(600),
            ..Options::default()
        })
        .await?;
        let held = quiet(Options {
            sse: true,
            progress: 2,
            progress_interval: Duration::from_secs(600),
            ..Options::default()
        })
        .await?;
        let large = quiet(Options {
            large_result: Some(args.large_response),
            ..Options::default()
        })
        .await?;
        Ok(Upstreams {
            load,
            load_addr,
            sse,
            stateful,
            held,
            large,
        })
    }

    pub fn load_pids(&self) -> Pids {
        Pids(vec![self.load.pid()])
    }

    pub fn stop(self) {
        self.load.stop();
    }

    /// The gateway's declarative configuration: one service per upstream, and the plugins of
    /// `config/observability.yaml` (ai-mcp-proxy passthrough with statistics, prometheus with
    /// ai_metrics, file-log).
    pub fn kong_yaml(&self, file_log: &Path) -> String {
        let service = |name: &str, addr: SocketAddr, path: &str| {
            format!(
                "  - name: {name}\n    url: http://{addr}\n    routes:\n      - name: {name}-route\n        paths:\n          - {path}\n"
            )
        };
        let mut yaml = String::from("_format_version: \"3.0\"\nservices:\n");
        yaml += &service("marketplace", self.load_addr, "/marketplace");
        yaml += &service("sse", self.sse.addr(), "/sse");
        yaml += &service("stream", self.stateful.addr(), "/stream");
        yaml += &service("held", self.held.addr(), "/held");
        yaml += &service("large", self.large.addr(), "/large");
        yaml += &format!(
            r#"plugins:
  - name: ai-mcp-proxy
    config:
      mode: passthrough-listener
      max_request_body_size: 1048576
      logging:
        log_statistics: true
  - name: prometheus
    config:
      ai_metrics: true
      status_code_metrics: true
      latency_metrics: true
  - name: file-log
    config:
      path: {}
"#,
            file_log.display()
        );
        yaml
    }
}

/// A gateway process.
pub struct Gateway {
    pub proc: Proc,
    pub addr: SocketAddr,
    /// Its file-log file, when it runs the run's configuration ([`Gateway::start`]).
    pub file_log: Option<PathBuf>,
}

impl Gateway {
    /// Starts `gateway` on fresh ports with the run's configuration.
    pub fn start(
        args: &RunArgs,
        work: &WorkDir,
        layout: &Layout,
        upstreams: &Upstreams,
        name: &str,
    ) -> anyhow::Result<Gateway> {
        let file_log = work.file(&format!("{name}-file-log.jsonl"));
        let config = upstreams.kong_yaml(&file_log);
        let mut gateway = Gateway::start_with(args, work, layout, name, &config, None)?;
        gateway.file_log = Some(file_log);
        Ok(gateway)
    }

    /// Starts `gateway` on fresh ports with `config` (a decK file); `wrapper` runs it under
    /// another program (valgrind). The log level is the default whatever the environment says.
    pub fn start_with(
        args: &RunArgs,
        work: &WorkDir,
        layout: &Layout,
        name: &str,
        config: &str,
        wrapper: Option<&[&str]>,
    ) -> anyhow::Result<Gateway> {
        let yaml = work.file(&format!("{name}.yaml"));
        std::fs::write(&yaml, config)?;
        let port = free_port()?;
        let admin = free_port()?;
        let mut command = match wrapper {
            Some(w) => {
                let mut c = Layout::command(&layout.proxy_cpus, Path::new(w[0]));
                c.args(&w[1..]).arg(&args.gateway);
                c
            }
            None => Layout::command(&layout.proxy_cpus, &args.gateway),
        };
        command
            .env_remove("RUST_LOG")
            .env("KONG_LOG_LEVEL", "notice")
            .env("KONG_DECLARATIVE_CONFIG", &yaml)
            .env("KONG_PROXY_LISTEN", format!("127.0.0.1:{port}"))
            .env("KONG_ADMIN_LISTEN", format!("127.0.0.1:{admin}"))
            .env("KONG_STATUS_LISTEN", "off")
            .env("KONG_WORKER_PROCESSES", layout.workers.to_string())
            .env("KONG_PREFIX", work.file(&format!("{name}-prefix")))
            .stdout(std::fs::File::create(work.file(&format!("{name}.log")))?)
            .stderr(std::fs::File::create(work.file(&format!("{name}.err")))?);
        let mut proc = Proc::spawn(command, name)?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let timeout = Duration::from_secs(if wrapper.is_some() { 180 } else { 20 });
        wait_listening(&mut proc, addr, timeout).with_context(|| {
            let err = work.file(&format!("{name}.err"));
            format!(
                "starting {name}; the end of its stderr:\n{}",
                procs::tail(&err, 20)
            )
        })?;
        Ok(Gateway {
            proc,
            addr,
            file_log: None,
        })
    }

    /// Empties its file-log file (the gateway appends, so it goes on at the new end): the load
    /// points write gigabytes of lines, which no one reads.
    pub fn truncate_file_log(&self) -> anyhow::Result<()> {
        match &self.file_log {
            Some(path) => truncate(path),
            None => Ok(()),
        }
    }

    pub fn pids(&self) -> Pids {
        Pids(vec![self.proc.pid()])
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Empties the file at `path`; nothing to do when there is none yet.
fn truncate(path: &Path) -> anyhow::Result<()> {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(file) => Ok(file.set_len(0)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("truncating {}", path.display())),
    }
}

/// nginx as a plain reverse proxy to the load mock, with upstream keepalive: one server with the
/// usual forwarding headers (`addr`), and one that sends the upstream the headers the gateway
/// sends, Kong's (`kong_addr`), so that the upstream parses the same request behind both.
pub struct Nginx {
    pub proc: Proc,
    pub addr: SocketAddr,
    pub kong_addr: SocketAddr,
    pub pids: Pids,
}

/// The forwarding headers of a conventional nginx reverse proxy (besides `Host`).
pub const PLAIN_UPSTREAM_HEADERS: [(&str, &str); 3] = [
    ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
    ("X-Forwarded-Proto", "$scheme"),
    ("X-Real-IP", "$remote_addr"),
];

/// The headers Kong adds upstream (besides `Host`), as nginx's `kong` server sets them: the
/// gateway's set, checked against what it sends by [`crate::load`] before every run.
pub const KONG_UPSTREAM_HEADERS: [(&str, &str); 8] = [
    ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
    ("X-Forwarded-Proto", "$scheme"),
    ("X-Forwarded-Host", "$host"),
    ("X-Forwarded-Port", "$server_port"),
    ("X-Forwarded-Path", "$request_uri"),
    ("X-Forwarded-Prefix", "/marketplace"),
    ("X-Real-IP", "$remote_addr"),
    ("X-Kong-Request-Id", "$request_id"),
];

impl Nginx {
    pub fn start(
        args: &RunArgs,
        work: &WorkDir,
        layout: &Layout,
        upstream: SocketAddr,
        name: &str,
    ) -> anyhow::Result<Nginx> {
        let dir = work.file(name);
        std::fs::create_dir_all(dir.join("logs"))?;
        let port = free_port()?;
        let kong_port = free_port()?;
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            nginx_conf(&dir, port, kong_port, upstream, layout.workers),
        )?;
        let mut command = Layout::command(&layout.proxy_cpus, &args.nginx);
        command
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("logs/error.log"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("logs/stderr.log"))?);
        let mut proc = Proc::spawn(command, "nginx")?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let kong_addr = SocketAddr::from(([127, 0, 0, 1], kong_port));
        for listening in [addr, kong_addr] {
            wait_listening(&mut proc, listening, Duration::from_secs(10)).with_context(|| {
                let log = procs::read_trimmed(&dir.join("logs/error.log")).unwrap_or_default();
                format!("starting nginx: {log}")
            })?;
        }
        let master = proc.pid();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut workers = procs::children(master);
        while workers.len() < layout.workers && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            workers = procs::children(master);
        }
        let mut pids = vec![master];
        pids.extend(workers);
        Ok(Nginx {
            proc,
            addr,
            kong_addr,
            pids: Pids(pids),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `path` on the server that sends Kong's upstream headers.
    pub fn kong_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.kong_addr)
    }
}

/// A conventional reverse-proxy configuration: HTTP/1.1 and a keepalive pool to the upstream,
/// the default access log, nothing tuned away. The server on `port` sets the usual forwarding
/// headers ([`PLAIN_UPSTREAM_HEADERS`]); the one on `kong_port` sets Kong's
/// ([`KONG_UPSTREAM_HEADERS`]).
fn nginx_conf(
    dir: &Path,
    port: u16,
    kong_port: u16,
    upstream: SocketAddr,
    workers: usize,
) -> String {
    let d = dir.display();
    let server = |port: u16, headers: &[(&str, &str)]| {
        let mut set = String::new();
        for (name, value) in headers {
            set += &format!("            proxy_set_header {name} {value};\n");
        }
        format!(
            r#"    server {{
        listen 127.0.0.1:{port};
        location /marketplace/ {{
            proxy_pass http://mock/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
{set}        }}
    }}
"#
        )
    };
    let plain = server(port, &PLAIN_UPSTREAM_HEADERS);
    let kong = server(kong_port, &KONG_UPSTREAM_HEADERS);
    format!(
        r#"worker_processes {workers};
pid {d}/nginx.pid;
events {{
    worker_connections 4096;
}}
http {{
    access_log {d}/logs/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    upstream mock {{
        server {upstream};
        keepalive 64;
        keepalive_requests 1000000;
    }}
{plain}{kong}}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncating_empties_the_file_and_appending_goes_on_at_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        truncate(&path).expect("no file yet: nothing to do");
        let mut writer = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut writer, b"first line\n").unwrap();
        truncate(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        std::io::Write::write_all(&mut writer, b"next\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"next\n");
    }
}
