//! Event streams: time to the first SSE event and to the result, through the gateway and
//! directly (the two alternate, call by call); and the gateway's resident memory per open event
//! stream, for legacy GET streams and for 2026-07-28 POST streams held open by progress events.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::StreamExt;
use serde::Serialize;

use crate::http;
use crate::servers::{self, Gateway, Layout, Upstreams, WorkDir};
use crate::stats::Summary;
use crate::RunArgs;

#[derive(Debug, Serialize)]
pub struct Ttfe {
    /// Milliseconds from sending the request to the first complete event.
    pub direct_first: Summary,
    pub gateway_first: Summary,
    /// Milliseconds from sending the request to the end of the stream (after the result).
    pub direct_result: Summary,
    pub gateway_result: Summary,
    pub progress_events: u32,
    pub interval_ms: u64,
    pub delay_ms: u64,
}

#[derive(Debug, Serialize)]
pub struct OpenStreams {
    pub kind: &'static str,
    pub requested: usize,
    pub opened: usize,
    pub seconds_to_open: f64,
    pub rss_before_kib: u64,
    pub rss_open_kib: u64,
    pub rss_closed_kib: u64,
    /// (RSS with the streams open − RSS before) / streams opened.
    pub bytes_per_stream: f64,
}

#[derive(Debug, Serialize)]
pub struct StreamResults {
    pub ttfe: Ttfe,
    pub open: Vec<OpenStreams>,
}

pub async fn run(
    args: &RunArgs,
    work: &WorkDir,
    layout: &Layout,
    upstreams: &Upstreams,
) -> anyhow::Result<StreamResults> {
    let gateway = Gateway::start(args, work, layout, upstreams, "gateway-ttfe")?;
    let ttfe = ttfe(
        args.ttfe_runs,
        &format!("{}/mcp", upstreams.sse.url()),
        &gateway.url("/sse/mcp"),
    )
    .await?;
    gateway.proc.stop();
    eprintln!(
        "bench: first event p50 direct {:.2} ms, gateway {:.2} ms; result p50 direct {:.2} ms, gateway {:.2} ms",
        ttfe.direct_first.p50, ttfe.gateway_first.p50, ttfe.direct_result.p50, ttfe.gateway_result.p50
    );

    let mut open = Vec::new();
    for kind in [StreamKind::LegacyGet, StreamKind::ProgressPost] {
        let gateway = Gateway::start(args, work, layout, upstreams, kind.name())?;
        let result = hold_streams(&gateway, kind, args.streams).await;
        gateway.proc.stop();
        let result = result.with_context(|| format!("{} streams", kind.label()))?;
        eprintln!(
            "bench: {} open streams ({}): {:.1} KiB per stream",
            result.opened,
            kind.label(),
            result.bytes_per_stream / 1024.0
        );
        open.push(result);
    }
    Ok(StreamResults { ttfe, open })
}

async fn ttfe(runs: usize, direct: &str, gateway: &str) -> anyhow::Result<Ttfe> {
    let client = http::client()?;
    // Warm both paths (connections, pools, lazily built state) before timing.
    for _ in 0..3 {
        sse_call(&client, direct).await?;
        sse_call(&client, gateway).await?;
    }
    let (mut df, mut dr, mut gf, mut gr) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let (first, result) = sse_call(&client, direct).await?;
        df.push(first);
        dr.push(result);
        let (first, result) = sse_call(&client, gateway).await?;
        gf.push(first);
        gr.push(result);
    }
    Ok(Ttfe {
        direct_first: Summary::of(&df),
        gateway_first: Summary::of(&gf),
        direct_result: Summary::of(&dr),
        gateway_result: Summary::of(&gr),
        progress_events: servers::TTFE_PROGRESS,
        interval_ms: servers::TTFE_INTERVAL_MS,
        delay_ms: servers::TTFE_DELAY_MS,
    })
}

