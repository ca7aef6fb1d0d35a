//! The `file-log` configuration schema (Kong's field names and defaults).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::plugins::schema::PluginSchema;

pub const NAME: &str = "file-log";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLogConfig {
    /// The file that receives one JSON log record per line.
    pub path: String,
    #[serde(default)]
    pub reopen: bool,
    /// Accepted for compatibility; Lua is not run, so these fields are not added.
    #[serde(default)]
    pub custom_fields_by_lua: BTreeMap<String, String>,
}

impl PluginSchema for FileLogConfig {
    fn check(&self) -> Result<(), ConfigError> {
        if self.path.is_empty() || self.path.contains(['*', '&', '%', '`']) {
            return Err(ConfigError::new(
                "path",
                "not a valid filename (it must be non-empty and contain none of * & % `)",
            ));
        }
        Ok(())
    }
}
