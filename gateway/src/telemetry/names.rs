//! Every metric name and label key the gateway emits. Label values come from configuration
//! identities (service, route), never from raw paths or ids.

/// Gauge: 1 while the last reload of the declarative file failed (the previous one serves).
pub const CONFIG_RELOAD_FAILED: &str = "kong_gateway_config_reload_failed";
/// Counter: reload attempts by `result` (`applied`, `rejected`).
pub const CONFIG_RELOADS: &str = "kong_gateway_config_reloads_total";
/// Gauge: version of the configuration being served.
pub const CONFIG_VERSION: &str = "kong_gateway_config_version";
/// Counter: log records not written, by `sink` and `reason` (`queue_full`, `sink_closed`,
/// `write_failed`, `delivery_failed`, `sink_restarted`).
pub const LOG_RECORDS_DROPPED: &str = "kong_gateway_log_records_dropped_total";
/// Counter: log records written (http-log: delivered with a 2xx answer), by `sink`.
pub const LOG_RECORDS_WRITTEN: &str = "kong_gateway_log_records_written_total";
/// Counter: batch deliveries retried after a failed attempt, by `sink`.
pub const LOG_DELIVERY_RETRIES: &str = "kong_gateway_log_delivery_retries_total";

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

/// Histogram: MCP call latency in ms by `service`, `route`, `method`, `workspace`, `tool_name`.
pub const AI_MCP_LATENCY: &str = "kong_ai_mcp_latency_ms";
/// Histogram: MCP response body size in bytes, same labels.
pub const AI_MCP_RESPONSE_SIZE: &str = "kong_ai_mcp_response_body_size_bytes";
/// Counter: MCP errors, same labels + `type` (the JSON-RPC error class or `Tool error`).
pub const AI_MCP_ERRORS: &str = "kong_ai_mcp_error_total";
/// Counter: MCP ACL decisions, same labels + `primitive`, `action`.
pub const AI_MCP_ACL: &str = "kong_ai_mcp_acl_total";
/// Counter: MCP calls, same labels + `outcome` (success, jsonrpc_error, tool_error,
/// http_error, transport_error, rejected).
pub const AI_MCP_CALLS: &str = "kong_ai_mcp_calls_total";
/// Histogram: time from the upstream request to its first SSE event, in ms.
pub const AI_MCP_FIRST_EVENT: &str = "kong_ai_mcp_time_to_first_event_ms";
/// Histogram: SSE events per MCP response stream.
pub const AI_MCP_EVENTS: &str = "kong_ai_mcp_sse_events";

/// The spec's buckets for `kong_ai_mcp_latency_ms`.
pub const AI_MCP_LATENCY_BUCKETS_MS: &[f64] = &[
    25.0, 50.0, 80.0, 100.0, 250.0, 400.0, 700.0, 1000.0, 2000.0, 5000.0, 10000.0, 30000.0, 60000.0,
];
/// Buckets for response sizes in bytes.
pub const SIZE_BUCKETS_BYTES: &[f64] = &[
    128.0, 512.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
];
/// Buckets of a histogram no list above names (Prometheus clients' default).
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets for events per stream.
pub const EVENT_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 500.0, 1000.0];
