//! `tools/list` under an ACL: each consumer sees exactly the tools the documents' table gives it,
//! as JSON and inside SSE events, through the real MCP client too; carol's list is a 403; pages
//! are filtered one by one; every byte besides the removed tools is the upstream's; answers the
//! gateway cannot read with certainty never reach the client; decisions are audited, counted and
//! recomputed when the configuration changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mock_marketplace::Options;
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::acl::{allowed, example, post, LOGS, TOOLS};
use crate::common::{eventually, Harness};
use crate::rig::{read_request, FakeUpstream};

fn list(id: Value) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/list","params":{}}).to_string()
}

fn visible(consumer: &str) -> Vec<&'static str> {
    TOOLS.into_iter().filter(|t| allowed(consumer, t)).collect()
}

/// The JSON-RPC messages of an SSE body, in order.
fn sse_messages(text: &str) -> Vec<Value> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|block| {
            let data: Vec<&str> = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .filter_map(|d| serde_json::from_str(&d).ok())
        .collect()
}

/// The answer in a JSON or SSE response; a JSON body's `Content-Length` must be its length.
async fn answer(res: reqwest::Response) -> Value {
    let sse = res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream");
    let length = res.headers().get("content-length").cloned();
    let text = res.text().await.unwrap();
    if sse {
        assert!(length.is_none(), "an event stream has no length");
        return sse_messages(&text)
            .into_iter()
            .find(|m| m.get("result").is_some() || m.get("error").is_some())
            .expect("an answer event");
    }
    let length = length
        .expect("Content-Length")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(length, text.len().to_string(), "Content-Length matches");
    serde_json::from_str(&text).unwrap()
}

