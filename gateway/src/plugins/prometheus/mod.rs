//! prometheus (priority 13): per-route HTTP metrics, labelled by configuration identities only.
//! Exposed at `/metrics` on the admin and status listeners.

pub mod schema;

use serde::Deserialize;
use serde_json::{Map, Value};

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
                ("service", service),
                ("route", route),
                ("workspace", "default".to_string()),
            ];
            metrics::histogram!(names::REQUEST_LATENCY, &labels).record(latency("request"));
            metrics::histogram!(names::UPSTREAM_LATENCY, &labels).record(latency("proxy"));
            metrics::histogram!(names::KONG_LATENCY, &labels).record(latency("kong"));
        }
    }
}

fn source(record: &Map<String, Value>) -> String {
    record
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or("kong")
        .to_string()
}
