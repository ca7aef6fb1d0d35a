//! Upstream responses, read on the side for the log record and metrics: which id each message
//! answers, whether it is a JSON-RPC error or a tool error. Only observation: the bytes are
//! relayed untouched whatever is found, and garbage yields an empty [`ResponseInfo`].

use serde::de::{Deserialize, DeserializeSeed, Deserializer};
use serde_json::value::RawValue;

use super::quick;
use super::scan::{scan_object, scan_object_text, scan_object_text_with, Scanned};
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
// Position of `result` in `MESSAGE`.
const RESULT: usize = 3;

/// A message and its `result`'s `isError`, as the strict pass reads them in one go.
pub(super) const QUICK: quick::Level = quick::Level {
    wanted: MESSAGE,
    inner: Some((
        RESULT,
        &quick::Level {
            wanted: IS_ERROR,
            inner: None,
        },
    )),
};

/// Reads one upstream JSON-RPC message or batch. Never fails: anything unreadable gives an
/// empty [`ResponseInfo`].
pub fn inspect_response(body: &[u8]) -> ResponseInfo {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let Ok(text) = std::str::from_utf8(body) else {
        return ResponseInfo::default();
    };
    let text = text.trim_matches([' ', '\t', '\r', '\n']);
    if text.starts_with('{') {
        return ResponseInfo {
            messages: read_message(text).into_iter().collect(),
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
        .filter_map(|raw| read_message(raw.get()))
        .collect();
    ResponseInfo {
        messages,
        batch: true,
    }
}

/// Reads the message object in `text` in one pass, `result` included.
pub(super) fn read_message(text: &str) -> Option<MessageInfo> {
    // Nearly every answer: one strict pass without serde_json (see `quick`).
    let (mut s, mut result) = (Scanned::default(), Scanned::default());
    if let Some(found) = quick::scan_levels(text, &QUICK, &mut [&mut s, &mut result]) {
        return message(&s, (found == 2).then(|| is_true(&result)));
    }
    serde_message(text)
}

/// [`read_message`] through serde_json, `result` read in place.
pub(super) fn serde_message(text: &str) -> Option<MessageInfo> {
    match scan_object_text_with(text, MESSAGE, RESULT, ResultSeed) {
        Ok((s, result)) => message(&s, result),
        // A `result` that is not an object, or one with a key that is no Rust string (a lone
        // surrogate escape): the plain way decides.
        Err(None) => plain_message(text),
        Err(Some(_)) => None,
    }
}

/// [`read_message`] the plain way: `result` kept as raw text, then scanned on its own.
pub(super) fn plain_message(text: &str) -> Option<MessageInfo> {
    let s = scan_object_text(text, MESSAGE).ok()?;
    message(&s, s.get(RESULT).map(is_error_result))
}

/// `result`, when present: whether it is a tool error.
fn message(s: &Scanned<'_>, result: Option<bool>) -> Option<MessageInfo> {
    let [_, id, method, _, error] = [0, 1, 2, 3, 4].map(|i| s.get(i));
    if result.is_none() && (0..MESSAGE.len()).all(|i| s.get(i).is_none()) {
        return None;
    }
    Some(MessageInfo {
        id: id.and_then(RpcId::from_json_token),
        error: error.map(error_object),
        is_error_result: result.unwrap_or(false),
        is_response: method.is_none() && (result.is_some() || error.is_some()),
    })
}

/// Reads a `result` object in place: whether its own `isError` member (the first one, as
/// [`is_error_result`] reads it) is the token `true`. Fails on anything but an object.
struct ResultSeed;

impl<'de> DeserializeSeed<'de> for ResultSeed {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        let members = scan_object(de, IS_ERROR)?;
        Ok(is_true(&members))
    }
}

const IS_ERROR: &[&str] = &["isError"];

fn is_true(members: &Scanned<'_>) -> bool {
    members.get(0) == Some("true")
}

fn error_object(text: &str) -> (i64, String) {
    let Some(fields) = text
        .starts_with('{')
        .then(|| scan_object_text(text, &["code", "message"]).ok())
        .flatten()
    else {
        return (0, String::new());
    };
    let code = fields.get(0).and_then(integer).unwrap_or(0);
    let message = fields
        .get(1)
        .and_then(super::string_token)
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

fn is_error_result(text: &str) -> bool {
    text.starts_with('{') && scan_object_text(text, IS_ERROR).is_ok_and(|r| is_true(&r))
}