/// One SSE `tools/call`: (ms to the first complete event, ms to the end of the stream).
async fn sse_call(client: &reqwest::Client, url: &str) -> anyhow::Result<(f64, f64)> {
    let body = http::tools_call_body(1, "get_user", r#"{"id":"a1b2c3d4"}"#, 0);
    let started = Instant::now();
    let response = http::tools_call(client, url, "get_user", body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    if !response.status().is_success() {
        bail!("POST {url}: {}", response.status());
    }
    let mut seen = Vec::new();
    let mut first = None;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        seen.extend_from_slice(&chunk.with_context(|| format!("reading {url}"))?);
        if first.is_none() && ends_an_event(&seen) {
            first = Some(started.elapsed());
        }
    }
    let done = started.elapsed();
    let text = String::from_utf8_lossy(&seen);
    if !text.contains("notifications/progress") || !text.contains("Alice Johnson") {
        bail!(
            "POST {url}: not a progress stream ending in the result: {}",
            http::truncate(&text, 300)
        );
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok((ms(first.unwrap_or(done)), ms(done)))
}

/// Whether the bytes so far hold a complete event (a blank line ends an event).
fn ends_an_event(seen: &[u8]) -> bool {
    seen.windows(2).any(|w| w == b"\n\n") || seen.windows(4).any(|w| w == b"\r\n\r\n")
}

#[derive(Clone, Copy)]
enum StreamKind {
    /// Legacy era: `GET` with `Mcp-Session-Id` on a stateful server (keep-alive comments only).
    LegacyGet,
    /// 2026-07-28: a `tools/call` answered with SSE, held open after its first progress event
    /// (the gateway follows these with its SSE parser).
    ProgressPost,
}

impl StreamKind {
    fn name(self) -> &'static str {
        match self {
            StreamKind::LegacyGet => "gateway-get-streams",
            StreamKind::ProgressPost => "gateway-post-streams",
        }
    }

    fn label(self) -> &'static str {
        match self {
            StreamKind::LegacyGet => "legacy GET stream (Mcp-Session-Id)",
            StreamKind::ProgressPost => "POST tools/call SSE, 2026-07-28",
        }
    }
}

async fn hold_streams(
    gateway: &Gateway,
    kind: StreamKind,
    count: usize,
) -> anyhow::Result<OpenStreams> {
    let client = http::client()?;
    let url = match kind {
        StreamKind::LegacyGet => gateway.url("/stream/mcp"),
        StreamKind::ProgressPost => gateway.url("/held/mcp"),
    };
    let session = match kind {
        StreamKind::LegacyGet => Some(initialize(&client, &url).await?),
        StreamKind::ProgressPost => None,
    };
    let open_one = |_: usize| {
        let client = client.clone();
        let url = url.clone();
        let session = session.clone();
        async move { open(&client, &url, session.as_deref()).await }
    };
    // One stream opened and closed first: lazily built state is not a per-stream cost.
    drop(open_one(0).await?);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pids = gateway.pids();
    let rss_before_kib = pids.rss_kib()?;
    let started = Instant::now();
    let opened: Vec<anyhow::Result<reqwest::Response>> = futures_util::stream::iter(0..count)
        .map(open_one)
        .buffer_unordered(64)
        .collect()
        .await;
    let seconds_to_open = started.elapsed().as_secs_f64();
    let failures: Vec<String> = opened
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| format!("{e:#}")))
        .take(3)
        .collect();
    let held: Vec<reqwest::Response> = opened.into_iter().filter_map(Result::ok).collect();
    if held.len() < count {
        eprintln!(
            "bench: only {} of {count} streams opened; first errors: {failures:?}",
            held.len()
        );
    }
    if held.is_empty() {
        bail!("no stream could be opened");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_open_kib = pids.rss_kib()?;
    let opened = held.len();
    drop(held);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_closed_kib = pids.rss_kib()?;
    Ok(OpenStreams {
        kind: kind.label(),
        requested: count,
        opened,
        seconds_to_open,
        rss_before_kib,
        rss_open_kib,
        rss_closed_kib,
        bytes_per_stream: (rss_open_kib as f64 - rss_before_kib as f64) * 1024.0 / opened as f64,
    })
}

/// A legacy session through the gateway; answers its `Mcp-Session-Id`.
async fn initialize(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let body = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"gateway-bench","version":"0.1.0"}}}"#;
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("Accept", http::ACCEPT)
        .body(body)
        .send()
        .await?;
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .with_context(|| {
            format!(
                "initialize answered {} without a session",
                response.status()
            )
        })?;
    Ok(session)
}

/// Opens one stream and reads its first bytes; the returned response keeps it open.
async fn open(
    client: &reqwest::Client,
    url: &str,
    session: Option<&str>,
) -> anyhow::Result<reqwest::Response> {
    let request = match session {
        Some(id) => client
            .get(url)
            .header("Accept", "text/event-stream")
            .header("Mcp-Session-Id", id)
            .header("MCP-Protocol-Version", "2025-11-25"),
        None => http::tools_call(
            client,
            url,
            "get_user",
            http::tools_call_body(1, "get_user", r#"{"id":"a1b2c3d4"}"#, 0),
        ),
    };
    let mut response = tokio::time::timeout(Duration::from_secs(20), request.send())
        .await
        .context("no response head in 20 s")??;
    if !response.status().is_success() {
        bail!("stream answered {}", response.status());
    }
    tokio::time::timeout(Duration::from_secs(20), response.chunk())
        .await
        .context("no first event in 20 s")??
        .context("stream ended at once")?;
    Ok(response)
}
