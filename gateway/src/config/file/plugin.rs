//! Plugins as a decK file writes them: global, or scoped by a `service`, `route` or `consumer`
//! reference (or by being nested in one).

use serde::Deserialize;
use uuid::Uuid;

use super::{EntityRef, FileProtocol};

/// A plugin instance. `config` stays a JSON value here; its schema is the plugin's own
/// (`plugins::schema::normalize`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginFile {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub name: String,
    #[serde(default)]
    pub instance_name: Option<String>,
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    #[serde(default)]
    pub service: Option<EntityRef>,
    #[serde(default)]
    pub route: Option<EntityRef>,
    #[serde(default)]
    pub consumer: Option<EntityRef>,
    #[serde(default = "defaults::yes")]
    pub enabled: bool,
    #[serde(default = "defaults::plugin_protocols")]
    pub protocols: Vec<FileProtocol>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Accepted and ignored: plugins run in priority order (dynamic ordering is not supported).
    #[serde(default)]
    pub ordering: Option<serde_json::Value>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
}

mod defaults {
    use super::FileProtocol;

    pub fn yes() -> bool {
        true
    }
    pub fn plugin_protocols() -> Vec<FileProtocol> {
        vec![
            FileProtocol::Grpc,
            FileProtocol::Grpcs,
            FileProtocol::Http,
            FileProtocol::Https,
        ]
    }
}
