use super::*;

fn call(method: &str, params: &str) -> Envelope {
    single(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#
    ))
}

fn b64(s: &str) -> Vec<u8> {
    format!("=?base64?{s}?=").into_bytes()
}

#[test]
fn matching_headers_pass() {
    let env = call("tools/call", r#"{"name":"list_users"}"#);
    assert_eq!(check_headers(&env, None, None), Ok(()));
    assert_eq!(
        check_headers(&env, Some(b"tools/call"), Some(b"list_users")),
        Ok(())
    );
    assert_eq!(
        check_headers(&env, Some(b" tools/call\t"), Some(b"list_users")),
        Ok(())
    );
    let read = call("resources/read", r#"{"uri":"file:///x"}"#);
    assert_eq!(
        check_headers(&read, Some(b"resources/read"), Some(b"file:///x")),
        Ok(())
    );
    let prompt = call("prompts/get", r#"{"name":"greet"}"#);
    assert_eq!(
        check_headers(&prompt, Some(b"prompts/get"), Some(b"greet")),
        Ok(())
    );
}

#[test]
fn base64_headers_are_decoded() {
    // "héllo" and "tools/call"
    let env = call("tools/call", r#"{"name":"héllo"}"#);
    assert_eq!(
        check_headers(&env, Some(&b64("dG9vbHMvY2FsbA==")), Some(&b64("aMOpbGxv"))),
        Ok(())
    );
    assert_eq!(
        check_headers(
            &env,
            Some(&b64("dG9vbHMvY2FsbA")),
            Some(b"=?BASE64?aMOpbGxv?=")
        ),
        Ok(())
    );
    assert_eq!(
        check_headers(&env, Some(b"tools/call"), Some(&b64("aMOpbGxv!"))),
        Err(HeaderMismatch::BadEncoding { header: "Mcp-Name" })
    );
    assert_eq!(
        HeaderMismatch::BadEncoding { header: "Mcp-Name" }.to_string(),
        "Mcp-Name header is not valid =?base64?...?= encoding"
    );
}

#[test]
fn base64_decoder() {
    let d = |s: &str| decode_header_value(&b64(s)).map(|v| v.into_owned());
    assert_eq!(d(""), Some(vec![]));
    assert_eq!(d("Zg=="), Some(b"f".to_vec()));
    assert_eq!(d("Zm8="), Some(b"fo".to_vec()));
    assert_eq!(d("Zm9v"), Some(b"foo".to_vec()));
    assert_eq!(d("+/+/"), Some(vec![0xfb, 0xff, 0xbf]));
    for bad in [
        "Zg=", "Z", "Zh==", "Zm9v=", "Z===", "Zg==Zg==", "Zm-v", "Zm9v\n",
    ] {
        assert_eq!(d(bad), None, "{bad}");
    }
    assert_eq!(
        decode_header_value(b"=?base64?"),
        Some(std::borrow::Cow::Borrowed(&b"=?base64?"[..]))
    );
}

#[test]
fn mismatches_name_what_disagreed() {
    let env = call("tools/call", r#"{"name":"list_orders"}"#);
    let err = check_headers(&env, Some(b"tools/call"), Some(b"list_users")).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Mcp-Name header "list_users" does not match params.name "list_orders""#
    );
    let err = check_headers(&env, Some(b"tools/list"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Mcp-Method header "tools/list" does not match method "tools/call""#
    );
    // The header mirrors the body exactly; loose spellings are for the ACL, not for this.
    let loud = call("TOOLS/CALL", r#"{"name":"x"}"#);
    assert!(check_headers(&loud, Some(b"tools/call"), None).is_err());
}

#[test]
fn a_header_without_a_body_member_is_a_mismatch() {
    let list = call("tools/list", "{}");
    let err = check_headers(&list, None, Some(b"list_users")).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Mcp-Name header "list_users" does not match: the body has no params.name or params.uri"#
    );
    let read = call("resources/read", "{}");
    let err = check_headers(&read, None, Some(b"file:///x")).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Mcp-Name header "file:///x" does not match: the body has no params.uri"#
    );
    let response = single(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
    let err = check_headers(&response, Some(b"ping"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Mcp-Method header "ping" does not match: the body has no method"#
    );
}

#[test]
fn odd_header_bytes_never_match_by_accident() {
    let env = call("tools/call", r#"{"name":"a\"b"}"#);
    let err = check_headers(&env, None, Some(b"a\xffb")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Mcp-Name header \"a\u{fffd}b\" does not match params.name \"a\\\"b\""
    );
}
