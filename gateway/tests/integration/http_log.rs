//! http-log: records reach a real collector on port 0, batched, retried, and when the endpoint
//! is down the requests do not wait and the lost records are counted. Metrics are process-wide
//! and these counters carry no route label, so assertions read a counter before and after.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use mock_marketplace::Options;
use serde_json::Value;

use crate::common::{eventually, Harness};
use crate::rig::counter;

/// A log collector: records every request it answers 200, answers 500 to the first `fail`.
struct Collector {
    addr: SocketAddr,
    seen: Arc<Seen>,
    system: actix_rt::System,
}

#[derive(Default)]
struct Seen {
    attempts: AtomicUsize,
    fail: AtomicUsize,
    /// (method, content type, x-token header, body) of each accepted request.
    accepted: Mutex<Vec<(String, String, String, Value)>>,
}

impl Collector {
    fn start(fail: usize) -> Collector {
        let seen = Arc::new(Seen::default());
        seen.fail.store(fail, Ordering::SeqCst);
        let state = seen.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let system = actix_rt::System::new();
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(state.clone()))
                    .route("/logs", web::to(collect))
            })
            .workers(1)
            .disable_signals()
            .bind("127.0.0.1:0")
            .expect("collector binds");
            let addr = server.addrs()[0];
            let running = server.run();
            tx.send((addr, actix_rt::System::current())).unwrap();
            system.block_on(running).unwrap();
        });
        let (addr, system) = rx.recv().expect("collector starts");
        Collector { addr, seen, system }
    }

    fn attempts(&self) -> usize {
        self.seen.attempts.load(Ordering::SeqCst)
    }

    fn accepted(&self) -> Vec<(String, String, String, Value)> {
        self.seen.accepted.lock().unwrap().clone()
    }

    /// The accepted requests, once there are `n`.
    async fn accepted_n(&self, n: usize) -> Vec<(String, String, String, Value)> {
        eventually(Duration::from_secs(5), || async {
            let got = self.accepted();
            (got.len() == n).then_some(got)
        })
        .await
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.system.stop();
    }
}

async fn collect(req: HttpRequest, body: web::Bytes, seen: web::Data<Arc<Seen>>) -> HttpResponse {
    let n = seen.attempts.fetch_add(1, Ordering::SeqCst);
    if n < seen.fail.load(Ordering::SeqCst) {
        return HttpResponse::InternalServerError().finish();
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let json = serde_json::from_slice(&body).expect("the collector receives JSON");
    seen.accepted.lock().unwrap().push((
        req.method().to_string(),
        header("content-type"),
        header("x-token"),
        json,
    ));
    HttpResponse::Ok().finish()
}

/// A service and route named after `tag` (so other tests' series stay apart) with http-log.
async fn gateway(tag: &str, endpoint: &str, queue: &str) -> Harness {
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: {tag}-service
    url: http://{{mock}}
    routes:
      - name: {tag}-route
        paths:
          - /marketplace
plugins:
  - name: http-log
    config:
      http_endpoint: {endpoint}
      headers:
        x-token: secret
      queue: {queue}
"#
    );
    Harness::start(Options::default(), &yaml).await
}

const WRITTEN: &str = "kong_gateway_log_records_written_total";
const DROPPED: &str = "kong_gateway_log_records_dropped_total";

/// Sends a request through the gateway and says how long it took.
async fn timed_get(h: &Harness, path: &str) -> (u16, Duration) {
    let started = Instant::now();
    let status = h.http.get(h.url(path)).send().await.unwrap().status();
    (status.as_u16(), started.elapsed())
}

