//! The soak: 60 s of mixed MCP (tools/call and tools/list answered over SSE, with progress
//! events) and REST traffic through the `gateway` binary with ai-mcp-proxy, prometheus and
//! file-log on. Zero errors, and resident memory at the end close to what it was after the
//! warm-up. Bounded: fixed concurrency, fixed duration.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_marketplace::Options;

use crate::rig::ChildGateway;

const DURATION: Duration = Duration::from_secs(60);
const WARM_UP: Duration = Duration::from_secs(10);
const CLIENTS: usize = 8;

const MCP: &[&str] = &[
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_orders","arguments":{"q":"a"},"_meta":{"progressToken":"s"}}}"#,
    r#"{"jsonrpc":"2.0","id":"two","method":"tools/list","params":{}}"#,
    r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_users","arguments":{}}}"#,
    r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_user","arguments":{"id":"a1b2c3d4"}}}"#,
];
const REST: &[&str] = &["/marketplace/users", "/marketplace/a1b2c3d4/orders"];

#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    errors: Mutex<Vec<String>>,
}

/// One request of kind `n`; `Err` says what went wrong.
async fn one(http: &reqwest::Client, gw: &str, n: usize) -> Result<(), String> {
    if n % 3 == 2 {
        let path = REST[n % REST.len()];
        let res = http
            .get(format!("{gw}{path}"))
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = res.status();
        let body = res.bytes().await.map_err(|e| format!("GET {path}: {e}"))?;
        return match status.as_u16() {
            200 if body.len() > 10 => Ok(()),
            s => Err(format!("GET {path}: {s}")),
        };
    }
    let body = MCP[n % MCP.len()];
    let res = http
        .post(format!("{gw}/mcp"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("POST {body}: {e}"))?;
    let status = res.status().as_u16();
    let text = res.text().await.map_err(|e| format!("POST {body}: {e}"))?;
    if status != 200
        || !text.contains("\"result\"")
        || !text.starts_with("event:") && !text.starts_with("data:") && !text.starts_with("id:")
    {
        return Err(format!("POST {body}: {status} {text:.200}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_seconds_of_mixed_load_no_errors_flat_memory() {
    let mock = mock_marketplace::spawn(Options {
        sse: true,
        progress: 2,
        progress_interval: Duration::from_millis(5),
        ..Options::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kong.yaml");
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: soak-service
    url: http://{mock}
    routes:
      - name: soak-rest
        paths: [/marketplace]
      - name: soak-mcp
        paths: [/mcp]
        strip_path: false
        plugins:
          - name: ai-mcp-proxy
            config:
              mode: passthrough-listener
              logging:
                log_statistics: true
plugins:
  - name: prometheus
    config:
      ai_metrics: true
      status_code_metrics: true
      latency_metrics: true
  - name: file-log
    config:
      path: {log}
"#,
        mock = mock.addr(),
        log = dir.path().join("soak.log").display()
    );
    std::fs::write(&config, yaml).unwrap();
    let gw = ChildGateway::start(&config, &[]);
    let base = gw.url("");
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let tally = tally.clone();
            let base = base.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap();
                let mut n = c;
                while started.elapsed() < DURATION {
                    match one(&http, &base, n).await {
                        Ok(()) => {
                            tally.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => tally.errors.lock().unwrap().push(e),
                    }
                    n += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(WARM_UP).await;
    let warm = gw.rss_kib();
    let warm_count = tally.ok.load(Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let end = gw.rss_kib();
    let total = tally.ok.load(Ordering::Relaxed);
    let errors = tally.errors.lock().unwrap().clone();
    eprintln!(
        "soak: {total} requests in {:?} ({warm_count} in the warm-up), RSS after warm-up \
         {warm} KiB, at the end {end} KiB",
        started.elapsed()
    );
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert!(
        total > warm_count * 2,
        "the load did not keep going: {total} requests"
    );
    // Flat: growth after the warm-up stays within a quarter of it (allocator slack, histogram
    // buckets), far less than a leak of even a few hundred bytes per request would add.
    let growth = end.saturating_sub(warm);
    assert!(
        growth < warm / 4 + 4096,
        "RSS grew by {growth} KiB after the warm-up ({warm} -> {end} KiB over {total} requests)"
    );
}
