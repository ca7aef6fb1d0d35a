//! Log sinks under stress: a file-log that cannot write (a directory, a full disk), one whose
//! writes block (a named pipe nobody reads), an http-log endpoint that answers very slowly.
//! Proxied requests are never failed or held up; records queue up to their bound and the rest
//! are counted as dropped. Counters are process-wide, so each test reads them before and after.

use std::io::BufRead;
use std::time::{Duration, Instant};

use mock_marketplace::Options;
use tokio::io::AsyncWriteExt;

use crate::common::{eventually, Harness};
use crate::rig::{self, counter, FakeUpstream};

const DROPPED: &str = "kong_gateway_log_records_dropped_total";

fn yaml(tag: &str, plugin: &str) -> String {
    format!(
        r#"_format_version: "3.0"
services:
  - name: {tag}-service
    url: http://{{mock}}
    routes:
      - name: {tag}-route
        paths: [/marketplace]
plugins:
{plugin}"#
    )
}

/// `n` requests; each must succeed, and none may wait anywhere near `patience`.
async fn requests(h: &Harness, n: usize, patience: Duration) {
    for i in 0..n {
        let started = Instant::now();
        let status = rig::status_of(h, "/marketplace/users").await;
        let took = started.elapsed();
        assert_eq!(status, 200, "request {i}");
        assert!(
            took < patience,
            "request {i} waited {took:?} for a log sink"
        );
    }
}

async fn dropped(h: &Harness, sink: &str, reason: &str) -> f64 {
    counter(
        &h.metrics().await,
        DROPPED,
        &[("sink", sink), ("reason", reason)],
    )
}

#[tokio::test]
async fn a_file_log_that_cannot_write_never_fails_a_request() {
    let mut paths = vec!["{dir}".to_string()];
    if std::path::Path::new("/dev/full").exists() {
        paths.push("/dev/full".to_string()); // every write fails with "no space left"
    }
    for (i, path) in paths.iter().enumerate() {
        let plugin = format!("  - name: file-log\n    config:\n      path: {path}\n");
        let h = Harness::start_with(
            Options::default(),
            &yaml(&format!("ts-nowrite-{i}"), &plugin),
            |_| {},
        )
        .await;
        let before = dropped(&h, "file-log", "write_failed").await;
        requests(&h, 10, Duration::from_secs(5)).await;
        eventually(Duration::from_secs(10), || async {
            (dropped(&h, "file-log", "write_failed").await >= before + 10.0).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn a_blocked_file_log_queues_to_the_bound_then_counts_every_drop() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.log");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    // Opening a pipe nobody reads blocks the telemetry actor, as a hung disk would.
    let plugin = format!(
        "  - name: file-log\n    config:\n      path: {}\n",
        fifo.display()
    );
    let bound = 8;
    let h = Harness::start_with(Options::default(), &yaml("ts-blocked", &plugin), |s| {
        s.telemetry_queue_size = bound
    })
    .await;
    let before = dropped(&h, "file-log", "queue_full").await;
    let sent = 40;
    requests(&h, sent, Duration::from_secs(5)).await;
    // The log phase runs after each response is written, so the last request's record may be
    // counted just after its client has the answer: wait until the count has them all.
    let lost = eventually(Duration::from_secs(5), || async {
        let lost = dropped(&h, "file-log", "queue_full").await - before;
        (lost >= (sent - bound) as f64).then_some(lost)
    })
    .await;
    // Exactly `bound` records are held, the one the actor is blocked on included.
    assert_eq!(
        lost,
        (sent - bound) as f64,
        "{lost} dropped of {sent} with a queue of {bound}"
    );
    // The disk comes back: what was queued is written, and written + dropped = sent.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let reader = std::io::BufReader::new(std::fs::File::open(&fifo).unwrap());
        for line in reader.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let expected = sent - lost as usize;
    let mut written = Vec::new();
    while written.len() < expected {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => written.push(line),
            Err(_) => break,
        }
    }
    assert_eq!(
        written.len(),
        expected,
        "written {} + dropped {lost} != {sent}",
        written.len()
    );
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "more lines than were queued"
    );
    for line in &written {
        let record: serde_json::Value = serde_json::from_str(line).expect("a JSON record");
        assert_eq!(record["route"]["name"], "ts-blocked-route");
    }
}

#[tokio::test]
async fn a_very_slow_http_log_endpoint_never_holds_a_request_up() {
    // Answers each POST after 3 s.
    let slow = FakeUpstream::start(|mut stream| async move {
        loop {
            if rig::read_request(&mut stream).await.is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(3)).await;
            let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            if stream.write_all(answer).await.is_err() {
                return;
            }
        }
    })
    .await;
    let plugin = format!(
        "  - name: http-log\n    config:\n      http_endpoint: http://{}/logs\n      \
         timeout: 10000\n      queue: {{ max_entries: 4, max_batch_size: 1 }}\n",
        slow.addr
    );
    let h = Harness::start(Options::default(), &yaml("ts-slow-http", &plugin)).await;
    let before = dropped(&h, "http-log", "queue_full").await;
    let sent = 20;
    // Each request far quicker than one delivery: none of them waits for the endpoint.
    requests(&h, sent, Duration::from_millis(2500)).await;
    // The endpoint's queue is filled as the telemetry actor collects (every few milliseconds):
    // one record in flight, `max_entries` waiting, every other one counted.
    let want = (sent - 4) as f64 - 1.0;
    let lost = eventually(Duration::from_secs(5), || async {
        let lost = dropped(&h, "http-log", "queue_full").await - before;
        (lost >= want).then_some(lost)
    })
    .await;
    assert!(
        lost <= want + 1.0,
        "{lost} dropped of {sent} with max_entries 4"
    );
}

