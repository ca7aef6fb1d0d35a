//! The upstream side: per-worker awc clients (connection pools reused across requests) and the
//! mapping of transport failures to Kong's 502/503/504.

use std::cell::RefCell;
use std::future::Future as _;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use actix_web::body::{self, SizedStream};
use actix_web::http::header::{HeaderValue, CONTENT_LENGTH, HOST};
use actix_web::http::uri::{self, Authority, PathAndQuery, Scheme};
use actix_web::http::Uri;
use awc::error::{ConnectError, SendRequestError};
use awc::ClientResponse;
use uuid::Uuid;

use super::idle::{Clock, IdleTimer};
use crate::config::model::{Protocol, Service};
use crate::error::{BodyFault, ProxyError};
use crate::plugins::context::{ProxyRequest, RequestBody};

/// One client per connect timeout, created lazily on each worker thread (awc clients are not
/// `Send`); each keeps its own keep-alive pool.
#[derive(Default)]
pub struct Upstreams {
    clients: RefCell<foldhash::HashMap<u64, awc::Client>>,
    targets: RefCell<foldhash::HashMap<Uuid, Target>>,
}

/// Where a service's requests go, parsed once per worker: its authority for the request URI
/// and the `Host` it gets when the route does not preserve the client's (the host, with the
/// port unless it is 80 or 443).
struct Target {
    host: String,
    port: u16,
    authority: Authority,
    host_header: HeaderValue,
}

/// Services whose targets a worker keeps; past it the cache starts again (services removed
/// from the configuration leave theirs behind).
const MAX_TARGETS: usize = 1024;

impl Upstreams {
    fn client(&self, connect_timeout_ms: u64) -> awc::Client {
        self.clients
            .borrow_mut()
            .entry(connect_timeout_ms)
            .or_insert_with(|| {
                let connector = awc::Connector::new()
                    .timeout(Duration::from_millis(connect_timeout_ms.max(1)))
                    .conn_keep_alive(Duration::from_secs(60))
                    .limit(0);
                awc::Client::builder()
                    .connector(connector)
                    .no_default_headers()
                    .disable_redirects()
                    // The response head's timeout is the request's own (`send`); awc's would
                    // also cap the body.
                    .disable_timeout()
                    .finish()
            })
            .clone()
    }

    /// The service's authority and default `Host`, or none when its host cannot be either (the
    /// request then fails as its URL does).
    fn target(&self, service: &Service) -> Option<(Authority, HeaderValue)> {
        let mut targets = self.targets.borrow_mut();
        if let Some(t) = targets.get(&service.id) {
            if t.host == service.host && t.port == service.port {
                return Some((t.authority.clone(), t.host_header.clone()));
            }
        }
        let authority = Authority::try_from(format!("{}:{}", service.host, service.port)).ok()?;
        let host_header = match service.port {
            80 | 443 => HeaderValue::from_str(&service.host),
            port => HeaderValue::from_str(&format!("{}:{port}", service.host)),
        }
        .ok()?;
        if targets.len() >= MAX_TARGETS {
            targets.clear();
        }
        targets.insert(
            service.id,
            Target {
                host: service.host.clone(),
                port: service.port,
                authority: authority.clone(),
                host_header: host_header.clone(),
            },
        );
        Some((authority, host_header))
    }

    /// The request URI: the target's authority and `path_and_query`.
    fn uri(&self, service: &Service, path_and_query: &str) -> Option<(Uri, HeaderValue)> {
        let (authority, host_header) = self.target(service)?;
        let mut parts = uri::Parts::default();
        parts.scheme = Some(Scheme::HTTP);
        parts.authority = Some(authority);
        parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
        Some((Uri::from_parts(parts).ok()?, host_header))
    }

    /// Sends the request upstream; resolves when the response head arrives, or fails when it
    /// has not within the service's timeout (timed on the connection's `clock` when it has one).
    pub async fn send(
        &self,
        service: &Service,
        path: &str,
        host_header: Option<&str>,
        req: ProxyRequest,
        clock: Option<Rc<Clock>>,
    ) -> Result<ClientResponse, ProxyError> {
        if service.protocol != Protocol::Http {
            return Err(ProxyError::UpstreamConnect(format!(
                "protocol {} upstreams are not supported",
                service.protocol.as_str()
            )));
        }
        let mut path_and_query = String::with_capacity(path.len() + 1 + req.query.len());
        path_and_query.push_str(path);
        if !req.query.is_empty() {
            path_and_query.push('?');
            path_and_query.push_str(&req.query);
        }
        let client = self.client(service.connect_timeout);
        let method = req.http.method().clone();
        let (mut upstream, default_host) = match self.uri(service, &path_and_query) {
            Some((uri, default_host)) => (client.request(method, uri), Some(default_host)),
            // Not a valid URI: awc reports it, as it would for any malformed URL.
            None => {
                let url = format!("http://{}:{}{path_and_query}", service.host, service.port);
                (client.request(method, url.as_str()), None)
            }
        };
        *upstream.headers_mut() = req.headers;
        match (host_header, default_host) {
            (Some(host), _) => upstream = upstream.insert_header((HOST, host)),
            (None, Some(host)) => {
                upstream.headers_mut().insert(HOST, host);
            }
            // awc derives it from the URL.
            (None, None) => {}
        }
        let streaming = matches!(req.body, RequestBody::Stream { .. });
        let head_timeout = if streaming {
            service.read_timeout + service.write_timeout
        } else {
            service.read_timeout
        };
        let mut timer = IdleTimer::new(Duration::from_millis(head_timeout.max(1)), clock);
        // The client's own `Accept-Encoding` (or none) goes upstream: nothing is decoded here.
        let upstream = upstream.no_decompress();
        let sending = match req.body {
            // `Content-Length: 0` only when the client sent it: a GET goes up as it came.
            RequestBody::Empty if !req.http.headers().contains_key(CONTENT_LENGTH) => {
                upstream.send_body(body::None::new())
            }
            RequestBody::Empty => upstream.send(),
            RequestBody::Buffered(bytes) => upstream.send_body(bytes),
            RequestBody::Stream {
                payload,
                length: Some(n),
            } => upstream.send_body(SizedStream::new(n, payload)),
            RequestBody::Stream {
                payload,
                length: None,
            } => upstream.send_stream(payload),
        };
        let mut sending = std::pin::pin!(sending);
        let sent = std::future::poll_fn(|cx| match sending.as_mut().poll(cx) {
            Poll::Ready(sent) => Poll::Ready(sent),
            Poll::Pending => timer
                .poll_expired(cx)
                .map(|()| Err(SendRequestError::Timeout)),
        })
        .await;
        sent.map_err(classify)
    }
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
        let (uri, host) = upstreams.uri(s, path_and_query).expect("a valid URI");
        (uri.to_string(), host.to_str().unwrap().to_owned())
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
