//! Transport headers of the MCP endpoint: `Accept` and `Content-Type` of a POST, the protocol
//! version (`MCP-Protocol-Version` header and `params._meta`), which era a request belongs to, and
//! the 2026-07-28 mirrored headers `Mcp-Method` / `Mcp-Name`, checked against the body.

use actix_web::http::{header, StatusCode};
use actix_web::HttpRequest;
use base64::Engine;
use serde_json::{json, Value};

use super::jsonrpc::{self, Message, RpcError};

/// Every protocol revision the mock speaks, oldest first.
pub const SUPPORTED_VERSIONS: [&str; 4] = ["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];
/// The stateless revision: no initialize, no session, mirrored headers required.
pub const MODERN_VERSION: &str = "2026-07-28";
/// The newest revision that still has `initialize` (what a 2026 client is answered with).
pub const LATEST_WITH_INITIALIZE: &str = "2025-11-25";
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const PROTOCOL_VERSION: &str = "mcp-protocol-version";
pub const SESSION_ID: &str = "mcp-session-id";
const MCP_METHOD: &str = "mcp-method";
const MCP_NAME: &str = "mcp-name";

/// The two protocol eras of `03-mcp-transport.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2025-03-26 … 2025-11-25: `initialize`, optional sessions.
    Legacy,
    /// 2026-07-28: `server/discover`, per-request metadata, no sessions.
    Modern,
}

/// The media types of `Accept`, lowercased, parameters dropped.
fn accepted(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|item| item.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase())
        .collect()
}

fn accepts(list: &[String], exact: &str, family: &str) -> bool {
    list.iter()
        .any(|media| media == exact || media == family || media == "*/*")
}

/// Whether the client lists `text/event-stream` explicitly (how a GET on `/` is told apart
/// from a REST call).
pub fn wants_event_stream(req: &HttpRequest) -> bool {
    accepted(req)
        .iter()
        .any(|media| media == "text/event-stream")
}

/// A POST must accept both JSON and SSE (wildcards count) and carry a JSON body.
pub fn check_post(req: &HttpRequest) -> Result<(), RpcError> {
    let list = accepted(req);
    if !accepts(&list, "application/json", "application/*")
        || !accepts(&list, "text/event-stream", "text/*")
    {
        return Err(RpcError::http(
            StatusCode::NOT_ACCEPTABLE,
            jsonrpc::SERVER_ERROR,
            "Not Acceptable: Client must accept both application/json and text/event-stream",
        ));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    if !content_type.is_some_and(|media| media.eq_ignore_ascii_case("application/json")) {
        return Err(RpcError::http(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            jsonrpc::SERVER_ERROR,
            "Unsupported Media Type: Content-Type must be application/json",
        ));
    }
    Ok(())
}

/// A GET stream must accept SSE.
pub fn check_get(req: &HttpRequest) -> Result<(), RpcError> {
    if accepts(&accepted(req), "text/event-stream", "text/*") {
        return Ok(());
    }
    Err(RpcError::http(
        StatusCode::NOT_ACCEPTABLE,
        jsonrpc::SERVER_ERROR,
        "Not Acceptable: Client must accept text/event-stream",
    ))
}

/// The single value of a header; duplicates or non-text values are a `-32020`.
fn single<'r>(req: &'r HttpRequest, name: &str) -> Result<Option<&'r str>, RpcError> {
    let mut values = req.headers().get_all(name);
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(mismatch(format!("duplicate {name} header")));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| mismatch(format!("{name} header is not valid text")))
}

fn mismatch(message: String) -> RpcError {
    RpcError::http(StatusCode::BAD_REQUEST, jsonrpc::HEADER_MISMATCH, message)
}

fn unsupported(requested: &str) -> RpcError {
    RpcError::http(
        StatusCode::BAD_REQUEST,
        jsonrpc::UNSUPPORTED_PROTOCOL_VERSION,
        format!("Unsupported protocol version: {requested}"),
    )
    .with_data(json!({"supported": SUPPORTED_VERSIONS, "requested": requested}))
}

