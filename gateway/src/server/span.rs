//! The proxy's per-request span. It is a `debug` span: with `log_level = debug` every line a
//! request causes sits inside it (method, target, status), and at the default `notice` it is
//! never built, so a request pays nothing for it. Lines that matter at any level (the warnings
//! of a failed upstream call, a cut stream) name the request's `request_id` themselves: the same
//! id as the client's `X-Kong-Request-Id` and the log record's `request.id`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        tracing::debug_span!(
            "request",
            method = %request.method(),
            target = %request.uri(),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        if let Ok(response) = outcome {
            span.record("status", response.status().as_u16());
        }
    }
}
