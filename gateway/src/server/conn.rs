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
//! One timer serves a connection for its whole life. It is never set later than any deadline
//! still to come and moves on when it fires early, so a request costs a clock read, not a
//! timer registration (actix's own keep-alive timer is off on the proxy listener for that
//! reason: it registers and cancels one per request).

use std::cell::Cell;
use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// What the middleware tells the socket: how many requests are being served on it.
#[derive(Debug, Default)]
pub struct ConnState {
    active: Cell<usize>,
    /// Bumped on every change, so the socket notices one between two reads.
    generation: Cell<u64>,
}

impl ConnState {
    pub fn enter(&self) {
        self.active.set(self.active.get() + 1);
        self.generation.set(self.generation.get().wrapping_add(1));
    }

    pub fn leave(&self) {
        self.active.set(self.active.get().saturating_sub(1));
        self.generation.set(self.generation.get().wrapping_add(1));
    }
}

/// The timeouts a connection applies between requests; zero is no limit.
#[derive(Debug, Clone, Copy)]
pub struct HeadTimeouts {
    pub header: Duration,
    pub keep_alive: Duration,
}

impl HeadTimeouts {
    /// The shorter of the two limits that are set: no deadline is ever nearer than this.
    fn shortest(self) -> Option<Duration> {
        [self.header, self.keep_alive]
            .into_iter()
            .filter(|d| !d.is_zero())
            .min()
    }
}

/// Why an idle connection is ended, named in the read error actix logs.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// No byte of a next head within `keepalive_timeout`.
    KeepAlive,
    /// A head started but not complete within the header timeout.
    Head,
}

pub struct Conn {
    io: TcpStream,
    state: Rc<ConnState>,
    timeouts: HeadTimeouts,
    seen: u64,
    /// When the connection ends unless a head arrives; none while a request is served.
    deadline: Option<(Instant, Wait)>,
    /// Created at the first wait, never later than any deadline still to come.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Conn {
    pub fn new(io: TcpStream, timeouts: HeadTimeouts) -> Self {
        Conn {
            io,
            state: Rc::default(),
            timeouts,
            seen: 0,
            deadline: None,
            timer: None,
        }
    }

    /// Shared with the request middleware through the connection's extensions.
    pub fn state(&self) -> Rc<ConnState> {
        self.state.clone()
    }

    fn idle(&self) -> bool {
        self.state.active.get() == 0
    }

    /// Follows the middleware: a request started (no deadline while it is served) or the last
    /// one ended (the next head must start within the keep-alive timeout). The first head of a
    /// connection is actix's (its 408).
    fn follow(&mut self) {
        let generation = self.state.generation.get();
        if generation == self.seen {
            return;
        }
        self.seen = generation;
        self.deadline = None;
        if self.idle() {
            self.set_deadline(self.timeouts.keep_alive, Wait::KeepAlive);
        }
    }

    fn set_deadline(&mut self, limit: Duration, wait: Wait) {
        self.deadline = (!limit.is_zero()).then(|| (Instant::now() + limit, wait));
    }

    /// Bytes arrived while idle: the first ones start the head's own limit.
    fn head_arrived(&mut self) {
        if !matches!(self.deadline, Some((_, Wait::Head))) {
            self.set_deadline(self.timeouts.header, Wait::Head);
        }
    }

    /// Ready once the deadline has passed. The timer may fire before it (it was set for an
    /// earlier one, or `shortest` ahead): it is then moved on, never past the deadline.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<Wait> {
        let Some((deadline, wait)) = self.deadline else {
            return Poll::Pending;
        };
        let step = self.timeouts.shortest().unwrap_or_default();
        let timer = self.timer.get_or_insert_with(|| {
            Box::pin(tokio::time::sleep_until(
                deadline.min(Instant::now() + step),
            ))
        });
        while timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            if now >= deadline {
                return Poll::Ready(wait);
            }
            // Any later deadline is at least `shortest` from now: this one stays the nearest.
            timer.as_mut().reset(deadline.min(now + step));
        }
        Poll::Pending
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.follow();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        if !this.idle() {
            return read;
        }
        match read {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                this.head_arrived();
                read
            }
            Poll::Pending => match this.poll_deadline(cx) {
                Poll::Ready(wait) => {
                    let (what, setting) = match wait {
                        Wait::KeepAlive => ("idle", "nginx_http_keepalive_timeout"),
                        Wait::Head => (
                            "request head not complete",
                            "nginx_http_client_header_timeout",
                        ),
                    };
                    tracing::debug!("{what} in time; connection closed");
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("connection {what} within {setting}"),
                    )))
                }
                Poll::Pending => Poll::Pending,
            },
            read => read,
        }
    }
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
