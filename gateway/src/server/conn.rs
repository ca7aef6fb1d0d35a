//! A proxy connection's socket, wrapped to bound every request head, not only the first, and
//! to end idle keep-alive connections.
//!
//! actix's `client_request_timeout` times the head of a connection's first request only: on a
//! kept-alive connection, a client that sends the next head one byte at a time would hold it
//! forever. Here the connection knows whether a request is being served (`ConnState`, kept by
//! the `in_flight` middleware). Once none is, the connection has `keepalive_timeout` to start
//! its next head, and from its first byte the header timeout to complete it. Ending the
//! connection is a read error: actix drops it.
//!
//! The connection's [`Clock`] times these waits, and the request's own (body, upstream head):
//! a request costs a clock read, not a timer registration (actix's own keep-alive timer is off
//! on the proxy listener for that reason: it registers and cancels one per request).

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use actix_rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use crate::proxy::idle::Clock;

/// The timeouts a connection applies between requests; zero is no limit.
#[derive(Debug, Clone, Copy)]
pub struct HeadTimeouts {
    pub header: Duration,
    pub keep_alive: Duration,
}

/// Why an idle connection is ended, named in the read error actix logs.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// No byte of a next head within `keepalive_timeout`.
    KeepAlive,
    /// A head started but not complete within the header timeout.
    Head,
}

/// A deadline of an idle connection and the wait it ends.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    limit: Duration,
    wait: Wait,
}

/// What the socket and the request middleware share: whether a request is being served, and
/// when an idle connection ends.
pub struct ConnState {
    active: Cell<usize>,
    timeouts: HeadTimeouts,
    /// None while a request is served.
    deadline: Cell<Option<Deadline>>,
    clock: Rc<Clock>,
    /// The connection task's, from its last read: the keep-alive wait starts when a response
    /// ends, which is not always followed by a read that would register it.
    waker: RefCell<Option<Waker>>,
}

impl ConnState {
    fn new(timeouts: HeadTimeouts) -> Self {
        ConnState {
            active: Cell::new(0),
            timeouts,
            deadline: Cell::new(None),
            clock: Rc::default(),
            waker: RefCell::new(None),
        }
    }

    pub fn enter(&self) {
        self.active.set(self.active.get() + 1);
        self.deadline.set(None);
    }

    /// The last request ended: the next head must start within the keep-alive timeout.
    pub fn leave(&self) {
        self.active.set(self.active.get().saturating_sub(1));
        if !self.idle() {
            return;
        }
        self.set_deadline(self.timeouts.keep_alive, Wait::KeepAlive);
        if let (Some(deadline), Some(waker)) = (self.deadline.get(), &*self.waker.borrow()) {
            // Registers the wake-up now; if already due, the next read ends the connection.
            let _ = self.poll_deadline(&mut Context::from_waker(waker), deadline);
        }
    }

    fn idle(&self) -> bool {
        self.active.get() == 0
    }

    fn set_deadline(&self, limit: Duration, wait: Wait) {
        self.deadline.set((!limit.is_zero()).then(|| Deadline {
            at: Instant::now() + limit,
            limit,
            wait,
        }));
    }

    /// Bytes arrived while idle: the first ones start the head's own limit. The first head of
    /// a connection is also actix's (its 408 comes first).
    fn head_arrived(&self) {
        if !matches!(self.deadline.get(), Some(d) if matches!(d.wait, Wait::Head)) {
            self.set_deadline(self.timeouts.header, Wait::Head);
        }
    }

    fn poll_deadline(&self, cx: &mut Context<'_>, deadline: Deadline) -> Poll<Wait> {
        self.clock
            .poll_until(cx, deadline.at, deadline.limit)
            .map(|()| deadline.wait)
    }

    fn remember(&self, waker: &Waker) {
        let mut slot = self.waker.borrow_mut();
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}

pub struct Conn {
    io: TcpStream,
    state: Rc<ConnState>,
}

impl Conn {
    pub fn new(io: TcpStream, timeouts: HeadTimeouts) -> Self {
        Conn {
            io,
            state: Rc::new(ConnState::new(timeouts)),
        }
    }

    /// Shared with the request middleware through the connection's extensions.
    pub fn state(&self) -> Rc<ConnState> {
        self.state.clone()
    }

    /// The timer the connection's requests share, through the connection's extensions.
    pub fn clock(&self) -> Rc<Clock> {
        self.state.clock.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let state = &*this.state;
        state.remember(cx.waker());
        let before = buf.filled().len();
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        if !state.idle() {
            return read;
        }
        match read {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                state.head_arrived();
                read
            }
            Poll::Pending => match state.deadline.get() {
                Some(deadline) => match state.poll_deadline(cx, deadline) {
                    Poll::Ready(wait) => Poll::Ready(Err(timed_out(wait))),
                    Poll::Pending => Poll::Pending,
                },
                None => Poll::Pending,
            },
            read => read,
        }
    }
}

fn timed_out(wait: Wait) -> io::Error {
    let (what, setting) = match wait {
        Wait::KeepAlive => ("idle", "nginx_http_keepalive_timeout"),
        Wait::Head => (
            "request head not complete",
            "nginx_http_client_header_timeout",
        ),
    };
    tracing::debug!("{what} in time; connection closed");
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("connection {what} within {setting}"),
    )
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
