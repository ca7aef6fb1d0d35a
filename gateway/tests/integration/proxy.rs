//! Routing, path rewriting, headers, bodies and Kong's error bodies through the proxy.

use std::time::Duration;

use mock_marketplace::Options;
use serde_json::{json, Value};

use crate::common::{header, one_service_yaml, Harness};
use crate::rig;

#[tokio::test]
async fn routes_strip_the_prefix_and_keep_the_query() {
    let h = Harness::marketplace(Options::default(), "").await;
    let res = h
        .http
        .get(h.url("/marketplace/users?limit=2&flag"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let users: Value = res.json().await.unwrap();
    assert_eq!(users.as_array().map(Vec::len), Some(10));
    let seen = h.mock.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/users?limit=2&flag");

    let res = h
        .http
        .get(h.url("/marketplace/a1b2c3d4/orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let orders: Value = res.json().await.unwrap();
    assert_eq!(orders[0]["id"], "ord001");
}

#[tokio::test]
async fn upstream_404_is_relayed_untouched() {
    let h = Harness::marketplace(Options::default(), "").await;
    let res = h
        .http
        .get(h.url("/marketplace/users/nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "User not found"})
    );
}

#[tokio::test]
async fn no_route_is_kongs_404() {
    let h = Harness::marketplace(Options::default(), "").await;
    let res = h.http.get(h.url("/elsewhere")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let id = res.headers()["x-kong-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], id.as_str());
    insta::assert_json_snapshot!("no_route", body, { ".request_id" => "[request_id]" });
    assert!(h.mock.requests().is_empty());
}

#[tokio::test]
async fn longest_prefix_and_service_paths() {
    let yaml = r#"_format_version: "3.0"
services:
  - name: root
    url: http://{mock}
    routes:
      - name: short
        paths: [/m]
  - name: prefixed
    url: http://{mock}/marketplace
    routes:
      - name: long
        paths: [/mk]
      - name: keep
        strip_path: false
        paths: [/users]
"#;
    let h = Harness::start(Options::default(), yaml).await;
    for (path, upstream) in [
        ("/m/users", "/users"),
        ("/mk/users", "/marketplace/users"),
        ("/mkusers", "/marketplace/users"),
        ("/users/a1b2c3d4", "/marketplace/users/a1b2c3d4"),
    ] {
        h.mock.clear_requests();
        let res = h.http.get(h.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(h.mock.requests()[0].path, upstream, "{path}");
    }
}

#[tokio::test]
async fn forwards_headers_kong_adds_and_drops_hop_by_hop() {
    let h = Harness::marketplace(Options::default(), "").await;
    let res = h
        .http
        .get(h.url("/marketplace/users"))
        .header("Host", "api.example.test:8443")
        .header("X-Forwarded-For", "10.1.2.3")
        .header("Connection", "keep-alive, X-Hop")
        .header("X-Hop", "must not pass")
        .header("Mcp-Session-Id", "abc")
        .header("Authorization", "Bearer t")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for name in [
        "x-kong-request-id",
        "x-kong-upstream-latency",
        "x-kong-proxy-latency",
    ] {
        assert!(res.headers().contains_key(name), "{name} missing");
    }
    let seen = &h.mock.requests()[0];
    assert_eq!(
        header(seen, "host"),
        Some(h.mock.addr().to_string().as_str())
    );
    assert_eq!(header(seen, "x-forwarded-for"), Some("10.1.2.3, 127.0.0.1"));
    assert_eq!(header(seen, "x-forwarded-host"), Some("api.example.test"));
    assert_eq!(header(seen, "x-forwarded-proto"), Some("http"));
    assert_eq!(
        header(seen, "x-forwarded-port"),
        Some(h.gateway.proxy.port().to_string().as_str())
    );
    assert_eq!(header(seen, "x-forwarded-path"), Some("/marketplace/users"));
    assert_eq!(header(seen, "x-forwarded-prefix"), Some("/marketplace"));
    assert_eq!(header(seen, "x-real-ip"), Some("127.0.0.1"));
    assert_eq!(header(seen, "mcp-session-id"), Some("abc"));
    assert_eq!(header(seen, "authorization"), Some("Bearer t"));
    assert_eq!(header(seen, "x-hop"), None);
    assert!(header(seen, "x-kong-request-id").is_some());
}

#[tokio::test]
async fn the_upstream_gets_no_headers_the_client_did_not_imply() {
    let h = Harness::marketplace(Options::default(), "").await;
    let send = |head: &'static str| {
        rig::raw_exchange(h.gateway.proxy, head.as_bytes(), Duration::from_secs(10))
    };
    let (answer, closed) =
        send("GET /marketplace/users HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n").await;
    assert!(closed, "{answer}");
    assert_eq!(rig::status_line(&answer), Some(200), "{answer}");
    let (answer, closed) = send(
        "POST /marketplace/users HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\
         Accept-Encoding: gzip\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(closed && rig::status_line(&answer).is_some(), "{answer}");
    let seen = h.mock.requests();
    assert_eq!(seen.len(), 2);
    // A GET without a body goes up without a length, and nothing is added on the client's
    // behalf: no `Date` (a response header), no `Accept-Encoding` it did not send.
    for name in [
        "content-length",
        "transfer-encoding",
        "date",
        "accept-encoding",
    ] {
        assert_eq!(header(&seen[0], name), None, "{name} was added");
    }
    // What the client did send goes up as sent.
    assert_eq!(header(&seen[1], "content-length"), Some("0"));
    assert_eq!(header(&seen[1], "accept-encoding"), Some("gzip"));
    assert_eq!(header(&seen[1], "date"), None);
}

#[tokio::test]
async fn preserve_host_sends_the_clients_host() {
    let yaml = r#"_format_version: "3.0"
services:
  - name: s
    url: http://{mock}
    routes:
      - name: r
        preserve_host: true
        paths: [/p]
"#;
    let h = Harness::start(Options::default(), yaml).await;
    h.http
        .get(h.url("/p/users"))
        .header("Host", "client.test")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&h.mock.requests()[0], "host"), Some("client.test"));
}

#[tokio::test]
async fn dot_segments_cannot_escape_a_route() {
    let h = Harness::marketplace(Options::default(), "").await;
    // Normalized to /users: no route, so nothing reaches the upstream.
    let res = h
        .http
        .get(h.url("/marketplace/%2e%2e/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(h.mock.requests().is_empty());
    let res = h
        .http
        .get(h.url("/x/../marketplace//users"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(h.mock.requests()[0].path, "/users");
}

#[tokio::test]
async fn request_body_is_forwarded_byte_for_byte() {
    let h = Harness::marketplace(Options::default(), "").await;
    let body = br#"{ "jsonrpc":"2.0", "id": 7,"method":"tools/list" , "params":{} }"#;
    let res = h
        .mcp_post(h.url("/marketplace/mcp"))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen = &h.mock.requests()[0];
    assert_eq!(seen.path, "/mcp");
    assert_eq!(&seen.body[..], &body[..]);
    assert_eq!(
        header(seen, "content-length"),
        Some(body.len().to_string().as_str())
    );
}

#[tokio::test]
async fn chunked_request_bodies_stream_through() {
    let h = Harness::marketplace(Options::default(), "").await;
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
        Ok(bytes::Bytes::from_static(br#"{"jsonrpc":"2.0","id":"a","#)),
        Ok(bytes::Bytes::from_static(
            br#""method":"tools/list","params":{}}"#,
        )),
    ];
    let res = h
        .mcp_post(h.url("/marketplace/mcp"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["id"], "a");
    assert_eq!(body["result"]["tools"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn upstream_down_is_502_and_other_routes_keep_serving() {
    let dead_addr = crate::rig::closed_addr();
    let yaml = format!(
        "{}  - name: dead\n    url: http://{dead_addr}\n    routes:\n      - name: dead-route\n        paths: [/dead]\n",
        crate::common::marketplace_yaml()
    );
    let h = Harness::start(Options::default(), &yaml).await;
    let res = h.http.get(h.url("/dead")).send().await.unwrap();
    assert_eq!(res.status(), 502);
    let body: Value = res.json().await.unwrap();
    insta::assert_json_snapshot!("upstream_down", body, { ".request_id" => "[request_id]" });
    let res = h
        .http
        .get(h.url("/marketplace/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn unresolvable_upstream_is_503() {
    let yaml = r#"_format_version: "3.0"
services:
  - name: nowhere
    url: http://upstream.invalid:80
    connect_timeout: 2000
    routes:
      - name: r
        paths: [/nowhere]
"#;
    let h = Harness::start(Options::default(), yaml).await;
    let res = h.http.get(h.url("/nowhere")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["message"],
        "The upstream server is currently unavailable"
    );
}

#[tokio::test]
async fn slow_upstream_is_504() {
    let yaml = r#"_format_version: "3.0"
services:
  - name: slow
    url: http://{mock}
    read_timeout: 200
    routes:
      - name: r
        paths: [/slow]
"#;
    let options = Options {
        delay: Some(Duration::from_millis(1500)),
        ..Options::default()
    };
    let h = Harness::start(options, yaml).await;
    let started = std::time::Instant::now();
    let res = h.http.get(h.url("/slow/users")).send().await.unwrap();
    assert_eq!(res.status(), 504);
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    let body: Value = res.json().await.unwrap();
    insta::assert_json_snapshot!("upstream_timeout", body, { ".request_id" => "[request_id]" });
}

#[tokio::test]
async fn route_without_service_is_503() {
    let yaml = r#"_format_version: "3.0"
routes:
  - name: orphan
    paths: [/orphan]
"#;
    let h = Harness::start(Options::default(), yaml).await;
    let res = h.http.get(h.url("/orphan")).send().await.unwrap();
    assert_eq!(res.status(), 503);
}

#[tokio::test]
async fn large_response_streams_through_intact() {
    let size = 8 * 1024 * 1024;
    let options = Options {
        large_result: Some(size),
        ..Options::default()
    };
    let h = Harness::marketplace(options, "").await;
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_orders","arguments":{}}}"#;
    let fetch = |url: String| async {
        let res = h.mcp_post(url).body(body).send().await.unwrap();
        res.bytes().await.unwrap()
    };
    let direct = fetch(format!("{}/mcp", h.mock.url())).await;
    let proxied = fetch(h.url("/marketplace/mcp")).await;
    assert!(direct.len() >= size, "{}", direct.len());
    assert_eq!(proxied.len(), direct.len());
    assert!(proxied == direct);
}

/// The client gets the upstream's end-to-end headers as they were, repeated ones included,
/// plus Kong's: no header is invented (a streamed answer without a content type stays without
/// one) and what `Connection` names stays on the upstream's hop.
#[tokio::test]
async fn response_headers_are_the_upstreams_end_to_end_ones() {
    use crate::rig::{read_request, FakeUpstream};
    use tokio::io::AsyncWriteExt;

    let fake = FakeUpstream::start(|mut stream| async move {
        while read_request(&mut stream).await.is_some() {
            let answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: x-hop\r\n\
                          X-Hop: secret\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Upstream: bare\r\n\r\n\
                          5\r\nhello\r\n0\r\n\r\n";
            if stream.write_all(answer.as_bytes()).await.is_err() {
                break;
            }
        }
    })
    .await;
    let yaml = one_service_yaml("bare", fake.addr);
    let h = Harness::start(Options::default(), &yaml).await;
    let res = h.http.get(h.url("/bare/x")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(res.text().await.unwrap(), "hello");
    assert_eq!(headers.get("content-type"), None, "{headers:?}");
    assert_eq!(headers.get("x-hop"), None, "{headers:?}");
    assert_eq!(headers["x-upstream"], "bare");
    let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    for kong in [
        "x-kong-upstream-latency",
        "x-kong-proxy-latency",
        "x-kong-request-id",
    ] {
        assert!(headers.contains_key(kong), "{kong} missing: {headers:?}");
    }
}

/// Request bodies reach the upstream byte for byte, whatever their size: a large JSON body
/// (read whole by ai-mcp-proxy, then written to the connection as it is) and a small one take
/// turns on one kept-alive upstream connection, so a body's framing that went wrong would
/// corrupt the next exchange.
#[tokio::test]
async fn request_bodies_of_any_size_reach_the_upstream_intact() {
    use crate::rig::{read_request, FakeUpstream};
    use tokio::io::AsyncWriteExt;

    let fake = FakeUpstream::start(|mut stream| async move {
        while let Some(body) = read_request(&mut stream).await {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            if stream.write_all(head.as_bytes()).await.is_err()
                || stream.write_all(&body).await.is_err()
            {
                break;
            }
        }
    })
    .await;
    let yaml = one_service_yaml("echo", fake.addr)
        + "plugins:\n  - name: ai-mcp-proxy\n    config:\n      mode: passthrough-listener\n      max_request_body_size: 4194304\n";
    let h = Harness::start(Options::default(), &yaml).await;
    let call = |pad: usize| {
        format!(
            r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"get_user","arguments":{{"id":"a1b2c3d4"}},"_meta":{{"pad":"{}"}}}}}}"#,
            "ab".repeat(pad / 2)
        )
    };
    for pad in [1_000_000, 10, 300_000, 65_536, 2_000_000, 0] {
        let body = call(pad);
        let res = h
            .mcp_post(h.url("/echo/mcp"))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "pad {pad}");
        let echoed = res.bytes().await.unwrap();
        assert_eq!(echoed.len(), body.len(), "pad {pad}");
        assert!(
            echoed == body.as_bytes(),
            "pad {pad}: the upstream got other bytes"
        );
    }
    assert_eq!(
        fake.accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "every exchange on one upstream connection"
    );
}

/// Header names pass through in the order their sender wrote them, both ways: the client's
/// request reaches the upstream with its headers in the client's order (Kong's own after them),
/// and the upstream's answer reaches the client in the upstream's order. Several names are
/// chosen so that no hash order would keep them, and each exchange runs many times on fresh
/// maps, so an order that only happens to hold once does not pass.
#[tokio::test]
async fn header_order_is_kept_both_ways() {
    use crate::rig::{raw_exchange, read_head, FakeUpstream};
    use std::sync::{Arc, Mutex};
    use tokio::io::AsyncWriteExt;

    const CLIENT: [&str; 8] = [
        "zeta",
        "accept",
        "x-omega",
        "alpha",
        "x-c",
        "user-agent",
        "x-b",
        "x-a",
    ];
    const UPSTREAM: [&str; 7] = [
        "x-last-first",
        "content-type",
        "x-m",
        "cache-control",
        "x-b",
        "x-a",
        "etag",
    ];
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    let fake = FakeUpstream::start(move |mut stream| {
        let seen = seen.clone();
        async move {
            loop {
                let head = read_head(&mut stream).await;
                if head.is_empty() {
                    break;
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let mut answer = String::from("HTTP/1.1 200 OK\r\n");
                for name in UPSTREAM {
                    answer += &format!("{name}: v\r\n");
                }
                answer += "Content-Length: 2\r\n\r\nok";
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    break;
                }
            }
        }
    })
    .await;
    let yaml = one_service_yaml("order", fake.addr);
    let h = Harness::start(Options::default(), &yaml).await;
    let mut request = String::from("GET /order/x HTTP/1.1\r\nHost: example.test\r\n");
    for name in CLIENT {
        request += &format!("{name}: v\r\n");
    }
    request += "Connection: close\r\n\r\n";
    // The names of `head`'s header lines that are in `wanted`, in the order they appear.
    let order = |head: &str, wanted: &[&str]| -> Vec<String> {
        head.lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(name, _)| name.trim().to_ascii_lowercase())
            .filter(|name| wanted.contains(&name.as_str()))
            .collect()
    };
    for _ in 0..20 {
        let (text, _) =
            raw_exchange(h.gateway.proxy, request.as_bytes(), Duration::from_secs(10)).await;
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert_eq!(order(&text, &UPSTREAM), UPSTREAM, "to the client: {text}");
        let upstream = heads
            .lock()
            .unwrap()
            .pop()
            .expect("the upstream saw the request");
        assert_eq!(
            order(&upstream, &CLIENT),
            CLIENT,
            "to the upstream: {upstream}"
        );
        // Kong's headers come after the client's.
        let names = order(&upstream, &["x-a", "x-forwarded-for", "x-kong-request-id"]);
        assert_eq!(
            names,
            ["x-a", "x-forwarded-for", "x-kong-request-id"],
            "{upstream}"
        );
    }
}

/// The server drops a response body only after writing its last bytes, so what runs when the
/// relayed body is dropped (the log phase) never holds the response back. The body here waits
/// in its drop until the client has read the whole response: had it been dropped before the
/// write, the client would see nothing until that wait gave up.
#[test]
fn a_response_body_is_dropped_after_its_last_bytes_are_written() {
    use std::convert::Infallible;
    use std::io::{Read, Write};
    use std::pin::Pin;
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll};

    use actix_web::body::{BodySize, MessageBody};
    use actix_web::{web, App, HttpResponse, HttpServer};

    struct Body {
        data: Option<bytes::Bytes>,
        client_has_it: mpsc::Receiver<()>,
        verdict: mpsc::Sender<bool>,
    }
    impl MessageBody for Body {
        type Error = Infallible;
        fn size(&self) -> BodySize {
            BodySize::Sized(2)
        }
        fn poll_next(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<bytes::Bytes, Infallible>>> {
            Poll::Ready(self.data.take().map(Ok))
        }
    }
    impl Drop for Body {
        fn drop(&mut self) {
            let read_first = self
                .client_has_it
                .recv_timeout(Duration::from_secs(3))
                .is_ok();
            let _ = self.verdict.send(read_first);
        }
    }

    let (client_has_it, told) = mpsc::channel();
    let (verdict, verdicts) = mpsc::channel();
    let parts = Arc::new(Mutex::new(Some((told, verdict))));
    let (addr_tx, addr_rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let parts = parts.clone();
                App::new().route(
                    "/",
                    web::get().to(move || {
                        let (told, verdict) = parts.lock().unwrap().take().expect("one request");
                        async move {
                            HttpResponse::Ok().body(Body {
                                data: Some(bytes::Bytes::from_static(b"ok")),
                                client_has_it: told,
                                verdict,
                            })
                        }
                    }),
                )
            })
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
            addr_tx.send(server.addrs()[0]).unwrap();
            server.run().await.unwrap();
        });
    });
    let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.ends_with(b"\r\n\r\nok") {
        let n = stream.read(&mut buf).expect("the response arrives");
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let _ = client_has_it.send(());
    assert_eq!(
        verdicts.recv_timeout(Duration::from_secs(10)),
        Ok(true),
        "the body was dropped before the client had its last bytes"
    );
}

/// An upstream that sends Kong's own response headers does not get them to the client: the
/// gateway's values replace them, once each.
#[tokio::test]
async fn kongs_response_headers_from_an_upstream_are_replaced() {
    use crate::rig::{raw_exchange, read_head, FakeUpstream};
    use tokio::io::AsyncWriteExt;

    let fake = FakeUpstream::start(|mut stream| async move {
        read_head(&mut stream).await;
        let answer = "HTTP/1.1 200 OK\r\nX-Kong-Request-Id: from-upstream\r\n\
                      X-Kong-Proxy-Latency: 999\r\nX-Kong-Proxy-Latency: 998\r\n\
                      X-Kong-Upstream-Latency: 997\r\nContent-Length: 2\r\n\r\nok";
        let _ = stream.write_all(answer.as_bytes()).await;
    })
    .await;
    let yaml = one_service_yaml("k", fake.addr);
    let h = Harness::start(Options::default(), &yaml).await;
    let request = b"GET /k/x HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n";
    let (text, _) = raw_exchange(h.gateway.proxy, request, Duration::from_secs(10)).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let values = |name: &str| -> Vec<String> {
        text.lines()
            .filter_map(|line| line.split_once(':'))
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .collect()
    };
    for name in [
        "x-kong-request-id",
        "x-kong-proxy-latency",
        "x-kong-upstream-latency",
    ] {
        let got = values(name);
        assert_eq!(got.len(), 1, "{name}: {text}");
        assert!(
            !["from-upstream", "999", "998", "997"].contains(&got[0].as_str()),
            "{name}: {text}"
        );
    }
}