fn names(result: &Value) -> Vec<String> {
    result["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

async fn carol_is_refused(h: &Harness, context: &str) {
    let res = post(h, Some("carol-key"), &list(json!("c-1")), &[]).await;
    assert_eq!(res.status(), 403, "{context}");
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\"",
        "{context}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"jsonrpc":"2.0","id":"c-1","error":{"code":-32602,"message":"No tool is available for consumer 'carol'"}}),
        "{context}"
    );
}

#[tokio::test]
async fn each_consumer_lists_its_tools_as_json_and_as_events() {
    for file in ["acls.yaml", "tool-acls.yaml"] {
        for sse in [false, true] {
            let context = format!("{file}, sse: {sse}");
            let options = Options {
                sse,
                ..Options::default()
            };
            let h = Harness::start(options, &example(file, "")).await;
            for consumer in ["alice", "bob", "eason"] {
                let key = format!("{consumer}-key");
                let res = post(&h, Some(&key), &list(json!(1)), &[]).await;
                assert_eq!(res.status(), 200, "{context}: {consumer}");
                let answer = answer(res).await;
                assert_eq!(answer["id"], 1);
                let result = &answer["result"];
                assert_eq!(names(result), visible(consumer), "{context}: {consumer}");
                if file == "acls.yaml" && !sse {
                    insta::assert_json_snapshot!(format!("tools_list_{consumer}"), result);
                }
            }
            carol_is_refused(&h, &context).await;
            let res = post(&h, None, &list(json!(1)), &[]).await;
            assert_eq!(res.status(), 401, "{context}: unauthenticated");
        }
    }
}

async fn client_for(
    h: &Harness,
    key: &str,
) -> rmcp::service::RunningService<rmcp::RoleClient, ClientConfig> {
    let mut headers = HashMap::new();
    headers.insert(
        reqwest::header::HeaderName::from_static("apikey"),
        reqwest::header::HeaderValue::from_str(key).unwrap(),
    );
    let config = StreamableHttpClientTransportConfig::with_uri(h.url("/marketplace"))
        .custom_headers(headers);
    let transport = StreamableHttpClientTransport::from_config(config);
    ClientConfig::default().serve(transport).await.unwrap()
}

#[tokio::test]
async fn the_real_client_sees_only_what_it_may_call() {
    for file in ["acls.yaml", "tool-acls.yaml"] {
        let h = Harness::start(Options::default(), &example(file, "")).await;
        for consumer in ["alice", "bob", "eason"] {
            let client = client_for(&h, &format!("{consumer}-key")).await;
            let tools = client.list_tools(None).await.unwrap().tools;
            let listed: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
            assert_eq!(listed, visible(consumer), "{file}: {consumer}");
            for tool in TOOLS {
                let mut params = CallToolRequestParams::new(tool.to_owned());
                let args = match tool {
                    "get_user" => json!({"id": "a1b2c3d4"}),
                    "list_orders_for_user" => json!({"userId": "a1b2c3d4"}),
                    "search_orders" => json!({"q": "oil"}),
                    _ => json!({}),
                };
                if let Value::Object(map) = args {
                    params = params.with_arguments(map);
                }
                let called = client.call_tool(params).await;
                assert_eq!(
                    called.is_ok(),
                    allowed(consumer, tool),
                    "{file}: {consumer} calls {tool}: {called:?}"
                );
            }
            client.cancel().await.unwrap();
        }
        let carol = client_for(&h, "carol-key").await;
        assert!(carol.list_tools(None).await.is_err(), "{file}: carol");
        carol.cancel().await.unwrap();
        let mut anonymous = StreamableHttpClientTransportConfig::with_uri(h.url("/marketplace"));
        anonymous = anonymous.custom_headers(HashMap::new());
        let transport = StreamableHttpClientTransport::from_config(anonymous);
        assert!(
            ClientConfig::default().serve(transport).await.is_err(),
            "{file}: no key, no session"
        );
    }
}

#[tokio::test]
async fn the_2026_era_answer_keeps_its_other_members() {
    let h = Harness::start(Options::default(), &example("acls.yaml", "")).await;
    let body = json!({"jsonrpc":"2.0","id":5,"method":"tools/list","params":{
        "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}})
    .to_string();
    let headers = [
        ("Mcp-Method", "tools/list"),
        ("MCP-Protocol-Version", "2026-07-28"),
    ];
    let res = post(&h, Some("bob-key"), &body, &headers).await;
    assert_eq!(res.status(), 200);
    let result = answer(res).await["result"].clone();
    assert_eq!(names(&result), visible("bob"));
    assert_eq!(
        (
            &result["resultType"],
            &result["ttlMs"],
            &result["cacheScope"]
        ),
        (&json!("complete"), &json!(0), &json!("private"))
    );
    assert!(result["tools"][0]["inputSchema"].is_object());
}

#[tokio::test]
async fn pages_are_filtered_one_by_one() {
    let options = Options {
        tools_page_size: Some(2),
        ..Options::default()
    };
    let h = Harness::start(options, &example("acls.yaml", "")).await;
    // Pages: [list_users, get_user] [list_orders, list_orders_for_user] [search_orders].
    let cases = [
        (
            "bob",
            vec![
                vec!["get_user"],
                vec!["list_orders", "list_orders_for_user"],
                vec![],
            ],
        ),
        ("eason", vec![vec!["list_users"], vec![], vec![]]),
        ("carol", vec![vec![], vec![], vec![]]),
    ];
    for (consumer, pages) in cases {
        let key = format!("{consumer}-key");
        let mut cursor: Option<String> = None;
        for (n, want) in pages.iter().enumerate() {
            let params = cursor
                .as_ref()
                .map_or(json!({}), |c| json!({ "cursor": c }));
            let body = json!({"jsonrpc":"2.0","id":n,"method":"tools/list","params":params});
            let res = post(&h, Some(&key), &body.to_string(), &[]).await;
            assert_eq!(res.status(), 200, "{consumer}, page {n}");
            let result = answer(res).await["result"].clone();
            assert_eq!(names(&result), *want, "{consumer}, page {n}");
            cursor = result["nextCursor"].as_str().map(str::to_string);
            assert_eq!(
                cursor.is_some(),
                n < 2,
                "{consumer}, page {n}: the cursor is kept"
            );
        }
    }
}

/// An upstream that answers every request with the bytes the test put in `reply`.
struct Canned {
    fake: FakeUpstream,
    reply: Arc<Mutex<Vec<u8>>>,
}

impl Canned {
    async fn start() -> Canned {
        let reply = Arc::new(Mutex::new(Vec::new()));
        let r = reply.clone();
        let fake = FakeUpstream::start(move |mut conn| {
            let r = r.clone();
            async move {
                read_request(&mut conn).await;
                let bytes = r.lock().unwrap().clone();
                let _ = conn.write_all(&bytes).await;
                let _ = conn.shutdown().await;
            }
        })
        .await;
        Canned { fake, reply }
    }

    fn answer(&self, status: &str, content_type: &str, body: &str) {
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nx-upstream: canned\r\nconnection: close\r\n\r\n",
            body.len()
        );
        *self.reply.lock().unwrap() = [head.as_bytes(), body.as_bytes()].concat();
    }
}

async fn raw_post(h: &Harness, key: &str, body: &str) -> (u16, HashMap<String, String>, String) {
    let res = post(h, Some(key), body, &[]).await;
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    (status, headers, res.text().await.unwrap())
}

#[tokio::test]
async fn answers_are_rewritten_in_place_or_refused() {
    let canned = Canned::start().await;
    let yaml = example("acls.yaml", "").replace("{mock}", &canned.fake.addr.to_string());
    let h = Harness::start(Options::default(), &yaml).await;
    let bob = "bob-key";

    // `[]` stays `[]`, byte for byte, with the upstream's other headers.
    let empty =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[] ,\"x-extra\":{\"a\":[1,2.50]}}}";
    canned.answer("200 OK", "application/json", empty);
    let (status, headers, text) = raw_post(&h, bob, &list(json!(1))).await;
    assert_eq!((status, text.as_str()), (200, empty));
    assert_eq!(headers["x-upstream"], "canned");

    // Only `result.tools` changes; odd spacing, number spellings and unknown fields stay.
    let full = "{ \"result\" : {\"tools\": [{\"name\":\"search_orders\"}, {\"name\":\"get_user\",\"x\":1.0e2}], \"nextCursor\": null, \"z\": 1E400},\"jsonrpc\":\"2.0\",\"id\":1}";
    canned.answer("200 OK", "application/json; charset=utf-8", full);
    let (status, headers, text) = raw_post(&h, bob, &list(json!(1))).await;
    assert_eq!(status, 200);
    assert_eq!(
        text,
        "{ \"result\" : {\"tools\": [{\"name\":\"get_user\",\"x\":1.0e2}], \"nextCursor\": null, \"z\": 1E400},\"jsonrpc\":\"2.0\",\"id\":1}"
    );
    assert_eq!(headers["content-length"], text.len().to_string());

    // Inside an event stream: a progress notification first, CRLF lines, the answer pretty
    // printed over several data lines; the event keeps its id and type.
    let stream = "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\r\n\r\n: keep-alive\r\n\r\nid: ev-9\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\r\ndata:  \"result\":{\"tools\":[{\"name\":\"list_users\"},{\"name\":\"list_orders\"}]}}\r\n\r\n";
    canned.answer("200 OK", "text/event-stream", stream);
    let (status, _, text) = raw_post(&h, bob, &list(json!(1))).await;
    assert_eq!(status, 200);
    assert_eq!(
        text,
        "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\r\n\r\n: keep-alive\r\n\r\nid: ev-9\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\r\ndata:  \"result\":{\"tools\":[{\"name\":\"list_orders\"}]}}\r\n\r\n"
    );

    // A method spelling the upstream accepts is a tools/list too.
    canned.answer("200 OK", "application/json", full);
    let shouted = r#"{"jsonrpc":"2.0","id":1,"method":" TOOLS/LIST","params":{}}"#;
    let (_, _, text) = raw_post(&h, bob, shouted).await;
    assert!(!text.contains("search_orders"), "{text}");

    // A batch answer: each tools/list answer is filtered, other answers untouched.
    let batch = r#"[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"list_users"},{"name":"get_user"}]}},{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"list_users"}]}}]"#;
    canned.answer("200 OK", "application/json", batch);
    let request = format!(
        r#"[{},{{"jsonrpc":"2.0","id":2,"method":"ping"}}]"#,
        list(json!(1))
    );
    let (_, _, text) = raw_post(&h, bob, &request).await;
    assert_eq!(
        text,
        r#"[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"get_user"}]}},{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"list_users"}]}}]"#
    );
    // ... and one answer with nothing allowed refuses the whole batch.
    let request = format!("[{},{}]", list(json!(1)), list(json!(2)));
    let (status, _, _) = raw_post(&h, bob, &request).await;
    assert_eq!(status, 403);

    // Error statuses are relayed raw, never parsed or rewritten.
    let error = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"search_orders"}]}}"#;
    canned.answer("500 Internal Server Error", "application/json", error);
    let (status, _, text) = raw_post(&h, bob, &list(json!(1))).await;
    assert_eq!((status, text.as_str()), (500, error));

    // Answers two parsers could read differently, or too large to hold, fail closed.
    for (body, cause) in [
        (
            r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[],"tools":[{"name":"search_orders"}]}}"#,
            "result repeats tools or nextCursor",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"result":{"tools":{"name":"search_orders"}}}"#,
            "result.tools is not an array",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"search_orders"}]},}"#,
            "the answer is not valid JSON",
        ),
    ] {
        canned.answer("200 OK", "application/json", body);
        let (status, _, text) = raw_post(&h, bob, &list(json!(1))).await;
        assert_eq!(status, 502, "{body}");
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["error"]["code"], -32603);
        assert_eq!(
            error["error"]["message"],
            format!("The upstream's tools/list answer cannot be filtered: {cause}")
        );
        assert!(!text.contains("search_orders") || text.contains("cannot be filtered"));
    }
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"result":{{"tools":[{{"name":"search_orders","pad":"{}"}}]}}}}"#,
        "x".repeat(5 * 1024 * 1024)
    );
    canned.answer("200 OK", "application/json", &huge);
    let (status, _, text) = raw_post(&h, bob, &list(json!(1))).await;
    assert_eq!(status, 502);
    assert!(text.contains("exceeds 4194304 bytes"), "{text}");
    assert!(
        canned
            .fake
            .accepted
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 10
    );
}

