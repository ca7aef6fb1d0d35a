//! The gateway's memory: idle after start, and the peak growth while a large response streams
//! through it or large request bodies go up (a gateway that buffers whole bodies grows with
//! their size). Every measurement uses a fresh gateway.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::StreamExt;
use serde::Serialize;

use crate::http;
use crate::servers::{Gateway, Layout, Upstreams, WorkDir};
use crate::RunArgs;

#[derive(Debug, Serialize)]
pub struct Transfer {
    pub what: String,
    /// Bytes moved through the gateway (bodies only).
    pub bytes: u64,
    pub seconds: f64,
    pub rss_before_kib: u64,
    pub peak_kib: u64,
    /// Peak resident set minus the resident set before, KiB.
    pub growth_kib: u64,
    /// The most growth that is not "proportional to size", KiB (none: shown, not judged).
    pub limit_kib: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct MemoryResults {
    /// Resident set one second after start, before any request.
    pub idle_rss_kib: u64,
    pub idle_peak_kib: u64,
    pub transfers: Vec<Transfer>,
}

pub async fn run(
    args: &RunArgs,
    work: &WorkDir,
    layout: &Layout,
    upstreams: &Upstreams,
) -> anyhow::Result<MemoryResults> {
    let gateway = Gateway::start(args, work, layout, upstreams, "gateway-idle")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pids = gateway.pids();
    let idle_rss_kib = pids.rss_kib()?;
    let idle_peak_kib = pids.peak_rss_kib()?;
    eprintln!(
        "bench: idle gateway {:.1} MiB resident",
        idle_rss_kib as f64 / 1024.0
    );

    let client = http::client()?;
    let mut transfers = Vec::new();
    let url = gateway.url("/large/mcp");
    warm_up(&client, &url).await?;
    transfers.push(
        measure(&gateway, "one response", || {
            large_response(&client, &url, args.large_response)
        })
        .await?,
    );
    gateway.proc.stop();

    let sequential = 100;
    let gateway = Gateway::start(args, work, layout, upstreams, "gateway-upload")?;
    let url = gateway.url("/large/mcp");
    warm_up(&client, &url).await?;
    transfers.push(
        measure(&gateway, "sequential requests", || async {
            let mut sent = 0;
            for i in 0..sequential {
                sent += large_request(&client, &url, i, args.large_request).await?;
            }
            Ok(sent)
        })
        .await?,
    );
    let concurrent = 16;
    transfers.push(
        measure(&gateway, "concurrent requests", || async {
            let sent: Vec<anyhow::Result<u64>> = futures_util::stream::iter(0..concurrent * 4)
                .map(|i| large_request(&client, &url, i, args.large_request))
                .buffer_unordered(concurrent as usize)
                .collect()
                .await;
            sent.into_iter().sum()
        })
        .await?,
    );
    gateway.proc.stop();
    let [response, seq, conc] = &mut transfers[..] else {
        bail!("three transfers");
    };
    response.what = format!(
        "{} MB response (list_orders, JSON)",
        args.large_response / 1_000_000
    );
    seq.what = format!(
        "{sequential} × {} MB request body, one at a time",
        args.large_request as f64 / 1e6
    );
    conc.what = format!(
        "{} × {} MB request body, {concurrent} in flight",
        concurrent * 4,
        args.large_request as f64 / 1e6
    );
    // The plugin reads each JSON body whole to inspect it: what is in flight is held, by design
    // (bounded by max_request_body_size per request). Shown, not judged.
    conc.limit_kib = None;
    for t in &transfers {
        eprintln!(
            "bench: {}: peak growth {:.1} MiB for {:.0} MB moved",
            t.what,
            t.growth_kib as f64 / 1024.0,
            t.bytes as f64 / 1e6
        );
    }
    Ok(MemoryResults {
        idle_rss_kib,
        idle_peak_kib,
        transfers,
    })
}

/// A few small calls on the route, so lazily built state is not counted as growth.
async fn warm_up(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    for i in 0..5 {
        large_request(client, url, i, 0).await?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

async fn measure<F, Fut>(gateway: &Gateway, what: &str, work: F) -> anyhow::Result<Transfer>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<u64>>,
{
    let pids = gateway.pids();
    pids.reset_peak()?;
    let rss_before_kib = pids.rss_kib()?;
    let started = Instant::now();
    let bytes = work().await.with_context(|| what.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_kib = pids.peak_rss_kib()?;
    Ok(Transfer {
        what: what.to_string(),
        bytes,
        seconds,
        rss_before_kib,
        peak_kib,
        growth_kib: peak_kib.saturating_sub(rss_before_kib),
        limit_kib: Some(bytes / 1024 / 10),
    })
}

/// `list_orders` on the padded mock, read and dropped chunk by chunk; answers the bytes read.
async fn large_response(
    client: &reqwest::Client,
    url: &str,
    expected: usize,
) -> anyhow::Result<u64> {
    let body = http::tools_call_body(1, "list_orders", "{}", 0);
    let response = http::tools_call(client, url, "list_orders", body)
        .timeout(Duration::from_secs(120))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("list_orders answered {}", response.status());
    }
    let mut bytes = 0u64;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        bytes += chunk?.len() as u64;
    }
    if bytes < expected as u64 * 9 / 10 {
        bail!("list_orders answered only {bytes} bytes");
    }
    Ok(bytes)
}

/// A `tools/call` whose body is padded to `size` bytes; answers the bytes sent.
async fn large_request(
    client: &reqwest::Client,
    url: &str,
    id: u64,
    size: usize,
) -> anyhow::Result<u64> {
    let body = http::tools_call_body(id, "get_user", r#"{"id":"a1b2c3d4"}"#, size);
    let sent = body.len() as u64;
    let response = http::tools_call(client, url, "get_user", body)
        .timeout(Duration::from_secs(30))
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() || !text.contains("Alice Johnson") {
        bail!(
            "padded call answered {status}: {}",
            http::truncate(&text, 200)
        );
    }
    Ok(sent)
}
