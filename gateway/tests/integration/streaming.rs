//! SSE responses reach the client event by event, before the upstream finishes.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mock_marketplace::Options;

use crate::common::Harness;

#[tokio::test]
async fn first_event_arrives_before_the_result() {
    let options = Options {
        sse: true,
        progress: 3,
        progress_interval: Duration::from_millis(400),
        ..Options::default()
    };
    let h = Harness::marketplace(options, "").await;
    let started = Instant::now();
    let res = h
        .http
        .post(h.url("/marketplace/mcp"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":{},"_meta":{"progressToken":"p"}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    assert_eq!(res.headers()["x-accel-buffering"], "no");
    let mut stream = res.bytes_stream();
    let mut text = String::new();
    let mut first_event_at = None;
    while let Some(chunk) = stream.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        if first_event_at.is_none() && text.contains("\n\n") {
            first_event_at = Some(started.elapsed());
        }
    }
    let total = started.elapsed();
    let first = first_event_at.expect("at least one event");
    assert!(text.contains("notifications/progress"), "{text}");
    assert!(text.contains("\"result\""), "{text}");
    // Three progress events 400 ms apart come before the result: the first one must not wait
    // for the end of the stream.
    assert!(total >= Duration::from_millis(1000), "{total:?}");
    assert!(
        first + Duration::from_millis(700) < total,
        "first {first:?}, total {total:?}"
    );
}

#[tokio::test]
async fn client_disconnect_aborts_the_upstream_and_is_logged() {
    let options = Options {
        sse: true,
        progress: 40,
        progress_interval: Duration::from_millis(150),
        ..Options::default()
    };
    let plugins = "plugins:\n  - name: file-log\n    config:\n      path: {dir}/abort.log\n";
    let h = Harness::marketplace(options, plugins).await;
    let started = Instant::now();
    let res = h
        .http
        .post(h.url("/marketplace/mcp"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":{}}}"#)
        .send()
        .await
        .unwrap();
    let mut stream = res.bytes_stream();
    stream.next().await.expect("a first event").unwrap();
    drop(stream);
    // The upstream would stream for 6 s; the record must appear long before that.
    let log = h.dir_path("abort.log");
    let record: serde_json::Value = crate::common::eventually(Duration::from_secs(3), || async {
        let text = std::fs::read_to_string(&log).ok()?;
        serde_json::from_str(text.lines().next()?).ok()
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(record["failure"], "client_abort");
    assert_eq!(record["response"]["status"], 200);
}
