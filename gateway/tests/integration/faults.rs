//! Upstream faults, each against a small upstream written on a bare socket: a reset in the
//! middle of a JSON body and of an SSE stream, an upstream that never reads the request body,
//! bytes that are not HTTP, and hostile JSON in a response. The client sees the fault clearly,
//! the log record names it, no gateway thread panics, and the other routes keep serving.
//! (Refused connections, DNS failures and slow heads are in `proxy.rs`.)

use std::time::Duration;

use futures_util::StreamExt;
use mock_marketplace::Options;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{eventually, Harness};
use crate::rig::{self, read_request, reset, status_of, FakeUpstream};

const CALL: &str = r#"{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"list_users","arguments":{}}}"#;

/// A broken service at `fake` (ai-mcp-proxy + file-log on its route) beside a healthy one.
async fn start(tag: &str, fake: &FakeUpstream) -> Harness {
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: {tag}-broken
    url: http://{fake}
    read_timeout: 2000
    write_timeout: 2000
    routes:
      - name: {tag}-broken-route
        paths: [/broken]
        plugins:
          - name: ai-mcp-proxy
            config:
              mode: passthrough-listener
              max_request_body_size: 0
              logging:
                log_statistics: true
          - name: file-log
            config:
              path: {{dir}}/{tag}.log
  - name: {tag}-healthy
    url: http://{{mock}}
    routes:
      - name: {tag}-healthy-route
        paths: [/marketplace]
"#,
        fake = fake.addr
    );
    Harness::start(Options::default(), &yaml).await
}

/// After an upstream cut mid-body: the record says `transport_error` (for ai-mcp-proxy too),
/// nothing panicked since `panics_before`, and the healthy route still answers.
async fn cut_logged_and_still_serving(h: &Harness, tag: &str, panics_before: usize) {
    let record = record(h, tag).await;
    assert_eq!(record["failure"], "transport_error", "{record}");
    assert_eq!(
        record["ai"]["mcp"]["rpc"][0]["outcome"], "transport_error",
        "{record}"
    );
    assert_eq!(rig::panics(), panics_before);
    assert_eq!(status_of(h, "/marketplace/users").await, 200);
}

/// The first file-log record of the broken route.
async fn record(h: &Harness, tag: &str) -> Value {
    let path = h.dir_path(&format!("{tag}.log"));
    eventually(Duration::from_secs(10), || async {
        let text = std::fs::read_to_string(&path).ok()?;
        serde_json::from_str(text.lines().next()?).ok()
    })
    .await
}

fn post(h: &Harness) -> reqwest::RequestBuilder {
    h.mcp_post(h.url("/broken/mcp"))
        .body(CALL)
        .timeout(Duration::from_secs(30))
}

