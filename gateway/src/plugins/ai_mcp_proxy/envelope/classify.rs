//! Request bodies: ordinary HTTP traffic, or JSON-RPC the gateway must read before forwarding.
//!
//! The body is never modified; this only decides what it is and pulls out the members that
//! ACLs, headers checks and log records need. The top-level object is read in one pass (see
//! `scan`); `params` and `_meta`, which are small apart from the tool's arguments, are read again
//! from their raw text, because reading them in place would make serde_json convert a bare
//! number value and reject `1e400`, which is valid JSON.

use serde::de::{Deserialize, IgnoredAny};
use serde_json::value::RawValue;

use super::scan::{scan_object, scan_object_text, Scanned};
use super::{
    is_prompts_get_like, is_resources_read_like, is_tools_call_like, BatchItem, Classified,
    Envelope, Kind, RpcId, INVALID_PARAMS, INVALID_REQUEST,
};

/// Deepest nesting accepted, as serde_json's own recursion limit. Checked up front because
/// serde_json skips unread values iteratively and without a limit, while upstream parsers may
/// crash or refuse far earlier.
pub const MAX_DEPTH: usize = 128;

const ENVELOPE: &[&str] = &["jsonrpc", "id", "method", "params", "result", "error"];
// Positions in `ENVELOPE`.
const JSONRPC: usize = 0;
const ID: usize = 1;
const METHOD: usize = 2;
const PARAMS: usize = 3;
const RESULT: usize = 4;
const ERROR: usize = 5;
const PARAMS_MEMBERS: &[&str] = &["name", "uri", "_meta"];
const META_MEMBERS: &[&str] = &["io.modelcontextprotocol/protocolVersion"];

/// Classifies one request body. See [`Classified`] for the outcomes.
pub fn classify(content_type: Option<&str>, body: &[u8]) -> Classified {
    if body.is_empty() {
        return Classified::NotJsonRpc;
    }
    let content_type = content_type.map(str::trim).filter(|ct| !ct.is_empty());
    let json_type = content_type.is_some_and(is_json_content_type);
    let bom = if body.starts_with(BOM) { BOM.len() } else { 0 };
    let start = bom + body[bom..].iter().take_while(|b| is_json_ws(**b)).count();
    let first = body.get(start).copied();
    if !json_type && !matches!(first, Some(b'{' | b'[')) {
        return Classified::NotJsonRpc;
    }
    match parse(body, bom, first) {
        Ok(classified) => classified,
        // With a non-JSON content type the body is someone else's format that happens to
        // start like JSON (NDJSON, templates): ordinary traffic, as the spec requires.
        Err(_) if content_type.is_some() && !json_type => Classified::NotJsonRpc,
        Err(message) => Classified::Malformed { message },
    }
}

/// `application/json` and `application/*+json`, parameters and case ignored.
pub fn is_json_content_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || (subtype.len() > 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json")))
}

