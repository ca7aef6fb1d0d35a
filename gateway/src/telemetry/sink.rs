//! The handle plugins use to hand log lines to the telemetry actor without waiting for it.
//! A full queue never blocks a request: the line is counted as dropped. The actor is woken by
//! the first line after it went idle and then collects every few milliseconds until nothing
//! is held, so under load a request costs no thread wake-up and lines are written in batches.
//!
//! file-log lines are appended, newline included, to a buffer of the sending thread (one per
//! file), which the actor takes whole at each collection and writes with one call: a line
//! costs a copy into that buffer, not an allocation, a queue slot and a write slice of its own.
//! http-log records go through a channel, one shared buffer each (the endpoint's queue keeps
//! them apart).

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use actix::prelude::*;
use bytes::Bytes;

use super::http_log::HttpLogTarget;
use super::lock;
use super::names;

/// Where a line goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// file-log: append the line to this file (shared: every request names it).
    File(Arc<Path>),
    /// http-log: queue the record for this endpoint (one queue per configuration).
    Http(Arc<HttpLogTarget>),
}

/// One serialized http-log record, for the endpoint's queue.
pub struct LogLine {
    pub target: Arc<HttpLogTarget>,
    pub line: Bytes,
}

/// file-log lines of one file, each ending in a newline, in the order one thread sent them.
#[derive(Debug)]
pub struct FileBatch {
    pub path: Arc<Path>,
    pub bytes: Vec<u8>,
    pub lines: usize,
}

/// What a collection found: each thread's file-log batches and the http-log records.
#[derive(Default)]
pub struct Collected {
    pub files: Vec<FileBatch>,
    pub http: Vec<LogLine>,
}

impl FileBatch {
    /// Whether these lines go to `path`.
    pub fn is_for(&self, path: &Arc<Path>) -> bool {
        Arc::ptr_eq(&self.path, path) || self.path == *path
    }
}

impl Collected {
    /// Lines and records taken, each still counted against the bound until
    /// [`LogQueue::done`].
    pub fn lines(&self) -> usize {
        self.files.iter().map(|b| b.lines).sum::<usize>() + self.http.len()
    }
}

/// Sent by a request that finds the telemetry actor asleep (see [`LogQueue::sleep`]).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Wake;

/// What the two ends share: how many lines are held (queued or being written) against the
/// bound, whether the actor is asleep, and every sending thread's file-log buffers.
struct Pipe {
    held: AtomicUsize,
    capacity: usize,
    asleep: AtomicBool,
    threads: Mutex<Vec<Arc<ThreadFiles>>>,
}

/// One thread's file-log lines not collected yet. Its lock is only contended while the actor
/// takes the buffers, once per collection.
#[derive(Default)]
struct ThreadFiles {
    batches: Mutex<Vec<FileBatch>>,
}

/// The most a thread's new buffer reserves: a burst does not keep its size for good.
const KEEP_CAPACITY: usize = 256 << 10;

/// Written buffers kept for the threads' next ones: a thread swaps in memory already in use
/// (no allocation, no page faults, no growth while it fills), as long as its size fits.
const SPARE_BUFFERS: usize = 8;

