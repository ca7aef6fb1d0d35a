use super::*;

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":{}}}"#;

#[test]
fn ordinary_http_passes_untouched() {
    let plain = Some("text/plain");
    assert_eq!(classify(JSON, b""), Classified::NotJsonRpc);
    assert_eq!(classify(None, b"hello"), Classified::NotJsonRpc);
    assert_eq!(classify(plain, b"{not json"), Classified::NotJsonRpc);
    assert_eq!(
        classify(Some("application/x-ndjson"), b"{\"a\":1}\n{\"b\":2}"),
        Classified::NotJsonRpc
    );
    assert_eq!(
        classify(Some("image/png"), b"\x89PNG\r\n\x1a\n\xff"),
        Classified::NotJsonRpc
    );
    for body in [
        r#"{"name":"alice"}"#,
        "[1,2]",
        "[]",
        "[[{\"method\":\"x\"}]]",
        "42",
        r#""x""#,
        "null",
    ] {
        assert_eq!(classify_json(body), Classified::NotJsonRpc, "{body}");
    }
}

#[test]
fn json_rpc_is_read_whatever_the_content_type() {
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        JSON,
    ] {
        assert!(
            matches!(classify(ct, CALL.as_bytes()), Classified::Single(_)),
            "{ct:?}"
        );
    }
}

#[test]
fn json_content_types() {
    for ct in [
        "application/json",
        "Application/JSON; charset=utf-8",
        "application/vnd.api+json",
        " application/json ",
    ] {
        assert!(is_json_content_type(ct.trim()), "{ct}");
    }
    for ct in [
        "text/plain",
        "application/jsonx",
        "application/+json",
        "json",
        "application/x-ndjson",
    ] {
        assert!(!is_json_content_type(ct), "{ct}");
    }
}

