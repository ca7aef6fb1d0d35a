//! Upstream responses, read on the side for the log record and metrics: which id each message
//! answers, whether it is a JSON-RPC error or a tool error. Only observation: the bytes are
//! relayed untouched whatever is found, and garbage yields an empty [`ResponseInfo`].

use serde::de::Deserialize;
use serde_json::value::RawValue;

use super::scan::{scan_object_text, Scanned};
use super::RpcId;

/// What one upstream body (an `application/json` body or one SSE event's data) carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseInfo {
    /// One entry per JSON-RPC message, in order; empty when the body was not JSON-RPC.
    pub messages: Vec<MessageInfo>,
    /// The body was an array (a batch answer).
    pub batch: bool,
}

/// One JSON-RPC message from the upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageInfo {
    pub id: Option<RpcId>,
    /// `error.code` and `error.message`; code `0` when the upstream sent no integer code.
    pub error: Option<(i64, String)>,
    /// `result.isError == true`: the tool ran and failed.
    pub is_error_result: bool,
    /// A response (`result`/`error`, no `method`), not a server request or notification.
    pub is_response: bool,
}

impl ResponseInfo {
    /// Nothing recognisable was found.
    pub fn is_unknown(&self) -> bool {
        self.messages.is_empty()
    }

    /// The response answering a request with `id` (see [`RpcId::matches`]).
    pub fn response_to(&self, id: &RpcId) -> Option<&MessageInfo> {
        self.messages
            .iter()
            .find(|m| m.is_response && m.id.as_ref().is_some_and(|got| id.matches(got)))
    }
}

const MESSAGE: &[&str] = &["jsonrpc", "id", "method", "result", "error"];

/// Reads one upstream JSON-RPC message or batch. Never fails: anything unreadable gives an
/// empty [`ResponseInfo`].
pub fn inspect_response(body: &[u8]) -> ResponseInfo {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let Ok(text) = std::str::from_utf8(body) else {
        return ResponseInfo::default();
    };
    let text = text.trim_matches([' ', '\t', '\r', '\n']);
    if text.starts_with('{') {
        let messages = scan_object_text(text, MESSAGE)
            .ok()
            .and_then(|s| message(&s));
        return ResponseInfo {
            messages: messages.into_iter().collect(),
            batch: false,
        };
    }
    if !text.starts_with('[') {
        return ResponseInfo::default();
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let Ok(elements) = Vec::<&RawValue>::deserialize(&mut de) else {
        return ResponseInfo::default();
    };
    let messages = elements
        .iter()
        .filter(|raw| raw.get().starts_with('{'))
        .filter_map(|raw| scan_object_text(raw.get(), MESSAGE).ok())
        .filter_map(|s| message(&s))
        .collect();
    ResponseInfo {
        messages,
        batch: true,
    }
}

fn message(s: &Scanned<'_>) -> Option<MessageInfo> {
    let [_, id, method, result, error] = [0, 1, 2, 3, 4].map(|i| s.get(i));
    if (0..MESSAGE.len()).all(|i| s.get(i).is_none()) {
        return None;
    }
    Some(MessageInfo {
        id: id.and_then(|raw| RpcId::from_json_token(raw.get())),
        error: error.map(error_object),
        is_error_result: result.is_some_and(is_error_result),
        is_response: method.is_none() && (result.is_some() || error.is_some()),
    })
}

fn error_object(raw: &RawValue) -> (i64, String) {
    let text = raw.get();
    let Some(fields) = text
        .starts_with('{')
        .then(|| scan_object_text(text, &["code", "message"]).ok())
        .flatten()
    else {
        return (0, String::new());
    };
    let code = fields.get(0).and_then(|c| integer(c.get())).unwrap_or(0);
    let message = fields
        .get(1)
        .filter(|m| m.get().starts_with('"'))
        .and_then(|m| serde_json::from_str(m.get()).ok())
        .unwrap_or_default();
    (code, message)
}

/// An integer code, also when written as `-32601.0`.
fn integer(token: &str) -> Option<i64> {
    token.parse::<i64>().ok().or_else(|| {
        let f = token.parse::<f64>().ok()?;
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    })
}

fn is_error_result(raw: &RawValue) -> bool {
    let text = raw.get();
    text.starts_with('{')
        && scan_object_text(text, &["isError"])
            .is_ok_and(|r| r.get(0).is_some_and(|v| v.get() == "true"))
}
