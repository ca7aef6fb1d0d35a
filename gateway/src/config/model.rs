//! The validated runtime model: what a configuration means once every reference is resolved.
//!
//! Nothing outside `config::validate` constructs these from user input; the proxy, the plugins
//! and (later) the Admin API only read them. Every entity has an id: the file's when given, else
//! a UUID v5 derived from the entity kind and its natural key, so ids stay stable across reloads.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

/// A whole validated configuration. Entities are shared (`Arc`) so compiled structures (router,
/// plugin chains) can point at them without copying.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Config {
    pub services: Vec<Arc<Service>>,
    pub routes: Vec<Arc<Route>>,
    pub plugins: Vec<Arc<Plugin>>,
    pub consumers: Vec<Arc<Consumer>>,
    pub consumer_groups: Vec<Arc<ConsumerGroup>>,
    pub keyauth_credentials: Vec<Arc<KeyAuthCredential>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Https,
    Grpc,
    Grpcs,
    Tcp,
    Tls,
    Udp,
    Ws,
    Wss,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Grpc => "grpc",
            Protocol::Grpcs => "grpcs",
            Protocol::Tcp => "tcp",
            Protocol::Tls => "tls",
            Protocol::Udp => "udp",
            Protocol::Ws => "ws",
            Protocol::Wss => "wss",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Https | Protocol::Grpcs | Protocol::Tls | Protocol::Wss => 443,
            _ => 80,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: Uuid,
    pub name: Option<String>,
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub path: Option<String>,
    pub retries: u32,
    /// Milliseconds.
    pub connect_timeout: u64,
    pub read_timeout: u64,
    pub write_timeout: u64,
    pub enabled: bool,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Service {
    /// The label used in metrics and messages: the name, else the host (Kong's rule).
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.host)
    }

    /// A service named `name` with Kong's defaults, for unit tests.
    #[cfg(test)]
    pub fn for_tests(name: &str, host: &str, port: u16, path: Option<&str>) -> Service {
        Service {
            id: derived_id("service", name),
            name: Some(name.to_owned()),
            protocol: Protocol::Http,
            host: host.to_owned(),
            port,
            path: path.map(str::to_owned),
            retries: 5,
            connect_timeout: 60_000,
            read_timeout: 60_000,
            write_timeout: 60_000,
            enabled: true,
            tags: vec![],
            created_at: 0,
            updated_at: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum PathHandling {
    #[default]
    #[serde(rename = "v0")]
    V0,
    #[serde(rename = "v1")]
    V1,
}

#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub id: Uuid,
    pub name: Option<String>,
    /// The service this route sends to; `None` is allowed by Kong (the route answers 503).
    pub service: Option<Uuid>,
    pub paths: Vec<String>,
    /// Upper-case method names.
    pub methods: Vec<String>,
    /// Lower-case host names; a leading or trailing `*` is a wildcard.
    pub hosts: Vec<String>,
    /// Lower-case header name → accepted values.
    pub headers: BTreeMap<String, Vec<String>>,
    pub protocols: Vec<Protocol>,
    pub strip_path: bool,
    pub preserve_host: bool,
    pub path_handling: PathHandling,
    pub regex_priority: i64,
    pub request_buffering: bool,
    pub response_buffering: bool,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Route {
    /// The label used in metrics: the name, else the id (Kong's rule).
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.id.to_string())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plugin {
    pub id: Uuid,
    pub name: String,
    pub instance_name: Option<String>,
    /// The plugin's configuration with every default filled in, as the Admin API echoes it.
    pub config: serde_json::Value,
    pub service: Option<Uuid>,
    pub route: Option<Uuid>,
    pub consumer: Option<Uuid>,
    pub enabled: bool,
    pub protocols: Vec<Protocol>,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Consumer {
    pub id: Uuid,
    pub username: Option<String>,
    pub custom_id: Option<String>,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsumerGroup {
    pub id: Uuid,
    pub name: String,
    /// Ids of the member consumers.
    pub consumers: Vec<Uuid>,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyAuthCredential {
    pub id: Uuid,
    pub key: String,
    pub consumer: Uuid,
    pub tags: Vec<String>,
    pub created_at: i64,
}

/// Namespace for ids derived from natural keys (`uuid v5`), fixed so ids are stable forever.
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_2a9e_4c3d_4e8f_9a0b_1c2d_3e4f_5a6b);

/// A stable id for an entity that was given none: derived from its kind and natural key.
pub fn derived_id(kind: &str, key: &str) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, format!("{kind}:{key}").as_bytes())
}

impl Config {
    pub fn service(&self, id: Uuid) -> Option<&Arc<Service>> {
        self.services.iter().find(|s| s.id == id)
    }

    pub fn route(&self, id: Uuid) -> Option<&Arc<Route>> {
        self.routes.iter().find(|r| r.id == id)
    }

    pub fn consumer(&self, id: Uuid) -> Option<&Arc<Consumer>> {
        self.consumers.iter().find(|c| c.id == id)
    }

    /// The groups a consumer belongs to, in configuration order.
    pub fn groups_of(&self, consumer: Uuid) -> Vec<Arc<ConsumerGroup>> {
        self.consumer_groups
            .iter()
            .filter(|g| g.consumers.contains(&consumer))
            .cloned()
            .collect()
    }
}
