//! MCP behaviour over raw HTTP: the recorder, SSE framing, progress and delay,
//! batches, the large result, version negotiation, and snapshots of what the server advertises.

mod common;

use std::time::{Duration, Instant};

use common::{call, mcp_post, modern_post, modern_request, request, sse_events};
use mock_marketplace::{spawn, Options};
use serde_json::{json, Value};

#[tokio::test]
async fn recorder_keeps_requests_exactly() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    // Odd spacing and key order: the recorder must keep the bytes, not a re-encoding.
    let body = "{ \"method\":\"tools/list\",  \"id\":\"a-1\",\"jsonrpc\":\"2.0\" }";
    let response = mcp_post(&format!("{}?tenant=x&y=%20", mock.mcp_url()), body)
        .header("X-Custom-Thing", "Value With Caps")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    let recorded = &requests[0];
    assert_eq!(recorded.method, "POST");
    assert_eq!(recorded.path, "/mcp?tenant=x&y=%20");
    assert_eq!(recorded.body.as_ref(), body.as_bytes());
    assert_eq!(recorded.header("x-custom-thing"), Some("Value With Caps"));
    assert!(recorded
        .headers
        .iter()
        .any(|(name, value)| name == "content-type" && value == "application/json"));
    assert!(recorded
        .headers
        .iter()
        .all(|(name, _)| *name == name.to_ascii_lowercase()));
    assert!(
        recorded
            .headers
            .windows(2)
            .all(|pair| pair[0].0 <= pair[1].0),
        "sorted by name"
    );
    mock.clear_requests();
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn sse_option_frames_each_response_as_an_event_with_an_id() {
    let mock = spawn(Options {
        sse: true,
        ..Options::default()
    })
    .await
    .expect("mock starts");
    let response = mcp_post(&mock.mcp_url(), request(7, "tools/list", json!({})))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let events = sse_events(&response.text().await.expect("body"));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.as_deref(), Some("message"));
    assert!(events[0].id.is_some());
    assert_eq!(events[0].data["id"], 7);
    assert_eq!(
        events[0].data["result"]["tools"].as_array().map(Vec::len),
        Some(5)
    );
}

#[tokio::test]
async fn notifications_and_client_responses_are_202_without_body() {
    for sse in [false, true] {
        let mock = spawn(Options {
            sse,
            ..Options::default()
        })
        .await
        .expect("mock starts");
        let bodies = [
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            json!({"jsonrpc": "2.0", "id": 5, "result": {}}),
            json!({"jsonrpc": "2.0", "id": 6, "error": {"code": -1, "message": "no"}}),
        ];
        for body in bodies {
            let response = mcp_post(&mock.mcp_url(), body.to_string())
                .send()
                .await
                .expect("POST");
            assert_eq!(response.status(), 202);
            assert!(response.bytes().await.expect("body").is_empty());
        }
    }
}

/// Progress events are flushed as they happen, well before a delayed result.
#[tokio::test]
async fn progress_events_arrive_before_a_delayed_result() {
    let options = Options {
        sse: true,
        progress: 3,
        progress_interval: Duration::from_millis(50),
        delay: Some(Duration::from_millis(500)),
        ..Options::default()
    };
    let mock = spawn(options).await.expect("mock starts");
    let mut params = json!({"name": "list_users", "arguments": {}});
    params["_meta"] = json!({"progressToken": "tok-1"});
    let started = Instant::now();
    let mut response = mcp_post(&mock.mcp_url(), request(1, "tools/call", params))
        .send()
        .await
        .expect("POST");
    let mut text = String::new();
    let mut first_progress_at = None;
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        text.push_str(&String::from_utf8_lossy(&chunk));
        if first_progress_at.is_none() && text.contains("notifications/progress") {
            first_progress_at = Some(started.elapsed());
        }
    }
    let finished_at = started.elapsed();
    let first_progress_at = first_progress_at.expect("progress seen");
    // The server sends the first event at once and the result 650 ms later; a buffered stream
    // would deliver them together.
    let gap = finished_at - first_progress_at;
    assert!(
        gap >= Duration::from_millis(400),
        "{first_progress_at:?} then {finished_at:?}"
    );

    let events = sse_events(&text);
    assert_eq!(events.len(), 4);
    for (step, event) in events[..3].iter().enumerate() {
        assert_eq!(event.data["method"], "notifications/progress");
        assert_eq!(event.data["params"]["progressToken"], "tok-1");
        assert_eq!(event.data["params"]["progress"], step + 1);
        assert_eq!(event.data["params"]["total"], 3);
    }
    assert_eq!(events[3].data["id"], 1);
    assert_eq!(
        events[3].data["result"]["structuredContent"]["users"],
        common::users()
    );
    let ids: Vec<u64> = events
        .iter()
        .filter_map(|e| e.id.as_deref()?.parse().ok())
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
}

