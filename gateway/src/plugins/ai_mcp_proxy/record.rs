//! The `ai.mcp` section of the log record and the facts the prometheus plugin turns into
//! `kong_ai_mcp_*` metrics. Every call gets an outcome class so an operator can tell a failing
//! tool (`tool_error`) from a failing server (`jsonrpc_error`, `transport_error`, `http_error`).

use foldhash::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use crate::telemetry::json::{Elements, Members};
use uuid::Uuid;

use super::envelope;
use super::observe::{Call, Observation};

/// What a call came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    JsonRpcError,
    ToolError,
    HttpError,
    TransportError,
    /// Refused by the gateway before reaching the upstream.
    Rejected,
    /// Denied by the ACL before reaching the upstream.
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::JsonRpcError => "jsonrpc_error",
            Outcome::ToolError => "tool_error",
            Outcome::HttpError => "http_error",
            Outcome::TransportError => "transport_error",
            Outcome::Rejected => "rejected",
            Outcome::Denied => "denied",
        }
    }
}

/// One call as metrics see it (labels already bounded).
#[derive(Debug, Clone)]
pub struct CallStat {
    /// The method as a metric label: its canonical spelling when the gateway knows it, else
    /// [`OTHER`] (clients choose methods; every new one must not be a new series).
    pub method: &'static str,
    pub tool_name: String,
    pub latency_ms: Option<f64>,
    pub size: Option<f64>,
    pub error_type: Option<&'static str>,
    pub outcome: Outcome,
    pub first_event_ms: Option<f64>,
}

/// Handed to the prometheus plugin through the request context.
#[derive(Debug, Default, Clone)]
pub struct McpStats {
    pub calls: Vec<CallStat>,
    pub events: Option<u64>,
    /// ACL decisions: (tool label, method, `allow`/`deny`).
    pub acl: Vec<(String, &'static str, &'static str)>,
}

/// Where the request stood when the log phase ran.
pub struct Ending<'a> {
    pub sent: Option<Instant>,
    pub status: u16,
    pub failure: Option<&'static str>,
    pub route: Uuid,
    pub names: &'a ToolNames,
    pub statistics: bool,
}

fn outcome(call: &Call, end: &Ending<'_>) -> Outcome {
    match &call.answer {
        Some(a) if a.error.is_some() => Outcome::JsonRpcError,
        Some(a) if a.tool_error => Outcome::ToolError,
        Some(_) => Outcome::Success,
        None if end.failure == Some("transport_error") => Outcome::TransportError,
        None if !(200..300).contains(&end.status) => Outcome::HttpError,
        None if end.failure.is_some() => Outcome::TransportError,
        None => Outcome::Success,
    }
}

/// A request the plugin refused (too large, malformed, ambiguous, header mismatch).
pub struct Rejected {
    pub id: Option<envelope::RpcId>,
    pub code: i64,
    pub message: String,
    pub outcome: Outcome,
}

impl Rejected {
    /// One rpc entry with the refusal's error; `method` is unknown (the body was not trusted).
    pub fn build(&self, statistics: bool) -> (Members, McpStats) {
        let mut section = Members::default();
        if statistics {
            let mut entry = Members::default();
            if let Some(id) = &self.id {
                entry.str("id", &id.to_log_string());
            }
            entry.str("error", &self.message);
            entry.str("outcome", self.outcome.as_str());
            let mut rpc = Elements::default();
            rpc.object(&entry);
            rpc.put(&mut section, "rpc");
        }
        let stats = McpStats {
            calls: vec![CallStat {
                method: "",
                tool_name: String::new(),
                latency_ms: None,
                size: None,
                error_type: Some(envelope::error_class(self.code)),
                outcome: self.outcome,
                first_event_ms: None,
            }],
            events: None,
            acl: Vec::new(),
        };
        (section, stats)
    }
}

