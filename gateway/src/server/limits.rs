//! Client-side limits of the proxy listener that actix's HTTP layer does not apply by itself:
//! the longest pause between two reads of a request body (nginx's `client_body_timeout`) and
//! the largest body (`client_max_body_size`). Head timeouts, keep-alive, header-size limits,
//! request-smuggling checks and closing kept-alive connections on shutdown are actix's own
//! (configured in `server`).

use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use bytes::Bytes;
use futures_util::Stream;

use crate::error::{BodyFault, ProxyError};
use crate::proxy::idle::{Clock, IdleTimer};

/// What the proxy listener enforces on clients; shared by its workers.
#[derive(Debug, Clone)]
pub struct ClientLimits {
    pub body_timeout: Option<Duration>,
    pub max_body: Option<u64>,
}

/// The proxy listener's middleware: refuses a declared body over the limit at once and guards
/// the body stream.
pub async fn enforce(
    limits: Arc<ClientLimits>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let declared = declared_length(req.headers());
    if let (Some(max), Some(n)) = (limits.max_body, declared) {
        if n > max {
            let request_id = uuid::Uuid::new_v4().simple().to_string();
            let error = ProxyError::ClientLimit(BodyFault::TooLarge(max));
            tracing::debug!(
                length = n,
                limit = max,
                "request body over the limit refused"
            );
            let mut res = req.into_response(error.response(&request_id));
            // The unread body would be taken for the next request: end the connection.
            res.response_mut()
                .head_mut()
                .set_connection_type(ConnectionType::Close);
            return Ok(res.map_into_right_body());
        }
    }
    let has_body =
        declared.is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING);
    if has_body && (limits.body_timeout.is_some() || limits.max_body.is_some()) {
        let inner = req.take_payload();
        let guarded = GuardedBody {
            inner,
            idle: limits
                .body_timeout
                .map(|timeout| IdleTimer::new(timeout, req.conn_data::<Rc<Clock>>().cloned())),
            max: limits.max_body,
            seen: 0,
            failed: false,
        };
        req.set_payload(Payload::Stream {
            payload: Box::pin(guarded),
        });
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The request body as the handler sees it: fails with a [`BodyFault`] when the client pauses
/// longer than the body timeout or sends more than the limit.
struct GuardedBody {
    inner: Payload,
    idle: Option<IdleTimer>,
    max: Option<u64>,
    seen: u64,
    failed: bool,
}

impl GuardedBody {
    fn fail(&mut self, fault: BodyFault) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.failed = true;
        tracing::debug!(%fault, "request body refused");
        Poll::Ready(Some(Err(fault.into_payload_error())))
    }
}

impl Stream for GuardedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.seen += chunk.len() as u64;
                if let Some(max) = this.max.filter(|&max| this.seen > max) {
                    return this.fail(BodyFault::TooLarge(max));
                }
                if let Some(idle) = this.idle.as_mut() {
                    idle.data();
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => {
                let expired = this.idle.as_mut().and_then(|idle| {
                    let expired = idle.poll_expired(cx).is_ready();
                    expired.then(|| idle.timeout())
                });
                match expired {
                    Some(timeout) => this.fail(BodyFault::Timeout(timeout)),
                    None => Poll::Pending,
                }
            }
        }
    }
}