// A UTF-8 BOM is stripped rather than refused: Node and .NET decoders drop it, so an upstream
// may well run a BOM-prefixed tools/call, and the ACL has to see it.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn is_json_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn parse(body: &[u8], bom: usize, first: Option<u8>) -> Result<Classified, String> {
    let body = &body[bom..];
    let text = std::str::from_utf8(body).map_err(|e| {
        format!(
            "Parse error: invalid UTF-8 at byte {}",
            bom + e.valid_up_to()
        )
    })?;
    if too_deep(body) {
        return Err(format!(
            "Parse error: JSON nested deeper than {MAX_DEPTH} levels"
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let classified = match first {
        Some(b'{') => {
            let scanned = scan_object(&mut de, ENVELOPE).map_err(parse_error)?;
            single(&scanned)
        }
        Some(b'[') => {
            let elements = Vec::<&RawValue>::deserialize(&mut de).map_err(parse_error)?;
            batch(&elements)
        }
        _ => {
            IgnoredAny::deserialize(&mut de).map_err(parse_error)?;
            Classified::NotJsonRpc
        }
    };
    de.end().map_err(parse_error)?;
    Ok(classified)
}

fn parse_error(e: serde_json::Error) -> String {
    format!("Parse error: {e}")
}

/// Nesting depth outside strings, without recursion.
fn too_deep(body: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn is_rpc_like(s: &Scanned<'_>) -> bool {
    s.get(JSONRPC).is_some() || s.get(METHOD).is_some()
}

fn single(s: &Scanned<'_>) -> Classified {
    if !is_rpc_like(s) {
        return Classified::NotJsonRpc;
    }
    match envelope(s) {
        Ok(env) => Classified::Single(env),
        Err(r) => Classified::Invalid {
            id: r.id,
            code: r.code,
            message: r.message,
        },
    }
}

fn batch(elements: &[&RawValue]) -> Classified {
    let mut any_rpc = false;
    let items = elements
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            let scanned = raw
                .get()
                .starts_with('{')
                .then(|| scan_object_text(raw.get(), ENVELOPE).ok())
                .flatten()
                .filter(is_rpc_like);
            let Some(scanned) = scanned else {
                return BatchItem::Invalid {
                    index,
                    id: RpcId::Null,
                    code: INVALID_REQUEST,
                    message: "Invalid Request: batch element is not a JSON-RPC message".into(),
                };
            };
            any_rpc = true;
            match envelope(&scanned) {
                Ok(env) => BatchItem::Envelope(env),
                Err(r) => BatchItem::Invalid {
                    index,
                    id: r.id,
                    code: r.code,
                    message: r.message,
                },
            }
        })
        .collect();
    if any_rpc {
        Classified::Batch(items)
    } else {
        Classified::NotJsonRpc
    }
}

struct Rejection {
    id: RpcId,
    code: i64,
    message: String,
}

fn envelope(s: &Scanned<'_>) -> Result<Envelope, Rejection> {
    // The id is read first so that every later rejection can carry it.
    let id_token = if s.duplicate == Some("id") {
        None
    } else {
        s.get(ID)
    };
    let id = id_token.map(|raw| RpcId::from_json_token(raw.get()));
    let reply_id = id.clone().flatten().unwrap_or(RpcId::Null);
    let reject = |code, message: String| Rejection {
        id: reply_id.clone(),
        code,
        message,
    };
    let invalid = |what: &str| reject(INVALID_REQUEST, format!("Invalid Request: {what}"));

    if let Some(dup) = s.duplicate {
        return Err(invalid(&format!("duplicate member \"{dup}\"")));
    }
    let id = match id {
        Some(None) => return Err(invalid("id must be a string, a number or null")),
        Some(Some(id)) => Some(id),
        None => None,
    };
    let method = match s.get(METHOD) {
        None => None,
        Some(raw) => Some(json_string(raw).ok_or_else(|| invalid("method must be a string"))?),
    };
    let params =
        params(s.get(PARAMS)).map_err(|dup| invalid(&format!("duplicate member \"{dup}\"")))?;
    let kind = match (&method, &id) {
        (Some(_), Some(_)) => Kind::Request,
        (Some(_), None) => Kind::Notification,
        (None, _) => match (s.get(RESULT), s.get(ERROR)) {
            (Some(_), None) => Kind::Response,
            (None, Some(_)) => Kind::ErrorResponse,
            (Some(_), Some(_)) => {
                return Err(invalid("a response cannot carry both result and error"))
            }
            (None, None) => return Err(invalid("method is missing")),
        },
    };
    let m = method.as_deref().unwrap_or_default();
    // An ACL cannot judge a call whose tool it cannot name, and a server in a loosely typed
    // language might turn `["list_users"]` into the string "list_users".
    if is_tools_call_like(m) && params.name.is_none() {
        return Err(reject(
            INVALID_PARAMS,
            "Invalid params: params.name must be a string".into(),
        ));
    }
    let named = is_tools_call_like(m) || is_prompts_get_like(m);
    Ok(Envelope {
        id,
        kind,
        tool_name: if named { params.name } else { None },
        resource_uri: if is_resources_read_like(m) {
            params.uri
        } else {
            None
        },
        protocol_version: params.protocol_version,
        method,
    })
}

#[derive(Default)]
struct Params {
    name: Option<String>,
    uri: Option<String>,
    protocol_version: Option<String>,
}

/// Reads `params.name`, `params.uri` and the protocol version; `Err` names a duplicate member.
fn params(raw: Option<&RawValue>) -> Result<Params, &'static str> {
    let Some(text) = raw.map(RawValue::get).filter(|t| t.starts_with('{')) else {
        return Ok(Params::default());
    };
    // Already validated by the first pass, so this cannot fail on syntax.
    let p = scan_object_text(text, PARAMS_MEMBERS).unwrap_or_default();
    if let Some(dup) = p.duplicate {
        return Err(match dup {
            "name" => "params.name",
            "uri" => "params.uri",
            _ => "params._meta",
        });
    }
    let meta = match p.get(2).map(RawValue::get).filter(|t| t.starts_with('{')) {
        Some(text) => scan_object_text(text, META_MEMBERS).unwrap_or_default(),
        None => Scanned::default(),
    };
    if meta.duplicate.is_some() {
        return Err("params._meta.io.modelcontextprotocol/protocolVersion");
    }
    Ok(Params {
        name: p.get(0).and_then(json_string),
        uri: p.get(1).and_then(json_string),
        protocol_version: meta.get(0).and_then(json_string),
    })
}

/// The decoded string when `raw` is a JSON string. A lone surrogate escape (`"\ud800"`) is
/// valid JSON text but no Rust string; it counts as "not a string".
fn json_string(raw: &RawValue) -> Option<String> {
    let text = raw.get();
    text.starts_with('"')
        .then(|| serde_json::from_str(text).ok())
        .flatten()
}
