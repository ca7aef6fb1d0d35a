//! Legacy sessions by hand (the `stateful` option): ids on `initialize`, 400/404 for missing or
//! unknown ids, the GET stream and its keep-alives, DELETE, and the 405s of a stateless mock.

mod common;

use std::time::Duration;

use common::{mcp_post, modern_post, modern_request, request};
use mock_marketplace::{spawn, Options};
use serde_json::{json, Value};

async fn initialize(url: &str) -> String {
    let params = json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
    let response = mcp_post(url, request(1, "initialize", params))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    response.headers()["mcp-session-id"]
        .to_str()
        .expect("text")
        .to_owned()
}

#[tokio::test]
async fn stateful_sessions_by_hand() {
    let options = Options {
        stateful: true,
        keep_alive: Duration::from_millis(100),
        ..Options::default()
    };
    let mock = spawn(options).await.expect("mock starts");
    let url = mock.mcp_url();
    let session = initialize(&url).await;

    let missing = mcp_post(&url, request(2, "tools/list", json!({})))
        .send()
        .await
        .expect("POST");
    assert_eq!(missing.status(), 400);
    let unknown = mcp_post(&url, request(2, "tools/list", json!({})))
        .header("mcp-session-id", "not-a-session")
        .send()
        .await
        .expect("POST");
    assert_eq!(unknown.status(), 404);
    let known = mcp_post(&url, request(2, "tools/list", json!({})))
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("POST");
    assert_eq!(known.status(), 200);
    assert_eq!(known.headers()["mcp-session-id"], session.as_str());

    let mut stream = common::client()
        .get(&url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("GET");
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut opened = String::new();
    while !opened.contains(": keep-alive") {
        let chunk = stream
            .chunk()
            .await
            .expect("chunk")
            .expect("stream still open");
        opened.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(opened.starts_with(": stream open"), "{opened}");

    let delete = common::client()
        .delete(&url)
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(delete.status(), 200);
    // The stream ends with its session.
    let rest = tokio::time::timeout(Duration::from_secs(2), async {
        while stream.chunk().await.expect("chunk").is_some() {}
    })
    .await;
    assert!(rest.is_ok(), "the GET stream closes after DELETE");
    let after = mcp_post(&url, request(3, "ping", json!({})))
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("POST");
    assert_eq!(after.status(), 404);
    let again = common::client()
        .delete(&url)
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn stateful_get_needs_event_stream_accept() {
    let mock = spawn(Options {
        stateful: true,
        ..Options::default()
    })
    .await
    .expect("mock starts");
    let session = initialize(&mock.mcp_url()).await;
    let response = common::client()
        .get(mock.mcp_url())
        .header("accept", "application/json")
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 406);
}

#[tokio::test]
async fn stateless_get_and_delete_are_405() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    let get = common::client()
        .get(mock.mcp_url())
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("GET");
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let delete = common::client()
        .delete(mock.mcp_url())
        .send()
        .await
        .expect("DELETE");
    assert_eq!(delete.status(), 405);
    // The same on `/`, where a GET asking for an event stream is MCP, not REST.
    let root = common::client()
        .get(format!("{}/", mock.url()))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("GET");
    assert_eq!(root.status(), 405);
}

#[tokio::test]
async fn modern_requests_need_no_session_on_a_stateful_mock() {
    let mock = spawn(Options {
        stateful: true,
        ..Options::default()
    })
    .await
    .expect("mock starts");
    let body = modern_request(
        1,
        "tools/call",
        json!({"name": "get_user", "arguments": {"id": "g3h4i5j6"}}),
    );
    let response = modern_post(&mock.mcp_url(), "tools/call", Some("get_user"), body)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("mcp-session-id").is_none());
    let reply: Value = response.json().await.expect("JSON");
    assert_eq!(reply["result"]["resultType"], "complete");
    assert_eq!(
        reply["result"]["structuredContent"]["user"]["fullName"],
        "Ian Walker"
    );
}
