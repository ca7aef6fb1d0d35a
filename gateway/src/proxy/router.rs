//! Kong's router: request → route → service, and the upstream path.
//!
//! It reproduces Kong's `traditional_compatible` router flavor (the default since Kong 3.0): every
//! route is given a priority, routes are tried from the highest priority down, and the first one
//! whose every configured criterion matches wins. The priority is the one Kong documents in
//! "Determining priority for traditional compatible mode"
//! (<https://developer.konghq.com/gateway/routing/traditional/#route-priority>) and computes in
//! `get_priority` (`kong/router/transform.lua`), by descending significance:
//!
//! 1. **match weight**: one point for each criterion the route sets (`methods`, `hosts`,
//!    `headers`, `paths`), so `hosts`+`methods`+`paths` is tried before `paths` alone;
//! 2. **plain hosts**: a route whose `hosts` are all plain (no `*`) before one with a wildcard;
//! 3. **header count**: more `headers` names first;
//! 4. **regex before prefix**: a route with a regex path (`~…`) before one with plain paths;
//!    among regex paths the higher `regex_priority` first; among plain paths the longer first.
//!
//! Kong's compatible flavor has no documented tie-breaker past these ("doesn't use the Route's
//! `created_at`"); here ties keep configuration order, so the outcome is deterministic.
//!
//! Like Kong (`split_routes_and_services_by_path` in `kong/router/compat.lua`), a route with
//! several paths is split into one candidate per path, each with its own priority, so a route's
//! long path is not shadowed by another route's shorter one and vice versa.
//!
//! Matching, per criterion:
//! - a plain path is a string prefix of the raw request path (`/mcp` matches `/mcpx`); a regex
//!   path (Rust `regex` syntax, as in Kong's compatible flavor, which also runs on Rust's
//!   `regex`) is anchored at the start of the path but not at the end. It is compiled as
//!   `^(?:…)` so every alternative of `a|b` is anchored, as Kong's traditional flavor did (the
//!   compatible flavor prepends a bare `^`, leaving `b` unanchored — a quirk not copied);
//! - `methods`: any of them, ASCII case-insensitive;
//! - `hosts`: any of them, case-insensitive, against the `Host` without its port; an entry with a
//!   port also requires that port in the `Host`; `*.example.com` matches any name ending in
//!   `.example.com`, `example.*` any name starting with `example.`;
//! - `headers`: every named header must have a value equal (case-insensitive) to one of the
//!   configured values, or matching a `~*` value as a case-insensitive regex (Kong's syntax).
//!
//! Not criteria here: `protocols` (the proxy answers a plain-http request for an https-only
//! route, as Kong does with 426) and path normalization. Kong normalizes the request path
//! (percent-decoding unreserved characters, removing dot segments, merging slashes) before it
//! routes; this router matches the path it is given, so the caller decides whether to normalize.
//!
//! Routes whose service is disabled are left out: Kong's Service `enabled` field reads "if set
//! to `false`, the proxy behavior will be as if any routes attached to it do not exist (404)".
//!
//! Cost: building is O(paths · log paths) plus one regex compilation per regex path. A lookup is
//! a linear scan over the pre-sorted candidates, O(candidates) in the worst case, with the cheap
//! tests (method, path prefix, host, headers) before any regex runs; it allocates only the
//! upstream path (and, for a regex route, the matched text).

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header::{HeaderMap, HeaderName};
use regex::Regex;
use uuid::Uuid;

use super::path::upstream_path;
use crate::config::model::{Config, Route, Service};

/// The routes of one configuration, compiled for matching. Immutable: a new configuration builds
/// a new router.
#[derive(Debug)]
pub struct Router {
    /// One entry per route that can match.
    rules: Vec<RouteRules>,
    /// One entry per route path (or per route without paths), highest priority first.
    candidates: Vec<Candidate>,
}

/// The outcome of a match.
#[derive(Debug)]
pub struct RouteMatch<'a> {
    pub route: &'a Arc<Route>,
    /// `None` when the route has no service (Kong answers 503).
    pub service: Option<&'a Arc<Service>>,
    /// The part of the request path the route's path matched: the prefix for a plain path, the
    /// text the regex matched for a regex path, empty when the route has no paths. Borrowed from
    /// the router for plain paths, so the common case does not allocate.
    pub matched_path: Cow<'a, str>,
    /// The path (without query) to send upstream, per `path_handling`.
    pub upstream_path: String,
}

