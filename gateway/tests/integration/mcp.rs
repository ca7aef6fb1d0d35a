//! ai-mcp-proxy passthrough end to end: the real MCP client through the gateway in both eras,
//! refusals, and the `ai.mcp` log records and metrics checked field by field.

use std::time::Duration;

use mock_marketplace::Options;
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientLifecycleMode, ClientServiceExt, ServiceExt};
use serde_json::{json, Value};

use crate::common::Harness;

const OBSERVED: &str = r#"plugins:
  - name: ai-mcp-proxy
    config:
      mode: passthrough-listener
      max_request_body_size: 2048
      logging:
        log_statistics: true
        log_payloads: true
  - name: prometheus
    config:
      ai_metrics: true
  - name: file-log
    config:
      path: {dir}/mcp.log
"#;

const ACCEPT: &str = "application/json, text/event-stream";

async fn post(h: &Harness, body: &str) -> reqwest::Response {
    h.mcp_post(h.url("/marketplace/mcp"))
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// The log records written so far, once there are `n`.
async fn records(h: &Harness, n: usize) -> Vec<Value> {
    h.log_records("mcp.log", n).await
}

async fn exercise_with(url: String, lifecycle: Option<ClientLifecycleMode>) -> Vec<Value> {
    let transport = StreamableHttpClientTransport::from_uri(url);
    let client = match lifecycle {
        Some(mode) => ClientConfig::default()
            .serve_with_lifecycle(transport, mode)
            .await
            .unwrap(),
        None => ClientConfig::default().serve(transport).await.unwrap(),
    };
    let tools = client.list_tools(None).await.unwrap().tools;
    assert_eq!(tools.len(), 5);
    let mut out = Vec::new();
    for (tool, args) in [
        ("list_users", json!({})),
        ("get_user", json!({"id": "e5f6g7h8"})),
        ("list_orders", json!({})),
        ("list_orders_for_user", json!({"userId": "a1b2c3d4"})),
        ("search_orders", json!({"q": "oil"})),
    ] {
        let Value::Object(map) = args else {
            unreachable!()
        };
        let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(map);
        let result = client.call_tool(params).await.unwrap();
        out.push(serde_json::to_value(result.structured_content).unwrap());
    }
    client.cancel().await.ok();
    out
}

#[tokio::test]
async fn real_client_sees_what_the_mock_serves_in_every_mode() {
    for (options, lifecycle, mode) in [
        (Options::default(), None, "legacy stateless json"),
        (
            Options {
                sse: true,
                ..Options::default()
            },
            None,
            "legacy stateless sse",
        ),
        (
            Options {
                stateful: true,
                ..Options::default()
            },
            None,
            "legacy stateful json",
        ),
        (
            Options {
                stateful: true,
                sse: true,
                ..Options::default()
            },
            None,
            "legacy stateful sse",
        ),
        (
            Options::default(),
            Some(ClientLifecycleMode::Discover {
                preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
            }),
            "2026-07-28",
        ),
    ] {
        let h = Harness::marketplace(options, OBSERVED).await;
        let direct = exercise_with(h.mock.mcp_url(), lifecycle.clone()).await;
        let proxied = exercise_with(h.url("/marketplace/mcp"), lifecycle).await;
        assert_eq!(direct, proxied, "{mode}");
        if mode.contains("stateful") {
            let seen = h.mock.requests();
            assert!(
                seen.iter().any(|r| r.method == "DELETE"),
                "{mode}: DELETE relayed"
            );
            assert!(
                seen.iter().any(|r| r.method == "GET"),
                "{mode}: GET stream relayed"
            );
        }
    }
}

/// The observed marketplace with service and route named `<name>-service` and `<name>-route`:
/// metrics are process-wide, so a test that reads them keeps its series apart from the others'.
fn observed_as(name: &str) -> String {
    format!("{}{OBSERVED}", crate::common::marketplace_yaml())
        .replace("mcp-service", &format!("{name}-service"))
        .replace("mcp-route", &format!("{name}-route"))
}

#[tokio::test]
async fn tools_call_record_and_metrics() {
    let yaml = observed_as("metrics");
    let h = Harness::start(Options::default(), &yaml).await;
    let body = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_orders","arguments":{}}}"#;
    let res = post(&h, body).await;
    assert_eq!(res.status(), 200);
    let size = res.bytes().await.unwrap().len();
    assert_eq!(
        &h.mock.requests()[0].body[..],
        body.as_bytes(),
        "original bytes forwarded"
    );
    let record = &records(&h, 1).await[0];
    let rpc = &record["ai"]["mcp"]["rpc"][0];
    assert_eq!(rpc["method"], "tools/call");
    assert_eq!(rpc["id"], "2", "ids are logged as strings");
    assert_eq!(rpc["tool_name"], "list_orders");
    assert_eq!(rpc["response_body_size"], size);
    assert_eq!(rpc["outcome"], "success");
    assert!(rpc["latency"].is_u64());
    assert!(rpc.get("error").is_none());
    assert_eq!(rpc["payload"]["request"], body);
    assert!(rpc["payload"]["response"]
        .as_str()
        .unwrap()
        .contains("ord027"));
    assert!(record["ai"]["mcp"].get("mcp_session_id").is_none());
    let metrics = h.metrics().await;
    for needle in [
        r#"kong_ai_mcp_latency_ms_bucket{service="metrics-service",route="metrics-route",method="tools/call",workspace="default",tool_name="list_orders",le="25"} 1"#,
        r#"kong_ai_mcp_latency_ms_bucket{service="metrics-service",route="metrics-route",method="tools/call",workspace="default",tool_name="list_orders",le="60000"} 1"#,
        r#"kong_ai_mcp_response_body_size_bytes_count{service="metrics-service",route="metrics-route",method="tools/call",workspace="default",tool_name="list_orders"} 1"#,
        r#"kong_ai_mcp_calls_total{service="metrics-service",route="metrics-route",method="tools/call",workspace="default",tool_name="list_orders",outcome="success"} 1"#,
    ] {
        assert!(metrics.contains(needle), "missing {needle}\n{metrics}");
    }
}

/// Clients choose method names: metrics label known methods by their canonical spelling and
/// every other one as `_other`, so a client cannot add series without bound. The log record
/// keeps the method as sent.
#[tokio::test]
async fn method_labels_are_bounded() {
    let yaml = observed_as("methods");
    let h = Harness::start(Options::default(), &yaml).await;
    for n in 0..5 {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{n},"method":"custom/m{n}","params":{{}}}}"#);
        post(&h, &body).await.bytes().await.unwrap();
    }
    post(&h, r#"{"jsonrpc":"2.0","id":9,"method":"Tools/List"}"#)
        .await
        .bytes()
        .await
        .unwrap();
    let records = records(&h, 6).await;
    assert_eq!(records[0]["ai"]["mcp"]["rpc"][0]["method"], "custom/m0");
    assert_eq!(records[5]["ai"]["mcp"]["rpc"][0]["method"], "Tools/List");
    let metrics = h.metrics().await;
    let series = |method: &str| {
        format!(
            r#"kong_ai_mcp_response_body_size_bytes_count{{service="methods-service",route="methods-route",method="{method}",workspace="default",tool_name=""}}"#
        )
    };
    assert!(metrics.contains(&(series("_other") + " 5")), "{metrics}");
    assert!(
        metrics.contains(&(series("tools/list") + " 1")),
        "{metrics}"
    );
    assert!(!metrics.contains("custom/m"), "{metrics}");
    assert!(!metrics.contains("Tools/List"), "{metrics}");
}

