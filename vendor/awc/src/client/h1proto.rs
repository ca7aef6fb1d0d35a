use std::{
    cell::RefCell,
    io::Write,
    pin::{pin, Pin},
    rc::{Rc, Weak},
    task::{Context, Poll},
};

use actix_codec::{Framed, FramedParts};
use actix_http::{
    body::{BodySize, MessageBody},
    error::PayloadError,
    h1,
    header::{HeaderMap, TryIntoHeaderValue, EXPECT, HOST},
    Payload, RequestHeadType, ResponseHead, ServiceConfig, StatusCode,
};
use actix_utils::future::poll_fn;
use bytes::{buf::BufMut, Bytes, BytesMut};
use futures_core::{ready, Stream};
use futures_util::SinkExt as _;

use super::{
    connection::{ConnectionIo, H1Connection},
    error::{ConnectError, SendRequestError},
};
use crate::BoxError;

thread_local! {
    /// The codec configuration every request of this thread shares, and a token that lives as
    /// long as the runtime its date task was spawned on.
    static CODEC_CONFIG: RefCell<Option<(ServiceConfig, Weak<()>)>> = const { RefCell::new(None) };
}

/// A codec configuration shared by the requests of one thread.
///
/// `ClientCodec::default()` builds a fresh `ServiceConfig`, and with it a date service: a
/// spawned task, an interval timer and a wake-up of the runtime's driver, for every request.
/// One configuration per thread (per runtime: a thread may run several one after another, and a
/// configuration whose date task died with its runtime would keep a stale `Date`) costs that
/// once.
fn codec_config() -> ServiceConfig {
    CODEC_CONFIG.with(|cell| {
        let mut cell = cell.borrow_mut();
        if let Some((config, alive)) = cell.as_ref() {
            if alive.strong_count() > 0 {
                return config.clone();
            }
        }
        let config = ServiceConfig::default();
        let token = Rc::new(());
        let alive = Rc::downgrade(&token);
        // Dropped, with the token, when the runtime shuts its tasks down.
        actix_rt::spawn(async move {
            let _token = token;
            std::future::pending::<()>().await
        });
        // The previous configuration (if any) belongs to a runtime that is gone; its date task
        // is already dropped.
        *cell = Some((config.clone(), alive));
        config
    })
}

thread_local! {
    /// Buffers of finished exchanges, for the next ones of this thread.
    static BUFFERS: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// Spare buffers a thread keeps.
const SPARE_BUFFERS: usize = 64;

/// The capacity a buffer starts with (as `Framed::new`'s).
const BUFFER: usize = 8 * 1024;

/// The room a kept buffer has at least (a head's worth, `Framed`'s low mark) and at most.
const KEPT_ROOM: std::ops::RangeInclusive<usize> = 1024..=64 * 1024;

/// A spare buffer, or a new one.
fn buffer() -> BytesMut {
    BUFFERS
        .with(|spare| spare.borrow_mut().pop())
        .unwrap_or_else(|| BytesMut::with_capacity(BUFFER))
}

/// Keeps an exchange's buffer for the next one: emptied, and only if it has room for a head and
/// did not grow past a few reads. Its memory may still be shared with chunks of a body being
/// relayed; the next read then takes a fresh allocation, as `BytesMut` does for any shared
/// buffer.
fn give_back(mut buf: BytesMut) {
    buf.clear();
    if !KEPT_ROOM.contains(&buf.capacity()) {
        return;
    }
    BUFFERS.with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < SPARE_BUFFERS {
            spare.push(buf);
        }
    });
}

/// `Framed::new`, with spare buffers: a request's exchange no longer allocates two 8 KiB
/// buffers and frees them when it ends.
fn framed<Io: ConnectionIo, U>(io: H1Connection<Io>, codec: U) -> Framed<H1Connection<Io>, U> {
    let mut parts = FramedParts::with_read_buf(io, codec, buffer());
    parts.write_buf = buffer();
    Framed::from_parts(parts)
}

/// Gives an ended exchange's buffers back (its connection is already released or closed).
fn recycle<Io: ConnectionIo, U>(framed: Framed<H1Connection<Io>, U>) {
    let parts = framed.into_parts();
    give_back(parts.read_buf);
    give_back(parts.write_buf);
}