#[tokio::test]
async fn progress_without_token_uses_the_request_id() {
    let options = Options {
        sse: true,
        progress: 1,
        progress_interval: Duration::ZERO,
        ..Options::default()
    };
    let mock = spawn(options).await.expect("mock starts");
    let response = mcp_post(&mock.mcp_url(), call(42, "list_orders", json!({})))
        .send()
        .await
        .expect("POST");
    let events = sse_events(&response.text().await.expect("body"));
    assert_eq!(events[0].data["params"]["progressToken"], 42);
    assert_eq!(events[1].data["id"], 42);
}

#[tokio::test]
async fn delay_holds_json_answers_back() {
    let delay = Duration::from_millis(300);
    let mock = spawn(Options {
        delay: Some(delay),
        ..Options::default()
    })
    .await
    .expect("mock");
    let started = Instant::now();
    let response = mcp_post(&mock.mcp_url(), request(1, "ping", json!({})))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= delay);
}

#[tokio::test]
async fn large_result_pads_list_orders_only() {
    let size = 256 * 1024;
    let mock = spawn(Options {
        large_result: Some(size),
        ..Options::default()
    })
    .await
    .expect("mock");
    let body = mcp_post(&mock.mcp_url(), call(1, "list_orders", json!({})))
        .send()
        .await
        .expect("POST")
        .text()
        .await
        .expect("body");
    assert!(
        body.len() >= size && body.len() < size + 1024,
        "{}",
        body.len()
    );
    let reply: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        reply["result"]["structuredContent"]["orders"],
        json!(common::orders())
    );
    assert_eq!(reply["result"]["content"].as_array().map(Vec::len), Some(2));
    let small = mcp_post(&mock.mcp_url(), call(2, "list_users", json!({})))
        .send()
        .await
        .expect("POST")
        .text()
        .await
        .expect("body");
    assert!(small.len() < 4096);
}

#[tokio::test]
async fn batches_follow_2025_03_26() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "two", "method": "tools/call", "params": {"name": "nope"}},
        {"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {"protocolVersion": "2025-03-26"}}
    ]);
    let response = mcp_post(&mock.mcp_url(), batch.to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    let replies: Value = response.json().await.expect("array");
    assert_eq!(replies[0], json!({"jsonrpc": "2.0", "id": 1, "result": {}}));
    assert_eq!(
        (
            replies[1]["id"].clone(),
            replies[1]["error"]["code"].clone()
        ),
        (json!("two"), json!(-32602))
    );
    assert_eq!(
        (
            replies[2]["id"].clone(),
            replies[2]["error"]["code"].clone()
        ),
        (json!(3), json!(-32600))
    );
    assert_eq!(replies.as_array().map(Vec::len), Some(3));

    let only_notifications = json!([{"jsonrpc": "2.0", "method": "notifications/initialized"}]);
    let response = mcp_post(&mock.mcp_url(), only_notifications.to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 202);

    for (version, body) in [
        (Some("2025-06-18"), batch.to_string()),
        (None, "[]".to_owned()),
    ] {
        let mut builder = mcp_post(&mock.mcp_url(), body);
        if let Some(version) = version {
            builder = builder.header("mcp-protocol-version", version);
        }
        let response = builder.send().await.expect("POST");
        assert_eq!(response.status(), 400);
        let reply: Value = response.json().await.expect("error");
        assert_eq!(reply["error"]["code"], -32600);
    }
}

