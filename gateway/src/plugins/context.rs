//! The per-request context every phase reads and writes, and the request as plugins see it.

use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Extensions, Payload};
use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;
use bytes::Bytes;

use super::chain::BodyRewrite;
use crate::config::model::{Consumer, ConsumerGroup, KeyAuthCredential, Route, Service};
use crate::proxy::snapshot::Snapshot;

/// What one request carries through the phases: identities resolved so far, timings, the
/// response as relayed, and per-plugin state (`extensions`, keyed by type).
pub struct Ctx {
    pub request_id: String,
    pub received: Instant,
    /// Wall-clock start, epoch milliseconds (Kong's `started_at`).
    pub started_at_ms: i64,
    pub snapshot: Arc<Snapshot>,
    pub route: Arc<Route>,
    pub service: Option<Arc<Service>>,
    pub consumer: Option<Arc<Consumer>>,
    pub groups: Vec<Arc<ConsumerGroup>>,
    pub credential: Option<Arc<KeyAuthCredential>>,
    pub client_ip: String,
    /// Path and query sent upstream.
    pub upstream_uri: String,
    /// When the request was handed to the upstream client.
    pub upstream_sent: Option<Instant>,
    /// When the upstream's response head arrived.
    pub upstream_head: Option<Instant>,
    pub status: u16,
    /// The upstream's end-to-end response headers, for `header_filter`; the log phase finds
    /// them in the record. The response takes the map when its head is sent.
    pub response_headers: HeaderMap,
    /// The response headers as the record logs them (a JSON object), written when the response
    /// took `response_headers`, so the map is never copied for the record.
    pub response_headers_json: Option<Vec<u8>>,
    pub response_size: u64,
    pub request_size: u64,
    /// Set when the response did not complete normally (`transport_error`, `client_abort`).
    pub failure: Option<&'static str>,
    /// A plugin's hold on the response body (see [`BodyRewrite`]).
    pub rewrite: Option<Box<dyn BodyRewrite>>,
    pub extensions: Extensions,
}

/// The request on its way upstream: plugins may change headers, query and body.
pub struct ProxyRequest {
    pub http: HttpRequest,
    /// Headers to send upstream (the client's, minus hop-by-hop; gateway headers added later).
    pub headers: HeaderMap,
    /// Query string without `?`, as sent upstream.
    pub query: String,
    /// The client's `Content-Length`, when it sent one that reads as a number.
    pub content_length: Option<u64>,
    pub body: RequestBody,
}

pub enum RequestBody {
    Empty,
    /// Relayed as it arrives; `length` is the client's `Content-Length` when it sent one.
    Stream {
        payload: Payload,
        length: Option<u64>,
    },
    /// Read whole by a plugin (never re-encoded: the bytes are the client's).
    Buffered(Bytes),
}