/// The header version, if any; an unsupported one is rejected at once (it applies to every
/// message of the POST, batches included).
pub fn header_version(req: &HttpRequest) -> Result<Option<&str>, RpcError> {
    let header = single(req, PROTOCOL_VERSION).map_err(|_| unsupported("<invalid header>"))?;
    match header {
        Some(version) if !SUPPORTED_VERSIONS.contains(&version) => Err(unsupported(version)),
        other => Ok(other),
    }
}

/// Decides the era of one message from the header and `params._meta`, rejecting unsupported
/// versions (`-32022`) and a header that contradicts the body (`-32020`).
pub fn era(req: &HttpRequest, message: &Message) -> Result<Era, RpcError> {
    let header = header_version(req)?;
    let meta = jsonrpc::meta(message.params()).and_then(|meta| meta.get(META_PROTOCOL_VERSION));
    let meta = match meta {
        None => None,
        Some(Value::String(version)) if SUPPORTED_VERSIONS.contains(&version.as_str()) => {
            Some(version.as_str())
        }
        Some(Value::String(version)) => return Err(unsupported(version)),
        Some(other) => return Err(unsupported(&other.to_string())),
    };
    match (header, meta) {
        (Some(header), Some(meta)) if header != meta => {
            return Err(mismatch(format!(
                "MCP-Protocol-Version header ({header}) does not match request _meta protocolVersion ({meta})"
            )));
        }
        (None, Some(MODERN_VERSION)) => {
            return Err(mismatch(
                "request _meta protocolVersion requires an MCP-Protocol-Version header".into(),
            ));
        }
        _ => {}
    }
    // `initialize` is the legacy handshake whatever version it names.
    let modern = meta.or(header) == Some(MODERN_VERSION) && message.method() != Some("initialize");
    Ok(if modern { Era::Modern } else { Era::Legacy })
}

/// Checks `Mcp-Method` and `Mcp-Name` against the body. They are required in the modern era;
/// in the legacy era they are optional, but one that is present must still agree with the body
/// (an intermediary may have routed on it).
pub fn check_mirrored(req: &HttpRequest, message: &Message, era: Era) -> Result<(), RpcError> {
    let Some(method) = message.method() else {
        return Ok(());
    };
    match single(req, MCP_METHOD)? {
        Some(header) if header != method => {
            return Err(mismatch(format!(
                "Mcp-Method header `{header}` does not match body method `{method}`"
            )));
        }
        None if era == Era::Modern => {
            return Err(mismatch("missing required Mcp-Method header".into()));
        }
        _ => {}
    }
    check_name(req, method, message.params(), era)
}

/// The body value `Mcp-Name` mirrors, for the methods that have one.
fn body_name<'v>(method: &str, params: &'v Value) -> Option<&'v str> {
    let key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => "uri",
        _ => return None,
    };
    params.get(key).and_then(Value::as_str)
}

fn check_name(req: &HttpRequest, method: &str, params: &Value, era: Era) -> Result<(), RpcError> {
    let expected = body_name(method, params);
    match (single(req, MCP_NAME)?, expected) {
        (Some(raw), expected) => {
            let decoded = decode_header_value(raw)
                .ok_or_else(|| mismatch("Mcp-Name header is not valid Base64".into()))?;
            if Some(decoded.as_str()) != expected {
                return Err(mismatch(format!(
                    "Mcp-Name header `{decoded}` does not match body value `{}`",
                    expected.unwrap_or("")
                )));
            }
            Ok(())
        }
        (None, Some(_)) if era == Era::Modern => Err(mismatch(format!(
            "missing required Mcp-Name header for `{method}`"
        ))),
        (None, _) => Ok(()),
    }
}

/// Undoes the `=?base64?…?=` wrapping of non-ASCII header values.
fn decode_header_value(value: &str) -> Option<String> {
    let Some(inner) = value
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    else {
        return Some(value.to_owned());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(inner)
        .ok()?;
    String::from_utf8(bytes).ok()
}