#[test]
fn malformed_json() {
    let message = malformed(JSON, br#"{"method":"x""#);
    assert!(
        message.starts_with("Parse error: EOF while parsing an object at line 1"),
        "{message}"
    );
    assert!(malformed(None, b" {\"method\":").starts_with("Parse error: "));
    assert!(malformed(JSON, b"{} {}").contains("trailing characters"));
    assert!(malformed(JSON, b"   ").starts_with("Parse error: EOF"));
    assert!(malformed(Some("application/problem+json"), b"tru").starts_with("Parse error:"));
    // Python accepts NaN; serde_json does not, so the gateway refuses rather than guesses.
    malformed(JSON, br#"{"method":"tools/call","id":NaN}"#);
    malformed(JSON, br#"{"method":"tools/call",}"#);
}

#[test]
fn invalid_utf8_is_malformed() {
    let body = b"{\"method\":\"tools/call\",\"params\":{\"name\":\"a\xff\"}}";
    assert_eq!(
        malformed(JSON, body),
        "Parse error: invalid UTF-8 at byte 42"
    );
    // Even inside a value serde_json would only skip.
    malformed(
        JSON,
        b"{\"method\":\"x\",\"params\":{\"arguments\":{\"a\":\"\xc3\"}}}",
    );
    // JSON to a lenient upstream even under another content type: read, so refused.
    malformed(
        Some("text/plain"),
        b"{\"method\":\"tools/call\",\"x\":\"\xff\"}",
    );
    // Not JSON at all under another content type: someone else's bytes.
    assert_eq!(
        classify(Some("text/plain"), b"{\xff"),
        Classified::NotJsonRpc
    );
}

#[test]
fn bom_and_leading_whitespace_are_read() {
    let mut body = b"\xEF\xBB\xBF \r\n\t".to_vec();
    body.extend_from_slice(CALL.as_bytes());
    body.extend_from_slice(b"\n");
    for ct in [JSON, None, Some("text/plain")] {
        match classify(ct, &body) {
            Classified::Single(env) => assert_eq!(env.tool_name.as_deref(), Some("list_users")),
            other => panic!("{ct:?}: {other:?}"),
        }
    }
}

fn deep(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deep_nesting_is_malformed_without_overflowing_a_normal_stack() {
    let bodies = [
        "[".repeat(100_000),
        deep(100_000, ""),
        format!(
            r#"{{"method":"tools/call","id":1,"params":{{"name":"x","arguments":{{"a":{}}}}}}}"#,
            deep(100_000, "1")
        ),
        format!("{}{}", "{\"a\":".repeat(100_000), "}".repeat(100_000)),
    ];
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            bodies
                .iter()
                .map(|b| classify(JSON, b.as_bytes()))
                .collect::<Vec<_>>()
        })
        .expect("spawn");
    for result in handle.join().expect("no stack overflow") {
        assert!(
            matches!(&result, Classified::Malformed { message } if message.contains("nested deeper than 128")),
            "{result:?}"
        );
    }
}

#[test]
fn nesting_up_to_the_limit_is_fine_and_brackets_in_strings_do_not_count() {
    let args = deep(MAX_DEPTH - 3, "1");
    let body = format!(r#"{{"method":"tools/call","params":{{"name":"x","arguments":{args}}}}}"#);
    assert_eq!(single(&body).tool_name.as_deref(), Some("x"));
    let too_deep = format!(
        r#"{{"method":"tools/call","params":{{"name":"x","arguments":{}}}}}"#,
        deep(MAX_DEPTH - 1, "1")
    );
    malformed(JSON, too_deep.as_bytes());
    let strings = format!(
        r#"{{"method":"ping","params":{{"s":"{}\"\\"}}}}"#,
        "[{".repeat(500)
    );
    single(&strings);
}

#[test]
fn request_members_are_extracted() {
    let env = single(
        r#"{"params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"name":"get_user","arguments":{"id":1}},"method":"tools/call","id":"abc","jsonrpc":"2.0"}"#,
    );
    assert_eq!(env.kind, Kind::Request);
    assert_eq!(env.id, Some(RpcId::String("abc".into())));
    assert_eq!(env.method.as_deref(), Some("tools/call"));
    assert_eq!(env.tool_name.as_deref(), Some("get_user"));
    assert_eq!(env.protocol_version.as_deref(), Some("2026-07-28"));
    assert!(env.is_tools_call() && !env.is_tools_list());
    let read = single(
        r#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///a","name":"n"}}"#,
    );
    assert_eq!(
        (read.resource_uri.as_deref(), read.tool_name),
        (Some("file:///a"), None)
    );
    let prompt =
        single(r#"{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"name":"greet"}}"#);
    assert_eq!(prompt.tool_name.as_deref(), Some("greet"));
    let list =
        single(r#"{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"name":"ignored"}}"#);
    assert_eq!(list.tool_name, None);
    let escaped = single(r#"{"method":"tools\/call","params":{"name":"list\u005fusers"}}"#);
    assert_eq!(escaped.tool_name.as_deref(), Some("list_users"));
}

#[test]
fn kinds() {
    assert_eq!(
        single(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).kind,
        Kind::Notification
    );
    assert_eq!(
        single(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#).kind,
        Kind::Request
    );
    let response = single(r#"{"jsonrpc":"2.0","id":5,"result":{}}"#);
    assert_eq!((response.kind, response.method), (Kind::Response, None));
    assert_eq!(
        single(r#"{"jsonrpc":"2.0","id":5,"error":{"code":1}}"#).kind,
        Kind::ErrorResponse
    );
    assert_eq!(
        invalid(r#"{"jsonrpc":"2.0","id":5,"result":1,"error":{}}"#).2,
        "Invalid Request: a response cannot carry both result and error"
    );
    assert_eq!(
        invalid(r#"{"jsonrpc":"2.0","id":9}"#),
        (
            RpcId::Number("9".into()),
            INVALID_REQUEST,
            "Invalid Request: method is missing".into()
        )
    );
}

#[test]
fn a_tools_call_notification_still_names_its_tool() {
    let env =
        single(r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"search_orders"}}"#);
    assert_eq!(
        (env.kind, env.tool_name.as_deref()),
        (Kind::Notification, Some("search_orders"))
    );
    assert!(env.is_tools_call());
}

#[test]
fn tool_name_of_other_spellings() {
    for method in [
        "TOOLS/CALL",
        " tools/call ",
        "tools/call\\u0000",
        "Tools/Call\\n",
    ] {
        let env = single(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{{"name":"list_users"}}}}"#
        ));
        assert!(env.is_tools_call(), "{method}");
        assert_eq!(env.tool_name.as_deref(), Some("list_users"), "{method}");
    }
}

#[test]
fn a_tools_call_must_name_its_tool_with_a_string() {
    for params in [
        r#"{"name":["list_users"]}"#,
        r#"{"name":5}"#,
        "{}",
        r#"["list_users"]"#,
        "null",
        r#"{"name":"\ud800"}"#,
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{params}}}"#);
        let (id, code, message) = invalid(&body);
        assert_eq!(
            (id, code),
            (RpcId::Number("8".into()), INVALID_PARAMS),
            "{params}"
        );
        assert_eq!(message, "Invalid params: params.name must be a string");
    }
    let (_, code, _) = invalid(r#"{"jsonrpc":"2.0","id":8,"method":"tools/call"}"#);
    assert_eq!(code, INVALID_PARAMS);
}

#[test]
fn duplicate_envelope_members_are_invalid() {
    let cases = [
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"x"}}"#,
            "method",
            Some("1"),
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#,
            "id",
            None,
        ),
        (
            r#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":3,"method":"ping"}"#,
            "jsonrpc",
            Some("3"),
        ),
        (
            r#"{"id":4,"method":"tools/call","params":{"name":"a"},"params":{"name":"b"}}"#,
            "params",
            Some("4"),
        ),
        (
            r#"{"id":5,"method":"tools/call","params":{"name":"get_user","name":"list_users"}}"#,
            "params.name",
            Some("5"),
        ),
        (
            r#"{"id":6,"method":"resources/read","params":{"uri":"a","uri":"b"}}"#,
            "params.uri",
            Some("6"),
        ),
        (
            r#"{"id":7,"method":"ping","params":{"_meta":{},"_meta":{}}}"#,
            "params._meta",
            Some("7"),
        ),
        (
            r#"{"id":8,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"a","io.modelcontextprotocol/protocolVersion":"b"}}}"#,
            "params._meta.io.modelcontextprotocol/protocolVersion",
            Some("8"),
        ),
        (
            r#"{"jsonrpc":"2.0","id":9,"result":{},"result":{}}"#,
            "result",
            Some("9"),
        ),
        // Escapes decode before comparison, as in every JSON parser.
        (
            r#"{"id":10,"method":"tools/list","\u006dethod":"tools/call"}"#,
            "method",
            Some("10"),
        ),
    ];
    for (body, member, id) in cases {
        let expected_id = id.map_or(RpcId::Null, |n| RpcId::Number(n.into()));
        let message = format!("Invalid Request: duplicate member \"{member}\"");
        assert_eq!(
            invalid(body),
            (expected_id, INVALID_REQUEST, message),
            "{body}"
        );
    }
}

#[test]
fn duplicates_outside_the_envelope_are_allowed() {
    let env = single(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","x":1,"x":2,"params":{"name":"a","arguments":{"q":1,"q":2},"arguments":{}}}"#,
    );
    assert_eq!(env.tool_name.as_deref(), Some("a"));
    single(
        r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"progressToken":1,"progressToken":2}}}"#,
    );
}

