//! The proxy listener, assembled from actix's parts the way `HttpServer` assembles them, with
//! one difference: each accepted socket is wrapped in `conn::Conn`, which bounds the head of
//! every request on a kept-alive connection (actix bounds only the first) and ends idle
//! keep-alive connections. Everything else is actix's: workers, HTTP/1.1 parsing and its
//! limits, graceful shutdown.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use actix_http::h1::RefusalResponses;
use actix_http::{HttpService, KeepAlive};
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt as _};
use actix_web::dev::{AppConfig, Server};
use actix_web::App;
use tracing_actix_web::TracingLogger;

use super::span::RequestSpan;

use super::conn::{Conn, ConnState, HeadTimeouts};
use super::drain::Drain;
use super::in_flight::{InFlight, Track};
use super::limits::{ClientLimits, Enforce};
use super::HttpTimeouts;
use crate::error;
use crate::proxy::handler::{self, ProxyState};
use crate::proxy::idle::Clock;
use crate::proxy::upstream::Upstreams;

/// What every proxy worker shares.
#[derive(Clone)]
pub struct ProxyApp {
    pub state: ProxyState,
    pub limits: Arc<ClientLimits>,
    pub in_flight: InFlight,
}

/// Binds `addrs` and builds the proxy server; answers it with the bound addresses.
pub fn proxy(
    addrs: &[SocketAddr],
    workers: usize,
    http: HttpTimeouts,
    shared: ProxyApp,
) -> std::io::Result<(Server, Vec<SocketAddr>)> {
    let mut builder = actix_server::Server::build()
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(http.drain_secs());
    let shutdown = builder.graceful_shutdown_signal();
    let timeouts = HeadTimeouts {
        header: http.header,
        keep_alive: http.keep_alive,
    };
    let mut bound = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let listener = bind(*addr)?;
        let local = listener.local_addr()?;
        bound.push(local);
        let shared = shared.clone();
        let shutdown = shutdown.clone();
        builder = builder.listen("proxy", listener, move || {
            let drain = Drain::new(shutdown.clone());
            let limits = shared.limits.clone();
            // The HTTP layer's own refusals (400, 431, first-head 408) in Kong's body shape.
            let header_timeout = http.header;
            let refusals = RefusalResponses(Rc::new(move |r| error::refusal(r, header_timeout)));
            let state = Rc::new(shared.state.clone());
            let upstreams = Rc::new(Upstreams::default());
            let app = App::new()
                .wrap(Enforce(limits))
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(Track(shared.in_flight.clone()))
                .default_service(fn_service(move |req| {
                    handler::handle(req, state.clone(), upstreams.clone())
                }))
                .into_factory()
                .map_err(|e: actix_web::Error| e.error_response());
            let h1 = HttpService::build()
                // Idle keep-alive connections are ended by `Conn`, on the one timer it keeps
                // anyway: actix's keep-alive timer would register and cancel one per request.
                .keep_alive(match http.keep_alive() {
                    KeepAlive::Timeout(_) => KeepAlive::Os,
                    off => off,
                })
                .client_request_timeout(http.header)
                // A request refused while its body still arrives (413, 408, a plugin's answer):
                // the rest is read and discarded for this long, so the client reads the refusal
                // instead of a reset (nginx's lingering close).
                .client_disconnect_timeout(http.linger)
                .local_addr(local)
                .graceful_shutdown_signal(move || drain.notified())
                .on_connect_ext(move |conn: &Conn, ext| {
                    ext.insert::<Rc<ConnState>>(conn.state());
                    ext.insert::<Rc<Clock>>(conn.clock());
                    ext.insert(refusals.clone());
                })
                .h1(map_config(app, move |_| app_config(local)));
            fn_service(move |io: actix_rt::net::TcpStream| {
                // Events are relayed one write each: without TCP_NODELAY an event written while
                // the previous one is unacknowledged waits for the client's delayed ACK (~40 ms).
                let _ = io.set_nodelay(true);
                let peer = io.peer_addr().ok();
                std::future::ready(Ok((Conn::new(io, timeouts), peer)))
            })
            .and_then(h1)
        })?;
    }
    Ok((builder.run(), bound))
}

/// The application's view of the listener (what `HttpServer` gives its apps): its address
/// for `X-Forwarded-Port` and the host used when a request has none.
fn app_config(local: SocketAddr) -> AppConfig {
    // actix-web has no public constructor; this is the one its own servers and test servers
    // use. Cargo.lock pins the version.
    AppConfig::__priv_test_new(false, local.to_string(), local)
}

/// A listening socket with `SO_REUSEADDR` and actix's backlog, as `HttpServer::bind` makes.
fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(2048)?.into_std()
}
