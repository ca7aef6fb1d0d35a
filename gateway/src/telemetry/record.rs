//! Kong's log serializer: one JSON object per proxied request, assembled at the log phase from
//! the request context. Plugins add their own sections (`ai.mcp`) before the log plugins emit it.
//!
//! The record keeps what it needs in the request's own shapes (strings, the request itself for
//! its method and URI, the entities' JSON serialized once per configuration) and writes JSON
//! straight from them when a log plugin asks for the line, once per request however many log
//! plugins there are. Header maps move on before the log phase (the request's upstream, the
//! response's to the client), so their JSON is written when they do.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use foldhash::HashMap;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::json::{self, JsonText, Members};
use crate::config::model::{Config, Consumer, Route, Service};
use crate::plugins::context::Ctx;

/// The record's `workspace` and `workspace_name` members, the same in every record: the
/// workspace id is a constant (Kong's default workspace has a fixed id per node; here it is
/// the same everywhere so records compare across restarts).
const WORKSPACE_MEMBERS: &str =
    r#""workspace":"00000000-0000-0000-0000-000000000000","workspace_name":"default""#;

/// The request as it arrived. Its headers move into the request that goes upstream (plugins
/// change them there), so what the record logs of them is written when the request arrives:
/// the headers as a JSON object, and the `Host` the client addressed. Method and URI are read
/// from the request itself at the log phase.
#[derive(Default)]
pub struct RequestFacts {
    request: Option<(actix_web::HttpRequest, u16)>,
    host: Option<HeaderValue>,
    /// A JSON object: [`headers_json`].
    headers: Vec<u8>,
}

impl RequestFacts {
    /// `headers` are the client's (`req`'s own were taken from it); `secrets` the route's
    /// credential names besides those every record hides.
    pub fn capture(
        req: &actix_web::HttpRequest,
        headers: &HeaderMap,
        listen_port: u16,
        secrets: &[String],
    ) -> Self {
        RequestFacts {
            request: Some((req.clone(), listen_port)),
            host: headers.get(actix_web::http::header::HOST).cloned(),
            headers: headers_json(headers, secrets),
        }
    }

    fn method(&self) -> &str {
        self.request
            .as_ref()
            .map_or("", |(r, _)| r.method().as_str())
    }

    fn uri(&self) -> &str {
        self.request.as_ref().map_or("", |(r, _)| {
            r.uri().path_and_query().map_or("/", |p| p.as_str())
        })
    }

    /// `http://host:port/uri` as the client addressed it: the `Host` header (a client's
    /// `X-Forwarded-Host` is not trusted, as in Kong), else the request target's authority.
    /// Answered in pieces, for the record to write without joining them first.
    fn url_parts<'a>(&'a self, port: &'a mut itoa::Buffer) -> Option<[&'a str; 5]> {
        let (req, listen_port) = self.request.as_ref()?;
        let host = self
            .host
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()))
            .unwrap_or_else(|| req.app_config().host());
        let (colon, port) = if host.contains(':') {
            ("", "")
        } else {
            (":", port.format(*listen_port))
        };
        Some(["http://", host, colon, port, self.uri()])
    }

    #[cfg(test)]
    fn url(&self) -> String {
        self.url_parts(&mut itoa::Buffer::new())
            .map(|parts| parts.concat())
            .unwrap_or_default()
    }

    /// The headers' JSON object; `{}` when none were captured.
    fn headers(&self) -> &[u8] {
        if self.headers.is_empty() {
            b"{}"
        } else {
            &self.headers
        }
    }

    /// The query string of the request as it arrived, without `?`.
    fn query(&self) -> &str {
        let uri = self.uri();
        memchr::memchr(b'?', uri.as_bytes()).map_or("", |at| &uri[at + 1..])
    }
}

/// The `route` and `service` objects of the record, serialized once per configuration: every
/// request only shares them.
#[derive(Default)]
pub struct EntityJson {
    routes: HashMap<Uuid, Arc<RawValue>>,
    services: HashMap<Uuid, Arc<RawValue>>,
}

