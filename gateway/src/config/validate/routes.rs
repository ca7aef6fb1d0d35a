//! Routes, nested in services or top-level with a `service` reference: matching fields checked
//! and normalized (methods upper-case, hosts and header names lower-case, `~` paths compiled).

use std::collections::BTreeMap;
use std::sync::Arc;

use uuid::Uuid;

use super::{Builder, Scope};
use crate::config::error::ConfigError;
use crate::config::file::RouteFile;
use crate::config::model::Route;

/// Adds the routes nested in services (queued by `services::add`), then the top-level ones.
pub(super) fn add<'a>(b: &mut Builder<'a>, routes: &'a [RouteFile]) -> Result<(), ConfigError> {
    for nested in std::mem::take(&mut b.nested_routes) {
        if nested.route.service.is_some() {
            let message = "cannot be set on a route nested in a service";
            return Err(ConfigError::new(
                format!("{}.service", nested.path),
                message,
            ));
        }
        add_one(b, nested.route, &nested.path, Some(nested.service))?;
    }
    for (i, route) in routes.iter().enumerate() {
        let path = format!("routes[{i}]");
        let service = match &route.service {
            Some(reference) => Some(b.services.resolve(reference, &format!("{path}.service"))?),
            None => None,
        };
        add_one(b, route, &path, service)?;
    }
    Ok(())
}

fn add_one<'a>(
    b: &mut Builder<'a>,
    file: &'a RouteFile,
    path: &str,
    service: Option<Uuid>,
) -> Result<(), ConfigError> {
    let route = build(b, file, path, service)?;
    let scope = Scope {
        route: Some(route.id),
        ..Scope::default()
    };
    b.nest_plugins(path, &file.plugins, scope, "route");
    b.config.routes.push(Arc::new(route));
    Ok(())
}

fn build(
    b: &mut Builder<'_>,
    file: &RouteFile,
    path: &str,
    service: Option<Uuid>,
) -> Result<Route, ConfigError> {
    if file.paths.is_empty()
        && file.hosts.is_empty()
        && file.methods.is_empty()
        && file.headers.is_empty()
    {
        let message = "must set at least one of paths, hosts, methods or headers";
        return Err(ConfigError::new(path, message));
    }
    let paths = paths(&file.paths, path)?;
    let methods = methods(&file.methods, path)?;
    let hosts = hosts(&file.hosts, path)?;
    let headers = headers(&file.headers, path)?;
    if file.protocols.is_empty() {
        return Err(ConfigError::new(
            format!("{path}.protocols"),
            "length must be at least 1",
        ));
    }
    let key = match &file.name {
        Some(name) => name.clone(),
        None => unnamed_key(service, &paths, &methods, &hosts, &headers),
    };
    let id = b.routes.allocate(file.id, &key, path)?;
    if let Some(name) = &file.name {
        b.routes.add_name(name, id, &format!("{path}.name"))?;
    }
    let (created_at, updated_at) = b.stamps(file.created_at, file.updated_at);
    Ok(Route {
        id,
        name: file.name.clone(),
        service,
        paths,
        methods,
        hosts,
        headers,
        protocols: file.protocols.iter().map(|p| (*p).into()).collect(),
        strip_path: file.strip_path,
        preserve_host: file.preserve_host,
        path_handling: file.path_handling.into(),
        regex_priority: file.regex_priority,
        request_buffering: file.request_buffering,
        response_buffering: file.response_buffering,
        tags: file.tags.clone(),
        created_at,
        updated_at,
    })
}

/// The natural key of a route without a name: its service and what it matches.
fn unnamed_key(
    service: Option<Uuid>,
    paths: &[String],
    methods: &[String],
    hosts: &[String],
    headers: &BTreeMap<String, Vec<String>>,
) -> String {
    let service = service.map(|s| s.to_string()).unwrap_or_default();
    let matching = serde_json::json!([paths, methods, hosts, headers]);
    format!("{service}:{matching}")
}

/// Paths start with `/` (a prefix) or `~` (a regex, which must compile).
fn paths(paths: &[String], route: &str) -> Result<Vec<String>, ConfigError> {
    for (i, p) in paths.iter().enumerate() {
        let at = || format!("{route}.paths[{i}]");
        if let Some(pattern) = p.strip_prefix('~') {
            regex::Regex::new(pattern).map_err(|e| ConfigError::new(at(), regex_message(&e)))?;
        } else if !p.starts_with('/') {
            return Err(ConfigError::new(
                at(),
                "must start with / (a prefix) or ~ (a regex)",
            ));
        }
    }
    Ok(paths.to_vec())
}

/// The regex crate's message, without its multi-line picture of the pattern.
fn regex_message(err: &regex::Error) -> String {
    let text = err.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let reason = last.trim().trim_start_matches("error: ");
    format!("invalid regex: {reason}")
}

fn methods(methods: &[String], route: &str) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::with_capacity(methods.len());
    for (i, m) in methods.iter().enumerate() {
        if m.is_empty() || !m.bytes().all(|c| c.is_ascii_alphabetic()) {
            return Err(ConfigError::new(
                format!("{route}.methods[{i}]"),
                format!("invalid method {m:?}"),
            ));
        }
        out.push(m.to_ascii_uppercase());
    }
    Ok(out)
}

/// Lower-cased; a `*` wildcard only as the first or last label.
fn hosts(hosts: &[String], route: &str) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::with_capacity(hosts.len());
    for (i, h) in hosts.iter().enumerate() {
        let host = h.to_ascii_lowercase();
        let stars = host.matches('*').count();
        let wildcard_ok =
            stars == 0 || (stars == 1 && (host.starts_with("*.") || host.ends_with(".*")));
        if host.is_empty() || !wildcard_ok {
            return Err(ConfigError::new(
                format!("{route}.hosts[{i}]"),
                format!("invalid host {h:?}"),
            ));
        }
        out.push(host);
    }
    Ok(out)
}

/// Lower-cased names, each with at least one value; `Host` belongs in `hosts`.
fn headers(
    headers: &BTreeMap<String, Vec<String>>,
    route: &str,
) -> Result<BTreeMap<String, Vec<String>>, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, values) in headers {
        let at = format!("{route}.headers.{name}");
        let lower = name.to_ascii_lowercase();
        if lower == "host" {
            return Err(ConfigError::new(
                at,
                "the Host header is matched with hosts",
            ));
        }
        if values.is_empty() {
            return Err(ConfigError::new(at, "length must be at least 1"));
        }
        if out.insert(lower, values.clone()).is_some() {
            return Err(ConfigError::new(
                at,
                "header given twice (names are case-insensitive)",
            ));
        }
    }
    Ok(out)
}
