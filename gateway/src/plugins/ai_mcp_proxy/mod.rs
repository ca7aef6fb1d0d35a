//! ai-mcp-proxy (priority 820). The configuration is validated in full; in this version the
//! plugin relays MCP traffic as a plain streaming proxy (the ordinary relay keeps bodies intact,
//! streams SSE and passes `Mcp-Session-Id`). JSON-RPC observation and ACLs are not built yet.

pub mod envelope;
pub mod schema;
pub mod sse;

use serde_json::Value;

use super::Plugin;
use crate::config::ConfigError;

pub struct AiMcpProxy;

impl AiMcpProxy {
    pub fn new(_config: &Value) -> Result<Self, ConfigError> {
        Ok(AiMcpProxy)
    }
}

impl Plugin for AiMcpProxy {
    fn name(&self) -> &'static str {
        "ai-mcp-proxy"
    }

    fn priority(&self) -> i32 {
        820
    }
}