impl EntityJson {
    pub fn of(config: &Config) -> Self {
        EntityJson {
            routes: config
                .routes
                .iter()
                .map(|r| (r.id, raw(r.as_ref())))
                .collect(),
            services: config
                .services
                .iter()
                .map(|s| (s.id, raw(s.as_ref())))
                .collect(),
        }
    }

    fn route(&self, route: &Route) -> Arc<RawValue> {
        self.routes
            .get(&route.id)
            .cloned()
            .unwrap_or_else(|| raw(route))
    }

    fn service(&self, service: &Service) -> Arc<RawValue> {
        self.services
            .get(&service.id)
            .cloned()
            .unwrap_or_else(|| raw(service))
    }
}

fn raw<T: Serialize>(entity: &T) -> Arc<RawValue> {
    let boxed = serde_json::value::to_raw_value(entity)
        .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON"));
    Arc::from(boxed)
}

/// Kong's `latencies`, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Latencies {
    pub request: u64,
    pub proxy: u64,
    pub kong: u64,
}

/// One request's log record. Plugins read it ([`Record::latencies`],
/// [`Record::from_upstream`]), add sections ([`Record::section`]) and emit it
/// ([`Record::line`]).
pub struct Record {
    facts: RequestFacts,
    request_size: u64,
    request_id: String,
    status: u16,
    /// A JSON object: [`headers_json`].
    response_headers: Vec<u8>,
    response_size: u64,
    route: Arc<RawValue>,
    latencies: Latencies,
    client_ip: String,
    started_at: i64,
    upstream_uri: String,
    from_upstream: bool,
    service: Option<Arc<RawValue>>,
    tried: Option<(String, u16)>,
    consumer: Option<Arc<Consumer>>,
    credential: Option<(Uuid, Uuid)>,
    failure: Option<&'static str>,
    secret_names: Option<Arc<[String]>>,
    /// Plugins' sections, after Kong's fields, in the order they were added.
    sections: Vec<(&'static str, Members)>,
    line: OnceCell<Bytes>,
}

/// The record of a request that ends now, from its context and what it looked like on arrival.
/// The response headers, the request id, the client address and the upstream URI move into the
/// record: the log phase is their last reader, and plugins read them there. `secret_names`
/// are the route's credential names ([`crate::plugins::chain::Chain::secret_names`]).
pub fn build(ctx: &mut Ctx, facts: RequestFacts, secret_names: Option<Arc<[String]>>) -> Record {
    let now = std::time::Instant::now();
    let total = now.duration_since(ctx.received).as_millis() as u64;
    let proxy = match (ctx.upstream_sent, ctx.upstream_head) {
        (Some(sent), Some(_)) => now.duration_since(sent).as_millis() as u64,
        _ => 0,
    };
    let entities = &ctx.snapshot.entity_json;
    Record {
        facts,
        request_size: ctx.request_size,
        request_id: std::mem::take(&mut ctx.request_id),
        status: ctx.status,
        response_headers: ctx
            .response_headers_json
            .take()
            .unwrap_or_else(|| headers_json(&ctx.response_headers, &[])),
        response_size: ctx.response_size,
        route: entities.route(&ctx.route),
        latencies: Latencies {
            request: total,
            proxy,
            kong: total.saturating_sub(proxy),
        },
        client_ip: std::mem::take(&mut ctx.client_ip),
        started_at: ctx.started_at_ms,
        upstream_uri: std::mem::take(&mut ctx.upstream_uri),
        from_upstream: ctx.upstream_head.is_some(),
        service: ctx.service.as_ref().map(|s| entities.service(s)),
        tried: ctx
            .service
            .as_ref()
            .filter(|_| ctx.upstream_sent.is_some())
            .map(|s| (s.host.clone(), s.port)),
        consumer: ctx.consumer.clone(),
        credential: ctx.credential.as_ref().map(|c| (c.id, c.consumer)),
        failure: ctx.failure,
        secret_names,
        sections: Vec::new(),
        line: OnceCell::new(),
    }
}

impl Record {
    pub fn latencies(&self) -> Latencies {
        self.latencies
    }

