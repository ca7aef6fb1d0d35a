//! The `key-auth` configuration schema (Kong's field names and defaults).

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::plugins::schema::{non_empty_entries, PluginSchema};

pub const NAME: &str = "key-auth";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyAuthConfig {
    /// Header, query and body parameter names that may carry the key.
    #[serde(default = "default_key_names")]
    pub key_names: Vec<String>,
    #[serde(default)]
    pub hide_credentials: bool,
    /// Consumer (id or username) to use when authentication fails.
    #[serde(default)]
    pub anonymous: Option<String>,
    #[serde(default = "yes")]
    pub key_in_header: bool,
    #[serde(default = "yes")]
    pub key_in_query: bool,
    #[serde(default)]
    pub key_in_body: bool,
    #[serde(default = "yes")]
    pub run_on_preflight: bool,
    #[serde(default)]
    pub realm: Option<String>,
}

fn default_key_names() -> Vec<String> {
    vec!["apikey".to_string()]
}

fn yes() -> bool {
    true
}

impl PluginSchema for KeyAuthConfig {
    fn check(&self) -> Result<(), ConfigError> {
        if self.key_names.is_empty() {
            return Err(ConfigError::new("key_names", "length must be at least 1"));
        }
        non_empty_entries("key_names", &self.key_names)
    }
}
