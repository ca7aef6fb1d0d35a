//! The access phase: read a JSON body up to `max_request_body_size`, classify it, refuse what
//! must not reach the upstream (too large, malformed, ambiguous, header mismatch), and keep the
//! original bytes to forward unchanged.

use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use super::envelope::{self, BatchItem, Classified, Envelope};
use crate::error::{BodyFault, ProxyError};
use crate::plugins::context::RequestBody;

/// Why the request is answered by the gateway.
pub struct Refusal {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub code: i64,
    pub message: String,
    pub id: Option<envelope::RpcId>,
}

impl Refusal {
    fn new(status: StatusCode, id: Option<&envelope::RpcId>, code: i64, message: String) -> Self {
        Refusal {
            status,
            body: envelope::error_body(id, code, &message),
            code,
            message,
            id: id.cloned(),
        }
    }

    pub fn response(self, request_id: &str) -> HttpResponse {
        HttpResponse::build(self.status)
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .insert_header(("x-kong-request-id", request_id))
            .body(self.body)
    }
}

/// A body the plugin decided to read: JSON (by content type) or not typed at all.
pub fn wants_body(method: &actix_web::http::Method, headers: &HeaderMap) -> bool {
    if method != actix_web::http::Method::POST {
        return false;
    }
    match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(ct) => {
            let ct = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json"))
        }
    }
}

/// Reads the whole body, refusing past `limit` bytes (0 = no limit) without reading further.
pub async fn read_body(body: &mut RequestBody, limit: u64) -> Result<Bytes, Refusal> {
    let (payload, length) = match std::mem::replace(body, RequestBody::Empty) {
        RequestBody::Empty => return Ok(Bytes::new()),
        RequestBody::Buffered(b) => {
            *body = RequestBody::Buffered(b.clone());
            return Ok(b);
        }
        RequestBody::Stream { payload, length } => (payload, length),
    };
    if let Some(n) = length.filter(|&n| limit > 0 && n > limit) {
        return Err(too_large(Some(n), limit));
    }
    let mut payload = payload;
    let mut buf = BytesMut::with_capacity(length.unwrap_or(1024).min(limit.max(1024)) as usize);
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            // A listener limit (body timeout, body size) keeps its own status and names itself.
            match BodyFault::find(&e) {
                Some(fault) => Refusal::new(
                    ProxyError::ClientLimit(fault).status(),
                    None,
                    envelope::INVALID_REQUEST,
                    format!("Request body could not be read: {fault}"),
                ),
                None => Refusal::new(
                    StatusCode::BAD_REQUEST,
                    None,
                    envelope::PARSE_ERROR,
                    format!("Parse error: request body could not be read: {e}"),
                ),
            }
        })?;
        if limit > 0 && (buf.len() + chunk.len()) as u64 > limit {
            return Err(too_large(None, limit));
        }
        buf.extend_from_slice(&chunk);
    }
    let bytes = buf.freeze();
    *body = RequestBody::Buffered(bytes.clone());
    Ok(bytes)
}

fn too_large(size: Option<u64>, limit: u64) -> Refusal {
    let message = match size {
        Some(n) => envelope::too_large_message(n, limit),
        None => envelope::too_large_unknown_size_message(limit),
    };
    Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
        envelope::INVALID_REQUEST,
        message,
    )
}

/// What the body turned out to be.
pub enum Parsed {
    /// Ordinary HTTP: forward untouched, observe nothing.
    Plain,
    /// JSON-RPC: the envelopes (one, or a batch's elements) with their own bytes.
    Rpc { envelopes: Vec<(Envelope, Bytes)> },
}

/// Classifies the body and enforces the envelope rules.
pub fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Parsed, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let bad = |id: Option<&envelope::RpcId>, code, message: &str| {
        Refusal::new(StatusCode::BAD_REQUEST, id, code, message.to_string())
    };
    let (envelopes, batch) = match envelope::classify(content_type, body) {
        Classified::NotJsonRpc => return Ok(Parsed::Plain),
        Classified::Malformed { message } => {
            return Err(bad(None, envelope::PARSE_ERROR, &message));
        }
        Classified::Invalid { id, code, message } => {
            return Err(bad(Some(&id), code, &message));
        }
        Classified::Single(env) => (vec![(env, body.clone())], false),
        Classified::Batch(items) => {
            let raws = batch_raws(body);
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                match item {
                    BatchItem::Envelope(env) => {
                        out.push((env, raws.get(i).cloned().unwrap_or_default()));
                    }
                    BatchItem::Invalid {
                        id, code, message, ..
                    } => {
                        return Err(bad(Some(&id), code, &message));
                    }
                }
            }
            (out, true)
        }
    };
    let mcp_method = headers.get(envelope::MCP_METHOD).map(|v| v.as_bytes());
    let mcp_name = headers.get(envelope::MCP_NAME).map(|v| v.as_bytes());
    if !batch && (mcp_method.is_some() || mcp_name.is_some()) {
        if let Some((env, _)) = envelopes.first() {
            envelope::check_headers(env, mcp_method, mcp_name)
                .map_err(|e| bad(env.id.as_ref(), envelope::HEADER_MISMATCH, &e.to_string()))?;
        }
    }
    Ok(Parsed::Rpc { envelopes })
}

/// The raw bytes of each batch element, in order.
fn batch_raws(body: &Bytes) -> Vec<Bytes> {
    let Ok(items) = serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(body) else {
        return Vec::new();
    };
    items
        .into_iter()
        .map(|raw| {
            let text = raw.get();
            // The RawValue borrows from `body`: slice the shared buffer instead of copying.
            let start = text.as_ptr() as usize - body.as_ptr() as usize;
            body.slice(start..start + text.len())
        })
        .collect()
}
