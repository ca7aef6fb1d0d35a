//! http-log delivery, Kong's semantics: one bounded queue per configured endpoint, batches sent
//! when full or after the coalescing delay, each batch retried with exponential backoff until
//! `max_retry_time`, then dropped and counted. The telemetry actor owns the queues and drives
//! them (`actors::telemetry`); this module holds the settings, the queue bookkeeping and the
//! send of one batch. Nothing here runs on a request thread.

use std::collections::VecDeque;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use awc::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use awc::http::Method;
use bytes::Bytes;

use super::names;
use crate::config::ConfigError;
use crate::plugins::http_log::schema::{ContentType, HttpLogConfig, HttpLogMethod};

/// Longest delay we honour: larger configured values would overflow `Instant` arithmetic.
const MAX_DELAY: Duration = Duration::from_secs(30 * 24 * 3600);
/// Backoff never goes below this, so `max_retry_delay: 0` cannot spin.
const MIN_RETRY_DELAY: Duration = Duration::from_millis(1);
/// How much of an endpoint's answer is read (so its connection can be reused).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// One configured endpoint and its queue settings. Equality is the configuration's identity,
/// so every plugin instance (and reload) with the same settings shares one queue.
pub struct HttpLogTarget {
    identity: String,
    url: String,
    /// `url` without credentials: what logs show.
    endpoint: String,
    method: Method,
    content_type: HeaderValue,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    pub queue: QueueSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueSettings {
    pub max_batch_size: usize,
    pub max_coalescing_delay: Duration,
    pub max_entries: usize,
    pub max_bytes: Option<usize>,
    pub max_retry_time: Duration,
    pub initial_retry_delay: Duration,
    pub max_retry_delay: Duration,
    /// Batches in flight at once (`concurrency_limit: -1` = no limit).
    pub concurrency: usize,
}

impl HttpLogTarget {
    /// Builds the target of a validated configuration; header errors name `config.headers.X`.
    pub fn new(config: &HttpLogConfig) -> Result<Self, ConfigError> {
        let mut headers = Vec::with_capacity(config.headers.len());
        for (name, value) in &config.headers {
            let path = format!("config.headers.{name}");
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| ConfigError::new(path.clone(), "invalid header name"))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|_| ConfigError::new(path, "invalid header value"))?;
            headers.push((name, value));
        }
        let q = &config.queue;
        // Kong maps the deprecated fields onto the queue when only they were changed.
        let batch = match (q.max_batch_size, config.queue_size) {
            (1, legacy) if legacy > 1 => legacy,
            (n, _) => n,
        };
        let delay = match (q.max_coalescing_delay, config.flush_timeout) {
            (d, legacy) if d == 1.0 && legacy != 2.0 => legacy,
            (d, _) => d,
        };
        Ok(HttpLogTarget {
            identity: serde_json::to_string(config)
                .unwrap_or_else(|_| config.http_endpoint.clone()),
            url: config.http_endpoint.clone(),
            endpoint: without_userinfo(&config.http_endpoint),
            method: match config.method {
                HttpLogMethod::Post => Method::POST,
                HttpLogMethod::Put => Method::PUT,
                HttpLogMethod::Patch => Method::PATCH,
            },
            content_type: HeaderValue::from_static(match config.content_type {
                ContentType::Json => "application/json",
                ContentType::JsonUtf8 => "application/json; charset=utf-8",
            }),
            headers,
            timeout: Duration::from_millis(config.timeout.max(1)),
            queue: QueueSettings {
                max_batch_size: to_usize(batch).max(1),
                max_coalescing_delay: secs(delay),
                max_entries: to_usize(q.max_entries).max(1),
                max_bytes: q.max_bytes.map(to_usize),
                max_retry_time: secs(q.max_retry_time),
                initial_retry_delay: secs(q.initial_retry_delay).max(MIN_RETRY_DELAY),
                max_retry_delay: secs(q.max_retry_delay).max(MIN_RETRY_DELAY),
                concurrency: if q.concurrency_limit == 1 {
                    1
                } else {
                    usize::MAX
                },
            },
        })
    }

    /// The endpoint without any `user:password@`, for logs.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Kong's payload: the record itself when batches hold one, otherwise a JSON array.
    pub fn body(&self, lines: &[Bytes]) -> Bytes {
        if self.queue.max_batch_size == 1 && lines.len() == 1 {
            return lines[0].clone();
        }
        let len = lines.iter().map(|l| l.len() + 1).sum::<usize>() + 1;
        let mut out = Vec::with_capacity(len);
        out.push(b'[');
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(line);
        }
        out.push(b']');
        Bytes::from(out)
    }
}