#[tokio::test]
async fn list_decisions_are_audited_and_counted() {
    let yaml = example("acls.yaml", LOGS)
        .replace("name: mcp-service", "name: list-acl-service")
        .replace("name: mcp-route", "name: list-acl-route");
    let h = Harness::start(Options::default(), &yaml).await;
    let res = post(&h, Some("bob-key"), &list(json!(1)), &[]).await;
    assert_eq!(res.status(), 200);
    let res = post(&h, Some("carol-key"), &list(json!(2)), &[]).await;
    assert_eq!(res.status(), 403);
    let records = h.log_records("acl.log", 2).await;
    let bob = &records[0]["ai"]["mcp"];
    insta::assert_json_snapshot!("tools_list_audits_bob", bob["audit"], { "[].consumer.id" => "[uuid]" });
    assert_eq!(bob["rpc"][0]["outcome"], "success");
    let carol = &records[1]["ai"]["mcp"];
    assert_eq!(carol["audit"].as_array().unwrap().len(), 5);
    assert!(carol["audit"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["action"] == "deny"
            && a["consumer"]["id"].as_str().is_some_and(|s| s.len() == 36)));
    assert_eq!(carol["rpc"][0]["method"], "tools/list");
    assert_eq!(carol["rpc"][0]["outcome"], "denied");
    assert_eq!(
        carol["rpc"][0]["error"],
        "No tool is available for consumer 'carol'"
    );
    assert_eq!(records[1]["response"]["status"], 403);
    let metrics = h.metrics().await;
    for (tool, action, count) in [
        ("list_users", "deny", 2),
        ("get_user", "allow", 1),
        ("get_user", "deny", 1),
        ("search_orders", "deny", 2),
    ] {
        let series = format!(
            r#"kong_ai_mcp_acl_total{{service="list-acl-service",route="list-acl-route",method="tools/list",workspace="default",tool_name="{tool}",primitive="tool",action="{action}"}} {count}"#
        );
        assert!(metrics.contains(&series), "missing {series}\n{metrics}");
    }
}

