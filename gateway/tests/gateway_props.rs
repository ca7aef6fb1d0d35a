//! Property tests through a running gateway with ai-mcp-proxy in front of the recording mock:
//! generated JSON-RPC envelopes (any key order, any whitespace, ids of every type) and
//! arbitrary bytes. Whatever the body, the gateway answers without a 5xx of its own and keeps
//! serving; what reaches the upstream is byte for byte what the client sent; a well-formed
//! envelope is forwarded, and its id comes back with its type.

use std::time::Duration;

use gateway::{GatewayHandle, Settings};
use mock_marketplace::{MockHandle, Options};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

struct World {
    rt: tokio::runtime::Runtime,
    mock: MockHandle,
    gateway: GatewayHandle,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl World {
    fn start() -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mock = rt
            .block_on(mock_marketplace::spawn(Options::default()))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("kong.yaml");
        let yaml = format!(
            r#"_format_version: "3.0"
services:
  - name: props-service
    url: http://{}
    routes:
      - name: props-mcp
        paths: [/mcp]
        strip_path: false
        plugins:
          - name: ai-mcp-proxy
            config:
              mode: passthrough-listener
              max_request_body_size: 65536
      - name: props-rest
        paths: [/rest]
"#,
            mock.addr()
        );
        std::fs::write(&config, yaml).unwrap();
        let gateway = gateway::spawn(Settings {
            proxy_listen: "127.0.0.1:0".into(),
            admin_listen: "127.0.0.1:0".into(),
            declarative_config: Some(config),
            prefix: dir.path().to_path_buf(),
            worker_processes: 1,
            ..Settings::default()
        })
        .unwrap();
        World {
            rt,
            mock,
            gateway,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// POSTs `body` to the MCP route: (status, body bytes).
    async fn post(&self, body: Vec<u8>) -> (u16, Vec<u8>) {
        let res = self
            .http
            .post(format!("{}/mcp", self.gateway.proxy_url()))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(body)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("the gateway answers");
        let status = res.status().as_u16();
        (status, res.bytes().await.unwrap_or_default().to_vec())
    }

    async fn healthy(&self) -> bool {
        let url = format!("{}/rest/users", self.gateway.proxy_url());
        let res = self
            .http
            .get(url)
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        res.is_ok_and(|r| r.status() == 200)
    }

    /// What the upstream received on the MCP path.
    fn forwarded(&self) -> Vec<mock_marketplace::RecordedRequest> {
        let mut seen = self.mock.requests();
        seen.retain(|r| r.path == "/mcp");
        seen
    }

    /// Checks what every body must satisfy.
    async fn common(&self, sent: &[u8], status: u16, answer: &[u8]) -> Result<(), TestCaseError> {
        let gateway_failure = matches!(status, 500 | 502 | 503 | 504)
            && serde_json::from_slice::<Value>(answer).is_ok_and(|v| v.get("request_id").is_some());
        prop_assert!(!gateway_failure, "the gateway failed with {status}");
        for seen in self.forwarded() {
            prop_assert_eq!(&seen.body[..], sent, "the upstream got other bytes");
        }
        prop_assert!(self.healthy().await, "the gateway stopped serving");
        Ok(())
    }
}

/// A JSON-RPC id: absent (a notification), null, a number or a string.
fn id() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        any::<i64>().prop_map(|n| Some(json!(n))),
        any::<u32>().prop_map(|n| Some(json!(n))),
        "[a-zA-Z0-9 _\\-é\"\\\\/]{0,16}".prop_map(|s| Some(json!(s))),
    ]
}

