//! The strict pass answers only what serde_json answers the same way, and answers for the
//! bodies the gateway reads on every call.

use proptest::prelude::*;

use super::super::members::{self, scan_members, serde_members};
use super::super::quick;
use super::super::response::{self, read_message, serde_message};
use super::super::scan::scan_object_serde;
use super::one_pass::{message, outcome, value};

const LISTS: [&[&str]; 4] = [
    &["jsonrpc", "id", "method", "params", "result", "error"],
    &["name", "uri", "_meta"],
    &["isError"],
    &["a", "A", "b"],
];

/// Where the strict pass answers, serde_json gives the same members and the same repeat.
#[track_caller]
fn agrees(text: &str) -> Result<bool, TestCaseError> {
    let mut answered = false;
    for wanted in LISTS {
        if let Some(quick) = quick::scan(text, wanted) {
            answered = true;
            prop_assert_eq!(
                Some(quick),
                scan_object_serde(text, wanted).ok(),
                "{}",
                text
            );
        }
    }
    Ok(answered)
}

const TOOLS_CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_user","arguments":{"id":"a1b2c3d4"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
const ANSWER: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{\n  \"found\": true,\n  \"user\": {\n    \"id\": \"a1b2c3d4\",\n    \"fullName\": \"Alice Johnson\"\n  }\n}"}],"structuredContent":{"found":true,"user":{"id":"a1b2c3d4","fullName":"Alice Johnson"}},"resultType":"complete"}}"#;

#[test]
fn everyday_bodies_are_read_without_serde_json() {
    let deep = format!(r#"{{"a":{}1{}}}"#, "[".repeat(127), "]".repeat(127));
    for text in [
        TOOLS_CALL,
        ANSWER,
        "{}",
        " {\r\n\t\"id\" : -0.5e+10 , \"method\":\"ping\" } \n",
        r#"{"id":"\ud83d\ude00 \u00e9 \/ \b\f\n\r\t","method":"é","params":[true,false,null,{}]}"#,
        r#"{"result":{"isError":true},"RESULT":{"isError":false},"a":[[],[{}],{"b":[1,2]}]}"#,
        r#"{"id":0,"id":1e400,"b":-12.25E-3}"#,
        &deep,
    ] {
        assert!(
            agrees(text).expect("agrees"),
            "the strict pass left {text} to serde_json"
        );
    }
    // The envelope with `params` and `_meta`, the answer with `result`: one pass each.
    let [mut envelope, mut params, mut meta] = Default::default();
    let levels = &mut [&mut envelope, &mut params, &mut meta];
    assert_eq!(
        quick::scan_levels(TOOLS_CALL, &members::QUICK, levels),
        Some(3)
    );
    assert_eq!(envelope.get(3), None, "params is read in place");
    assert_eq!(params.get(0), Some(r#""get_user""#));
    assert_eq!(meta.get(0), Some(r#""2026-07-28""#));
    let [mut message, mut result] = Default::default();
    let levels = &mut [&mut message, &mut result];
    assert_eq!(
        quick::scan_levels(ANSWER, &response::QUICK, levels),
        Some(2)
    );
    assert_eq!((message.get(1), result.get(0)), (Some("1"), None));
    assert_eq!(
        quick::scan(TOOLS_CALL, LISTS[0]).expect("read").get(3),
        Some(&TOOLS_CALL[55..TOOLS_CALL.len() - 1])
    );
}

#[test]
fn anything_unusual_is_left_to_serde_json() {
    let too_deep = format!(r#"{{"a":{}1{}}}"#, "[".repeat(129), "]".repeat(129));
    for text in [
        // Valid, but serde_json decides.
        r#"{"\u006dethod":"tools/call"}"#,
        r#"{"a":"\ud800"}"#,
        r#"{"a":"\udc00\ud800"}"#,
        r#"{"a":"\ud800\u0041"}"#,
        &too_deep,
        // Not JSON.
        "",
        "{",
        "{,}",
        r#"{"a":1,}"#,
        r#"{"a":[1,]}"#,
        r#"{"a":01}"#,
        r#"{"a":1.}"#,
        r#"{"a":.5}"#,
        r#"{"a":-}"#,
        r#"{"a":1e}"#,
        r#"{"a":+1}"#,
        r#"{"a":tru}"#,
        r#"{"a":nul}"#,
        r#"{"a":"x}"#,
        "{\"a\":\"\u{1}\"}",
        "{\"a\u{1f}\":1}",
        r#"{"a":"\x"}"#,
        r#"{"a":"\u12g4"}"#,
        r#"{"a" 1}"#,
        r#"{a:1}"#,
        r#"{"a":1} x"#,
        r#"{"a":1}}"#,
        r#"{"a":[}"#,
        r#"{"a":{]}"#,
        r#"{"a":{"b"}}"#,
        r#"{"a":{1:2}}"#,
        r#"["a"]"#,
    ] {
        for wanted in LISTS {
            assert_eq!(quick::scan(text, wanted), None, "{text}");
        }
    }
}

/// A body with a few characters inserted, replaced or removed where they hurt most.
fn mutated() -> impl Strategy<Value = String> {
    let seed = prop_oneof![
        Just(TOOLS_CALL.to_string()),
        Just(ANSWER.to_string()),
        message(),
        value(),
    ];
    let edit = (
        any::<prop::sample::Index>(),
        0..3u8,
        prop::sample::select(vec![
            '{', '}', '[', ']', ',', ':', '"', '\\', 'u', 'd', '8', '0', '1', '-', '+', '.', 'e',
            'E', ' ', '\n', '\u{1}', 't', 'n', 'é',
        ]),
    );
    (seed, prop::collection::vec(edit, 1..4)).prop_map(|(seed, edits)| {
        let mut chars: Vec<char> = seed.chars().collect();
        for (at, kind, c) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 => chars.insert(i, c),
                1 if i < chars.len() => chars[i] = c,
                _ if i < chars.len() => {
                    chars.remove(i);
                }
                _ => chars.push(c),
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn the_strict_pass_never_disagrees_with_serde_json(text in prop_oneof![message(), mutated()]) {
        agrees(&text)?;
    }

    #[test]
    fn envelopes_and_answers_read_the_same_either_way(text in prop_oneof![message(), mutated()]) {
        prop_assert_eq!(read_message(&text), serde_message(&text), "{}", text);
        prop_assert_eq!(outcome(scan_members(&text)), outcome(serde_members(&text)), "{}", text);
    }
}
