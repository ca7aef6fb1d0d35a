//! The `http-log` configuration schema (Kong's field names and defaults), including Kong's
//! shared `queue` record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::plugins::schema::PluginSchema;

pub const NAME: &str = "http-log";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpLogConfig {
    /// Where log records are sent: an `http://` or `https://` URL.
    pub http_endpoint: String,
    #[serde(default)]
    pub method: HttpLogMethod,
    #[serde(default)]
    pub content_type: ContentType,
    /// Milliseconds.
    #[serde(default = "d::timeout")]
    pub timeout: u64,
    /// Milliseconds.
    #[serde(default = "d::keepalive")]
    pub keepalive: u64,
    /// Deprecated in Kong in favour of `queue`; accepted.
    #[serde(default = "d::retry_count")]
    pub retry_count: u64,
    /// Deprecated in Kong in favour of `queue.max_batch_size`; accepted.
    #[serde(default = "d::one")]
    pub queue_size: u64,
    /// Deprecated in Kong in favour of `queue.max_coalescing_delay`; accepted.
    #[serde(default = "d::flush_timeout")]
    pub flush_timeout: f64,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Accepted for compatibility; Lua is not run.
    #[serde(default)]
    pub custom_fields_by_lua: BTreeMap<String, String>,
    #[serde(default)]
    pub queue: Queue,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpLogMethod {
    #[default]
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "PATCH")]
    Patch,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContentType {
    #[default]
    #[serde(rename = "application/json")]
    Json,
    #[serde(rename = "application/json; charset=utf-8")]
    JsonUtf8,
}

/// Kong's batching queue parameters (seconds for the delays).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    #[serde(default = "d::one")]
    pub max_batch_size: u64,
    #[serde(default = "d::one_f")]
    pub max_coalescing_delay: f64,
    #[serde(default = "d::max_entries")]
    pub max_entries: u64,
    #[serde(default)]
    pub max_bytes: Option<u64>,
    #[serde(default = "d::sixty")]
    pub max_retry_time: f64,
    #[serde(default = "d::initial_retry_delay")]
    pub initial_retry_delay: f64,
    #[serde(default = "d::sixty")]
    pub max_retry_delay: f64,
    /// `1` (one batch in flight) or `-1` (no limit).
    #[serde(default = "d::concurrency_limit")]
    pub concurrency_limit: i64,
}

impl Default for Queue {
    fn default() -> Queue {
        Queue {
            max_batch_size: d::one(),
            max_coalescing_delay: d::one_f(),
            max_entries: d::max_entries(),
            max_bytes: None,
            max_retry_time: d::sixty(),
            initial_retry_delay: d::initial_retry_delay(),
            max_retry_delay: d::sixty(),
            concurrency_limit: d::concurrency_limit(),
        }
    }
}

/// Named defaults.
mod d {
    pub fn timeout() -> u64 {
        10_000
    }
    pub fn keepalive() -> u64 {
        60_000
    }
    pub fn retry_count() -> u64 {
        10
    }
    pub fn one() -> u64 {
        1
    }
    pub fn one_f() -> f64 {
        1.0
    }
    pub fn flush_timeout() -> f64 {
        2.0
    }
    pub fn max_entries() -> u64 {
        10_000
    }
    pub fn sixty() -> f64 {
        60.0
    }
    pub fn initial_retry_delay() -> f64 {
        0.01
    }
    pub fn concurrency_limit() -> i64 {
        1
    }
}

impl PluginSchema for HttpLogConfig {
    fn check(&self) -> Result<(), ConfigError> {
        if !is_http_url(&self.http_endpoint) {
            return Err(ConfigError::new(
                "http_endpoint",
                "expected an http:// or https:// URL",
            ));
        }
        self.queue.check()
    }
}

impl Queue {
    fn check(&self) -> Result<(), ConfigError> {
        if ![-1, 1].contains(&self.concurrency_limit) {
            return Err(ConfigError::new(
                "queue.concurrency_limit",
                "expected one of: -1, 1",
            ));
        }
        if self.max_batch_size == 0 || self.max_entries == 0 {
            let field = if self.max_batch_size == 0 {
                "max_batch_size"
            } else {
                "max_entries"
            };
            return Err(ConfigError::new(
                format!("queue.{field}"),
                "value should be between 1 and 1000000",
            ));
        }
        let delays = [
            ("max_coalescing_delay", self.max_coalescing_delay),
            ("max_retry_time", self.max_retry_time),
            ("initial_retry_delay", self.initial_retry_delay),
            ("max_retry_delay", self.max_retry_delay),
        ];
        match delays.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
            Some((field, _)) => Err(ConfigError::new(
                format!("queue.{field}"),
                "expected a non-negative number",
            )),
            None => Ok(()),
        }
    }
}

/// `http(s)://` followed by a host.
fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with(['/', '?', '#']))
}
