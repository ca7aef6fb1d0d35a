//! The response side: the upstream body relayed chunk by chunk as it arrives (never buffered,
//! unless a plugin's `BodyRewrite` holds the head until it has read what it must change), each
//! chunk shown to the plugins' `body_filter`, an idle read timeout between chunks, and the
//! log phase run exactly once — at the end of the body, on an upstream error, or when the client
//! goes away (dropping the stream drops the upstream connection too).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_http::ResponseHead;
use actix_web::body::{BodyStream, BoxBody, SizedStream};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::headers;
use super::idle::{Clock, IdleTimer};
use crate::error::ProxyError;
use crate::plugins::chain::{BodyRewrite, Chain, Rewrite};
use crate::plugins::context::Ctx;
use crate::telemetry::record::{self, RequestFacts};

type UpstreamBody = actix_web::dev::Payload;

/// Everything the log phase needs, carried to the end of the response.
pub struct Finish {
    pub ctx: Ctx,
    pub chain: Arc<Chain>,
    pub facts: RequestFacts,
}

impl Finish {
    /// Whether a record will be built: only a route with plugins has a log phase.
    fn logs(&self) -> bool {
        !self.chain.plugins.is_empty()
    }

    /// Keeps the response's headers for the record, as the JSON it logs (the response takes
    /// the map itself).
    fn keep_response_headers(&mut self, headers: &HeaderMap) {
        if self.logs() {
            self.ctx.response_headers_json = Some(record::headers_json(headers, &[]));
        }
    }

    /// Runs every plugin's `log` phase over the Kong-shaped record (built only when a plugin
    /// will read it).
    pub fn log(mut self) {
        if !self.logs() {
            return;
        }
        let facts = std::mem::take(&mut self.facts);
        let secrets = self.chain.secret_names.clone();
        let mut record = record::build(&mut self.ctx, facts, secrets);
        for plugin in &self.chain.plugins {
            plugin.log(&mut self.ctx, &mut record);
        }
    }
}

/// The client's response: at once, or once a rewrite that holds the head has read enough.
pub enum Responded {
    Now(HttpResponse),
    Held(Pin<Box<dyn Future<Output = HttpResponse>>>),
}

impl Responded {
    pub async fn into_response(self) -> HttpResponse {
        match self {
            Responded::Now(response) => response,
            Responded::Held(held) => held.await,
        }
    }
}

/// Turns the upstream response into the client's, streaming its body. When a plugin holds
/// the body (`ctx.rewrite`), the head waits until the rewrite has what it needs. Only that
/// case waits, so only that case is a (boxed) future: the usual response is built here, and
/// the request's future carries no state for a hold.
pub fn respond(
    mut finish: Finish,
    mut head: ResponseHead,
    payload: UpstreamBody,
    clock: Option<Rc<Clock>>,
) -> Responded {
    // The upstream's headers move into the response: filtered in place, not copied.
    let received = std::mem::take(&mut head.headers);
    let length = received
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let status = head.status;
    let ctx = &mut finish.ctx;
    ctx.upstream_head = Some(Instant::now());
    ctx.status = status.as_u16();
    ctx.response_headers = headers::into_end_to_end(received);
    for plugin in &finish.chain.plugins {
        plugin.header_filter(ctx);
    }
    let idle = Duration::from_millis(
        ctx.service
            .as_ref()
            .map_or(60_000, |s| s.read_timeout)
            .max(1),
    );
    let mut start = Start {
        status,
        length,
        payload,
        first: None,
        rewrite: None,
        idle,
        clock,
    };
    match finish.ctx.rewrite.take() {
        Some(rewrite) if rewrite.holds_head() => {
            Responded::Held(Box::pin(held(finish, start, rewrite)))
        }
        rewrite => {
            start.rewrite = rewrite;
            Responded::Now(relayed(finish, start))
        }
    }
}

/// What the relay starts from.
struct Start {
    status: StatusCode,
    length: Option<u64>,
    payload: UpstreamBody,
    /// Bytes a held rewrite already let through.
    first: Option<Bytes>,
    rewrite: Option<Box<dyn BodyRewrite>>,
    idle: Duration,
    clock: Option<Rc<Clock>>,
}