    /// Whether the response came from the upstream (`source: "upstream"`) rather than from
    /// the gateway itself.
    pub fn from_upstream(&self) -> bool {
        self.from_upstream
    }

    /// Adds member `key` to the plugins' top-level object `section` (`ai`), which is created
    /// when absent.
    pub fn add(&mut self, section: &'static str, key: &'static str, value: &JsonText) {
        self.line.take();
        let i = match self.sections.iter().position(|(name, _)| *name == section) {
            Some(i) => i,
            None => {
                self.sections.push((section, Members::default()));
                self.sections.len() - 1
            }
        };
        self.sections[i].1.raw(key, value.as_str());
    }

    /// The record as one line of JSON (UTF-8), written once and shared by every log plugin:
    /// its bytes are handed on as written, never copied or checked again.
    pub fn line(&self) -> Bytes {
        self.line
            .get_or_init(|| Bytes::from(self.write(Vec::with_capacity(2048))))
            .clone()
    }

    /// Appends the line to `out`: the one [`Record::line`] made when a plugin asked for it,
    /// else written straight into `out`, for the last plugin that reads it.
    pub fn append_line(&self, out: &mut Vec<u8>) {
        match self.line.get() {
            Some(line) => out.extend_from_slice(line),
            None => *out = self.write(std::mem::take(out)),
        }
    }