#[test]
fn member_types_are_checked() {
    assert_eq!(
        invalid(r#"{"jsonrpc":"2.0","id":"k","method":5}"#),
        (
            RpcId::String("k".into()),
            INVALID_REQUEST,
            "Invalid Request: method must be a string".into()
        )
    );
    assert_eq!(
        invalid(r#"{"method":["tools/call"]}"#).2,
        "Invalid Request: method must be a string"
    );
    assert_eq!(
        invalid(r#"{"method":"tools/\ud800call"}"#).2,
        "Invalid Request: method must be a string"
    );
    for id in ["true", "{}", "[1]"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
        assert_eq!(
            invalid(&body),
            (
                RpcId::Null,
                INVALID_REQUEST,
                "Invalid Request: id must be a string, a number or null".into()
            )
        );
    }
}

#[test]
fn ids_keep_their_type_and_text() {
    for (token, id) in [
        ("7", RpcId::Number("7".into())),
        ("7.0", RpcId::Number("7.0".into())),
        ("-1", RpcId::Number("-1".into())),
        ("1e400", RpcId::Number("1e400".into())),
        ("-1E-999999", RpcId::Number("-1E-999999".into())),
        (
            "123456789012345678901234567890",
            RpcId::Number("123456789012345678901234567890".into()),
        ),
        (r#""7""#, RpcId::String("7".into())),
        (r#""a\"b""#, RpcId::String("a\"b".into())),
        ("null", RpcId::Null),
    ] {
        let env = single(&format!(
            r#"{{"jsonrpc":"2.0","id":{token},"method":"tools/list"}}"#
        ));
        assert_eq!(env.id, Some(id), "{token}");
    }
}

#[test]
fn huge_numbers_anywhere_are_valid_json() {
    let body = r#"{"jsonrpc":"2.0","id":1e999999,"method":"tools/call","params":{"name":"x","arguments":{"n":1e999999,"m":-1e-999999},"other":1e400}}"#;
    assert_eq!(single(body).id, Some(RpcId::Number("1e999999".into())));
    single(r#"{"jsonrpc":"2.0","method":"ping","params":1e400}"#);
    assert!(matches!(
        classify_json(r#"[1e400,{"jsonrpc":"2.0","method":"ping"}]"#),
        Classified::Batch(_)
    ));
    assert_eq!(classify_json("1e999999"), Classified::NotJsonRpc);
}

#[test]
fn batches_keep_every_element_in_order() {
    let body = r#"[
        {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},
        {"jsonrpc":"2.0","id":2,"method":"tools/call","method":"tools/list","params":{"name":"b"}},
        42,
        {"not":"rpc"},
        {"jsonrpc":"2.0","method":"notifications/initialized"}
    ]"#;
    let Classified::Batch(items) = classify_json(body) else {
        panic!("not a batch")
    };
    assert_eq!(items.len(), 5);
    assert!(matches!(&items[0], BatchItem::Envelope(e) if e.tool_name.as_deref() == Some("a")));
    assert_eq!(
        items[1],
        BatchItem::Invalid {
            index: 1,
            id: RpcId::Number("2".into()),
            code: INVALID_REQUEST,
            message: "Invalid Request: duplicate member \"method\"".into()
        }
    );
    for index in [2, 3] {
        assert!(
            matches!(&items[index], BatchItem::Invalid { index: i, id: RpcId::Null, code: INVALID_REQUEST, .. } if *i == index)
        );
    }
    assert!(matches!(&items[4], BatchItem::Envelope(e) if e.kind == Kind::Notification));
    malformed(JSON, br#"[{"jsonrpc":"2.0","method":"ping"},]"#);
}

#[test]
fn deep_json_under_another_content_type_is_still_refused() {
    let body = format!(
        r#"{{"method":"tools/call","params":{{"name":"x","arguments":{}}}}}"#,
        deep(200, "1")
    );
    malformed(Some("text/plain"), body.as_bytes());
    assert_eq!(
        classify(Some("text/plain"), "[".repeat(200).as_bytes()),
        Classified::NotJsonRpc
    );
}

#[test]
fn keys_differing_only_in_case_are_the_same_member() {
    // Go's encoding/json binds "METHOD" to the method field, and the last one wins.
    let cases = [
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","METHOD":"tools/call","params":{"name":"x"}}"#,
            "method",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Name":"b"}}"#,
            "params.name",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"},"paramſ":{"name":"b"}}"#,
            "params",
        ),
        (r#"{"jsonrpc":"2.0","Id":2,"id":1,"method":"ping"}"#, "id"),
    ];
    for (body, member) in cases {
        assert_eq!(
            invalid(body).2,
            format!("Invalid Request: duplicate member \"{member}\""),
            "{body}"
        );
    }
    let go_style =
        single(r#"{"JSONRPC":"2.0","ID":1,"Method":"tools/call","Params":{"Name":"list_users"}}"#);
    assert_eq!(
        (go_style.kind, go_style.tool_name.as_deref()),
        (Kind::Request, Some("list_users"))
    );
    assert!(matches!(
        classify_json(r#"{"Method":"tools/call","params":{"name":"a"}}"#),
        Classified::Single(_)
    ));
}
