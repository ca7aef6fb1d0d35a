//! Hostile clients against a real proxy listener: slow heads and bodies, oversized bodies,
//! malformed and adversarial JSON, header floods and request smuggling. Each gets a clear 4xx
//! (or the connection closed by the HTTP layer), nothing bad reaches the upstream, and the
//! gateway keeps serving.

use std::time::{Duration, Instant};

use mock_marketplace::Options;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::Harness;
use crate::rig::{self, body_of, raw_exchange, read_until_closed, status_line, status_of};

/// A REST route and an MCP route (ai-mcp-proxy) on one mock, named after `tag`.
fn yaml(tag: &str) -> String {
    format!(
        r#"_format_version: "3.0"
services:
  - name: {tag}-service
    url: http://{{mock}}
    routes:
      - name: {tag}-rest
        paths: [/marketplace]
      - name: {tag}-mcp
        paths: [/mcp]
        strip_path: false
        plugins:
          - name: ai-mcp-proxy
            config:
              mode: passthrough-listener
              max_request_body_size: 1048576
"#
    )
}

async fn start(tag: &str, tweak: impl FnOnce(&mut gateway::Settings)) -> Harness {
    Harness::start_with(Options::default(), &yaml(tag), tweak).await
}

/// A request with a `Content-Length` body, as raw bytes.
fn post(path: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Posts `body` to the MCP route and answers (status, parsed JSON body).
async fn mcp(h: &Harness, body: Vec<u8>) -> (u16, Value) {
    let res = h
        .mcp_post(h.url("/mcp"))
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("an answer");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The message of a refusal the HTTP layer wrote itself: Kong's JSON body, whose `request_id`
/// is the one in `X-Kong-Request-Id`.
fn refusal_message(text: &str) -> String {
    let body: Value = serde_json::from_str(body_of(text))
        .unwrap_or_else(|e| panic!("a JSON body ({e}): {text:?}"));
    let id = body["request_id"].as_str().expect("a request_id");
    assert_eq!(id.len(), 32, "{text:?}");
    let head = text.to_ascii_lowercase();
    assert!(
        head.contains(&format!("x-kong-request-id: {id}\r\n")),
        "{text:?}"
    );
    assert!(
        head.contains("content-type: application/json\r\n"),
        "{text:?}"
    );
    body["message"].as_str().expect("a message").to_string()
}

#[tokio::test]
async fn a_slowloris_head_is_answered_408_and_closed() {
    let h = start("hostile-slowhead", |s| {
        s.nginx_http_client_header_timeout = "1s".into()
    })
    .await;
    let mut stream = TcpStream::connect(h.gateway.proxy).await.unwrap();
    stream
        .write_all(b"GET /marketplace/users HTTP/1.1\r\nHost: gw\r\n")
        .await
        .unwrap();
    // One header line every 200 ms, for at most 20 s: the timeout must end this long before.
    let started = Instant::now();
    let mut cut = false;
    for i in 0..100 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if stream
            .write_all(format!("X-Slow-{i}: y\r\n").as_bytes())
            .await
            .is_err()
        {
            cut = true;
            break;
        }
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let (text, closed) = read_until_closed(&mut stream, Duration::from_secs(15)).await;
    assert!(cut || closed, "the connection stayed open: {text:?}");
    assert_eq!(status_line(&text), Some(408), "{text:?}");
    assert_eq!(
        refusal_message(&text),
        "Request timeout: no complete request head within 1000 ms \
         (nginx_http_client_header_timeout)"
    );
    assert!(h.mock.requests().is_empty());
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

/// Trickles header lines, one every 200 ms for at most `limit`; answers whether the gateway
/// cut the connection (a write failed or it closed) and what it sent.
async fn trickle(stream: &mut TcpStream, limit: Duration) -> (bool, String) {
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if stream
            .write_all(format!("X-Slow-{i}: y\r\n").as_bytes())
            .await
            .is_err()
        {
            break;
        }
        i += 1;
    }
    let (text, closed) = read_until_closed(stream, Duration::from_secs(2)).await;
    (closed || started.elapsed() < limit, text)
}

#[tokio::test]
async fn a_slowloris_head_on_a_kept_alive_connection_is_cut_too() {
    // actix times only a connection's first head; the gateway times every one.
    let h = start("hostile-slowkeep", |s| {
        s.nginx_http_client_header_timeout = "1s".into();
        s.nginx_http_keepalive_timeout = "30s".into();
    })
    .await;
    let mut stream = TcpStream::connect(h.gateway.proxy).await.unwrap();
    stream
        .write_all(b"GET /marketplace/users HTTP/1.1\r\nHost: gw\r\n\r\n")
        .await
        .unwrap();
    let mut first = vec![0u8; 64 * 1024];
    let n = tokio::io::AsyncReadExt::read(&mut stream, &mut first)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    stream
        .write_all(b"GET /marketplace/users HTTP/1.1\r\nHost: gw\r\n")
        .await
        .unwrap();
    let (cut, text) = trickle(&mut stream, Duration::from_secs(15)).await;
    assert!(
        cut,
        "a trickled second head held the connection for 15 s: {text:?}"
    );
    // A kept-alive connection that behaves is not disturbed by the head timeout.
    let mut stream = TcpStream::connect(h.gateway.proxy).await.unwrap();
    for _ in 0..3 {
        stream
            .write_all(b"GET /marketplace/users HTTP/1.1\r\nHost: gw\r\n\r\n")
            .await
            .unwrap();
        let n = tokio::io::AsyncReadExt::read(&mut stream, &mut first)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_keepalive_timeout() {
    let h = start("hostile-idle", |s| {
        s.nginx_http_keepalive_timeout = "1s".into();
        s.nginx_http_client_header_timeout = "30s".into();
    })
    .await;
    let mut stream = TcpStream::connect(h.gateway.proxy).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    // Three requests 600 ms apart, 1.2 s in all: each response starts the idle time again.
    for i in 0..3 {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        stream
            .write_all(b"GET /marketplace/users HTTP/1.1\r\nHost: gw\r\n\r\n")
            .await
            .unwrap();
        let n = stream.read(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 200"), "request {i}: {text:?}");
    }
    let idle = Instant::now();
    let (text, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(closed, "an idle connection stayed open for 10 s");
    assert_eq!(text, "", "nothing is sent on an idle connection");
    assert!(
        idle.elapsed() >= Duration::from_millis(900),
        "closed after {:?}, before the keep-alive timeout",
        idle.elapsed()
    );
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

#[tokio::test]
async fn a_stalled_body_is_cut_by_the_body_timeout() {
    let h = start("hostile-slowbody", |s| {
        s.nginx_http_client_body_timeout = "1s".into()
    })
    .await;
    // REST route: the body streams to the upstream; the pause ends it with Kong's 408.
    let mut stream = TcpStream::connect(h.gateway.proxy).await.unwrap();
    let head = "POST /marketplace/users HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n{\"name\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let (text, _) = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert_eq!(status_line(&text), Some(408), "{text:?}");
    let body: Value = serde_json::from_str(body_of(&text)).expect("a JSON body");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Request timeout")
            && message.contains("nginx_http_client_body_timeout"),
        "{message}"
    );
    assert!(body["request_id"].is_string());

    // MCP route: the plugin reads the body itself; its JSON-RPC refusal names the cause.
    let mut stream = TcpStream::connect(h.gateway.proxy).await.unwrap();
    let head = "POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n8\r\n{\"jsonrp\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let (text, _) = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert_eq!(status_line(&text), Some(408), "{text:?}");
    let body: Value = serde_json::from_str(body_of(&text)).expect("a JSON-RPC body");
    assert_eq!(body["error"]["code"], -32600, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("nginx_http_client_body_timeout"),
        "{message}"
    );
    assert!(
        h.mock.requests().iter().all(|r| r.path != "/mcp"),
        "the cut MCP body never reached the upstream"
    );
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

#[tokio::test]
async fn bodies_over_the_limits_get_413_naming_the_limit() {
    let h = start("hostile-limit", |s| {
        s.nginx_http_client_max_body_size = "1k".into()
    })
    .await;
    // Declared too large: refused before a byte of the body is read.
    let (text, _) = raw_exchange(
        h.gateway.proxy,
        &post("/marketplace/users", "", &[b'x'; 2048]),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(status_line(&text), Some(413), "{text:?}");
    let body: Value = serde_json::from_str(body_of(&text)).expect("a JSON body");
    assert_eq!(
        body["message"],
        "Request size limit exceeded: request body exceeds nginx_http_client_max_body_size (1024 bytes)"
    );
    // Chunked, so only counting tells: refused once the count passes the limit.
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = (0..8)
        .map(|_| Ok(bytes::Bytes::from(vec![b'y'; 512])))
        .collect();
    let res = h
        .http
        .post(h.url("/marketplace/users"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("nginx_http_client_max_body_size (1024 bytes)"),
        "{body}"
    );
    assert!(
        h.mock.requests().iter().all(|r| r.body.len() <= 1024),
        "no upstream request carried more than the limit"
    );
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

#[tokio::test]
async fn a_refused_body_is_read_to_its_end_so_the_refusal_arrives() {
    let h = start("hostile-linger", |s| {
        s.nginx_http_client_max_body_size = "1k".into()
    })
    .await;
    // Sent whole before anything is read, as most clients send: 16 MiB, more than loopback's
    // socket buffers hold, so the writes go on after the gateway has answered.
    for path in ["/marketplace/users", "/mcp"] {
        let stream = TcpStream::connect(h.gateway.proxy).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let request = post(path, "", &vec![b' '; 16 << 20]);
        let written = tokio::spawn(async move {
            writer.write_all(&request).await?;
            writer.shutdown().await
        });
        // A gateway that closed at once would have reset the connection under the writes.
        written.await.unwrap().expect("the whole body is taken");
        let mut text = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut text))
            .await
            .expect("closed after the body")
            .expect("no reset");
        let text = String::from_utf8_lossy(&text);
        assert_eq!(status_line(&text), Some(413), "{path}: {text:?}");
    }
    assert!(h.mock.requests().is_empty());
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

#[tokio::test]
async fn an_endless_chunked_mcp_body_stops_at_max_request_body_size() {
    let h = start("hostile-endless", |_| {}).await;
    let mut stream = TcpStream::connect(h.gateway.proxy).await.unwrap();
    let head = "POST /mcp HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    // Up to 64 MiB in 64 KiB chunks; the gateway answers once it passed 1 MiB.
    let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
    let mut sent = 0usize;
    for _ in 0..1024 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
        sent += 0x10000;
        if sent >= 4 << 20 {
            break;
        }
    }
    let (text, _) = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert_eq!(status_line(&text), Some(413), "{text:?}");
    assert!(
        text.contains("max_request_body_size (1048576 bytes)"),
        "{text}"
    );
    assert!(h.mock.requests().is_empty());
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

#[tokio::test]
async fn malformed_and_adversarial_json_gets_json_rpc_errors() {
    let h = start("hostile-json", |_| {}).await;
    let before = rig::panics();
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let deep_params = format!(
        r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"list_users","arguments":{deep_array}}}}}"#
    );
    let mut invalid_utf8 =
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    invalid_utf8.extend_from_slice(br#""}}"#);
    for (what, body, id) in [
        (
            "array nested 100000 deep",
            deep_array.into_bytes(),
            Value::Null,
        ),
        (
            "object nested 100000 deep",
            deep_object.into_bytes(),
            Value::Null,
        ),
        (
            "arguments nested 100000 deep",
            deep_params.into_bytes(),
            Value::Null,
        ),
        ("invalid UTF-8", invalid_utf8, Value::Null),
    ] {
        let (status, body) = mcp(&h, body).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error"]["code"], -32700, "{what}: {body}");
        assert_eq!(body["id"], id, "{what}: {body}");
    }
    // Duplicate envelope keys, in any case: refused, with the id when it is not the ambiguous
    // member itself.
    let huge = "123456789012345678901234567890";
    let echoed = format!(r#""id":{huge}"#);
    for (what, body, id) in [
        (
            "duplicate method",
            format!(
                r#"{{"jsonrpc":"2.0","id":{huge},"method":"tools/list","method":"tools/call"}}"#
            ),
            echoed.as_str(),
        ),
        (
            "duplicate id, other case",
            format!(r#"{{"jsonrpc":"2.0","id":{huge},"ID":"x","method":"tools/list"}}"#),
            r#""id":null"#,
        ),
        (
            "duplicate tool name",
            format!(
                r#"{{"jsonrpc":"2.0","id":{huge},"method":"tools/call","params":{{"name":"list_users","name":"delete_all"}}}}"#
            ),
            echoed.as_str(),
        ),
    ] {
        let res = h.mcp_post(h.url("/mcp")).body(body).send().await.unwrap();
        assert_eq!(res.status(), 400, "{what}");
        let text = res.text().await.unwrap();
        // A readable id is echoed as the very same number token, not rounded through a float.
        assert!(text.contains(id), "{what}: {text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["error"]["code"], -32600, "{what}: {body}");
    }
    assert!(
        h.mock.requests().is_empty(),
        "nothing refused was forwarded"
    );

    // Huge numbers are not an error: the bytes are forwarded exactly as sent.
    let numbers = format!(
        r#"{{"jsonrpc":"2.0","id":{huge},"method":"tools/call","params":{{"name":"search_orders","arguments":{{"q":"x","n":1e400,"m":-0.0000000000000000000000001,"k":{huge}{huge}}}}}}}"#
    );
    let (status, _) = mcp(&h, numbers.clone().into_bytes()).await;
    assert!(status < 500, "{status}");
    let seen = h.mock.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(&seen[0].body[..], numbers.as_bytes());

    // Non-MCP traffic with invalid UTF-8 is ordinary HTTP: forwarded untouched.
    h.mock.clear_requests();
    let raw = vec![0xffu8, 0x00, b'{', 0xc0, 0xaf];
    let res = h
        .http
        .post(h.url("/marketplace/users"))
        .header("Content-Type", "application/octet-stream")
        .body(raw.clone())
        .send()
        .await
        .unwrap();
    assert!(res.status().as_u16() < 500);
    assert_eq!(&h.mock.requests()[0].body[..], &raw[..]);

    assert_eq!(rig::panics(), before, "a gateway thread panicked");
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

#[tokio::test]
async fn header_floods_are_refused_with_431() {
    let h = start("hostile-headers", |_| {}).await;
    let many: String = (0..200).map(|i| format!("X-Flood-{i}: v\r\n")).collect();
    let huge = format!("X-Huge: {}\r\n", "h".repeat(256 * 1024));
    for (what, extra) in [("200 headers", many), ("a 256 KiB header", huge)] {
        let request = format!("GET /marketplace/users HTTP/1.1\r\nHost: gw\r\n{extra}\r\n");
        let (text, closed) =
            raw_exchange(h.gateway.proxy, request.as_bytes(), Duration::from_secs(10)).await;
        assert_eq!(status_line(&text), Some(431), "{what}: {text:?}");
        assert_eq!(
            refusal_message(&text),
            "Request header or cookie too large: a request head may have at most 96 headers \
             and 128 KiB",
            "{what}"
        );
        assert!(closed, "{what}: the connection is closed after the refusal");
    }
    assert!(h.mock.requests().is_empty());
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

#[tokio::test]
async fn heads_with_many_headers_are_forwarded_whole() {
    // The HTTP layer keeps the first 32 header positions inline and the rest on the heap: a head
    // on either side of that line, and one with 80 more, reaches the upstream intact (with the
    // forwarding headers the gateway adds, the upstream sees close to its own limit of 96).
    let h = start("hostile-many-headers", |_| {}).await;
    for count in [31usize, 33, 80] {
        h.mock.clear_requests();
        let extra: String = (0..count)
            .map(|i| format!("X-Many-{i}: v{i}\r\n"))
            .collect();
        let request = format!(
            "GET /marketplace/users HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n{extra}\r\n"
        );
        let (text, _) =
            raw_exchange(h.gateway.proxy, request.as_bytes(), Duration::from_secs(10)).await;
        assert_eq!(
            status_line(&text),
            Some(200),
            "{count} extra headers: {text:?}"
        );
        let seen = h.mock.requests();
        assert_eq!(seen.len(), 1, "{count} extra headers");
        for i in 0..count {
            let name = format!("x-many-{i}");
            let value = seen[0]
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                .map(|(_, v)| v.as_str());
            assert_eq!(value, Some(format!("v{i}").as_str()), "{count}: {name}");
        }
    }
}

#[tokio::test]
async fn malformed_request_heads_are_refused_naming_the_fault() {
    let h = start("hostile-malformed", |_| {}).await;
    let cases = [
        (
            "GET /marketplace/users HTTP/9.1\r\nHost: gw\r\n\r\n",
            "invalid HTTP version",
        ),
        (
            "G@T /marketplace/users HTTP/1.1\r\nHost: gw\r\n\r\n",
            "malformed request line or header, conflicting or signed Content-Length, or \
             Transfer-Encoding other than chunked",
        ),
    ];
    for (request, fault) in cases {
        let (text, closed) =
            raw_exchange(h.gateway.proxy, request.as_bytes(), Duration::from_secs(10)).await;
        assert_eq!(status_line(&text), Some(400), "{request:?}: {text:?}");
        assert_eq!(refusal_message(&text), format!("Bad request: {fault}"));
        assert!(
            closed,
            "{request:?}: the connection is closed after the refusal"
        );
    }
    assert!(h.mock.requests().is_empty());
    assert_eq!(status_of(&h, "/marketplace/users").await, 200);
}

#[tokio::test]
async fn request_smuggling_attempts_are_refused_and_never_reach_the_upstream() {
    let h = start("hostile-smuggle", |_| {}).await;
    let smuggled = "GET /marketplace/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n";
    let attempts = [
        (
            "CL.TE",
            format!(
                "POST /marketplace/users HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\
                 Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "TE.CL",
            format!(
                "POST /marketplace/users HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\
                 Content-Length: 4\r\n\r\n5c\r\n{smuggled}\r\n0\r\n\r\n"
            ),
        ),
        (
            "two Content-Length",
            format!(
                "POST /marketplace/users HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\
                 Content-Length: {}\r\n\r\n{smuggled}",
                smuggled.len()
            ),
        ),
        (
            "obfuscated Transfer-Encoding",
            format!(
                "POST /marketplace/users HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: xchunked\r\n\
                 \r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "two Transfer-Encoding",
            format!(
                "POST /marketplace/users HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\
                 Transfer-Encoding: identity\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "signed Content-Length",
            format!(
                "POST /marketplace/users HTTP/1.1\r\nHost: gw\r\nContent-Length: +0\r\n\r\n{smuggled}"
            ),
        ),
    ];
    for (what, request) in &attempts {
        let (text, closed) =
            raw_exchange(h.gateway.proxy, request.as_bytes(), Duration::from_secs(10)).await;
        assert_eq!(status_line(&text), Some(400), "{what}: {text:?}");
        assert_eq!(
            refusal_message(&text),
            "Bad request: malformed request line or header, conflicting or signed \
             Content-Length, or Transfer-Encoding other than chunked",
            "{what}"
        );
        assert_eq!(
            text.matches("HTTP/1.1 ").count(),
            1,
            "{what}: one answer, no second request served: {text:?}"
        );
        assert!(closed, "{what}: the connection is closed after the refusal");
    }
    assert!(
        h.mock.requests().is_empty(),
        "the upstream saw {:?}",
        h.mock.requests()
    );
    // A well-formed chunked request still reaches the upstream exactly once.
    let request =
        "POST /marketplace/users HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
                   Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    let (text, _) =
        raw_exchange(h.gateway.proxy, request.as_bytes(), Duration::from_secs(10)).await;
    assert!(status_line(&text).is_some_and(|s| s < 500), "{text:?}");
    let seen = h.mock.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(&seen[0].body[..], b"{}");
}

/// Open file descriptors of process `pid`.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[tokio::test]
async fn ten_thousand_idle_connections_keep_memory_bounded() {
    // The gateway runs as a child process: the connections cost this process one descriptor
    // each and the gateway another, which together would not fit one process's limit.
    let wanted = 10_000u64;
    let limit = rig::open_files_limit();
    let count = wanted.min(limit.saturating_sub(1_500)) as usize;
    if (count as u64) < wanted {
        eprintln!(
            "open-files limit is {limit}: holding {count} idle connections instead of {wanted}"
        );
    }
    assert!(
        count >= 1_000,
        "open-files limit {limit} is too low for this test"
    );
    let mock = mock_marketplace::spawn(Options::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kong.yaml");
    std::fs::write(
        &config,
        crate::common::marketplace_yaml().replace("{mock}", &mock.addr().to_string()),
    )
    .unwrap();
    let gw = rig::ChildGateway::start(
        &config,
        &[("KONG_NGINX_HTTP_CLIENT_HEADER_TIMEOUT", "300s")],
    );
    let http = reqwest::Client::new();
    let get = |http: reqwest::Client, url: String| async move {
        http.get(url)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    for _ in 0..20 {
        assert_eq!(get(http.clone(), gw.url("/marketplace/users")).await, 200);
    }
    let base_fds = open_fds(gw.pid());
    let base_rss = gw.rss_kib();

    let mut held = Vec::with_capacity(count);
    while held.len() < count {
        let batch = (count - held.len()).min(500);
        let opened =
            futures_util::future::join_all((0..batch).map(|_| TcpStream::connect(gw.proxy))).await;
        for stream in opened {
            held.push(stream.expect("connect"));
        }
    }
    // Every connection accepted and held by the gateway.
    let fds = crate::common::eventually(Duration::from_secs(60), || async {
        let n = open_fds(gw.pid());
        (n >= base_fds + count).then_some(n)
    })
    .await;
    assert_eq!(get(http.clone(), gw.url("/marketplace/users")).await, 200);
    let loaded_rss = gw.rss_kib();
    let per_connection = (loaded_rss.saturating_sub(base_rss) * 1024) / count as u64;
    eprintln!(
        "{count} idle connections: gateway fds {base_fds} -> {fds}, RSS {base_rss} KiB -> \
         {loaded_rss} KiB ({per_connection} bytes per connection)"
    );
    // actix keeps a read buffer and a dispatcher per connection (about 12 KiB measured); the
    // bound catches anything that grows with more than that.
    assert!(
        per_connection < 32 * 1024,
        "{per_connection} bytes of resident memory per idle connection"
    );
    drop(held);
    crate::common::eventually(Duration::from_secs(60), || async {
        (open_fds(gw.pid()) < base_fds + 100).then_some(())
    })
    .await;
    assert_eq!(get(http.clone(), gw.url("/marketplace/users")).await, 200);
}
