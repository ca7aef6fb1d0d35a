//! The marketplace mock of `04-marketplace.md`: the documents' REST API (`api.js`) and their
//! five-tool MCP server (`marketplace-acl`) in one actix-web server, speaking both MCP protocol
//! eras. Tests start it with [`spawn`] on port 0 and read back what it received with
//! [`MockHandle::requests`]; the binary serves the same on a fixed port.

pub mod data;
mod mcp;
mod openapi;
mod recorder;
mod rest;
mod routes;
mod server;
mod state;

use std::time::Duration;

pub use mcp::SERVER_NAME;
pub use recorder::RecordedRequest;
pub use routes::MAX_BODY_BYTES;
pub use server::{app_config, spawn, spawn_on, MockHandle};
pub use state::MockState;

/// How a mock behaves. `Default` is the documents' servers: stateless, JSON responses, no
/// test-only behaviour.
#[derive(Debug, Clone)]
pub struct Options {
    /// Legacy sessions: `Mcp-Session-Id` on `initialize`, required afterwards, GET stream and
    /// DELETE. Without it GET and DELETE are 405.
    pub stateful: bool,
    /// Answer requests with `text/event-stream` instead of `application/json`.
    pub sse: bool,
    /// Hold every answer (MCP results and errors, REST responses) back this long.
    pub delay: Option<Duration>,
    /// With `sse`: this many `notifications/progress` events before each `tools/call` result.
    pub progress: u32,
    /// The pause after each progress event.
    pub progress_interval: Duration,
    /// Pad the `list_orders` result with an extra text block to about this many bytes.
    pub large_result: Option<usize>,
    /// How often the standalone GET stream sends a keep-alive comment.
    pub keep_alive: Duration,
    /// `tools/list` answers pages of this many tools, chained by `nextCursor`.
    pub tools_page_size: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            stateful: false,
            sse: false,
            delay: None,
            progress: 0,
            progress_interval: Duration::from_millis(100),
            large_result: None,
            keep_alive: Duration::from_secs(15),
            tools_page_size: None,
        }
    }
}