/// Bounded JSON values for params and arguments.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[ -~é\u{1F600}\"\\\\\n]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An envelope's members as (key, JSON text), before ordering and spacing.
fn envelope() -> impl Strategy<Value = (Vec<(String, String)>, Option<Value>)> {
    let method = prop_oneof![
        Just("tools/list".to_string()),
        Just("tools/call".to_string()),
        Just("ping".to_string()),
        Just("resources/list".to_string()),
        Just("prompts/list".to_string()),
        "[a-z]{1,8}/[a-z]{1,8}",
    ];
    let tool = prop_oneof![
        Just("list_users".to_string()),
        Just("search_orders".to_string()),
        "[a-z_]{1,12}",
    ];
    (id(), method, tool, value(), any::<bool>()).prop_map(|(id, method, tool, args, params)| {
        let mut members = vec![
            ("jsonrpc".to_string(), "\"2.0\"".to_string()),
            ("method".to_string(), json!(method).to_string()),
        ];
        if let Some(id) = &id {
            members.push(("id".to_string(), id.to_string()));
        }
        if method == "tools/call" {
            let p = json!({ "name": tool, "arguments": args });
            members.push(("params".to_string(), p.to_string()));
        } else if params {
            members.push(("params".to_string(), json!({ "extra": args }).to_string()));
        }
        (members, id)
    })
}

/// The members in a shuffled order with arbitrary whitespace around every token.
fn formatted() -> impl Strategy<Value = (Vec<u8>, Option<Value>)> {
    let space = prop_oneof![Just(""), Just(" "), Just("\n"), Just("\t "), Just("\r\n  ")];
    envelope()
        .prop_flat_map(move |(members, id)| {
            let n = members.len();
            (
                Just(members).prop_shuffle(),
                Just(id),
                proptest::collection::vec(space.clone(), 3 * n + 2),
            )
        })
        .prop_map(|(members, id, spaces)| {
            let mut s = spaces.iter();
            let mut next = || *s.next().unwrap_or(&"");
            let mut out = format!("{}{{", next());
            for (i, (key, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!(
                    "{}{}{}:{}{}",
                    next(),
                    json!(key),
                    next(),
                    next(),
                    value
                ));
            }
            out.push_str(&format!("{}}}{}", next(), next()));
            (out.into_bytes(), id)
        })
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn well_formed_envelopes_are_forwarded_byte_for_byte_and_ids_keep_their_type() {
    let world = World::start();
    let result = runner().run(&formatted(), |(body, id)| {
        world.rt.block_on(async {
            world.mock.clear_requests();
            let (status, answer) = world.post(body.clone()).await;
            world.common(&body, status, &answer).await?;
            prop_assert_eq!(world.forwarded().len(), 1, "forwarded once ({})", status);
            match id {
                None => prop_assert_eq!(status, 202, "a notification"),
                Some(id) => {
                    let reply: Value = serde_json::from_slice(&answer)
                        .map_err(|e| TestCaseError::fail(format!("{e}: {answer:?}")))?;
                    prop_assert_eq!(&reply["id"], &id, "the id came back changed");
                }
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Bodies near the envelope grammar: valid ones cut short, with a byte changed, or nested.
fn mangled() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        (formatted(), any::<prop::sample::Index>())
            .prop_map(|((body, _), at)| body[..at.index(body.len() + 1)].to_vec()),
        (formatted(), any::<prop::sample::Index>(), any::<u8>()).prop_map(
            |((mut body, _), at, b)| {
                let i = at.index(body.len());
                body[i] = b;
                body
            }
        ),
        (1usize..3000).prop_map(|depth| {
            let mut body =
                b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":".to_vec();
            body.extend(std::iter::repeat_n(b'[', depth));
            body.extend(std::iter::repeat_n(b']', depth));
            body.push(b'}');
            body
        }),
    ]
}

#[test]
fn arbitrary_bodies_never_break_the_gateway_or_reach_the_upstream_changed() {
    let world = World::start();
    let result = runner().run(&mangled(), |body| {
        world.rt.block_on(async {
            world.mock.clear_requests();
            let (status, answer) = world.post(body.clone()).await;
            world.common(&body, status, &answer).await?;
            if world.forwarded().is_empty() {
                // Refused by the gateway: a JSON-RPC error body.
                let reply: Value = serde_json::from_slice(&answer)
                    .map_err(|e| TestCaseError::fail(format!("{e}: {answer:?}")))?;
                prop_assert!(
                    (400..500).contains(&status) && reply["error"]["code"].is_i64(),
                    "{} {}",
                    status,
                    reply
                );
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
