//! Telemetry: metric names in one place, the Kong-shaped log record, the log sink handle, the
//! metrics recorder and its histograms.

pub mod histogram;
pub mod http_log;
pub mod json;
pub mod log_file;
pub mod metrics;
pub mod names;
pub mod record;
pub mod sink;
