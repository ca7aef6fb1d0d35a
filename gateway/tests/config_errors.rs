//! Every kind of configuration error, with its exact path and message; the whole list is also a
//! reviewed snapshot so wording changes are deliberate.

use gateway::config;

const NOW: i64 = 1_700_000_000;
const HEAD: &str = "_format_version: \"3.0\"\n";
const SERVICE: &str =
    "services: [{name: s, url: 'http://h:3000', routes: [{name: r, paths: [/a]}]}]\n";

fn env(name: &str) -> Option<String> {
    (name == "DECK_SET").then(|| "value".to_string())
}

/// The error a document (after the format header) produces.
fn error(body: &str) -> String {
    match config::parse_str(&format!("{HEAD}{body}"), &env, NOW) {
        Ok(_) => "(valid)".to_string(),
        Err(e) => e.to_string(),
    }
}

fn mcp(config: &str) -> String {
    error(&format!(
        "plugins: [{{name: ai-mcp-proxy, config: {config}}}]\n"
    ))
}

#[test]
fn unknown_field_at_depth() {
    let e = error("services: [{name: s, host: h, routes: [{pathz: [/a]}]}]\n");
    assert!(
        e.starts_with(
            "services[0].routes[0].pathz: unknown field `pathz`, expected one of `id`, `name`"
        ),
        "{e}"
    );
}

#[test]
fn wrong_type_names_the_expected_type() {
    let e = mcp("{mode: passthrough-listener, max_request_body_size: lots}");
    assert_eq!(
        e,
        "plugins[0].config.max_request_body_size: expected an integer"
    );
}

#[test]
fn unknown_plugin() {
    assert_eq!(
        error("plugins: [{name: foo}]\n"),
        "plugins[0].name: unknown plugin \"foo\""
    );
}

#[test]
fn unknown_reference() {
    let e = error(&format!("{SERVICE}routes: [{{service: x, paths: [/b]}}]\n"));
    assert_eq!(e, "routes[0].service: no service named \"x\"");
}

#[test]
fn duplicate_name() {
    let e = error("services: [{name: s, host: a}, {name: s, host: b}]\n");
    assert_eq!(
        e,
        "services[1].name: duplicate service name \"s\" (first at services[0].name)"
    );
}

#[test]
fn bad_regex() {
    let e = error("services: [{name: s, host: h, routes: [{paths: [/a]}, {paths: ['~/x(']}]}]\n");
    assert_eq!(
        e,
        "services[0].routes[1].paths[0]: invalid regex: unclosed group"
    );
}

#[test]
fn unsupported_mode() {
    let e = mcp("{mode: listener}");
    assert_eq!(e, "plugins[0].config.mode: mode \"listener\" is not supported yet (only passthrough-listener)");
}

#[test]
fn consumer_scoped_mcp_proxy() {
    let e = error("consumers: [{username: c}]\nplugins: [{name: ai-mcp-proxy, consumer: c, config: {mode: passthrough-listener}}]\n");
    assert_eq!(
        e,
        "plugins[0].consumer: ai-mcp-proxy cannot be consumer-scoped"
    );
    let e = error("consumers: [{username: c, plugins: [{name: ai-mcp-proxy, config: {mode: passthrough-listener}}]}]\n");
    assert_eq!(
        e,
        "consumers[0].plugins[0]: ai-mcp-proxy cannot be consumer-scoped"
    );
}

#[test]
fn missing_and_forbidden_environment_variables() {
    let e = error("services: [{name: s, url: '${{ env \"DECK_UNSET\" }}'}]\n");
    assert_eq!(e, "line 2: environment variable \"DECK_UNSET\" is not set");
    let e = error("services: [{name: s, url: '${{ env \"PATH\" }}'}]\n");
    assert_eq!(
        e,
        "line 2: environment variable \"PATH\" cannot be used: decK only reads variables whose name starts with DECK_"
    );
}

