//! The requests every test sends: a 2026-07-28 `tools/call` without a session (the headers of
//! `03-mcp-transport.md`: `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, and `params._meta`)
//! and a REST GET.

use std::time::Duration;

use anyhow::{bail, Context};

pub const PROTOCOL_VERSION: &str = "2026-07-28";
pub const ACCEPT: &str = "application/json, text/event-stream";

/// The headers of a stateless `tools/call`, as `(name, value)`.
pub fn tools_call_headers(tool: &str) -> [(&'static str, String); 5] {
    [
        ("Content-Type", "application/json".into()),
        ("Accept", ACCEPT.into()),
        ("MCP-Protocol-Version", PROTOCOL_VERSION.into()),
        ("Mcp-Method", "tools/call".into()),
        ("Mcp-Name", tool.into()),
    ]
}

/// A stateless `tools/call` body; `pad` adds that many bytes in `params._meta` (which servers
/// ignore) to make a large request.
pub fn tools_call_body(id: u64, tool: &str, arguments: &str, pad: usize) -> String {
    let mut body = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments},"_meta":{{"io.modelcontextprotocol/protocolVersion":"{PROTOCOL_VERSION}","io.modelcontextprotocol/clientCapabilities":{{}}"#
    );
    if pad > 0 {
        body.push_str(r#","pad":""#);
        body.extend(std::iter::repeat_n('x', pad));
        body.push('"');
    }
    body.push_str("}}}");
    body
}

/// The load test's call: a small `get_user`.
pub fn load_call_body() -> String {
    tools_call_body(1, "get_user", r#"{"id":"a1b2c3d4"}"#, 0)
}

/// The load test's REST GET (behind `/marketplace` on the proxies).
pub const REST_PATH: &str = "/users";
pub const MCP_PATH: &str = "/mcp";

pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()?)
}

/// A `tools/call` request ready to send.
pub fn tools_call(
    client: &reqwest::Client,
    url: &str,
    tool: &str,
    body: String,
) -> reqwest::RequestBuilder {
    let mut request = client.post(url).body(body);
    for (name, value) in tools_call_headers(tool) {
        request = request.header(name, value);
    }
    request
}

/// Sends one request and checks the answer is a 200 containing `expect`.
pub async fn check(
    request: reqwest::RequestBuilder,
    expect: &str,
    what: &str,
) -> anyhow::Result<()> {
    let response = request
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .with_context(|| format!("{what}: no answer"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() || !body.contains(expect) {
        bail!(
            "{what}: unexpected answer {status}: {}",
            truncate(&body, 300)
        );
    }
    Ok(())
}

pub fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json_and_padded_to_size() {
        let small: serde_json::Value = serde_json::from_str(&load_call_body()).unwrap();
        assert_eq!(small["params"]["name"], "get_user");
        assert_eq!(
            small["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
            PROTOCOL_VERSION
        );
        let big = tools_call_body(7, "get_user", r#"{"id":"x"}"#, 1_000_000);
        let parsed: serde_json::Value = serde_json::from_str(&big).unwrap();
        assert_eq!(parsed["id"], 7);
        let overhead = load_call_body().len();
        assert!(big.len() >= 1_000_000 && big.len() < 1_000_000 + overhead + 16);
    }
}
