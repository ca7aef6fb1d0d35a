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

/// Events relayed one write each must not wait for the client's delayed ACK of the previous one
/// (Nagle): on a kept-alive connection the gap between two events is the upstream's (10 ms), not
/// ~40 ms. One plain socket, several calls; the smallest gap of the calls after the first is
/// compared, so one slow scheduling cannot fail it.
#[tokio::test]
async fn events_on_a_kept_alive_connection_are_not_held_back() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let options = Options {
        sse: true,
        progress: 2,
        // Shorter than a delayed ACK, so a held event would show.
        progress_interval: Duration::from_millis(10),
        ..Options::default()
    };
    let h = Harness::marketplace(options, "").await;
    let addr = h.url("").trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut gaps = Vec::new();
    for id in 1..=4 {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"list_users","arguments":{{}}}}}}"#
        );
        let request = format!(
            "POST /marketplace/mcp HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut seen = Vec::new();
        let mut arrivals = Vec::new();
        let mut buf = [0u8; 65536];
        while !seen.ends_with(b"0\r\n\r\n") {
            let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
                .await
                .expect("the stream goes on")
                .unwrap();
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
            let events = seen.windows(2).filter(|w| w == b"\n\n").count();
            while arrivals.len() < events {
                arrivals.push(Instant::now());
            }
        }
        assert!(arrivals.len() >= 2, "{}", String::from_utf8_lossy(&seen));
        gaps.push(arrivals[1] - arrivals[0]);
    }
    // The first call runs while a fresh connection still acknowledges at once: not counted.
    let smallest = gaps[1..].iter().min().copied().unwrap();
    assert!(smallest < Duration::from_millis(30), "{gaps:?}");
}
