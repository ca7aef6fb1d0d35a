//! The upstream side: per-worker pools of upstream connections (awc's connector, reused
//! across requests) and the mapping of transport failures to Kong's 502/503/504.

use std::cell::RefCell;
use std::future::Future as _;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use actix_http::{Payload, RequestHead, ResponseHead};
use actix_service::Service as _;
use actix_web::body::{self, BodyStream, BoxBody, SizedStream};
use actix_web::http::header::{HeaderValue, HOST};
use actix_web::http::uri::{self, Authority, PathAndQuery, Scheme};
use actix_web::http::Uri;
use awc::error::{ConnectError, SendRequestError};
use uuid::Uuid;

use super::idle::{Clock, IdleTimer};
use crate::config::model::{Protocol, Service};
use crate::error::{BodyFault, ProxyError};
use crate::plugins::context::{ProxyRequest, RequestBody};

/// One connection pool per connect timeout, created lazily on each worker thread (awc's
/// connections are not `Send`). Requests go straight to a pooled connection: no `awc::Client`
/// request builder, boxed connector or response wrapper on the way.
#[derive(Default)]
pub struct Upstreams {
    pools: RefCell<foldhash::HashMap<u64, Rc<awc::DefaultConnectorService>>>,
    targets: RefCell<foldhash::HashMap<Uuid, Target>>,
}

/// Where a service's requests go, parsed once per worker for the service's host and port.
struct Target {
    host: String,
    port: u16,
    to: To,
}

/// What a request takes from its target (clones that share their bytes).
#[derive(Clone)]
struct To {
    /// For the request URI.
    authority: Authority,
    /// The URI the pool connects to and keys its connections by.
    connect: Uri,
    /// The `Host` a request gets when the route does not preserve the client's: the host, with
    /// the port unless it is 80 or 443.
    host_header: HeaderValue,
}

/// Services whose targets a worker keeps; past it the cache starts again (services removed
/// from the configuration leave theirs behind).
const MAX_TARGETS: usize = 1024;

impl Upstreams {
    fn pool(&self, connect_timeout_ms: u64) -> Rc<awc::DefaultConnectorService> {
        self.pools
            .borrow_mut()
            .entry(connect_timeout_ms)
            .or_insert_with(|| {
                Rc::new(
                    awc::Connector::new()
                        .timeout(Duration::from_millis(connect_timeout_ms.max(1)))
                        .conn_keep_alive(Duration::from_secs(60))
                        .limit(0)
                        .finish(),
                )
            })
            .clone()
    }

    /// The service's target, or none when its host cannot be an authority or a `Host` (the
    /// request then fails as an invalid URL).
    fn target(&self, service: &Service) -> Option<To> {
        let mut targets = self.targets.borrow_mut();
        if let Some(t) = targets.get(&service.id) {
            if t.host == service.host && t.port == service.port {
                return Some(t.to.clone());
            }
        }
        let authority = Authority::try_from(format!("{}:{}", service.host, service.port)).ok()?;
        let host_header = match service.port {
            80 | 443 => HeaderValue::from_str(&service.host),
            port => HeaderValue::from_str(&format!("{}:{port}", service.host)),
        }
        .ok()?;
        let connect =
            Uri::from_parts(parts(authority.clone(), PathAndQuery::from_static("/"))).ok()?;
        if targets.len() >= MAX_TARGETS {
            targets.clear();
        }
        let to = To {
            authority,
            connect,
            host_header,
        };
        targets.insert(
            service.id,
            Target {
                host: service.host.clone(),
                port: service.port,
                to: to.clone(),
            },
        );
        Some(to)
    }

    /// The request URI (the target's authority and `path_and_query`) and the target's parts.
    fn uri(&self, service: &Service, path_and_query: &str) -> Option<(Uri, To)> {
        let target = self.target(service)?;
        let path_and_query = PathAndQuery::try_from(path_and_query).ok()?;
        let uri = Uri::from_parts(parts(target.authority.clone(), path_and_query)).ok()?;
        Some((uri, target))
    }

