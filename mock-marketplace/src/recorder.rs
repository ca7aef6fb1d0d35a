//! The request recorder: every request the mock receives, as it arrived (method, path with
//! query, headers, raw body), so a gateway test can assert byte for byte what was forwarded.

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

#[derive(Default)]
pub(crate) struct Recorder {
    requests: Mutex<Vec<RecordedRequest>>,
}

impl Recorder {
    // A panicking test thread must not poison the recorder for the others.
    fn lock(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn push(&self, request: RecordedRequest) {
        self.lock().push(request);
    }

    pub fn snapshot(&self) -> Vec<RecordedRequest> {
        self.lock().clone()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}
