//! Patched in (see `PATCHES.md`): the answers the HTTP/1 dispatcher gives by itself, before any
//! service sees a request, shaped by the server that runs it.

use std::rc::Rc;

use crate::{body::BoxBody, error::ParseError, Extensions, Response, StatusCode};

/// A request the dispatcher refuses by itself.
#[derive(Debug)]
pub enum Refusal<'a> {
    /// 400: the request head could not be parsed, or is ambiguous (conflicting lengths).
    Malformed(&'a ParseError),
    /// 431: the request head has more than `max_headers` headers or `max_bytes` bytes.
    HeadTooLarge { max_headers: usize, max_bytes: usize },
    /// 408: the first request head of the connection did not arrive in time.
    HeadTimeout,
}

impl Refusal<'_> {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Malformed(_) => StatusCode::BAD_REQUEST,
            Refusal::HeadTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Refusal::HeadTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }
}

/// Connection data (inserted with `on_connect_ext`) that builds the response to a [`Refusal`].
/// Without it the dispatcher answers with the status alone, as it always did.
#[derive(Clone)]
pub struct RefusalResponses(pub Rc<dyn Fn(Refusal<'_>) -> Response<BoxBody>>);

/// The response to `refusal` on a connection with `conn_data`, split as the dispatcher sends it.
pub(crate) fn respond(
    conn_data: Option<&Rc<Extensions>>,
    refusal: Refusal<'_>,
) -> (Response<()>, BoxBody) {
    match conn_data.and_then(|data| data.get::<RefusalResponses>()) {
        Some(responses) => (responses.0)(refusal).into_parts(),
        None => (Response::with_body(refusal.status(), ()), BoxBody::new(())),
    }
}
