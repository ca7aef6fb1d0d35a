//! JSON-RPC 2.0 framing: classifying one incoming message, the error codes the mock uses, and
//! building response objects. Ids are kept as the client sent them (any JSON value), never
//! re-typed, so a test can see exactly which id came back.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
/// Implementation-defined range: what the SDKs use for HTTP-level rejections.
pub const SERVER_ERROR: i64 = -32000;
/// The TypeScript SDK's code for an unknown session.
pub const SESSION_NOT_FOUND: i64 = -32001;
pub const HEADER_MISMATCH: i64 = -32020;
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// A JSON-RPC error together with the HTTP status it travels with.
#[derive(Debug, Clone)]
pub struct RpcError {
    pub status: StatusCode,
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    /// An in-band error: HTTP 200, the error is the JSON-RPC response.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::OK,
            code,
            message: message.into(),
            data: None,
        }
    }

    /// An error that is also an HTTP-level rejection.
    pub fn http(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        Self {
            status,
            ..Self::new(code, message)
        }
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The error response object for request `id` (`null` when unknown).
    pub fn to_json(&self, id: &Value) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        json!({"jsonrpc": "2.0", "id": id, "error": error})
    }

    /// The error as a complete `application/json` HTTP response.
    pub fn into_response(self, id: &Value) -> HttpResponse {
        HttpResponse::build(self.status).json(self.to_json(id))
    }
}

/// A successful response object.
pub fn result_json(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// One incoming JSON-RPC message, classified.
#[derive(Debug, Clone)]
pub enum Message {
    Request(Request),
    Notification {
        method: String,
        params: Value,
    },
    /// A client's response (or error) to a server request: acknowledged, never answered.
    Reply,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub id: Value,
    pub method: String,
    /// `params`, or `null` when absent.
    pub params: Value,
}

impl Message {
    /// Classifies `value`; a structurally invalid message is `-32600` (HTTP 400).
    pub fn parse(value: Value) -> Result<Self, RpcError> {
        let Value::Object(mut object) = value else {
            return Err(invalid_request("a JSON-RPC message must be an object"));
        };
        if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(invalid_request("jsonrpc must be \"2.0\""));
        }
        let params = object.remove("params").unwrap_or(Value::Null);
        let Some(method) = object.get("method") else {
            return reply_or_invalid(&object);
        };
        let Some(method) = method.as_str().map(str::to_owned) else {
            return Err(invalid_request("method must be a string"));
        };
        match object.remove("id") {
            None => Ok(Message::Notification { method, params }),
            Some(id @ (Value::String(_) | Value::Number(_))) => {
                Ok(Message::Request(Request { id, method, params }))
            }
            Some(_) => Err(invalid_request("id must be a string or a number")),
        }
    }

    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request(request) => Some(&request.method),
            Message::Notification { method, .. } => Some(method),
            Message::Reply => None,
        }
    }

    pub fn params(&self) -> &Value {
        match self {
            Message::Request(request) => &request.params,
            Message::Notification { params, .. } => params,
            Message::Reply => &Value::Null,
        }
    }

    /// The id to put on an error about this message.
    pub fn error_id(&self) -> Value {
        match self {
            Message::Request(request) => request.id.clone(),
            _ => Value::Null,
        }
    }
}

fn reply_or_invalid(object: &Map<String, Value>) -> Result<Message, RpcError> {
    if object.contains_key("id") && (object.contains_key("result") || object.contains_key("error"))
    {
        Ok(Message::Reply)
    } else {
        Err(invalid_request(
            "a message needs a method, or a result or error",
        ))
    }
}

/// `-32600` with HTTP 400.
pub fn invalid_request(detail: &str) -> RpcError {
    RpcError::http(
        StatusCode::BAD_REQUEST,
        INVALID_REQUEST,
        format!("Invalid Request: {detail}"),
    )
}

/// `params._meta`, when it is an object.
pub fn meta(params: &Value) -> Option<&Map<String, Value>> {
    params.get("_meta").and_then(Value::as_object)
}
