//! The real third-party client (`rmcp` 3.11 over streamable HTTP) against the mock, in every
//! mode: legacy era stateless/stateful × JSON/SSE, legacy clients pinned to older revisions, and
//! the 2026-07-28 era through `server/discover` (explicit and auto-negotiated).

mod common;

use std::time::Duration;

use mock_marketplace::{spawn, MockHandle, Options};
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientLifecycleMode, ClientServiceExt, ServiceExt};
use serde_json::{json, Value};

type Client = RunningService<RoleClient, ClientConfig>;

const TOOL_NAMES: [&str; 5] = [
    "list_users",
    "get_user",
    "list_orders",
    "list_orders_for_user",
    "search_orders",
];

fn transport(url: String) -> StreamableHttpClientTransport<reqwest::Client> {
    StreamableHttpClientTransport::from_uri(url)
}

async fn legacy_client(mock: &MockHandle, version: ProtocolVersion) -> Client {
    ClientConfig::default()
        .with_protocol_version(version)
        .serve(transport(mock.mcp_url()))
        .await
        .expect("legacy client initializes")
}

async fn modern_client(url: String, lifecycle: ClientLifecycleMode) -> Client {
    ClientConfig::default()
        .serve_with_lifecycle(transport(url), lifecycle)
        .await
        .expect("2026-07-28 client discovers")
}

async fn call(client: &Client, tool: &str, arguments: Value) -> Value {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    if let Value::Object(arguments) = arguments {
        params = params.with_arguments(arguments);
    }
    let result = client.call_tool(params).await.expect("tool call succeeds");
    let structured = result.structured_content.expect("structuredContent");
    let text = result.content[0]
        .as_text()
        .expect("a text block")
        .text
        .clone();
    assert_eq!(
        text,
        serde_json::to_string_pretty(&structured).expect("pretty")
    );
    structured
}

/// Lists the five tools and calls each one, checking every result against the spec's data.
async fn exercise(client: &Client) {
    let info = client.peer_info().expect("server info");
    let server = info.server_info.as_ref().expect("server implementation");
    assert_eq!(server.name, "sample-users-mcp");

    let tools = client.list_tools(None).await.expect("tools/list").tools;
    let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
    assert_eq!(names, TOOL_NAMES);
    assert!(tools
        .iter()
        .all(|tool| tool.title.is_some() && tool.output_schema.is_some()));

    assert_eq!(
        call(client, "list_users", json!({})).await,
        json!({"users": common::users()})
    );
    assert_eq!(
        call(client, "get_user", json!({"id": "c9d0e1f2"})).await,
        json!({"found": true, "user": {"id": "c9d0e1f2", "fullName": "Hannah Lewis"}})
    );
    assert_eq!(
        call(client, "get_user", json!({"id": "nobody"})).await,
        json!({"found": false, "user": null})
    );
    assert_eq!(
        call(client, "list_orders", json!({})).await,
        json!({"orders": common::orders()})
    );
    assert_eq!(
        call(
            client,
            "list_orders_for_user",
            json!({"userId": "m3n4o5p6"})
        )
        .await,
        json!({"userExists": true, "orders": common::orders_of("m3n4o5p6")})
    );
    assert_eq!(
        call(client, "list_orders_for_user", json!({"userId": "nobody"})).await,
        json!({"userExists": false, "orders": []})
    );
    // "Toilet" contains "oil" too: the search is a case-insensitive substring match.
    assert_eq!(
        call(client, "search_orders", json!({"q": "OIL"})).await,
        json!({"count": 3, "results": common::orders_by_id(&["ord007", "ord010", "ord013"])})
    );
}

async fn legacy_round(options: Options) -> MockHandle {
    let stateful = options.stateful;
    let mock = spawn(options).await.expect("mock starts");
    let client = legacy_client(&mock, ProtocolVersion::default()).await;
    let negotiated = client.peer_info().expect("info").protocol_version.clone();
    assert_eq!(negotiated, ProtocolVersion::V_2025_11_25);
    exercise(&client).await;
    if stateful {
        // The client opens its GET stream in the background; let it get there before closing.
        wait_for_get(&mock).await;
    }
    client.cancel().await.expect("client closes");
    mock
}

