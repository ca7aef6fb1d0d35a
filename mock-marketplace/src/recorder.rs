//! The request recorder: every request the mock receives, as it arrived (method, path with
//! query, headers, raw body), so a gateway test can assert byte for byte what was forwarded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use actix_web::HttpRequest;
use bytes::Bytes;
use serde_json::Value;

/// One request as the mock received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path with its query string, exactly as received (`/mcp?x=1`).
    pub path: String,
    /// Header names lowercased, sorted by name; repeated headers keep their order.
    pub headers: Vec<(String, String)>,
    /// The raw body (empty when it was over the size limit and therefore not read).
    pub body: Bytes,
}

impl RecordedRequest {
    pub(crate) fn new(req: &HttpRequest, body: Bytes) -> Self {
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
        let mut headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_ascii_lowercase(), value)
            })
            .collect();
        // actix's header map has no stable order; a sorted list makes assertions repeatable.
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        Self {
            method: req.method().as_str().to_owned(),
            path,
            headers,
            body,
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

pub(crate) struct Recorder {
    requests: Mutex<Vec<RecordedRequest>>,
    /// Off for load tests: a recorder that keeps every request grows without bound.
    enabled: AtomicBool,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            requests: Mutex::default(),
            enabled: AtomicBool::new(true),
        }
    }
}

impl Recorder {
    // A panicking test thread must not poison the recorder for the others.
    fn lock(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    pub fn push(&self, request: RecordedRequest) {
        if !self.enabled() {
            return;
        }
        self.lock().push(request);
    }

    pub fn snapshot(&self) -> Vec<RecordedRequest> {
        self.lock().clone()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> RecordedRequest {
        RecordedRequest {
            method: "GET".into(),
            path: "/users".into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    #[test]
    fn a_disabled_recorder_keeps_nothing() {
        let recorder = Recorder::default();
        recorder.push(request());
        recorder.set_enabled(false);
        recorder.push(request());
        assert_eq!(recorder.snapshot().len(), 1);
        recorder.set_enabled(true);
        recorder.push(request());
        assert_eq!(recorder.snapshot().len(), 2);
    }
}