#[tokio::test]
async fn initialize_negotiates_a_handshake_version() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    let cases = [
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
        ("1999-01-01", "2025-11-25"),
    ];
    for (requested, expected) in cases {
        let params = json!({"protocolVersion": requested, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
        let reply: Value = mcp_post(&mock.mcp_url(), request(1, "initialize", params))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("JSON");
        assert_eq!(reply["result"]["protocolVersion"], expected, "{requested}");
        assert_eq!(reply["result"]["serverInfo"]["name"], "sample-users-mcp");
    }
}

#[tokio::test]
async fn mcp_is_served_at_root_and_under_the_prefix() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    for path in [
        "/",
        "/mcp",
        "/marketplace",
        "/marketplace/",
        "/marketplace/mcp",
    ] {
        let reply: Value = mcp_post(
            &format!("{}{path}", mock.url()),
            request(1, "ping", json!({})),
        )
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
        assert_eq!(
            reply,
            json!({"jsonrpc": "2.0", "id": 1, "result": {}}),
            "{path}"
        );
    }
}

async fn result_of(builder: reqwest::RequestBuilder) -> Value {
    let reply: Value = builder
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    reply["result"].clone()
}

#[tokio::test]
async fn snapshots_of_what_the_server_advertises() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    let url = mock.mcp_url();
    let tools = result_of(mcp_post(&url, request(1, "tools/list", json!({})))).await;
    insta::assert_json_snapshot!("tools_list_legacy", tools);
    let modern = modern_post(
        &url,
        "tools/list",
        None,
        modern_request(2, "tools/list", json!({})),
    );
    let modern_tools = result_of(modern).await;
    assert_eq!(modern_tools["tools"], tools["tools"]);
    assert_eq!(
        (
            modern_tools["ttlMs"].clone(),
            modern_tools["cacheScope"].clone()
        ),
        (json!(0), json!("private"))
    );
    let discover = modern_post(
        &url,
        "server/discover",
        None,
        modern_request(3, "server/discover", json!({})),
    );
    insta::assert_json_snapshot!("server_discover", result_of(discover).await);
    let params = json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
    insta::assert_json_snapshot!(
        "initialize",
        result_of(mcp_post(&url, request(4, "initialize", params))).await
    );
}

#[tokio::test]
async fn tools_list_pages_chain_by_next_cursor() {
    let mock = spawn(Options {
        tools_page_size: Some(2),
        ..Options::default()
    })
    .await
    .expect("mock starts");
    let url = mock.mcp_url();
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = cursor
            .as_ref()
            .map_or(json!({}), |c| json!({ "cursor": c }));
        let page = result_of(mcp_post(&url, request(pages, "tools/list", params))).await;
        pages += 1;
        let tools = page["tools"].as_array().expect("tools");
        assert!(tools.len() <= 2, "page {pages}: {page}");
        names.extend(
            tools
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_string()),
        );
        match page.get("nextCursor") {
            Some(next) => cursor = Some(next.as_str().unwrap().to_string()),
            None => break,
        }
        assert!(pages < 10, "cursor never ends");
    }
    assert_eq!(pages, 3);
    assert_eq!(
        names,
        [
            "list_users",
            "get_user",
            "list_orders",
            "list_orders_for_user",
            "search_orders"
        ]
    );
    let bad = mcp_post(&url, request(9, "tools/list", json!({ "cursor": "zz" })))
        .send()
        .await
        .expect("POST")
        .json::<Value>()
        .await
        .expect("JSON");
    assert_eq!(bad["error"]["code"], -32602);
}
