//! What a valid decK file becomes: defaults, the url shorthand, nesting, references by name
//! and by id, and environment substitution.

use gateway::config::model::{derived_id, PathHandling, Protocol};
use gateway::config::{self, Config, ConfigError};

const NOW: i64 = 1_700_000_000;
const SVC_ID: &str = "11111111-1111-4111-8111-111111111111";
const ROUTE_ID: &str = "22222222-2222-4222-8222-222222222222";
const ALICE_ID: &str = "33333333-3333-4333-8333-333333333333";
const GROUP_ID: &str = "44444444-4444-4444-8444-444444444444";

fn parse(yaml: &str) -> Result<Config, ConfigError> {
    config::parse_str(yaml, &|_| None, NOW)
}

fn model(yaml: &str) -> serde_json::Value {
    serde_json::to_value(parse(yaml).unwrap()).unwrap()
}

#[test]
fn defaults_are_filled() {
    let config =
        parse("_format_version: '3.0'\nservices: [{host: example.com, routes: [{paths: [/]}]}]\n")
            .unwrap();
    let service = &config.services[0];
    assert_eq!(
        (service.protocol, service.port, service.retries),
        (Protocol::Http, 80, 5)
    );
    assert_eq!(
        (
            service.connect_timeout,
            service.read_timeout,
            service.write_timeout
        ),
        (60_000, 60_000, 60_000)
    );
    assert!(service.enabled && service.path.is_none() && service.name.is_none());
    assert_eq!((service.created_at, service.updated_at), (NOW, NOW));
    let route = &config.routes[0];
    assert_eq!(route.protocols, vec![Protocol::Http, Protocol::Https]);
    assert!(
        route.strip_path
            && !route.preserve_host
            && route.request_buffering
            && route.response_buffering
    );
    assert_eq!(
        (route.path_handling, route.regex_priority),
        (PathHandling::V0, 0)
    );
    assert_eq!(route.service, Some(service.id));
}

#[test]
fn url_shorthand_is_split() {
    let config =
        parse("_format_version: '3.0'\nservices: [{name: s, url: 'https://api.example.com/v1'}]\n")
            .unwrap();
    let s = &config.services[0];
    assert_eq!(
        (s.protocol, s.host.as_str(), s.port, s.path.as_deref()),
        (Protocol::Https, "api.example.com", 443, Some("/v1"))
    );
    let config = parse(
        "_format_version: '3.0'\nservices: [{name: s, protocol: https, host: h, port: 8443}]\n",
    )
    .unwrap();
    let s = &config.services[0];
    assert_eq!(
        (s.protocol, s.host.as_str(), s.port, s.path.as_deref()),
        (Protocol::Https, "h", 8443, None)
    );
}

#[test]
fn matching_fields_are_normalized() {
    let config = parse(
        "_format_version: '3.0'\nroutes: [{methods: [get, Post], hosts: [API.Example.com, '*.Example.org'], headers: {X-Version: ['1']}, paths: ['~/users/(?<id>\\d+)$']}]\n",
    )
    .unwrap();
    let route = &config.routes[0];
    assert_eq!(route.methods, ["GET", "POST"]);
    assert_eq!(route.hosts, ["api.example.com", "*.example.org"]);
    assert_eq!(route.headers["x-version"], ["1"]);
    assert_eq!(route.service, None);
}

const NESTED: &str = r#"
_format_version: "3.0"
services:
  - name: s
    url: http://h:3000/base
    plugins:
      - name: prometheus
    routes:
      - name: r
        paths: [/x]
        plugins:
          - name: key-auth
consumers:
  - username: alice
    keyauth_credentials:
      - key: k1
"#;

const TOP_LEVEL: &str = r#"
_format_version: "3.0"
services:
  - name: s
    url: http://h:3000/base
routes:
  - name: r
    service: s
    paths: [/x]
plugins:
  - name: prometheus
    service: s
  - name: key-auth
    route: {name: r}
consumers:
  - username: alice
keyauth_credentials:
  - key: k1
    consumer: alice
"#;

#[test]
fn nested_and_top_level_give_the_same_model() {
    assert_eq!(model(NESTED), model(TOP_LEVEL));
}

#[test]
fn ids_are_derived_from_natural_keys() {
    let config = parse(NESTED).unwrap();
    assert_eq!(config.services[0].id, derived_id("service", "s"));
    assert_eq!(config.routes[0].id, derived_id("route", "r"));
    assert_eq!(config.consumers[0].id, derived_id("consumer", "alice"));
    let key = format!("prometheus|{}|||", config.services[0].id);
    assert_eq!(config.plugins[0].id, derived_id("plugin", &key));
}

