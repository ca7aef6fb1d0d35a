//! http-log (priority 12): sends each request's log record to `http_endpoint`, batched and
//! retried as Kong does (`queue.*`). The request only serializes the record and hands it to the
//! telemetry actor, which never makes it wait; queueing, delivery, retries and the counting of
//! what is dropped live in `telemetry::http_log` and `actors::telemetry`.

pub mod schema;

use std::sync::Arc;

use serde_json::Value;

use self::schema::HttpLogConfig;
use super::context::Ctx;
use super::Plugin;
use crate::config::ConfigError;
use crate::telemetry::http_log::HttpLogTarget;
use crate::telemetry::record::Record;
use crate::telemetry::sink::{LogSender, Target};

pub struct HttpLog {
    target: Target,
    logs: LogSender,
}

impl HttpLog {
    pub fn new(config: &Value, logs: LogSender) -> Result<Self, ConfigError> {
        let config: HttpLogConfig = super::schema::typed(config)?;
        let target = HttpLogTarget::new(&config)?;
        if config
            .http_endpoint
            .to_ascii_lowercase()
            .starts_with("https://")
        {
            // The client is built without TLS (as for upstreams): say so once, not per batch.
            tracing::warn!(endpoint = %target.endpoint(),
                "http-log: https endpoints are not supported by this build; records will be dropped");
        }
        Ok(HttpLog {
            target: Target::Http(Arc::new(target)),
            logs,
        })
    }
}

impl Plugin for HttpLog {
    fn name(&self) -> &'static str {
        "http-log"
    }

    fn priority(&self) -> i32 {
        12
    }

    fn log(&self, _ctx: &mut Ctx, record: &mut Record) {
        self.logs.send(&self.target, record.line());
    }
}
