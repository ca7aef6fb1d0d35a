//! The process-wide Prometheus recorder, installed once, rendered at `/metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::names;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The recorder's handle; the first call installs it as the global `metrics` recorder.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let buckets = [
            (
                Matcher::Full(names::AI_MCP_LATENCY.into()),
                names::AI_MCP_LATENCY_BUCKETS_MS,
            ),
            (
                Matcher::Full(names::AI_MCP_FIRST_EVENT.into()),
                names::AI_MCP_LATENCY_BUCKETS_MS,
            ),
            (
                Matcher::Full(names::AI_MCP_RESPONSE_SIZE.into()),
                names::SIZE_BUCKETS_BYTES,
            ),
            (
                Matcher::Full(names::AI_MCP_EVENTS.into()),
                names::EVENT_BUCKETS,
            ),
            (Matcher::Suffix("_ms".into()), names::LATENCY_BUCKETS_MS),
        ];
        let mut builder = PrometheusBuilder::new();
        for (matcher, values) in buckets {
            builder = builder
                .set_buckets_for_metric(matcher, values)
                .expect("bucket lists are not empty");
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics may be incomplete");
        }
        handle
    })
}

/// The `/metrics` body in Prometheus text format.
pub fn render() -> String {
    handle().render()
}
