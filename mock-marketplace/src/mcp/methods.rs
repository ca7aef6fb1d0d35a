//! What each JSON-RPC method answers: `initialize` (legacy handshake), `server/discover`
//! (2026-07-28), `ping`, `tools/list` and `tools/call`. Everything else is `-32601`, which the
//! 2026-07-28 era also signals with HTTP 404.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use super::headers::{Era, LATEST_WITH_INITIALIZE, MODERN_VERSION, SUPPORTED_VERSIONS};
use super::jsonrpc::{self, Request, RpcError};
use super::tools;
use crate::Options;

pub const SERVER_NAME: &str = "sample-users-mcp";
pub const SERVER_VERSION: &str = "1.0.0";

/// The result of `request`, or its error.
pub fn dispatch(request: &Request, era: Era, options: &Options) -> Result<Value, RpcError> {
    match request.method.as_str() {
        "initialize" => initialize(&request.params),
        "server/discover" => Ok(discover()),
        "ping" => Ok(json!({})),
        "tools/list" => list_tools(&request.params, era, options),
        "tools/call" => call_tool(&request.params, era, options),
        other => Err(method_not_found(other, era)),
    }
}

fn server_info() -> Value {
    json!({"name": SERVER_NAME, "version": SERVER_VERSION})
}

fn capabilities() -> Value {
    json!({"tools": {"listChanged": false}})
}

/// Echoes a supported handshake version; anything else (2026-07-28 has no handshake, or an
/// unknown version) gets the newest version that has one, as the SDKs do.
fn initialize(params: &Value) -> Result<Value, RpcError> {
    let requested = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params("initialize requires params.protocolVersion"))?;
    let version = if SUPPORTED_VERSIONS.contains(&requested) && requested != MODERN_VERSION {
        requested
    } else {
        LATEST_WITH_INITIALIZE
    };
    Ok(json!({
        "protocolVersion": version,
        "capabilities": capabilities(),
        "serverInfo": server_info()
    }))
}

/// The shape rmcp's `DiscoverResult` requires: every field below is mandatory there.
fn discover() -> Value {
    json!({
        "resultType": "complete",
        "supportedVersions": SUPPORTED_VERSIONS,
        "capabilities": capabilities(),
        "ttlMs": 0,
        "cacheScope": "private",
        "_meta": {"io.modelcontextprotocol/serverInfo": server_info()}
    })
}

/// 2026-07-28 results carry `resultType`; listings also carry cache hints. Zero TTL and private
/// scope: a gateway may filter the list per consumer, so nobody should share or keep it.
/// The five tools, or one page of them with `tools_page_size` (the cursor is the offset).
fn list_tools(params: &Value, era: Era, options: &Options) -> Result<Value, RpcError> {
    let all = tools::list();
    let mut result = match options.tools_page_size {
        None => json!({ "tools": all }),
        Some(size) => {
            let start = match params.get("cursor") {
                None | Some(Value::Null) => 0,
                Some(c) => c
                    .as_str()
                    .and_then(|c| c.parse::<usize>().ok())
                    .filter(|&n| n < all.len())
                    .ok_or_else(|| RpcError::invalid_params("tools/list: unknown cursor"))?,
            };
            let end = (start + size.max(1)).min(all.len());
            let mut page = json!({ "tools": all[start..end] });
            if end < all.len() {
                page["nextCursor"] = json!(end.to_string());
            }
            page
        }
    };
    if era == Era::Modern {
        result["resultType"] = json!("complete");
        result["ttlMs"] = json!(0);
        result["cacheScope"] = json!("private");
    }
    Ok(result)
}

fn call_tool(params: &Value, era: Era, options: &Options) -> Result<Value, RpcError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params("tools/call requires params.name"))?;
    let arguments = params.get("arguments").unwrap_or(&Value::Null);
    let mut result = tools::result(tools::call(name, arguments)?);
    if let (Some(target), "list_orders") = (options.large_result, name) {
        pad(&mut result, target);
    }
    if era == Era::Modern {
        result["resultType"] = json!("complete");
    }
    Ok(result)
}

/// Appends a text block of `x` so the serialized result is about `target` bytes; the
/// structured content stays exactly the spec's data.
fn pad(result: &mut Value, target: usize) {
    const BLOCK_OVERHEAD: usize = r#",{"type":"text","text":""}"#.len();
    let fill = target.saturating_sub(result.to_string().len() + BLOCK_OVERHEAD);
    if let Some(content) = result.get_mut("content").and_then(Value::as_array_mut) {
        content.push(json!({"type": "text", "text": "x".repeat(fill)}));
    }
}

fn method_not_found(method: &str, era: Era) -> RpcError {
    let error = RpcError::new(
        jsonrpc::METHOD_NOT_FOUND,
        format!("Method not found: {method}"),
    );
    match era {
        Era::Modern => RpcError {
            status: StatusCode::NOT_FOUND,
            ..error
        },
        Era::Legacy => error,
    }
}
