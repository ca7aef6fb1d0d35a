//! prometheus (priority 13): per-route HTTP metrics, labelled by configuration identities only.
//! Exposed at `/metrics` on the admin and status listeners.
//!
//! The log phase records into metric handles kept per worker thread (`handles`), so a request
//! builds no label strings and never looks up the shared registry once its label set was seen.

mod handles;
pub mod schema;

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde_json::Value;

use self::handles::{Handles, HttpKey, RouteKey};
use super::ai_mcp_proxy::McpStats;
use super::context::Ctx;
use super::Plugin;
use crate::config::ConfigError;
use crate::telemetry::record::Record;

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
    /// Tells this instance's cached handles from those of earlier configurations: labels come
    /// from the configuration this instance was built with.
    serial: u64,
}

static SERIALS: AtomicU64 = AtomicU64::new(1);

impl Prometheus {
    pub fn new(config: &Value) -> Result<Self, ConfigError> {
        Ok(Prometheus {
            settings: super::settings(config)?,
            serial: SERIALS.fetch_add(1, Ordering::Relaxed),
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

    fn log(&self, ctx: &mut Ctx, record: &mut Record) {
        let route = RouteKey {
            serial: self.serial,
            route: ctx.route.id,
            service: ctx.service.as_ref().map(|s| s.id),
        };
        Handles::with(|handles| {
            if self.settings.status_code_metrics {
                let key = HttpKey {
                    route,
                    code: ctx.status,
                    upstream: record.from_upstream(),
                };
                handles.requests(key, ctx).increment(1);
            }
            if self.settings.latency_metrics {
                let latencies = record.latencies();
                let h = handles.latencies(route, ctx);
                h.request.record(latencies.request as f64);
                h.upstream.record(latencies.proxy as f64);
                h.kong.record(latencies.kong as f64);
            }
            if self.settings.ai_metrics {
                if let Some(stats) = ctx.extensions.get::<McpStats>() {
                    ai_metrics(handles, route, ctx, stats);
                }
            }
        });
    }
}

/// `kong_ai_mcp_*` from the facts the MCP plugin left in the context.
fn ai_metrics(handles: &mut Handles, route: RouteKey, ctx: &Ctx, stats: &McpStats) {
    for call in &stats.calls {
        let h = handles.mcp_call(route, ctx, call.method, &call.tool_name);
        if let Some(latency) = call.latency_ms {
            h.latency().record(latency);
        }
        if let Some(size) = call.size {
            h.size().record(size);
        }
        if let Some(first) = call.first_event_ms {
            h.first_event().record(first);
        }
        if let Some(kind) = call.error_type {
            h.error(kind).increment(1);
        }
        h.outcome(call.outcome.as_str()).increment(1);
    }
    for (tool, method, action) in &stats.acl {
        handles.acl(route, ctx, tool, method, action).increment(1);
    }
    if let Some(events) = stats.events {
        handles.events(route, ctx).record(events as f64);
    }
}
