//! The five tools of the documents' `marketplace-acl` server: their `tools/list` entries (with
//! input and output JSON Schemas) and their calls. Arguments are checked against the input
//! schema by hand; anything off is `-32602`, never a panic.

use serde_json::{json, Map, Value};

use super::jsonrpc::RpcError;
use crate::data;

/// One tool: its metadata and its single string argument, if it takes one.
struct Tool {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    /// `(argument name, minLength)`.
    argument: Option<(&'static str, usize)>,
    output: fn() -> Value,
    /// Runs the tool on its (validated) argument, `""` when it takes none.
    run: fn(&str) -> Value,
}

const TOOLS: [Tool; 5] = [
    Tool {
        name: "list_users",
        title: "List Users",
        description: "List all users (id, fullName).",
        argument: None,
        output: || object(json!({"users": array_of(user_schema())})),
        run: |_| json!({"users": data::users()}),
    },
    Tool {
        name: "get_user",
        title: "Get User",
        description: "Get a single user by id.",
        argument: Some(("id", 0)),
        output: || {
            object(json!({
                "found": {"type": "boolean"},
                "user": {"anyOf": [user_schema(), {"type": "null"}]}
            }))
        },
        run: |id| match data::user(id) {
            Some(user) => json!({"found": true, "user": user}),
            None => json!({"found": false, "user": null}),
        },
    },
    Tool {
        name: "list_orders",
        title: "List Orders",
        description: "List all orders.",
        argument: None,
        output: || object(json!({"orders": array_of(order_schema())})),
        run: |_| json!({"orders": data::orders()}),
    },
    Tool {
        name: "list_orders_for_user",
        title: "List Orders for User",
        description: "List orders by userId.",
        argument: Some(("userId", 0)),
        output: || {
            object(json!({
                "userExists": {"type": "boolean"},
                "orders": array_of(order_schema())
            }))
        },
        run: |user_id| {
            json!({
                "userExists": data::user(user_id).is_some(),
                "orders": data::orders_for(user_id)
            })
        },
    },
    Tool {
        name: "search_orders",
        title: "Search Orders",
        description: "Search orders by name (case-insensitive substring).",
        argument: Some(("q", 1)),
        output: || {
            object(json!({
                "count": {"type": "integer"},
                "results": array_of(order_schema())
            }))
        },
        run: |query| {
            let results = data::search_orders(query);
            json!({"count": results.len(), "results": results})
        },
    },
];

/// An object schema requiring every listed property and nothing else.
fn object(properties: Value) -> Value {
    let required: Vec<Value> = properties
        .as_object()
        .map(|map| map.keys().cloned().map(Value::String).collect())
        .unwrap_or_default();
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema["additionalProperties"] = Value::Bool(false);
    schema
}

fn array_of(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn user_schema() -> Value {
    object(json!({"id": {"type": "string"}, "fullName": {"type": "string"}}))
}

fn order_schema() -> Value {
    object(json!({
        "id": {"type": "string"},
        "name": {"type": "string"},
        "userId": {"type": "string"}
    }))
}

fn input_schema(tool: &Tool) -> Value {
    match tool.argument {
        None => object(json!({})),
        Some((name, 0)) => object(json!({ name: {"type": "string"} })),
        Some((name, min)) => object(json!({ name: {"type": "string", "minLength": min} })),
    }
}

/// The `tools` array of a `tools/list` result.
pub fn list() -> Vec<Value> {
    TOOLS
        .iter()
        .map(|tool| {
            json!({
                "name": tool.name,
                "title": tool.title,
                "description": tool.description,
                "inputSchema": input_schema(tool),
                "outputSchema": (tool.output)(),
            })
        })
        .collect()
}

/// Runs tool `name` and returns its `structuredContent`.
pub fn call(name: &str, arguments: &Value) -> Result<Value, RpcError> {
    let tool = TOOLS
        .iter()
        .find(|tool| tool.name == name)
        .ok_or_else(|| RpcError::invalid_params(format!("Unknown tool: {name}")))?;
    let argument = argument(tool, arguments)?;
    Ok((tool.run)(argument.as_deref().unwrap_or_default()))
}

/// Validates `arguments` (absent or an object) against the tool's one string argument.
fn argument(tool: &Tool, arguments: &Value) -> Result<Option<String>, RpcError> {
    let empty = Map::new();
    let map = match arguments {
        Value::Null => &empty,
        Value::Object(map) => map,
        _ => return Err(invalid(tool, "arguments must be an object")),
    };
    let expected = tool.argument.map(|(name, _)| name);
    if let Some(extra) = map.keys().find(|key| Some(key.as_str()) != expected) {
        return Err(invalid(tool, &format!("unknown argument `{extra}`")));
    }
    let Some((name, min)) = tool.argument else {
        return Ok(None);
    };
    match map.get(name) {
        Some(Value::String(value)) if value.chars().count() >= min => Ok(Some(value.clone())),
        Some(Value::String(_)) => Err(invalid(
            tool,
            &format!("`{name}` must be at least {min} character(s)"),
        )),
        Some(_) => Err(invalid(tool, &format!("`{name}` must be a string"))),
        None => Err(invalid(tool, &format!("`{name}` is required"))),
    }
}

fn invalid(tool: &Tool, detail: &str) -> RpcError {
    RpcError::invalid_params(format!(
        "Invalid arguments for tool {}: {detail}",
        tool.name
    ))
}

/// The `tools/call` result around `structured`: a pretty-printed text block plus the value.
pub fn result(structured: Value) -> Value {
    let text = serde_json::to_string_pretty(&structured).unwrap_or_default();
    json!({
        "content": [{"type": "text", "text": text}],
        "structuredContent": structured
    })
}
