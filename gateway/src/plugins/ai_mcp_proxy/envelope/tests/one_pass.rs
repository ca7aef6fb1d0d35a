//! Members read in place in the first pass (`result` of a response, `params` and `_meta` of a
//! request) give exactly what the plain way, reading their raw text afterwards, gives.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use proptest::prelude::*;
use serde::de::IgnoredAny;

use super::super::classify::{opening_brackets, too_deep};
use super::super::members::{envelope, is_rpc_like, plain_members, scan_members, Members};
use super::super::response::{plain_message, read_message};
use super::super::scan::scan_object_text_with;
use super::*;

fn is_error(result: &str) -> bool {
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"result":{result}}}"#);
    let info = inspect_response(body.as_bytes());
    assert_eq!(info.messages.len(), 1, "{body}");
    info.messages[0].is_error_result
}

#[test]
fn only_the_results_own_is_error_true_is_a_tool_error() {
    for result in [
        r#"{"isError":true}"#,
        r#"{"content":[],"isError" : true }"#,
        r#"{"content":[{"type":"text","text":"\"isError\":false"}],"isError":true}"#,
        r#"{"IsError":true}"#,
        r#"{"is\u0045rror":true}"#,
        // The first of two counts, as for every member the gateway reads.
        r#"{"isError":true,"isError":false}"#,
        r#"{"isError":true,"ISERROR":false}"#,
        r#"{"n":1e400,"isError":true}"#,
    ] {
        assert!(is_error(result), "{result}");
    }
    for result in [
        r#"{"isError":false}"#,
        r#"{"isError":"true"}"#,
        r#"{"isError":1}"#,
        r#"{"isError":[true]}"#,
        r#"{"isError":false,"isError":true}"#,
        r#"{"content":{"isError":true}}"#,
        r#"{"content":[{"isError":true}]}"#,
        r#"{"structuredContent":{"result":{"isError":true}}}"#,
        r#"{"isErrors":true}"#,
        r#"{}"#,
        "true",
        "null",
        "1e400",
        r#""isError""#,
        r#"[{"isError":true}]"#,
        // A key that is no Rust string: the result cannot be read, the message still is.
        r#"{"\ud800":1,"isError":true}"#,
    ] {
        assert!(!is_error(result), "{result}");
    }
}

