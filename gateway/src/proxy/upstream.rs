//! The upstream side: per-worker awc clients (connection pools reused across requests) and the
//! mapping of transport failures to Kong's 502/503/504.

use std::cell::RefCell;
use std::future::Future as _;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use actix_web::body::{self, SizedStream};
use actix_web::http::header::CONTENT_LENGTH;
use awc::error::{ConnectError, SendRequestError};
use awc::ClientResponse;

use super::idle::{Clock, IdleTimer};
use crate::config::model::{Protocol, Service};
use crate::error::{BodyFault, ProxyError};
use crate::plugins::context::{ProxyRequest, RequestBody};

/// One client per connect timeout, created lazily on each worker thread (awc clients are not
/// `Send`); each keeps its own keep-alive pool.
#[derive(Default)]
pub struct Upstreams {
    clients: RefCell<foldhash::HashMap<u64, awc::Client>>,
}

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
        let mut url = format!("http://{}:{}{}", service.host, service.port, path);
        if !req.query.is_empty() {
            url.push('?');
            url.push_str(&req.query);
        }
        let mut upstream = self
            .client(service.connect_timeout)
            .request(req.http.method().clone(), url.as_str());
        *upstream.headers_mut() = req.headers;
        if let Some(host) = host_header {
            upstream = upstream.insert_header((actix_web::http::header::HOST, host));
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
