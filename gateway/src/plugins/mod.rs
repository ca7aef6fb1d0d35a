//! Kong's plugins: one folder each. `chain` holds the trait and the per-route chains, `context`
//! the per-request state, `schema` the configuration schemas; `instantiate` is the one place a
//! plugin name becomes running code.

pub mod ai_mcp_proxy;
pub mod chain;
pub mod context;
pub mod file_log;
pub mod http_log;
pub mod key_auth;
pub mod prometheus;
pub mod schema;

use std::sync::Arc;

pub use chain::{Access, BodyRewrite, Chain, Deps, Plugin, Rewrite};

use crate::config::model::{Config, Plugin as PluginEntity};
use crate::config::ConfigError;

/// Builds the running plugin for a validated plugin entity. The error path is relative to the
/// plugin (`config.path`).
pub fn instantiate(
    entity: &PluginEntity,
    model: &Config,
    deps: &Deps,
) -> Result<Arc<dyn Plugin>, ConfigError> {
    let config = &entity.config;
    let plugin: Arc<dyn Plugin> = match entity.name.as_str() {
        "key-auth" => Arc::new(key_auth::KeyAuth::new(config)?),
        "file-log" => Arc::new(file_log::FileLog::new(config, deps)?),
        "http-log" => Arc::new(http_log::HttpLog::new(config, deps.logs.clone())?),
        "prometheus" => Arc::new(prometheus::Prometheus::new(config)?),
        "ai-mcp-proxy" => Arc::new(ai_mcp_proxy::AiMcpProxy::new(
            config,
            model.consumers.iter().map(|c| c.id),
        )?),
        other => {
            return Err(ConfigError::new(
                "name",
                format!("unknown plugin \"{other}\""),
            ))
        }
    };
    Ok(plugin)
}

/// Reads a normalized plugin configuration into the plugin's runtime settings.
pub(crate) fn settings<T: serde::de::DeserializeOwned>(
    config: &serde_json::Value,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(config)
        .map_err(|e| ConfigError::new(format!("config.{}", e.path()), e.inner().to_string()))
}

/// Plugin names this build can run.
pub const AVAILABLE: &[&str] = &[
    "ai-mcp-proxy",
    "file-log",
    "http-log",
    "key-auth",
    "prometheus",
];