#[test]
fn a_result_read_in_place_still_makes_a_response() {
    let info =
        inspect_response(br#"{"jsonrpc":"2.0","id":1,"result":{"isError":true},"result":5}"#);
    assert!(info.messages[0].is_response && info.messages[0].is_error_result);
    let info = inspect_response(br#"{"result":{}}"#);
    assert!(info.messages[0].is_response && info.messages[0].id.is_none());
    let info = inspect_response(br#"{"id":1,"method":"x","result":{"isError":true}}"#);
    assert!(!info.messages[0].is_response && info.messages[0].is_error_result);
    for garbage in [
        &br#"{"id":1,"result":{"isError":true}"#[..],
        br#"{"id":1,"result":{"isError":tru}}"#,
        br#"{"id":1,"result":{"isError":true,}}"#,
        br#"{"id":1,"result":{"isError":true}} x"#,
        b"{\"id\":1,\"result\":{\"isError\":\"\x01\"}}",
    ] {
        assert!(
            inspect_response(garbage).is_unknown(),
            "{}",
            String::from_utf8_lossy(garbage)
        );
    }
}

#[test]
fn a_nested_read_fails_apart_from_the_json() {
    type Object = PhantomData<BTreeMap<String, IgnoredAny>>;
    const WANTED: &[&str] = &["a", "b"];
    let (s, inner) = scan_object_text_with(r#"{"a":1,"b":{"c":2}}"#, WANTED, 1, Object::default())
        .expect("read");
    assert_eq!(s.get(0), Some("1"));
    assert!(s.get(1).is_none() && s.duplicate.is_none());
    assert_eq!(inner.map(|m| m.len()), Some(1));
    let (s, inner) =
        scan_object_text_with(r#"{"B":{},"b":5}"#, WANTED, 1, Object::default()).expect("read");
    assert_eq!((s.duplicate, inner.is_some()), (Some("b"), true));
    let (s, inner) =
        scan_object_text_with(r#"{"a":1}"#, WANTED, 1, Object::default()).expect("read");
    assert!(s.get(0).is_some() && inner.is_none());
    // The seed's own failure, to be read the plain way.
    for json in [r#"{"b":1e400}"#, r#"{"b":{"\ud800":1}}"#, r#"{"b":{"c":}}"#] {
        assert!(
            matches!(
                scan_object_text_with(json, WANTED, 1, Object::default()),
                Err(None)
            ),
            "{json}"
        );
    }
    // Anything else is the JSON's, with the plain scan's error.
    for json in [r#"{"b":{}} x"#, r#"{"a":1e400,"b":{},"#, r#"{"\ud800":1}"#] {
        let plain = scan_object_text(json, WANTED).expect_err(json).to_string();
        match scan_object_text_with(json, WANTED, 1, Object::default()) {
            Err(Some(e)) => assert_eq!(e.to_string(), plain, "{json}"),
            _ => panic!("{json}"),
        }
    }
}

#[test]
fn params_read_in_place_or_not_give_the_same_envelope() {
    let call = single(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"name":"a","arguments":{"x":[1e400]}}}"#,
    );
    assert_eq!(
        (call.tool_name.as_deref(), call.protocol_version.as_deref()),
        (Some("a"), Some("2026-07-28"))
    );
    // Not objects: read the plain way, and the same as before.
    let ping = single(r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":1e400}}"#);
    assert_eq!(ping.protocol_version, None);
    assert_eq!(
        invalid(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1e400]}"#).2,
        "Invalid params: params.name must be a string"
    );
    // A key that is no Rust string leaves `params` unread, as it always did.
    assert_eq!(
        invalid(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"\ud800":1,"name":"a"}}"#
        )
        .2,
        "Invalid params: params.name must be a string"
    );
    let ping = single(
        r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"\udc00":1,"io.modelcontextprotocol/protocolVersion":"v"}}}"#,
    );
    assert_eq!(ping.protocol_version, None);
    // Broken JSON inside `params` is still a parse error.
    assert!(
        malformed(JSON, br#"{"method":"ping","params":{"name":}}"#).starts_with("Parse error: ")
    );
}

/// What an envelope scan decides, in a comparable form.
pub(super) fn outcome(m: Result<Members<'_>, serde_json::Error>) -> String {
    match m {
        Err(e) => format!("error {e}"),
        Ok(m) if !is_rpc_like(&m) => "not rpc".into(),
        Ok(m) => match envelope(&m) {
            Ok(env) => format!("{env:?}"),
            Err(r) => format!("rejected {:?} {} {}", r.id, r.code, r.message),
        },
    }
}

/// The nesting check as it was written first: one byte at a time.
fn too_deep_bytewise(body: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[test]
fn the_nesting_check_counts_as_before() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    for (body, expected) in [
        (deep(MAX_DEPTH), false),
        (deep(MAX_DEPTH + 1), true),
        (format!("[\"{}\"]", "[".repeat(500)), false),
        (format!("[\"\\\"{}\"]", "[".repeat(500)), false),
        (format!("[\"\\\\\"{}", "[".repeat(500)), true),
        (format!("\"{}", "[".repeat(500)), false),
        (format!("{}\"\\", "[".repeat(200)), true),
        (format!("{}\"\\", "[]".repeat(200)), false),
    ] {
        assert_eq!(too_deep(body.as_bytes()), expected, "{body}");
        assert_eq!(too_deep_bytewise(body.as_bytes()), expected, "{body}");
    }
}

pub(super) fn key() -> impl Strategy<Value = &'static str> {
    let plain = prop::sample::select(vec![
        "jsonrpc",
        "id",
        "method",
        "params",
        "result",
        "error",
        "Result",
        "PARAMS",
        "r\\u0065sult",
        "isError",
        "ISERROR",
        "name",
        "Name",
        "uri",
        "_meta",
        "_Meta",
        "io.modelcontextprotocol/protocolVersion",
        "code",
        "message",
        "a",
    ]);
    // No Rust string.
    let lone = prop::sample::select(vec!["\\ud800", "x\\udc00"]);
    prop_oneof![19 => plain, 1 => lone]
}

