//! Instructions per request, counted by callgrind over a fixed number of sequential requests.
//! Unlike times, the count does not depend on what else the machine is doing, so it compares
//! builds across runs and machines of the same architecture. One gateway serves four routes to
//! the same mock with more and more plugins, which shows what each one costs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;

use crate::http;
use crate::load::Workload;
use crate::servers::{Gateway, Layout, Upstreams, WorkDir};
use crate::RunArgs;

/// The routes, each with the plugins of the one before and one more.
const STAGES: [(&str, &str); 4] = [
    ("bare", "no plugin"),
    ("mcp", "ai-mcp-proxy (log_statistics)"),
    ("prom", "+ prometheus (ai_metrics)"),
    ("full", "+ file-log (the benchmark's configuration)"),
];

#[derive(Debug, Serialize)]
pub struct Instructions {
    pub workload: Workload,
    pub stage: &'static str,
    pub requests: usize,
    /// Instructions executed by every thread of the gateway per request.
    pub per_request: f64,
}

pub async fn run(
    args: &RunArgs,
    work: &WorkDir,
    upstreams: &Upstreams,
) -> anyhow::Result<Option<Vec<Instructions>>> {
    let found = Command::new(&args.valgrind).arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        eprintln!("bench: valgrind not found; instruction counts skipped");
        return Ok(None);
    }
    let out = work.file("callgrind.out");
    let valgrind = args.valgrind.to_string_lossy().to_string();
    let out_flag = format!("--callgrind-out-file={}", out.display());
    let wrapper = [valgrind.as_str(), "--tool=callgrind", out_flag.as_str()];
    // One worker, unpinned: the count does not depend on placement.
    let layout = Layout {
        proxy_cpus: None,
        mock_cpus: None,
        load_cpus: None,
        workers: 1,
    };
    let config = staged_config(upstreams.load_addr, &work.file("callgrind-file-log.jsonl"));
    let gateway = Gateway::start_with(
        args,
        work,
        &layout,
        "gateway-callgrind",
        &config,
        Some(&wrapper),
    )?;
    let pid = gateway.proc.pid();
    let client = http::client()?;
    let mut results = Vec::new();
    for workload in Workload::ALL {
        for (stage, label) in STAGES {
            let n = args.callgrind_requests;
            let prefix = format!("/{stage}");
            requests(&client, &gateway, &prefix, workload, 50).await?;
            control(pid, "-z")?;
            requests(&client, &gateway, &prefix, workload, n).await?;
            control(pid, "-d")?;
            let per_request = latest_summary(&out)? as f64 / n as f64;
            eprintln!(
                "bench: callgrind {}, {label}: {per_request:.0} instructions per request",
                workload.label(),
            );
            results.push(Instructions {
                workload,
                stage: label,
                requests: n,
                per_request,
            });
        }
    }
    gateway.proc.stop();
    Ok(Some(results))
}

/// One service (the load mock), four routes, plugins scoped to routes.
fn staged_config(mock: SocketAddr, file_log: &Path) -> String {
    let mut yaml = format!(
        "_format_version: \"3.0\"\nservices:\n  - name: marketplace\n    url: http://{mock}\n    routes:\n"
    );
    for (stage, _) in STAGES {
        yaml += &format!("      - name: {stage}\n        paths:\n          - /{stage}\n");
    }
    yaml += "plugins:\n";
    for route in ["mcp", "prom", "full"] {
        yaml += &format!(
            "  - name: ai-mcp-proxy\n    route: {route}\n    config:\n      mode: passthrough-listener\n      max_request_body_size: 1048576\n      logging:\n        log_statistics: true\n"
        );
    }
    for route in ["prom", "full"] {
        yaml += &format!(
            "  - name: prometheus\n    route: {route}\n    config:\n      ai_metrics: true\n      status_code_metrics: true\n      latency_metrics: true\n"
        );
    }
    yaml += &format!(
        "  - name: file-log\n    route: full\n    config:\n      path: {}\n",
        file_log.display()
    );
    yaml
}

async fn requests(
    client: &reqwest::Client,
    gateway: &Gateway,
    prefix: &str,
    workload: Workload,
    n: usize,
) -> anyhow::Result<()> {
    for _ in 0..n {
        let request = match workload {
            Workload::ToolsCall => http::tools_call(
                client,
                &gateway.url(&format!("{prefix}{}", http::MCP_PATH)),
                "get_user",
                http::load_call_body(),
            ),
            Workload::RestGet => client.get(gateway.url(&format!("{prefix}{}", http::REST_PATH))),
        };
        let response = request.timeout(Duration::from_secs(30)).send().await?;
        if !response.status().is_success() {
            bail!("{}: {}", workload.label(), response.status());
        }
        response.bytes().await?;
    }
    Ok(())
}

fn control(pid: u32, flag: &str) -> anyhow::Result<()> {
    let status = Command::new("callgrind_control")
        .arg(flag)
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running callgrind_control")?;
    if !status.success() {
        bail!("callgrind_control {flag} {pid} failed");
    }
    Ok(())
}

/// The `summary:` total of the newest dump (`<out>.<n>`).
fn latest_summary(out: &Path) -> anyhow::Result<u64> {
    let dir = out.parent().context("dump directory")?;
    let prefix = format!(
        "{}.",
        out.file_name().and_then(|n| n.to_str()).unwrap_or_default()
    );
    let newest: PathBuf = std::fs::read_dir(dir)?
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().to_str()?.to_string();
            let n: u32 = name.strip_prefix(&prefix)?.parse().ok()?;
            Some((n, e.path()))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, p)| p)
        .context("no callgrind dump")?;
    let text = std::fs::read_to_string(&newest)?;
    text.lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .context("no summary line in the dump")?
        .trim()
        .parse()
        .context("summary")
}
