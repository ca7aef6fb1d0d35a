//! Instructions per request, counted by callgrind over a fixed number of sequential requests.
//! Unlike times, the count does not depend on what else the machine is doing, so it compares
//! builds across runs and machines of the same architecture.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;

use crate::http;
use crate::load::Workload;
use crate::servers::{Gateway, Layout, Upstreams, WorkDir};
use crate::RunArgs;

#[derive(Debug, Serialize)]
pub struct Instructions {
    pub workload: Workload,
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
    let gateway = Gateway::start(
        args,
        work,
        &layout,
        upstreams,
        "gateway-callgrind",
        Some(&wrapper),
    )?;
    let pid = gateway.proc.pid();
    let client = http::client()?;
    let mut results = Vec::new();
    for workload in Workload::ALL {
        let n = args.callgrind_requests;
        requests(&client, &gateway, workload, 50).await?;
        control(pid, "-z")?;
        requests(&client, &gateway, workload, n).await?;
        control(pid, "-d")?;
        let total = latest_summary(&out)?;
        let per_request = total as f64 / n as f64;
        eprintln!(
            "bench: callgrind {}: {:.0} instructions per request",
            workload.label(),
            per_request
        );
        results.push(Instructions {
            workload,
            requests: n,
            per_request,
        });
    }
    gateway.proc.stop();
    Ok(Some(results))
}

async fn requests(
    client: &reqwest::Client,
    gateway: &Gateway,
    workload: Workload,
    n: usize,
) -> anyhow::Result<()> {
    for _ in 0..n {
        let request = match workload {
            Workload::ToolsCall => http::tools_call(
                client,
                &gateway.url("/marketplace/mcp"),
                "get_user",
                http::load_call_body(),
            ),
            Workload::RestGet => client.get(gateway.url("/marketplace/users")),
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
        .stdout(std::process::Stdio::null())
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
