//! Metric handles by label set, one cache per worker thread: no lock and no allocation once a
//! label set was seen, and nothing shared between threads. A handle is registered the first time
//! its label set records something, exactly when the `metrics` macros would have registered it,
//! so `/metrics` shows the same series. Keys carry the plugin instance's serial: a reloaded
//! configuration may give a route id other labels. The cache is emptied when it grows past
//! [`MAX_ENTRIES`] (client-chosen labels such as MCP method names cannot grow it without bound).

use foldhash::{HashMap, HashMapExt as _};
use std::cell::RefCell;

use metrics::{Counter, Histogram};
use uuid::Uuid;

use crate::plugins::context::Ctx;
use crate::telemetry::names;

const MAX_ENTRIES: usize = 4096;

thread_local! {
    static HANDLES: RefCell<Handles> = RefCell::new(Handles::default());
}

/// A route of one plugin instance (service included: a route may have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteKey {
    pub serial: u64,
    pub route: Uuid,
    pub service: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HttpKey {
    pub route: RouteKey,
    pub code: u16,
    /// `source` is `upstream` (else `kong`).
    pub upstream: bool,
}

pub struct Latencies {
    pub request: Histogram,
    pub upstream: Histogram,
    pub kong: Histogram,
}

/// The series of one (route, MCP method, tool name), each registered on first use.
pub struct McpCall {
    labels: Vec<(&'static str, String)>,
    latency: Option<Histogram>,
    size: Option<Histogram>,
    first_event: Option<Histogram>,
    errors: HashMap<&'static str, Counter>,
    outcomes: HashMap<&'static str, Counter>,
}

/// `kong_ai_mcp_acl_total` of one tool by (method, action).
type AclCounters = HashMap<(&'static str, &'static str), Counter>;

#[derive(Default)]
pub struct Handles {
    entries: usize,
    requests: HashMap<HttpKey, Counter>,
    latencies: HashMap<RouteKey, Latencies>,
    mcp: HashMap<RouteKey, HashMap<String, HashMap<String, McpCall>>>,
    acl: HashMap<RouteKey, HashMap<String, AclCounters>>,
    events: HashMap<RouteKey, Histogram>,
}

/// `service` and `route` label values of a request.
fn route_labels(ctx: &Ctx) -> (String, String) {
    let service = ctx
        .service
        .as_ref()
        .map(|s| s.label().to_string())
        .unwrap_or_default();
    (service, ctx.route.label())
}

impl Handles {
    /// Runs `f` with this thread's cache.
    pub fn with<R>(f: impl FnOnce(&mut Handles) -> R) -> R {
        HANDLES.with(|cell| {
            let mut handles = cell.borrow_mut();
            if handles.entries > MAX_ENTRIES {
                *handles = Handles::default();
            }
            f(&mut handles)
        })
    }

    /// `kong_http_requests_total`.
    pub fn requests(&mut self, key: HttpKey, ctx: &Ctx) -> &Counter {
        let entries = &mut self.entries;
        self.requests.entry(key).or_insert_with(|| {
            *entries += 1;
            let (service, route) = route_labels(ctx);
            let source = if key.upstream { "upstream" } else { "kong" };
            metrics::counter!(names::HTTP_REQUESTS,
                "service" => service, "route" => route, "code" => key.code.to_string(),
                "source" => source, "workspace" => "default")
        })
    }

    /// `kong_request_latency_ms`, `kong_upstream_latency_ms`, `kong_kong_latency_ms`.
    pub fn latencies(&mut self, key: RouteKey, ctx: &Ctx) -> &Latencies {
        let entries = &mut self.entries;
        self.latencies.entry(key).or_insert_with(|| {
            *entries += 1;
            let (service, route) = route_labels(ctx);
            let labels = [
                ("service", service),
                ("route", route),
                ("workspace", "default".to_string()),
            ];
            Latencies {
                request: metrics::histogram!(names::REQUEST_LATENCY, &labels),
                upstream: metrics::histogram!(names::UPSTREAM_LATENCY, &labels),
                kong: metrics::histogram!(names::KONG_LATENCY, &labels),
            }
        })
    }

