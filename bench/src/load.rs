//! Throughput, latency, CPU and memory under wrk: the mock directly, through the gateway and
//! through nginx (twice: with the usual forwarding headers, and sending the upstream the same
//! headers as the gateway), for each workload and connection count. The targets of one point run
//! back to back so that they share the machine's conditions, and take turns for several rounds:
//! a drift of the machine's speed (other tenants, frequency) then falls on all of them alike, and
//! each reports its median round.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use mock_marketplace::Options;
use serde::{Deserialize, Serialize};

use crate::http;
use crate::procs::{self, Pids};
use crate::servers::{Gateway, Layout, Nginx, Upstreams, WorkDir};
use crate::RunArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Target {
    Direct,
    Gateway,
    Nginx,
    /// nginx sending the upstream Kong's headers, as the gateway does.
    NginxKong,
}

impl Target {
    pub fn label(self) -> &'static str {
        match self {
            Target::Direct => "direct",
            Target::Gateway => "gateway",
            Target::Nginx => "nginx",
            Target::NginxKong => "nginx, Kong's headers",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Workload {
    ToolsCall,
    RestGet,
}

impl Workload {
    pub const ALL: [Workload; 2] = [Workload::ToolsCall, Workload::RestGet];

    pub fn label(self) -> &'static str {
        match self {
            Workload::ToolsCall => "MCP tools/call (2026-07-28, no session)",
            Workload::RestGet => "REST GET /users",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Workload::ToolsCall => http::MCP_PATH,
            Workload::RestGet => http::REST_PATH,
        }
    }
}

/// One measured point.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub target: Target,
    pub workload: Workload,
    pub connections: u32,
    pub requests: u64,
    pub seconds: f64,
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    /// Socket errors and non-2xx/3xx answers seen by wrk.
    pub errors: u64,
    /// CPU (user + system) of the proxy's processes per request, µs (none for direct).
    pub proxy_cpu_us: Option<f64>,
    /// Of the gateway's CPU per request: what its busiest thread (the proxy worker) did not
    /// spend, µs: the telemetry actor writing log lines, mostly.
    pub gateway_other_threads_cpu_us: Option<f64>,
    /// CPU of the mock per request, µs.
    pub mock_cpu_us: f64,
    /// Peak resident set of the proxy's processes during the point, KiB.
    pub proxy_peak_kib: Option<u64>,
    pub mock_peak_kib: u64,
    /// Requests per second of every round of this point, in the order they ran; the point's
    /// other figures are those of its median round.
    pub rounds_rps: Vec<f64>,
}

#[cfg(test)]
impl Point {
    /// A point of one second at 32 connections with `rps` requests, every other figure zero
    /// or absent: tests set what they look at.
    pub(crate) fn sample(target: Target, workload: Workload, rps: f64) -> Point {
        Point {
            target,
            workload,
            connections: 32,
            requests: rps as u64,
            seconds: 1.0,
            rps,
            p50_us: 0.0,
            p99_us: 0.0,
            p999_us: 0.0,
            max_us: 0.0,
            errors: 0,
            proxy_cpu_us: None,
            gateway_other_threads_cpu_us: None,
            mock_cpu_us: 0.0,
            proxy_peak_kib: None,
            mock_peak_kib: 0,
            rounds_rps: Vec::new(),
        }
    }
}

/// What wrk's `done()` hook prints.
#[derive(Debug, Deserialize)]
struct WrkSummary {
    requests: u64,
    duration_us: u64,
    errors: u64,
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
}

#[derive(Debug, Serialize)]
pub struct LoadResults {
    pub points: Vec<Point>,
    pub rounds: usize,
    pub duration_s: u64,
    pub warmup_s: u64,
}

impl LoadResults {
    pub fn find(&self, target: Target, workload: Workload, connections: u32) -> Option<&Point> {
        self.points
            .iter()
            .find(|p| p.target == target && p.workload == workload && p.connections == connections)
    }
}

struct Server<'a> {
    target: Target,
    base: String,
    pids: Option<&'a Pids>,
}

