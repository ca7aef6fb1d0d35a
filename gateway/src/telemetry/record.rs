//! Kong's log serializer: one JSON object per proxied request, built at the log phase from the
//! request context. Plugins add their own sections (`ai.mcp`) before the log plugins emit it.

use std::collections::HashMap;

use actix_web::http::header::HeaderMap;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::config::model::{Config, Route, Service};
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
        let text = |v: &actix_web::http::header::HeaderValue| {
            if secret {
                Value::from("REDACTED")
            } else {
                Value::from(String::from_utf8_lossy(v.as_bytes()).into_owned())
            }
        };
        let mut values = headers.get_all(name);
        let first = values.next().map(text).unwrap_or_default();
        let value = match values.next() {
            None => first,
            Some(second) => {
                let mut all = vec![first, text(second)];
                all.extend(values.map(text));
                Value::Array(all)
            }
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

/// The `route` and `service` objects of the record, serialized once per configuration: every
/// request only copies them.
#[derive(Default)]
pub struct EntityJson {
    routes: HashMap<Uuid, Value>,
    services: HashMap<Uuid, Value>,
}

impl EntityJson {
    pub fn of(config: &Config) -> Self {
        EntityJson {
            routes: config
                .routes
                .iter()
                .map(|r| (r.id, json!(r.as_ref())))
                .collect(),
            services: config
                .services
                .iter()
                .map(|s| (s.id, json!(s.as_ref())))
                .collect(),
        }
    }

    fn route(&self, route: &Route) -> Value {
        self.routes
            .get(&route.id)
            .cloned()
            .unwrap_or_else(|| json!(route))
    }

    fn service(&self, service: &Service) -> Value {
        self.services
            .get(&service.id)
            .cloned()
            .unwrap_or_else(|| json!(service))
    }
}

/// The base record; plugins extend it in their `log` phase. Built field by field (the `json!`
/// macro would copy every nested map and entity once more through `to_value`); the key order is
/// Kong's.
pub fn build(ctx: &Ctx, facts: &RequestFacts) -> Map<String, Value> {
    let now = std::time::Instant::now();
    let total = now.duration_since(ctx.received).as_millis() as u64;
    let proxy = match (ctx.upstream_sent, ctx.upstream_head) {
        (Some(sent), Some(_)) => now.duration_since(sent).as_millis() as u64,
        _ => 0,
    };
    let mut request = Map::new();
    request.insert("method".into(), facts.method.as_str().into());
    request.insert("uri".into(), facts.uri.as_str().into());
    request.insert("url".into(), facts.url.as_str().into());
    request.insert("headers".into(), Value::Object(facts.headers.clone()));
    request.insert(
        "querystring".into(),
        Value::Object(facts.querystring.clone()),
    );
    request.insert("size".into(), ctx.request_size.into());
    request.insert("id".into(), ctx.request_id.as_str().into());
    let mut response = Map::new();
    response.insert("status".into(), ctx.status.into());
    response.insert(
        "headers".into(),
        Value::Object(headers_json(&ctx.response_headers)),
    );
    response.insert("size".into(), ctx.response_size.into());
    let mut latencies = Map::new();
    latencies.insert("request".into(), total.into());
    latencies.insert("proxy".into(), proxy.into());
    latencies.insert("kong".into(), total.saturating_sub(proxy).into());
    let source = if ctx.upstream_head.is_some() {
        "upstream"
    } else {
        "kong"
    };
    let mut record = Map::new();
    record.insert("request".into(), Value::Object(request));
    record.insert("response".into(), Value::Object(response));
    record.insert("route".into(), ctx.snapshot.entity_json.route(&ctx.route));
    record.insert("latencies".into(), Value::Object(latencies));
    record.insert("client_ip".into(), ctx.client_ip.as_str().into());
    record.insert("started_at".into(), ctx.started_at_ms.into());
    record.insert("upstream_uri".into(), ctx.upstream_uri.as_str().into());
    record.insert("workspace".into(), WORKSPACE_ID.into());
    record.insert("workspace_name".into(), "default".into());
    record.insert("tries".into(), Value::Array(Vec::new()));
    record.insert("source".into(), source.into());
    let map = &mut record;
    if let Some(service) = &ctx.service {
        map.insert("service".into(), ctx.snapshot.entity_json.service(service));
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
    record
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
