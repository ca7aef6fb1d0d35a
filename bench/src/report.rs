//! `BENCHMARKS.md`: conditions, targets (met or missed, with the figures), tables, method. Every
//! figure comes from this run; the hand-written part from `## History` on is kept as it was.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::callgrind::Instructions;
use crate::load::{LoadResults, Point, Target, Workload};
use crate::memory::MemoryResults;
use crate::stream::StreamResults;
use crate::RunArgs;

const HISTORY: &str = "## History";

#[derive(Debug, Serialize)]
pub struct Conditions {
    pub date: String,
    pub cpu: String,
    pub cpus: usize,
    pub memory: String,
    pub kernel: String,
    pub load_at_start: String,
    pub commit: String,
    pub nginx: String,
    pub wrk: String,
    pub note: String,
    pub build: String,
}

impl Conditions {
    pub fn read(args: &RunArgs) -> anyhow::Result<Conditions> {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0))
            .unwrap_or_default();
        let commit = output("git", &["rev-parse", "--short", "HEAD"]);
        let dirty = !output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
        Ok(Conditions {
            date: output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            cpu,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory,
            kernel: first_line("/proc/sys/kernel/osrelease"),
            load_at_start: load_average(),
            commit: if dirty {
                format!("{commit} (with uncommitted changes)")
            } else {
                commit
            },
            nginx: output(&args.nginx.to_string_lossy(), &["-v"]),
            wrk: output(&args.wrk.to_string_lossy(), &["-v"])
                .split(" [")
                .next()
                .unwrap_or_default()
                .to_string(),
            note: args.note.clone(),
            build: args.build.clone(),
        })
    }
}

/// A command's first line of output (stdout, else stderr), or empty.
fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

