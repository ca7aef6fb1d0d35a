//! The process-wide metrics recorder, installed once, rendered at `/metrics`: counters and
//! gauges in the Prometheus exporter, histograms in the gateway's own (`histogram`).

use std::sync::{Arc, OnceLock};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use super::histogram::Histograms;
use super::names;

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// What `/metrics` renders.
pub struct Metrics {
    prometheus: PrometheusHandle,
    histograms: Arc<Histograms>,
}

/// The recorder installed as the global one.
struct GatewayRecorder {
    prometheus: PrometheusRecorder,
    histograms: Arc<Histograms>,
}

/// The upper bounds of a histogram's buckets, by its name.
fn buckets(name: &str) -> &'static [f64] {
    match name {
        names::AI_MCP_LATENCY | names::AI_MCP_FIRST_EVENT => names::AI_MCP_LATENCY_BUCKETS_MS,
        names::AI_MCP_RESPONSE_SIZE => names::SIZE_BUCKETS_BYTES,
        names::AI_MCP_EVENTS => names::EVENT_BUCKETS,
        _ if name.ends_with("_ms") => names::LATENCY_BUCKETS_MS,
        _ => names::DEFAULT_BUCKETS,
    }
}

impl Recorder for GatewayRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.prometheus.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.prometheus.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.histograms.describe(key.as_str(), description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.prometheus.register_counter(key, metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.prometheus.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        self.histograms.register(key)
    }
}

/// The metrics; the first call installs the global recorder.
pub fn handle() -> &'static Metrics {
    METRICS.get_or_init(|| {
        let prometheus = PrometheusBuilder::new().build_recorder();
        let histograms = Arc::new(Histograms::new(buckets));
        let metrics = Metrics {
            prometheus: prometheus.handle(),
            histograms: histograms.clone(),
        };
        let recorder = GatewayRecorder {
            prometheus,
            histograms,
        };
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics may be incomplete");
        }
        metrics
    })
}

/// The `/metrics` body in Prometheus text format.
pub fn render() -> String {
    let metrics = handle();
    let mut out = metrics.prometheus.render();
    out.push_str(&metrics.histograms.render());
    out
}
