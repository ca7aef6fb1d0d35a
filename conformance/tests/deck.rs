//! Variants 1, 6 and 11: the seed's plugin in a decK file, global, on the service, on the route.
//! A real MCP client lists and calls every tool through the gateway; REST keeps working; the
//! proxied responses are snapshots.

use conformance::{documents_deck, exercise, Deployment, TOOLS};

const PLUGIN: &str = "    config:
      mode: passthrough-listener
      max_request_body_size: 1048576
";

async fn works_end_to_end(deck: String, variant: &str) {
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
}

#[tokio::test]
async fn variant_01_global_deck() {
    let deck = documents_deck(&format!("plugins:\n  - name: ai-mcp-proxy\n{PLUGIN}"));
    works_end_to_end(deck, "v01_global").await;
}

#[tokio::test]
async fn variant_06_service_deck() {
    let deck = documents_deck(&format!(
        "plugins:\n  - name: ai-mcp-proxy\n    service: mcp-service\n{PLUGIN}"
    ));
    works_end_to_end(deck, "v06_service").await;
}

#[tokio::test]
async fn variant_11_route_deck() {
    let deck = documents_deck(&format!(
        "plugins:\n  - name: ai-mcp-proxy\n    route: mcp-route\n{PLUGIN}"
    ));
    works_end_to_end(deck, "v11_route").await;
}
