//! The members of one JSON-RPC message, read from its scanned envelope: checked for duplicates
//! and types, then turned into an [`Envelope`].
//!
//! `params` and its `_meta` are read in place in the same pass when they are objects. Any other
//! value fails that read (serde_json would convert a bare number and reject `1e400`, which is
//! valid JSON), and the envelope is then scanned again the plain way, reading them from their
//! raw text, so the outcome never depends on which way was taken.

use serde::de::{DeserializeSeed, Deserializer};

use super::quick;
use super::scan::{
    scan_object, scan_object_text, scan_object_text_with, scan_object_with, Scanned,
};
use super::{
    is_prompts_get_like, is_resources_read_like, is_tools_call_like, string_token, Envelope, Kind,
    RpcId, INVALID_PARAMS, INVALID_REQUEST,
};

pub(super) const ENVELOPE: &[&str] = &["jsonrpc", "id", "method", "params", "result", "error"];
// Positions in `ENVELOPE`.
const JSONRPC: usize = 0;
const ID: usize = 1;
const METHOD: usize = 2;
const PARAMS: usize = 3;
const RESULT: usize = 4;
const ERROR: usize = 5;
const PARAMS_MEMBERS: &[&str] = &["name", "uri", "_meta"];
// Position of `_meta` in `PARAMS_MEMBERS`.
const META: usize = 2;
const META_MEMBERS: &[&str] = &["io.modelcontextprotocol/protocolVersion"];

/// The envelope, `params` and `_meta`, as the strict pass reads them in one go.
pub(super) const QUICK: quick::Level = quick::Level {
    wanted: ENVELOPE,
    inner: Some((
        PARAMS,
        &quick::Level {
            wanted: PARAMS_MEMBERS,
            inner: Some((
                META,
                &quick::Level {
                    wanted: META_MEMBERS,
                    inner: None,
                },
            )),
        },
    )),
};

/// The envelope members of one object, and those of its `params` and `params._meta`.
#[derive(Default)]
pub(super) struct Members<'de> {
    envelope: Scanned<'de>,
    params: ParamsMembers<'de>,
}

#[derive(Default)]
struct ParamsMembers<'de> {
    params: Scanned<'de>,
    meta: Scanned<'de>,
}

/// Scans the object in `json` (which must start with `{`), `params` and `_meta` included.
pub(super) fn scan_members(json: &str) -> Result<Members<'_>, serde_json::Error> {
    // Nearly every body: one strict pass without serde_json (see `quick`).
    let mut m = Members::default();
    let ParamsMembers { params, meta } = &mut m.params;
    if quick::scan_levels(json, &QUICK, &mut [&mut m.envelope, params, meta]).is_some() {
        return Ok(m);
    }
    serde_members(json)
}

/// [`scan_members`] through serde_json, `params` and `_meta` read in place.
pub(super) fn serde_members(json: &str) -> Result<Members<'_>, serde_json::Error> {
    match scan_object_text_with(json, ENVELOPE, PARAMS, ParamsSeed) {
        Ok((envelope, params)) => Ok(Members {
            envelope,
            params: params.unwrap_or_default(),
        }),
        Err(None) => plain_members(json),
        Err(Some(e)) => Err(e),
    }
}

/// [`scan_members`] the plain way: `params` and `_meta` kept as raw text, then scanned.
pub(super) fn plain_members(json: &str) -> Result<Members<'_>, serde_json::Error> {
    let envelope = scan_object_text(json, ENVELOPE)?;
    let params = params_text(envelope.get(PARAMS));
    Ok(Members { envelope, params })
}

/// Reads a `params` object in place, its `_meta` object too; fails on any other value.
struct ParamsSeed;

impl<'de> DeserializeSeed<'de> for ParamsSeed {
    type Value = ParamsMembers<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        let (params, meta) = scan_object_with(de, PARAMS_MEMBERS, META, MetaSeed)?;
        Ok(ParamsMembers {
            params,
            meta: meta.unwrap_or_default(),
        })
    }
}

struct MetaSeed;

impl<'de> DeserializeSeed<'de> for MetaSeed {
    type Value = Scanned<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        scan_object(de, META_MEMBERS)
    }
}

/// An object with a `method` or `jsonrpc` member is JSON-RPC (the spec's test for MCP traffic).
pub(super) fn is_rpc_like(m: &Members<'_>) -> bool {
    m.envelope.get(JSONRPC).is_some() || m.envelope.get(METHOD).is_some()
}

/// Why a JSON-RPC-like message cannot be used, ready for [`super::error_body`].
pub(super) struct Rejection {
    pub id: RpcId,
    pub code: i64,
    pub message: String,
}

/// The envelope of a scanned JSON-RPC-like object, or why it is unusable.
pub(super) fn envelope(m: &Members<'_>) -> Result<Envelope, Rejection> {
    let s = &m.envelope;
    // The id is read first so that every later rejection can carry it.
    let id_token = if s.duplicate == Some("id") {
        None
    } else {
        s.get(ID)
    };
    let id = id_token.map(RpcId::from_json_token);
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
        Some(raw) => Some(string_token(raw).ok_or_else(|| invalid("method must be a string"))?),
    };
    let params =
        params(&m.params).map_err(|dup| invalid(&format!("duplicate member \"{dup}\"")))?;
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

/// Scans `params` and its `_meta` from their raw text (non-objects read as empty).
fn params_text(raw: Option<&str>) -> ParamsMembers<'_> {
    let Some(text) = raw.filter(|t| t.starts_with('{')) else {
        return ParamsMembers::default();
    };
    // Already validated by the first pass, so this fails only on a key that is no Rust string
    // (a lone surrogate escape), read as an empty object.
    let params = scan_object_text(text, PARAMS_MEMBERS).unwrap_or_default();
    let meta = match params.get(META).filter(|t| t.starts_with('{')) {
        Some(text) => scan_object_text(text, META_MEMBERS).unwrap_or_default(),
        None => Scanned::default(),
    };
    ParamsMembers { params, meta }
}

/// Reads `params.name`, `params.uri` and the protocol version; `Err` names a duplicate member.
fn params(m: &ParamsMembers<'_>) -> Result<Params, &'static str> {
    let p = &m.params;
    if let Some(dup) = p.duplicate {
        return Err(match dup {
            "name" => "params.name",
            "uri" => "params.uri",
            _ => "params._meta",
        });
    }
    if m.meta.duplicate.is_some() {
        return Err("params._meta.io.modelcontextprotocol/protocolVersion");
    }
    Ok(Params {
        name: p.get(0).and_then(string_token),
        uri: p.get(1).and_then(string_token),
        protocol_version: m.meta.get(0).and_then(string_token),
    })
}
