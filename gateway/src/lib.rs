//! An MCP-aware API gateway that reads Kong's configuration.
//!
//! `config` turns files into a validated model, `proxy` routes and relays requests, `plugins`
//! holds Kong's plugins (one folder each), `actors` own configuration state and telemetry,
//! `telemetry` holds metric names, log records and sinks, `server` starts the listeners and
//! `cli` is what the binaries call.

pub mod actors;
pub mod admin;
pub mod cli;
pub mod config;
pub mod embedded_mock;
pub mod error;
pub mod plugins;
pub mod proxy;
pub mod server;
pub mod settings;
pub mod telemetry;

pub use server::{spawn, start, Gateway, GatewayHandle};
pub use settings::Settings;
