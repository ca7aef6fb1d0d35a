//! Graceful shutdown of the real `gateway` binary: SIGTERM stops accepting, closes idle
//! connections, lets in-flight requests and event streams finish up to the drain timeout
//! (`nginx_main_worker_shutdown_timeout`), flushes the log records, and exits 0.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use mock_marketplace::Options;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::eventually;
use crate::rig::{read_request, read_until_closed, ChildGateway, FakeUpstream};

/// An http-log endpoint that records each POSTed body and answers 200 at once.
async fn collector() -> (FakeUpstream, Arc<Mutex<Vec<Value>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    let fake = FakeUpstream::start(move |mut stream| {
        let seen = seen.clone();
        async move {
            loop {
                let Some(body) = read_request(&mut stream).await else {
                    return;
                };
                if let Ok(json) = serde_json::from_slice(&body) {
                    seen.lock().unwrap().push(json);
                }
                let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                if stream.write_all(answer).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (fake, bodies)
}

/// Every record the collector received (batches are arrays).
fn collected(bodies: &Mutex<Vec<Value>>) -> Vec<Value> {
    bodies
        .lock()
        .unwrap()
        .iter()
        .flat_map(|b| match b {
            Value::Array(items) => items.clone(),
            one => vec![one.clone()],
        })
        .collect()
}

/// An SSE route to `sse` and a REST route to `slow`, file-log and http-log on everything; the
/// http-log batches wait 60 s to fill, so only a flush sends them before that.
fn config(dir: &std::path::Path, sse: &str, slow: &str, collector: &str) -> std::path::PathBuf {
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: sd-sse
    url: http://{sse}
    routes:
      - name: sd-sse-route
        paths: [/mcp]
        strip_path: false
  - name: sd-slow
    url: http://{slow}
    routes:
      - name: sd-slow-route
        paths: [/slow]
plugins:
  - name: file-log
    config:
      path: {dir}/shutdown.log
  - name: http-log
    config:
      http_endpoint: http://{collector}/logs
      queue: {{ max_batch_size: 100, max_coalescing_delay: 60 }}
"#,
        dir = dir.display()
    );
    let path = dir.join("kong.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

const CALL: &str = r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"list_users","arguments":{},"_meta":{"progressToken":"p"}}}"#;

async fn open_stream(
    http: &reqwest::Client,
    gw: &ChildGateway,
) -> impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> {
    let res = http
        .post(gw.url("/mcp"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(CALL)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.bytes_stream()
}

/// A gateway child with `nginx_main_worker_shutdown_timeout` = `drain`, and a `tools/call` event
/// stream through it that would last 50 s, its first event read.
struct Endless {
    _sse: mock_marketplace::MockHandle,
    _sink: FakeUpstream,
    gw: ChildGateway,
    dir: tempfile::TempDir,
    bodies: Arc<Mutex<Vec<Value>>>,
    stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>>>>,
    first: bytes::Bytes,
}

async fn endless_stream(drain: &str) -> Endless {
    let sse = mock_marketplace::spawn(Options {
        sse: true,
        progress: 200,
        progress_interval: Duration::from_millis(250),
        ..Options::default()
    })
    .await
    .unwrap();
    let (sink, bodies) = collector().await;
    let dir = tempfile::tempdir().unwrap();
    let addr = sse.addr().to_string();
    let path = config(dir.path(), &addr, &addr, &sink.addr.to_string());
    let gw = ChildGateway::start(&path, &[("KONG_NGINX_MAIN_WORKER_SHUTDOWN_TIMEOUT", drain)]);
    let http = reqwest::Client::new();
    let mut stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>> =
        Box::pin(open_stream(&http, &gw).await);
    let first = stream.next().await.expect("a first event").unwrap();
    Endless {
        _sse: sse,
        _sink: sink,
        gw,
        dir,
        bodies,
        stream,
        first,
    }
}

/// Reads the rest of an event stream (bounded), answering its text and whether it ended cleanly.
async fn drain_stream(
    mut stream: impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
    mut text: String,
) -> (String, bool) {
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => text.push_str(&String::from_utf8_lossy(&b)),
                Err(_) => return false,
            }
        }
        true
    })
    .await;
    (text, read.unwrap_or(false))
}

fn log_records(dir: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("shutdown.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn sigterm_drains_in_flight_work_flushes_logs_and_exits_0() {
    let sse = mock_marketplace::spawn(Options {
        sse: true,
        progress: 8,
        progress_interval: Duration::from_millis(250),
        ..Options::default()
    })
    .await
    .unwrap();
    let slow = mock_marketplace::spawn(Options {
        delay: Some(Duration::from_millis(1500)),
        ..Options::default()
    })
    .await
    .unwrap();
    let (sink, bodies) = collector().await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &sse.addr().to_string(),
        &slow.addr().to_string(),
        &sink.addr.to_string(),
    );
    let mut gw = ChildGateway::start(&path, &[("KONG_NGINX_MAIN_WORKER_SHUTDOWN_TIMEOUT", "30s")]);
    let http = reqwest::Client::new();

    // An idle kept-alive connection: one request answered, then nothing.
    let mut idle = TcpStream::connect(gw.proxy).await.unwrap();
    idle.write_all(b"GET /slow/users HTTP/1.1\r\nHost: gw\r\n\r\n")
        .await
        .unwrap();
    let mut first = vec![0u8; 64 * 1024];
    let n = idle.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));

    // In flight: an event stream (about 2 s) and a slow REST request (1.5 s).
    let mut stream = Box::pin(open_stream(&http, &gw).await);
    let first_event = stream.next().await.expect("a first event").unwrap();
    let slow_request = tokio::spawn({
        let http = http.clone();
        let url = gw.url("/slow/users");
        async move {
            let res = http.get(url).send().await.unwrap();
            (res.status().as_u16(), res.bytes().await.map(|b| b.len()))
        }
    });
    slow.wait_for_requests(2, Duration::from_secs(10)).await;

    gw.sigterm();
    // No new connections…
    eventually(Duration::from_secs(10), || async {
        TcpStream::connect(gw.proxy).await.is_err().then_some(())
    })
    .await;
    // …the idle one is closed…
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(10)).await;
    assert!(closed, "an idle connection was kept open during the drain");
    // …and what was in flight finishes.
    let (text, clean) = drain_stream(stream, String::from_utf8_lossy(&first_event).into()).await;
    assert!(clean, "the event stream was cut: {text}");
    assert!(text.contains("\"result\""), "{text}");
    let (status, body) = slow_request.await.unwrap();
    assert_eq!(status, 200);
    assert!(body.unwrap() > 100);

    let code = gw.wait_exit(Duration::from_secs(30)).await;
    assert_eq!(code, Some(0), "exit code; log: {:?}", gw.log);

    // Flushed: every request is in the file, and http-log delivered them all at shutdown
    // although its batches would have waited 60 s.
    let records = log_records(dir.path());
    let routes: Vec<&str> = records
        .iter()
        .filter_map(|r| r["route"]["name"].as_str())
        .collect();
    assert_eq!(routes.len(), 3, "{records:?}");
    assert_eq!(routes.iter().filter(|r| **r == "sd-slow-route").count(), 2);
    assert!(routes.contains(&"sd-sse-route"));
    assert!(
        records
            .iter()
            .all(|r| r.get("failure").is_none() && r["response"]["status"] == 200),
        "{records:?}"
    );
    assert_eq!(collected(&bodies).len(), 3, "http-log records at exit");
}

