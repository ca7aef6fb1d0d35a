//! The one error enum at the proxy boundary: each variant maps to a status, Kong's JSON body and
//! a short reason used in logs and metric labels.

use std::borrow::Cow;
use std::time::Duration;

use actix_http::body::BoxBody;
use actix_http::error::ParseError;
use actix_http::h1::Refusal;
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("no route matched")]
    NoRoute,
    #[error("route has no service")]
    NoService,
    #[error("upstream connection failed: {0}")]
    UpstreamConnect(String),
    #[error("upstream name resolution failed: {0}")]
    UpstreamResolve(String),
    #[error("upstream timed out: {0}")]
    UpstreamTimeout(String),
    #[error("invalid upstream response: {0}")]
    UpstreamInvalid(String),
    #[error("request body could not be read: {0}")]
    ClientBody(String),
    #[error("{0}")]
    ClientLimit(BodyFault),
}

/// A request body cut short by the proxy listener's limits. It travels inside the body's
/// I/O error, so whoever reads the body (the upstream client, a plugin) sees it, and the
/// answer can say which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyFault {
    #[error("no request body data for {} ms (nginx_http_client_body_timeout)", .0.as_millis())]
    Timeout(Duration),
    #[error("request body exceeds nginx_http_client_max_body_size ({0} bytes)")]
    TooLarge(u64),
}

impl BodyFault {
    /// The payload error that carries this fault.
    pub fn into_payload_error(self) -> PayloadError {
        let kind = match self {
            BodyFault::Timeout(_) => std::io::ErrorKind::TimedOut,
            BodyFault::TooLarge(_) => std::io::ErrorKind::InvalidData,
        };
        PayloadError::Io(std::io::Error::new(kind, self))
    }

    /// Finds the fault inside an error raised while a body was read or sent.
    pub fn find(error: &(dyn std::error::Error + 'static)) -> Option<BodyFault> {
        let io = match error.downcast_ref::<PayloadError>() {
            Some(PayloadError::Io(io)) => io,
            _ => error.downcast_ref::<std::io::Error>()?,
        };
        io.get_ref()?.downcast_ref::<BodyFault>().copied()
    }
}

impl ProxyError {
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::NoRoute => StatusCode::NOT_FOUND,
            ProxyError::NoService | ProxyError::UpstreamResolve(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ProxyError::UpstreamConnect(_) | ProxyError::UpstreamInvalid(_) => {
                StatusCode::BAD_GATEWAY
            }
            ProxyError::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ProxyError::ClientBody(_) => StatusCode::BAD_REQUEST,
            ProxyError::ClientLimit(BodyFault::Timeout(_)) => StatusCode::REQUEST_TIMEOUT,
            ProxyError::ClientLimit(BodyFault::TooLarge(_)) => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// Kong's message for this status; client limits also name the limit.
    pub fn message(&self) -> Cow<'static, str> {
        let fixed = match self {
            ProxyError::NoRoute => "no Route matched with those values",
            ProxyError::NoService | ProxyError::UpstreamResolve(_) => {
                "The upstream server is currently unavailable"
            }
            ProxyError::UpstreamConnect(_) | ProxyError::UpstreamInvalid(_) => {
                "An invalid response was received from the upstream server"
            }
            ProxyError::UpstreamTimeout(_) => "The upstream server is timing out",
            ProxyError::ClientBody(_) => "Bad request",
            ProxyError::ClientLimit(fault) => return Cow::Owned(fault.message()),
        };
        Cow::Borrowed(fixed)
    }

    /// A short, bounded reason for logs and metric labels.
    pub fn reason(&self) -> &'static str {
        match self {
            ProxyError::NoRoute => "no_route",
            ProxyError::NoService => "no_service",
            ProxyError::UpstreamConnect(_) => "upstream_connect",
            ProxyError::UpstreamResolve(_) => "upstream_dns",
            ProxyError::UpstreamTimeout(_) => "upstream_timeout",
            ProxyError::UpstreamInvalid(_) => "upstream_invalid",
            ProxyError::ClientBody(_) => "client_body",
            ProxyError::ClientLimit(BodyFault::Timeout(_)) => "client_body_timeout",
            ProxyError::ClientLimit(BodyFault::TooLarge(_)) => "client_body_too_large",
        }
    }

    pub fn response(&self, request_id: &str) -> HttpResponse {
        kong_error(self.status(), &self.message(), request_id)
    }
}

impl BodyFault {
    /// Kong's message for the status, then which limit was hit.
    pub fn message(&self) -> String {
        match self {
            BodyFault::Timeout(_) => format!("Request timeout: {self}"),
            BodyFault::TooLarge(_) => format!("Request size limit exceeded: {self}"),
        }
    }
}

/// The answer to a request the HTTP layer refuses before any route sees it (a malformed or
/// ambiguous head, a head over the limits, a first head that came too slowly): Kong's body,
/// naming the cause or the limit. `header_timeout` is `nginx_http_client_header_timeout`.
pub fn refusal(refusal: Refusal<'_>, header_timeout: Duration) -> actix_http::Response<BoxBody> {
    let message = match refusal {
        Refusal::Malformed(error) => {
            let fault = match error {
                ParseError::Method => "invalid request method",
                ParseError::Uri(_) => "invalid request target",
                ParseError::Version => "invalid HTTP version",
                // httparse's token and header faults, and the ambiguous lengths a second
                // request could be smuggled behind.
                ParseError::Header => {
                    "malformed request line or header, conflicting or signed Content-Length, \
                     or Transfer-Encoding other than chunked"
                }
                _ => "malformed request head",
            };
            format!("Bad request: {fault}")
        }
        Refusal::HeadTooLarge {
            max_headers,
            max_bytes,
        } => format!(
            "Request header or cookie too large: a request head may have at most {max_headers} \
             headers and {} KiB",
            max_bytes / 1024
        ),
        Refusal::HeadTimeout => format!(
            "Request timeout: no complete request head within {} ms \
             (nginx_http_client_header_timeout)",
            header_timeout.as_millis()
        ),
    };
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    kong_error(refusal.status(), &message, &request_id).into()
}

/// Kong's gateway-originated error body: `{"message": …, "request_id": …}`.
pub fn kong_error(status: StatusCode, message: &str, request_id: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("X-Kong-Request-Id", request_id))
        .json(serde_json::json!({ "message": message, "request_id": request_id }))
}
