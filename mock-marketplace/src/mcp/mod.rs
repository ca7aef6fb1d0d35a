//! The MCP endpoint (`/mcp` and `/`): POST handling for single messages in both eras, and the
//! legacy `GET` stream and `DELETE` of the `stateful` option. Batches live in [`batch`]; how a
//! response is framed (JSON or SSE, progress, delay) lives in [`reply`].

mod batch;
mod headers;
mod jsonrpc;
mod methods;
mod reply;
mod session;
mod sse;
mod tools;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

pub use headers::wants_event_stream;
use headers::Era;
use jsonrpc::{Message, RpcError};
pub use methods::SERVER_NAME;
pub use session::Sessions;

use crate::MockState;

/// `POST`: one message or a batch.
pub async fn post(state: &MockState, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    if let Err(error) = headers::check_post(req) {
        return error.into_response(&Value::Null);
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            let message = format!("Parse error: {error}");
            let error = RpcError::http(StatusCode::BAD_REQUEST, jsonrpc::PARSE_ERROR, message);
            return error.into_response(&Value::Null);
        }
    };
    match value {
        Value::Array(items) => batch::post(state, req, items).await,
        single => post_one(state, req, single).await,
    }
}

async fn post_one(state: &MockState, req: &HttpRequest, value: Value) -> HttpResponse {
    let message = match Message::parse(value) {
        Ok(message) => message,
        Err(error) => return error.into_response(&Value::Null),
    };
    let (era, session) = match admit(state, req, &message) {
        Ok(admitted) => admitted,
        Err(error) => return error.into_response(&message.error_id()),
    };
    let Message::Request(request) = message else {
        return reply::with_session(HttpResponse::Accepted().finish(), session.as_deref());
    };
    let outcome = methods::dispatch(&request, era, state.options());
    let session = match (&outcome, request.method.as_str()) {
        (Ok(_), "initialize") if state.options().stateful => Some(state.sessions().create()),
        _ => session,
    };
    reply::answer(state, &request, outcome, session).await
}

/// Era, mirrored headers and session checks; returns the era and the session to echo.
fn admit(
    state: &MockState,
    req: &HttpRequest,
    message: &Message,
) -> Result<(Era, Option<String>), RpcError> {
    let era = headers::era(req, message)?;
    headers::check_mirrored(req, message, era)?;
    // 2026-07-28 has no sessions; the handshake and discovery come before any session exists.
    let exempt =
        era == Era::Modern || matches!(message.method(), Some("initialize" | "server/discover"));
    if !state.options().stateful || exempt {
        return Ok((era, None));
    }
    Ok((era, Some(require_session(state, req)?)))
}

/// The request's known session id: missing is 400, unknown (or ended) is 404.
fn require_session(state: &MockState, req: &HttpRequest) -> Result<String, RpcError> {
    let id = req
        .headers()
        .get(headers::SESSION_ID)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            RpcError::http(
                StatusCode::BAD_REQUEST,
                jsonrpc::SERVER_ERROR,
                "Bad Request: Mcp-Session-Id header is required",
            )
        })?;
    if !state.sessions().contains(id) {
        return Err(RpcError::http(
            StatusCode::NOT_FOUND,
            jsonrpc::SESSION_NOT_FOUND,
            "Session not found",
        ));
    }
    Ok(id.to_owned())
}

/// `GET`: the standalone stream of a stateful session.
pub fn get(state: &MockState, req: &HttpRequest) -> HttpResponse {
    if !state.options().stateful {
        return method_not_allowed(state);
    }
    let admitted = headers::check_get(req).and_then(|()| require_session(state, req));
    let id = match admitted {
        Ok(id) => id,
        Err(error) => return error.into_response(&Value::Null),
    };
    match state.sessions().subscribe(&id) {
        Some(ended) => reply::with_session(
            sse::keep_alive(ended, state.options().keep_alive),
            Some(&id),
        ),
        None => RpcError::http(
            StatusCode::NOT_FOUND,
            jsonrpc::SESSION_NOT_FOUND,
            "Session not found",
        )
        .into_response(&Value::Null),
    }
}

/// `DELETE`: ends a stateful session (and its GET streams).
pub fn delete(state: &MockState, req: &HttpRequest) -> HttpResponse {
    if !state.options().stateful {
        return method_not_allowed(state);
    }
    match require_session(state, req) {
        Ok(id) => {
            state.sessions().remove(&id);
            HttpResponse::Ok().finish()
        }
        Err(error) => error.into_response(&Value::Null),
    }
}

/// 405 with the methods this configuration serves.
pub fn method_not_allowed(state: &MockState) -> HttpResponse {
    let allow = if state.options().stateful {
        "GET, POST, DELETE"
    } else {
        "POST"
    };
    let error = RpcError::http(
        StatusCode::METHOD_NOT_ALLOWED,
        jsonrpc::SERVER_ERROR,
        "Method not allowed.",
    );
    let mut response = error.into_response(&Value::Null);
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}
