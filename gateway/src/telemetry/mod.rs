//! Telemetry: metric names in one place, the Kong-shaped log record, the log sink handle and the
//! Prometheus recorder.

pub mod http_log;
pub mod json;
pub mod log_file;
pub mod metrics;
pub mod names;
pub mod record;
pub mod sink;
