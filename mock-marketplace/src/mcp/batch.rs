//! JSON-RPC batches, which only protocol revision 2025-03-26 allows. A batch is accepted when
//! the POST names no version or 2025-03-26; any later `MCP-Protocol-Version` gets `-32600`
//! (HTTP 400). An accepted batch is answered with the array of its responses, or `202` when it
//! held only notifications and client responses.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::headers::{self, Era};
use super::jsonrpc::{self, Message, RpcError};
use super::{methods, reply, require_session};
use crate::MockState;

const BATCH_VERSION: &str = "2025-03-26";

pub async fn post(state: &MockState, req: &HttpRequest, items: Vec<Value>) -> HttpResponse {
    let session = match admit(state, req, &items) {
        Ok(session) => session,
        Err(error) => return error.into_response(&Value::Null),
    };
    let responses: Vec<Value> = items
        .into_iter()
        .filter_map(|item| answer(state, req, item))
        .collect();
    let response = if responses.is_empty() {
        HttpResponse::Accepted().finish()
    } else {
        reply::answer_batch(state, responses).await
    };
    reply::with_session(response, session.as_deref())
}

/// Checks what applies to the whole POST: non-empty, version, session.
fn admit(
    state: &MockState,
    req: &HttpRequest,
    items: &[Value],
) -> Result<Option<String>, RpcError> {
    if items.is_empty() {
        return Err(jsonrpc::invalid_request("an empty batch"));
    }
    match headers::header_version(req)? {
        Some(version) if version != BATCH_VERSION => Err(RpcError::http(
            StatusCode::BAD_REQUEST,
            jsonrpc::INVALID_REQUEST,
            format!("Invalid Request: batches are not supported in protocol version {version}"),
        )),
        // `initialize` may not be batched, so a stateful batch always needs its session.
        _ if state.options().stateful => require_session(state, req).map(Some),
        _ => Ok(None),
    }
}

/// The response to one element, if it gets one (requests and invalid elements do).
fn answer(state: &MockState, req: &HttpRequest, item: Value) -> Option<Value> {
    let message = match Message::parse(item) {
        Ok(message) => message,
        Err(error) => return Some(error.to_json(&Value::Null)),
    };
    let era = headers::era(req, &message);
    let Message::Request(request) = message else {
        return None;
    };
    let refused = match era {
        Err(error) => Some(error),
        Ok(Era::Modern) => Some(jsonrpc::invalid_request(
            "2026-07-28 requests cannot be batched",
        )),
        Ok(Era::Legacy) if request.method == "initialize" => Some(jsonrpc::invalid_request(
            "initialize cannot be part of a batch",
        )),
        Ok(Era::Legacy) => None,
    };
    let outcome = match refused {
        Some(error) => Err(error),
        None => methods::dispatch(&request, Era::Legacy, state.options()),
    };
    Some(match outcome {
        Ok(result) => jsonrpc::result_json(&request.id, result),
        Err(error) => error.to_json(&request.id),
    })
}