    /// Sends the request upstream; resolves when the response head arrives, or fails when it
    /// has not within the service's timeout (timed on the connection's `clock` when it has one).
    /// `path_and_query` is the upstream URI's (Kong's `upstream_uri`); `host` is the client's
    /// `Host` when the route preserves it. The timeout counts from `sent`.
    pub async fn send(
        &self,
        service: &Service,
        path_and_query: &str,
        host: Option<HeaderValue>,
        req: ProxyRequest,
        sent: Instant,
        clock: Option<Rc<Clock>>,
    ) -> Result<(ResponseHead, Payload), ProxyError> {
        if service.protocol != Protocol::Http {
            return Err(ProxyError::UpstreamConnect(format!(
                "protocol {} upstreams are not supported",
                service.protocol.as_str()
            )));
        }
        let Some((uri, target)) = self.uri(service, path_and_query) else {
            return Err(ProxyError::UpstreamInvalid(format!(
                "invalid upstream URL: http://{}:{}{path_and_query}",
                service.host, service.port
            )));
        };
        let mut head = RequestHead::default();
        head.method = req.http.method().clone();
        head.uri = uri;
        head.headers = req.headers;
        head.headers
            .insert(HOST, host.unwrap_or(target.host_header));
        let head_timeout = match req.body {
            RequestBody::Stream { .. } => service.read_timeout + service.write_timeout,
            _ => service.read_timeout,
        };
        // `Content-Length: 0` only when the client sent it: a GET goes up as it came. The
        // client's own `Accept-Encoding` (or none) goes upstream: nothing is decoded here.
        let body = match req.body {
            RequestBody::Empty if req.content_length.is_none() => BoxBody::new(body::None::new()),
            RequestBody::Empty => BoxBody::new(bytes::Bytes::new()),
            RequestBody::Buffered(bytes) => BoxBody::new(bytes),
            RequestBody::Stream {
                payload,
                length: Some(n),
            } => BoxBody::new(SizedStream::new(n, payload)),
            RequestBody::Stream {
                payload,
                length: None,
            } => BoxBody::new(BodyStream::new(payload)),
        };
        let connecting = self.pool(service.connect_timeout).call(awc::Connect {
            uri: target.connect,
            addr: None,
        });
        let mut timer = IdleTimer::since(Duration::from_millis(head_timeout.max(1)), clock, sent);
        let mut sending = std::pin::pin!(async move {
            let connection = connecting.await.map_err(SendRequestError::Connect)?;
            connection.send_request(head, body).await
        });
        let response = std::future::poll_fn(|cx| match sending.as_mut().poll(cx) {
            Poll::Ready(response) => Poll::Ready(response),
            Poll::Pending => timer
                .poll_expired(cx)
                .map(|()| Err(SendRequestError::Timeout)),
        })
        .await;
        response.map_err(classify)
    }
}

fn parts(authority: Authority, path_and_query: PathAndQuery) -> uri::Parts {
    let mut parts = uri::Parts::default();
    parts.scheme = Some(Scheme::HTTP);
    parts.authority = Some(authority);
    parts.path_and_query = Some(path_and_query);
    parts
}

fn classify(e: SendRequestError) -> ProxyError {
    match e {
        SendRequestError::Connect(ConnectError::Resolver(r)) => {
            ProxyError::UpstreamResolve(r.to_string())
        }
        SendRequestError::Connect(ConnectError::Timeout) | SendRequestError::Timeout => {
            ProxyError::UpstreamTimeout(e.to_string())
        }
        SendRequestError::Connect(c) => ProxyError::UpstreamConnect(c.to_string()),
        SendRequestError::Body(b) => match BodyFault::find(b.as_ref()) {
            Some(fault) => ProxyError::ClientLimit(fault),
            None => ProxyError::ClientBody(b.to_string()),
        },
        other => ProxyError::UpstreamInvalid(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(host: &str, port: u16) -> Service {
        Service::for_tests("upstream-test", host, port, None)
    }

    fn uri_and_host(upstreams: &Upstreams, s: &Service, path_and_query: &str) -> (String, String) {
        let (uri, target) = upstreams.uri(s, path_and_query).expect("a valid URI");
        (
            uri.to_string(),
            target.host_header.to_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn the_uri_and_host_follow_the_service_and_the_port_rule() {
        let upstreams = Upstreams::default();
        assert_eq!(
            uri_and_host(&upstreams, &service("127.0.0.1", 18081), "/users?a=1&b"),
            (
                "http://127.0.0.1:18081/users?a=1&b".to_owned(),
                "127.0.0.1:18081".to_owned()
            )
        );
        assert_eq!(
            uri_and_host(&upstreams, &service("api.test", 18081), "/mcp"),
            (
                "http://api.test:18081/mcp".to_owned(),
                "api.test:18081".to_owned()
            ),
            "the same service moved to another host is sent there"
        );
        assert_eq!(
            uri_and_host(&upstreams, &service("api.test", 80), "/"),
            ("http://api.test:80/".to_owned(), "api.test".to_owned()),
            "the default ports are left out of Host"
        );
        assert_eq!(
            uri_and_host(&upstreams, &service("api.test", 443), "/").1,
            "api.test"
        );
    }

    #[test]
    fn a_host_that_is_no_authority_gives_no_uri() {
        let upstreams = Upstreams::default();
        assert!(upstreams.uri(&service("bad host", 80), "/").is_none());
        assert!(upstreams.uri(&service("h", 80), "/a b").is_none());
    }
}