/// Every error kind, one line each: reviewed as a snapshot.
#[test]
fn error_catalogue() {
    let cases: &[(&str, String)] = &[
        ("syntax", error("services: [\n")),
        ("empty document", config::parse_str("", &env, NOW).unwrap_err().to_string()),
        ("not a mapping", config::parse_str("- a\n", &env, NOW).unwrap_err().to_string()),
        ("missing format version", config::parse_str("services: []\n", &env, NOW).unwrap_err().to_string()),
        ("unsupported format version", config::parse_str("_format_version: '4.0'\n", &env, NOW).unwrap_err().to_string()),
        ("unknown top-level key", error("upstreams: []\n")),
        ("unknown field at depth", error("services: [{name: s, host: h, routes: [{pathz: [/a]}]}]\n")),
        ("url and host", error("services: [{name: s, url: 'http://h', host: h}]\n")),
        ("bad url", error("services: [{name: s, url: 'h:3000'}]\n")),
        ("unknown url scheme", error("services: [{name: s, url: 'ftp://h'}]\n")),
        ("no host", error("services: [{name: s}]\n")),
        ("service path", error("services: [{name: s, host: h, path: x}]\n")),
        ("port out of range", error("services: [{name: s, host: h, port: 70000}]\n")),
        ("unknown protocol", error("services: [{name: s, host: h, protocol: ftp}]\n")),
        ("duplicate service id", error("services: [{id: 11111111-1111-4111-8111-111111111111, host: a}, {id: 11111111-1111-4111-8111-111111111111, host: b}]\n")),
        ("bad id", error("services: [{id: nope, host: a}]\n")),
        ("route matches nothing", error("routes: [{name: r}]\n")),
        ("route path", error("routes: [{paths: [a]}]\n")),
        ("bad regex", error("routes: [{paths: ['~/x(']}]\n")),
        ("bad method", error("routes: [{methods: ['G T']}]\n")),
        ("bad host", error("routes: [{hosts: ['a.*.b']}]\n")),
        ("host header", error("routes: [{headers: {Host: [a]}}]\n")),
        ("path_handling", error("routes: [{paths: [/], path_handling: v2}]\n")),
        ("nested route with service", error("services: [{name: s, host: h, routes: [{paths: [/], service: s}]}]\n")),
        ("duplicate route name", error(&format!("{SERVICE}routes: [{{name: r, paths: [/b]}}]\n"))),
        ("unknown service", error(&format!("{SERVICE}routes: [{{service: x, paths: [/b]}}]\n"))),
        ("unknown service id", error(&format!("{SERVICE}routes: [{{service: {{id: 11111111-1111-4111-8111-111111111111}}, paths: [/b]}}]\n"))),
        ("bad reference shape", error(&format!("{SERVICE}routes: [{{service: [s], paths: [/b]}}]\n"))),
        ("unknown plugin", error("plugins: [{name: foo}]\n")),
        ("plugin without name", error("plugins: [{config: {}}]\n")),
        ("unknown route", error("plugins: [{name: key-auth, route: nope}]\n")),
        ("unknown consumer", error("plugins: [{name: key-auth, consumer: nope}]\n")),
        ("nested plugin with its parent", error("services: [{name: s, host: h, plugins: [{name: key-auth, service: s}]}]\n")),
        ("duplicate plugin on a scope", error("plugins: [{name: key-auth}, {name: key-auth, instance_name: second}]\n")),
        ("duplicate instance_name", error(&format!("{SERVICE}plugins: [{{name: key-auth, instance_name: x}}, {{name: prometheus, instance_name: x}}]\n"))),
        ("config not an object", error("plugins: [{name: key-auth, config: yes}]\n")),
        ("list as an entity", error("services: [[s, h]]\n")),
        ("list as a config", error("plugins: [{name: ai-mcp-proxy, config: [passthrough-listener]}]\n")),
        ("unknown config field", error("plugins: [{name: prometheus, config: {ai_metric: true}}]\n")),
        ("wrong config type", mcp("{mode: passthrough-listener, max_request_body_size: lots}")),
        ("negative size", mcp("{mode: passthrough-listener, max_request_body_size: -1}")),
        ("missing mode", mcp("{}")),
        ("unknown mode", mcp("{mode: bogus}")),
        ("unsupported mode", mcp("{mode: conversion-listener}")),
        ("nested plugin config", error("services: [{name: s, host: h, plugins: [{name: ai-mcp-proxy, config: {mode: listener}}]}]\n")),
        ("nested route plugin config", error("services: [{name: s, host: h, routes: [{paths: [/a]}, {paths: [/b], plugins: [{name: file-log, config: {path: 1}}]}]}]\n")),
        ("tool without description", mcp("{mode: passthrough-listener, tools: [{name: t}]}")),
        ("tool without name", mcp("{mode: passthrough-listener, tools: [{description: d}]}")),
        ("duplicate tool", mcp("{mode: passthrough-listener, tools: [{name: t, description: d}, {name: t, description: e}]}")),
        ("unknown acl field", mcp("{mode: passthrough-listener, tools: [{name: t, description: d, acl: {allowed: [a]}}]}")),
        ("bad consumer_identifier", mcp("{mode: passthrough-listener, consumer_identifier: email}")),
        ("default_acl scope", mcp("{mode: passthrough-listener, default_acl: [{scope: widgets}]}")),
        ("consumer-scoped mcp", error("consumers: [{username: c}]\nplugins: [{name: ai-mcp-proxy, consumer: c, config: {mode: passthrough-listener}}]\n")),
        ("key-auth empty key_names", error("plugins: [{name: key-auth, config: {key_names: []}}]\n")),
        ("file-log without path", error("plugins: [{name: file-log}]\n")),
        ("http-log endpoint", error("plugins: [{name: http-log, config: {http_endpoint: 'ftp://x'}}]\n")),
        ("http-log method", error("plugins: [{name: http-log, config: {http_endpoint: 'http://x', method: GET}}]\n")),
        ("http-log queue", error("plugins: [{name: http-log, config: {http_endpoint: 'http://x', queue: {concurrency_limit: 2}}}]\n")),
        ("consumer without identity", error("consumers: [{tags: [a]}]\n")),
        ("duplicate username", error("consumers: [{username: a}, {username: a}]\n")),
        ("duplicate custom_id", error("consumers: [{custom_id: a}, {custom_id: a}]\n")),
        ("unknown group", error("consumers: [{username: a, groups: [{name: g}]}]\n")),
        ("unknown group member", error("consumer_groups: [{name: g, consumers: [{username: a}]}]\n")),
        ("group plugins", error("consumer_groups: [{name: g, plugins: [{name: key-auth}]}]\n")),
        ("duplicate key", error("consumers: [{username: a, keyauth_credentials: [{key: k}, {key: k}]}]\n")),
        ("credential without consumer", error("keyauth_credentials: [{key: k}]\n")),
        ("credential for unknown consumer", error("keyauth_credentials: [{key: k, consumer: a}]\n")),
        ("missing env", error("services: [{name: s, url: '${{ env \"DECK_UNSET\" }}'}]\n")),
        ("non-DECK env", error("services: [{name: s, url: '${{ env \"PATH\" }}'}]\n")),
        ("other template", error("services: [{name: s, url: '${{ env DECK_SET }}'}]\n")),
    ];
    let lines: Vec<String> = cases
        .iter()
        .map(|(name, e)| format!("{name}: {e}"))
        .collect();
    insta::assert_yaml_snapshot!(lines);
}