/// The response once `rewrite`, holding its head, releases or replaces it.
async fn held(
    mut finish: Finish,
    mut start: Start,
    mut rewrite: Box<dyn BodyRewrite>,
) -> HttpResponse {
    match hold(
        &mut finish,
        &mut start.payload,
        rewrite.as_mut(),
        start.idle,
    )
    .await
    {
        Held::Pass(body) => {
            finish.ctx.response_size += body.len() as u64;
            start.length = None;
            start.first = Some(body);
            start.rewrite = Some(rewrite);
        }
        Held::Release { body, ended } => {
            finish.ctx.response_size += body.len() as u64;
            if ended {
                start.length = Some(body.len() as u64);
                start.payload = actix_web::dev::Payload::None;
            } else {
                start.length = None;
            }
            start.first = Some(body);
        }
        Held::Replace(response) => return exit(finish, response),
    }
    relayed(finish, start)
}

/// The client's response: the head now, the body relayed as it comes.
fn relayed(mut finish: Finish, start: Start) -> HttpResponse {
    // The response takes the map; a record to come keeps its JSON (no copy of the map).
    let mut headers = std::mem::take(&mut finish.ctx.response_headers);
    finish.keep_response_headers(&headers);
    let ctx = &finish.ctx;
    latency_headers(&mut headers, ctx);
    let is_event_stream = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if is_event_stream {
        // Tell any buffering proxy in front (nginx) to pass events through as they come.
        const ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
        headers.insert(ACCEL_BUFFERING, HeaderValue::from_static("no"));
    }
    let body = Relay {
        inner: start.payload,
        first: start.first,
        rewrite: start.rewrite,
        idle: IdleTimer::new(start.idle, start.clock),
        finish: Some(finish),
        ended: false,
    };
    // Not `streaming()`: it would invent `Content-Type: application/octet-stream` for an
    // upstream answer that has none; a transparent proxy adds no content type.
    let mut response = match start.length {
        Some(n) if !is_event_stream => {
            HttpResponse::new(start.status).set_body(BoxBody::new(SizedStream::new(n, body)))
        }
        _ => HttpResponse::new(start.status).set_body(BoxBody::new(BodyStream::new(body))),
    };
    *response.headers_mut() = headers;
    response
}

enum Held {
    Release {
        body: Bytes,
        ended: bool,
    },
    /// Send these bytes; the rewrite sees the rest of the body too.
    Pass(Bytes),
    Replace(HttpResponse),
}

/// Reads the upstream body into the rewrite until it releases or replaces the response. The
/// idle timeout applies between chunks as it does when relaying.
async fn hold(
    finish: &mut Finish,
    payload: &mut UpstreamBody,
    rewrite: &mut dyn BodyRewrite,
    idle: Duration,
) -> Held {
    let ctx = &mut finish.ctx;
    loop {
        let next = tokio::time::timeout(idle, payload.next()).await;
        let verdict = match next {
            Ok(Some(Ok(chunk))) => {
                for plugin in &finish.chain.plugins {
                    plugin.body_filter(ctx, &chunk);
                }
                match rewrite.feed(ctx, &chunk) {
                    Rewrite::Hold => continue,
                    Rewrite::Release(body) => {
                        return Held::Release { body, ended: false };
                    }
                    Rewrite::Pass(body) => return Held::Pass(body),
                    other => other,
                }
            }
            Ok(None) => rewrite.end(ctx),
            Ok(Some(Err(e))) => {
                tracing::warn!(request_id = %ctx.request_id, error = %e, "upstream body failed while held");
                ctx.failure = Some("transport_error");
                let e = ProxyError::UpstreamInvalid(e.to_string());
                return Held::Replace(e.response(&ctx.request_id));
            }
            Err(_) => {
                tracing::warn!(
                    request_id = %ctx.request_id,
                    idle_ms = idle.as_millis() as u64,
                    "upstream read timed out while held"
                );
                ctx.failure = Some("transport_error");
                let e = ProxyError::UpstreamTimeout("body read".into());
                return Held::Replace(e.response(&ctx.request_id));
            }
        };
        return match verdict {
            Rewrite::Release(body) | Rewrite::Pass(body) => Held::Release { body, ended: true },
            Rewrite::Replace(response) => Held::Replace(response),
            // The body ended: nothing more will come to hold for.
            Rewrite::Hold => Held::Release {
                body: Bytes::new(),
                ended: true,
            },
        };
    }
}

