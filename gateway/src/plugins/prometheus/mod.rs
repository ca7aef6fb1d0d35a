//! prometheus (priority 13): per-route HTTP metrics, labelled by configuration identities only.
//! Exposed at `/metrics` on the admin and status listeners.

pub mod schema;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::ai_mcp_proxy::McpStats;
use super::context::Ctx;
use super::Plugin;
use crate::config::ConfigError;
use crate::telemetry::names;

#[derive(Debug, Deserialize)]
struct Settings {
    #[serde(default)]
    status_code_metrics: bool,
    #[serde(default)]
    latency_metrics: bool,
    #[serde(default)]
    ai_metrics: bool,
}

pub struct Prometheus {
    settings: Settings,
}

impl Prometheus {
    pub fn new(config: &Value) -> Result<Self, ConfigError> {
        Ok(Prometheus {
            settings: super::settings(config)?,
        })
    }
}

impl Plugin for Prometheus {
    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn priority(&self) -> i32 {
        13
    }

    fn log(&self, ctx: &mut Ctx, record: &mut Map<String, Value>) {
        let service = ctx
            .service
            .as_ref()
            .map(|s| s.label().to_string())
            .unwrap_or_default();
        let route = ctx.route.label();
        if self.settings.status_code_metrics {
            metrics::counter!(names::HTTP_REQUESTS,
                "service" => service.clone(), "route" => route.clone(),
                "code" => ctx.status.to_string(), "source" => source(record), "workspace" => "default")
            .increment(1);
        }
        if self.settings.latency_metrics {
            let latency = |k: &str| {
                record
                    .get("latencies")
                    .and_then(|l| l.get(k))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
            };
            let labels = [
                ("service", service.clone()),
                ("route", route.clone()),
                ("workspace", "default".to_string()),
            ];
            metrics::histogram!(names::REQUEST_LATENCY, &labels).record(latency("request"));
            metrics::histogram!(names::UPSTREAM_LATENCY, &labels).record(latency("proxy"));
            metrics::histogram!(names::KONG_LATENCY, &labels).record(latency("kong"));
        }
        if self.settings.ai_metrics {
            if let Some(stats) = ctx.extensions.get::<McpStats>() {
                ai_metrics(stats, &service, &route);
            }
        }
    }
}

/// `kong_ai_mcp_*` from the facts the MCP plugin left in the context.
fn ai_metrics(stats: &McpStats, service: &str, route: &str) {
    for call in &stats.calls {
        let labels = [
            ("service", service.to_string()),
            ("route", route.to_string()),
            ("method", call.method.clone()),
            ("workspace", "default".to_string()),
            ("tool_name", call.tool_name.clone()),
        ];
        if let Some(latency) = call.latency_ms {
            metrics::histogram!(names::AI_MCP_LATENCY, &labels).record(latency);
        }
        if let Some(size) = call.size {
            metrics::histogram!(names::AI_MCP_RESPONSE_SIZE, &labels).record(size);
        }
        if let Some(kind) = call.error_type {
            let mut with_type = labels.to_vec();
            with_type.push(("type", kind.to_string()));
            metrics::counter!(names::AI_MCP_ERRORS, &with_type).increment(1);
        }
        let mut with_outcome = labels.to_vec();
        with_outcome.push(("outcome", call.outcome.as_str().to_string()));
        metrics::counter!(names::AI_MCP_CALLS, &with_outcome).increment(1);
        if let Some(first) = call.first_event_ms {
            metrics::histogram!(names::AI_MCP_FIRST_EVENT, &labels).record(first);
        }
    }
    for (tool, method, action) in &stats.acl {
        let labels = [
            ("service", service.to_string()),
            ("route", route.to_string()),
            ("method", method.to_string()),
            ("workspace", "default".to_string()),
            ("tool_name", tool.clone()),
            ("primitive", "tool".to_string()),
            ("action", action.to_string()),
        ];
        metrics::counter!(names::AI_MCP_ACL, &labels).increment(1);
    }
    if let Some(events) = stats.events {
        let labels = [
            ("service", service.to_string()),
            ("route", route.to_string()),
        ];
        metrics::histogram!(names::AI_MCP_EVENTS, &labels).record(events as f64);
    }
}

fn source(record: &Map<String, Value>) -> String {
    record
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or("kong")
        .to_string()
}
