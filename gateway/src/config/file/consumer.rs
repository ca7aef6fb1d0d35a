//! Consumers, consumer groups and key-auth credentials as a decK file writes them.

use serde::Deserialize;
use uuid::Uuid;

use super::{EntityRef, PluginFile};

/// A consumer, with its credentials, group memberships and consumer-scoped plugins nested.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerFile {
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub custom_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub keyauth_credentials: Vec<KeyAuthFile>,
    /// The groups this consumer belongs to (`[{name: admin}]`).
    #[serde(default)]
    pub groups: Vec<EntityRef>,
    #[serde(default)]
    pub plugins: Vec<PluginFile>,
}

/// A consumer group; members may be listed here (`consumers: [{username}]`) or on the consumers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerGroupFile {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub name: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub consumers: Vec<EntityRef>,
    /// Consumer-group-scoped plugins: accepted by the format, rejected by validation when present.
    #[serde(default)]
    pub plugins: Vec<PluginFile>,
}

/// A key-auth credential: nested in a consumer, or top-level with a `consumer` reference.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyAuthFile {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub key: String,
    #[serde(default)]
    pub consumer: Option<EntityRef>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
}
