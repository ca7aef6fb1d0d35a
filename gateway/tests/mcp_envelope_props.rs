//! Property tests of the MCP envelope module: no input makes it panic, valid JSON is never
//! called malformed, and well-formed envelopes come back with the method, tool name and id
//! (type and exact token) they were built with.

use gateway::plugins::ai_mcp_proxy::envelope::{
    check_headers, classify, decode_header_value, error_body, inspect_response,
    is_prompts_get_like, is_tools_call_like, Classified, RpcId, INVALID_REQUEST,
};
use proptest::prelude::*;
use serde_json::value::RawValue;
use serde_json::Value;

const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("application/json"),
    Some("text/plain"),
    Some("application/x+json"),
];

/// Fragments that steer random bytes into the interesting corners of the parser.
fn json_soup() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just("{"),
        Just("}"),
        Just("["),
        Just("]"),
        Just(":"),
        Just(","),
        Just("\"method\""),
        Just("\"id\""),
        Just("\"params\""),
        Just("\"name\""),
        Just("\"jsonrpc\""),
        Just("\"2.0\""),
        Just("\"tools/call\""),
        Just("\"_meta\""),
        Just("\"result\""),
        Just("\"error\""),
        Just("1e400"),
        Just("-0.5"),
        Just("null"),
        Just("true"),
        Just("\"\\ud800\""),
        Just(" "),
        Just("\"\\u006dethod\""),
        Just("\u{feff}"),
        Just("\"x\""),
    ];
    prop::collection::vec(fragment, 0..40).prop_map(|parts| parts.concat().into_bytes())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-zA-Z_]{0,6}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An id token as a client might write it, or none.
fn id_token() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("null".to_owned())),
        "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,7})?".prop_map(Some),
        ".{0,16}".prop_map(|s| Some(serde_json::to_string(&s).unwrap())),
    ]
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("tools/call".to_owned()),
        Just(" TOOLS/Call ".to_owned()),
        Just("prompts/get".to_owned()),
        Just("resources/read".to_owned()),
        Just("tools/list".to_owned()),
        ".{0,20}",
    ]
}

const ENVELOPE_KEYS: [&str; 6] = ["jsonrpc", "id", "method", "params", "result", "error"];

fn extras(reserved: &'static [&'static str]) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[a-zA-Z_]{1,8}", json_value()), 0..4).prop_map(move |kv| {
        kv.into_iter()
            .filter(|(k, _)| !reserved.iter().any(|r| r.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k, v.to_string()))
            .collect()
    })
}

#[derive(Debug, Clone)]
struct Generated {
    body: String,
    id: Option<String>,
    method: String,
    name: Option<String>,
}

fn envelope() -> impl Strategy<Value = Generated> {
    (
        id_token(),
        method(),
        prop::option::of(".{0,16}"),
        extras(&ENVELOPE_KEYS),
        extras(&["name", "uri", "_meta"]),
        any::<bool>(),
    )
        .prop_flat_map(|(id, method, name, extra, param_extra, duplicate_extra)| {
            let name = name.or_else(|| is_tools_call_like(&method).then(|| "t".to_owned()));
            let mut params: Vec<String> = param_extra.iter().map(|(k, v)| member(k, v)).collect();
            if let Some(name) = &name {
                params.push(member("name", &serde_json::to_string(name).unwrap()));
            }
            let mut members: Vec<String> = extra.iter().map(|(k, v)| member(k, v)).collect();
            if duplicate_extra {
                // Repeats outside the envelope belong to the application and are allowed.
                members.extend(extra.iter().map(|(k, v)| member(k, v)));
            }
            members.push(member("jsonrpc", "\"2.0\""));
            members.push(member("method", &serde_json::to_string(&method).unwrap()));
            members.push(member("params", &format!("{{{}}}", params.join(","))));
            if let Some(id) = &id {
                members.push(member("id", id));
            }
            (Just(members).prop_shuffle(), Just((id, method, name)))
        })
        .prop_map(|(members, (id, method, name))| Generated {
            body: format!(" {{ {} }} ", members.join(" , ")),
            id,
            method,
            name,
        })
}

fn member(key: &str, value: &str) -> String {
    format!("{}:{value}", serde_json::to_string(key).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256), ct in 0..4usize, header in prop::collection::vec(any::<u8>(), 0..32)) {
        let classified = classify(CONTENT_TYPES[ct], &body);
        inspect_response(&body);
        decode_header_value(&header);
        if let Classified::Single(env) = classified {
            let _ = check_headers(&env, Some(&header), Some(&header));
        }
    }

    #[test]
    fn json_like_bytes_never_panic_and_valid_json_is_never_malformed(body in json_soup(), ct in 0..4usize) {
        let classified = classify(CONTENT_TYPES[ct], &body);
        inspect_response(&body);
        let trimmed = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&body);
        if serde_json::from_slice::<Value>(trimmed).is_ok() {
            prop_assert!(!matches!(classified, Classified::Malformed { .. }), "{classified:?}");
        }
        if let Classified::Single(env) = &classified {
            // Without duplicates, serde_json's Value reads the same method.
            if let Ok(value) = serde_json::from_slice::<Value>(trimmed) {
                prop_assert_eq!(value.get("method").and_then(Value::as_str), env.method.as_deref());
            }
        }
    }

    #[test]
    fn well_formed_envelopes_round_trip(g in envelope(), ct in 0..4usize) {
        let classified = classify(CONTENT_TYPES[ct], g.body.as_bytes());
        let Classified::Single(env) = classified else {
            return Err(TestCaseError::fail(format!("{} -> {classified:?}", g.body)));
        };
        prop_assert_eq!(env.method.as_deref(), Some(g.method.as_str()));
        let named = is_tools_call_like(&g.method) || is_prompts_get_like(&g.method);
        prop_assert_eq!(env.tool_name.as_deref(), if named { g.name.as_deref() } else { None });
        prop_assert_eq!(env.id.is_some(), g.id.is_some());

        let body = error_body(env.id.as_ref(), INVALID_REQUEST, "m");
        #[derive(serde::Deserialize)]
        struct Echo<'a> {
            #[serde(borrow)]
            id: &'a RawValue,
        }
        let echo: Echo = serde_json::from_slice(&body).expect("error body is JSON");
        prop_assert_eq!(echo.id.get(), g.id.as_deref().unwrap_or("null"));
        if let Some(id) = &env.id {
            let echoed = RpcId::from_json_token(echo.id.get());
            prop_assert_eq!(echoed.as_ref(), Some(id));
        }
    }

    #[test]
    fn a_duplicated_envelope_member_is_always_invalid(g in envelope(), which in 0..3usize, upper in prop::collection::vec(any::<bool>(), 8)) {
        let (key, value) = [("method", "\"tools/call\""), ("jsonrpc", "\"2.0\""), ("params", "{\"name\":\"x\"}")][which];
        // Any case: lenient upstreams bind "MeThOd" to the method member too.
        let key: String = key.chars().zip(&upper).map(|(c, u)| if *u { c.to_ascii_uppercase() } else { c }).collect();
        let body = format!("{{{}:{value},{}", serde_json::to_string(&key).unwrap(), g.body.trim_start().trim_start_matches('{'));
        let classified = classify(None, body.as_bytes());
        prop_assert!(matches!(classified, Classified::Invalid { code: INVALID_REQUEST, .. }), "{body} -> {classified:?}");
    }
}