impl RouteMatch<'_> {
    /// The prefix removed from the request path, as Kong reports it in `X-Forwarded-Prefix`:
    /// present only when the route strips its path and a path matched.
    pub fn stripped_prefix(&self) -> Option<&str> {
        (self.route.strip_path && !self.matched_path.is_empty()).then_some(&*self.matched_path)
    }
}

/// Everything about a route except its path, compiled once.
#[derive(Debug)]
struct RouteRules {
    route: Arc<Route>,
    service: Option<Arc<Service>>,
    hosts: Vec<HostPattern>,
    headers: Vec<HeaderRule>,
}

#[derive(Debug)]
struct Candidate {
    /// Index into `Router::rules`.
    rules: usize,
    path: PathMatcher,
}

#[derive(Debug)]
enum PathMatcher {
    /// The route has no paths.
    Any,
    Prefix(String),
    /// Compiled as `^(?:…)`.
    Regex(Regex),
}

#[derive(Debug)]
struct HostPattern {
    /// Lower-case; without the `*` for wildcards (`.example.com`, `example.`).
    name: String,
    kind: HostKind,
    port: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostKind {
    Exact,
    /// `*.example.com`: the name ends with `.example.com`.
    Suffix,
    /// `example.*`: the name starts with `example.`.
    Prefix,
}

#[derive(Debug)]
struct HeaderRule {
    name: HeaderName,
    values: Vec<HeaderValueMatcher>,
}

#[derive(Debug)]
enum HeaderValueMatcher {
    Exact(String),
    Regex(Regex),
}

/// Kong's traditional_compatible priority; the derived `Ord` compares fields in declaration
/// order, which is their order of significance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Priority {
    match_weight: u8,
    plain_hosts_only: bool,
    header_count: usize,
    regex: bool,
    /// Only for regex paths, as in Kong (prefix paths are ordered by length alone).
    regex_priority: i64,
    /// Only for plain paths.
    path_len: usize,
}

impl Router {
    pub fn new(config: &Config) -> Router {
        let services: HashMap<Uuid, &Arc<Service>> =
            config.services.iter().map(|s| (s.id, s)).collect();
        let mut rules = Vec::with_capacity(config.routes.len());
        let mut keyed: Vec<(Priority, Candidate)> = Vec::new();

        for route in &config.routes {
            let service = match route.service {
                None => None,
                Some(id) => match services.get(&id) {
                    Some(s) if s.enabled => Some(Arc::clone(s)),
                    Some(_) => {
                        tracing::debug!(route = %route.label(), "route not routed: its service is disabled");
                        continue;
                    }
                    None => {
                        tracing::warn!(route = %route.label(), service = %id, "route skipped: unknown service");
                        continue;
                    }
                },
            };
            let Some((compiled_rules, paths)) = compile_route(route, service) else {
                continue;
            };
            let index = rules.len();
            let base = base_priority(route, &compiled_rules);
            rules.push(compiled_rules);
            for path in paths {
                let priority = path_priority(base, route, &path);
                keyed.push((priority, Candidate { rules: index, path }));
            }
        }

        // Stable sort: equal priorities keep configuration order (route, then path).
        keyed.sort_by_key(|(priority, _)| Reverse(*priority));
        Router {
            rules,
            candidates: keyed.into_iter().map(|(_, c)| c).collect(),
        }
    }

    /// The route for a request, or `None` (Kong's 404 "no Route matched with those values").
    ///
    /// `host` is the `Host` header (or the URI authority), port included if the client sent one;
    /// `path` is the raw request path without the query string.
    pub fn find(
        &self,
        method: &str,
        host: Option<&str>,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<RouteMatch<'_>> {
        let host = host.map(split_host_port);
        for candidate in &self.candidates {
            // Cheapest rejection first; the regex runs only once everything else matched.
            if let PathMatcher::Prefix(prefix) = &candidate.path {
                if !path.starts_with(prefix.as_str()) {
                    continue;
                }
            }
            let rules = &self.rules[candidate.rules];
            if !rules.accepts(method, host, headers) {
                continue;
            }
            let matched_path = match &candidate.path {
                PathMatcher::Any => Cow::Borrowed(""),
                PathMatcher::Prefix(prefix) => Cow::Borrowed(prefix.as_str()),
                PathMatcher::Regex(regex) => match regex.find(path) {
                    Some(m) => Cow::Owned(m.as_str().to_owned()),
                    None => continue,
                },
            };
            let route = &rules.route;
            let service = rules.service.as_ref();
            let upstream_path = upstream_path(
                service.and_then(|s| s.path.as_deref()),
                route.strip_path,
                &matched_path,
                path,
                route.path_handling,
            );
            return Some(RouteMatch {
                route,
                service,
                matched_path,
                upstream_path,
            });
        }
        None
    }
}

