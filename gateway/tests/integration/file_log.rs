//! file-log: one JSON line per request in Kong's log shape, credentials redacted.

use std::time::Duration;

use mock_marketplace::Options;
use serde_json::Value;

use crate::common::{eventually, Harness};

#[tokio::test]
async fn writes_one_kong_shaped_line_per_request() {
    let plugins = r#"consumers:
  - username: alice
    keyauth_credentials:
      - key: alice-key
plugins:
  - name: key-auth
  - name: file-log
    config:
      path: {dir}/requests.log
"#;
    let h = Harness::marketplace(Options::default(), plugins).await;
    let log = h.dir_path("requests.log");
    h.http
        .get(h.url("/marketplace/users?x=1"))
        .header("apikey", "alice-key")
        .send()
        .await
        .unwrap();
    h.http
        .get(h.url("/marketplace/users"))
        .send()
        .await
        .unwrap();
    let lines = eventually(Duration::from_secs(5), || async {
        let text = std::fs::read_to_string(&log).ok()?;
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        (lines.len() == 2).then_some(lines)
    })
    .await;
    let ok = &lines[0];
    assert_eq!(ok["request"]["method"], "GET");
    assert_eq!(ok["request"]["uri"], "/marketplace/users?x=1");
    assert_eq!(ok["request"]["querystring"]["x"], "1");
    assert_eq!(ok["request"]["headers"]["apikey"], "REDACTED");
    assert_eq!(ok["response"]["status"], 200);
    assert!(ok["response"]["size"].as_u64().unwrap() > 100);
    // The upstream's headers as the gateway answered with them.
    let content_type = ok["response"]["headers"]["content-type"].as_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(ok["response"]["headers"]["date"].is_string());
    assert_eq!(ok["route"]["name"], "mcp-route");
    assert_eq!(ok["service"]["name"], "mcp-service");
    assert_eq!(ok["consumer"]["username"], "alice");
    assert_eq!(ok["upstream_uri"], "/users?x=1");
    assert_eq!(ok["source"], "upstream");
    assert_eq!(ok["workspace"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(ok["workspace_name"], "default");
    let tries = ok["tries"].as_array().unwrap();
    assert_eq!(tries.len(), 1, "{tries:?}");
    assert_eq!(tries[0]["ip"], "127.0.0.1");
    assert!(tries[0]["port"].as_u64().is_some_and(|p| p > 0));
    assert!(ok["latencies"]["request"].is_u64());
    assert!(ok["started_at"].as_i64().unwrap() > 1_600_000_000_000);
    let denied = &lines[1];
    assert_eq!(denied["response"]["status"], 401);
    assert_eq!(denied["source"], "kong");
    // The gateway's own answer's headers.
    let content_type = denied["response"]["headers"]["content-type"]
        .as_str()
        .unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(denied.get("consumer").is_none());
    assert_eq!(
        denied["tries"],
        serde_json::json!([]),
        "never sent upstream"
    );
}
