//! The `file-log` plugin.

pub mod schema;
