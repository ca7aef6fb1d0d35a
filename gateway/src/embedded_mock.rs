//! The marketplace mock served in-process, only when asked for (`--embedded-mock`, quickstart).

use std::net::SocketAddr;

pub use mock_marketplace::MockHandle;

/// Starts the mock at `addr` with the documents' default behaviour.
pub async fn start(addr: SocketAddr) -> anyhow::Result<MockHandle> {
    mock_marketplace::spawn_on(addr, mock_marketplace::Options::default())
        .await
        .map_err(|e| anyhow::anyhow!("starting the marketplace mock on {addr}: {e}"))
}
