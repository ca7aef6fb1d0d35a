//! JSON-RPC ids, kept exactly as the client wrote them.
//!
//! Clients match responses to requests by id, and many of them compare with the JSON type and
//! text intact (`7` is not `"7"`, and a JavaScript client that sent `7.0` may not recognise `7`).
//! So a number id is never converted: its token is stored and echoed verbatim, which also keeps
//! ids such as `1e400` or 30-digit integers that no machine number can hold.

use serde_json::value::RawValue;

/// A JSON-RPC id with its JSON type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RpcId {
    /// A string id, decoded (escapes resolved).
    String(String),
    /// A number id: the token exactly as sent (`7`, `7.0`, `-1`, `1e3`). It must hold a valid
    /// JSON number; [`RpcId::from_json_token`] is the way to build one from client input.
    Number(String),
    /// An explicit `null` id (a request whose id could not be read is answered with this too).
    Null,
}

impl RpcId {
    /// Reads an id from one JSON token. `None` when the token is not a string, number or null
    /// (the only id types JSON-RPC 2.0 allows).
    pub fn from_json_token(token: &str) -> Option<RpcId> {
        match token.as_bytes().first()? {
            b'"' => super::string_token(token).map(RpcId::String),
            b'-' | b'0'..=b'9' if is_number_token(token) => Some(RpcId::Number(token.to_owned())),
            b'n' if token == "null" => Some(RpcId::Null),
            _ => None,
        }
    }

    /// The form the `ai.mcp.rpc[].id` log field uses: always a string. Numbers keep their
    /// text (`2` → `"2"`, `7.0` → `"7.0"`); a `null` id logs as `"null"`.
    pub fn to_log_string(&self) -> String {
        match self {
            RpcId::String(s) | RpcId::Number(s) => s.clone(),
            RpcId::Null => "null".to_owned(),
        }
    }

    /// The JSON token to echo in a response body. Numbers come back byte for byte; strings are
    /// re-encoded by serde_json, which yields the same string for any JSON parser.
    pub fn to_json(&self) -> Box<RawValue> {
        let raw = match self {
            RpcId::String(s) => serde_json::value::to_raw_value(s).ok(),
            RpcId::Number(n) if is_number_token(n) => RawValue::from_string(n.clone()).ok(),
            // A hand-built `Number` holding something that is not a number: echoing it would
            // produce invalid JSON, and `null` is what JSON-RPC uses for an unreadable id.
            RpcId::Number(_) | RpcId::Null => None,
        };
        raw.unwrap_or_else(|| RawValue::NULL.to_owned())
    }

    /// Whether a response carrying `other` answers a request carrying `self`. Same type and
    /// text always match; numbers also match by value (`7.0` and `7`), because servers written
    /// in JavaScript or Python echo the number they parsed, not the token they received.
    pub fn matches(&self, other: &RpcId) -> bool {
        match (self, other) {
            (RpcId::Number(a), RpcId::Number(b)) => a == b || numbers_equal(a, b),
            _ => self == other,
        }
    }
}

fn numbers_equal(a: &str, b: &str) -> bool {
    if let (Ok(x), Ok(y)) = (a.parse::<i128>(), b.parse::<i128>()) {
        return x == y;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        // Beyond 2^53 floats merge neighbouring integers; only small values compare safely.
        (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() && x.abs() < 9.0e15 => x == y,
        _ => false,
    }
}

/// JSON number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_number_token(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}