pub(crate) async fn send_request<Io, B>(
    io: H1Connection<Io>,
    mut head: RequestHeadType,
    body: B,
) -> Result<(ResponseHead, Payload), SendRequestError>
where
    Io: ConnectionIo,
    B: MessageBody,
    B::Error: Into<BoxError>,
{
    let mut body = pin!(body);

    let orig_length = body.size();
    let mut length = orig_length;
    let mut first_chunk = None;

    // This avoids sending `Transfer-Encoding: chunked` for requests with an empty body stream.
    // https://github.com/actix/actix-web/issues/2320
    if matches!(orig_length, BodySize::Stream) {
        enum Peek<E> {
            Pending,
            Item(Result<Bytes, E>),
            Eof,
        }

        match poll_fn(|cx| match body.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Ready(Peek::Pending),
            Poll::Ready(Some(res)) => Poll::Ready(Peek::Item(res)),
            Poll::Ready(None) => Poll::Ready(Peek::Eof),
        })
        .await
        {
            Peek::Pending => {}
            Peek::Eof => length = BodySize::Sized(0),
            Peek::Item(Ok(chunk)) => first_chunk = Some(chunk),
            Peek::Item(Err(err)) => return Err(SendRequestError::Body(err.into())),
        }
    }

    // set request host header
    if !head.as_ref().headers.contains_key(HOST)
        && !head.extra_headers().iter().any(|h| h.contains_key(HOST))
    {
        if let Some(host) = head.as_ref().uri.host() {
            let mut wrt = BytesMut::with_capacity(host.len() + 5).writer();

            match head.as_ref().uri.port_u16() {
                None | Some(80) | Some(443) => write!(wrt, "{}", host)?,
                Some(port) => write!(wrt, "{}:{}", host, port)?,
            };

            match wrt.get_mut().split().freeze().try_into_value() {
                Ok(value) => match head {
                    RequestHeadType::Owned(ref mut head) => {
                        head.headers.insert(HOST, value);
                    }
                    RequestHeadType::Rc(_, ref mut extra_headers) => {
                        let headers = extra_headers.get_or_insert(HeaderMap::new());
                        headers.insert(HOST, value);
                    }
                },
                Err(err) => log::error!("Can not set HOST header {err}"),
            }
        }
    }

    // create Framed and prepare sending request
    let mut framed = framed(io, h1::ClientCodec::new(codec_config()));

    // Check EXPECT header and enable expect handle flag accordingly.
    // See https://datatracker.ietf.org/doc/html/rfc7231#section-5.1.1
    let is_expect = if head.as_ref().headers.contains_key(EXPECT) {
        match orig_length {
            BodySize::None | BodySize::Sized(0) => {
                let keep_alive = framed.codec_ref().keep_alive();
                framed.io_mut().on_release(keep_alive);

                // TODO: use a new variant or a new type better describing error violate
                // `Requirements for clients` session of above RFC
                return Err(SendRequestError::Connect(ConnectError::Disconnected));
            }
            _ => true,
        }
    } else {
        false
    };

    let mut pin_framed = Pin::new(&mut framed);

    // special handle for EXPECT request.
    let (do_send, mut res_head) = if is_expect {
        pin_framed.send((head, length).into()).await?;

        let head = poll_fn(|cx| pin_framed.as_mut().poll_next(cx))
            .await
            .ok_or(ConnectError::Disconnected)??;

        // return response head in case status code is not continue
        // and current head would be used as final response head.
        (head.status == StatusCode::CONTINUE, Some(head))
    } else {
        pin_framed.feed((head, length).into()).await?;

        (true, None)
    };

    if do_send {
        // send request body
        match length {
            BodySize::None | BodySize::Sized(0) => {
                poll_fn(|cx| pin_framed.as_mut().flush(cx)).await?;
            }
            _ => send_body(body.as_mut(), pin_framed.as_mut(), first_chunk).await?,
        };

        // read response and init read body
        let head = poll_fn(|cx| pin_framed.as_mut().poll_next(cx))
            .await
            .ok_or(ConnectError::Disconnected)??;

        res_head = Some(head);
    }

    let head = res_head.unwrap();

    match pin_framed.codec_ref().message_type() {
        h1::MessageType::None => {
            let keep_alive = pin_framed.codec_ref().keep_alive();
            pin_framed.io_mut().on_release(keep_alive);
            recycle(framed);

            Ok((head, Payload::None))
        }
        _ => Ok((
            head,
            Payload::Stream {
                payload: Box::pin(PlStream::new(framed)),
            },
        )),
    }
}

