//! Plugin schemas: every default echoed, normalization idempotent (so an echoed config can be
//! sent back unchanged), and the typed structs readable from a normalized config.

use gateway::plugins::ai_mcp_proxy::schema::{AiMcpProxyConfig, ConsumerIdentifier, Mode};
use gateway::plugins::key_auth::schema::KeyAuthConfig;
use gateway::plugins::schema::{normalize, typed, KNOWN_PLUGINS};
use serde_json::{json, Value};

/// The smallest valid config of each known plugin.
fn minimal(name: &str) -> Value {
    match name {
        "ai-mcp-proxy" => json!({"mode": "passthrough-listener"}),
        "file-log" => json!({"path": "/tmp/log"}),
        "http-log" => json!({"http_endpoint": "http://logs:9000/"}),
        _ => Value::Null,
    }
}

#[test]
fn defaults_of_every_plugin() {
    let all: Vec<(&str, Value)> = KNOWN_PLUGINS
        .iter()
        .map(|name| (*name, normalize(name, &minimal(name)).unwrap()))
        .collect();
    insta::assert_yaml_snapshot!(all);
}

#[test]
fn normalization_is_idempotent() {
    let full = json!({"mode": "passthrough-listener", "tools": [{"name": "t", "description": "d",
        "acl": {"allow": ["a"]}, "annotations": {"title": "T"}}],
        "default_acl": [{"allow": ["x"]}], "server": {"tag": "s"}});
    let once = normalize("ai-mcp-proxy", &full).unwrap();
    assert_eq!(normalize("ai-mcp-proxy", &once).unwrap(), once);
    for name in KNOWN_PLUGINS {
        let once = normalize(name, &minimal(name)).unwrap();
        assert_eq!(normalize(name, &once).unwrap(), once, "{name}");
    }
}

#[test]
fn typed_configs_read_normalized_values() {
    let config = normalize("ai-mcp-proxy", &minimal("ai-mcp-proxy")).unwrap();
    let mcp: AiMcpProxyConfig = typed(&config).unwrap();
    assert_eq!(mcp.mode, Mode::PassthroughListener);
    assert_eq!(mcp.max_request_body_size, 1_048_576);
    assert_eq!(mcp.consumer_identifier, ConsumerIdentifier::Username);
    assert!(mcp.server.forward_client_headers && mcp.tools.is_empty());
    let key_auth: KeyAuthConfig = typed(&normalize("key-auth", &Value::Null).unwrap()).unwrap();
    assert_eq!(key_auth.key_names, ["apikey"]);
}

#[test]
fn an_absent_allow_list_differs_from_an_empty_one() {
    let config = json!({"mode": "passthrough-listener", "tools": [
        {"name": "open", "description": "d", "acl": {"deny": ["x"]}},
        {"name": "closed", "description": "d", "acl": {"allow": []}}]});
    let mcp: AiMcpProxyConfig = typed(&normalize("ai-mcp-proxy", &config).unwrap()).unwrap();
    let acl = |i: usize| mcp.tools[i].acl.clone().unwrap_or_default();
    assert_eq!(acl(0).allow, None);
    assert_eq!(acl(1).allow, Some(vec![]));
}
