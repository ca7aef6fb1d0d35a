//! The integration harness: a real mock upstream and a real gateway, both on `127.0.0.1:0`,
//! configured by a decK file written to a temporary directory.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use gateway::{GatewayHandle, Settings};
use mock_marketplace::{MockHandle, Options};

pub struct Harness {
    pub mock: MockHandle,
    pub gateway: GatewayHandle,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub http: reqwest::Client,
}

impl Harness {
    /// Starts a mock with `options` and a gateway serving `yaml`, where `{mock}` stands for
    /// the mock's `host:port` and `{dir}` for the temporary directory.
    pub async fn start(options: Options, yaml: &str) -> Harness {
        Self::start_with(options, yaml, |_| {}).await
    }

    /// Like [`Harness::start`], with `tweak` applied to the gateway's settings.
    pub async fn start_with(
        options: Options,
        yaml: &str,
        tweak: impl FnOnce(&mut Settings),
    ) -> Harness {
        let mock = mock_marketplace::spawn(options).await.expect("mock starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("kong.yaml");
        let text = yaml
            .replace("{mock}", &mock.addr().to_string())
            .replace("{dir}", &dir.path().display().to_string());
        std::fs::write(&config_path, text).expect("write config");
        let mut settings = Settings {
            proxy_listen: "127.0.0.1:0".into(),
            admin_listen: "127.0.0.1:0".into(),
            status_listen: "127.0.0.1:0".into(),
            declarative_config: Some(config_path.clone()),
            prefix: dir.path().to_path_buf(),
            declarative_config_poll_ms: 50,
            worker_processes: 1,
            ..Settings::default()
        };
        tweak(&mut settings);
        let gateway = gateway::spawn(settings).expect("gateway starts");
        Harness {
            mock,
            gateway,
            dir,
            config_path,
            http: reqwest::Client::new(),
        }
    }

    /// The documents' setup: service `mcp-service` → the mock, route `mcp-route` /marketplace.
    pub async fn marketplace(options: Options, plugins: &str) -> Harness {
        Self::start(options, &format!("{}{plugins}", marketplace_yaml())).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway.proxy_url())
    }

    /// A JSON POST with the `Accept` header MCP clients send, to any URL.
    pub fn mcp_post(&self, url: String) -> reqwest::RequestBuilder {
        self.http
            .post(url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
    }

    pub fn admin(&self, path: &str) -> String {
        format!("{}{path}", self.gateway.admin_url())
    }

    pub fn dir_path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The JSON log records in `file` (in the temporary directory), once there are `n`.
    pub async fn log_records(&self, file: &str, n: usize) -> Vec<serde_json::Value> {
        let path = self.dir_path(file);
        eventually(Duration::from_secs(5), || async {
            let text = std::fs::read_to_string(&path).ok()?;
            let records: Vec<serde_json::Value> = text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            (records.len() >= n).then_some(records)
        })
        .await
    }

    /// Replaces the declarative file (placeholders as in `start`).
    pub fn rewrite_config(&self, yaml: &str) {
        let text = yaml
            .replace("{mock}", &self.mock.addr().to_string())
            .replace("{dir}", &self.dir.path().display().to_string());
        // Write then rename, so the poller never reads a half-written file here.
        let tmp = self.dir.path().join("kong.yaml.tmp");
        std::fs::write(&tmp, text).expect("write config");
        std::fs::rename(&tmp, &self.config_path).expect("replace config");
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(self.admin("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// One service `name` at `upstream` (an address), routed by the path `/{name}`.
pub fn one_service_yaml(name: &str, upstream: impl std::fmt::Display) -> String {
    format!(
        "_format_version: \"3.0\"\nservices:\n  - name: {name}\n    url: http://{upstream}\n    routes:\n      - name: {name}\n        paths: [/{name}]\n"
    )
}

pub fn marketplace_yaml() -> &'static str {
    r#"_format_version: "3.0"
services:
  - name: mcp-service
    url: http://{mock}
    routes:
      - name: mcp-route
        paths:
          - /marketplace
"#
}

/// Retries `check` until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A header of a recorded request.
pub fn header<'a>(req: &'a mock_marketplace::RecordedRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