async fn listed(h: &Harness) -> Vec<String> {
    let res = post(h, Some("bob-key"), &list(json!(1)), &[]).await;
    names(&answer(res).await["result"])
}

#[tokio::test]
async fn decisions_are_recomputed_when_the_configuration_changes() {
    let yaml = example("acls.yaml", "");
    let h = Harness::start(Options::default(), &yaml).await;
    assert_eq!(listed(&h).await, visible("bob"));
    // bob moves from developer to admin: the next requests are decided on the new groups.
    let promoted = yaml.replace(
        "  - username: bob\n    groups:\n      - name: developer",
        "  - username: bob\n    groups:\n      - name: admin",
    );
    assert_ne!(promoted, yaml);
    h.rewrite_config(&promoted);
    eventually(Duration::from_secs(10), || async {
        (listed(&h).await == TOOLS).then_some(())
    })
    .await;
    // And a tool's own ACL change applies too.
    let narrowed = promoted.replace(
        "        - name: get_user\n          description: Get a user\n          acl:\n            allow: [admin, developer]",
        "        - name: get_user\n          description: Get a user\n          acl:\n            allow: [developer]",
    );
    assert_ne!(narrowed, promoted);
    h.rewrite_config(&narrowed);
    let without_get_user: Vec<&str> = TOOLS.into_iter().filter(|t| *t != "get_user").collect();
    eventually(Duration::from_secs(10), || async {
        (listed(&h).await == without_get_user).then_some(())
    })
    .await;
}

