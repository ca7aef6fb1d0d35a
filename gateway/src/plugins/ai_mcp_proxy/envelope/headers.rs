//! The 2026-07-28 mirrored headers: `Mcp-Method` (= body `method`) and `Mcp-Name`
//! (= `params.name` or `params.uri`).
//!
//! The gateway enforces on the body; a header that disagrees is answered with `400` and
//! [`HEADER_MISMATCH`](super::HEADER_MISMATCH) so that an upstream routing on the header can
//! never be made to run something other than what the ACL judged. Comparison is exact: the
//! headers mirror the body, they are not a second spelling of it.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::header::HeaderName;

use super::Envelope;

/// MCP's headers, named once: a lookup by text would parse (and, for these non-standard
/// names, copy) the name on every request.
pub const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
pub const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");
pub const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");

/// Which header disagreed with the body, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderMismatch {
    /// `Mcp-Method` differs from `method` (`body` is `None` for a body without one).
    Method {
        header: String,
        body: Option<String>,
    },
    /// `Mcp-Name` differs from `member` (`params.name`/`params.uri`), or the method has no
    /// such member (`member` is `None`).
    Name {
        header: String,
        member: Option<&'static str>,
        body: Option<String>,
    },
    /// A `=?base64?…?=` value that does not decode.
    BadEncoding { header: &'static str },
}

impl fmt::Display for HeaderMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Method { header, body: Some(body) } => {
                write!(f, "Mcp-Method header {header:?} does not match method {body:?}")
            }
            Self::Method { header, body: None } => {
                write!(f, "Mcp-Method header {header:?} does not match: the body has no method")
            }
            Self::Name { header, member: Some(member), body: Some(body) } => {
                write!(f, "Mcp-Name header {header:?} does not match {member} {body:?}")
            }
            Self::Name { header, member: Some(member), body: None } => {
                write!(f, "Mcp-Name header {header:?} does not match: the body has no {member}")
            }
            Self::Name { header, member: None, .. } => write!(
                f,
                "Mcp-Name header {header:?} does not match: the body has no params.name or params.uri"
            ),
            Self::BadEncoding { header } => {
                write!(f, "{header} header is not valid =?base64?...?= encoding")
            }
        }
    }
}

impl std::error::Error for HeaderMismatch {}

/// Checks the headers that are present against the body. Absent headers are fine (the legacy
/// era does not send them).
pub fn check_headers(
    env: &Envelope,
    mcp_method: Option<&[u8]>,
    mcp_name: Option<&[u8]>,
) -> Result<(), HeaderMismatch> {
    if let Some(raw) = mcp_method {
        let header = decode(raw, "Mcp-Method")?;
        if env.method.as_deref().map(str::as_bytes) != Some(&*header) {
            let header = String::from_utf8_lossy(&header).into_owned();
            return Err(HeaderMismatch::Method {
                header,
                body: env.method.clone(),
            });
        }
    }
    if let Some(raw) = mcp_name {
        let header = decode(raw, "Mcp-Name")?;
        let (member, body) = match env.name_member() {
            Some((member, body)) => (Some(member), body),
            None => (None, None),
        };
        if body.map(str::as_bytes) != Some(&*header) {
            let header = String::from_utf8_lossy(&header).into_owned();
            let body = body.map(str::to_owned);
            return Err(HeaderMismatch::Name {
                header,
                member,
                body,
            });
        }
    }
    Ok(())
}

fn decode<'a>(raw: &'a [u8], name: &'static str) -> Result<Cow<'a, [u8]>, HeaderMismatch> {
    decode_header_value(raw).ok_or(HeaderMismatch::BadEncoding { header: name })
}

/// A header value with surrounding spaces/tabs removed and `=?base64?…?=` decoded; `None` when
/// the encoded form holds invalid base64.
pub fn decode_header_value(raw: &[u8]) -> Option<Cow<'_, [u8]>> {
    let value = raw.trim_ascii();
    const PREFIX: &[u8] = b"=?base64?";
    let encoded = value.len() >= PREFIX.len() + 2
        && value[..PREFIX.len()].eq_ignore_ascii_case(PREFIX)
        && value.ends_with(b"?=");
    if !encoded {
        return Some(Cow::Borrowed(value));
    }
    base64_decode(&value[PREFIX.len()..value.len() - 2]).map(Cow::Owned)
}

/// Standard base64 (RFC 4648 §4), padding optional; `None` on any other character, misplaced
/// padding or non-zero trailing bits (so each value has exactly one accepted encoding).
fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let data = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    // Padding only ever completes a final group of four; one leftover character is no byte.
    let (padded, rest) = (data.len() != input.len(), input.len() % 4);
    if (padded && rest != 0) || data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in data {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (acc == 0).then_some(out)
}
