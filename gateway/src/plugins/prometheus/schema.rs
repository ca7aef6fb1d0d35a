//! The `prometheus` configuration schema (Kong's field names and defaults).

use serde::{Deserialize, Serialize};

use crate::plugins::schema::PluginSchema;

pub const NAME: &str = "prometheus";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    #[serde(default)]
    pub per_consumer: bool,
    #[serde(default)]
    pub status_code_metrics: bool,
    #[serde(default)]
    pub latency_metrics: bool,
    #[serde(default)]
    pub bandwidth_metrics: bool,
    #[serde(default)]
    pub upstream_health_metrics: bool,
    /// The `kong_ai_*` metrics, including `kong_ai_mcp_*`.
    #[serde(default)]
    pub ai_metrics: bool,
    #[serde(default)]
    pub wasm_metrics: bool,
}

impl PluginSchema for PrometheusConfig {}
