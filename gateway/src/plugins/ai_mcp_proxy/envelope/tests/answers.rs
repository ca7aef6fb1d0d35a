//! Upstream answers matched to the calls they answer (`observe`), one message or a batch.

use bytes::Bytes;

use super::super::super::observe::{Call, Observation};
use super::*;

fn call(method: &str, id: &str) -> Call {
    Call {
        method: method.into(),
        id: RpcId::from_json_token(id),
        tool_name: None,
        request: Bytes::new(),
        answer: None,
    }
}

fn observe(calls: Vec<Call>, content_type: &str, chunks: &[&str]) -> Observation {
    let mut obs = Observation::new(calls, true);
    obs.start_response(200, Some(content_type));
    for chunk in chunks {
        obs.chunk(chunk.as_bytes());
    }
    obs.finish();
    obs
}

#[test]
fn one_json_answer() {
    let body = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":true}}"#;
    let obs = observe(vec![call("tools/call", "1")], "application/json", &[body]);
    let answer = obs.calls[0].answer.as_ref().expect("answered");
    assert!(answer.tool_error && answer.error.is_none());
    assert_eq!(answer.size, body.len());
    assert_eq!(answer.payload.as_deref(), Some(body));
}

#[test]
fn a_batch_answers_each_call_with_its_own_element() {
    let first = r#"{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"a"},{"name":"b"}]}}"#;
    let second = r#"{"jsonrpc":"2.0","id":1,"result":{"isError":true}}"#;
    let third = r#"{"jsonrpc":"2.0","id":"3","error":{"code":-32601,"message":"no"}}"#;
    let body = format!(" [{first}, 5, {second},\n{third}] ");
    let calls = vec![
        call("tools/call", "1"),
        call("tools/list", "2"),
        call("ping", r#""3""#),
        call("ping", "4"),
    ];
    let obs = observe(calls, "application/json", &[&body]);
    let answers: Vec<_> = obs.calls.iter().map(|c| c.answer.as_ref()).collect();
    let one = answers[0].expect("1 answered");
    assert!(one.tool_error);
    assert_eq!(
        (one.size, one.payload.as_deref()),
        (second.len(), Some(second))
    );
    let two = answers[1].expect("2 answered");
    assert!(!two.tool_error);
    assert_eq!(two.tools, Some(vec!["a".to_string(), "b".to_string()]));
    assert_eq!(two.payload.as_deref(), Some(first));
    assert_eq!(
        answers[2].and_then(|a| a.error.clone()),
        Some((-32601, "no".into()))
    );
    assert!(answers[3].is_none());
}

#[test]
fn a_batch_the_split_cannot_read_is_still_inspected_whole() {
    // A BOM is not whitespace to the split, but `inspect_response` strips it: the elements
    // are found, and each answer is the whole body.
    let body = "\u{feff}[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"isError\":true}}]";
    let obs = observe(vec![call("tools/call", "1")], "application/json", &[body]);
    let answer = obs.calls[0].answer.as_ref().expect("answered");
    assert!(answer.tool_error);
    assert_eq!(answer.size, body.len());
    // A broken batch answers nothing.
    let obs = observe(
        vec![call("tools/call", "1")],
        "application/json",
        &[r#"[{"jsonrpc":"2.0","id":1,"result":{}},"#],
    );
    assert!(obs.calls[0].answer.is_none());
}

#[test]
fn sse_events_are_answers_too() {
    let obs = observe(
        vec![call("tools/call", "7"), call("tools/call", "8")],
        "text/event-stream",
        &[
            "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n",
            "data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[{\"isError\":true}]}}\n\n",
            "data: [{\"jsonrpc\":\"2.0\",\"id\":8.0,\"result\":{\"isError\":true}}]\n\n",
        ],
    );
    let seven = obs.calls[0].answer.as_ref().expect("7 answered");
    assert!(
        !seven.tool_error,
        "isError inside content is not the result's"
    );
    // Ids compare as written here: `8.0` does not answer `8`.
    assert!(obs.calls[1].answer.is_none());
}
