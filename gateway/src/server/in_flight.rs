//! Counts the proxy's requests from their arrival until their response body is gone (sent,
//! failed or dropped). The handler's log phase runs when that body ends, so once the count is
//! zero every record has been handed to the telemetry actor: the shutdown flushes after that.
//! The same span marks the request's connection busy (`conn::ConnState`), which is how the
//! connection knows when the next request head is due.

use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
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

/// The outermost middleware of the proxy listener.
pub async fn track(
    in_flight: InFlight,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Tracked>, actix_web::Error> {
    let conn = req.conn_data::<Rc<ConnState>>().cloned();
    let guard = in_flight.enter(conn);
    let res = next.call(req).await?;
    Ok(res.map_body(|_, body| Tracked {
        inner: body.boxed(),
        _guard: guard,
    }))
}

/// A response body that holds its request's place in the count until it is dropped. Fields
/// drop in order: the inner body (and the log phase it runs) before the guard.
pub struct Tracked {
    inner: BoxBody,
    _guard: Guard,
}

impl MessageBody for Tracked {
    type Error = Box<dyn std::error::Error>;

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
