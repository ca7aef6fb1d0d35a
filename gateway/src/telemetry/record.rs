//! Kong's log serializer: one JSON object per proxied request, built at the log phase from the
//! request context. Plugins add their own sections (`ai.mcp`) before the log plugins emit it.

use actix_web::http::header::HeaderMap;
use serde_json::{json, Map, Value};

use crate::plugins::context::Ctx;

/// The workspace id every record carries (Kong's default workspace has a fixed id per node;
/// here it is a constant so records compare across restarts).
pub const WORKSPACE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Headers whose values never reach a log: credentials.
const REDACTED: &[&str] = &["authorization", "proxy-authorization", "apikey", "cookie"];

/// What the request looked like when it arrived, captured before plugins change it.
#[derive(Default)]
pub struct RequestFacts {
    pub method: String,
    pub uri: String,
    pub url: String,
    pub headers: Map<String, Value>,
    pub querystring: Map<String, Value>,
}

impl RequestFacts {
    pub fn capture(req: &actix_web::HttpRequest, listen_port: u16) -> Self {
        let uri = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_string();
        let host = req.connection_info().host().to_string();
        let url = if host.contains(':') {
            format!("http://{host}{uri}")
        } else {
            format!("http://{host}:{listen_port}{uri}")
        };
        RequestFacts {
            method: req.method().to_string(),
            uri,
            url,
            headers: headers_json(req.headers()),
            querystring: querystring_json(req.query_string()),
        }
    }
}

/// Headers as Kong logs them: lower-case names, repeated headers as arrays, secrets redacted.
pub fn headers_json(headers: &HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for name in headers.keys() {
        let key = name.as_str();
        let secret = REDACTED.contains(&key);
        let values: Vec<Value> = headers
            .get_all(name)
            .map(|v| {
                if secret {
                    Value::from("REDACTED")
                } else {
                    Value::from(String::from_utf8_lossy(v.as_bytes()).into_owned())
                }
            })
            .collect();
        let value = if values.len() == 1 {
            values.into_iter().next().unwrap_or_default()
        } else {
            Value::Array(values)
        };
        out.insert(key.to_string(), value);
    }
    out
}

fn querystring_json(query: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = match pair.split_once('=') {
            Some((k, v)) => (k, Value::from(v)),
            None => (pair, Value::Bool(true)),
        };
        out.insert(k.to_string(), v);
    }
    out
}

/// The base record; plugins extend it in their `log` phase.
pub fn build(ctx: &Ctx, facts: &RequestFacts) -> Map<String, Value> {
    let now = std::time::Instant::now();
    let total = now.duration_since(ctx.received).as_millis() as u64;
    let proxy = match (ctx.upstream_sent, ctx.upstream_head) {
        (Some(sent), Some(_)) => now.duration_since(sent).as_millis() as u64,
        _ => 0,
    };
    let mut record = json!({
        "request": {
            "method": facts.method,
            "uri": facts.uri,
            "url": facts.url,
            "headers": facts.headers,
            "querystring": facts.querystring,
            "size": ctx.request_size,
            "id": ctx.request_id,
        },
        "response": {
            "status": ctx.status,
            "headers": headers_json(&ctx.response_headers),
            "size": ctx.response_size,
        },
        "route": ctx.route.as_ref(),
        "latencies": {
            "request": total,
            "proxy": proxy,
            "kong": total.saturating_sub(proxy),
        },
        "client_ip": ctx.client_ip,
        "started_at": ctx.started_at_ms,
        "upstream_uri": ctx.upstream_uri,
        "workspace": WORKSPACE_ID,
        "workspace_name": "default",
        "tries": [],
        "source": if ctx.upstream_head.is_some() { "upstream" } else { "kong" },
    });
    let map = record.as_object_mut().expect("built as an object");
    if let Some(service) = &ctx.service {
        map.insert("service".into(), json!(service.as_ref()));
        if ctx.upstream_sent.is_some() {
            map.insert(
                "tries".into(),
                json!([{ "ip": service.host, "port": service.port }]),
            );
        }
    }
    if let Some(consumer) = &ctx.consumer {
        map.insert("consumer".into(), json!(consumer.as_ref()));
    }
    if let Some(credential) = &ctx.credential {
        map.insert(
            "authenticated_entity".into(),
            json!({ "id": credential.id, "consumer_id": credential.consumer }),
        );
    }
    if let Some(failure) = ctx.failure {
        map.insert("failure".into(), Value::from(failure));
    }
    if let Some(names) = &ctx.secret_names {
        redact(map, names);
    }
    std::mem::take(map)
}

/// Hides the values of credential headers and query arguments (key-auth's `key_names`)
/// wherever the record shows them: request headers, query string, URI, URL, upstream URI.
fn redact(record: &mut Map<String, Value>, names: &[String]) {
    if let Some(Value::Object(request)) = record.get_mut("request") {
        if let Some(Value::Object(headers)) = request.get_mut("headers") {
            for name in names {
                if let Some(value) = headers.get_mut(&name.to_ascii_lowercase()) {
                    *value = match value {
                        Value::Array(values) => {
                            Value::Array(vec![Value::from("REDACTED"); values.len()])
                        }
                        _ => Value::from("REDACTED"),
                    };
                }
            }
        }
        if let Some(Value::Object(query)) = request.get_mut("querystring") {
            for name in names {
                if let Some(value) = query.get_mut(name.as_str()) {
                    *value = Value::from("REDACTED");
                }
            }
        }
        for field in ["uri", "url"] {
            if let Some(Value::String(text)) = request.get_mut(field) {
                *text = redact_query(text, names);
            }
        }
    }
    if let Some(Value::String(text)) = record.get_mut("upstream_uri") {
        *text = redact_query(text, names);
    }
}

/// `text` with the values of the named query arguments replaced.
fn redact_query(text: &str, names: &[String]) -> String {
    let Some((path, query)) = text.split_once('?') else {
        return text.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if names.iter().any(|n| n == k) => format!("{k}=REDACTED"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}
