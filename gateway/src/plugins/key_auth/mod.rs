//! key-auth (priority 1250): finds an API key in a header or the query string, resolves its
//! consumer and groups into the request context, and answers 401 the way Kong does.

pub mod schema;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Deserialize;

use super::context::{Ctx, ProxyRequest};
use super::{Access, Plugin};
use crate::config::ConfigError;
use crate::error::kong_error;

#[derive(Debug, Deserialize)]
struct Settings {
    #[serde(default = "default_key_names")]
    key_names: Vec<String>,
    #[serde(default)]
    hide_credentials: bool,
    #[serde(default = "yes")]
    key_in_header: bool,
    #[serde(default = "yes")]
    key_in_query: bool,
    #[serde(default)]
    anonymous: Option<String>,
    #[serde(default)]
    realm: Option<String>,
}

fn default_key_names() -> Vec<String> {
    vec!["apikey".into()]
}

fn yes() -> bool {
    true
}

pub struct KeyAuth {
    settings: Settings,
    /// Key names as header names (those that are valid header names).
    headers: Vec<HeaderName>,
}

impl KeyAuth {
    pub fn new(config: &serde_json::Value) -> Result<Self, ConfigError> {
        let settings: Settings = super::settings(config)?;
        let headers = settings
            .key_names
            .iter()
            .filter_map(|n| HeaderName::from_bytes(n.to_ascii_lowercase().as_bytes()).ok())
            .collect();
        Ok(KeyAuth { settings, headers })
    }

    /// The presented key and where it was found (`Ok(header)` / `Err(query name)`).
    fn find_key(&self, req: &ProxyRequest) -> Option<(String, Result<HeaderName, String>)> {
        if self.settings.key_in_header {
            for name in &self.headers {
                if let Some(v) = req.headers.get(name).and_then(|v| v.to_str().ok()) {
                    return Some((v.to_string(), Ok(name.clone())));
                }
            }
        }
        if self.settings.key_in_query {
            for pair in req.query.split('&') {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                if self.settings.key_names.iter().any(|n| n == k) && !v.is_empty() {
                    return Some((v.to_string(), Err(k.to_string())));
                }
            }
        }
        None
    }

    fn unauthorized(&self, ctx: &Ctx, message: &str) -> HttpResponse {
        let mut response = kong_error(StatusCode::UNAUTHORIZED, message, &ctx.request_id);
        let realm = self.settings.realm.as_deref().unwrap_or("kong");
        if let Ok(v) = HeaderValue::from_str(&format!("Key realm=\"{realm}\"")) {
            response
                .headers_mut()
                .insert(actix_web::http::header::WWW_AUTHENTICATE, v);
        }
        response
    }

    #[allow(clippy::result_large_err)] // the early answer is built once per rejected request
    fn authenticate(&self, ctx: &mut Ctx, req: &mut ProxyRequest) -> Result<(), HttpResponse> {
        let Some((key, found_in)) = self.find_key(req) else {
            return match self.anonymous(ctx) {
                Some(()) => Ok(()),
                None => Err(self.unauthorized(ctx, "No API key found in request")),
            };
        };
        let Some(credential) = ctx.snapshot.keys.get(&key).cloned() else {
            return Err(self.unauthorized(ctx, "Unauthorized"));
        };
        let consumer = ctx.snapshot.config.consumer(credential.consumer).cloned();
        ctx.groups = ctx.snapshot.config.groups_of(credential.consumer);
        ctx.consumer = consumer;
        ctx.credential = Some(credential);
        if self.settings.hide_credentials {
            match found_in {
                Ok(header) => {
                    req.headers.remove(header);
                }
                Err(name) => req.query = strip_query_param(&req.query, &name),
            }
        }
        set_consumer_headers(ctx, req, false);
        Ok(())
    }

    /// Falls back to the configured anonymous consumer, when there is one.
    fn anonymous(&self, ctx: &mut Ctx) -> Option<()> {
        let wanted = self.settings.anonymous.as_deref()?;
        let consumer = ctx
            .snapshot
            .config
            .consumers
            .iter()
            .find(|c| c.id.to_string() == wanted || c.username.as_deref() == Some(wanted))?
            .clone();
        ctx.groups = ctx.snapshot.config.groups_of(consumer.id);
        ctx.consumer = Some(consumer);
        Some(())
    }
}

impl Plugin for KeyAuth {
    fn name(&self) -> &'static str {
        "key-auth"
    }

    fn priority(&self) -> i32 {
        1250
    }

    /// The key names: the record redacts them whether or not a key was valid.
    fn secret_names(&self) -> &[String] {
        &self.settings.key_names
    }

    fn access<'a>(&'a self, ctx: &'a mut Ctx, req: &'a mut ProxyRequest) -> Access<'a> {
        let result = self.authenticate(ctx, req);
        if result.is_ok() && ctx.credential.is_none() && ctx.consumer.is_some() {
            set_consumer_headers(ctx, req, true);
        }
        Access::Done(result)
    }
}

/// Kong's upstream headers naming the authenticated consumer.
fn set_consumer_headers(ctx: &Ctx, req: &mut ProxyRequest, anonymous: bool) {
    use super::super::proxy::headers::set;
    let h = &mut req.headers;
    for name in [
        "x-consumer-id",
        "x-consumer-username",
        "x-consumer-custom-id",
        "x-consumer-groups",
        "x-credential-identifier",
        "x-anonymous-consumer",
    ] {
        h.remove(name);
    }
    if let Some(c) = &ctx.consumer {
        set(h, "x-consumer-id", &c.id.to_string());
        if let Some(u) = &c.username {
            set(h, "x-consumer-username", u);
        }
        if let Some(id) = &c.custom_id {
            set(h, "x-consumer-custom-id", id);
        }
    }
    if !ctx.groups.is_empty() {
        let names: Vec<&str> = ctx.groups.iter().map(|g| g.name.as_str()).collect();
        set(h, "x-consumer-groups", &names.join(", "));
    }
    if let Some(cred) = &ctx.credential {
        set(h, "x-credential-identifier", &cred.id.to_string());
    }
    if anonymous {
        set(h, "x-anonymous-consumer", "true");
    }
}

fn strip_query_param(query: &str, name: &str) -> String {
    query
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split_once('=').map_or(*pair, |(k, _)| k) != name)
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::strip_query_param;

    #[test]
    fn strips_only_the_key() {
        assert_eq!(strip_query_param("apikey=x&a=1&b", "apikey"), "a=1&b");
        assert_eq!(strip_query_param("apikey=x", "apikey"), "");
        assert_eq!(strip_query_param("apikeyz=1", "apikey"), "apikeyz=1");
    }
}
