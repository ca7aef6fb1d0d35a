//! The one error enum at the proxy boundary: each variant maps to a status, Kong's JSON body and
//! a short reason used in logs and metric labels.

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
        }
    }

    /// Kong's message for this status.
    pub fn message(&self) -> &'static str {
        match self {
            ProxyError::NoRoute => "no Route matched with those values",
            ProxyError::NoService | ProxyError::UpstreamResolve(_) => {
                "The upstream server is currently unavailable"
            }
            ProxyError::UpstreamConnect(_) | ProxyError::UpstreamInvalid(_) => {
                "An invalid response was received from the upstream server"
            }
            ProxyError::UpstreamTimeout(_) => "The upstream server is timing out",
            ProxyError::ClientBody(_) => "Bad request",
        }
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
        }
    }

    pub fn response(&self, request_id: &str) -> HttpResponse {
        kong_error(self.status(), self.message(), request_id)
    }
}

/// Kong's gateway-originated error body: `{"message": …, "request_id": …}`.
pub fn kong_error(status: StatusCode, message: &str, request_id: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("X-Kong-Request-Id", request_id))
        .json(serde_json::json!({ "message": message, "request_id": request_id }))
}