#[tokio::test]
async fn a_reset_in_the_middle_of_a_json_body_ends_the_response_and_is_logged() {
    let fake = FakeUpstream::start(|mut stream| async move {
        read_request(&mut stream).await;
        let partial = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n\
                       {\"jsonrpc\":\"2.0\",\"id\":41,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"";
        let _ = stream.write_all(partial.as_bytes()).await;
        let _ = stream.flush().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        reset(stream);
    })
    .await;
    let h = start("fault-json-reset", &fake).await;
    let before = rig::panics();
    let res = post(&h).send().await.expect("the head arrives");
    assert_eq!(res.status(), 200);
    let body = res.bytes().await;
    assert!(body.is_err(), "the client must see an incomplete body");
    cut_logged_and_still_serving(&h, "fault-json-reset", before).await;
}

#[tokio::test]
async fn a_reset_in_the_middle_of_an_sse_stream_ends_the_stream_and_is_logged() {
    let fake = FakeUpstream::start(|mut stream| async move {
        read_request(&mut stream).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
                    Transfer-Encoding: chunked\r\n\r\n";
        let event = "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"p\",\"progress\":1}}\n\n";
        let chunk = format!("{:x}\r\n{event}\r\n", event.len());
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(chunk.as_bytes()).await;
        let _ = stream.flush().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        reset(stream);
    })
    .await;
    let h = start("fault-sse-reset", &fake).await;
    let before = rig::panics();
    let res = post(&h).send().await.expect("the head arrives");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut stream = res.bytes_stream();
    let mut text = String::new();
    let mut ended_with_error = false;
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("the stream ends, it does not hang")
    {
        match chunk {
            Ok(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
            Err(_) => {
                ended_with_error = true;
                break;
            }
        }
    }
    assert!(text.contains("notifications/progress"), "{text}");
    assert!(!text.contains("\"result\""), "{text}");
    assert!(
        ended_with_error,
        "a chunked stream cut without its last chunk is an error"
    );
    cut_logged_and_still_serving(&h, "fault-sse-reset", before).await;
}

#[tokio::test]
async fn an_upstream_that_never_reads_the_body_times_out_with_504() {
    let fake = FakeUpstream::start(|stream| async move {
        // Holds the connection without reading a byte, until the gateway gives up.
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(stream);
    })
    .await;
    let h = start("fault-no-read", &fake).await;
    let before = rig::panics();
    // 16 MiB, far beyond what socket buffers absorb, sent by a task of its own while the
    // answer is read.
    let mut client = TcpStream::connect(h.gateway.proxy).await.unwrap();
    let size = 16 << 20;
    let head = format!(
        "POST /broken/upload HTTP/1.1\r\nHost: gw\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {size}\r\n\r\n"
    );
    client.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = client.into_split();
    let sender = tokio::spawn(async move {
        let block = vec![b'z'; 64 * 1024];
        let mut sent = 0;
        while sent < size {
            if writer.write_all(&block).await.is_err() {
                break;
            }
            sent += block.len();
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 30 s");
    let text = String::from_utf8_lossy(&answer);
    assert_eq!(rig::status_line(&text), Some(504), "{text:?}");
    sender.abort();
    assert_eq!(fake.accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(rig::panics(), before);
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

#[tokio::test]
async fn bytes_that_are_not_http_are_a_502() {
    let replies: [&[u8]; 3] = [
        b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ];
    for (i, reply) in replies.into_iter().enumerate() {
        let fake = FakeUpstream::start(move |mut stream| async move {
            read_request(&mut stream).await;
            let _ = stream.write_all(reply).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        })
        .await;
        let h = start(&format!("fault-garbage-{i}"), &fake).await;
        let before = rig::panics();
        let res = h
            .http
            .get(h.url("/broken/users"))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 502, "reply {i}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["message"], "An invalid response was received from the upstream server",
            "reply {i}"
        );
        assert_eq!(rig::panics(), before);
        assert_eq!(status_of(&h, "/marketplace/users").await, 200);
    }
}

#[tokio::test]
async fn hostile_json_in_a_response_is_relayed_untouched() {
    // A result nested 100,000 deep with huge numbers: the plugin's response inspection gives
    // up on it without a crash, and the client gets the upstream's bytes exactly.
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":41,"result":{{"content":[{{"type":"text","text":"x"}}],"deep":{}1e999{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let reply = deep.clone();
    let fake = FakeUpstream::start(move |mut stream| {
        let reply = reply.clone();
        async move {
            read_request(&mut stream).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                reply.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let h = start("fault-deep-response", &fake).await;
    let before = rig::panics();
    let res = post(&h).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.bytes().await.unwrap();
    assert!(body == deep.as_bytes(), "the response was changed");
    let record = record(&h, "fault-deep-response").await;
    assert_eq!(record["response"]["status"], 200);
    assert!(record.get("failure").is_none(), "{record}");
    assert_eq!(rig::panics(), before);
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

/// At the default log level no per-request span is built, yet the warning of a failed upstream
/// call still names the request: the same id the client got in `X-Kong-Request-Id`.
#[tokio::test]
async fn an_upstream_warning_names_the_clients_request_id() {
    let port = rig::closed_addr().port();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kong.yaml");
    std::fs::write(
        &path,
        crate::common::one_service_yaml("gone", format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let mut gw = rig::ChildGateway::start(&path, &[("KONG_LOG_LEVEL", "notice")]);
    let res = reqwest::get(gw.url("/gone/users")).await.unwrap();
    assert_eq!(res.status(), 502);
    let id = res.headers()["x-kong-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let line = gw
        .wait_for_line(Duration::from_secs(10), |l| {
            l.contains("upstream request failed")
        })
        .unwrap_or_else(|| panic!("no warning in {:?}", gw.log));
    assert!(line.contains(&format!("request_id={id}")), "{line}");
    assert!(line.contains("reason=\"upstream_connect\""), "{line}");
}
