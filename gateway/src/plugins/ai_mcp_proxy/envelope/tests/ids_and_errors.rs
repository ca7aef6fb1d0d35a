use super::*;

fn id_of(token: &str) -> RpcId {
    RpcId::from_json_token(token).expect(token)
}

#[test]
fn log_strings() {
    assert_eq!(id_of("2").to_log_string(), "2");
    assert_eq!(id_of("7.0").to_log_string(), "7.0");
    assert_eq!(id_of(r#""abc""#).to_log_string(), "abc");
    assert_eq!(RpcId::Null.to_log_string(), "null");
}

#[test]
fn tokens() {
    for bad in [
        "true", "{}", "[]", "", "01", "1.", ".5", "+1", "1e", "--1", "nul", "NaN", "\"a",
    ] {
        assert_eq!(RpcId::from_json_token(bad), None, "{bad}");
    }
}

#[test]
fn error_bodies_echo_the_exact_id_token() {
    for token in [
        "7",
        "7.0",
        "-1",
        "1e400",
        "1E-999999",
        "123456789012345678901234567890",
        r#""7""#,
        r#""é\"""#,
        "null",
    ] {
        let body = error_body(Some(&id_of(token)), INVALID_PARAMS, "x");
        let expected_id = if token == r#""é\"""# {
            r#""é\"""#
        } else {
            token
        };
        let expected = format!(
            r#"{{"jsonrpc":"2.0","id":{expected_id},"error":{{"code":-32602,"message":"x"}}}}"#
        );
        assert_eq!(String::from_utf8(body).unwrap(), expected);
    }
}

#[test]
fn error_body_shapes() {
    let body = error_body(
        None,
        INVALID_REQUEST,
        &too_large_message(2_000_000, 1_048_576),
    );
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Request body of 2000000 bytes exceeds max_request_body_size (1048576 bytes)"}}"#
    );
    assert_eq!(
        too_large_unknown_size_message(10),
        "Request body exceeds max_request_body_size (10 bytes)"
    );
    let quoted = error_body(
        Some(&RpcId::String("a\"\n".into())),
        HEADER_MISMATCH,
        "say \"hi\"\u{0}",
    );
    assert_eq!(
        std::str::from_utf8(&quoted).unwrap(),
        r#"{"jsonrpc":"2.0","id":"a\"\n","error":{"code":-32020,"message":"say \"hi\"\u0000"}}"#
    );
    // A hand-built Number that is not a number must not produce invalid JSON.
    let bogus = error_body(Some(&RpcId::Number("1,2".into())), PARSE_ERROR, "m");
    assert!(std::str::from_utf8(&bogus)
        .unwrap()
        .contains(r#""id":null"#));
}

#[test]
fn id_matching() {
    assert!(id_of("7").matches(&id_of("7.0")));
    assert!(id_of("1e3").matches(&id_of("1000")));
    assert!(!id_of("7").matches(&id_of(r#""7""#)));
    assert!(!id_of("9007199254740993").matches(&id_of("9007199254740992")));
    assert!(!id_of("1e400").matches(&id_of("2e400")));
    assert!(id_of("1e400").matches(&id_of("1e400")));
    assert!(RpcId::Null.matches(&RpcId::Null));
}

#[test]
fn error_classes() {
    let cases = [
        (PARSE_ERROR, "Parse error"),
        (INVALID_REQUEST, "Invalid Request"),
        (METHOD_NOT_FOUND, "Method not found"),
        (INVALID_PARAMS, "Invalid params"),
        (INTERNAL_ERROR, "Internal error"),
        (-32000, "Server error"),
        (-32099, "Server error"),
        (HEADER_MISMATCH, "Server error"),
        (-32100, "Unknown error"),
        (-31999, "Unknown error"),
        (0, "Unknown error"),
    ];
    for (code, class) in cases {
        assert_eq!(error_class(code), class, "{code}");
    }
    assert_eq!(TOOL_ERROR, "Tool error");
}