    /// The series of one MCP call's labels.
    pub fn mcp_call(&mut self, key: RouteKey, ctx: &Ctx, method: &str, tool: &str) -> &mut McpCall {
        let by_method = self.mcp.entry(key).or_default();
        if !by_method.contains_key(method) {
            by_method.insert(method.to_string(), HashMap::new());
        }
        let by_tool = by_method.get_mut(method).expect("inserted above");
        if !by_tool.contains_key(tool) {
            self.entries += 1;
            let (service, route) = route_labels(ctx);
            let labels = vec![
                ("service", service),
                ("route", route),
                ("method", method.to_string()),
                ("workspace", "default".to_string()),
                ("tool_name", tool.to_string()),
            ];
            by_tool.insert(tool.to_string(), McpCall::new(labels));
        }
        by_tool.get_mut(tool).expect("inserted above")
    }

    /// `kong_ai_mcp_acl_total`.
    pub fn acl(
        &mut self,
        key: RouteKey,
        ctx: &Ctx,
        tool: &str,
        method: &'static str,
        action: &'static str,
    ) -> &Counter {
        let by_tool = self.acl.entry(key).or_default();
        if !by_tool.contains_key(tool) {
            by_tool.insert(tool.to_string(), HashMap::new());
        }
        let entries = &mut self.entries;
        by_tool
            .get_mut(tool)
            .expect("inserted above")
            .entry((method, action))
            .or_insert_with(|| {
                *entries += 1;
                let (service, route) = route_labels(ctx);
                let labels = [
                    ("service", service),
                    ("route", route),
                    ("method", method.to_string()),
                    ("workspace", "default".to_string()),
                    ("tool_name", tool.to_string()),
                    ("primitive", "tool".to_string()),
                    ("action", action.to_string()),
                ];
                metrics::counter!(names::AI_MCP_ACL, &labels)
            })
    }

    /// `kong_ai_mcp_sse_events`.
    pub fn events(&mut self, key: RouteKey, ctx: &Ctx) -> &Histogram {
        let entries = &mut self.entries;
        self.events.entry(key).or_insert_with(|| {
            *entries += 1;
            let (service, route) = route_labels(ctx);
            let labels = [("service", service), ("route", route)];
            metrics::histogram!(names::AI_MCP_EVENTS, &labels)
        })
    }
}

impl McpCall {
    fn new(labels: Vec<(&'static str, String)>) -> Self {
        McpCall {
            labels,
            latency: None,
            size: None,
            first_event: None,
            errors: HashMap::new(),
            outcomes: HashMap::new(),
        }
    }

    pub fn latency(&mut self) -> &Histogram {
        let labels = &self.labels;
        self.latency
            .get_or_insert_with(|| metrics::histogram!(names::AI_MCP_LATENCY, labels))
    }

    pub fn size(&mut self) -> &Histogram {
        let labels = &self.labels;
        self.size
            .get_or_insert_with(|| metrics::histogram!(names::AI_MCP_RESPONSE_SIZE, labels))
    }

    pub fn first_event(&mut self) -> &Histogram {
        let labels = &self.labels;
        self.first_event
            .get_or_insert_with(|| metrics::histogram!(names::AI_MCP_FIRST_EVENT, labels))
    }

    /// `kong_ai_mcp_error_total{type}`.
    pub fn error(&mut self, kind: &'static str) -> &Counter {
        let labels = &self.labels;
        self.errors
            .entry(kind)
            .or_insert_with(|| metrics::counter!(names::AI_MCP_ERRORS, &with(labels, "type", kind)))
    }

    /// `kong_ai_mcp_calls_total{outcome}`.
    pub fn outcome(&mut self, outcome: &'static str) -> &Counter {
        let labels = &self.labels;
        self.outcomes.entry(outcome).or_insert_with(|| {
            metrics::counter!(names::AI_MCP_CALLS, &with(labels, "outcome", outcome))
        })
    }
}

fn with(
    labels: &[(&'static str, String)],
    key: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    let mut all = labels.to_vec();
    all.push((key, value.to_string()));
    all
}
