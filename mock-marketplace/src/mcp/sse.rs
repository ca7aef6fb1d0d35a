//! Server-Sent Events: the `event: message` framing of JSON-RPC messages, POST responses played
//! from a plan (events and pauses, so progress can precede a delayed result), and the standalone
//! GET stream that only sends keep-alive comments until its session ends.

use std::convert::Infallible;
use std::time::Duration;

use actix_web::http::header;
use actix_web::HttpResponse;
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::Value;
use tokio::sync::watch;

/// One step of a POST's SSE response.
pub enum Step {
    Event(Bytes),
    Pause(Duration),
}

/// Frames one JSON-RPC message as an SSE event with an id.
pub fn event(id: u64, message: &Value) -> Bytes {
    // serde_json never emits raw newlines, so one `data:` line always suffices.
    Bytes::from(format!("id: {id}\nevent: message\ndata: {message}\n\n"))
}

/// The response head every stream shares; proxies must neither buffer nor cache it.
fn stream_response<S>(body: S) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, Infallible>> + 'static,
{
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body)
}

/// The body stream of [`respond`]: events are yielded, pauses only wait.
fn plan_stream(steps: Vec<Step>) -> impl Stream<Item = Result<Bytes, Infallible>> {
    stream::iter(steps).filter_map(|step| async move {
        match step {
            Step::Event(bytes) => Some(Ok(bytes)),
            Step::Pause(duration) => {
                tokio::time::sleep(duration).await;
                None
            }
        }
    })
}

/// A `text/event-stream` response playing `steps`, then closing.
pub fn respond(steps: Vec<Step>) -> HttpResponse {
    stream_response(plan_stream(steps))
}

/// The standalone GET stream: a comment at once (so the head and a first byte go out), then a
/// keep-alive comment every `every`, until the session's sender is dropped.
pub fn keep_alive(session: watch::Receiver<()>, every: Duration) -> HttpResponse {
    let opening = stream::once(async { Ok(Bytes::from_static(b": stream open\n\n")) });
    let ticks = stream::unfold(session, move |mut session| async move {
        tokio::select! {
            () = tokio::time::sleep(every) => {
                Some((Ok(Bytes::from_static(b": keep-alive\n\n")), session))
            }
            // Only a dropped sender wakes this: the session ended.
            _ = session.changed() => None,
        }
    });
    stream_response(opening.chain(ticks))
}
