//! An MCP-aware API gateway that reads Kong's configuration.
//!
//! `config` turns files into a validated model, `proxy` routes and relays requests, `plugins`
//! holds Kong's plugins (one folder each), `actors` own configuration state and telemetry, and
//! `telemetry` holds metric names, log records and sinks.

pub mod config;
pub mod plugins;
pub mod proxy;
