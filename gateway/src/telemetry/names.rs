//! Every metric name and label key the gateway emits. Label values come from configuration
//! identities (service, route), never from raw paths or ids.

/// Gauge: 1 while the last reload of the declarative file failed (the previous one serves).
pub const CONFIG_RELOAD_FAILED: &str = "kong_gateway_config_reload_failed";
/// Counter: reload attempts by `result` (`applied`, `rejected`).
pub const CONFIG_RELOADS: &str = "kong_gateway_config_reloads_total";
/// Gauge: version of the configuration being served.
pub const CONFIG_VERSION: &str = "kong_gateway_config_version";
/// Counter: log records not written, by `sink` and `reason` (`queue_full`, `write_failed`).
pub const LOG_RECORDS_DROPPED: &str = "kong_gateway_log_records_dropped_total";
/// Counter: log records written, by `sink`.
pub const LOG_RECORDS_WRITTEN: &str = "kong_gateway_log_records_written_total";

/// Counter: proxied requests by `service`, `route`, `code` (the prometheus plugin).
pub const HTTP_REQUESTS: &str = "kong_http_requests_total";
/// Histogram: whole request latency in ms by `service`, `route`.
pub const REQUEST_LATENCY: &str = "kong_request_latency_ms";
/// Histogram: upstream latency in ms by `service`, `route`.
pub const UPSTREAM_LATENCY: &str = "kong_upstream_latency_ms";
/// Histogram: gateway-added latency in ms by `service`, `route`.
pub const KONG_LATENCY: &str = "kong_kong_latency_ms";

/// Latency buckets in ms shared by the latency histograms.
pub const LATENCY_BUCKETS_MS: &[f64] = &[
    1.0, 2.0, 5.0, 7.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0,
    200.0, 300.0, 400.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 30000.0, 60000.0,
];
