//! The decK file format (`_format_version: "3.0"`), as serde types: exactly what a user may write,
//! nothing resolved. Every struct denies unknown fields and names its defaults; `validate` turns
//! these into the runtime model. `null` anywhere means "not set" (see `de::strip_nulls`).

mod consumer;
mod plugin;
mod service;

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

pub use consumer::{ConsumerFile, ConsumerGroupFile, KeyAuthFile};
pub use plugin::PluginFile;
pub use service::{FileProtocol, RouteFile, ServiceFile};

use super::de as config_de;
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
    pub fn from_value(mut value: serde_norway::Value) -> Result<DeckFile, ConfigError> {
        config_de::strip_nulls(&mut value);
        config_de::from_value(value, "").map_err(|mut e| {
            if e.path.is_empty() {
                e.path = config_de::DOCUMENT.to_string();
            }
            e
        })
    }
}

/// A reference to another entity: its name (or username) or id as a string, or an object
/// `{id}`, `{name}` (`{username}` for consumers), as decK writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityRef {
    NameOrId(String),
    Object(RefObject),
}

impl<'de> Deserialize<'de> for EntityRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EntityRef, D::Error> {
        deserializer.deserialize_any(RefVisitor)
    }
}

/// A string or an object, nothing else (serde's untagged enums would take a list as an object).
struct RefVisitor;

impl<'de> Visitor<'de> for RefVisitor {
    type Value = EntityRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name or id, or an object with `id` or `name`")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<EntityRef, E> {
        Ok(EntityRef::NameOrId(text.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EntityRef, A::Error> {
        let object = RefObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(EntityRef::Object(object))
    }
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