pub(super) fn leaf() -> impl Strategy<Value = String> {
    let valid = prop::sample::select(vec![
        "1",
        "1e400",
        "-0.5",
        "true",
        "false",
        "null",
        "\"true\"",
        "\"tools/call\"",
        "\"\\ud800\"",
        "\"a\\\"b\"",
        "[]",
        "{}",
    ]);
    let broken = prop::sample::select(vec!["tru", "\"\x01\"", "", "{", "]"]);
    prop_oneof![39 => valid, 1 => broken].prop_map(String::from)
}

pub(super) fn value() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec((key(), inner.clone()), 0..6).prop_map(|members| {
                let members: Vec<_> = members
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\" : {v}"))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
            prop::collection::vec(inner, 0..3).prop_map(|items| format!("[{}]", items.join(","))),
        ]
    })
}

pub(super) fn object() -> impl Strategy<Value = String> {
    let tail = prop_oneof![
        9 => Just(""),
        1 => prop::sample::select(vec![" ", ",", "}", " x", "\n"]),
    ];
    (prop::collection::vec((key(), value()), 0..7), tail).prop_map(|(members, tail)| {
        let members: Vec<_> = members
            .into_iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        format!("{{{}}}{tail}", members.join(","))
    })
}

/// An object, or a well-formed envelope around a generated `params` or `result`.
pub(super) fn message() -> impl Strategy<Value = String> {
    let method = prop::sample::select(vec!["tools/call", "resources/read", "ping"]);
    prop_oneof![
        object(),
        (method, value()).prop_map(|(method, params)| format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#
        )),
        value().prop_map(|result| format!(r#"{{"jsonrpc":"2.0","id":1,"result":{result}}}"#)),
        (value(), leaf(), leaf()).prop_map(|(v, flag, again)| format!(
            r#"{{"jsonrpc":"2.0","id":1,"result":{{"a":{v},"isError":{flag},"IsError":{again}}}}}"#
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn responses_read_in_one_pass_match_the_plain_way(text in message()) {
        prop_assert_eq!(read_message(&text), plain_message(&text), "{}", text);
    }

    #[test]
    fn requests_read_in_one_pass_match_the_plain_way(text in message()) {
        prop_assert_eq!(outcome(scan_members(&text)), outcome(plain_members(&text)), "{}", text);
    }

    #[test]
    fn string_tokens_read_as_serde_json_reads_them(
        token in prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec!["\"", "\\", "\\u00e9", "\\ud800", "\\n", "\t", "\u{1}", "é", "a", "/"])
                    .prop_map(str::to_string),
                "[ -~]{0,4}",
            ],
            0..8,
        ),
        quoted in any::<bool>(),
    ) {
        let inner = token.concat();
        let text = if quoted { format!("\"{inner}\"") } else { inner };
        // Tokens come from scanned values, which never carry surrounding whitespace.
        let text = text.trim_matches([' ', '\t', '\n', '\r']);
        prop_assert_eq!(
            string_token(text),
            serde_json::from_str::<String>(text).ok(),
            "{}",
            text
        );
    }

    #[test]
    fn nesting_is_counted_as_before(
        openers in 0usize..160,
        tail in prop::collection::vec(
            prop::sample::select(vec![b'{', b'[', b'}', b']', b'"', b'\\', b'a']),
            0..400,
        ),
    ) {
        let mut body = vec![b'['; openers];
        body.extend(tail);
        prop_assert_eq!(too_deep(&body), too_deep_bytewise(&body));
    }

    #[test]
    fn opening_brackets_are_every_brace_and_bracket(body in prop::collection::vec(any::<u8>(), 0..300)) {
        let expected = body.iter().filter(|b| matches!(b, b'{' | b'[')).count();
        prop_assert_eq!(opening_brackets(&body), expected);
    }
}

#[test]
fn opening_brackets_fill_whole_chunks_and_the_rest() {
    for len in [0, 1, 31, 32, 33, 64, 95, 1000] {
        let body = vec![b'{'; len];
        assert_eq!(opening_brackets(&body), len);
        // Bytes one bit away from either bracket are not counted.
        let near: Vec<u8> = (0..len)
            .map(|i| [b'{' ^ 1, b'[' ^ 0x40, b';', b'}'][i % 4])
            .collect();
        assert_eq!(opening_brackets(&near), 0);
    }
}
