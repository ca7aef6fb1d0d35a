//! Variants 1, 6 and 11: the seed's plugin in a decK file, global, on the service, on the route.
//! A real MCP client lists and calls every tool through the gateway; REST keeps working; the
//! proxied responses are snapshots.

use conformance::{documents_deck, exercise, Deployment, TOOLS};

const PLUGIN: &str = "    config:
      mode: passthrough-listener
      max_request_body_size: 1048576
      logging:
        log_statistics: true
";

/// Which routes the plugin covers in a variant.
struct Scope {
    other_route: bool,
}

async fn works_end_to_end(deck: String, variant: &str, scope: Scope) {
    let d = Deployment::deck(&deck).await.expect("deployment starts");
    let client = d
        .mcp("/marketplace")
        .await
        .expect("client initializes through the gateway");
    let (names, results) = exercise(&client).await.expect("tools answer");
    assert_eq!(names, TOOLS, "{variant}");
    insta::assert_json_snapshot!("tool_results", results);
    client.cancel().await.ok();

    let (status, users) = d.get_json("/marketplace/users").await.unwrap();
    assert_eq!(status, 200, "{variant}");
    let (status, orders) = d.get_json("/marketplace/a1b2c3d4/orders").await.unwrap();
    assert_eq!(status, 200, "{variant}");
    insta::assert_json_snapshot!("rest", (users, orders));
    // Every MCP message went to the service root, as the seed's route implies.
    assert!(d
        .mock
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .all(|r| r.path == "/"));

    // The plugin's effect, exactly within its scope.
    let over = 1_048_577;
    assert_eq!(
        d.post_mcp_of_size("/marketplace", over).await.unwrap(),
        413,
        "{variant}"
    );
    let other = d.post_mcp_of_size("/other", over).await.unwrap();
    assert_eq!(
        other == 413,
        scope.other_route,
        "{variant}: /other answered {other}"
    );
    assert_eq!(
        d.post_mcp_of_size("/other", 10).await.unwrap(),
        200,
        "{variant}"
    );
    // 8 MCP POSTs by the client + 2 REST GETs + 3 POSTs above, at least.
    let records = d.records(13).await.unwrap();
    let mcp_posts: Vec<_> = records
        .iter()
        .filter(|r| r["route"]["name"] == "mcp-route" && r["request"]["method"] == "POST")
        .collect();
    assert!(mcp_posts.len() >= 8, "{variant}");
    assert!(
        mcp_posts.iter().all(|r| r["ai"]["mcp"]["rpc"].is_array()),
        "{variant}: MCP calls on /marketplace are recorded"
    );
    let other_route = format!("other-route-{variant}");
    let other_records: Vec<_> = records
        .iter()
        .filter(|r| r["route"]["name"] == other_route.as_str())
        .collect();
    assert!(!other_records.is_empty(), "{variant}");
    assert_eq!(
        other_records.iter().any(|r| r.get("ai").is_some()),
        scope.other_route,
        "{variant}: ai.mcp records outside the scope"
    );
    assert!(
        records
            .iter()
            .filter(|r| r["request"]["method"] == "GET")
            .all(|r| r.get("ai").is_none()),
        "{variant}: REST calls produce no MCP record"
    );
    let metrics = d.metrics().await.unwrap();
    assert!(metrics.contains(r#"kong_ai_mcp_calls_total{service="mcp-service",route="mcp-route""#));
    assert_eq!(
        metrics.contains(&format!(
            r#"kong_ai_mcp_calls_total{{service="other-service-{variant}",route="other-route-{variant}""#
        )),
        scope.other_route,
        "{variant}: metrics outside the scope"
    );
}

#[tokio::test]
async fn variant_01_global_deck() {
    let deck = documents_deck("v01_global", &format!("  - name: ai-mcp-proxy\n{PLUGIN}"));
    works_end_to_end(deck, "v01_global", Scope { other_route: true }).await;
}

#[tokio::test]
async fn variant_06_service_deck() {
    let deck = documents_deck(
        "v06_service",
        &format!("  - name: ai-mcp-proxy\n    service: mcp-service\n{PLUGIN}"),
    );
    works_end_to_end(deck, "v06_service", Scope { other_route: false }).await;
}

#[tokio::test]
async fn variant_11_route_deck() {
    let deck = documents_deck(
        "v11_route",
        &format!("  - name: ai-mcp-proxy\n    route: mcp-route\n{PLUGIN}"),
    );
    works_end_to_end(deck, "v11_route", Scope { other_route: false }).await;
}