impl PartialEq for HttpLogTarget {
    fn eq(&self, other: &Self) -> bool {
        self.identity == other.identity
    }
}

impl Eq for HttpLogTarget {}

impl Hash for HttpLogTarget {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.identity.hash(state);
    }
}

/// Only the endpoint: configured headers may carry credentials.
impl fmt::Debug for HttpLogTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpLogTarget")
            .field("endpoint", &self.endpoint())
            .finish_non_exhaustive()
    }
}

fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

fn secs(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).map_or(MAX_DELAY, |d| d.min(MAX_DELAY))
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// Records waiting for one endpoint, and what is in flight. `max_entries`/`max_bytes` bound
/// both together, so a slow endpoint cannot grow memory through concurrent batches either.
#[derive(Default)]
pub struct Queue {
    pending: VecDeque<(Instant, Bytes)>,
    pending_bytes: usize,
    in_flight_batches: usize,
    in_flight_records: usize,
    in_flight_bytes: usize,
    /// A coalescing timer is scheduled.
    pub timer_armed: bool,
}

/// The records of one batch, taken from the queue until `Queue::finish`.
pub struct Batch {
    pub lines: Vec<Bytes>,
    pub bytes: usize,
}

impl Queue {
    /// Queues `line` unless that would exceed the bounds; `false` means it must be dropped.
    pub fn offer(&mut self, s: &QueueSettings, line: Bytes, now: Instant) -> bool {
        let bytes = self.pending_bytes + self.in_flight_bytes + line.len();
        if self.held() >= s.max_entries || s.max_bytes.is_some_and(|max| bytes > max) {
            return false;
        }
        self.pending_bytes += line.len();
        self.pending.push_back((now, line));
        true
    }

    /// Records held: waiting plus in flight.
    pub fn held(&self) -> usize {
        self.pending.len() + self.in_flight_records
    }

    pub fn is_idle(&self) -> bool {
        self.held() == 0
    }

    /// A batch may leave now: one is free to fly and the batch is full, has waited out the
    /// coalescing delay, or a flush was asked for.
    pub fn ready(&self, s: &QueueSettings, now: Instant, flushing: bool) -> bool {
        let Some((oldest, _)) = self.pending.front() else {
            return false;
        };
        self.in_flight_batches < s.concurrency
            && (self.pending.len() >= s.max_batch_size
                || flushing
                || now >= *oldest + s.max_coalescing_delay)
    }

    /// When the oldest waiting record's batch is due, if a timer could help send it.
    pub fn due(&self, s: &QueueSettings) -> Option<Instant> {
        if self.in_flight_batches >= s.concurrency {
            return None; // the batch in flight pumps the queue when it finishes
        }
        self.pending
            .front()
            .map(|(oldest, _)| *oldest + s.max_coalescing_delay)
    }

    pub fn take_batch(&mut self, s: &QueueSettings) -> Batch {
        let n = self.pending.len().min(s.max_batch_size);
        let lines: Vec<Bytes> = self.pending.drain(..n).map(|(_, l)| l).collect();
        let bytes = lines.iter().map(|l| l.len()).sum();
        self.pending_bytes -= bytes;
        self.in_flight_batches += 1;
        self.in_flight_records += lines.len();
        self.in_flight_bytes += bytes;
        Batch { lines, bytes }
    }

    pub fn finish(&mut self, records: usize, bytes: usize) {
        self.in_flight_batches = self.in_flight_batches.saturating_sub(1);
        self.in_flight_records = self.in_flight_records.saturating_sub(records);
        self.in_flight_bytes = self.in_flight_bytes.saturating_sub(bytes);
    }
}

thread_local! {
    /// One client (and keep-alive pool) per telemetry thread: awc clients are not `Send`.
    static CLIENT: awc::Client = awc::Client::builder()
        .connector(awc::Connector::new().conn_keep_alive(Duration::from_secs(60)))
        .disable_redirects()
        .finish();
}

