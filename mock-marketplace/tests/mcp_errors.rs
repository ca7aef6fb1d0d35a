//! Bad input on the MCP endpoint, sent raw: every rejection has the status and the JSON-RPC
//! error the transport documents say, and nothing makes the mock fail.

mod common;

use common::{call, mcp_post, modern_post, modern_request, request};
use mock_marketplace::{spawn, MockHandle, Options};
use serde_json::{json, Value};

async fn mock() -> MockHandle {
    spawn(Options::default()).await.expect("mock starts")
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("response");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON-RPC body"))
}

fn error_code(body: &Value) -> i64 {
    body["error"]["code"].as_i64().expect("an error code")
}

#[tokio::test]
async fn malformed_json_is_a_parse_error_with_null_id() {
    let mock = mock().await;
    for body in ["{\"jsonrpc\":\"2.0\",", "", "nope", "{\"id\":1,}"] {
        let (status, reply) = send(mcp_post(&mock.mcp_url(), body)).await;
        assert_eq!(status, 400, "{body:?}");
        assert_eq!(error_code(&reply), -32700);
        assert_eq!(reply["id"], Value::Null);
        assert_eq!(reply["jsonrpc"], "2.0");
    }
}

#[tokio::test]
async fn invalid_messages_are_invalid_requests() {
    let mock = mock().await;
    let bodies = [
        json!(42),
        json!({"id": 1, "method": "ping"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": 7}),
        json!({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}),
        json!({"jsonrpc": "2.0", "id": 1}),
    ];
    for body in bodies {
        let (status, reply) = send(mcp_post(&mock.mcp_url(), body.to_string())).await;
        assert_eq!((status, error_code(&reply)), (400, -32600), "{body}");
    }
}

#[tokio::test]
async fn unknown_tool_and_bad_arguments_are_invalid_params() {
    let mock = mock().await;
    let cases = [
        call(1, "drop_tables", json!({})),
        call(2, "get_user", json!({})),
        call(3, "get_user", json!({"id": 5})),
        call(4, "get_user", json!({"id": "a1b2c3d4", "extra": true})),
        call(5, "search_orders", json!({"q": ""})),
        call(6, "list_users", json!(["not", "an", "object"])),
        request(7, "tools/call", json!({"arguments": {}})),
    ];
    for (index, body) in cases.into_iter().enumerate() {
        let (status, reply) = send(mcp_post(&mock.mcp_url(), body)).await;
        assert_eq!((status, error_code(&reply)), (200, -32602), "case {index}");
        assert_eq!(reply["id"], index + 1);
    }
}

#[tokio::test]
async fn unknown_method_legacy_is_200_modern_is_404() {
    let mock = mock().await;
    let (status, reply) = send(mcp_post(
        &mock.mcp_url(),
        request(1, "prompts/list", json!({})),
    ))
    .await;
    assert_eq!((status, error_code(&reply)), (200, -32601));
    let body = modern_request(2, "prompts/list", json!({}));
    let (status, reply) = send(modern_post(&mock.mcp_url(), "prompts/list", None, body)).await;
    assert_eq!((status, error_code(&reply)), (404, -32601));
    assert_eq!(reply["id"], 2);
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let mock = mock().await;
    let response = common::client()
        .post(mock.mcp_url())
        .header("content-type", "text/plain")
        .header("accept", "application/json, text/event-stream")
        .body(request(1, "ping", json!({})))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 415);
    let reply: Value = response.json().await.expect("JSON-RPC body");
    assert_eq!(reply["jsonrpc"], "2.0");
    assert_eq!(error_code(&reply), -32000);
}

#[tokio::test]
async fn missing_or_insufficient_accept_is_406() {
    let mock = mock().await;
    for accept in ["application/json", "text/event-stream", "text/html"] {
        let builder = common::client()
            .post(mock.mcp_url())
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(request(1, "ping", json!({})));
        let (status, reply) = send(builder).await;
        assert_eq!((status, error_code(&reply)), (406, -32000), "{accept}");
    }
    // reqwest always adds `Accept: */*`, so the header-less request goes out raw.
    let body = request(1, "ping", json!({}));
    let raw = format!(
        "POST /mcp HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = common::raw_http(mock.addr(), &raw).await;
    assert!(answer.starts_with("HTTP/1.1 406"), "{answer}");
    assert!(answer.contains("-32000"), "{answer}");
    // Wildcards count: curl's and reqwest's default `*/*` is accepted.
    let builder = common::client()
        .post(mock.mcp_url())
        .header("content-type", "application/json")
        .body(request(1, "ping", json!({})));
    assert_eq!(
        send(builder).await,
        (200, json!({"jsonrpc": "2.0", "id": 1, "result": {}}))
    );
}

#[tokio::test]
async fn header_body_mismatch_is_32020() {
    let mock = mock().await;
    let url = mock.mcp_url();
    let cases = [
        // Mcp-Method contradicts the body.
        modern_post(
            &url,
            "tools/list",
            None,
            modern_request(1, "tools/call", json!({"name": "list_users"})),
        ),
        // Mcp-Name contradicts params.name.
        modern_post(
            &url,
            "tools/call",
            Some("list_orders"),
            modern_request(2, "tools/call", json!({"name": "list_users"})),
        ),
        // A 2026-07-28 request without its mirrored headers.
        mcp_post(&url, modern_request(3, "tools/list", json!({})).to_string())
            .header("mcp-protocol-version", "2026-07-28"),
        // The _meta version contradicts the header.
        mcp_post(&url, modern_request(4, "tools/list", json!({})).to_string())
            .header("mcp-protocol-version", "2025-11-25")
            .header("mcp-method", "tools/list"),
        // Legacy era: a header that is present must still agree with the body.
        mcp_post(&url, request(5, "tools/list", json!({}))).header("mcp-method", "ping"),
    ];
    for (index, builder) in cases.into_iter().enumerate() {
        let (status, reply) = send(builder).await;
        assert_eq!(
            (status, error_code(&reply)),
            (400, -32020),
            "case {index}: {reply}"
        );
        assert_eq!(reply["id"], index + 1);
    }
}

#[tokio::test]
async fn base64_mcp_name_is_decoded() {
    let mock = mock().await;
    // `=?base64?bGlzdF91c2Vycw==?=` is "list_users".
    let body = modern_request(
        1,
        "tools/call",
        json!({"name": "list_users", "arguments": {}}),
    );
    let builder = modern_post(
        &mock.mcp_url(),
        "tools/call",
        Some("=?base64?bGlzdF91c2Vycw==?="),
        body,
    );
    let (status, reply) = send(builder).await;
    assert_eq!(status, 200);
    assert_eq!(reply["result"]["resultType"], "complete");
}

#[tokio::test]
async fn unsupported_version_is_32022_with_supported_list() {
    let mock = mock().await;
    let supported = json!(["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]);
    let by_header = mcp_post(&mock.mcp_url(), request(1, "tools/list", json!({})))
        .header("mcp-protocol-version", "2030-01-01");
    let (status, reply) = send(by_header).await;
    assert_eq!((status, error_code(&reply)), (400, -32022));
    assert_eq!(
        reply["error"]["data"],
        json!({"supported": supported, "requested": "2030-01-01"})
    );

    let mut body = modern_request(2, "tools/list", json!({}));
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2024-11-05");
    let (status, reply) = send(mcp_post(&mock.mcp_url(), body.to_string())).await;
    assert_eq!((status, error_code(&reply)), (400, -32022));
    assert_eq!(reply["error"]["data"]["requested"], "2024-11-05");
    assert_eq!(reply["id"], 2);
}

#[tokio::test]
async fn oversized_body_is_413() {
    let mock = mock().await;
    let padding = "x".repeat(mock_marketplace::MAX_BODY_BYTES);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": padding}});
    let (status, reply) = send(mcp_post(&mock.mcp_url(), body.to_string())).await;
    assert_eq!(status, 413);
    assert_eq!(reply["id"], Value::Null);
    assert!(mock.requests()[0].body.is_empty());
}

#[tokio::test]
async fn hostile_inputs_never_break_the_mock() {
    let mock = mock().await;
    let bodies = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": "str"}).to_string(),
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": null}).to_string(),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": 3}}).to_string(),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "get_user", "_meta": {"io.modelcontextprotocol/protocolVersion": 5}}})
        .to_string(),
        "[[], {}, 1, null]".to_owned(),
        "\u{feff}{}".to_owned(),
        "[".repeat(10_000),
    ];
    for body in bodies {
        let response = mcp_post(&mock.mcp_url(), body)
            .send()
            .await
            .expect("an answer");
        assert!(response.status().as_u16() < 500);
    }
    let (status, _) = send(mcp_post(&mock.mcp_url(), request(9, "ping", json!({})))).await;
    assert_eq!(status, 200, "still serving");
}
