//! Client-side limits of the proxy listener that actix's HTTP layer does not apply by itself:
//! the longest pause between two reads of a request body (nginx's `client_body_timeout`) and
//! the largest body (`client_max_body_size`). Head timeouts, keep-alive, header-size limits,
//! request-smuggling checks and closing kept-alive connections on shutdown are actix's own
//! (configured in `server`).

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::ConnectionType;
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
/// the body stream. A plain service (not `from_fn`): nothing is boxed per request.
#[derive(Clone)]
pub struct Enforce(pub Arc<ClientLimits>);

impl<S, B> Transform<S, ServiceRequest> for Enforce
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = EnforceService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(EnforceService {
            service,
            limits: self.0.clone(),
        }))
    }
}

pub struct EnforceService<S> {
    service: S,
    limits: Arc<ClientLimits>,
}

impl<S, B> Service<ServiceRequest> for EnforceService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Enforced<S::Future, B>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let limits = &self.limits;
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
                return Enforced::Refused {
                    response: Some(res.map_into_right_body()),
                };
            }
        }
        let has_body = declared.is_some_and(|n| n > 0)
            || req.headers().contains_key(header::TRANSFER_ENCODING);
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
        Enforced::Passed {
            inner: self.service.call(req),
        }
    }
}

pin_project_lite::pin_project! {
    /// The refusal, ready at once, or the inner service's answer.
    #[project = EnforcedProj]
    pub enum Enforced<F, B> {
        Refused { response: Option<ServiceResponse<EitherBody<B>>> },
        Passed { #[pin] inner: F },
    }
}

impl<F, B> Future for Enforced<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            EnforcedProj::Refused { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
            EnforcedProj::Passed { inner } => {
                inner.poll(cx).map_ok(ServiceResponse::map_into_left_body)
            }
        }
    }
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