impl RouteRules {
    fn accepts(
        &self,
        method: &str,
        host: Option<(&str, Option<u16>)>,
        headers: &HeaderMap,
    ) -> bool {
        let route = &self.route;
        if !route.methods.is_empty()
            && !route.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
        {
            return false;
        }
        if !self.hosts.is_empty() {
            let Some((name, port)) = host else {
                return false;
            };
            if !self.hosts.iter().any(|h| h.matches(name, port)) {
                return false;
            }
        }
        self.headers.iter().all(|rule| rule.matches(headers))
    }
}

impl HostPattern {
    fn parse(entry: &str) -> HostPattern {
        let (name, port) = split_host_port(entry);
        let name = name.to_ascii_lowercase();
        if let Some(suffix) = name.strip_prefix('*') {
            HostPattern {
                name: suffix.to_owned(),
                kind: HostKind::Suffix,
                port,
            }
        } else if let Some(prefix) = name.strip_suffix('*') {
            HostPattern {
                name: prefix.to_owned(),
                kind: HostKind::Prefix,
                port,
            }
        } else {
            HostPattern {
                name,
                kind: HostKind::Exact,
                port,
            }
        }
    }

    fn is_wildcard(&self) -> bool {
        self.kind != HostKind::Exact
    }

    fn matches(&self, name: &str, port: Option<u16>) -> bool {
        if self.port.is_some() && self.port != port {
            return false;
        }
        let (name, pattern) = (name.as_bytes(), self.name.as_bytes());
        match self.kind {
            HostKind::Exact => name.eq_ignore_ascii_case(pattern),
            HostKind::Suffix => {
                name.len() > pattern.len()
                    && name[name.len() - pattern.len()..].eq_ignore_ascii_case(pattern)
            }
            HostKind::Prefix => {
                name.len() > pattern.len() && name[..pattern.len()].eq_ignore_ascii_case(pattern)
            }
        }
    }
}

impl HeaderRule {
    fn matches(&self, headers: &HeaderMap) -> bool {
        // Any value of any occurrence of the header may satisfy any configured value.
        headers.get_all(&self.name).any(|value| {
            let value = value.as_bytes();
            self.values.iter().any(|expected| match expected {
                HeaderValueMatcher::Exact(e) => value.eq_ignore_ascii_case(e.as_bytes()),
                HeaderValueMatcher::Regex(re) => {
                    std::str::from_utf8(value).is_ok_and(|v| re.is_match(v))
                }
            })
        })
    }
}

/// Compiles a route's hosts, headers and paths; `None` (with a warning) when something cannot
/// be compiled, so one bad route never takes the others down.
fn compile_route(
    route: &Arc<Route>,
    service: Option<Arc<Service>>,
) -> Option<(RouteRules, Vec<PathMatcher>)> {
    let hosts = route.hosts.iter().map(|h| HostPattern::parse(h)).collect();
    let mut headers = Vec::with_capacity(route.headers.len());
    for (name, values) in &route.headers {
        let Ok(header_name) = HeaderName::from_bytes(name.as_bytes()) else {
            tracing::warn!(route = %route.label(), header = %name, "route skipped: invalid header name");
            return None;
        };
        let mut matchers = Vec::with_capacity(values.len());
        for value in values {
            let matcher = match value.strip_prefix("~*") {
                Some(pattern) => {
                    HeaderValueMatcher::Regex(compile_regex(route, &format!("(?i){pattern}"))?)
                }
                None => HeaderValueMatcher::Exact(value.clone()),
            };
            matchers.push(matcher);
        }
        headers.push(HeaderRule {
            name: header_name,
            values: matchers,
        });
    }

    let mut paths = Vec::with_capacity(route.paths.len().max(1));
    for path in &route.paths {
        match path.strip_prefix('~') {
            // Group the pattern so the anchor covers every alternative (`~/a|/b`).
            Some(pattern) => paths.push(PathMatcher::Regex(compile_regex(
                route,
                &format!("^(?:{pattern})"),
            )?)),
            None => paths.push(PathMatcher::Prefix(path.clone())),
        }
    }
    if paths.is_empty() {
        paths.push(PathMatcher::Any);
    }
    let rules = RouteRules {
        route: Arc::clone(route),
        service,
        hosts,
        headers,
    };
    Some((rules, paths))
}

