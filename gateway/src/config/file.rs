//! The decK file format (`_format_version: "3.0"`), as serde types: exactly what a user may write,
//! nothing resolved. Every struct denies unknown fields and names its defaults; `validate` turns
//! these into the runtime model. `null` anywhere means "not set" (see `de::strip_nulls`).

mod consumer;
mod plugin;
mod service;

use serde::Deserialize;

pub use consumer::{ConsumerFile, ConsumerGroupFile, KeyAuthFile};
pub use plugin::PluginFile;
pub use service::{FileProtocol, RouteFile, ServiceFile};

use super::de;
use super::error::ConfigError;

/// The format versions this gateway reads (decK's `_format_version`).
pub const FORMAT_VERSIONS: &[&str] = &["1.1", "2.1", "3.0"];

/// A whole decK file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeckFile {
    #[serde(rename = "_format_version")]
    pub format_version: String,
    /// Accepted and ignored (decK's hashing of credentials).
    #[serde(rename = "_transform", default)]
    pub transform: Option<bool>,
    /// Accepted and ignored (decK's `select_tags`, `defaults`).
    #[serde(rename = "_info", default)]
    pub info: Option<serde_json::Value>,
    /// Accepted and ignored: there is one workspace.
    #[serde(rename = "_workspace", default)]
    pub workspace: Option<String>,
    #[serde(default)]
    pub services: Vec<ServiceFile>,
    #[serde(default)]
    pub routes: Vec<RouteFile>,
    #[serde(default)]
    pub plugins: Vec<PluginFile>,
    #[serde(default)]
    pub consumers: Vec<ConsumerFile>,
    #[serde(default)]
    pub consumer_groups: Vec<ConsumerGroupFile>,
    #[serde(default)]
    pub keyauth_credentials: Vec<KeyAuthFile>,
}

impl DeckFile {
    /// Reads a parsed document (YAML or JSON, already substituted) into the file types.
    pub fn from_value(mut value: serde_json::Value) -> Result<DeckFile, ConfigError> {
        de::strip_nulls(&mut value);
        de::from_value(value, "").map_err(|mut e| {
            if e.path.is_empty() {
                e.path = de::DOCUMENT.to_string();
            }
            e
        })
    }
}

/// A reference to another entity: its name (or username) or id as a string, or an object
/// `{id}`, `{name}` (`{username}` for consumers), as decK writes them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged, expecting = "a name or id, or an object with `id` or `name`")]
pub enum EntityRef {
    NameOrId(String),
    Object(RefObject),
}

/// The object form of [`EntityRef`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefObject {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}