fn by_id_file() -> String {
    format!(
        r#"
_format_version: "3.0"
services:
  - {{id: {SVC_ID}, name: s, url: "http://h"}}
routes:
  - {{id: {ROUTE_ID}, name: r, service: "{SVC_ID}", paths: [/a]}}
  - {{name: r2, service: {{id: "{SVC_ID}"}}, paths: [/b]}}
  - {{name: r3, service: {{name: s}}, paths: [/c]}}
consumer_groups:
  - {{id: {GROUP_ID}, name: g, consumers: [{{id: "{ALICE_ID}"}}]}}
  - {{name: g2, consumers: [{{username: alice}}]}}
  - {{name: g3}}
consumers:
  - {{id: {ALICE_ID}, username: alice, groups: [{{id: "{GROUP_ID}"}}, {{name: g3}}]}}
  - {{username: bob, custom_id: b-1}}
keyauth_credentials:
  - {{key: k1, consumer: "{ALICE_ID}"}}
  - {{key: k2, consumer: {{username: bob}}}}
  - {{key: k3, consumer: {{id: "{ALICE_ID}"}}}}
plugins:
  - {{name: key-auth, service: "{SVC_ID}"}}
  - {{name: key-auth, route: {{id: "{ROUTE_ID}"}}}}
  - {{name: key-auth, consumer: "{ALICE_ID}", route: r2}}
  - {{name: prometheus, service: {{name: s}}, route: r3}}
  - {{name: http-log, consumer: bob, config: {{http_endpoint: "http://logs"}}}}
"#
    )
}

#[test]
fn every_reference_kind_resolves_by_name_and_by_id() {
    let config = parse(&by_id_file()).unwrap();
    let svc = SVC_ID.parse().unwrap();
    let alice = ALICE_ID.parse().unwrap();
    let bob = config.consumers[1].id;
    assert!(config.routes.iter().all(|r| r.service == Some(svc)));
    let [g, g2, g3] = [0, 1, 2].map(|i| &config.consumer_groups[i]);
    assert_eq!(
        (g.id, &g.consumers),
        (GROUP_ID.parse().unwrap(), &vec![alice])
    );
    assert_eq!((&g2.consumers, &g3.consumers), (&vec![alice], &vec![alice]));
    let owners: Vec<_> = config
        .keyauth_credentials
        .iter()
        .map(|c| c.consumer)
        .collect();
    assert_eq!(owners, [alice, bob, alice]);
    let scopes: Vec<_> = config
        .plugins
        .iter()
        .map(|p| (p.service, p.route, p.consumer))
        .collect();
    let (r, r2, r3) = (
        config.routes[0].id,
        config.routes[1].id,
        config.routes[2].id,
    );
    assert_eq!(
        scopes,
        [
            (Some(svc), None, None),
            (None, Some(r), None),
            (None, Some(r2), Some(alice)),
            (Some(svc), Some(r3), None),
            (None, None, Some(bob))
        ]
    );
    assert_eq!(config.groups_of(alice).len(), 3);
}

#[test]
fn null_means_not_set() {
    let config = parse("_format_version: '3.0'\nservices: [{name: s, host: h, path: null, tags: null}]\nplugins: [{name: key-auth, config: {anonymous: null, key_names: null}}]\n").unwrap();
    assert!(config.services[0].path.is_none());
    assert_eq!(
        config.plugins[0].config["key_names"],
        serde_json::json!(["apikey"])
    );
}

#[test]
fn json_documents_are_read() {
    let json = r#"{"_format_version": "3.0", "services": [{"name": "s", "url": "http://h:1"}]}"#;
    assert_eq!(parse(json).unwrap().services[0].port, 1);
}

#[test]
fn environment_is_substituted_before_parsing() {
    let yaml =
        "_format_version: '3.0'\nservices:\n  - name: s\n    url: ${{ env \"DECK_UPSTREAM\" }}\n";
    let env = |name: &str| (name == "DECK_UPSTREAM").then(|| "http://10.0.0.1:8080".to_string());
    let config = config::parse_str(yaml, &env, NOW).unwrap();
    assert_eq!(
        (config.services[0].host.as_str(), config.services[0].port),
        ("10.0.0.1", 8080)
    );
}

#[test]
fn meta_keys_and_older_format_versions_are_accepted() {
    for version in ["1.1", "2.1", "3.0"] {
        let yaml = format!(
            "_format_version: '{version}'\n_transform: true\n_workspace: default\n_info: {{select_tags: [a]}}\nservices: [{{name: s, host: h}}]\n"
        );
        assert_eq!(parse(&yaml).unwrap().services.len(), 1, "{version}");
    }
}

#[test]
fn file_timestamps_are_kept() {
    let config = parse(
        "_format_version: '3.0'\nservices: [{name: s, host: h, created_at: 5, updated_at: 6}]\n",
    )
    .unwrap();
    assert_eq!(
        (config.services[0].created_at, config.services[0].updated_at),
        (5, 6)
    );
}

#[test]
fn ignored_route_fields_are_accepted() {
    let yaml = "_format_version: '3.0'\nroutes: [{paths: [/], https_redirect_status_code: 426, snis: [a.b], sources: [{ip: 1.2.3.4}], destinations: []}]\n";
    assert_eq!(parse(yaml).unwrap().routes.len(), 1);
}
