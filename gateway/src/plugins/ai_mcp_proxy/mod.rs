//! The `ai-mcp-proxy` plugin.

pub mod schema;