/// Sends one batch, retrying non-2xx answers and transport errors with exponential backoff
/// until `max_retry_time` has passed since the first attempt. Returns the last error.
pub async fn deliver(target: Arc<HttpLogTarget>, body: Bytes) -> Result<(), String> {
    let client = CLIENT.with(|c| c.clone());
    let s = &target.queue;
    let started = Instant::now();
    let mut delay = s.initial_retry_delay;
    loop {
        let error = match send_once(&client, &target, body.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if started.elapsed() + delay > s.max_retry_time {
            return Err(error);
        }
        tracing::debug!(endpoint = %target.endpoint(), %error, ?delay, "http-log batch retried");
        metrics::counter!(names::LOG_DELIVERY_RETRIES, "sink" => "http-log").increment(1);
        actix_rt::time::sleep(delay).await;
        delay = delay.saturating_mul(2).min(s.max_retry_delay);
    }
}

async fn send_once(client: &awc::Client, t: &HttpLogTarget, body: Bytes) -> Result<(), String> {
    let mut req = client
        .request(t.method.clone(), t.url.as_str())
        .timeout(t.timeout)
        .insert_header((CONTENT_TYPE, t.content_type.clone()));
    for (name, value) in &t.headers {
        req = req.insert_header((name.clone(), value.clone()));
    }
    let mut answer = req.send_body(body).await.map_err(|e| e.to_string())?;
    // Read (a bounded part of) the answer so the connection goes back to the pool.
    let _ = actix_rt::time::timeout(t.timeout, answer.body().limit(MAX_ANSWER_BYTES)).await;
    match answer.status() {
        status if status.is_success() => Ok(()),
        status => Err(format!("HTTP {}", status.as_u16())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(yaml: serde_json::Value) -> HttpLogTarget {
        let config: HttpLogConfig = crate::plugins::schema::typed(&yaml).unwrap();
        HttpLogTarget::new(&config).unwrap()
    }

    fn line(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn entries_and_bytes_bound_waiting_and_in_flight_records_together() {
        let t = target(serde_json::json!({"http_endpoint": "http://c/logs",
            "queue": {"max_entries": 2, "max_bytes": 10, "max_batch_size": 5}}));
        let (s, now, mut q) = (&t.queue, Instant::now(), Queue::default());
        assert!(q.offer(s, line("abcd"), now));
        let batch = q.take_batch(s);
        assert!(q.offer(s, line("efgh"), now));
        assert!(
            !q.offer(s, line("i"), now),
            "max_entries counts the batch in flight"
        );
        q.finish(batch.lines.len(), batch.bytes);
        assert!(!q.offer(s, line("ijklmnop"), now), "max_bytes");
        assert!(q.offer(s, line("ij"), now));
        assert_eq!(q.held(), 2);
    }

    #[test]
    fn a_batch_leaves_when_full_or_due_one_at_a_time() {
        let t = target(serde_json::json!({"http_endpoint": "http://c/logs",
            "queue": {"max_batch_size": 2, "max_coalescing_delay": 1}}));
        let (s, now, mut q) = (&t.queue, Instant::now(), Queue::default());
        q.offer(s, line("a"), now);
        assert!(!q.ready(s, now, false));
        assert!(q.ready(s, now, true), "a flush sends partial batches");
        assert!(q.ready(s, now + Duration::from_secs(1), false));
        assert_eq!(q.due(s), Some(now + Duration::from_secs(1)));
        q.offer(s, line("b"), now);
        assert!(q.ready(s, now, false));
        assert_eq!(q.take_batch(s).lines.len(), 2);
        q.offer(s, line("c"), now);
        q.offer(s, line("d"), now);
        assert!(!q.ready(s, now, false), "concurrency_limit 1");
        assert_eq!(q.due(s), None);
    }

    #[test]
    fn legacy_fields_apply_when_the_queue_is_left_at_its_defaults() {
        let t = target(serde_json::json!({"http_endpoint": "http://u:p@c:9/logs",
            "queue_size": 7, "flush_timeout": 0.5, "queue": {"concurrency_limit": -1}}));
        assert_eq!(t.queue.max_batch_size, 7);
        assert_eq!(t.queue.max_coalescing_delay, Duration::from_millis(500));
        assert_eq!(t.queue.concurrency, usize::MAX);
        assert_eq!(t.endpoint(), "http://c:9/logs");
        let bad = HttpLogConfig {
            headers: [("bad name".to_string(), "x".to_string())].into(),
            ..crate::plugins::schema::typed(&serde_json::json!({"http_endpoint": "http://c"}))
                .unwrap()
        };
        let err = HttpLogTarget::new(&bad).unwrap_err();
        assert_eq!(err.path, "config.headers.bad name");
    }
}
