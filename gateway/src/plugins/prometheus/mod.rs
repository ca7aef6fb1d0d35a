//! The `prometheus` plugin.

pub mod schema;
