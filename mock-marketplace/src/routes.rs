//! The single entry point of the mock: reads the body (bounded), records the request, strips
//! the optional `/marketplace` prefix and routes to MCP or REST. Routing is done by hand, not by
//! actix resources, so that every request is recorded and every answer is the mock's own body.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::json;

use crate::recorder::RecordedRequest;
use crate::{mcp, rest, MockState};

/// Bodies above this are refused with 413 before they are read to the end.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How much of an over-limit body is still read (and dropped) before answering 413.
const DRAIN_LIMIT: usize = 4 * MAX_BODY_BYTES;
const PREFIX: &str = "/marketplace";

/// The actix handler behind every path; `tail` is the path inside the mock's mount point.
pub async fn entry(state: MockState, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    let body = read_body(&req, payload).await;
    if state.recording() {
        let recorded = body.as_ref().map(Bytes::clone).unwrap_or_default();
        state.record(RecordedRequest::new(&req, recorded));
    }
    let body = match body {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let tail = format!("/{}", req.match_info().query("tail"));
    route(&state, &req, strip_prefix(&tail), &body).await
}

/// `/marketplace` and `/marketplace/...` are served like `/` and `/...`.
fn strip_prefix(path: &str) -> &str {
    match path.strip_prefix(PREFIX) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

async fn route(state: &MockState, req: &HttpRequest, path: &str, body: &[u8]) -> HttpResponse {
    let is_root = path == "/";
    if !is_root && path != "/mcp" && path != "/mcp/" {
        return delayed(state, rest::handle(req.method(), path)).await;
    }
    match *req.method() {
        Method::POST => mcp::post(state, req, body).await,
        Method::DELETE => mcp::delete(state, req),
        Method::GET if is_root && !is_mcp_get(req) => {
            delayed(state, rest::handle(req.method(), path)).await
        }
        Method::HEAD if is_root => rest::handle(req.method(), path),
        Method::GET => mcp::get(state, req),
        _ => mcp::method_not_allowed(state),
    }
}

/// `GET /` is the REST root unless the client asks for an event stream or names a session.
fn is_mcp_get(req: &HttpRequest) -> bool {
    mcp::wants_event_stream(req) || req.headers().contains_key("mcp-session-id")
}

/// The `delay` option holds back REST answers too (gateway timeout tests use both).
async fn delayed(state: &MockState, response: HttpResponse) -> HttpResponse {
    if let Some(delay) = state.options().delay {
        tokio::time::sleep(delay).await;
    }
    response
}

async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Result<Bytes, HttpResponse> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > DRAIN_LIMIT) {
        return Err(too_large());
    }
    let mut body = BytesMut::new();
    let mut over = declared.is_some_and(|length| length > MAX_BODY_BYTES);
    let mut seen = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            HttpResponse::BadRequest().json(json!({"error": format!("Bad body: {error}")}))
        })?;
        seen = seen.saturating_add(chunk.len());
        over |= seen > MAX_BODY_BYTES;
        // Reading on (and discarding) lets the client finish sending and see the 413; beyond
        // the drain limit the connection is simply answered and dropped.
        if over && seen > DRAIN_LIMIT {
            break;
        }
        if !over {
            body.extend_from_slice(&chunk);
        }
    }
    if over {
        return Err(too_large());
    }
    Ok(body.freeze())
}

/// 413 with a JSON-RPC error body (the only endpoint that takes bodies is MCP).
fn too_large() -> HttpResponse {
    HttpResponse::build(StatusCode::PAYLOAD_TOO_LARGE).json(json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {
            "code": -32600,
            "message": format!("Request body exceeds {MAX_BODY_BYTES} bytes")
        }
    }))
}
