//! Request bodies: ordinary HTTP traffic, or JSON-RPC the gateway must read before forwarding.
//!
//! The body is never modified; this only decides what it is. The top-level object is read in
//! one pass (see `scan` and `members`); batch elements are kept as raw text first and then read
//! one by one, which is simple and costs little for a format that 2025-06-18 already dropped.

use serde::de::{Deserialize, IgnoredAny};
use serde_json::value::RawValue;

use super::members::{envelope, is_rpc_like, scan_members, Members};
use super::{BatchItem, Classified, RpcId, INVALID_REQUEST};

/// Deepest nesting accepted, as serde_json's own recursion limit. Checked up front because
/// serde_json skips unread values iteratively and without a limit, while upstream parsers may
/// crash or refuse far earlier.
pub const MAX_DEPTH: usize = 128;

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
        // With a non-JSON content type a body that is not JSON is someone else's format that
        // happens to start like JSON (NDJSON, templates): ordinary traffic, as the spec
        // requires. But JSON that only fails the gateway's own strictness (invalid UTF-8 in a
        // string, nesting past the limit) is JSON to lenient upstreams, which may ignore the
        // content type and run the call; passing it on unread would skip the ACL.
        Err(_) if content_type.is_some() && !json_type && !lenient_json(&body[bom..]) => {
            Classified::NotJsonRpc
        }
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
    if first == Some(b'{') {
        // Trailing bytes are checked by the scan.
        return scan_members(text).map(|m| single(&m)).map_err(parse_error);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let classified = if first == Some(b'[') {
        let elements = Vec::<&RawValue>::deserialize(&mut de).map_err(parse_error)?;
        batch(&elements)
    } else {
        IgnoredAny::deserialize(&mut de).map_err(parse_error)?;
        Classified::NotJsonRpc
    };
    de.end().map_err(parse_error)?;
    Ok(classified)
}

/// JSON syntax, with UTF-8 inside strings and nesting depth unchecked: serde_json's skipping
/// walk checks neither and needs no recursion.
fn lenient_json(body: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(body).is_ok()
}

fn parse_error(e: serde_json::Error) -> String {
    format!("Parse error: {e}")
}

/// Nesting depth outside strings, without recursion.
pub(super) fn too_deep(body: &[u8]) -> bool {
    // Going past the limit takes more opening brackets than that, in strings or not; counting
    // them settles nearly every body.
    if opening_brackets(body) <= MAX_DEPTH {
        return false;
    }
    let mut depth = 0usize;
    let mut rest = body;
    while let Some(at) = rest
        .iter()
        .position(|b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))
    {
        let b = rest[at];
        rest = &rest[at + 1..];
        match b {
            b'"' => rest = after_string(rest),
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            _ => depth = depth.saturating_sub(1),
        }
    }
    false
}

/// How many `{` and `[` the bytes hold. The two differ only in bit 0x20, so one comparison
/// tests both; counted 32 bytes at a time into a byte-wide sum, a loop the compiler turns into
/// vector compares (a filtered count over every byte is not vectorised: about 2.3 instructions
/// per byte of a `tools/call`).
pub(super) fn opening_brackets(body: &[u8]) -> usize {
    let is_open = |b: u8| u8::from(b | 0x20 == b'{');
    let mut chunks = body.chunks_exact(32);
    let mut n = 0usize;
    for chunk in &mut chunks {
        n += usize::from(chunk.iter().fold(0u8, |acc, &b| acc + is_open(b)));
    }
    n + chunks
        .remainder()
        .iter()
        .map(|&b| usize::from(is_open(b)))
        .sum::<usize>()
}

/// The bytes after the string whose opening quote came just before `rest`; none when the string
/// is not closed.
fn after_string(mut rest: &[u8]) -> &[u8] {
    while let Some(at) = memchr::memchr2(b'"', b'\\', rest) {
        if rest[at] == b'"' {
            return &rest[at + 1..];
        }
        // A backslash: the byte after it, whatever it is, does not end the string.
        rest = rest.get(at + 2..).unwrap_or_default();
    }
    &[]
}

fn single(s: &Members<'_>) -> Classified {
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
                .then(|| scan_members(raw.get()).ok())
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
