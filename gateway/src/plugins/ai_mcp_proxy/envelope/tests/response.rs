use super::*;

fn one(body: &str) -> MessageInfo {
    let info = inspect_response(body.as_bytes());
    assert!(!info.batch);
    assert_eq!(info.messages.len(), 1, "{body}");
    info.messages.into_iter().next().unwrap()
}

#[test]
fn results_errors_and_tool_errors() {
    let ok = one(r#"{"jsonrpc":"2.0","id":2,"result":{"content":[],"isError":false}}"#);
    assert_eq!(
        ok,
        MessageInfo {
            id: Some(RpcId::Number("2".into())),
            error: None,
            is_error_result: false,
            is_response: true
        }
    );
    let tool_error = one(
        r#"{"jsonrpc":"2.0","id":"a","result":{"content":[{"type":"text","text":"boom"}],"isError":true}}"#,
    );
    assert!(tool_error.is_error_result && tool_error.is_response);
    let error = one(
        r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found: x","data":{}}}"#,
    );
    assert_eq!(error.error, Some((-32601, "Method not found: x".into())));
    assert_eq!(
        one(r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32602.0}}"#).error,
        Some((-32602, String::new()))
    );
    assert_eq!(
        one(r#"{"jsonrpc":"2.0","id":3,"error":"bad"}"#).error,
        Some((0, String::new()))
    );
    assert_eq!(
        one(r#"{"jsonrpc":"2.0","id":3,"error":{"code":"x","message":7}}"#).error,
        Some((0, String::new()))
    );
}

#[test]
fn server_requests_and_notifications_are_not_responses() {
    let progress =
        one(r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}"#);
    assert!(!progress.is_response && progress.id.is_none());
    let request = one(r#"{"jsonrpc":"2.0","id":0,"method":"sampling/createMessage","params":{}}"#);
    assert!(!request.is_response);
}

#[test]
fn batches_and_matching() {
    let info = inspect_response(
        br#" [{"jsonrpc":"2.0","id":1,"result":{}}, 5, {"jsonrpc":"2.0","id":"2","error":{"code":-32000,"message":"m"}}] "#,
    );
    assert!(info.batch);
    assert_eq!(info.messages.len(), 2);
    assert!(info.response_to(&RpcId::Number("1.0".into())).is_some());
    assert_eq!(
        info.response_to(&RpcId::String("2".into()))
            .and_then(|m| m.error.clone()),
        Some((-32000, "m".into()))
    );
    assert!(info.response_to(&RpcId::Number("2".into())).is_none());
}

#[test]
fn garbage_is_unknown() {
    let deep = "[".repeat(200_000);
    for body in [
        &b""[..],
        b"not json",
        b"{\"id\":1",
        b"\xff\xfe",
        b"42",
        b"{\"a\":1}",
        b"{} {}",
        deep.as_bytes(),
        b"\xEF\xBB\xBF",
    ] {
        assert!(
            inspect_response(body).is_unknown(),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    let with_bom = inspect_response(b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1e400}");
    assert_eq!(with_bom.messages.len(), 1);
}