thread_local! {
    /// This thread's buffers, per queue (a process may run more than one gateway).
    static MINE: std::cell::RefCell<Vec<(Weak<Pipe>, Arc<ThreadFiles>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl Pipe {
    /// Whether the actor is asleep and the sender that just queued must wake it (only one
    /// does).
    fn wakes(&self) -> bool {
        self.asleep.load(Ordering::SeqCst) && self.asleep.swap(false, Ordering::SeqCst)
    }

    /// Runs `f` on the calling thread's buffers for this queue, registered on first use.
    fn with_thread_files<R>(self: &Arc<Self>, f: impl FnOnce(&ThreadFiles) -> R) -> R {
        MINE.with_borrow_mut(|mine| {
            let found = mine
                .iter()
                .position(|(pipe, _)| std::ptr::eq(pipe.as_ptr(), Arc::as_ptr(self)));
            let i = found.unwrap_or_else(|| {
                mine.retain(|(pipe, _)| pipe.strong_count() > 0);
                let files = Arc::new(ThreadFiles::default());
                lock(&self.threads).push(files.clone());
                mine.push((Arc::downgrade(self), files));
                mine.len() - 1
            });
            f(&mine[i].1)
        })
    }
}

/// The queue between requests and the telemetry actor, bounded at `capacity` lines held.
pub fn queue(capacity: usize) -> (QueueSender, LogQueue) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let pipe = Arc::new(Pipe {
        held: AtomicUsize::new(0),
        capacity: capacity.max(1),
        asleep: AtomicBool::new(true),
        threads: Mutex::new(Vec::new()),
    });
    (
        QueueSender {
            tx,
            pipe: pipe.clone(),
        },
        LogQueue {
            rx,
            pipe,
            spare: RefCell::default(),
        },
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

    pub fn send(&self, target: &Target, line: Bytes) {
        if self.queue.push(target, line) {
            self.wake.do_send(Wake);
        }
    }

    /// A file-log line written by `write` straight into this thread's buffer for `path` (no
    /// copy of its own first), followed by its newline.
    pub fn send_file(&self, path: &Arc<Path>, write: impl FnOnce(&mut Vec<u8>)) {
        if self.queue.push_file(path, write) {
            self.wake.do_send(Wake);
        }
    }
}

impl QueueSender {
    /// Queues `line` for `target`, or counts it as dropped; `true` when the actor was asleep
    /// and this sender must wake it.
    fn push(&self, target: &Target, line: Bytes) -> bool {
        match target {
            Target::File(path) => self.push_file(path, |out| out.extend_from_slice(&line)),
            Target::Http(target) => {
                if !self.hold("http-log") {
                    return false;
                }
                let line = LogLine {
                    target: target.clone(),
                    line,
                };
                if self.tx.send(line).is_err() {
                    self.pipe.held.fetch_sub(1, Ordering::AcqRel);
                    dropped("http-log", "sink_closed", 1);
                    return false;
                }
                self.pipe.wakes()
            }
        }
    }

    /// Appends the line `write` writes, and its newline, to this thread's buffer for `path`;
    /// or counts it as dropped. `true` when the actor must be woken.
    fn push_file(&self, path: &Arc<Path>, write: impl FnOnce(&mut Vec<u8>)) -> bool {
        if !self.hold("file-log") {
            return false;
        }
        self.pipe
            .with_thread_files(|files| append(files, path, write));
        self.pipe.wakes()
    }

    /// Takes a place under the bound for one line, or counts it as dropped.
    fn hold(&self, sink: &'static str) -> bool {
        let pipe = &self.pipe;
        if pipe.held.fetch_add(1, Ordering::AcqRel) >= pipe.capacity {
            pipe.held.fetch_sub(1, Ordering::AcqRel);
            dropped(sink, "queue_full", 1);
            return false;
        }
        true
    }
}

/// Appends the line `write` writes, and its newline, to the thread's buffer for `path`.
fn append(files: &ThreadFiles, path: &Arc<Path>, write: impl FnOnce(&mut Vec<u8>)) {
    let mut batches = lock(&files.batches);
    let i = match batches.iter().position(|b| b.is_for(path)) {
        Some(i) => i,
        None => {
            batches.push(FileBatch {
                path: path.clone(),
                bytes: Vec::new(),
                lines: 0,
            });
            batches.len() - 1
        }
    };
    let batch = &mut batches[i];
    write(&mut batch.bytes);
    batch.bytes.push(b'\n');
    batch.lines += 1;
}

/// The actor's side of [`queue`].
pub struct LogQueue {
    rx: crossbeam_channel::Receiver<LogLine>,
    pipe: Arc<Pipe>,
    /// Buffers given back after writing ([`LogQueue::recycle`]).
    spare: RefCell<Vec<Vec<u8>>>,
}

impl LogQueue {
    /// Every line queued so far: each thread's file-log buffers, taken whole (the thread
    /// goes on in a spare one or a new one, with room for half as much again as the last, up to
    /// [`KEEP_CAPACITY`]), and the http-log records. They still count against the bound until
    /// [`LogQueue::done`].
    pub fn take(&self) -> Collected {
        let mut files = Vec::new();
        lock(&self.pipe.threads).retain(|thread| {
            let mut batches = lock(&thread.batches);
            for batch in batches.iter_mut().filter(|b| b.lines > 0) {
                let next = self.next_buffer(batch.bytes.len());
                files.push(FileBatch {
                    path: batch.path.clone(),
                    bytes: std::mem::replace(&mut batch.bytes, next),
                    lines: std::mem::take(&mut batch.lines),
                });
            }
            // A thread that ended is only held here: its last lines are taken, forget it.
            Arc::strong_count(thread) > 1
        });
        Collected {
            files,
            http: self.rx.try_iter().collect(),
        }
    }

    /// A buffer for a thread whose last one held `last` bytes.
    fn next_buffer(&self, last: usize) -> Vec<u8> {
        let want = (last + last / 2).min(KEEP_CAPACITY);
        let mut spare = self.spare.borrow_mut();
        match spare.iter().position(|b| b.capacity() >= want) {
            Some(i) => spare.swap_remove(i),
            None => Vec::with_capacity(want),
        }
    }

    /// Gives back a taken buffer once its lines are written. A burst's larger buffer is let go.
    pub fn recycle(&self, mut bytes: Vec<u8>) {
        let mut spare = self.spare.borrow_mut();
        if bytes.capacity() <= 2 * KEEP_CAPACITY && spare.len() < SPARE_BUFFERS {
            bytes.clear();
            spare.push(bytes);
        }
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
        if self.pipe.held.load(Ordering::SeqCst) == 0 {
            return true;
        }
        !self.pipe.asleep.swap(false, Ordering::SeqCst)
    }
}

/// Counts `n` records of `sink` that were not written, and why.
pub fn dropped(sink: &'static str, reason: &'static str, n: u64) {
    metrics::counter!(names::LOG_RECORDS_DROPPED, "sink" => sink, "reason" => reason).increment(n);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> Target {
        Target::File(Path::new(name).into())
    }

    fn text(batch: &FileBatch) -> &str {
        std::str::from_utf8(&batch.bytes).unwrap()
    }

    #[test]
    fn file_lines_come_back_as_one_batch_per_thread_and_file_in_order() {
        let (sender, queue) = queue(100);
        let (a, b) = (file("/logs/a.log"), file("/logs/b.log"));
        assert!(
            sender.push(&a, Bytes::from_static(b"a1")),
            "the first line wakes the actor"
        );
        assert!(
            !sender.push(&b, Bytes::from_static(b"b1")),
            "an awake actor is not woken"
        );
        sender.push(&a, Bytes::from_static(b"a2"));
        let other = sender.clone();
        let a2 = a.clone();
        std::thread::spawn(move || {
            other.push(&a2, Bytes::from_static(b"t1"));
            other.push(&a2, Bytes::from_static(b"t2"));
        })
        .join()
        .unwrap();

        let collected = queue.take();
        assert_eq!(collected.lines(), 5);
        let mut batches: Vec<(&Path, &str, usize)> = collected
            .files
            .iter()
            .map(|b| (&*b.path, text(b), b.lines))
            .collect();
        batches.sort();
        assert_eq!(
            batches,
            [
                (Path::new("/logs/a.log"), "a1\na2\n", 2),
                (Path::new("/logs/a.log"), "t1\nt2\n", 2),
                (Path::new("/logs/b.log"), "b1\n", 1),
            ]
        );
        // Taken whole: the next collection starts from nothing, and the thread that ended is
        // forgotten once its lines were taken.
        queue.done(collected.lines());
        assert!(queue.take().files.is_empty());
        assert_eq!(lock(&sender.pipe.threads).len(), 1);
        assert!(queue.sleep(), "nothing held: the actor may sleep");
    }

    #[test]
    fn a_written_buffer_is_the_next_one_a_thread_fills() {
        let (sender, queue) = queue(100);
        let log = file("/logs/spare.log");
        sender.push(&log, Bytes::from(vec![b'x'; 1000]));
        let first = queue.take().files.pop().unwrap();
        let (at, room) = (first.bytes.as_ptr(), first.bytes.capacity());
        queue.done(first.lines);
        queue.recycle(first.bytes);
        // The thread's next buffer was made at the first take; the one after is the spare.
        sender.push(&log, Bytes::from_static(b"short"));
        let second = queue.take().files.pop().unwrap();
        assert_eq!(text(&second), "short\n");
        sender.push(&log, Bytes::from_static(b"again"));
        let third = queue.take().files.pop().unwrap();
        assert_eq!(text(&third), "again\n", "the spare was cleared");
        assert_eq!(third.bytes.as_ptr(), at, "the written buffer came back");
        assert_eq!(third.bytes.capacity(), room);

        // A burst's buffer is let go rather than kept.
        queue.recycle(Vec::with_capacity(4 * KEEP_CAPACITY));
        assert_eq!(queue.spare.borrow().len(), 0);
    }

    #[test]
    fn the_bound_counts_lines_held_in_every_thread_until_written() {
        let (sender, queue) = queue(3);
        let log = file("/logs/bound.log");
        for n in 0..2 {
            sender.push(&log, Bytes::from(format!("main {n}")));
        }
        let other = sender.clone();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for n in 0..3 {
                other.push(&log2, Bytes::from(format!("thread {n}")));
            }
        })
        .join()
        .unwrap();
        let collected = queue.take();
        assert_eq!(
            collected.lines(),
            3,
            "two from one thread, one from the other"
        );
        // Taken but not yet written: still held, so the next line is dropped too.
        sender.push(&log, Bytes::from_static(b"late"));
        assert!(!queue.sleep(), "lines are held: the actor stays awake");
        queue.done(collected.lines());
        sender.push(&log, Bytes::from_static(b"after"));
        let next = queue.take();
        assert_eq!(next.lines(), 1);
        assert_eq!(text(&next.files[0]), "after\n");
    }
}
