//! The handle plugins use to hand log lines to the telemetry actor without waiting for it.
//! A full queue never blocks a request: the line is counted as dropped. The actor is woken by
//! the first line after it went idle and then collects every few milliseconds until the queue
//! stays empty, so under load a request costs no thread wake-up and lines are written in
//! batches (one write per file per collection).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use bytes::Bytes;

use super::http_log::HttpLogTarget;
use super::names;

/// Where a line goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// file-log: append the line to this file (shared: every request names it).
    File(Arc<Path>),
    /// http-log: queue the record for this endpoint (one queue per configuration).
    Http(Arc<HttpLogTarget>),
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::File(_) => "file-log",
            Target::Http(_) => "http-log",
        }
    }
}

/// One serialized log record for one sink.
pub struct LogLine {
    pub target: Target,
    pub line: Bytes,
}

/// Sent by a request that finds the telemetry actor asleep (see [`LogQueue::sleep`]).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Wake;

/// What the two ends share: how many lines are held (queued or being written) against the
/// bound, and whether the actor is asleep.
struct Pipe {
    held: AtomicUsize,
    capacity: usize,
    asleep: AtomicBool,
}

/// The queue between requests and the telemetry actor, bounded at `capacity` lines held.
pub fn queue(capacity: usize) -> (QueueSender, LogQueue) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let pipe = Arc::new(Pipe {
        held: AtomicUsize::new(0),
        capacity: capacity.max(1),
        asleep: AtomicBool::new(true),
    });
    (
        QueueSender {
            tx,
            pipe: pipe.clone(),
        },
        LogQueue { rx, pipe },
    )
}

/// The request side of [`queue`], before it knows the actor to wake.
#[derive(Clone)]
pub struct QueueSender {
    tx: crossbeam_channel::Sender<LogLine>,
    pipe: Arc<Pipe>,
}

/// Cloneable, thread-safe sender to the telemetry actor. Sending takes no lock and, while the
/// actor is awake (under load), wakes no thread: the actor collects every few milliseconds.
#[derive(Clone)]
pub struct LogSender {
    queue: QueueSender,
    wake: Recipient<Wake>,
}

impl LogSender {
    pub fn new(queue: QueueSender, wake: Recipient<Wake>) -> Self {
        LogSender { queue, wake }
    }

    pub fn send(&self, target: Target, line: Bytes) {
        let kind = target.kind();
        let pipe = &self.queue.pipe;
        if pipe.held.fetch_add(1, Ordering::AcqRel) >= pipe.capacity {
            pipe.held.fetch_sub(1, Ordering::AcqRel);
            dropped(kind, "queue_full", 1);
            return;
        }
        if self.queue.tx.send(LogLine { target, line }).is_err() {
            pipe.held.fetch_sub(1, Ordering::AcqRel);
            dropped(kind, "sink_closed", 1);
            return;
        }
        if pipe.asleep.load(Ordering::SeqCst) && pipe.asleep.swap(false, Ordering::SeqCst) {
            self.wake.do_send(Wake);
        }
    }
}

/// The actor's side of [`queue`].
pub struct LogQueue {
    rx: crossbeam_channel::Receiver<LogLine>,
    pipe: Arc<Pipe>,
}

impl LogQueue {
    /// Every line queued so far. They still count against the bound until [`LogQueue::done`].
    pub fn take(&self) -> Vec<LogLine> {
        self.rx.try_iter().collect()
    }

    /// `n` taken lines were written, handed on or counted as dropped.
    pub fn done(&self, n: usize) {
        self.pipe.held.fetch_sub(n, Ordering::AcqRel);
    }

    /// Marks the actor asleep; `false` when lines arrived meanwhile and it must stay awake.
    /// Exactly one side resumes collection: the actor here, or the first sender that finds it
    /// asleep (which sends [`Wake`]).
    pub fn sleep(&self) -> bool {
        self.pipe.asleep.store(true, Ordering::SeqCst);
        if self.rx.is_empty() {
            return true;
        }
        !self.pipe.asleep.swap(false, Ordering::SeqCst)
    }
}

/// Counts `n` records of `sink` that were not written, and why.
pub fn dropped(sink: &'static str, reason: &'static str, n: u64) {
    metrics::counter!(names::LOG_RECORDS_DROPPED, "sink" => sink, "reason" => reason).increment(n);
}