pub async fn run(
    args: &RunArgs,
    work: &WorkDir,
    layout: &Layout,
    upstreams: &Upstreams,
) -> anyhow::Result<LoadResults> {
    check_header_parity(args, work, layout).await?;
    let gateway = Gateway::start(args, work, layout, upstreams, "gateway-load")?;
    let nginx = Nginx::start(args, work, layout, upstreams.load_addr, "nginx")?;
    let gateway_pids = gateway.pids();
    let servers = [
        Server {
            target: Target::Direct,
            base: format!("http://{}", upstreams.load_addr),
            pids: None,
        },
        Server {
            target: Target::Gateway,
            base: gateway.url("/marketplace"),
            pids: Some(&gateway_pids),
        },
        Server {
            target: Target::Nginx,
            base: nginx.url("/marketplace"),
            pids: Some(&nginx.pids),
        },
        Server {
            target: Target::NginxKong,
            base: nginx.kong_url("/marketplace"),
            pids: Some(&nginx.pids),
        },
    ];
    check_targets(&servers).await?;
    let scripts = write_scripts(work)?;
    let mock = upstreams.load_pids();
    let ticks = procs::clock_ticks_per_second() as f64;
    let mut points = Vec::new();
    let rounds = args.rounds.max(1);
    for &connections in &args.connections {
        for workload in Workload::ALL {
            let mut measured: Vec<Vec<Point>> = vec![Vec::new(); servers.len()];
            for round in 0..rounds {
                for (index, server) in servers.iter().enumerate() {
                    let url = format!("{}{}", server.base, workload.path());
                    let script = match workload {
                        Workload::ToolsCall => &scripts.0,
                        Workload::RestGet => &scripts.1,
                    };
                    if let Some(pids) = server.pids {
                        layout.place(pids, connections)?;
                    }
                    let warmup = round_warmup(args.warmup, round);
                    wrk(args, layout, script, &url, connections, warmup)?;
                    let threads_before = match server.target {
                        Target::Gateway => Some(procs::thread_ticks(gateway_pids.0[0])?),
                        _ => None,
                    };
                    let proxy_before = server.pids.map(|p| p.cpu_ticks()).transpose()?;
                    let mock_before = mock.cpu_ticks()?;
                    if let Some(p) = server.pids {
                        p.reset_peak()?;
                    }
                    mock.reset_peak()?;
                    let summary = wrk(args, layout, script, &url, connections, args.duration)?;
                    let proxy_after = server.pids.map(|p| p.cpu_ticks()).transpose()?;
                    let others = match threads_before {
                        Some(before) => Some(others_than_busiest(
                            &before,
                            &procs::thread_ticks(gateway_pids.0[0])?,
                        )),
                        None => None,
                    };
                    let mock_after = mock.cpu_ticks()?;
                    let per_request = |ticks_used: u64| {
                        ticks_used as f64 / ticks * 1e6 / summary.requests.max(1) as f64
                    };
                    let seconds = summary.duration_us as f64 / 1e6;
                    let point = Point {
                        target: server.target,
                        workload,
                        connections,
                        requests: summary.requests,
                        seconds,
                        rps: summary.requests as f64 / seconds.max(1e-9),
                        p50_us: summary.p50,
                        p99_us: summary.p99,
                        p999_us: summary.p999,
                        max_us: summary.max,
                        errors: summary.errors,
                        proxy_cpu_us: proxy_before
                            .zip(proxy_after)
                            .map(|(b, a)| per_request(a - b)),
                        gateway_other_threads_cpu_us: others.map(per_request),
                        mock_cpu_us: per_request(mock_after - mock_before),
                        proxy_peak_kib: server.pids.map(|p| p.peak_rss_kib()).transpose()?,
                        mock_peak_kib: mock.peak_rss_kib()?,
                        rounds_rps: Vec::new(),
                    };
                    eprintln!(
                    "bench: round {} {:<21} {:<38} c={:<3} {:>9.0} req/s  p50 {:>6.0} µs  p99 {:>6.0} µs  p99.9 {:>6.0} µs  errors {}",
                    round + 1,
                    server.target.label(),
                    workload.label(),
                    connections,
                    point.rps,
                    point.p50_us,
                    point.p99_us,
                    point.p999_us,
                    point.errors
                );
                    measured[index].push(point);
                    if server.target == Target::Gateway {
                        gateway.truncate_file_log()?;
                    }
                }
            }
            points.extend(measured.into_iter().map(median_round));
        }
    }
    gateway.proc.stop();
    nginx.proc.stop();
    Ok(LoadResults {
        points,
        rounds,
        duration_s: args.duration,
        warmup_s: args.warmup,
    })
}

