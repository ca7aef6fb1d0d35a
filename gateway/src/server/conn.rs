//! A proxy connection's socket, wrapped to bound every request head, not only the first.
//!
//! actix's `client_request_timeout` times the head of a connection's first request only: on a
//! kept-alive connection, a client that sends the next head one byte at a time would hold it
//! forever. Here the connection knows whether a request is being served (`ConnState`, kept by
//! the `in_flight` middleware); while none is, the first byte that arrives starts the header
//! timeout, and an idle connection whose next head has not completed within keep-alive plus
//! the header timeout is ended too. Ending it is a read error: actix drops the connection.

use std::cell::Cell;
use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

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

/// The timeouts a connection applies between requests.
#[derive(Debug, Clone, Copy)]
pub struct HeadTimeouts {
    pub header: Duration,
    pub keep_alive: Duration,
}

pub struct Conn {
    io: TcpStream,
    state: Rc<ConnState>,
    timeouts: HeadTimeouts,
    seen: u64,
    /// Bytes of a head arrived since the connection went idle.
    head_started: bool,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl Conn {
    pub fn new(io: TcpStream, timeouts: HeadTimeouts) -> Self {
        Conn {
            io,
            state: Rc::default(),
            timeouts,
            seen: 0,
            head_started: false,
            deadline: None,
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
    /// one ended (the next head must arrive and complete in time).
    fn follow(&mut self) {
        let generation = self.state.generation.get();
        if generation == self.seen {
            return;
        }
        self.seen = generation;
        self.head_started = false;
        self.deadline = self.idle().then(|| {
            let limit = self.timeouts.keep_alive + self.timeouts.header;
            Box::pin(tokio::time::sleep(limit))
        });
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
        if this.idle() {
            if let Some(deadline) = this.deadline.as_mut() {
                if deadline.as_mut().poll(cx).is_ready() {
                    tracing::debug!("request head not complete in time; connection closed");
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "request head not complete within nginx_http_client_header_timeout",
                    )));
                }
            }
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        let got_bytes = matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before;
        if got_bytes && this.idle() && !this.head_started {
            this.head_started = true;
            let mut deadline = Box::pin(tokio::time::sleep(this.timeouts.header));
            // Registers this task's waker, so the deadline wakes the connection.
            let _ = deadline.as_mut().poll(cx);
            this.deadline = Some(deadline);
        }
        read
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
