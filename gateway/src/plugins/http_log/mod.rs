//! The `http-log` plugin.

pub mod schema;
