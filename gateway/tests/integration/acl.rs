//! Per-tool ACLs on `tools/call`: the documents' two examples for every consumer, the 403 shape,
//! audit records and the ACL metric, and the bypass attempts — each proving the upstream never
//! received the denied call.

use mock_marketplace::Options;
use serde_json::{json, Value};

use crate::common::Harness;

pub const TOOLS: [&str; 5] = [
    "list_users",
    "get_user",
    "list_orders",
    "list_orders_for_user",
    "search_orders",
];

/// The documents' visibility table: which tools each consumer may call.
pub fn allowed(consumer: &str, tool: &str) -> bool {
    match consumer {
        "alice" => true,
        "bob" => !matches!(tool, "list_users" | "search_orders"),
        "eason" => tool == "list_users",
        _ => false,
    }
}

pub fn example(file: &str, extra: &str) -> String {
    let path = format!("{}/../config/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.replace("http://127.0.0.1:3000", "http://{mock}");
    let text = text.replace(
        "      mode: passthrough-listener\n",
        "      mode: passthrough-listener\n      logging:\n        log_audits: true\n        log_statistics: true\n",
    );
    format!("{text}{extra}")
}

pub const LOGS: &str = "  - name: file-log\n    config:\n      path: {dir}/acl.log\n  - name: prometheus\n    config:\n      ai_metrics: true\n";

fn call(id: Value, tool: &str) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":{"id":"a1b2c3d4","userId":"a1b2c3d4","q":"oil"}}}).to_string()
}