fn first_line(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn load_average() -> String {
    first_line("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Serialize)]
pub struct Results {
    pub conditions: Conditions,
    pub layout: String,
    pub load: Option<LoadResults>,
    pub streams: Option<StreamResults>,
    pub memory: Option<MemoryResults>,
    pub callgrind: Option<Vec<Instructions>>,
    pub elapsed: Duration,
}

/// Writes the report, keeping the existing file's history section.
pub fn write(path: &Path, results: &Results) -> anyhow::Result<()> {
    let history = std::fs::read_to_string(path)
        .ok()
        .and_then(|old| old.find(HISTORY).map(|i| old[i..].to_string()))
        .unwrap_or_else(|| format!("{HISTORY}\n\nNo earlier figures recorded.\n"));
    let mut text = render(results);
    text.push('\n');
    text.push_str(&history);
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn render(r: &Results) -> String {
    let mut out = String::new();
    let c = &r.conditions;
    let w = &mut out;
    let _ = writeln!(w, "# Benchmarks\n");
    let _ = writeln!(
        w,
        "What the gateway costs: the marketplace mock served directly, through the gateway \
         (`ai-mcp-proxy` passthrough with `log_statistics`, file-log and prometheus with \
         `ai_metrics`), and through nginx as a plain reverse proxy (twice: with the usual \
         forwarding headers, and sending the upstream the headers the gateway sends), loaded in \
         the same run. \
         Everything above \"History\" is written by `bench/run.sh`; the figures are this run's.\n"
    );
    let _ = writeln!(w, "## Conditions\n");
    let _ = writeln!(w, "| | |\n| --- | --- |");
    let _ = writeln!(w, "| date | {} |", c.date);
    let _ = writeln!(
        w,
        "| machine | {}, {} CPUs, {} memory, Linux {} |",
        c.cpu, c.cpus, c.memory, c.kernel
    );
    let _ = writeln!(
        w,
        "| load average (1, 5, 15 min) | {} at start, {} at end |",
        c.load_at_start,
        load_average()
    );
    let _ = writeln!(w, "| gateway | commit {} ({}) |", c.commit, c.build);
    let _ = writeln!(w, "| reference | {}; load generator {} |", c.nginx, c.wrk);
    let _ = writeln!(w, "| placement | {} |", r.layout);
    if let Some(l) = &r.load {
        let _ = writeln!(
            w,
            "| load points | {} rounds of {} s measured after {} s of warm-up ({} s after the first round), keep-alive, one wrk thread |",
            l.rounds, l.duration_s, l.warmup_s, crate::load::round_warmup(l.warmup_s, 1)
        );
    }
    let _ = writeln!(w, "| run time | {} s |", r.elapsed.as_secs());
    if !c.note.is_empty() {
        let _ = writeln!(w, "| note | {} |", c.note);
    }
    let _ = writeln!(w);
    targets(w, r);
    if let Some(l) = &r.load {
        load_tables(w, l);
    }
    if let Some(s) = &r.streams {
        streams(w, s);
    }
    if let Some(m) = &r.memory {
        memory(w, m);
    }
    if let Some(counts) = &r.callgrind {
        instructions(w, counts);
    }
    method(w);
    out
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn targets(w: &mut String, r: &Results) {
    let _ = writeln!(w, "## Targets\n");
    let _ = writeln!(w, "| target | measured | |\n| --- | --- | --- |");
    if let Some(l) = &r.load {
        load_targets(w, l);
    }
    if let Some(s) = &r.streams {
        let t = &s.ttfe;
        let _ = writeln!(
            w,
            "| time to first SSE event through the gateway ≤ direct + 1 ms (p50) | {:.2} ms vs {:.2} ms direct ({:+.2} ms; p99 {:+.2} ms) | {} |",
            t.gateway_first.p50,
            t.direct_first.p50,
            t.gateway_first.p50 - t.direct_first.p50,
            t.gateway_first.p99 - t.direct_first.p99,
            verdict(t.gateway_first.p50 <= t.direct_first.p50 + 1.0)
        );
    }
    if let Some(m) = &r.memory {
        let _ = writeln!(
            w,
            "| idle RSS ≤ 30 MiB | {} | {} |",
            mib(m.idle_rss_kib),
            verdict(m.idle_rss_kib <= 30 * 1024)
        );
    }
    if let Some(s) = &r.streams {
        for o in &s.open {
            let _ = writeln!(
                w,
                "| ≤ 64 KiB per open event stream, {} | {:.1} KiB ({} streams) | {} |",
                o.kind,
                o.bytes_per_stream / 1024.0,
                o.opened,
                verdict(o.bytes_per_stream <= 64.0 * 1024.0 && o.opened == o.requested)
            );
        }
    }
    if let Some(m) = &r.memory {
        for t in &m.transfers {
            let Some(limit) = t.limit_kib else { continue };
            let _ = writeln!(
                w,
                "| memory not proportional to size: {} | peak +{} for {:.0} MB moved (limit {}, a tenth) | {} |",
                t.what,
                mib(t.growth_kib),
                t.bytes as f64 / 1e6,
                mib(limit),
                verdict(t.growth_kib <= limit)
            );
        }
    }
    let _ = writeln!(w);
}

fn load_targets(w: &mut String, l: &LoadResults) {
    let mut conns: Vec<u32> = l.points.iter().map(|p| p.connections).collect();
    conns.sort_unstable();
    conns.dedup();
    let busiest = conns.last().copied().unwrap_or(32);
    let single = conns.first().copied().unwrap_or(1);
    for workload in Workload::ALL {
        let (Some(g), Some(n)) = (
            l.find(Target::Gateway, workload, busiest),
            l.find(Target::Nginx, workload, busiest),
        ) else {
            continue;
        };
        // The same request upstream: informative beside the target, which is plain nginx.
        let like_for_like =
            l.find(Target::NginxKong, workload, busiest)
                .map_or(String::new(), |k| {
                    format!(
                        "; nginx sending Kong's headers {:.0} ({:.2}×)",
                        k.rps,
                        g.rps / k.rps
                    )
                });
        let _ = writeln!(
            w,
            "| throughput through the gateway ≥ nginx's, {busiest} connections, {} | {:.0} vs {:.0} req/s ({:.2}×){like_for_like} | {} |",
            workload.label(),
            g.rps,
            n.rps,
            g.rps / n.rps,
            verdict(g.rps >= n.rps)
        );
    }
    for &c in &conns {
        for workload in Workload::ALL {
            let Some((gw, ng)) = added(l, workload, c, |p| p.p99_us) else {
                continue;
            };
            let _ = writeln!(
                w,
                "| added p99 ≤ nginx's added p99 + 0.2 ms, {c} connection(s), {} | gateway {:+.0} µs, nginx {:+.0} µs | {} |",
                workload.label(),
                gw,
                ng,
                verdict(gw <= ng + 200.0)
            );
        }
    }
    for workload in Workload::ALL {
        let Some((gw, ng)) = added(l, workload, single, |p| p.p50_us) else {
            continue;
        };
        let _ = writeln!(
            w,
            "| the gateway adds ≤ 100 µs at p50, {single} connection, {} | {:+.0} µs (nginx {:+.0} µs) | {} |",
            workload.label(),
            gw,
            ng,
            verdict(gw <= 100.0)
        );
    }
}

/// (gateway − direct, nginx − direct) of a latency figure at one point.
fn added(
    l: &LoadResults,
    workload: Workload,
    connections: u32,
    figure: fn(&Point) -> f64,
) -> Option<(f64, f64)> {
    let d = figure(l.find(Target::Direct, workload, connections)?);
    let g = figure(l.find(Target::Gateway, workload, connections)?);
    let n = figure(l.find(Target::Nginx, workload, connections)?);
    Some((g - d, n - d))
}

fn load_tables(w: &mut String, l: &LoadResults) {
    let _ = writeln!(w, "## Load\n");
    for workload in Workload::ALL {
        let _ = writeln!(w, "### {}\n", workload.label());
        let _ = writeln!(
            w,
            "| conns | target | req/s | req/s of each round | p50 µs | p99 µs | p99.9 µs | max µs | proxy CPU µs/req | of which off the worker | mock CPU µs/req | proxy peak RSS | errors |"
        );
        let _ = writeln!(
            w,
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for p in l.points.iter().filter(|p| p.workload == workload) {
            let _ = writeln!(
                w,
                "| {} | {} | {:.0} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {:.1} | {} | {} |",
                p.connections,
                p.target.label(),
                p.rps,
                p.rounds_rps
                    .iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                p.p50_us,
                p.p99_us,
                p.p999_us,
                p.max_us,
                p.proxy_cpu_us.map_or("–".into(), |c| format!("{c:.1}")),
                p.gateway_other_threads_cpu_us
                    .map_or("–".into(), |c| format!("{c:.1}")),
                p.mock_cpu_us,
                p.proxy_peak_kib
                    .map_or(mib(p.mock_peak_kib) + " (mock)", mib),
                p.errors
            );
        }
        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "| conns | gateway/direct req/s | gateway/nginx req/s | gateway/nginx (Kong's headers) req/s | added p50 gateway / nginx µs | added p99 gateway / nginx µs | added p99.9 gateway / nginx µs | proxy CPU/req gateway/nginx | mock CPU/req behind gateway/nginx/nginx (Kong's headers) µs |"
        );
        let _ = writeln!(
            w,
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        let mut conns: Vec<u32> = l.points.iter().map(|p| p.connections).collect();
        conns.sort_unstable();
        conns.dedup();
        for c in conns {
            let (Some(d), Some(g), Some(n)) = (
                l.find(Target::Direct, workload, c),
                l.find(Target::Gateway, workload, c),
                l.find(Target::Nginx, workload, c),
            ) else {
                continue;
            };
            let cpu = match (g.proxy_cpu_us, n.proxy_cpu_us) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
                _ => "–".into(),
            };
            let kong = l.find(Target::NginxKong, workload, c);
            let kong_rps = kong.map_or("–".into(), |k| format!("{:.2}", g.rps / k.rps));
            let kong_mock = kong.map_or("–".into(), |k| format!("{:.1}", k.mock_cpu_us));
            let _ = writeln!(
                w,
                "| {c} | {:.2} | {:.2} | {kong_rps} | {:+.0} / {:+.0} | {:+.0} / {:+.0} | {:+.0} / {:+.0} | {cpu} | {:.1} / {:.1} / {kong_mock} |",
                g.rps / d.rps,
                g.rps / n.rps,
                g.p50_us - d.p50_us,
                n.p50_us - d.p50_us,
                g.p99_us - d.p99_us,
                n.p99_us - d.p99_us,
                g.p999_us - d.p999_us,
                n.p999_us - d.p999_us,
                g.mock_cpu_us,
                n.mock_cpu_us,
            );
        }
        let _ = writeln!(w);
    }
}

fn streams(w: &mut String, s: &StreamResults) {
    let t = &s.ttfe;
    let _ = writeln!(w, "## Event streams\n");
    let _ = writeln!(
        w,
        "A 2026-07-28 `tools/call` answered as `text/event-stream`: {} progress events {} ms apart, \
         then the result after {} ms more; {} calls each way, alternating. Milliseconds from \
         sending the request:\n",
        t.progress_events, t.interval_ms, t.delay_ms, t.direct_first.n
    );
    let _ = writeln!(
        w,
        "| | p50 | p90 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for (label, v) in [
        ("first event, direct", &t.direct_first),
        ("first event, gateway", &t.gateway_first),
        ("result, direct", &t.direct_result),
        ("result, gateway", &t.gateway_result),
    ] {
        let _ = writeln!(
            w,
            "| {label} | {:.2} | {:.2} | {:.2} | {:.2} |",
            v.p50, v.p90, v.p99, v.max
        );
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Open event streams held through one fresh gateway (resident set before, with the streams \
         open, and one second after they closed):\n"
    );
    let _ = writeln!(
        w,
        "| stream | opened | seconds to open | RSS before | RSS open | RSS after close | per stream |"
    );
    let _ = writeln!(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for o in &s.open {
        let _ = writeln!(
            w,
            "| {} | {} / {} | {:.2} | {} | {} | {} | {:.1} KiB |",
            o.kind,
            o.opened,
            o.requested,
            o.seconds_to_open,
            mib(o.rss_before_kib),
            mib(o.rss_open_kib),
            mib(o.rss_closed_kib),
            o.bytes_per_stream / 1024.0
        );
    }
    let _ = writeln!(w);
}

fn memory(w: &mut String, m: &MemoryResults) {
    let _ = writeln!(w, "## Memory\n");
    let _ = writeln!(
        w,
        "Idle gateway (this configuration, one second after start, no request yet): {} resident, \
         peak {}.\n",
        mib(m.idle_rss_kib),
        mib(m.idle_peak_kib)
    );
    let _ = writeln!(
        w,
        "| through a fresh gateway | moved | seconds | RSS before | peak RSS | peak growth |"
    );
    let _ = writeln!(w, "| --- | ---: | ---: | ---: | ---: | ---: |");
    for t in &m.transfers {
        let _ = writeln!(
            w,
            "| {} | {:.0} MB | {:.2} | {} | {} | +{} |",
            t.what,
            t.bytes as f64 / 1e6,
            t.seconds,
            mib(t.rss_before_kib),
            mib(t.peak_kib),
            mib(t.growth_kib)
        );
    }
    let _ = writeln!(
        w,
        "\nWith bodies in flight at once the gateway holds each of them: ai-mcp-proxy reads a JSON \
         body whole (up to `max_request_body_size`) to inspect it before forwarding, so that row \
         grows with the number in flight, by design, and is not judged.\n"
    );
}

fn instructions(w: &mut String, counts: &[Instructions]) {
    let _ = writeln!(w, "## Instructions per request (callgrind)\n");
    let requests = counts.first().map_or(0, |c| c.requests);
    let _ = writeln!(
        w,
        "The gateway under `valgrind --tool=callgrind`, one worker, every thread counted, over \
         {requests} sequential keep-alive requests per cell after a warm-up. One gateway serves \
         four routes to the mock, each with one more plugin, so the rows show what each plugin \
         adds. Independent of machine load; compare builds with it.\n"
    );
    let _ = writeln!(
        w,
        "| plugins on the route | {} | {} |",
        Workload::ToolsCall.label(),
        Workload::RestGet.label()
    );
    let _ = writeln!(w, "| --- | ---: | ---: |");
    let mut stages: Vec<&str> = Vec::new();
    for c in counts {
        if !stages.contains(&c.stage) {
            stages.push(c.stage);
        }
    }
    let cell = |stage: &str, workload: Workload| {
        counts
            .iter()
            .find(|c| c.stage == stage && c.workload == workload)
            .map_or("–".to_string(), |c| format!("{:.0}", c.per_request))
    };
    for stage in stages {
        let _ = writeln!(
            w,
            "| {stage} | {} | {} |",
            cell(stage, Workload::ToolsCall),
            cell(stage, Workload::RestGet)
        );
    }
    let _ = writeln!(w);
}

fn method(w: &mut String) {
    let _ = writeln!(
        w,
        r#"## Method

- Loopback only. The mock is the project's `mock-marketplace` (one worker) with its request
  recorder off; the gateway runs the configuration of `config/observability.yaml`
  (ai-mcp-proxy `passthrough-listener` with `log_statistics`, prometheus with `ai_metrics`,
  status-code and latency metrics, file-log to a scratch file); nginx proxies `/marketplace/`
  to the mock with `proxy_http_version 1.1`, an upstream `keepalive 64` pool and its default
  access log, from two servers of one process: "nginx" sets the usual `X-Forwarded-For`,
  `X-Forwarded-Proto` and `X-Real-IP`; "nginx, Kong's headers" sets the eight headers Kong (and
  so the gateway) adds upstream: those three, `X-Forwarded-Host`, `-Port`, `-Path`, `-Prefix`
  and `X-Kong-Request-Id` (`$request_id`). The second is the like-for-like reference: the
  upstream parses the same request behind it as behind the gateway (before the load, both send
  one request to a recording mock and the run stops if the header names differ). The targets
  are judged against the first.
- Workloads: `POST /mcp` with a 2026-07-28 `tools/call` of `get_user` (headers
  `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `params._meta` with the protocol version and
  client capabilities, no session) and `GET /users`; the proxies serve them under
  `/marketplace`. Every target is checked to answer both correctly before the load starts.
- wrk with one thread and keep-alive connections; for each point direct, gateway and both
  nginx servers run back to back (warm-up, then the measured run), and take turns for several
  rounds (`--rounds`, 3 by default), so a drift of the machine's speed during the run falls on
  all of them alike.
  Each row shows its round of median throughput (every figure of the row from that one run)
  and every round's throughput; errors are summed and peak RSS is the highest over the rounds.
  Latency percentiles are wrk's; p99.9 comes from its `done()` hook. Errors count socket
  errors and non-2xx/3xx answers.
- CPU per request: the utime + stime delta of the server's processes (`/proc/<pid>/stat`, all
  threads; nginx master and workers) over the measured run, divided by the requests wrk
  completed. "mock CPU" is the upstream's share. Peak RSS: `VmHWM` after resetting it
  (`/proc/<pid>/clear_refs`) at the start of each run; for nginx the sum over its processes.
- "of which off the worker": the gateway's CPU per request spent outside its busiest thread
  (the one proxy worker), from `/proc/<pid>/task/*/stat`: the telemetry actor writing the
  file-log lines, mostly.
- Added latency: the figure through a proxy minus the direct figure at the same point.
- Event streams: the SSE mock and the clients share the client CPU; time to the first event
  is measured when the first blank line arrives. Open streams: legacy `GET` streams on one
  `Mcp-Session-Id` of a stateful mock, and 2026-07-28 `tools/call` streams held open after
  their first progress event (the gateway follows these with its SSE parser); a fresh
  gateway for each, one stream opened and closed before the baseline.
- Memory: fresh gateways; the large response is read and dropped chunk by chunk by the client;
  the request bodies are `tools/call`s padded in `params._meta` (the plugin reads JSON bodies
  whole, up to `max_request_body_size` = 1 MiB, to inspect them). "Not proportional" is met when
  the peak growth stays under a tenth of the bytes moved through one request at a time.
"#
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(target: Target, rps: f64, mock_cpu_us: f64) -> Point {
        Point {
            p50_us: 100.0,
            p99_us: 200.0,
            p999_us: 300.0,
            max_us: 400.0,
            proxy_cpu_us: (target != Target::Direct).then_some(10.0),
            mock_cpu_us,
            mock_peak_kib: 1024,
            rounds_rps: vec![rps],
            ..Point::sample(target, Workload::RestGet, rps)
        }
    }

    fn results() -> LoadResults {
        LoadResults {
            points: vec![
                point(Target::Direct, 1000.0, 8.0),
                point(Target::Gateway, 900.0, 9.0),
                point(Target::Nginx, 1000.0, 8.2),
                point(Target::NginxKong, 800.0, 8.9),
            ],
            rounds: 1,
            duration_s: 1,
            warmup_s: 1,
        }
    }

    #[test]
    fn the_throughput_target_is_judged_on_plain_nginx_with_kongs_headers_beside_it() {
        let mut w = String::new();
        load_targets(&mut w, &results());
        let line = w
            .lines()
            .find(|l| l.starts_with("| throughput") && l.contains("REST"))
            .expect("a throughput line");
        assert!(
            line.contains("900 vs 1000 req/s (0.90×); nginx sending Kong's headers 800 (1.12×)"),
            "{line}"
        );
        assert!(line.ends_with("| **missed** |"), "{line}");
    }

    #[test]
    fn the_ratio_table_has_kongs_headers_and_each_upstream_share() {
        let mut w = String::new();
        load_tables(&mut w, &results());
        assert!(w.contains("| 32 | nginx, Kong's headers | 800 |"), "{w}");
        let ratios = w
            .lines()
            .find(|l| l.starts_with("| 32 | 0.90 |"))
            .expect("the ratio row");
        assert_eq!(
            ratios,
            "| 32 | 0.90 | 0.90 | 1.12 | +0 / +0 | +0 / +0 | +0 / +0 | 1.00× | 9.0 / 8.2 / 8.9 |"
        );
    }
}
