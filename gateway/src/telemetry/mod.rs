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

/// Locks `m` even if a thread panicked while holding it: what the telemetry's locks guard stays
/// whole (log lines are appended in one call, histogram counts are atomics), so it is used as
/// it is.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
