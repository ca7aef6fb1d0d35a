//! The command line of the `gateway` and `quickstart` binaries.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::settings::Settings;

/// An MCP-aware API gateway that reads Kong's configuration.
#[derive(Debug, Parser)]
#[command(name = "gateway", version)]
pub struct Args {
    /// Settings file (`kong.conf` style, or TOML/YAML/JSON); `KONG_*` variables override it.
    #[arg(short = 'c', long = "conf", value_name = "FILE")]
    pub conf: Option<PathBuf>,
    /// The declarative configuration to serve (overrides `declarative_config`).
    #[arg(long, value_name = "FILE")]
    pub declarative_config: Option<PathBuf>,
    /// Check a declarative configuration and exit: 0 when valid, 1 with the reason otherwise.
    #[arg(long, value_name = "FILE")]
    pub validate: Option<PathBuf>,
    /// Also serve the marketplace mock in-process at this address (for demos, never production).
    #[arg(long, value_name = "ADDR")]
    pub embedded_mock: Option<SocketAddr>,
}

/// `gateway`: serves exactly what its configuration says.
pub fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(file) = &args.validate {
        return validate(file);
    }
    let mut settings = match Settings::load(args.conf.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if let Some(file) = args.declarative_config {
        settings.declarative_config = Some(file);
    }
    serve(settings, args.embedded_mock, false)
}

/// `quickstart` (what `cargo run` starts): the gateway with `config/kong.yaml` and the
/// marketplace mock on 127.0.0.1:3000, as the documents' example expects.
pub fn quickstart() -> ExitCode {
    let mut settings = match Settings::load(None) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if settings.declarative_config.is_none() {
        settings.declarative_config = Some(quickstart_config(&settings));
    }
    let mock: SocketAddr = ([127, 0, 0, 1], 3000).into();
    serve(settings, Some(mock), true)
}

/// The repository's `config/kong.yaml` when run from a checkout, else the embedded copy
/// written under the prefix.
fn quickstart_config(settings: &Settings) -> PathBuf {
    let in_repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/kong.yaml");
    if in_repo.exists() {
        return in_repo;
    }
    let path = settings.prefix.join("kong.yaml");
    let _ = std::fs::create_dir_all(&settings.prefix);
    let _ = std::fs::write(&path, include_str!("../../config/kong.yaml"));
    path
}

fn validate(file: &std::path::Path) -> ExitCode {
    match crate::config::validate_file(file) {
        Ok(summary) => {
            println!("{}: valid ({summary})", file.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: invalid: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}

fn init_tracing(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // actix-server's start-up chatter is noise next to the gateway's own lines.
        let directive = format!("{},actix_server=warn", settings.tracing_filter());
        tracing_subscriber::EnvFilter::new(directive)
    });
    // Colour codes only for a terminal: in a log file they are noise, and formatting them costs
    // on every request span.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .try_init();
}

fn serve(settings: Settings, mock: Option<SocketAddr>, banner: bool) -> ExitCode {
    init_tracing(&settings);
    let system = actix_rt::System::new();
    let result: anyhow::Result<()> = system.block_on(async move {
        let _mock = match mock {
            Some(addr) => Some(crate::embedded_mock::start(addr).await?),
            None => None,
        };
        let gateway = crate::server::start(&settings).await?;
        if banner {
            print_banner(&gateway, mock);
        }
        shutdown_signal().await;
        tracing::info!(
            drain_ms = gateway.drain_timeout().as_millis() as u64,
            "shutting down: no new connections, draining in-flight requests"
        );
        tokio::select! {
            _ = gateway.stop() => {
                tracing::info!("shutdown complete");
                Ok(())
            }
            // Leaving the system ends the process: every connection closes at once.
            _ = shutdown_signal() => Err(anyhow::anyhow!(
                "second signal: stopped before the drain finished; in-flight requests were cut"
            )),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = fail(&format!("{e:#}"));
            // A start that failed half way (a port already taken) leaves actors whose teardown
            // needs the runtime being dropped; the process ends here, so skip the teardown.
            std::mem::forget(system);
            code
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn print_banner(gateway: &crate::Gateway, mock: Option<SocketAddr>) {
    let proxy = gateway
        .proxy_addrs
        .first()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let proxy = proxy.replace("0.0.0.0", "127.0.0.1");
    let admin = gateway
        .admin_addrs
        .first()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!("MCP gateway is running (Ctrl-C to stop)");
    if let Some(m) = mock {
        println!("  marketplace mock  http://{m}  (REST + MCP)");
    }
    println!("  proxy             http://{proxy}");
    println!("  admin             http://{admin}   (/status, /metrics)");
    println!();
    println!("Try:");
    println!("  curl http://{proxy}/marketplace/users");
    println!("  curl http://{proxy}/marketplace/a1b2c3d4/orders");
    println!(
        "  curl -X POST http://{proxy}/marketplace -H 'Content-Type: application/json' \\\n    -H 'Accept: application/json, text/event-stream' \\\n    -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{{}}}}'"
    );
}