fn compile_regex(route: &Route, pattern: &str) -> Option<Regex> {
    match Regex::new(pattern) {
        Ok(regex) => Some(regex),
        Err(error) => {
            tracing::warn!(route = %route.label(), %pattern, %error, "route skipped: invalid regex");
            None
        }
    }
}

/// The part of the priority shared by all of a route's paths.
fn base_priority(route: &Route, rules: &RouteRules) -> Priority {
    let set = |present: bool| u8::from(present);
    Priority {
        match_weight: set(!route.methods.is_empty())
            + set(!rules.hosts.is_empty())
            + set(!rules.headers.is_empty())
            + set(!route.paths.is_empty()),
        plain_hosts_only: !rules.hosts.is_empty()
            && !rules.hosts.iter().any(HostPattern::is_wildcard),
        header_count: rules.headers.len(),
        regex: false,
        regex_priority: 0,
        path_len: 0,
    }
}

fn path_priority(base: Priority, route: &Route, path: &PathMatcher) -> Priority {
    match path {
        PathMatcher::Any => base,
        PathMatcher::Prefix(prefix) => Priority {
            path_len: prefix.len(),
            ..base
        },
        PathMatcher::Regex(_) => Priority {
            regex: true,
            regex_priority: route.regex_priority,
            ..base
        },
    }
}