#[tokio::test]
async fn errors_are_classified() {
    let yaml = observed_as("errors");
    let h = Harness::start(Options::default(), &yaml).await;
    // Unknown tool: the upstream answers a JSON-RPC error.
    post(&h, r#"{"jsonrpc":"2.0","id":"e1","method":"tools/call","params":{"name":"nope","arguments":{}}}"#).await;
    // Unknown method.
    post(
        &h,
        r#"{"jsonrpc":"2.0","id":3,"method":"frobnicate","params":{}}"#,
    )
    .await;
    let records = records(&h, 2).await;
    let first = &records[0]["ai"]["mcp"]["rpc"][0];
    assert_eq!(first["id"], "e1");
    assert_eq!(first["outcome"], "jsonrpc_error");
    assert!(
        first["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nope"),
        "{first}"
    );
    assert_eq!(
        records[1]["ai"]["mcp"]["rpc"][0]["outcome"],
        "jsonrpc_error"
    );
    let metrics = h.metrics().await;
    assert!(
        metrics.contains(r#"tool_name="nope",type="Invalid params"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"route="errors-route",method="_other",workspace="default",tool_name="",type="Method not found"} 1"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn notifications_initialize_and_lists() {
    let h = Harness::marketplace(Options::default(), OBSERVED).await;
    let res = post(
        &h,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    )
    .await;
    assert_eq!(res.status(), 202);
    post(&h, r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#).await;
    post(
        &h,
        r#"{"jsonrpc":"2.0","id":"l","method":"tools/list","params":{}}"#,
    )
    .await;
    let records = records(&h, 3).await;
    let note = &records[0]["ai"]["mcp"]["rpc"][0];
    assert_eq!(note["method"], "notifications/initialized");
    assert!(note.get("id").is_none() && note.get("latency").is_none());
    let init = &records[1]["ai"]["mcp"]["rpc"][0];
    assert_eq!(
        (init["method"].as_str(), init["id"].as_str()),
        (Some("initialize"), Some("0"))
    );
    let list = &records[2]["ai"]["mcp"]["rpc"][0];
    assert_eq!(list["method"], "tools/list");
    assert!(list.get("tool_name").is_none());
    assert!(list["response_body_size"].as_u64().unwrap() > 1000);
}

#[tokio::test]
async fn refusals_never_reach_the_upstream() {
    let h = Harness::marketplace(Options::default(), OBSERVED).await;
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"search_orders","arguments":{{"q":"{}"}}}}}}"#,
        "x".repeat(4096)
    );
    let res = post(&h, &big).await;
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    insta::assert_json_snapshot!("mcp_too_large", body);
    let res = post(&h, r#"{"jsonrpc":"2.0","id":1,"method":"tools/li"#).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["id"], Value::Null);
    let res = post(&h, r#"{"jsonrpc":"2.0","id":5,"method":"tools/list","method":"tools/call","params":{"name":"x"}}"#).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["error"]["code"].as_i64(), body["id"].as_i64()),
        (Some(-32600), Some(5))
    );
    let res = h
        .http
        .post(h.url("/marketplace/mcp"))
        .header("Content-Type", "application/json")
        .header("Accept", ACCEPT)
        .header("Mcp-Method", "tools/call")
        .header("Mcp-Name", "list_users")
        .body(r#"{"jsonrpc":"2.0","id":"h","method":"tools/call","params":{"name":"search_orders","arguments":{"q":"a"}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["error"]["code"].as_i64(), body["id"].as_str()),
        (Some(-32020), Some("h"))
    );
    assert!(
        h.mock.requests().is_empty(),
        "nothing refused reached the upstream"
    );
}