    fn secrets(&self) -> &[String] {
        self.secret_names.as_deref().unwrap_or(&[])
    }
}

/// Kong's key order: request, response, route, latencies, client_ip, started_at, upstream_uri,
/// workspace, workspace_name, tries, source, then service, consumer, authenticated_entity and
/// failure when there are, then the plugins' sections.
impl Record {
    /// `buf` with the record appended.
    fn write(&self, buf: Vec<u8>) -> Vec<u8> {
        let secrets = self.secrets();
        // Written in one buffer, nested objects in place.
        let mut out = Members::object_after(buf);

        out.nested("request", |request| {
            request.str("method", self.facts.method());
            request.str("uri", &redact_query(self.facts.uri(), secrets));
            let mut port = itoa::Buffer::new();
            let url = self.facts.url_parts(&mut port).unwrap_or([""; 5]);
            if secrets.is_empty() {
                json::string_of(request.key("url"), &url);
            } else {
                request.str("url", &redact_query(&url.concat(), secrets));
            }
            request.raw_bytes("headers", self.facts.headers());
            if self.facts.query().is_empty() {
                request.raw("querystring", "{}");
            } else {
                request.serde(
                    "querystring",
                    &QueryJson {
                        query: self.facts.query(),
                        secrets,
                    },
                );
            }
            request.int("size", self.request_size);
            request.str("id", &self.request_id);
        });

        out.nested("response", |response| {
            response.int("status", self.status);
            response.raw_bytes("headers", &self.response_headers);
            response.int("size", self.response_size);
        });

        out.raw("route", self.route.get());
        out.nested("latencies", |latencies| {
            latencies.int("request", self.latencies.request);
            latencies.int("proxy", self.latencies.proxy);
            latencies.int("kong", self.latencies.kong);
        });
        out.str("client_ip", &self.client_ip);
        out.int("started_at", self.started_at);
        out.str("upstream_uri", &redact_query(&self.upstream_uri, secrets));
        out.members(WORKSPACE_MEMBERS);
        out.array("tries", |tries| {
            if let Some((ip, port)) = &self.tried {
                tries.object(|one| {
                    one.str("ip", ip);
                    one.int("port", *port);
                });
            }
        });
        out.str(
            "source",
            if self.from_upstream {
                "upstream"
            } else {
                "kong"
            },
        );
        if let Some(service) = &self.service {
            out.raw("service", service.get());
        }
        if let Some(consumer) = &self.consumer {
            out.serde("consumer", &**consumer);
        }
        if let Some((id, consumer_id)) = &self.credential {
            out.nested("authenticated_entity", |entity| {
                entity.str("id", &id.to_string());
                entity.str("consumer_id", &consumer_id.to_string());
            });
        }
        if let Some(failure) = self.failure {
            out.str("failure", failure);
        }
        for (name, section) in &self.sections {
            out.object(name, section);
        }
        out.into_bytes()
    }
}

/// A header value as a JSON string: its text, invalid UTF-8 replaced, or `REDACTED`.
fn header_value(out: &mut Vec<u8>, value: &HeaderValue, secret: bool) {
    let bytes = value.as_bytes();
    if secret {
        json::string(out, "REDACTED");
    } else if bytes.is_ascii() {
        // The usual value: checked a word at a time, no UTF-8 decoding.
        json::ascii_string(out, bytes);
    } else {
        json::string(out, &String::from_utf8_lossy(bytes));
    }
}

/// Headers as Kong logs them: lower-case names, repeated headers as arrays, credentials (and
/// the route's key names) redacted.
fn headers(out: &mut Members, headers: &HeaderMap, secrets: &[String]) {
    // One pass: the map yields the values of one name one after the other.
    let mut values = headers.iter().peekable();
    while let Some((name, first)) = values.next() {
        let key = name.as_str();
        let secret = is_redacted(key) || secrets.iter().any(|s| s.eq_ignore_ascii_case(key));
        let same = |(next, _): &(&HeaderName, &HeaderValue)| std::ptr::eq(*next, name);
        // Header names are tokens: nothing in them needs escaping.
        let value = out.key_raw(key);
        if values.peek().is_some_and(same) {
            value.push(b'[');
            header_value(value, first, secret);
            while let Some((_, next)) = values.next_if(same) {
                value.push(b',');
                header_value(value, next, secret);
            }
            value.push(b']');
        } else {
            header_value(value, first, secret);
        }
    }
}

/// Headers as a record logs them, a JSON object, credentials and `secrets` (the route's key
/// names) redacted. Written when their map moves on: a request's as it arrives, before its
/// headers go upstream; a response's when the response takes the map, for [`build`] to find
/// in [`Ctx::response_headers_json`].
pub fn headers_json(map: &HeaderMap, secrets: &[String]) -> Vec<u8> {
    let mut out = Members::object_after(Vec::with_capacity(256));
    headers(&mut out, map, secrets);
    out.into_bytes()
}

/// Credentials every record hides (`REDACTED`), besides the route's own key names.
fn is_redacted(name: &str) -> bool {
    matches!(
        name,
        "authorization" | "proxy-authorization" | "apikey" | "cookie"
    )
}

/// The query string as Kong logs it: `name: value`, `name: true` for a bare name, the last of
/// repeated names, credentials redacted.
struct QueryJson<'a> {
    query: &'a str,
    secrets: &'a [String],
}

impl Serialize for QueryJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.query.is_empty() {
            return serializer.serialize_map(Some(0))?.end();
        }
        let mut out = Map::new();
        for pair in self.query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = match pair.split_once('=') {
                Some((k, v)) => (k, Value::from(v)),
                None => (pair, Value::Bool(true)),
            };
            let v = if self.secrets.iter().any(|s| s == k) {
                Value::from("REDACTED")
            } else {
                v
            };
            out.insert(k.to_string(), v);
        }
        out.serialize(serializer)
    }
}