pub async fn post(
    h: &Harness,
    key: Option<&str>,
    body: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = h
        .http
        .post(h.url("/marketplace"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream");
    if let Some(k) = key {
        req = req.header("apikey", k);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(body.to_string()).send().await.unwrap()
}

/// Tool calls the upstream received.
fn upstream_calls(h: &Harness) -> Vec<String> {
    h.mock
        .requests()
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .filter(|b| b["method"] == "tools/call")
        .map(|b| b["params"]["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn table_holds(file: &str) {
    let h = Harness::start(Options::default(), &example(file, LOGS)).await;
    for consumer in ["alice", "bob", "carol", "eason"] {
        let key = format!("{consumer}-key");
        for tool in TOOLS {
            h.mock.clear_requests();
            let res = post(&h, Some(&key), &call(json!(7), tool), &[]).await;
            let want = allowed(consumer, tool);
            assert_eq!(
                res.status() == 200,
                want,
                "{file}: {consumer} → {tool}: {}",
                res.status()
            );
            assert_eq!(
                upstream_calls(&h).len(),
                usize::from(want),
                "{file}: {consumer} → {tool}"
            );
            if !want {
                assert_eq!(res.status(), 403);
                assert_eq!(
                    res.headers()["www-authenticate"],
                    "Bearer error=\"insufficient_scope\""
                );
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["id"], 7);
                assert_eq!(body["error"]["code"], -32602);
            }
        }
    }
    let res = post(&h, None, &call(json!(1), "list_users"), &[]).await;
    assert_eq!(res.status(), 401, "{file}: unauthenticated");
}

#[tokio::test]
async fn documents_example_with_default_acl() {
    table_holds("acls.yaml").await;
}

#[tokio::test]
async fn documents_example_tool_acls_route_key_auth() {
    table_holds("tool-acls.yaml").await;
}

#[tokio::test]
async fn denial_names_the_tool_and_the_subject() {
    let h = Harness::start(Options::default(), &example("acls.yaml", LOGS)).await;
    let res = post(&h, Some("carol-key"), &call(json!("c1"), "list_users"), &[]).await;
    let body: Value = res.json().await.unwrap();
    insta::assert_json_snapshot!("acl_carol_denied", body);
    let res = post(&h, Some("bob-key"), &call(json!(2), "list_users"), &[]).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Tool 'list_users' is not available for consumer group 'developer'"
    );
    let res = post(&h, Some("eason-key"), &call(json!(3), "get_user"), &[]).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Tool 'get_user' is not available for consumer 'eason'"
    );
}

#[tokio::test]
async fn audits_and_metric() {
    let yaml = example("acls.yaml", LOGS)
        .replace("name: mcp-service", "name: acl-service")
        .replace("name: mcp-route", "name: acl-route");
    let h = Harness::start(Options::default(), &yaml).await;
    post(&h, Some("alice-key"), &call(json!(1), "search_orders"), &[]).await;
    post(&h, Some("bob-key"), &call(json!(2), "search_orders"), &[]).await;
    let records = h.log_records("acl.log", 2).await;
    let audits: Vec<Value> = records
        .iter()
        .map(|r| r["ai"]["mcp"]["audit"][0].clone())
        .collect();
    insta::assert_json_snapshot!("acl_audits", audits, { "[].consumer.id" => "[uuid]" });
    assert!(audits
        .iter()
        .all(|a| a["consumer"]["id"].as_str().is_some_and(|s| s.len() == 36)));
    assert_eq!(records[1]["ai"]["mcp"]["rpc"][0]["outcome"], "denied");
    let metrics = h.metrics().await;
    for action in ["allow", "deny"] {
        let series = format!(
            r#"kong_ai_mcp_acl_total{{service="acl-service",route="acl-route",method="tools/call",workspace="default",tool_name="search_orders",primitive="tool",action="{action}"}} 1"#
        );
        assert!(metrics.contains(&series), "missing {series}\n{metrics}");
    }
}

#[tokio::test]
async fn bypass_attempts_never_reach_the_upstream() {
    let h = Harness::start(Options::default(), &example("acls.yaml", LOGS)).await;
    let bob = Some("bob-key");
    // Method spelled in another case or with whitespace: still a tools/call.
    for method in ["TOOLS/CALL", " tools/call ", "Tools/Call\t"] {
        let body = json!({"jsonrpc":"2.0","id":1,"method":method,"params":{"name":"search_orders","arguments":{"q":"a"}}}).to_string();
        let res = post(&h, bob, &body, &[]).await;
        assert_eq!(res.status(), 403, "{method:?}");
    }
    // A batch with an allowed call next to a denied one.
    let batch = format!(
        "[{},{}]",
        call(json!(1), "get_user"),
        call(json!(2), "search_orders")
    );
    assert_eq!(post(&h, bob, &batch, &[]).await.status(), 403);
    // Duplicate keys: gateway and upstream could read different tool names.
    let dup = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_orders","name":"get_user"}}"#;
    assert_eq!(post(&h, bob, dup, &[]).await.status(), 400);
    // Mirrored headers that name an allowed tool while the body names a denied one.
    let res = post(
        &h,
        bob,
        &call(json!(1), "search_orders"),
        &[
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", "get_user"),
            ("MCP-Protocol-Version", "2026-07-28"),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
    // The 2026-07-28 era: the same body with consistent headers is still decided on the body.
    let modern = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_orders","arguments":{"q":"a"},
        "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}).to_string();
    let res = post(
        &h,
        bob,
        &modern,
        &[
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", "search_orders"),
            ("MCP-Protocol-Version", "2026-07-28"),
        ],
    )
    .await;
    assert_eq!(res.status(), 403);
    // Oversized: refused before anything is forwarded.
    let padded = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_orders","arguments":{"q":"x".repeat(1_100_000)}}}).to_string();
    assert_eq!(post(&h, bob, &padded, &[]).await.status(), 413);
    // A notification-shaped tools/call (no id) is decided too.
    let note = r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"search_orders"}}"#;
    assert_eq!(post(&h, bob, note, &[]).await.status(), 403);
    assert!(
        upstream_calls(&h).is_empty(),
        "upstream saw {:?}",
        upstream_calls(&h)
    );
}
