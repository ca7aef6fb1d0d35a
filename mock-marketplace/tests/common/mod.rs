//! Helpers shared by the integration tests: the spec's data set written out independently of
//! the crate (so the crate's data is checked, not echoed), raw MCP POSTs, and an SSE parser.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::{json, Value};

/// The users table of `04-marketplace.md`, in order.
pub const SPEC_USERS: [(&str, &str); 10] = [
    ("a1b2c3d4", "Alice Johnson"),
    ("e5f6g7h8", "Bob Smith"),
    ("i9j0k1l2", "Charlie Lee"),
    ("m3n4o5p6", "Diana Evans"),
    ("q7r8s9t0", "Ethan Brown"),
    ("u1v2w3x4", "Fiona Clark"),
    ("y5z6a7b8", "George Harris"),
    ("c9d0e1f2", "Hannah Lewis"),
    ("g3h4i5j6", "Ian Walker"),
    ("k7l8m9n0", "Julia Turner"),
];

/// The orders table of `04-marketplace.md`, row by row: user, then its orders.
pub const SPEC_ORDERS: [(&str, &[&str]); 10] = [
    (
        "a1b2c3d4",
        &[
            "Sugar (50kg)",
            "Cleaning Supplies Pack",
            "Canned Tomatoes (100 cans)",
        ],
    ),
    (
        "e5f6g7h8",
        &["Flour (100kg)", "Dish Soap (10 bottles)", "Salt (25kg)"],
    ),
    ("i9j0k1l2", &["Olive Oil (20L)", "Baking Powder (10kg)"]),
    (
        "m3n4o5p6",
        &[
            "Rice (200kg)",
            "Vegetable Oil (15L)",
            "Pasta (80kg)",
            "Canned Beans (50 cans)",
        ],
    ),
    (
        "q7r8s9t0",
        &["Toilet Paper (Case of 48)", "Hand Sanitizer (20 bottles)"],
    ),
    (
        "u1v2w3x4",
        &[
            "Laundry Detergent (10L)",
            "Trash Bags (100 ct)",
            "Disinfectant Spray (5 bottles)",
        ],
    ),
    (
        "k7l8m9n0",
        &[
            "Coffee Beans (30kg)",
            "Tea Bags (500ct)",
            "Condensed Milk (40 cans)",
        ],
    ),
    ("g3h4i5j6", &["Paper Towels (24 rolls)", "Broom & Mop Set"]),
    (
        "c9d0e1f2",
        &[
            "Cereal (20 boxes)",
            "Powdered Milk (10kg)",
            "Snacks Variety Pack",
        ],
    ),
    ("y5z6a7b8", &["Cooking Gas Cylinder", "Napkins (1000ct)"]),
];

pub fn users() -> Value {
    SPEC_USERS
        .iter()
        .map(|(id, name)| json!({"id": id, "fullName": name}))
        .collect()
}

/// All 27 orders with ids `ord001`… in table order.
pub fn orders() -> Vec<Value> {
    let mut all = Vec::new();
    for (user, names) in SPEC_ORDERS {
        for name in names {
            let id = format!("ord{:03}", all.len() + 1);
            all.push(json!({"id": id, "name": name, "userId": user}));
        }
    }
    all
}

pub fn orders_of(user: &str) -> Vec<Value> {
    orders()
        .into_iter()
        .filter(|order| order["userId"] == user)
        .collect()
}

pub fn orders_by_id(ids: &[&str]) -> Vec<Value> {
    orders()
        .into_iter()
        .filter(|order| ids.iter().any(|id| order["id"] == *id))
        .collect()
}

/// Sends `request` as raw bytes (for what reqwest will not send) and reads the whole answer.
pub async fn raw_http(addr: std::net::SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// A POST with the headers every MCP client sends.
pub fn mcp_post(url: &str, body: impl Into<String>) -> reqwest::RequestBuilder {
    client()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.into())
}

/// The same, with the 2026-07-28 headers mirrored from `method` (and `name`).
pub fn modern_post(
    url: &str,
    method: &str,
    name: Option<&str>,
    body: Value,
) -> reqwest::RequestBuilder {
    let mut request = mcp_post(url, body.to_string())
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(name) = name {
        request = request.header("mcp-name", name);
    }
    request
}

pub fn request(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

pub fn call(id: u64, tool: &str, arguments: Value) -> String {
    request(
        id,
        "tools/call",
        json!({"name": tool, "arguments": arguments}),
    )
}

/// A 2026-07-28 request body with its per-request metadata.
pub fn modern_request(id: u64, method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// One parsed SSE event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Value,
}

/// Parses a complete `text/event-stream` body (comments skipped).
pub fn sse_events(text: &str) -> Vec<Event> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut event = Event {
                id: None,
                event: None,
                data: Value::Null,
            };
            let mut data = None;
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("id: ") {
                    event.id = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("event: ") {
                    event.event = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(value).ok();
                }
            }
            data.map(|data| Event { data, ..event })
        })
        .collect()
}