/// Splits `name:port`; a bracketed IPv6 literal keeps its brackets. A suffix that is not a
/// number is part of the name, as in Kong's `split_host_port`.
fn split_host_port(host: &str) -> (&str, Option<u16>) {
    let split_at = if host.starts_with('[') {
        host.find("]:").map(|i| i + 1)
    } else {
        host.rfind(':')
    };
    match split_at {
        Some(i) => match host[i + 1..].parse::<u16>() {
            Ok(port) => (&host[..i], Some(port)),
            Err(_) => (host, None),
        },
        None => (host, None),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use actix_web::http::header::HeaderValue;

    use super::*;
    use crate::config::model::{derived_id, PathHandling, Protocol};

    fn service(name: &str, path: Option<&str>) -> Service {
        Service::for_tests(name, "h", 3000, path)
    }

    /// A route with Kong's defaults, sending to the service called `service`.
    fn route(name: &str, service: &str, paths: &[&str]) -> Route {
        Route {
            id: derived_id("route", name),
            name: Some(name.to_owned()),
            service: Some(derived_id("service", service)),
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            methods: vec![],
            hosts: vec![],
            headers: BTreeMap::new(),
            protocols: vec![Protocol::Http, Protocol::Https],
            strip_path: true,
            preserve_host: false,
            path_handling: PathHandling::V0,
            regex_priority: 0,
            request_buffering: true,
            response_buffering: true,
            tags: vec![],
            created_at: 0,
            updated_at: 0,
        }
    }

    fn router(services: Vec<Service>, routes: Vec<Route>) -> Router {
        Router::new(&Config {
            services: services.into_iter().map(Arc::new).collect(),
            routes: routes.into_iter().map(Arc::new).collect(),
            ..Config::default()
        })
    }

    /// Routes that all send to one service without a path.
    fn simple(routes: Vec<Route>) -> Router {
        router(vec![service("s", None)], routes)
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    /// (route name, matched path, upstream path), or `None`.
    fn hit(
        router: &Router,
        method: &str,
        host: Option<&str>,
        path: &str,
    ) -> Option<(String, String, String)> {
        hit_with(router, method, host, path, &HeaderMap::new())
    }

    fn hit_with(
        router: &Router,
        method: &str,
        host: Option<&str>,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<(String, String, String)> {
        router.find(method, host, path, headers).map(|m| {
            (
                m.route.label(),
                m.matched_path.into_owned(),
                m.upstream_path,
            )
        })
    }

    fn name(router: &Router, method: &str, host: Option<&str>, path: &str) -> Option<String> {
        hit(router, method, host, path).map(|(name, _, _)| name)
    }

    fn owned(route: &str, matched: &str, upstream: &str) -> Option<(String, String, String)> {
        Some((route.to_owned(), matched.to_owned(), upstream.to_owned()))
    }

    #[test]
    fn spec_worked_examples() {
        let r = router(
            vec![service("marketplace", None), service("mcp", Some("/mcp"))],
            vec![
                route("market", "marketplace", &["/marketplace"]),
                route("mcp", "mcp", &["/mcp"]),
            ],
        );
        assert_eq!(
            hit(&r, "GET", None, "/marketplace/users"),
            owned("market", "/marketplace", "/users")
        );
        assert_eq!(
            hit(&r, "POST", None, "/marketplace"),
            owned("market", "/marketplace", "/")
        );
        assert_eq!(hit(&r, "POST", None, "/mcp"), owned("mcp", "/mcp", "/mcp"));
        let m = r.find("POST", None, "/mcp", &HeaderMap::new()).unwrap();
        assert_eq!(m.service.unwrap().label(), "mcp");
    }

    #[test]
    fn trailing_slash_on_the_request() {
        let r = simple(vec![route("market", "s", &["/marketplace"])]);
        assert_eq!(
            hit(&r, "GET", None, "/marketplace/"),
            owned("market", "/marketplace", "/")
        );
        let r = router(
            vec![service("s", Some("/api"))],
            vec![route("market", "s", &["/marketplace"])],
        );
        assert_eq!(
            hit(&r, "GET", None, "/marketplace/"),
            owned("market", "/marketplace", "/api/")
        );
    }

    #[test]
    fn strip_path_false_forwards_the_whole_path() {
        let r = router(
            vec![service("s", Some("/up"))],
            vec![Route {
                strip_path: false,
                ..route("keep", "s", &["/mcp"])
            }],
        );
        assert_eq!(
            hit(&r, "POST", None, "/mcp/x"),
            owned("keep", "/mcp", "/up/mcp/x")
        );
        let m = r.find("POST", None, "/mcp/x", &HeaderMap::new()).unwrap();
        assert_eq!(m.stripped_prefix(), None, "nothing was stripped");
    }

    #[test]
    fn stripped_prefix_is_reported_for_x_forwarded_prefix() {
        let r = simple(vec![
            route("market", "s", &["/marketplace"]),
            route("any", "s", &[]),
        ]);
        let m = r
            .find("GET", None, "/marketplace/x", &HeaderMap::new())
            .unwrap();
        assert_eq!(m.stripped_prefix(), Some("/marketplace"));
        let m = r.find("GET", None, "/other", &HeaderMap::new()).unwrap();
        assert_eq!(m.stripped_prefix(), None, "no path matched");
    }

    #[test]
    fn plain_path_is_a_string_prefix() {
        let r = simple(vec![route("mcp", "s", &["/mcp"])]);
        assert_eq!(hit(&r, "GET", None, "/mcpx"), owned("mcp", "/mcp", "/x"));
        assert_eq!(hit(&r, "GET", None, "/mcp/a"), owned("mcp", "/mcp", "/a"));
        assert_eq!(name(&r, "GET", None, "/mc"), None);
        assert_eq!(name(&r, "GET", None, "/x/mcp"), None);
        // Paths are case-sensitive, as in Kong.
        assert_eq!(name(&r, "GET", None, "/MCP"), None);
    }

    #[test]
    fn longest_prefix_wins_whatever_the_order() {
        let routes = || {
            vec![
                route("short", "s", &["/api"]),
                route("long", "s", &["/api/v1"]),
            ]
        };
        for routes in [routes(), routes().into_iter().rev().collect()] {
            let r = simple(routes);
            assert_eq!(
                hit(&r, "GET", None, "/api/v1/users"),
                owned("long", "/api/v1", "/users")
            );
            assert_eq!(
                hit(&r, "GET", None, "/api/v2"),
                owned("short", "/api", "/v2")
            );
        }
    }

    #[test]
    fn a_route_with_several_paths_competes_path_by_path() {
        // Kong splits such a route per path, so its long path beats another route's shorter one
        // and its short path loses to another route's longer one.
        let r = simple(vec![
            route("a", "s", &["/a", "/longer/path"]),
            route("b", "s", &["/longer"]),
        ]);
        assert_eq!(
            hit(&r, "GET", None, "/longer/path/x"),
            owned("a", "/longer/path", "/x")
        );
        assert_eq!(
            hit(&r, "GET", None, "/longer/x"),
            owned("b", "/longer", "/x")
        );
        assert_eq!(hit(&r, "GET", None, "/a/x"), owned("a", "/a", "/x"));
    }

    #[test]
    fn regex_path_with_captures_matches_from_the_start() {
        let r = simple(vec![route("user", "s", &[r"~/users/(?<id>\d+)"])]);
        assert_eq!(
            hit(&r, "GET", None, "/users/42/profile"),
            owned("user", "/users/42", "/profile")
        );
        assert_eq!(
            hit(&r, "GET", None, "/users/42"),
            owned("user", "/users/42", "/")
        );
        assert_eq!(
            name(&r, "GET", None, "/api/users/42"),
            None,
            "anchored at the start"
        );
        assert_eq!(name(&r, "GET", None, "/users/x"), None);
    }

    #[test]
    fn regex_anchor_covers_every_alternative() {
        let r = simple(vec![route("alt", "s", &["~/a|/b"])]);
        assert_eq!(name(&r, "GET", None, "/b/x").as_deref(), Some("alt"));
        assert_eq!(name(&r, "GET", None, "/x/b"), None);
    }

    #[test]
    fn regex_end_anchor_is_the_users_choice() {
        let r = simple(vec![route("exact", "s", &["~/status$"])]);
        assert_eq!(
            hit(&r, "GET", None, "/status"),
            owned("exact", "/status", "/")
        );
        assert_eq!(name(&r, "GET", None, "/status/x"), None);
    }

    /// The example of "Regex evaluation order" in Kong's traditional router page: evaluated in
    /// the order `/version/\d+/status/\d+`, `/status/\d+`, `/version/any/`, `/version`.
    #[test]
    fn kong_regex_evaluation_order_example() {
        let r = simple(vec![
            route("status", "s", &[r"~/status/\d+"]),
            Route {
                regex_priority: 6,
                ..route("version-status", "s", &[r"~/version/\d+/status/\d+"])
            },
            route("version", "s", &["/version"]),
            route("version-any", "s", &["~/version/any/"]),
        ]);
        assert_eq!(
            name(&r, "GET", None, "/version/1/status/2").as_deref(),
            Some("version-status")
        );
        assert_eq!(
            name(&r, "GET", None, "/status/1").as_deref(),
            Some("status")
        );
        assert_eq!(
            name(&r, "GET", None, "/version/any/x").as_deref(),
            Some("version-any")
        );
        assert_eq!(
            name(&r, "GET", None, "/version/x").as_deref(),
            Some("version")
        );
    }

    #[test]
    fn regex_priority_orders_regex_paths() {
        let low = route("low", "s", &["~/v"]);
        let high = Route {
            regex_priority: 10,
            ..route("high", "s", &["~/v1"])
        };
        let r = simple(vec![low, high]);
        assert_eq!(name(&r, "GET", None, "/v1/x").as_deref(), Some("high"));
        assert_eq!(name(&r, "GET", None, "/v2").as_deref(), Some("low"));
        // A negative priority goes after the default 0.
        let r = simple(vec![
            Route {
                regex_priority: -1,
                ..route("negative", "s", &["~/v"])
            },
            route("zero", "s", &["~/v"]),
        ]);
        assert_eq!(name(&r, "GET", None, "/v").as_deref(), Some("zero"));
    }

    #[test]
    fn regex_is_tried_before_a_longer_prefix() {
        let r = simple(vec![
            route("prefix", "s", &["/api/account"]),
            route("regex", "s", &["~/api/.*"]),
        ]);
        assert_eq!(
            name(&r, "GET", None, "/api/account/all").as_deref(),
            Some("regex")
        );
    }

    #[test]
    fn equal_priority_keeps_configuration_order() {
        let r = simple(vec![
            route("first", "s", &["/same"]),
            route("second", "s", &["/same"]),
        ]);
        assert_eq!(name(&r, "GET", None, "/same").as_deref(), Some("first"));
        let r = simple(vec![
            route("first", "s", &["~/same"]),
            route("second", "s", &["~/same"]),
        ]);
        assert_eq!(name(&r, "GET", None, "/same").as_deref(), Some("first"));
    }

    #[test]
    fn methods_narrow_case_insensitively() {
        let r = simple(vec![Route {
            methods: vec!["GET".into(), "HEAD".into()],
            ..route("read", "s", &["/x"])
        }]);
        assert_eq!(name(&r, "GET", None, "/x").as_deref(), Some("read"));
        assert_eq!(name(&r, "get", None, "/x").as_deref(), Some("read"));
        assert_eq!(name(&r, "HEAD", None, "/x/y").as_deref(), Some("read"));
        assert_eq!(name(&r, "POST", None, "/x"), None);
    }

    #[test]
    fn more_criteria_are_tried_first() {
        // Kong's own example: hosts+methods before hosts alone.
        let r = simple(vec![
            Route {
                hosts: vec!["example.com".into()],
                ..route("host", "s", &[])
            },
            Route {
                hosts: vec!["example.com".into()],
                methods: vec!["POST".into()],
                ..route("host-post", "s", &[])
            },
        ]);
        assert_eq!(
            name(&r, "GET", Some("example.com"), "/").as_deref(),
            Some("host")
        );
        assert_eq!(
            name(&r, "POST", Some("example.com"), "/").as_deref(),
            Some("host-post")
        );
        // A host+path route beats a longer path alone.
        let r = simple(vec![
            route("long", "s", &["/api/v1/long"]),
            Route {
                hosts: vec!["a.test".into()],
                ..route("hosted", "s", &["/"])
            },
        ]);
        assert_eq!(
            name(&r, "GET", Some("a.test"), "/api/v1/long").as_deref(),
            Some("hosted")
        );
        assert_eq!(
            name(&r, "GET", Some("b.test"), "/api/v1/long").as_deref(),
            Some("long")
        );
    }

    #[test]
    fn hosts_narrow_exactly_ignoring_case_and_port() {
        let r = simple(vec![Route {
            hosts: vec!["api.example.com".into()],
            ..route("api", "s", &["/"])
        }]);
        assert_eq!(
            name(&r, "GET", Some("api.example.com"), "/").as_deref(),
            Some("api")
        );
        assert_eq!(
            name(&r, "GET", Some("API.Example.COM:8000"), "/").as_deref(),
            Some("api")
        );
        assert_eq!(name(&r, "GET", Some("other.example.com"), "/"), None);
        assert_eq!(name(&r, "GET", Some("api.example.com.evil"), "/"), None);
        assert_eq!(name(&r, "GET", None, "/"), None, "no Host, no match");
    }

    #[test]
    fn host_entry_with_a_port_requires_it() {
        let r = simple(vec![Route {
            hosts: vec!["api.test:8443".into()],
            ..route("api", "s", &[])
        }]);
        assert_eq!(
            name(&r, "GET", Some("api.test:8443"), "/").as_deref(),
            Some("api")
        );
        assert_eq!(name(&r, "GET", Some("api.test:8000"), "/"), None);
        assert_eq!(name(&r, "GET", Some("api.test"), "/"), None);
    }

    #[test]
    fn wildcard_hosts() {
        let r = simple(vec![
            Route {
                hosts: vec!["*.example.com".into()],
                ..route("suffix", "s", &[])
            },
            Route {
                hosts: vec!["example.*".into()],
                ..route("prefix", "s", &[])
            },
        ]);
        assert_eq!(
            name(&r, "GET", Some("a.example.com"), "/").as_deref(),
            Some("suffix")
        );
        assert_eq!(
            name(&r, "GET", Some("x.y.EXAMPLE.com:80"), "/").as_deref(),
            Some("suffix")
        );
        assert_eq!(
            name(&r, "GET", Some("example.org"), "/").as_deref(),
            Some("prefix")
        );
        assert_eq!(name(&r, "GET", Some("notexample.org"), "/"), None);
    }

    #[test]
    fn plain_hosts_beat_wildcards_at_equal_weight() {
        let r = simple(vec![
            Route {
                hosts: vec!["*.example.com".into()],
                ..route("wild", "s", &["/"])
            },
            Route {
                hosts: vec!["a.example.com".into()],
                ..route("plain", "s", &["/"])
            },
        ]);
        assert_eq!(
            name(&r, "GET", Some("a.example.com"), "/").as_deref(),
            Some("plain")
        );
        assert_eq!(
            name(&r, "GET", Some("b.example.com"), "/").as_deref(),
            Some("wild")
        );
    }

    #[test]
    fn ipv6_host() {
        let r = simple(vec![Route {
            hosts: vec!["[::1]".into()],
            ..route("v6", "s", &[])
        }]);
        assert_eq!(
            name(&r, "GET", Some("[::1]:8000"), "/").as_deref(),
            Some("v6")
        );
        assert_eq!(split_host_port("[::1]"), ("[::1]", None));
        assert_eq!(split_host_port("h:x"), ("h:x", None));
    }

    #[test]
    fn headers_narrow_by_any_value_case_insensitively() {
        let mut wanted = BTreeMap::new();
        wanted.insert("version".to_owned(), vec!["v1".to_owned(), "v2".to_owned()]);
        let r = simple(vec![Route {
            headers: wanted,
            ..route("versioned", "s", &[])
        }]);
        let hit = |h: &[(&'static str, &'static str)]| {
            hit_with(&r, "GET", None, "/", &headers(h)).map(|m| m.0)
        };
        assert_eq!(hit(&[("version", "v1")]).as_deref(), Some("versioned"));
        assert_eq!(hit(&[("version", "V2")]).as_deref(), Some("versioned"));
        assert_eq!(
            hit(&[("version", "v3"), ("version", "v2")]).as_deref(),
            Some("versioned")
        );
        assert_eq!(hit(&[("version", "v3")]), None);
        assert_eq!(hit(&[]), None);
    }

    #[test]
    fn header_regex_values_and_header_count() {
        let mut one = BTreeMap::new();
        one.insert("x-team".to_owned(), vec!["~*^blue".to_owned()]);
        let mut two = one.clone();
        two.insert("x-env".to_owned(), vec!["prod".to_owned()]);
        let r = simple(vec![
            Route {
                headers: one,
                ..route("one", "s", &[])
            },
            Route {
                headers: two,
                ..route("two", "s", &[])
            },
        ]);
        let hit = |h: &[(&'static str, &'static str)]| {
            hit_with(&r, "GET", None, "/", &headers(h)).map(|m| m.0)
        };
        assert_eq!(
            hit(&[("x-team", "BLUE-1"), ("x-env", "prod")]).as_deref(),
            Some("two")
        );
        assert_eq!(hit(&[("x-team", "blue-1")]).as_deref(), Some("one"));
        assert_eq!(hit(&[("x-team", "red")]), None);
    }

    #[test]
    fn disabled_service_routes_do_not_exist() {
        let r = router(
            vec![
                Service {
                    enabled: false,
                    ..service("off", None)
                },
                service("on", None),
            ],
            vec![
                route("specific", "off", &["/api/v1"]),
                route("general", "on", &["/api"]),
            ],
        );
        assert_eq!(name(&r, "GET", None, "/api/v1").as_deref(), Some("general"));
        let r = router(
            vec![Service {
                enabled: false,
                ..service("off", None)
            }],
            vec![route("x", "off", &["/"])],
        );
        assert_eq!(name(&r, "GET", None, "/"), None);
    }

    #[test]
    fn route_without_service_still_matches() {
        let r = simple(vec![Route {
            service: None,
            ..route("orphan", "s", &["/o"])
        }]);
        let m = r.find("GET", None, "/o/x", &HeaderMap::new()).unwrap();
        assert!(m.service.is_none());
        assert_eq!(m.upstream_path, "/x");
    }

    #[test]
    fn route_without_paths_forwards_the_whole_path() {
        let r = router(
            vec![service("s", Some("/base"))],
            vec![Route {
                hosts: vec!["h.test".into()],
                ..route("host", "s", &[])
            }],
        );
        assert_eq!(
            hit(&r, "GET", Some("h.test"), "/a/b"),
            owned("host", "", "/base/a/b")
        );
    }

    #[test]
    fn path_handling_v1_through_the_router() {
        let r = router(
            vec![service("s", Some("/s"))],
            vec![Route {
                path_handling: PathHandling::V1,
                ..route("v1", "s", &["/tv1"])
            }],
        );
        assert_eq!(
            hit(&r, "GET", None, "/tv1req"),
            owned("v1", "/tv1", "/sreq")
        );
    }

    #[test]
    fn invalid_regex_skips_only_that_route() {
        let r = simple(vec![
            route("bad", "s", &["~/(unclosed"]),
            route("good", "s", &["/"]),
        ]);
        assert_eq!(name(&r, "GET", None, "/(unclosed").as_deref(), Some("good"));
        let mut bad_header = BTreeMap::new();
        bad_header.insert("x".to_owned(), vec!["~*(".to_owned()]);
        let r = simple(vec![Route {
            headers: bad_header,
            ..route("bad", "s", &["/"])
        }]);
        assert_eq!(name(&r, "GET", None, "/"), None);
    }

    #[test]
    fn no_match_is_none() {
        let r = simple(vec![route("a", "s", &["/a"])]);
        assert!(r.find("GET", None, "/b", &HeaderMap::new()).is_none());
        assert!(simple(vec![])
            .find("GET", None, "/", &HeaderMap::new())
            .is_none());
    }
}
