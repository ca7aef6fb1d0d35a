//! The conformance harness: the documents' setup (mock marketplace on port 0, service
//! `mcp-service`, route `mcp-route` at `/marketplace`) configured through one surface, then
//! exercised through the gateway's proxy exactly as a user would: a real MCP client and REST.

use std::time::Duration;

use gateway::{GatewayHandle, Settings};
use mock_marketplace::{MockHandle, Options};
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use serde_json::{json, Value};

pub type McpClient = RunningService<RoleClient, ClientConfig>;

/// The five tools, in the mock's order.
pub const TOOLS: [&str; 5] = [
    "list_users",
    "get_user",
    "list_orders",
    "list_orders_for_user",
    "search_orders",
];

/// A mock and a gateway configured by a decK document.
pub struct Deployment {
    pub mock: MockHandle,
    pub gateway: GatewayHandle,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

impl Deployment {
    /// `deck` may use `{mock}` for the mock's `host:port` and `{dir}` for a scratch directory.
    pub async fn deck(deck: &str) -> anyhow::Result<Deployment> {
        let mock = mock_marketplace::spawn(Options::default()).await?;
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("kong.yaml");
        let text = deck
            .replace("{mock}", &mock.addr().to_string())
            .replace("{dir}", &dir.path().display().to_string());
        std::fs::write(&file, text)?;
        let gateway = gateway::spawn(Settings {
            proxy_listen: "127.0.0.1:0".into(),
            admin_listen: "127.0.0.1:0".into(),
            declarative_config: Some(file),
            prefix: dir.path().to_path_buf(),
            worker_processes: 1,
            ..Settings::default()
        })?;
        Ok(Deployment {
            mock,
            gateway,
            dir,
            http: reqwest::Client::new(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway.proxy_url())
    }

    /// An MCP client (legacy era, the documents' servers) connected through the gateway.
    pub async fn mcp(&self, path: &str) -> anyhow::Result<McpClient> {
        let transport = StreamableHttpClientTransport::from_uri(self.url(path));
        Ok(ClientConfig::default().serve(transport).await?)
    }

    pub async fn get_json(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        let res = self.http.get(self.url(path)).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await?))
    }
}

/// Lists the tools and calls each one; returns (tool names, each call's structured result).
pub async fn exercise(client: &McpClient) -> anyhow::Result<(Vec<String>, Vec<Value>)> {
    let tools = client.list_tools(None).await?.tools;
    let names = tools.iter().map(|t| t.name.to_string()).collect();
    let calls = [
        ("list_users", json!({})),
        ("get_user", json!({"id": "a1b2c3d4"})),
        ("list_orders", json!({})),
        ("list_orders_for_user", json!({"userId": "e5f6g7h8"})),
        ("search_orders", json!({"q": "milk"})),
    ];
    let mut results = Vec::new();
    for (tool, args) in calls {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        let result =
            tokio::time::timeout(Duration::from_secs(10), client.call_tool(params)).await??;
        results.push(serde_json::to_value(&result)?);
    }
    Ok((names, results))
}

/// The documents' service and route, a second service and route outside any service or route
/// scope (`other-service-{variant}`, `/other`; named per variant because metrics are
/// process-wide), global file-log and prometheus (`ai_metrics`), then `extra`.
pub fn documents_deck(variant: &str, extra: &str) -> String {
    format!(
        r#"_format_version: "3.0"
services:
  - name: mcp-service
    url: http://{{mock}}
    routes:
      - name: mcp-route
        paths:
          - /marketplace
  - name: other-service-{variant}
    url: http://{{mock}}
    routes:
      - name: other-route-{variant}
        paths:
          - /other
plugins:
  - name: file-log
    config:
      path: {{dir}}/requests.log
  - name: prometheus
    config:
      ai_metrics: true
{extra}"#
    )
}

impl Deployment {
    /// Posts a JSON-RPC `tools/call` whose body is `size` bytes or more.
    pub async fn post_mcp_of_size(&self, path: &str, size: usize) -> anyhow::Result<u16> {
        let padding = "x".repeat(size);
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"search_orders","arguments":{{"q":"{padding}"}}}}}}"#
        );
        let res = self
            .http
            .post(self.url(path))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(body)
            .send()
            .await?;
        Ok(res.status().as_u16())
    }

    /// The log records written so far, waiting until there are at least `n`.
    pub async fn records(&self, n: usize) -> anyhow::Result<Vec<Value>> {
        let path = self.dir.path().join("requests.log");
        for _ in 0..200 {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<Value> = text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            if lines.len() >= n {
                return Ok(lines);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        anyhow::bail!("fewer than {n} log records")
    }

    pub async fn metrics(&self) -> anyhow::Result<String> {
        let url = format!("{}/metrics", self.gateway.admin_url());
        Ok(self.http.get(url).send().await?.text().await?)
    }
}