#[tokio::test]
async fn the_drain_timeout_bounds_a_stream_that_would_not_end() {
    // Every part is bound: the mocks and the directory must live until the test ends.
    let Endless {
        _sse,
        _sink,
        mut gw,
        dir,
        bodies,
        stream,
        first,
    } = endless_stream("1s").await;
    gw.sigterm();
    // The stream would last 50 s: the drain ends it, and the process exits 0.
    let code = gw.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(code, Some(0), "exit code; log: {:?}", gw.log);
    let (text, clean) = drain_stream(stream, String::from_utf8_lossy(&first).into()).await;
    assert!(!text.contains("\"result\""), "{text}");
    assert!(!clean, "the cut stream must not look complete");
    // Its record was still written and delivered, saying the stream was cut.
    let records = log_records(dir.path());
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["failure"], "client_abort", "{}", records[0]);
    assert_eq!(collected(&bodies).len(), 1, "http-log records at exit");
}

#[tokio::test]
async fn a_second_signal_stops_at_once() {
    let Endless {
        _sse,
        _sink,
        mut gw,
        dir: _dir,
        stream,
        ..
    } = endless_stream("60s").await;
    gw.sigterm();
    gw.wait_for_line(Duration::from_secs(10), |l| l.contains("shutting down"))
        .expect("the drain starts");
    // Still draining: the stream would go on for 50 s and the drain allows 60.
    assert_eq!(gw.wait_exit(Duration::from_millis(500)).await, None);
    gw.sigterm();
    // Stopped at once, and the exit code says the drain did not finish.
    let code = gw.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(code, Some(1), "exit code; log: {:?}", gw.log);
    let (text, clean) = drain_stream(stream, String::new()).await;
    assert!(!clean && !text.contains("\"result\""), "{text}");
}
