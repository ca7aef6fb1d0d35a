//! The `ai-mcp-proxy` configuration schema: the table in `spec/02-ai-mcp-proxy.md`, with Kong's
//! field names and defaults. Every mode is accepted here; which modes this gateway can run is
//! decided by configuration validation, not by the schema.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::ConfigError;
use crate::plugins::schema::PluginSchema;

pub const NAME: &str = "ai-mcp-proxy";

/// The default `max_request_body_size`: 1 MiB.
pub const DEFAULT_MAX_REQUEST_BODY_SIZE: u64 = 1_048_576;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiMcpProxyConfig {
    pub mode: Mode,
    /// Bytes; `0` means unlimited.
    #[serde(default = "default_max_request_body_size")]
    pub max_request_body_size: u64,
    #[serde(default)]
    pub logging: Logging,
    #[serde(default)]
    pub server: Server,
    #[serde(default)]
    pub consumer_identifier: ConsumerIdentifier,
    /// Whether the consumer's group names count as ACL subjects.
    #[serde(default)]
    pub include_consumer_groups: bool,
    #[serde(default)]
    pub default_acl: Vec<DefaultAcl>,
    #[serde(default)]
    pub tools: Vec<Tool>,
}

fn default_max_request_body_size() -> u64 {
    DEFAULT_MAX_REQUEST_BODY_SIZE
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    PassthroughListener,
    ConversionListener,
    ConversionOnly,
    Listener,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::PassthroughListener => "passthrough-listener",
            Mode::ConversionListener => "conversion-listener",
            Mode::ConversionOnly => "conversion-only",
            Mode::Listener => "listener",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    #[serde(default)]
    pub log_statistics: bool,
    #[serde(default)]
    pub log_payloads: bool,
    #[serde(default)]
    pub log_audits: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    #[serde(default = "yes")]
    pub forward_client_headers: bool,
    #[serde(default)]
    pub tag: Option<String>,
    /// Milliseconds.
    #[serde(default = "default_server_timeout")]
    pub timeout: u64,
}

impl Default for Server {
    fn default() -> Server {
        Server {
            forward_client_headers: true,
            tag: None,
            timeout: default_server_timeout(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_server_timeout() -> u64 {
    10_000
}

/// Which consumer attribute ACL entries name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerIdentifier {
    #[default]
    Username,
    CustomId,
    ConsumerId,
}

/// An ACL: `deny` wins; when `allow` is set (even to `[]`), only its subjects are allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acl {
    /// `None` (null): no allow list, everyone not denied is allowed.
    #[serde(default)]
    pub allow: Option<Vec<String>>,
    #[serde(default)]
    pub deny: Vec<String>,
}

/// A baseline ACL for the primitives of one scope that have no ACL of their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultAcl {
    #[serde(default)]
    pub scope: AclScope,
    #[serde(default)]
    pub allow: Option<Vec<String>>,
    #[serde(default)]
    pub deny: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AclScope {
    #[default]
    Tools,
    Resources,
    Prompts,
}

impl AclScope {
    pub fn as_str(self) -> &'static str {
        match self {
            AclScope::Tools => "tools",
            AclScope::Resources => "resources",
            AclScope::Prompts => "prompts",
        }
    }
}

/// A tool. In passthrough mode `name` is the upstream's tool name and `acl` its ACL; the other
/// fields describe the HTTP call behind a tool in the conversion modes and are kept as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub description: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub acl: Option<Acl>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub scheme: Option<String>,
    #[serde(default)]
    pub headers: Option<Map<String, Value>>,
    #[serde(default)]
    pub query: Option<Map<String, Value>>,
    #[serde(default)]
    pub parameters: Option<Vec<Value>>,
    #[serde(default)]
    pub request_body: Option<Map<String, Value>>,
    #[serde(default)]
    pub responses: Option<Map<String, Value>>,
    #[serde(default)]
    pub annotations: Option<Annotations>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotations {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub read_only_hint: Option<bool>,
    #[serde(default)]
    pub destructive_hint: Option<bool>,
    #[serde(default)]
    pub idempotent_hint: Option<bool>,
    #[serde(default)]
    pub open_world_hint: Option<bool>,
}

impl PluginSchema for AiMcpProxyConfig {
    fn check(&self) -> Result<(), ConfigError> {
        unique_tool_names(&self.tools)?;
        unique_scopes(&self.default_acl)
    }
}

/// Two tools with one name would make the tool's ACL ambiguous.
fn unique_tool_names(tools: &[Tool]) -> Result<(), ConfigError> {
    let mut seen = BTreeSet::new();
    for (i, tool) in tools.iter().enumerate() {
        if let Some(name) = &tool.name {
            if !seen.insert(name.as_str()) {
                let path = format!("tools[{i}].name");
                return Err(ConfigError::new(
                    path,
                    format!("duplicate tool name {name:?}"),
                ));
            }
        }
    }
    Ok(())
}

/// One default ACL per scope.
fn unique_scopes(acls: &[DefaultAcl]) -> Result<(), ConfigError> {
    let mut seen = BTreeSet::new();
    for (i, acl) in acls.iter().enumerate() {
        if !seen.insert(acl.scope) {
            let path = format!("default_acl[{i}].scope");
            let scope = acl.scope.as_str();
            return Err(ConfigError::new(
                path,
                format!("duplicate default ACL for scope {scope:?}"),
            ));
        }
    }
    Ok(())
}
