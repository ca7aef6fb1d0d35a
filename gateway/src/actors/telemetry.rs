//! The telemetry actor: collects serialized log lines from the bounded queue of
//! `telemetry::sink` and writes them to their sinks, on its own arbiter so slow disks and slow
//! log endpoints never touch a request. Senders count what does not fit. Supervised: if it stops,
//! it restarts with fresh handles.
//!
//! The first line after a quiet spell wakes it; it then collects every `COLLECT_EVERY` until a
//! collection finds nothing, and sleeps again. file-log lines of one collection are appended with
//! one write per file. http-log records wait in one bounded queue per endpoint
//! (`telemetry::http_log`); batches are sent by futures spawned on this actor's context, so the
//! actor keeps taking messages while a batch is in flight or backing off.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::fut::wrap_future;
use actix::prelude::*;
use bytes::Bytes;
use tokio::sync::watch;

use crate::telemetry::http_log::{self, HttpLogTarget, Queue};
use crate::telemetry::log_file::LogFile;
use crate::telemetry::names;
use crate::telemetry::sink::{self, FileBatch, LogLine, LogQueue, Wake};

/// How often an awake actor collects queued lines: the most a line waits before its write.
/// Shorter turns on a CPU shared with the workers make a shorter tail; each turn costs a
/// wake-up and a write per file (5 ms before the workers' buffers; at 2 ms the throughput is
/// the same and the p99 under load about 0.1 ms lower, BENCHMARKS.md).
const COLLECT_EVERY: Duration = Duration::from_millis(2);

pub struct TelemetryActor {
    queue: LogQueue,
    files: HashMap<PathBuf, LogFile>,
    http: HashMap<Arc<HttpLogTarget>, Queue>,
    /// http-log records held (waiting or in flight); `Flush` waits for zero.
    held: watch::Sender<usize>,
    /// `Flush` requests in progress: while any is, partial batches leave at once.
    flushing: usize,
}

/// Asks the actor to send every queued http-log record now, without waiting for coalescing
/// delays, and answers once nothing is held (`true`) or `timeout` passed (`false`). Best
/// effort, for a graceful shutdown; records still held afterwards are not lost yet.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Flush {
    pub timeout: Duration,
}

impl TelemetryActor {
    pub fn new(queue: LogQueue) -> Self {
        TelemetryActor {
            queue,
            files: HashMap::new(),
            http: HashMap::new(),
            held: watch::Sender::new(0),
            flushing: 0,
        }
    }

    /// Starts it supervised on a dedicated arbiter (thread), collecting from `queue`.
    pub fn start_supervised(queue: LogQueue) -> Addr<TelemetryActor> {
        let arbiter = Arbiter::new();
        Supervisor::start_in_arbiter(&arbiter.handle(), move |_| TelemetryActor::new(queue))
    }

    /// Handles every queued line; how many there were.
    fn collect(&mut self, ctx: &mut Context<Self>) -> usize {
        let collected = self.queue.take();
        let n = collected.lines();
        for LogLine { target, line } in collected.http {
            self.enqueue_http(target, line, ctx);
        }
        // Each file once, with every thread's batch for it.
        let mut files = collected.files;
        while let Some(first) = files.first() {
            let path = first.path.clone();
            let (mine, rest): (Vec<FileBatch>, Vec<FileBatch>) =
                files.into_iter().partition(|b| b.is_for(&path));
            files = rest;
            self.write_file(&path, &mine);
            for batch in mine {
                self.queue.recycle(batch.bytes);
            }
        }
        self.queue.done(n);
        n
    }