/// Builds the `ai.mcp` section and the metric facts.
pub fn build(obs: &Observation, end: &Ending<'_>) -> (Members, McpStats) {
    let mut section = Members::with_capacity(256);
    if let Some(session) = &obs.session_id {
        section.str("mcp_session_id", session);
    }
    let mut stats = McpStats::default();
    let events = obs.events();
    stats.events = events.map(|(n, _)| n);
    let first_event_ms = match (events, end.sent) {
        (Some((_, Some(first))), Some(sent)) => Some(ms(sent, first)),
        _ => None,
    };
    let mut rpc = Elements::default();
    for call in &obs.calls {
        let denied = call.id.as_ref().and_then(|id| {
            obs.denied
                .iter()
                .find(|(d, _)| d == id)
                .map(|(_, message)| message.as_str())
        });
        let outcome = match denied {
            Some(_) => Outcome::Denied,
            None => outcome(call, end),
        };
        let is_call = envelope::is_tools_call_like(&call.method);
        let latency = call
            .answer
            .as_ref()
            .zip(end.sent)
            .map(|(a, sent)| ms(sent, a.at));
        let mut entry = Members::with_capacity(192);
        entry.str("method", &call.method);
        if let Some(id) = &call.id {
            entry.str("id", &id.to_log_string());
        }
        if let Some(l) = latency {
            entry.int("latency", l.round() as u64);
        }
        if let Some(a) = &call.answer {
            entry.int("response_body_size", a.size);
        }
        if is_call {
            if let Some(name) = &call.tool_name {
                entry.str("tool_name", name);
            }
        }
        let error = denied.or_else(|| {
            call.answer
                .as_ref()
                .and_then(|a| a.error.as_ref())
                .map(|(_, m)| m.as_str())
        });
        if let Some(message) = error {
            entry.str("error", message);
        }
        entry.str("outcome", outcome.as_str());
        if let Some(f) = first_event_ms {
            entry.int("time_to_first_event", f.round() as u64);
        }
        if let Some((n, _)) = events {
            entry.int("events", n);
        }
        if obs.keep_payloads {
            let mut payload = Members::default();
            payload.str("request", &String::from_utf8_lossy(&call.request));
            if let Some(p) = call.answer.as_ref().and_then(|a| a.payload.as_ref()) {
                payload.str("response", p);
            }
            entry.object("payload", &payload);
        }
        rpc.object(&entry);
        let error_type = match &call.answer {
            _ if denied.is_some() => Some(envelope::error_class(envelope::INVALID_PARAMS)),
            Some(a) => match &a.error {
                Some((code, _)) => Some(envelope::error_class(*code)),
                None if a.tool_error => Some(envelope::TOOL_ERROR),
                None => None,
            },
            None => None,
        };
        let tool_name = match (is_call, &call.tool_name) {
            (true, Some(name)) => end.names.label(end.route, name),
            _ => String::new(),
        };
        stats.calls.push(CallStat {
            method: envelope::canonical_method(&call.method).unwrap_or(OTHER),
            tool_name,
            latency_ms: latency,
            size: call.answer.as_ref().map(|a| a.size as f64),
            error_type,
            outcome,
            first_event_ms,
        });
        if let Some(tools) = call.answer.as_ref().and_then(|a| a.tools.as_ref()) {
            end.names.learn(end.route, tools);
        }
    }
    if end.statistics {
        rpc.put(&mut section, "rpc");
    }
    (section, stats)
}

fn ms(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1000.0
}

/// Bounds the `tool_name` label: names from the upstream's last `tools/list` on a route pass,
/// and up to `UNLISTED_CAP` others; anything beyond becomes `_other`, so clients calling made-up
/// tool names cannot grow the label space without bound.
#[derive(Default)]
pub struct ToolNames {
    inner: Mutex<Names>,
}

#[derive(Default)]
struct Names {
    listed: HashMap<Uuid, HashSet<String>>,
    unlisted: HashSet<String>,
}

pub const UNLISTED_CAP: usize = 64;
pub const OTHER: &str = "_other";

