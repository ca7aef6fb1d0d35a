//! Kong's plugins: one folder each, with its configuration schema in `schema.rs`.

pub mod ai_mcp_proxy;
pub mod file_log;
pub mod http_log;
pub mod key_auth;
pub mod prometheus;
pub mod schema;