pub(crate) async fn open_tunnel<Io>(
    io: Io,
    head: RequestHeadType,
) -> Result<(ResponseHead, Framed<Io, h1::ClientCodec>), SendRequestError>
where
    Io: ConnectionIo,
{
    // create Framed and send request.
    let mut framed = Framed::new(io, h1::ClientCodec::new(codec_config()));
    framed.send((head, BodySize::None).into()).await?;

    // read response head.
    let head = poll_fn(|cx| Pin::new(&mut framed).poll_next(cx))
        .await
        .ok_or(ConnectError::Disconnected)??;

    Ok((head, framed))
}

/// send request body to the peer
pub(crate) async fn send_body<Io, B>(
    mut body: Pin<&mut B>,
    mut framed: Pin<&mut Framed<Io, h1::ClientCodec>>,
    first_chunk: Option<Bytes>,
) -> Result<(), SendRequestError>
where
    Io: ConnectionIo,
    B: MessageBody,
    B::Error: Into<BoxError>,
{
    if let Some(chunk) = first_chunk {
        write_chunk(framed.as_mut(), chunk).await?;
    }

    let mut eof = false;
    while !eof {
        while !eof && !framed.as_ref().is_write_buf_full() {
            match poll_fn(|cx| body.as_mut().poll_next(cx)).await {
                Some(Ok(chunk)) => write_chunk(framed.as_mut(), chunk).await?,
                Some(Err(err)) => return Err(SendRequestError::Body(err.into())),
                None => {
                    eof = true;
                    framed.as_mut().write(h1::Message::Chunk(None))?;
                }
            }
        }

        if !framed.as_ref().is_write_buf_empty() {
            poll_fn(|cx| match framed.as_mut().flush(cx) {
                Poll::Ready(Ok(_)) => Poll::Ready(Ok(())),
                Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
                Poll::Pending => {
                    if !framed.as_ref().is_write_buf_full() {
                        Poll::Ready(Ok(()))
                    } else {
                        Poll::Pending
                    }
                }
            })
            .await?;
        }
    }

    framed.get_mut().flush().await?;
    Ok(())
}

/// Body chunks at least this large are written to the connection as they are instead of being
/// copied into the write buffer first (patched in, see `PATCHES.md`).
const DIRECT_WRITE: usize = 64 * 1024;

/// Writes one body chunk: a large chunk of a body framed by `Content-Length` goes straight to
/// the connection, after what the write buffer holds; any other is encoded into the buffer.
async fn write_chunk<Io: ConnectionIo>(
    mut framed: Pin<&mut Framed<Io, h1::ClientCodec>>,
    chunk: Bytes,
) -> Result<(), SendRequestError> {
    if chunk.len() < DIRECT_WRITE || !framed.codec_mut().claim_body_bytes(chunk.len() as u64) {
        framed.as_mut().write(h1::Message::Chunk(Some(chunk)))?;
        return Ok(());
    }
    poll_fn(|cx| framed.as_mut().flush(cx)).await?;
    let mut rest = &chunk[..];
    while !rest.is_empty() {
        let n = poll_fn(|cx| framed.as_mut().io_pin().poll_write(cx, rest)).await?;
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into());
        }
        rest = &rest[n..];
    }
    Ok(())
}

/// A response body; its exchange's buffers are given back at its end.
pub(crate) struct PlStream<Io: ConnectionIo> {
    /// None once the body has ended.
    framed: Option<Framed<H1Connection<Io>, h1::ClientPayloadCodec>>,
}

impl<Io: ConnectionIo> PlStream<Io> {
    fn new(framed: Framed<H1Connection<Io>, h1::ClientCodec>) -> Self {
        let framed = framed.into_map_codec(|codec| codec.into_payload_codec());

        PlStream {
            framed: Some(framed),
        }
    }
}

impl<Io: ConnectionIo> Stream for PlStream<Io> {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(framed) = this.framed.as_mut() else {
            return Poll::Ready(None);
        };

        match ready!(Pin::new(&mut *framed).next_item(cx)?) {
            Some(Some(chunk)) => Poll::Ready(Some(Ok(chunk))),
            Some(None) => {
                let keep_alive = framed.codec_ref().keep_alive();
                framed.io_mut().on_release(keep_alive);
                if let Some(framed) = this.framed.take() {
                    recycle(framed);
                }
                Poll::Ready(None)
            }
            None => Poll::Ready(None),
        }
    }
}
