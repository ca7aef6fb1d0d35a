//! One proxied request, start to end: load the snapshot, route, run the access phase, send
//! upstream, relay the response. Gateway-originated answers (404, 5xx, plugin exits) still go
//! through the log phase, as in Kong.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::dev::{Extensions, Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};

use super::headers::{self, Forwarded};
use super::idle::Clock;
use super::normalize::normalize;
use super::relay::{self, exit, Finish};
use super::upstream::Upstreams;
use crate::actors::config::SnapshotCell;
use crate::error::ProxyError;
use crate::plugins::context::{Ctx, ProxyRequest, RequestBody};
use crate::telemetry::record::RequestFacts;

/// Shared by every proxy worker (each holds its own copy of the cell's handle).
#[derive(Clone)]
pub struct ProxyState {
    pub snapshot: SnapshotCell,
}

/// One proxied request. The client's headers are taken out of the request: they become the
/// headers that go upstream (no copy of the map, no new reference to each value), so
/// `req.headers()` is empty from here on and the record keeps what it logs of them.
pub async fn handle(
    mut sreq: ServiceRequest,
    state: Rc<ProxyState>,
    upstreams: Rc<Upstreams>,
) -> Result<ServiceResponse, actix_web::Error> {
    let arrived = std::mem::take(sreq.headers_mut());
    let (req, payload) = sreq.into_parts();
    let http = req.clone();
    // One block, left with `break`, rather than a nested future: the future is moved into
    // actix's box once, whole.
    let response = 'proxy: {
        let received = Instant::now();
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        let snapshot = state.snapshot.load_full();
        let host = arrived.get(header::HOST).and_then(|v| v.to_str().ok());
        let path = normalize(req.path());
        let Some(found) = snapshot
            .router
            .find(req.method().as_str(), host, &path, &arrived)
        else {
            break 'proxy ProxyError::NoRoute.response(&request_id);
        };
        let route = found.route.clone();
        let service = found.service.cloned();
        let chain = snapshot.chain(route.id);

        let client_ip = req
            .peer_addr()
            .map(|a| headers::ip_text(a.ip()))
            .unwrap_or_default();
        let listen_port = req.app_config().local_addr().port();
        // Only a route with plugins has a log phase that reads these; capture them before plugins
        // change the headers (hide_credentials).
        let facts = if chain.plugins.is_empty() {
            RequestFacts::default()
        } else {
            RequestFacts::capture(&req, &arrived, listen_port, chain.secrets())
        };
        let content_length = request_length(&arrived);
        let body = request_body(&arrived, content_length, payload);
        let mut upstream_headers = headers::into_end_to_end(arrived);
        let client_host = upstream_headers.remove(header::HOST).next();
        // Room for what the gateway adds, so the map grows at most once.
        upstream_headers.reserve(headers::ADDED);
        headers::add_forwarded(
            &mut upstream_headers,
            &Forwarded {
                client_ip: &client_ip,
                host: client_host
                    .as_ref()
                    .and_then(|v| v.to_str().ok())
                    .map(headers::host_only)
                    .unwrap_or(""),
                port: listen_port,
                path: &path,
                prefix: found.stripped_prefix(),
                request_id: &request_id,
            },
        );
        let upstream_path = found.upstream_path;
        let mut ctx = Ctx {
            request_id,
            received,
            started_at_ms: epoch_ms(received),
            snapshot,
            route,
            service,
            consumer: None,
            groups: Vec::new(),
            credential: None,
            client_ip,
            upstream_uri: String::new(),
            upstream_sent: None,
            upstream_head: None,
            status: 0,
            response_headers: HeaderMap::new(),
            response_headers_json: None,
            response_size: 0,
            request_size: content_length.unwrap_or(0),
            failure: None,
            rewrite: None,
            extensions: Extensions::new(),
        };
        let mut preq = ProxyRequest {
            body,
            query: req.query_string().to_string(),
            content_length,
            headers: upstream_headers,
            http: req,
        };
        for plugin in &chain.plugins {
            if let Err(response) = plugin.access(&mut ctx, &mut preq).outcome().await {
                break 'proxy exit(Finish { ctx, chain, facts }, response);
            }
        }
        let Some(service) = ctx.service.clone() else {
            let response = ProxyError::NoService.response(&ctx.request_id);
            break 'proxy exit(Finish { ctx, chain, facts }, response);
        };
        ctx.upstream_uri = if preq.query.is_empty() {
            upstream_path
        } else {
            format!("{upstream_path}?{}", preq.query)
        };
        let preserved_host = client_host.filter(|_| ctx.route.preserve_host);
        let clock = preq.http.conn_data::<Rc<Clock>>().cloned();
        let sent = Instant::now();
        ctx.upstream_sent = Some(sent);
        match upstreams
            .send(
                &service,
                &ctx.upstream_uri,
                preserved_host,
                preq,
                sent,
                clock.clone(),
            )
            .await
        {
            Ok((head, payload)) => {
                relay::respond(Finish { ctx, chain, facts }, head, payload, clock)
                    .into_response()
                    .await
            }
            Err(e) => {
                tracing::warn!(
                    request_id = %ctx.request_id,
                    error = %e,
                    reason = e.reason(),
                    service = service.label(),
                    "upstream request failed"
                );
                let response = e.response(&ctx.request_id);
                exit(Finish { ctx, chain, facts }, response)
            }
        }
    };
    Ok(ServiceResponse::new(http, response))
}

/// The client's body: none, or a stream relayed as it arrives.
fn request_body(headers: &HeaderMap, length: Option<u64>, payload: Payload) -> RequestBody {
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    match length {
        Some(0) if !chunked => RequestBody::Empty,
        Some(n) if !chunked => RequestBody::Stream {
            payload,
            length: Some(n),
        },
        _ if chunked => RequestBody::Stream {
            payload,
            length: None,
        },
        _ => RequestBody::Empty,
    }
}

fn request_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Milliseconds since the epoch at `at`, a moment just read: the wall clock is read once a
/// second per thread, and the time since then taken from the monotonic clock, which the
/// request has already read (a step of the wall clock shows within a second).
fn epoch_ms(at: Instant) -> i64 {
    thread_local! {
        static ANCHOR: Cell<Option<(Instant, Duration)>> = const { Cell::new(None) };
    }
    ANCHOR.with(|anchor| {
        let since_anchor = anchor
            .get()
            .map(|(then, wall)| (at.saturating_duration_since(then), wall));
        let since_epoch = match since_anchor {
            Some((elapsed, wall)) if elapsed < Duration::from_secs(1) => wall + elapsed,
            _ => {
                let wall = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                anchor.set(Some((at, wall)));
                wall
            }
        };
        since_epoch.as_millis() as i64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall_ms() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    }

    #[test]
    fn started_at_follows_the_wall_clock_between_readings() {
        let before = wall_ms();
        let first = epoch_ms(Instant::now());
        assert!((before..=wall_ms()).contains(&first), "{first} {before}");
        // Within the second, from the monotonic clock alone.
        std::thread::sleep(Duration::from_millis(30));
        let before = wall_ms();
        let later = epoch_ms(Instant::now());
        assert!(
            (before - 1..=wall_ms() + 1).contains(&later),
            "{later} {before}"
        );
        assert!(later >= first + 30);
        // A moment in the anchor's second that is ahead of now counts from the anchor.
        let ahead = epoch_ms(Instant::now() + Duration::from_millis(500));
        assert!(
            (later + 499..=wall_ms() + 501).contains(&ahead),
            "{ahead} {later}"
        );
    }
}
