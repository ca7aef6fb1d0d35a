//! The `key-auth` plugin.

pub mod schema;