    /// Collects, then either sleeps (nothing came) or comes back in `COLLECT_EVERY`.
    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.collect(ctx) == 0 && self.queue.sleep() {
            return;
        }
        ctx.run_later(COLLECT_EVERY, |act, ctx| act.tick(ctx));
    }

    fn write_file(&mut self, path: &Path, batches: &[FileBatch]) {
        let count = batches.iter().map(|b| b.lines as u64).sum::<u64>();
        match self.append(path, batches) {
            Ok(()) => {
                metrics::counter!(names::LOG_RECORDS_WRITTEN, "sink" => "file-log").increment(count)
            }
            Err(e) => {
                tracing::warn!(sink = "file-log", error = %e, records = count, "log records not written");
                sink::dropped("file-log", "write_failed", count);
            }
        }
    }

    fn append(&mut self, path: &Path, batches: &[FileBatch]) -> std::io::Result<()> {
        if !self.files.contains_key(path) {
            self.files.insert(path.to_path_buf(), LogFile::open(path)?);
        }
        let file = self.files.get_mut(path).expect("inserted above");
        let result = file.append(batches.iter().map(|b| b.bytes.as_slice()));
        if result.is_err() {
            // Reopen next time: the file may have been rotated or its disk fixed.
            self.files.remove(path);
        }
        result
    }

    fn enqueue_http(&mut self, target: Arc<HttpLogTarget>, line: Bytes, ctx: &mut Context<Self>) {
        let queue = self.http.entry(target.clone()).or_default();
        if !queue.offer(&target.queue, line, Instant::now()) {
            sink::dropped("http-log", "queue_full", 1);
            return;
        }
        self.held.send_modify(|n| *n += 1);
        self.pump(target, ctx);
    }

    /// Sends every batch of `target` that may leave now, then arms a timer for the next one.
    fn pump(&mut self, target: Arc<HttpLogTarget>, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let flushing = self.flushing > 0;
        let Some(queue) = self.http.get_mut(&target) else {
            return;
        };
        while queue.ready(&target.queue, now, flushing) {
            let batch = queue.take_batch(&target.queue);
            let body = target.body(&batch.lines);
            let (records, bytes) = (batch.lines.len(), batch.bytes);
            let sent = http_log::deliver(target.clone(), body);
            let done = target.clone();
            ctx.spawn(
                wrap_future::<_, Self>(sent)
                    .map(move |result, act, ctx| act.delivered(done, records, bytes, result, ctx)),
            );
        }
        if queue.is_idle() {
            self.http.remove(&target);
            return;
        }
        if let (false, Some(due)) = (queue.timer_armed, queue.due(&target.queue)) {
            queue.timer_armed = true;
            ctx.run_later(due.saturating_duration_since(now), move |act, ctx| {
                if let Some(queue) = act.http.get_mut(&target) {
                    queue.timer_armed = false;
                }
                act.pump(target, ctx);
            });
        }
    }

    fn delivered(
        &mut self,
        target: Arc<HttpLogTarget>,
        records: usize,
        bytes: usize,
        result: Result<(), String>,
        ctx: &mut Context<Self>,
    ) {
        if let Some(queue) = self.http.get_mut(&target) {
            queue.finish(records, bytes);
        }
        self.held.send_modify(|n| *n = n.saturating_sub(records));
        let count = records as u64;
        match result {
            Ok(()) => {
                metrics::counter!(names::LOG_RECORDS_WRITTEN, "sink" => "http-log").increment(count)
            }
            Err(error) => {
                tracing::warn!(endpoint = %target.endpoint(), %error, records,
                    "http-log batch dropped: retries exhausted (queue.max_retry_time)");
                sink::dropped("http-log", "delivery_failed", count);
            }
        }
        self.pump(target, ctx);
    }
}

impl Actor for TelemetryActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Lines may have queued before the start (or the restart): collect them.
        self.tick(ctx);
    }
}

impl Supervised for TelemetryActor {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        self.files.clear();
        // The futures sending batches died with the old context: count what they and the
        // queues held rather than lose it silently.
        let lost: usize = self.http.values().map(Queue::held).sum();
        if lost > 0 {
            sink::dropped("http-log", "sink_restarted", lost as u64);
        }
        self.http.clear();
        self.held.send_replace(0);
        self.flushing = 0;
    }
}

impl Handler<Wake> for TelemetryActor {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Self::Context) {
        self.tick(ctx);
    }
}

impl Handler<Flush> for TelemetryActor {
    type Result = ResponseActFuture<Self, bool>;

    fn handle(&mut self, msg: Flush, ctx: &mut Self::Context) -> Self::Result {
        self.collect(ctx);
        self.flushing += 1;
        let targets: Vec<Arc<HttpLogTarget>> = self.http.keys().cloned().collect();
        for target in targets {
            self.pump(target, ctx);
        }
        let mut held = self.held.subscribe();
        let drained = async move {
            let empty = held.wait_for(|n| *n == 0);
            matches!(actix_rt::time::timeout(msg.timeout, empty).await, Ok(Ok(_)))
        };
        Box::pin(wrap_future::<_, Self>(drained).map(|drained, act, _| {
            act.flushing = act.flushing.saturating_sub(1);
            if !drained {
                let held = *act.held.borrow();
                tracing::warn!(
                    records = held,
                    "http-log records still queued or in flight when the flush timed out"
                );
            }
            drained
        }))
    }
}
