//! http-log (priority 12): accepted and validated; delivery to `http_endpoint` is not built yet,
//! so each record it would send is counted as dropped (reason `not_delivered`) — never silently.

pub mod schema;

use serde_json::{Map, Value};

use super::context::Ctx;
use super::Plugin;
use crate::config::ConfigError;
use crate::telemetry::names;

pub struct HttpLog;

impl HttpLog {
    pub fn new(_config: &Value) -> Result<Self, ConfigError> {
        tracing::warn!(
            "http-log is accepted but does not deliver records yet; they are counted as dropped"
        );
        Ok(HttpLog)
    }
}

impl Plugin for HttpLog {
    fn name(&self) -> &'static str {
        "http-log"
    }

    fn priority(&self) -> i32 {
        12
    }

    fn log(&self, _ctx: &mut Ctx, _record: &mut Map<String, Value>) {
        metrics::counter!(names::LOG_RECORDS_DROPPED, "sink" => "http-log", "reason" => "not_delivered")
            .increment(1);
    }
}