impl ToolNames {
    pub fn label(&self, route: Uuid, name: &str) -> String {
        let Ok(mut names) = self.inner.lock() else {
            return OTHER.to_string();
        };
        if names.listed.get(&route).is_some_and(|s| s.contains(name))
            || names.unlisted.contains(name)
        {
            return name.to_string();
        }
        if names.unlisted.len() < UNLISTED_CAP {
            names.unlisted.insert(name.to_string());
            return name.to_string();
        }
        OTHER.to_string()
    }

    pub fn learn(&self, route: Uuid, tools: &[String]) {
        if let Ok(mut names) = self.inner.lock() {
            names.listed.insert(route, tools.iter().cloned().collect());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::ai_mcp_proxy::observe::{calls_from, Observation};
    use crate::plugins::ai_mcp_proxy::{access, envelope};
    use bytes::Bytes;

    fn observed(request: &str, response: &str, content_type: &str) -> Observation {
        let body = Bytes::from(request.to_string());
        let headers = actix_web::http::header::HeaderMap::new();
        let access::Parsed::Rpc { envelopes } = access::parse(&headers, &body).ok().unwrap() else {
            panic!("not JSON-RPC")
        };
        let mut obs = Observation::new(calls_from(envelopes), false);
        obs.start_response(200, Some(content_type));
        for piece in response.as_bytes().chunks(7) {
            obs.chunk(piece);
        }
        obs.finish();
        obs
    }

    fn json(section: Members) -> serde_json::Value {
        serde_json::from_str(section.into_object().as_str()).unwrap()
    }

    fn ending(names: &ToolNames) -> Ending<'_> {
        Ending {
            sent: Some(Instant::now() - std::time::Duration::from_millis(5)),
            status: 200,
            failure: None,
            route: Uuid::nil(),
            names,
            statistics: true,
        }
    }

    #[test]
    fn tool_errors_are_told_apart_from_server_errors() {
        let names = ToolNames::default();
        let call = r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_user"}}"#;
        let tool_error = r#"{"jsonrpc":"2.0","id":4,"result":{"content":[],"isError":true}}"#;
        let (section, stats) = build(
            &observed(call, tool_error, "application/json"),
            &ending(&names),
        );
        let section = json(section);
        assert_eq!(section["rpc"][0]["outcome"], "tool_error");
        assert!(
            section["rpc"][0].get("error").is_none(),
            "not a JSON-RPC error"
        );
        assert_eq!(stats.calls[0].error_type, Some(envelope::TOOL_ERROR));

        let server_error = r#"{"jsonrpc":"2.0","id":4,"error":{"code":-32000,"message":"down"}}"#;
        let sse = format!("event: message\ndata: {server_error}\n\n");
        let (section, stats) = build(&observed(call, &sse, "text/event-stream"), &ending(&names));
        let section = json(section);
        assert_eq!(section["rpc"][0]["outcome"], "jsonrpc_error");
        assert_eq!(section["rpc"][0]["error"], "down");
        assert_eq!(section["rpc"][0]["events"], 1);
        assert_eq!(stats.calls[0].error_type, Some("Server error"));
    }

    #[test]
    fn cut_streams_are_transport_errors() {
        let names = ToolNames::default();
        let call = r#"{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"a"}}"#;
        let obs = observed(call, ": keep-alive\n\n", "text/event-stream");
        let mut end = ending(&names);
        end.failure = Some("transport_error");
        let section = json(build(&obs, &end).0);
        assert_eq!(section["rpc"][0]["outcome"], "transport_error");
        assert!(section["rpc"][0].get("latency").is_none());
    }

    #[test]
    fn tool_name_labels_are_bounded() {
        let names = ToolNames::default();
        let route = Uuid::nil();
        names.learn(route, &["list_users".to_string()]);
        for i in 0..UNLISTED_CAP {
            assert_eq!(
                names.label(route, &format!("made-up-{i}")),
                format!("made-up-{i}")
            );
        }
        assert_eq!(names.label(route, "one-too-many"), OTHER);
        assert_eq!(
            names.label(route, "list_users"),
            "list_users",
            "listed names always pass"
        );
        assert_eq!(
            names.label(route, "made-up-3"),
            "made-up-3",
            "already seen names keep their label"
        );
    }
}