/// `text` with the values of the named query arguments replaced.
fn redact_query<'a>(text: &'a str, names: &[String]) -> Cow<'a, str> {
    if names.is_empty() {
        return Cow::Borrowed(text);
    }
    let Some((path, query)) = text.split_once('?') else {
        return Cow::Borrowed(text);
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if names.iter().any(|n| n == k) => format!("{k}=REDACTED"),
            _ => pair.to_string(),
        })
        .collect();
    Cow::Owned(format!("{path}?{}", pairs.join("&")))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};
    use serde_json::json;

    use super::*;

    fn secrets(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn headers_repeat_as_arrays_and_credentials_are_redacted() {
        let mut headers = HeaderMap::new();
        let mut add = |name: &'static str, value: &'static str| {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            )
        };
        add("accept", "a");
        add("x-many", "1");
        add("x-many", "2");
        add("authorization", "Bearer s3cret");
        add("x-team-key", "k1");
        add("x-team-key", "k2");
        let names = secrets(&["X-Team-Key"]);
        let mut out = Members::default();
        super::headers(&mut out, &headers, &names);
        let text = out.into_object();
        let json: Value = serde_json::from_str(text.as_str()).unwrap();
        assert_eq!(json["accept"], "a");
        assert_eq!(json["x-many"], json!(["1", "2"]));
        assert_eq!(json["authorization"], "REDACTED");
        assert_eq!(json["x-team-key"], json!(["REDACTED", "REDACTED"]));
    }

    #[test]
    fn header_values_of_any_bytes_are_logged_as_their_lossy_text() {
        let values: [&[u8]; 5] = [
            b"plain",
            b"quote \" and \\ and \t tab",
            "caf\u{e9} \u{1F600}".as_bytes(),
            b"bad \xff\xfe bytes",
            b"",
        ];
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                HeaderName::from_static("x-value"),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        let mut out = Members::default();
        super::headers(&mut out, &headers, &[]);
        let json: Value = serde_json::from_str(out.into_object().as_str()).unwrap();
        let expected: Vec<String> = values
            .iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        assert_eq!(json["x-value"], json!(expected));
        assert_eq!(
            json["x-value"][3], "bad \u{FFFD}\u{FFFD} bytes",
            "invalid UTF-8 replaced"
        );
    }

    #[test]
    fn query_arguments_keep_the_last_value_and_hide_key_names() {
        let names = secrets(&["token"]);
        let query = |q: &str| {
            serde_json::to_value(QueryJson {
                query: q,
                secrets: &names,
            })
            .unwrap()
        };
        assert_eq!(query(""), json!({}));
        assert_eq!(
            query("a=1&flag&a=2&token=t&&b="),
            json!({"a": "2", "flag": true, "token": "REDACTED", "b": ""})
        );
        assert_eq!(query("token"), json!({"token": "REDACTED"}));
    }

    #[test]
    fn the_url_names_the_host_the_client_addressed() {
        let url = |req: actix_web::test::TestRequest| {
            let req = req.to_http_request();
            RequestFacts::capture(&req, req.headers(), 8000, &[]).url()
        };
        let spoofed = actix_web::test::TestRequest::get()
            .uri("/mcp?x=1")
            .insert_header(("host", "api.example.test"))
            .insert_header(("x-forwarded-host", "elsewhere.test"))
            .insert_header(("forwarded", "host=elsewhere.test"));
        assert_eq!(url(spoofed), "http://api.example.test:8000/mcp?x=1");
        let with_port =
            actix_web::test::TestRequest::get().insert_header(("host", "api.example.test:9"));
        assert_eq!(url(with_port), "http://api.example.test:9/");
        assert_eq!(RequestFacts::default().url(), "");
    }

    #[test]
    fn uris_hide_only_the_named_arguments() {
        let names = secrets(&["apikey"]);
        assert_eq!(
            redact_query("/p?apikey=k&x=1&apikeys=2", &names),
            "/p?apikey=REDACTED&x=1&apikeys=2"
        );
        assert_eq!(redact_query("/p", &names), "/p");
        assert!(matches!(
            redact_query("/p?apikey=k", &[]),
            Cow::Borrowed("/p?apikey=k")
        ));
    }
}