#[tokio::test]
async fn listings_replayed_on_a_resumed_stream_are_filtered_too() {
    let canned = Canned::start().await;
    let yaml = example("acls.yaml", LOGS)
        .replace("{mock}", &canned.fake.addr.to_string())
        .replace("name: mcp-service", "name: replay-service")
        .replace("name: mcp-route", "name: replay-route");
    let h = Harness::start(Options::default(), &yaml).await;
    let stream = "id: 4\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\nid: 5\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":[{\"name\":\"list_users\"},{\"name\":\"get_user\"},{\"name\":\"search_orders\"}]}}\n\nid: 6\ndata: {\"jsonrpc\":\"2.0\",\"id\":8,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"tools\"}]}}\n\n";
    canned.answer("200 OK", "text/event-stream", stream);
    let get = |key: &'static str| {
        h.http
            .get(h.url("/marketplace"))
            .header("Accept", "text/event-stream")
            .header("Last-Event-ID", "3")
            .header("apikey", key)
            .send()
    };
    let res = get("bob-key").await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert_eq!(
        text,
        stream.replace(
            "[{\"name\":\"list_users\"},{\"name\":\"get_user\"},{\"name\":\"search_orders\"}]",
            "[{\"name\":\"get_user\"}]"
        )
    );
    // Nothing allowed: the head went out long ago, so the listing is empty rather than a 403.
    let res = get("carol-key").await.unwrap();
    assert_eq!(res.status(), 200);
    let messages = sse_messages(&res.text().await.unwrap());
    assert_eq!(messages[1]["result"]["tools"], json!([]));
    assert_eq!(messages[2]["result"]["content"][0]["text"], "tools");
    let records = h.log_records("acl.log", 2).await;
    let actions: Vec<&str> = records[0]["ai"]["mcp"]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["deny", "allow", "deny"]);
}
