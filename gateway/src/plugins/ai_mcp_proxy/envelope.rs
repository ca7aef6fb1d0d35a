//! The JSON-RPC envelope of MCP traffic, as the passthrough listener sees it.
//!
//! Pure functions, no I/O: classify a request body (ordinary HTTP, malformed, invalid or
//! JSON-RPC) and pull out what the ACL and the log record need (id, method, tool name, resource
//! URI, protocol version); check the 2026-07-28 `Mcp-Method`/`Mcp-Name` headers against the body;
//! build the gateway's own JSON-RPC error bodies; read upstream responses for ids, errors and
//! tool errors. The forwarded body is never re-encoded, so everything here only reads.
//!
//! The security property this module owns: the gateway and the upstream must never read a
//! different method or tool name from the same bytes. Hence duplicate envelope members are
//! rejected (`scan`, and `quick` where it answers), method names are compared loosely for ACL
//! purposes (`methods`), and the mirrored headers are checked against the body, never trusted
//! instead of it (`headers`).

mod classify;
mod errors;
mod headers;
mod members;
mod methods;
mod quick;
mod response;
mod rpc_id;
mod scan;
#[cfg(test)]
mod tests;

pub use classify::{classify, is_json_content_type, MAX_DEPTH};
pub use errors::{
    error_body, error_class, too_large_message, too_large_unknown_size_message, HEADER_MISMATCH,
    INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, TOOL_ERROR,
};
pub use headers::{
    check_headers, decode_header_value, HeaderMismatch, MCP_METHOD, MCP_NAME, MCP_SESSION_ID,
};
pub use methods::{
    canonical_method, is_prompts_get_like, is_resources_read_like, is_tools_call_like,
    is_tools_list_like, method_like, OTHER_NOTIFICATION,
};
pub use response::{inspect_response, MessageInfo, ResponseInfo};
pub use rpc_id::RpcId;
pub(crate) use scan::scan_object_text;

/// The text of a JSON string token (`"…"`), escapes resolved. `None` for any other token,
/// and for a lone surrogate escape (`"\ud800"`), which is valid JSON text but no Rust string.
/// A string with nothing to escape (no quote, backslash or control character) is its own
/// text; only the others go through serde_json.
pub(crate) fn string_token(token: &str) -> Option<String> {
    let inner = token.strip_prefix('"')?.strip_suffix('"')?;
    if crate::telemetry::json::next_escape(inner.as_bytes()).is_none() {
        return Some(inner.to_owned());
    }
    serde_json::from_str(token).ok()
}

/// What a request body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// Ordinary HTTP traffic: forward untouched, no MCP record.
    NotJsonRpc,
    /// Meant as JSON but not valid JSON: answer `400` with [`PARSE_ERROR`] and a `null` id.
    Malformed { message: String },
    /// JSON-RPC-like but unusable (duplicate envelope members, wrong member types): answer `400`
    /// with `code` ([`INVALID_REQUEST`] or [`INVALID_PARAMS`]) and `id`.
    Invalid {
        id: RpcId,
        code: i64,
        message: String,
    },
    /// One JSON-RPC message.
    Single(Envelope),
    /// A 2025-03-26 batch: one item per array element, in order.
    Batch(Vec<BatchItem>),
}

/// One element of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchItem {
    Envelope(Envelope),
    /// An element that is not a usable JSON-RPC message; `index` is its position in the array.
    Invalid {
        index: usize,
        id: RpcId,
        code: i64,
        message: String,
    },
}

/// What kind of JSON-RPC message a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `method` and `id`.
    Request,
    /// `method` without `id`.
    Notification,
    /// A client's answer to a server request: `result`, no `method`.
    Response,
    /// A client's error answer: `error`, no `method`.
    ErrorResponse,
}

/// The members of one JSON-RPC message the gateway reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub id: Option<RpcId>,
    /// As sent; compare with the `*_like` functions, not `==`.
    pub method: Option<String>,
    pub kind: Kind,
    /// `params.name` for tools/call (always present there) and prompts/get.
    pub tool_name: Option<String>,
    /// `params.uri` for resources/read.
    pub resource_uri: Option<String>,
    /// `params._meta["io.modelcontextprotocol/protocolVersion"]` (2026-07-28 era).
    pub protocol_version: Option<String>,
}

impl Envelope {
    /// The method, or `""` for responses.
    pub fn method_str(&self) -> &str {
        self.method.as_deref().unwrap_or_default()
    }

    /// A `tools/call` in any spelling: the ACL applies, whatever the kind (a notification that
    /// an upstream executes anyway is still a call).
    pub fn is_tools_call(&self) -> bool {
        is_tools_call_like(self.method_str())
    }

    /// A `tools/list` in any spelling: the answer is filtered.
    pub fn is_tools_list(&self) -> bool {
        is_tools_list_like(self.method_str())
    }

    /// The member the `Mcp-Name` header mirrors for this method: its label and value.
    pub fn name_member(&self) -> Option<(&'static str, Option<&str>)> {
        let m = self.method_str();
        if is_tools_call_like(m) || is_prompts_get_like(m) {
            Some(("params.name", self.tool_name.as_deref()))
        } else if is_resources_read_like(m) {
            Some(("params.uri", self.resource_uri.as_deref()))
        } else {
            None
        }
    }
}
