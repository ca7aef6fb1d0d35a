//! The plugins this gateway knows, and the one entry point that checks a plugin's `config`
//! against its schema and fills every default (what the Admin API echoes back).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::config::de;
use crate::config::ConfigError;

use super::{ai_mcp_proxy, file_log, http_log, key_auth, prometheus};

/// Every plugin name a configuration may use.
pub const KNOWN_PLUGINS: &[&str] = &[
    ai_mcp_proxy::schema::NAME,
    file_log::schema::NAME,
    http_log::schema::NAME,
    key_auth::schema::NAME,
    prometheus::schema::NAME,
];

/// A plugin's typed configuration: deserialized with Kong's defaults, then checked for what
/// serde cannot express (URL shapes, non-empty lists, unique names).
pub trait PluginSchema: DeserializeOwned + Serialize {
    /// Checks beyond the types; error paths are relative to `config`.
    fn check(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// Checks `config` (`null` = `{}`) against the schema of plugin `name` and returns it with every
/// default filled in. Error paths are relative to `config` (`max_request_body_size`; empty for
/// the config itself); the caller prefixes its own path.
pub fn normalize(name: &str, config: &Value) -> Result<Value, ConfigError> {
    match name {
        ai_mcp_proxy::schema::NAME => {
            normalize_as::<ai_mcp_proxy::schema::AiMcpProxyConfig>(config)
        }
        file_log::schema::NAME => normalize_as::<file_log::schema::FileLogConfig>(config),
        http_log::schema::NAME => normalize_as::<http_log::schema::HttpLogConfig>(config),
        key_auth::schema::NAME => normalize_as::<key_auth::schema::KeyAuthConfig>(config),
        prometheus::schema::NAME => normalize_as::<prometheus::schema::PrometheusConfig>(config),
        other => Err(ConfigError::new("", format!("unknown plugin {other:?}"))),
    }
}

/// Deserializes a normalized config into its typed form (for the plugins' runtime code).
pub fn typed<T: PluginSchema>(config: &Value) -> Result<T, ConfigError> {
    de::from_value(de::from_json(config)?, "")
}

/// `null` is an empty config (every default); the YAML form is the one deserialized (see
/// `config::de::parse_document` for why).
fn normalize_as<T: PluginSchema>(config: &Value) -> Result<Value, ConfigError> {
    let mut config = de::from_json(config)?;
    de::strip_nulls(&mut config);
    let typed: T = de::from_value(config, "")?;
    typed.check()?;
    serde_json::to_value(&typed).map_err(|e| ConfigError::new("", e.to_string()))
}

/// Checks that a string list has no empty entries (Kong's `len_min = 1` on array elements).
pub(crate) fn non_empty_entries(path: &str, items: &[String]) -> Result<(), ConfigError> {
    match items.iter().position(|s| s.is_empty()) {
        Some(i) => Err(ConfigError::new(
            format!("{path}[{i}]"),
            "length must be at least 1",
        )),
        None => Ok(()),
    }
}
