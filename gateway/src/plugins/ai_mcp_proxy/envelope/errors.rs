//! The JSON-RPC error bodies the gateway answers with, and the error classes of Kong's metrics.

use serde::Serialize;
use serde_json::value::RawValue;

use super::RpcId;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// 2026-07-28: an `Mcp-Method`/`Mcp-Name` header disagrees with the body.
pub const HEADER_MISMATCH: i64 = -32020;

/// The `type` label of `kong_ai_mcp_error_total` for a result with `isError: true`.
pub const TOOL_ERROR: &str = "Tool error";

#[derive(Serialize)]
struct ErrorBody<'a> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    code: i64,
    message: &'a str,
}

/// `{"jsonrpc":"2.0","id":<id>,"error":{"code":<code>,"message":"<message>"}}`, the id echoed
/// with its exact token, `null` when the request's id could not be read.
pub fn error_body(id: Option<&RpcId>, code: i64, message: &str) -> Vec<u8> {
    let id = id.map_or_else(|| RawValue::NULL.to_owned(), RpcId::to_json);
    let body = ErrorBody {
        jsonrpc: "2.0",
        id: &id,
        error: ErrorObject { code, message },
    };
    // Serializing strings and integers into memory cannot fail; the fallback only avoids a
    // panic path on the request path.
    serde_json::to_vec(&body).unwrap_or_else(|_| {
        br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error"}}"#
            .to_vec()
    })
}

/// The message of the `413` answer when the body's size is known (`Content-Length`).
pub fn too_large_message(size: u64, limit: u64) -> String {
    format!("Request body of {size} bytes exceeds max_request_body_size ({limit} bytes)")
}

/// The message of the `413` answer when the body was cut at the limit (chunked upload).
pub fn too_large_unknown_size_message(limit: u64) -> String {
    format!("Request body exceeds max_request_body_size ({limit} bytes)")
}

/// Kong's label for a JSON-RPC error code (the `type` label of `kong_ai_mcp_error_total`).
pub fn error_class(code: i64) -> &'static str {
    match code {
        PARSE_ERROR => "Parse error",
        INVALID_REQUEST => "Invalid Request",
        METHOD_NOT_FOUND => "Method not found",
        INVALID_PARAMS => "Invalid params",
        INTERNAL_ERROR => "Internal error",
        -32099..=-32000 => "Server error",
        _ => "Unknown error",
    }
}