/// A response the gateway made itself: recorded like any other, then logged.
pub fn exit(mut finish: Finish, response: HttpResponse) -> HttpResponse {
    finish.ctx.status = response.status().as_u16();
    finish.keep_response_headers(response.headers());
    if let actix_web::body::BodySize::Sized(n) = actix_web::body::MessageBody::size(response.body())
    {
        finish.ctx.response_size = n;
    }
    finish.log();
    response
}

fn latency_headers(headers: &mut HeaderMap, ctx: &Ctx) {
    const UPSTREAM_LATENCY: HeaderName = HeaderName::from_static("x-kong-upstream-latency");
    const PROXY_LATENCY: HeaderName = HeaderName::from_static("x-kong-proxy-latency");
    const REQUEST_ID: HeaderName = HeaderName::from_static("x-kong-request-id");
    let ms = |a: Instant, b: Instant| millis(b.saturating_duration_since(a).as_millis() as u64);
    // Upstreams rarely send Kong's own names: then they are appended without a search each.
    let absent = !headers
        .keys()
        .any(|name| name.as_str().starts_with("x-kong-"));
    let mut set =
        |name: HeaderName, value: HeaderValue| headers::set_value(headers, name, value, absent);
    if let (Some(sent), Some(head)) = (ctx.upstream_sent, ctx.upstream_head) {
        set(UPSTREAM_LATENCY, ms(sent, head));
        set(PROXY_LATENCY, ms(ctx.received, sent));
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        set(REQUEST_ID, v);
    }
}

/// "00" to "99", two bytes each: a latency header under 100 ms (nearly all of them) is a slice
/// of this, not a new buffer.
static TWO_DIGITS: [u8; 200] = {
    let mut text = [0u8; 200];
    let mut n = 0;
    while n < 100 {
        text[2 * n] = b'0' + (n / 10) as u8;
        text[2 * n + 1] = b'0' + (n % 10) as u8;
        n += 1;
    }
    text
};

/// `n` as a header value; no allocation below 100.
fn millis(n: u64) -> HeaderValue {
    if n >= 100 {
        return HeaderValue::from(n);
    }
    let n = n as usize;
    let first = if n < 10 { 2 * n + 1 } else { 2 * n };
    let text = bytes::Bytes::from_static(&TWO_DIGITS[first..2 * n + 2]);
    HeaderValue::from_maybe_shared(text).expect("digits are header text")
}

/// The relayed body. Errors end the client's response (the connection closes mid-body, which is
/// how HTTP/1.1 tells a client the body is incomplete).
struct Relay {
    inner: UpstreamBody,
    /// Bytes a rewrite released, sent before the rest of the upstream body.
    first: Option<Bytes>,
    /// A rewrite that sees every chunk (`Rewrite::Pass`): what it answers is what is sent.
    rewrite: Option<Box<dyn BodyRewrite>>,
    /// The upstream's silence between chunks.
    idle: IdleTimer,
    finish: Option<Finish>,
    /// The upstream body ended and all of it was handed on: the log phase runs when the server
    /// drops this body, after it has written the last bytes to the client (as Kong's log phase
    /// runs after the response is sent).
    ended: bool,
}

impl Relay {
    /// The request's id, for warnings (empty once the log phase has run).
    fn request_id(&self) -> &str {
        self.finish
            .as_ref()
            .map_or("", |f| f.ctx.request_id.as_str())
    }

