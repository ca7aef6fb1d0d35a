//! Supervised actors: the config actor owns the configuration and publishes snapshots; the
//! telemetry actor writes log records off the request path.

pub mod config;
pub mod telemetry;
