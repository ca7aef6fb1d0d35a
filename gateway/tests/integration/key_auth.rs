//! key-auth: 401s as Kong answers them, the consumer forwarded upstream, hidden credentials.

use mock_marketplace::Options;
use serde_json::Value;

use crate::common::{header, Harness};

const CONSUMERS: &str = r#"consumer_groups:
  - name: admin
consumers:
  - username: alice
    custom_id: a-1
    keyauth_credentials:
      - key: alice-key
    groups:
      - name: admin
  - username: eason
    keyauth_credentials:
      - key: eason-key
"#;

#[tokio::test]
async fn missing_and_wrong_keys_are_401() {
    let plugins = format!(
        "{CONSUMERS}plugins:\n  - name: key-auth\n    config:\n      key_names: [apikey]\n"
    );
    let h = Harness::marketplace(Options::default(), &plugins).await;
    let res = h
        .http
        .get(h.url("/marketplace/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Key realm=\"kong\"");
    let body: Value = res.json().await.unwrap();
    insta::assert_json_snapshot!("key_auth_missing", body, { ".request_id" => "[request_id]" });

    let res = h
        .http
        .get(h.url("/marketplace/users"))
        .header("apikey", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    insta::assert_json_snapshot!("key_auth_invalid", body, { ".request_id" => "[request_id]" });
    assert!(
        h.mock.requests().is_empty(),
        "rejected requests never reach the upstream"
    );
}

#[tokio::test]
async fn valid_key_forwards_the_consumer() {
    let plugins = format!("{CONSUMERS}plugins:\n  - name: key-auth\n");
    let h = Harness::marketplace(Options::default(), &plugins).await;
    let res = h
        .http
        .get(h.url("/marketplace/users"))
        .header("apikey", "alice-key")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = h
        .http
        .get(h.url("/marketplace/users?apikey=eason-key&x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen = h.mock.requests();
    assert_eq!(header(&seen[0], "x-consumer-username"), Some("alice"));
    assert_eq!(header(&seen[0], "x-consumer-custom-id"), Some("a-1"));
    assert_eq!(header(&seen[0], "x-consumer-groups"), Some("admin"));
    assert_eq!(
        header(&seen[0], "apikey"),
        Some("alice-key"),
        "kept without hide_credentials"
    );
    assert_eq!(header(&seen[1], "x-consumer-username"), Some("eason"));
    assert_eq!(seen[1].path, "/users?apikey=eason-key&x=1");
}

#[tokio::test]
async fn hide_credentials_strips_header_and_query() {
    let plugins = format!(
        "{CONSUMERS}plugins:\n  - name: key-auth\n    config:\n      hide_credentials: true\n"
    );
    let h = Harness::marketplace(Options::default(), &plugins).await;
    h.http
        .get(h.url("/marketplace/users"))
        .header("apikey", "alice-key")
        .send()
        .await
        .unwrap();
    h.http
        .get(h.url("/marketplace/users?x=1&apikey=eason-key"))
        .send()
        .await
        .unwrap();
    let seen = h.mock.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(header(&seen[0], "apikey"), None);
    assert_eq!(seen[1].path, "/users?x=1");
}

#[tokio::test]
async fn route_scoped_key_auth_leaves_other_routes_open() {
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: s
    url: http://{{mock}}
    routes:
      - name: locked
        paths: [/locked]
        plugins:
          - name: key-auth
      - name: open
        paths: [/open]
{CONSUMERS}"#
    );
    let h = Harness::start(Options::default(), &yaml).await;
    assert_eq!(
        h.http
            .get(h.url("/locked/users"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        h.http
            .get(h.url("/open/users"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn keys_never_reach_the_log_under_any_key_name() {
    let plugins = format!(
        "{CONSUMERS}plugins:\n  - name: key-auth\n    config:\n      key_names: [x-team-key, token]\n  - name: file-log\n    config:\n      path: {{dir}}/keys.log\n"
    );
    let h = Harness::marketplace(Options::default(), &plugins).await;
    let by_header = h
        .http
        .get(h.url("/marketplace/users?x=1"))
        .header("X-Team-Key", "alice-key")
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    let by_query = h
        .http
        .get(h.url("/marketplace/users?token=eason-key&x=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), 200);
    let wrong = h
        .http
        .get(h.url("/marketplace/users?token=not-a-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let path = h.dir_path("keys.log");
    let text = crate::common::eventually(std::time::Duration::from_secs(5), || async {
        let text = std::fs::read_to_string(&path).ok()?;
        (text.lines().count() >= 3).then_some(text)
    })
    .await;
    for secret in ["alice-key", "eason-key", "not-a-key"] {
        assert!(!text.contains(secret), "{secret} logged:\n{text}");
    }
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["request"]["headers"]["x-team-key"], "REDACTED");
    assert_eq!(records[0]["request"]["querystring"]["x"], "1");
    assert_eq!(records[1]["request"]["querystring"]["token"], "REDACTED");
    assert_eq!(
        records[1]["request"]["uri"],
        "/marketplace/users?token=REDACTED&x=2"
    );
    assert_eq!(records[1]["upstream_uri"], "/users?token=REDACTED&x=2");
    assert!(records[1]["request"]["url"]
        .as_str()
        .unwrap()
        .ends_with("/marketplace/users?token=REDACTED&x=2"));
}
