//! Services and routes as a decK file writes them.

use std::collections::BTreeMap;

use serde::Deserialize;
use uuid::Uuid;

use super::{EntityRef, PluginFile};
use crate::config::model::{PathHandling, Protocol};

/// A protocol name as written in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileProtocol {
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

impl From<FileProtocol> for Protocol {
    fn from(p: FileProtocol) -> Protocol {
        match p {
            FileProtocol::Http => Protocol::Http,
            FileProtocol::Https => Protocol::Https,
            FileProtocol::Grpc => Protocol::Grpc,
            FileProtocol::Grpcs => Protocol::Grpcs,
            FileProtocol::Tcp => Protocol::Tcp,
            FileProtocol::Tls => Protocol::Tls,
            FileProtocol::Udp => Protocol::Udp,
            FileProtocol::Ws => Protocol::Ws,
            FileProtocol::Wss => Protocol::Wss,
        }
    }
}

/// A service. `url` is a write-only shorthand for `protocol`/`host`/`port`/`path`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub protocol: Option<FileProtocol>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default = "defaults::retries")]
    pub retries: u32,
    #[serde(default = "defaults::timeout")]
    pub connect_timeout: u64,
    #[serde(default = "defaults::timeout")]
    pub read_timeout: u64,
    #[serde(default = "defaults::timeout")]
    pub write_timeout: u64,
    #[serde(default = "defaults::yes")]
    pub enabled: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub routes: Vec<RouteFile>,
    #[serde(default)]
    pub plugins: Vec<PluginFile>,
}

/// A route, nested in a service or top-level with a `service` reference.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub service: Option<EntityRef>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, Vec<String>>,
    #[serde(default = "defaults::route_protocols")]
    pub protocols: Vec<FileProtocol>,
    #[serde(default = "defaults::yes")]
    pub strip_path: bool,
    #[serde(default)]
    pub preserve_host: bool,
    #[serde(default)]
    pub path_handling: FilePathHandling,
    #[serde(default)]
    pub regex_priority: i64,
    #[serde(default = "defaults::yes")]
    pub request_buffering: bool,
    #[serde(default = "defaults::yes")]
    pub response_buffering: bool,
    /// Accepted and ignored (Kong answers 426 to plain HTTP on an https-only route).
    #[serde(default)]
    pub https_redirect_status_code: Option<u16>,
    /// Accepted and ignored: stream routing is not supported.
    #[serde(default)]
    pub snis: Option<serde_json::Value>,
    #[serde(default)]
    pub sources: Option<serde_json::Value>,
    #[serde(default)]
    pub destinations: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub plugins: Vec<PluginFile>,
}

/// `path_handling` as written in a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum FilePathHandling {
    #[default]
    #[serde(rename = "v0")]
    V0,
    #[serde(rename = "v1")]
    V1,
}

impl From<FilePathHandling> for PathHandling {
    fn from(p: FilePathHandling) -> PathHandling {
        match p {
            FilePathHandling::V0 => PathHandling::V0,
            FilePathHandling::V1 => PathHandling::V1,
        }
    }
}

/// Kong's defaults for services and routes.
pub(crate) mod defaults {
    use super::FileProtocol;

    pub fn retries() -> u32 {
        5
    }
    pub fn timeout() -> u64 {
        60_000
    }
    pub fn yes() -> bool {
        true
    }
    pub fn route_protocols() -> Vec<FileProtocol> {
        vec![FileProtocol::Http, FileProtocol::Https]
    }
}
