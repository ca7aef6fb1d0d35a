//! `mock-marketplace`: serves the REST API and the MCP server of the documents on one port.
//! Parses the command line, starts the mock, prints its URL and waits for Ctrl-C.

use std::net::ToSocketAddrs;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use mock_marketplace::Options;

/// The marketplace REST API and five-tool MCP server (at /mcp and /).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Port to listen on.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Legacy MCP sessions (Mcp-Session-Id, GET stream, DELETE).
    #[arg(long)]
    stateful: bool,
    /// Answer MCP requests with text/event-stream.
    #[arg(long)]
    sse: bool,
    /// Delay every answer by this many milliseconds.
    #[arg(long, value_name = "N")]
    delay_ms: Option<u64>,
    /// With --sse: N progress notifications before each tools/call result.
    #[arg(long, value_name = "N", default_value_t = 0)]
    progress: u32,
    /// Milliseconds between progress notifications.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    progress_interval_ms: u64,
    /// Pad the list_orders result to about this many bytes.
    #[arg(long, value_name = "BYTES")]
    large_result: Option<usize>,
    /// Seconds between keep-alive comments on the GET stream.
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    keep_alive_secs: u64,
    /// Answer tools/list in pages of N tools, chained by nextCursor.
    #[arg(long, value_name = "N")]
    tools_page_size: Option<usize>,
}

impl Args {
    fn options(&self) -> Options {
        Options {
            stateful: self.stateful,
            sse: self.sse,
            delay: self.delay_ms.map(Duration::from_millis),
            progress: self.progress,
            progress_interval: Duration::from_millis(self.progress_interval_ms),
            large_result: self.large_result,
            keep_alive: Duration::from_secs(self.keep_alive_secs),
            tools_page_size: self.tools_page_size,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let addr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {}", args.host))?
        .next()
        .with_context(|| format!("no address for {}", args.host))?;
    let mock = mock_marketplace::spawn_on(addr, args.options())
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    println!("{}", mock.url());
    eprintln!(
        "REST at {0}/users, MCP at {0}/mcp; Ctrl-C stops",
        mock.url()
    );
    tokio::signal::ctrl_c().await?;
    mock.stop().await;
    Ok(())
}
