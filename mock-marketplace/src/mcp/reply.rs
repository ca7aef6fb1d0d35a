//! Framing an answer: `application/json` by default, or (the `sse` option) a `text/event-stream`
//! with an `id:` per event. The test-only options act here: `delay` holds the result back, and
//! `progress` sends `notifications/progress` events before a `tools/call` result, over SSE only.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::HttpResponse;
use serde_json::{json, Value};

use super::jsonrpc::{self, Request, RpcError};
use super::sse::{self, Step};
use crate::MockState;

/// Adds `Mcp-Session-Id` when the request belongs to (or just created) a session.
pub fn with_session(mut response: HttpResponse, session: Option<&str>) -> HttpResponse {
    if let Some(value) = session.and_then(|id| HeaderValue::from_str(id).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("mcp-session-id"), value);
    }
    response
}

/// Sends the outcome of one request.
pub async fn answer(
    state: &MockState,
    request: &Request,
    outcome: Result<Value, RpcError>,
    session: Option<String>,
) -> HttpResponse {
    let message = match outcome {
        Ok(result) => jsonrpc::result_json(&request.id, result),
        // An error with its own HTTP status cannot travel inside a 200 event stream.
        Err(error) if !error.status.is_success() => {
            wait(state).await;
            let response = error.into_response(&request.id);
            return with_session(response, session.as_deref());
        }
        Err(error) => error.to_json(&request.id),
    };
    let response = if state.options().sse {
        let mut steps = progress(state, request);
        steps.extend(state.options().delay.map(Step::Pause));
        steps.push(Step::Event(sse::event(state.next_event_id(), &message)));
        sse::respond(steps)
    } else {
        wait(state).await;
        HttpResponse::Ok().json(message)
    };
    with_session(response, session.as_deref())
}

/// Sends the responses of a batch: one JSON array, or one event each.
pub async fn answer_batch(state: &MockState, responses: Vec<Value>) -> HttpResponse {
    if !state.options().sse {
        wait(state).await;
        return HttpResponse::Ok().json(responses);
    }
    let mut steps: Vec<Step> = state.options().delay.map(Step::Pause).into_iter().collect();
    for message in &responses {
        steps.push(Step::Event(sse::event(state.next_event_id(), message)));
    }
    sse::respond(steps)
}

async fn wait(state: &MockState) {
    if let Some(delay) = state.options().delay {
        tokio::time::sleep(delay).await;
    }
}

/// `progress` events, each followed by the configured interval, for a `tools/call`. The token
/// is the request's `_meta.progressToken`, else its id (so events exist even when the client
/// asked for none; see the README).
fn progress(state: &MockState, request: &Request) -> Vec<Step> {
    let options = state.options();
    let total = options.progress;
    if total == 0 || request.method != "tools/call" {
        return Vec::new();
    }
    let token = jsonrpc::meta(&request.params)
        .and_then(|meta| meta.get("progressToken"))
        .cloned()
        .unwrap_or_else(|| request.id.clone());
    let mut steps = Vec::new();
    for step in 1..=total {
        let notification = json!({
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {
                "progressToken": token,
                "progress": step,
                "total": total,
                "message": format!("step {step} of {total}")
            }
        });
        steps.push(Step::Event(sse::event(
            state.next_event_id(),
            &notification,
        )));
        steps.push(Step::Pause(options.progress_interval));
    }
    steps
}
