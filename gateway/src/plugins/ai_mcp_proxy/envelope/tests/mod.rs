//! Unit tests of the envelope module, one file per area.

mod answers;
mod classify;
mod headers;
mod ids_and_errors;
mod methods;
mod one_pass;
mod quick;
mod response;

use super::*;

const JSON: Option<&str> = Some("application/json");

fn classify_json(body: &str) -> Classified {
    classify(JSON, body.as_bytes())
}

#[track_caller]
fn single(body: &str) -> Envelope {
    match classify_json(body) {
        Classified::Single(env) => env,
        other => panic!("expected Single for {body}, got {other:?}"),
    }
}

#[track_caller]
fn invalid(body: &str) -> (RpcId, i64, String) {
    match classify_json(body) {
        Classified::Invalid { id, code, message } => (id, code, message),
        other => panic!("expected Invalid for {body}, got {other:?}"),
    }
}

#[track_caller]
fn malformed(content_type: Option<&str>, body: &[u8]) -> String {
    match classify(content_type, body) {
        Classified::Malformed { message } => message,
        other => panic!("expected Malformed, got {other:?}"),
    }
}