#[tokio::test]
async fn rest_traffic_is_untouched_and_unobserved() {
    let h = Harness::marketplace(Options::default(), OBSERVED).await;
    let res = h
        .http
        .get(h.url("/marketplace/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = h
        .http
        .post(h.url("/marketplace/users"))
        .header("Content-Type", "application/json")
        .body(r#"{"name":"not json-rpc"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405, "the mock's own answer, relayed");
    let records = records(&h, 2).await;
    assert!(records.iter().all(|r| r.get("ai").is_none()), "{records:?}");
    assert_eq!(
        &h.mock.requests()[1].body[..],
        br#"{"name":"not json-rpc"}"#
    );
}

#[tokio::test]
async fn sse_responses_are_observed_as_they_stream() {
    let options = Options {
        sse: true,
        progress: 2,
        progress_interval: Duration::from_millis(100),
        ..Options::default()
    };
    let h = Harness::marketplace(options, OBSERVED).await;
    let res = post(&h, r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"get_user","arguments":{"id":"a1b2c3d4"}}}"#).await;
    assert_eq!(res.headers()["x-accel-buffering"], "no");
    let text = res.text().await.unwrap();
    assert!(text.contains("Alice Johnson"));
    let rpc = &records(&h, 1).await[0]["ai"]["mcp"]["rpc"][0];
    assert_eq!(rpc["id"], "9");
    assert_eq!(rpc["outcome"], "success");
    assert_eq!(rpc["events"], 3, "two progress events and the result");
    assert!(rpc["latency"].as_u64().unwrap() >= 200, "{rpc}");
    assert!(rpc["time_to_first_event"].as_u64().unwrap() < rpc["latency"].as_u64().unwrap());
}

#[tokio::test]
async fn statistics_off_means_no_rpc_section() {
    let plugins = r#"plugins:
  - name: ai-mcp-proxy
    config:
      mode: passthrough-listener
  - name: file-log
    config:
      path: {dir}/mcp.log
"#;
    let h = Harness::marketplace(
        Options {
            stateful: true,
            ..Options::default()
        },
        plugins,
    )
    .await;
    post(&h, r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#).await;
    let record = &records(&h, 1).await[0];
    let mcp = &record["ai"]["mcp"];
    assert!(mcp.get("rpc").is_none(), "{record}");
    assert!(
        mcp["mcp_session_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "from the response header"
    );
}

#[tokio::test]
async fn refusals_are_recorded() {
    let h = Harness::marketplace(Options::default(), OBSERVED).await;
    post(
        &h,
        &format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{{"p":"{}"}}}}"#,
            "y".repeat(3000)
        ),
    )
    .await;
    post(
        &h,
        r#"{"jsonrpc":"2.0","id":"d","method":"tools/list","method":"tools/call"}"#,
    )
    .await;
    let records = records(&h, 2).await;
    let too_large = &records[0]["ai"]["mcp"]["rpc"][0];
    assert_eq!(too_large["outcome"], "rejected");
    assert!(too_large["error"]
        .as_str()
        .unwrap()
        .contains("exceeds max_request_body_size (2048 bytes)"));
    assert_eq!(records[0]["response"]["status"], 413);
    let duplicate = &records[1]["ai"]["mcp"]["rpc"][0];
    assert_eq!(
        (duplicate["id"].as_str(), duplicate["outcome"].as_str()),
        (Some("d"), Some("rejected"))
    );
    let metrics = h.metrics().await;
    assert!(
        metrics.contains(r#"method="",workspace="default",tool_name="",type="Invalid Request"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn batches_are_observed_element_by_element() {
    let h = Harness::marketplace(Options::default(), OBSERVED).await;
    let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_user","arguments":{"id":"zzz"}}},
{"jsonrpc":"2.0","id":"two","method":"tools/list"},
{"jsonrpc":"2.0","method":"notifications/initialized"}]"#;
    let res = post(&h, batch).await;
    assert_eq!(res.status(), 200);
    let answers: Value = res.json().await.unwrap();
    assert_eq!(answers.as_array().map(Vec::len), Some(2));
    assert_eq!(&h.mock.requests()[0].body[..], batch.as_bytes());
    let rpc = records(&h, 1).await[0]["ai"]["mcp"]["rpc"].clone();
    let rpc = rpc.as_array().unwrap();
    assert_eq!(rpc.len(), 3);
    assert_eq!(
        (rpc[0]["id"].as_str(), rpc[0]["tool_name"].as_str()),
        (Some("1"), Some("get_user"))
    );
    assert_eq!(rpc[1]["id"], "two");
    assert_eq!(rpc[0]["outcome"], "success");
    assert!(
        rpc[0]["response_body_size"].as_u64().unwrap()
            < rpc[1]["response_body_size"].as_u64().unwrap()
    );
    assert!(rpc[2].get("id").is_none());
    assert_eq!(
        rpc[0]["payload"]["request"].as_str().unwrap(),
        batch
            .lines()
            .next()
            .unwrap()
            .trim_start_matches('[')
            .trim_end_matches(',')
    );
}

#[tokio::test]
async fn record_and_metrics_snapshots() {
    let yaml = observed_as("snap");
    let h = Harness::start(
        Options {
            sse: true,
            ..Options::default()
        },
        &yaml,
    )
    .await;
    post(&h, r#"{"jsonrpc":"2.0","id":"s1","method":"tools/call","params":{"name":"search_orders","arguments":{"q":"salt"}}}"#).await.text().await.unwrap();
    post(&h, r#"{"jsonrpc":"2.0","id":"s2","method":"tools/call","params":{"name":"search_orders","arguments":{}}}"#).await.text().await.unwrap();
    let records = records(&h, 2).await;
    insta::assert_json_snapshot!("mcp_record", records[0]["ai"], {
        ".mcp.rpc[].latency" => "[ms]",
        ".mcp.rpc[].time_to_first_event" => "[ms]",
    });
    insta::assert_json_snapshot!("mcp_error_record", records[1]["ai"], {
        ".mcp.rpc[].latency" => "[ms]",
        ".mcp.rpc[].time_to_first_event" => "[ms]",
    });
    // Latency buckets and sums vary run to run; counts, sizes and errors do not.
    let mut scrape: Vec<String> = h
        .metrics()
        .await
        .lines()
        .filter(|l| l.contains("snap-route") && l.starts_with("kong_ai_mcp_"))
        .filter(|l| !l.contains("_ms_") || l.contains("_ms_count"))
        .map(str::to_string)
        .collect();
    scrape.sort();
    insta::assert_snapshot!("mcp_metrics", scrape.join("\n"));
}