#[tokio::test]
async fn legacy_stateless_json() {
    let mock = legacy_round(Options::default()).await;
    let requests = mock.requests();
    assert!(requests
        .iter()
        .all(|r| r.header("mcp-session-id").is_none()));
    let accept = requests[0].header("accept").unwrap_or_default();
    assert!(accept.contains("text/event-stream"), "{accept}");
}

#[tokio::test]
async fn legacy_stateless_sse() {
    legacy_round(Options {
        sse: true,
        ..Options::default()
    })
    .await;
}

async fn wait_for_get(mock: &MockHandle) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !mock.requests().iter().any(|r| r.method == "GET") {
        assert!(tokio::time::Instant::now() < deadline, "no GET stream");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The client opened the GET stream of its session and ended the session with DELETE on close;
/// afterwards the session is gone (404).
async fn assert_session_lifecycle(mock: &MockHandle) {
    let requests = mock.requests();
    let get = requests
        .iter()
        .find(|r| r.method == "GET")
        .expect("GET stream opened");
    let session = get
        .header("mcp-session-id")
        .expect("GET carries the session")
        .to_owned();
    let delete = requests
        .iter()
        .find(|r| r.method == "DELETE")
        .expect("DELETE sent");
    assert_eq!(delete.header("mcp-session-id"), Some(session.as_str()));
    let after = common::mcp_post(&mock.mcp_url(), common::request(9, "tools/list", json!({})))
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("POST after DELETE");
    assert_eq!(after.status(), 404);
}

#[tokio::test]
async fn legacy_stateful_json() {
    let mock = legacy_round(Options {
        stateful: true,
        ..Options::default()
    })
    .await;
    assert_session_lifecycle(&mock).await;
}

#[tokio::test]
async fn legacy_stateful_sse() {
    let options = Options {
        stateful: true,
        sse: true,
        ..Options::default()
    };
    let mock = legacy_round(options).await;
    assert_session_lifecycle(&mock).await;
}

#[tokio::test]
async fn legacy_clients_pinned_to_older_revisions() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    for version in [ProtocolVersion::V_2025_03_26, ProtocolVersion::V_2025_06_18] {
        let client = legacy_client(&mock, version.clone()).await;
        assert_eq!(client.peer_info().expect("info").protocol_version, version);
        exercise(&client).await;
        client.cancel().await.expect("client closes");
    }
}

#[tokio::test]
async fn modern_era_discover() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    let lifecycle = ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    };
    let client = modern_client(mock.mcp_url(), lifecycle).await;
    assert_eq!(
        client.peer_info().expect("info").protocol_version,
        ProtocolVersion::V_2026_07_28
    );
    exercise(&client).await;
    client.cancel().await.expect("client closes");

    let requests = mock.requests();
    assert_eq!(requests[0].header("mcp-method"), Some("server/discover"));
    assert!(requests
        .iter()
        .all(|r| r.header("mcp-protocol-version") == Some("2026-07-28")));
    let methods: Vec<&str> = requests
        .iter()
        .filter_map(|r| r.header("mcp-method"))
        .collect();
    assert!(!methods.contains(&"initialize"), "{methods:?}");
    let call = requests
        .iter()
        .find(|r| r.header("mcp-method") == Some("tools/call"))
        .expect("a tools/call");
    assert!(call.header("mcp-name").is_some());
}

/// A stateful mock still serves the sessionless era, at `/` as well as `/mcp`, over SSE too.
#[tokio::test]
async fn modern_era_auto_on_stateful_sse_root() {
    let options = Options {
        stateful: true,
        sse: true,
        ..Options::default()
    };
    let mock = spawn(options).await.expect("mock starts");
    let lifecycle = ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: Some(ProtocolVersion::V_2025_11_25),
    };
    let client = modern_client(format!("{}/", mock.url()), lifecycle).await;
    assert_eq!(
        client.peer_info().expect("info").protocol_version,
        ProtocolVersion::V_2026_07_28
    );
    exercise(&client).await;
    client.cancel().await.expect("client closes");
    assert!(mock
        .requests()
        .iter()
        .all(|r| r.header("mcp-session-id").is_none()));
}

/// `spawn` works from an actix runtime as well as from tokio.
#[actix_rt::test]
async fn works_from_an_actix_runtime() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    let client = legacy_client(&mock, ProtocolVersion::V_2025_06_18).await;
    let tools = client.list_tools(None).await.expect("tools/list").tools;
    assert_eq!(tools.len(), 5);
    client.cancel().await.expect("client closes");
    mock.stop().await;
}
