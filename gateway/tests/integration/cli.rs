//! The `gateway` binary: `--validate` and start-up refusal of a bad configuration.

use std::process::Command;

fn gateway() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
}

#[test]
fn validate_accepts_every_example_configuration() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            continue;
        }
        let out = gateway().arg("--validate").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        seen += 1;
    }
    assert!(seen >= 1);
}

#[test]
fn validate_rejects_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "_format_version: \"3.0\"\nplugins:\n  - name: ai-mcp-proxy\n    config:\n      mode: passthrough-listener\n      max_request_body_size: lots\n",
    )
    .unwrap();
    let out = gateway().arg("--validate").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plugins[0].config.max_request_body_size"),
        "{stderr}"
    );
}

#[test]
fn refuses_to_start_on_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "_format_version: \"3.0\"\nplugins:\n  - name: nope\n",
    )
    .unwrap();
    let out = gateway()
        .env("KONG_PROXY_LISTEN", "127.0.0.1:0")
        .env("KONG_ADMIN_LISTEN", "127.0.0.1:0")
        .env("KONG_DECLARATIVE_CONFIG", &file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
fn a_taken_port_is_a_clean_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let file = format!("{}/../config/kong.yaml", env!("CARGO_MANIFEST_DIR"));
    let out = gateway()
        .env("KONG_PROXY_LISTEN", &addr)
        .env("KONG_ADMIN_LISTEN", "127.0.0.1:0")
        .env("KONG_DECLARATIVE_CONFIG", &file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&addr), "the address is named: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
