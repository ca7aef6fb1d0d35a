//! Counts the proxy's requests from their arrival until their response body is gone (sent,
//! failed or dropped). The handler's log phase runs when that body ends, so once the count is
//! zero every record has been handed to the telemetry actor: the shutdown flushes after that.
//! The same span marks the request's connection busy (`conn::ConnState`), which is how the
//! connection knows when the next request head is due.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use bytes::Bytes;

use super::conn::ConnState;

/// The number of requests in flight on the proxy listener.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }

    /// Waits until nothing is in flight or `limit` passed; answers whether it reached zero.
    pub async fn settled(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.count() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    fn enter(&self, conn: Option<Rc<ConnState>>) -> Guard {
        self.0.fetch_add(1, Ordering::AcqRel);
        if let Some(conn) = &conn {
            conn.enter();
        }
        Guard {
            count: self.0.clone(),
            conn,
        }
    }
}

struct Guard {
    count: Arc<AtomicUsize>,
    conn: Option<Rc<ConnState>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(conn) = &self.conn {
            conn.leave();
        }
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The outermost middleware of the proxy listener. A plain service (not `from_fn`): nothing is
/// boxed per request.
#[derive(Clone)]
pub struct Track(pub InFlight);

impl<S, B> Transform<S, ServiceRequest> for Track
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<Tracked<B>>;
    type Error = actix_web::Error;
    type Transform = TrackService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(TrackService {
            service,
            in_flight: self.0.clone(),
        }))
    }
}

pub struct TrackService<S> {
    service: S,
    in_flight: InFlight,
}

impl<S, B> Service<ServiceRequest> for TrackService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<Tracked<B>>;
    type Error = actix_web::Error;
    type Future = Tracking<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let conn = req.conn_data::<Rc<ConnState>>().cloned();
        let guard = self.in_flight.enter(conn);
        Tracking {
            inner: self.service.call(req),
            guard: Some(guard),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner service's answer, its body then holding the request's place.
    pub struct Tracking<F> {
        #[pin]
        inner: F,
        guard: Option<Guard>,
    }
}

impl<F, B> Future for Tracking<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = Result<ServiceResponse<Tracked<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = ready!(this.inner.poll(cx))?;
        let guard = this.guard.take().expect("polled after completion");
        Poll::Ready(Ok(res.map_body(|_, inner| Tracked {
            inner,
            _guard: guard,
        })))
    }
}

/// A response body that holds its request's place in the count until it is dropped. Fields
/// drop in order: the inner body (and the log phase it runs) before the guard.
pub struct Tracked<B> {
    inner: B,
    _guard: Guard,
}

impl<B: MessageBody + Unpin> MessageBody for Tracked<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}
