//! Every example in `config/` validates, and the normalized models of the main examples are
//! reviewed snapshots (ids are derived from natural keys, so they are stable and kept).

use std::path::{Path, PathBuf};

use gateway::config::{self, Summary};

const NOW: i64 = 1_700_000_000;

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config")
}

fn load(name: &str) -> config::Config {
    let text = std::fs::read_to_string(config_dir().join(name)).expect("example exists");
    config::parse_str(&text, &|_| None, NOW).expect("example is valid")
}

#[test]
fn every_example_validates() {
    let mut checked = 0;
    let entries = std::fs::read_dir(config_dir()).expect("config/ exists");
    for entry in entries {
        let path = entry.expect("readable directory").path();
        let is_config = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        );
        if is_config {
            let summary = config::validate_file(&path);
            assert!(
                summary.is_ok(),
                "{}: {}",
                path.display(),
                summary.unwrap_err()
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "expected the six examples, found {checked}");
}

#[test]
fn summary_counts_entities() {
    let summary = config::validate_file(&config_dir().join("acls.yaml")).unwrap();
    let expected = Summary {
        services: 1,
        routes: 1,
        plugins: 2,
        consumers: 4,
        consumer_groups: 3,
        keyauth_credentials: 4,
    };
    assert_eq!(summary, expected);
    assert_eq!(
        summary.to_string(),
        "1 services, 1 routes, 2 plugins, 4 consumers, 3 consumer groups, 4 key-auth credentials"
    );
}

#[test]
fn kong_yaml_model() {
    insta::assert_yaml_snapshot!(load("kong.yaml"));
}

#[test]
fn acls_yaml_model() {
    insta::assert_yaml_snapshot!(load("acls.yaml"));
}

#[test]
fn observability_yaml_plugins() {
    let config = load("observability.yaml");
    let plugins: Vec<_> = config
        .plugins
        .iter()
        .map(|p| (&p.name, &p.config))
        .collect();
    insta::assert_yaml_snapshot!(plugins);
}

#[test]
fn missing_file_names_the_os_error() {
    let err = config::load_file(Path::new("/nonexistent/kong.yaml")).unwrap_err();
    assert_eq!(err.path, "/nonexistent/kong.yaml");
    assert!(err.message.contains("No such file or directory"), "{err}");
}