#[tokio::test]
async fn each_record_is_posted_in_kongs_shape() {
    let c = Collector::start(0);
    let h = gateway("hl-deliver", &format!("http://{}/logs", c.addr), "{}").await;
    let before = counter(&h.metrics().await, WRITTEN, &[("sink", "http-log")]);
    h.http
        .get(h.url("/marketplace/users"))
        .send()
        .await
        .unwrap();
    h.http
        .post(h.url("/marketplace/users"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    let got = c.accepted_n(2).await;
    let mut methods = Vec::new();
    for (method, content_type, token, record) in &got {
        assert_eq!(
            (method.as_str(), content_type.as_str()),
            ("POST", "application/json")
        );
        assert_eq!(token, "secret", "configured headers are sent");
        assert!(
            record.is_object(),
            "max_batch_size 1: the record itself, not an array"
        );
        assert!(record["response"]["status"].is_u64());
        assert_eq!(record["route"]["name"], "hl-deliver-route");
        assert_eq!(record["service"]["name"], "hl-deliver-service");
        methods.push(record["request"]["method"].as_str().unwrap().to_string());
    }
    methods.sort();
    assert_eq!(methods, ["GET", "POST"]);
    eventually(Duration::from_secs(5), || async {
        let now = counter(&h.metrics().await, WRITTEN, &[("sink", "http-log")]);
        (now >= before + 2.0).then_some(())
    })
    .await;
}

/// file-log runs after http-log (priority 9 against 12): it writes the record http-log already
/// serialized, not a second rendering of it; alone, it writes the record straight into its
/// buffer (`file_log::writes_one_kong_shaped_line_per_request`).
#[tokio::test]
async fn file_log_on_the_same_route_writes_the_records_http_log_posts() {
    let c = Collector::start(0);
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: hl-both-service
    url: http://{{mock}}
    routes:
      - name: hl-both-route
        paths:
          - /marketplace
plugins:
  - name: http-log
    config:
      http_endpoint: http://{}/logs
  - name: file-log
    config:
      path: "{{dir}}/both.log"
"#,
        c.addr
    );
    let h = Harness::start(Options::default(), &yaml).await;
    for path in ["/marketplace/users", "/marketplace/users/1/orders?limit=2"] {
        h.http.get(h.url(path)).send().await.unwrap();
    }
    let mut posted: Vec<Value> = c.accepted_n(2).await.into_iter().map(|r| r.3).collect();
    let mut written = h.log_records("both.log", 2).await;
    let id = |v: &Value| v["request"]["id"].as_str().unwrap().to_string();
    posted.sort_by_key(id);
    written.sort_by_key(id);
    assert_eq!(written, posted);
    assert_eq!(written[0]["route"]["name"], "hl-both-route");
}

#[tokio::test]
async fn records_are_batched_when_full_or_after_the_coalescing_delay() {
    let c = Collector::start(0);
    let queue = "{ max_batch_size: 3, max_coalescing_delay: 1 }";
    let h = gateway("hl-batch", &format!("http://{}/logs", c.addr), queue).await;
    for _ in 0..3 {
        h.http
            .get(h.url("/marketplace/users"))
            .send()
            .await
            .unwrap();
    }
    let first = eventually(Duration::from_secs(5), || async {
        c.accepted().first().map(|(.., body)| body.clone())
    })
    .await;
    assert_eq!(c.attempts(), 1, "one POST for the full batch");
    let records = first.as_array().expect("a JSON array");
    assert_eq!(records.len(), 3);
    assert!(records
        .iter()
        .all(|r| r["route"]["name"] == "hl-batch-route"));
    // A partial batch leaves once the coalescing delay has passed.
    h.http
        .get(h.url("/marketplace/users"))
        .send()
        .await
        .unwrap();
    let got = c.accepted_n(2).await;
    assert_eq!(got[1].3.as_array().map(Vec::len), Some(1));
    assert_eq!(c.attempts(), 2, "one POST per batch");
}

#[tokio::test]
async fn failed_posts_are_retried_until_delivered() {
    let c = Collector::start(2);
    let queue = "{ initial_retry_delay: 0.02, max_retry_delay: 0.1, max_retry_time: 10 }";
    let h = gateway("hl-retry", &format!("http://{}/logs", c.addr), queue).await;
    h.http
        .get(h.url("/marketplace/users"))
        .send()
        .await
        .unwrap();
    let got = c.accepted_n(1).await;
    assert_eq!(got[0].3["route"]["name"], "hl-retry-route");
    assert_eq!(c.attempts(), 3, "two 500s, then the 200");
}

/// `sent` requests through a gateway whose http-log endpoint is an address where nothing
/// listens: none waits for the sink, and at least 3 records are counted as dropped for `reason`
/// within `wait`.
async fn unreachable_endpoint_drops(
    tag: &str,
    queue: &str,
    sent: usize,
    reason: &str,
    wait: Duration,
) {
    let endpoint = format!("http://{}/logs", crate::rig::closed_addr());
    let h = gateway(tag, &endpoint, queue).await;
    let labels = [("sink", "http-log"), ("reason", reason)];
    let before = counter(&h.metrics().await, DROPPED, &labels);
    for _ in 0..sent {
        let (status, took) = timed_get(&h, "/marketplace/users").await;
        assert_eq!(status, 200);
        assert!(
            took < Duration::from_secs(1),
            "a request waited {took:?} for http-log"
        );
    }
    eventually(wait, || async {
        let now = counter(&h.metrics().await, DROPPED, &labels);
        (now >= before + 3.0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_endpoint_that_is_down_neither_slows_requests_nor_loses_records_silently() {
    let queue = "{ max_retry_time: 1, initial_retry_delay: 0.05, max_retry_delay: 0.2, \
                 concurrency_limit: -1 }";
    unreachable_endpoint_drops(
        "hl-down",
        queue,
        3,
        "delivery_failed",
        Duration::from_secs(10),
    )
    .await;
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_instead_of_growing() {
    let queue = "{ max_entries: 2, max_retry_time: 30, initial_retry_delay: 1 }";
    unreachable_endpoint_drops("hl-full", queue, 5, "queue_full", Duration::from_secs(5)).await;
}

#[actix_rt::test]
async fn flush_sends_what_waits_for_the_coalescing_delay() {
    use gateway::actors::telemetry::{Flush, TelemetryActor};
    use gateway::plugins::http_log::schema::HttpLogConfig;
    use gateway::telemetry::http_log::HttpLogTarget;
    use gateway::telemetry::sink::{self, LogSender, Target};

    let c = Collector::start(0);
    let config: HttpLogConfig = gateway::plugins::schema::typed(&serde_json::json!({
        "http_endpoint": format!("http://{}/logs", c.addr),
        "queue": {"max_batch_size": 10, "max_coalescing_delay": 60},
    }))
    .unwrap();
    let target = Target::Http(Arc::new(HttpLogTarget::new(&config).unwrap()));
    let (sender, queue) = sink::queue(16);
    let actor = TelemetryActor::start_supervised(queue);
    let logs = LogSender::new(sender, actor.clone().recipient());
    for n in 0..2 {
        logs.send(&target, bytes::Bytes::from(format!(r#"{{"n":{n}}}"#)));
    }
    assert_eq!(c.attempts(), 0, "waiting for the coalescing delay");
    let drained = actor
        .send(Flush {
            timeout: Duration::from_secs(5),
        })
        .await
        .unwrap();
    assert!(drained, "everything delivered within the flush timeout");
    assert_eq!(c.accepted()[0].3, serde_json::json!([{"n": 0}, {"n": 1}]));
}