    fn end(&mut self, failure: Option<&'static str>) {
        if let Some(mut finish) = self.finish.take() {
            finish.ctx.failure = failure;
            finish.log();
        }
    }
}

impl Stream for Relay {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finish.is_none() || this.ended {
            return Poll::Ready(None);
        }
        if let Some(first) = this.first.take() {
            if !first.is_empty() {
                return Poll::Ready(Some(Ok(first)));
            }
        }
        loop {
            let polled = Pin::new(&mut this.inner).poll_next(cx);
            if let Some(ready) = this.step(polled, cx) {
                return ready;
            }
        }
    }
}

impl Relay {
    /// One upstream poll; `None` when a rewrite swallowed the chunk and the next must be read.
    fn step(
        &mut self,
        polled: Poll<Option<Result<Bytes, actix_web::error::PayloadError>>>,
        cx: &mut Context<'_>,
    ) -> Option<Poll<Option<Result<Bytes, actix_web::Error>>>> {
        let this = self;
        Some(match polled {
            Poll::Ready(Some(Ok(chunk))) => {
                this.idle.data();
                let Some(finish) = this.finish.as_mut() else {
                    return Some(Poll::Ready(None));
                };
                for plugin in &finish.chain.plugins {
                    plugin.body_filter(&mut finish.ctx, &chunk);
                }
                let out = match this.rewrite.as_mut() {
                    None => chunk,
                    Some(rewrite) => match rewrite.feed(&mut finish.ctx, &chunk) {
                        Rewrite::Pass(out) => out,
                        Rewrite::Release(out) => {
                            this.rewrite = None;
                            out
                        }
                        Rewrite::Hold => Bytes::new(),
                        Rewrite::Replace(_) => {
                            // Too late to answer otherwise: the stream is cut, never relayed
                            // unfiltered.
                            tracing::warn!(
                                request_id = this.request_id(),
                                "response stream cut: its rewrite refused it"
                            );
                            this.end(Some("transport_error"));
                            return Some(Poll::Ready(Some(Err(
                                actix_web::error::ErrorBadGateway("response refused"),
                            ))));
                        }
                    },
                };
                if out.is_empty() {
                    return None;
                }
                if let Some(finish) = this.finish.as_mut() {
                    finish.ctx.response_size += out.len() as u64;
                }
                Poll::Ready(Some(Ok(out)))
            }
            Poll::Ready(Some(Err(e))) => {
                tracing::warn!(request_id = this.request_id(), error = %e, "upstream body failed mid-response");
                this.end(Some("transport_error"));
                Poll::Ready(Some(Err(actix_web::error::ErrorBadGateway(e))))
            }
            Poll::Ready(None) => {
                if let (Some(mut rewrite), Some(finish)) =
                    (this.rewrite.take(), this.finish.as_mut())
                {
                    if let Rewrite::Release(tail) | Rewrite::Pass(tail) =
                        rewrite.end(&mut finish.ctx)
                    {
                        if !tail.is_empty() {
                            finish.ctx.response_size += tail.len() as u64;
                            this.inner = actix_web::dev::Payload::None;
                            return Some(Poll::Ready(Some(Ok(tail))));
                        }
                    }
                }
                this.ended = true;
                Poll::Ready(None)
            }
            Poll::Pending => match this.idle.poll_expired(cx) {
                Poll::Ready(()) => {
                    tracing::warn!(
                        request_id = this.request_id(),
                        idle_ms = this.idle.timeout().as_millis() as u64,
                        "upstream read timed out mid-response"
                    );
                    this.end(Some("transport_error"));
                    Poll::Ready(Some(Err(actix_web::error::ErrorGatewayTimeout(
                        "upstream read timeout",
                    ))))
                }
                Poll::Pending => Poll::Pending,
            },
        })
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        // Unless the body ended, the client went away before it did.
        let failure = (!self.ended).then_some("client_abort");
        self.end(failure);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_values_are_the_numbers_spelled_out() {
        for n in (0..=150).chain([999, 1000, u64::MAX]) {
            assert_eq!(millis(n), HeaderValue::from(n), "{n}");
        }
    }
}