/// Seconds of warm-up before a run of `round` (from 0): later rounds find the connections'
/// paths warm, so half of `warmup`.
pub fn round_warmup(warmup: u64, round: usize) -> u64 {
    if round == 0 {
        warmup
    } else {
        warmup.div_ceil(2)
    }
}

/// The round of median throughput (the lower middle of an even count), with every round's
/// throughput, the sum of their errors (a failed request in any round shows) and the highest
/// peak memory of any round.
fn median_round(rounds: Vec<Point>) -> Point {
    let rounds_rps: Vec<f64> = rounds.iter().map(|p| p.rps).collect();
    let errors = rounds.iter().map(|p| p.errors).sum();
    let proxy_peak_kib = rounds.iter().filter_map(|p| p.proxy_peak_kib).max();
    let mock_peak_kib = rounds
        .iter()
        .map(|p| p.mock_peak_kib)
        .max()
        .unwrap_or_default();
    let mut by_rps = rounds;
    by_rps.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    let mut median = by_rps.swap_remove((by_rps.len() - 1) / 2);
    median.rounds_rps = rounds_rps;
    median.errors = errors;
    median.proxy_peak_kib = proxy_peak_kib;
    median.mock_peak_kib = mock_peak_kib;
    median
}

/// Ticks used by every thread but the busiest one between two samples.
fn others_than_busiest(before: &HashMap<u32, u64>, after: &HashMap<u32, u64>) -> u64 {
    let used: Vec<u64> = after
        .iter()
        .map(|(tid, t)| t.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .collect();
    used.iter().sum::<u64>() - used.iter().max().copied().unwrap_or(0)
}

/// The gateway and nginx's Kong server send the upstream the same header names for the same
/// request, so that the upstream's share compares like for like: checked on an in-process
/// recording mock, before anything is measured.
async fn check_header_parity(
    args: &RunArgs,
    work: &WorkDir,
    layout: &Layout,
) -> anyhow::Result<()> {
    let mock = mock_marketplace::spawn(Options::default()).await?;
    let config = format!(
        "_format_version: \"3.0\"\nservices:\n  - name: check\n    url: {}\n    routes:\n      - name: check-route\n        paths:\n          - /marketplace\n",
        mock.url()
    );
    let gateway = Gateway::start_with(args, work, layout, "gateway-headers", &config, None)?;
    let nginx = Nginx::start(args, work, layout, mock.addr(), "nginx-headers")?;
    let client = http::client()?;
    let mut names = Vec::new();
    for url in [
        gateway.url("/marketplace/users"),
        nginx.kong_url("/marketplace/users"),
    ] {
        mock.state().clear_requests();
        let answer = client.get(&url).send().await?;
        if !answer.status().is_success() {
            bail!("GET {url}: {}", answer.status());
        }
        let requests = mock.state().requests();
        let [request] = requests.as_slice() else {
            bail!(
                "GET {url}: the mock saw {} requests, not one",
                requests.len()
            );
        };
        names.push(header_names(request));
    }
    gateway.proc.stop();
    nginx.proc.stop();
    if names[0] != names[1] {
        bail!(
            "nginx's Kong server and the gateway send different headers upstream: only the \
             gateway {:?}, only nginx {:?} (servers::KONG_UPSTREAM_HEADERS)",
            names[0].difference(&names[1]).collect::<Vec<_>>(),
            names[1].difference(&names[0]).collect::<Vec<_>>()
        );
    }
    Ok(())
}

fn header_names(request: &mock_marketplace::RecordedRequest) -> BTreeSet<String> {
    request
        .headers
        .iter()
        .map(|(name, _)| name.clone())
        .collect()
}

/// Every target answers both workloads correctly before anything is measured.
async fn check_targets(servers: &[Server<'_>]) -> anyhow::Result<()> {
    let client = http::client()?;
    for server in servers {
        let what = server.target.label();
        http::check(
            http::tools_call(
                &client,
                &format!("{}{}", server.base, http::MCP_PATH),
                "get_user",
                http::load_call_body(),
            ),
            "Alice Johnson",
            &format!("{what} tools/call"),
        )
        .await?;
        http::check(
            client.get(format!("{}{}", server.base, http::REST_PATH)),
            "Julia Turner",
            &format!("{what} REST GET"),
        )
        .await?;
    }
    Ok(())
}

/// The wrk scripts: request setup, and a `done()` that prints the summary as JSON.
fn write_scripts(work: &WorkDir) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    let done = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":%d,"p50":%d,"p99":%d,"p999":%d,"max":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
"#;
    let lua_string = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"));
    let mut post = String::from("wrk.method = \"POST\"\n");
    post += &format!("wrk.body = {}\n", lua_string(&http::load_call_body()));
    for (name, value) in http::tools_call_headers("get_user") {
        post += &format!(
            "wrk.headers[{}] = {}\n",
            lua_string(name),
            lua_string(&value)
        );
    }
    post += done;
    let get = format!("wrk.method = \"GET\"\n{done}");
    let post_path = work.file("tools_call.lua");
    let get_path = work.file("rest_get.lua");
    std::fs::write(&post_path, post)?;
    std::fs::write(&get_path, get)?;
    Ok((post_path, get_path))
}

fn wrk(
    args: &RunArgs,
    layout: &Layout,
    script: &Path,
    url: &str,
    connections: u32,
    seconds: u64,
) -> anyhow::Result<WrkSummary> {
    let mut command: Command = Layout::command(&layout.load_cpus, &args.wrk);
    command
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["--timeout", "5s", "-s"])
        .arg(script)
        .arg(url)
        .stdin(Stdio::null());
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .with_context(|| format!("no summary in wrk's output: {stdout}"))?;
    serde_json::from_str(line).with_context(|| format!("wrk summary {line}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rps: f64, errors: u64, peak: u64) -> Point {
        Point {
            p50_us: rps / 1000.0,
            errors,
            proxy_cpu_us: Some(rps / 100.0),
            proxy_peak_kib: Some(peak),
            mock_peak_kib: peak / 2,
            ..Point::sample(Target::Gateway, Workload::ToolsCall, rps)
        }
    }

    #[test]
    fn a_point_is_its_median_round_with_every_round_listed() {
        let point = median_round(vec![
            run(300.0, 0, 10),
            run(100.0, 2, 30),
            run(200.0, 1, 20),
        ]);
        assert_eq!(point.rps, 200.0);
        assert_eq!(point.p50_us, 0.2, "every figure from the median round");
        assert_eq!(point.proxy_cpu_us, Some(2.0));
        assert_eq!(
            point.rounds_rps,
            [300.0, 100.0, 200.0],
            "in the order they ran"
        );
        assert_eq!(point.errors, 3, "summed over the rounds");
        assert_eq!(point.proxy_peak_kib, Some(30), "the highest peak");
        assert_eq!(point.mock_peak_kib, 15);
        // An even count takes the lower middle.
        assert_eq!(median_round(vec![run(4.0, 0, 1), run(1.0, 0, 1)]).rps, 1.0);
        assert_eq!(median_round(vec![run(7.0, 0, 1)]).rps, 7.0);
    }

    #[test]
    fn later_rounds_warm_up_for_half_as_long() {
        assert_eq!(round_warmup(2, 0), 2);
        assert_eq!(round_warmup(2, 1), 1);
        assert_eq!(round_warmup(3, 2), 2);
        assert_eq!(round_warmup(0, 1), 0);
    }
}