/// The collector sleeps when the queue stays empty and the next line wakes it: lines sent from
/// many threads, in bursts with quiet spells between them, are all written, none twice.
#[actix_rt::test]
async fn bursts_from_many_threads_are_all_written_across_sleeps_and_wake_ups() {
    use gateway::actors::telemetry::TelemetryActor;
    use gateway::telemetry::sink::{self, LogSender, Target};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bursts.log");
    let (sender, queue) = sink::queue(10_000);
    let actor = TelemetryActor::start_supervised(queue);
    let logs = LogSender::new(sender, actor.recipient());
    let (threads, bursts, per_burst) = (4, 20, 25);
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let logs = logs.clone();
            let target = Target::File(path.clone().into());
            std::thread::spawn(move || {
                for b in 0..bursts {
                    for i in 0..per_burst {
                        logs.send(&target, bytes::Bytes::from(format!("{t}-{b}-{i}")));
                    }
                    // Longer than a collection period now and then, so the collector sleeps.
                    let pause = if b % 3 == 0 { 12 } else { (t + b) % 4 };
                    std::thread::sleep(Duration::from_millis(pause as u64));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let expected = threads * bursts * per_burst;
    let lines = eventually(Duration::from_secs(10), || async {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        (lines.len() >= expected).then_some(lines)
    })
    .await;
    let mut unique = lines.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(lines.len(), expected, "no line twice");
    assert_eq!(unique.len(), expected, "every line once");
    // Each thread's lines keep their order.
    for t in 0..threads {
        let prefix = format!("{t}-");
        let mine: Vec<&String> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
        let want: Vec<String> = (0..bursts)
            .flat_map(|b| (0..per_burst).map(move |i| format!("{t}-{b}-{i}")))
            .collect();
        assert!(
            mine.iter().zip(&want).all(|(a, b)| *a == b),
            "thread {t} out of order"
        );
    }
}

/// Bytes of `path` held in the page cache, as util-linux's `fincore` reports them.
fn resident(path: &std::path::Path) -> u64 {
    let out = std::process::Command::new("fincore")
        .args(["--bytes", "--noheadings", "--output", "RES"])
        .arg(path)
        .output()
        .expect("fincore (util-linux) runs");
    assert!(out.status.success(), "fincore: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("fincore's answer {out:?}: {e}"))
}

#[test]
fn a_busy_file_log_keeps_only_its_latest_writes_in_the_page_cache() {
    use gateway::telemetry::log_file::{LogFile, RELEASE_EVERY};
    // On a disk (a tmpfs's pages cannot be dropped): the target directory.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("busy.log");
    let mut log = LogFile::open(&path).unwrap();
    // 64 KiB with its newline.
    let mut line = vec![b'x'; (64 << 10) - 1];
    line.push(b'\n');
    let append = |log: &mut LogFile, bytes: u64| {
        for _ in 0..bytes / (64 << 10) {
            log.append([line.as_slice()]).unwrap();
        }
    };
    append(&mut log, 4 * RELEASE_EVERY);
    // The disk has every page so far (writeback is otherwise asynchronous): the next release
    // must drop them all, leaving only what was written since.
    std::fs::File::open(&path).unwrap().sync_data().unwrap();
    append(&mut log, RELEASE_EVERY);
    let written = std::fs::metadata(&path).unwrap().len();
    assert_eq!(written, 5 * RELEASE_EVERY);
    let held = resident(&path);
    assert!(
        held <= RELEASE_EVERY + (1 << 20),
        "{held} of {written} bytes still cached"
    );
}
