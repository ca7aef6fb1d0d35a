//! `tools/list` answers cut down to the tools a subject may use, in a JSON body or inside an SSE
//! event. Only `result.tools` is rewritten: every other byte of the answer (other members of
//! the result, unknown fields, the other messages of a batch, the event's other fields) is kept
//! as the upstream sent it, and a tool entry that stays is copied byte for byte.
//!
//! Anything the filter cannot read with certainty fails closed: an answer with a repeated
//! `result`, `tools` or `nextCursor` member (two parsers could read two different lists), a
//! `tools` that is not an array. A tool entry without a readable `name` is dropped.

use serde_json::value::RawValue;

use super::envelope::{scan_object_text, string_token, RpcId};

const MESSAGE: &[&str] = &["id", "method", "result"];
const RESULT: &[&str] = &["tools", "nextCursor"];
const TOOL: &[&str] = &["name"];

/// A `tools/list` the client asked for, waiting for its answer.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: RpcId,
    /// The request carried a `cursor`: this is a later page of a paginated list.
    pub paged: bool,
    pub answered: bool,
}

/// What filtering a body (or an event's data) came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Filtered {
    /// Nothing to remove: the original bytes go out.
    Unchanged,
    Rewritten(String),
    /// The upstream listed tools for this call and the subject may use none of them.
    NoneAllowed(RpcId),
    /// The answer to this call could not be read with certainty.
    Unreadable(RpcId, &'static str),
}

/// Which answers to filter.
pub enum Scope<'a> {
    /// The answers to these `tools/list` calls.
    Targets(&'a mut [Target]),
    /// Every answer that carries `result.tools`, whatever its id (a stream the client did not
    /// ask on, such as a resumed or standalone event stream). Nothing allowed is `tools: []`.
    Any,
}

/// Filters every answer in scope in `text` (one message or a batch). `decide` says whether a
/// tool name is allowed; each listed name and its decision is pushed to `decisions`.
pub fn filter_json(
    text: &str,
    mut scope: Scope<'_>,
    decide: &dyn Fn(&str) -> bool,
    decisions: &mut Vec<(String, bool)>,
) -> Filtered {
    let trimmed = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .trim_matches([' ', '\t', '\r', '\n']);
    let mut splices: Vec<(usize, usize, String)> = Vec::new();
    let messages: Vec<&str> = if trimmed.starts_with('{') {
        vec![trimmed]
    } else if trimmed.starts_with('[') {
        match serde_json::from_str::<Vec<&RawValue>>(trimmed) {
            Ok(items) => items
                .into_iter()
                .map(RawValue::get)
                .filter(|m| m.starts_with('{'))
                .collect(),
            Err(_) => return Filtered::Unchanged,
        }
    } else {
        return Filtered::Unchanged;
    };
    for msg in messages {
        match filter_message(msg, &mut scope, decide, decisions) {
            Ok(Some(new)) => splices.push((offset(text, msg), msg.len(), new)),
            Ok(None) => {}
            Err(verdict) => return verdict,
        }
    }
    if splices.is_empty() {
        return Filtered::Unchanged;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, len, new) in splices {
        out.push_str(&text[at..start]);
        out.push_str(&new);
        at = start + len;
    }
    out.push_str(&text[at..]);
    Filtered::Rewritten(out)
}

/// One message: `Ok(Some(rewritten))` when tools were removed from an answer to a target.
fn filter_message(
    msg: &str,
    scope: &mut Scope<'_>,
    decide: &dyn Fn(&str) -> bool,
    decisions: &mut Vec<(String, bool)>,
) -> Result<Option<String>, Filtered> {
    let Ok(scanned) = scan_object_text(msg, MESSAGE) else {
        return Ok(None);
    };
    if scanned.get(1).is_some() {
        return Ok(None); // a request or notification from the server
    }
    let id = scanned
        .get(0)
        .and_then(RpcId::from_json_token)
        .unwrap_or(RpcId::Null);
    // A later page, or an answer nobody asked for here: nothing allowed is an empty list.
    let paged = match scope {
        Scope::Any => true,
        Scope::Targets(targets) => {
            let Some(target) = targets
                .iter_mut()
                .find(|t| !t.answered && t.id.matches(&id))
            else {
                return Ok(None);
            };
            target.answered = true;
            target.paged
        }
    };
    let unreadable = |why| Err(Filtered::Unreadable(id.clone(), why));
    if scanned.duplicate.is_some() {
        return unreadable("the answer repeats a member");
    }
    let Some(result) = scanned.get(2) else {
        return Ok(None); // an error answer lists nothing
    };
    if !result.starts_with('{') {
        return unreadable("result is not an object");
    }
    let Ok(members) = scan_object_text(result, RESULT) else {
        return unreadable("result is not an object");
    };
    if members.duplicate.is_some() {
        return unreadable("result repeats tools or nextCursor");
    }
    let Some(tools) = members.get(0) else {
        return Ok(None);
    };
    let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(tools) else {
        return unreadable("result.tools is not an array");
    };
    let mut kept: Vec<&str> = Vec::with_capacity(items.len());
    for item in &items {
        let Some(name) = tool_name(item.get()) else {
            continue;
        };
        let allowed = decide(&name);
        decisions.push((name, allowed));
        if allowed {
            kept.push(item.get());
        }
    }
    if kept.len() == items.len() {
        return Ok(None);
    }
    let more_pages = members.get(1).is_some_and(|c| c != "null");
    if kept.is_empty() && !paged && !more_pages {
        return Err(Filtered::NoneAllowed(id));
    }
    let start = offset(msg, tools);
    let mut out = String::with_capacity(msg.len());
    out.push_str(&msg[..start]);
    out.push('[');
    out.push_str(&kept.join(","));
    out.push(']');
    out.push_str(&msg[start + tools.len()..]);
    Ok(Some(out))
}

/// The `name` of a tool entry, when it is an object with exactly one string `name`.
fn tool_name(item: &str) -> Option<String> {
    if !item.starts_with('{') {
        return None;
    }
    let scanned = scan_object_text(item, TOOL).ok()?;
    if scanned.duplicate.is_some() {
        return None;
    }
    string_token(scanned.get(0)?)
}

/// Where `inner` (a slice of `outer`) starts in `outer`.
fn offset(outer: &str, inner: &str) -> usize {
    inner.as_ptr() as usize - outer.as_ptr() as usize
}

/// The end (just past its blank line) of the SSE event block that starts the buffer, under
/// the WHATWG line rules (CRLF, LF or CR), looking for line ends from `from` (a line start).
/// `Err(line)` when the block is not complete yet: `line` is where to look again once more
/// bytes arrived. A CR that ends the buffer may be the first half of a CRLF, so it does not end
/// a line yet.
pub fn next_block(buf: &[u8], from: usize) -> Result<usize, usize> {
    let mut pos = from;
    loop {
        let Some((line_end, next)) = next_line(buf, pos) else {
            return Err(pos);
        };
        if line_end == pos {
            return Ok(next);
        }
        pos = next;
    }
}

/// The end of the line starting at `pos` and the start of the next one.
fn next_line(buf: &[u8], pos: usize) -> Option<(usize, usize)> {
    let i = pos
        + buf
            .get(pos..)?
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')?;
    if buf[i] == b'\n' {
        return Some((i, i + 1));
    }
    match buf.get(i + 1) {
        None => None,
        Some(b'\n') => Some((i, i + 2)),
        Some(_) => Some((i, i + 1)),
    }
}

/// The lines of a complete block, each with its terminator.
fn lines(block: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let (end, next) = next_line(block, pos).or_else(|| {
            // The last line of a flushed tail may have no terminator.
            (pos < block.len()).then_some((block.len(), block.len()))
        })?;
        let line = (&block[pos..end], &block[end..next]);
        pos = next;
        Some(line)
    })
}

/// A `data` field line's value, or `None` for any other line.
fn data_value(line: &[u8]) -> Option<&[u8]> {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let rest = line.strip_prefix(b"data")?;
    match rest.first() {
        None => Some(rest),
        Some(b':') => Some(rest[1..].strip_prefix(b" ").unwrap_or(&rest[1..])),
        Some(_) => None,
    }
}

/// The event's data as a client would assemble it (lines joined with `\n`; invalid UTF-8
/// replaced, as an `EventSource` decodes), or `None` when the block has no `data` line.
pub fn block_data(block: &[u8]) -> Option<String> {
    let mut data: Option<Vec<u8>> = None;
    for (line, _) in lines(block) {
        let Some(value) = data_value(line) else {
            continue;
        };
        match &mut data {
            None => data = Some(value.to_vec()),
            Some(buf) => {
                buf.push(b'\n');
                buf.extend_from_slice(value);
            }
        }
    }
    data.map(|d| String::from_utf8_lossy(&d).into_owned())
}

/// The block with its `data` lines replaced by `data` (one `data:` line per line of it, ended
/// as the first data line was); every other field and comment line is kept in place.
pub fn rewrite_block(block: &[u8], data: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(block.len());
    let mut written = false;
    for (line, terminator) in lines(block) {
        if data_value(line).is_none() {
            out.extend_from_slice(line);
            out.extend_from_slice(terminator);
            continue;
        }
        if !written {
            written = true;
            // The block's own line ending; a last line without one gets LF.
            let end: &[u8] = if terminator.is_empty() {
                b"\n"
            } else {
                terminator
            };
            for part in data.split('\n') {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(part.as_bytes());
                out.extend_from_slice(end);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: &str) -> Target {
        Target {
            id: RpcId::from_json_token(id).unwrap(),
            paged: false,
            answered: false,
        }
    }

    fn run(text: &str, targets: &mut [Target]) -> (Filtered, Vec<(String, bool)>) {
        let mut decisions = Vec::new();
        let allow = |name: &str| name.starts_with("ok");
        let out = filter_json(text, Scope::Targets(targets), &allow, &mut decisions);
        (out, decisions)
    }

    #[test]
    fn keeps_every_other_byte() {
        let text = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"x\":1e400, \"tools\" : [ {\"name\":\"ok_a\",\"z\":[1]}, {\"name\":\"no_b\"},{\"name\":\"ok_c\"} ],\"nextCursor\":\"2\",\"_meta\":{}}}\n";
        let (out, decisions) = run(text, &mut [target("1")]);
        assert_eq!(
            out,
            Filtered::Rewritten("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"x\":1e400, \"tools\" : [{\"name\":\"ok_a\",\"z\":[1]},{\"name\":\"ok_c\"}],\"nextCursor\":\"2\",\"_meta\":{}}}\n".into())
        );
        assert_eq!(
            decisions,
            [
                ("ok_a".to_string(), true),
                ("no_b".to_string(), false),
                ("ok_c".to_string(), true)
            ]
        );
    }

    #[test]
    fn unchanged_when_all_allowed_or_empty_or_not_a_target() {
        let all = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ok"}]}}"#;
        assert_eq!(run(all, &mut [target("1")]).0, Filtered::Unchanged);
        let empty = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#;
        assert_eq!(run(empty, &mut [target("1")]).0, Filtered::Unchanged);
        let other = r#"{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"no"}]}}"#;
        assert_eq!(run(other, &mut [target("1")]).0, Filtered::Unchanged);
        let string_id = r#"{"jsonrpc":"2.0","id":"1","result":{"tools":[{"name":"no"}]}}"#;
        assert_eq!(run(string_id, &mut [target("1")]).0, Filtered::Unchanged);
        let error = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"x"}}"#;
        assert_eq!(run(error, &mut [target("1")]).0, Filtered::Unchanged);
    }

    #[test]
    fn none_allowed_unless_more_pages() {
        let none = r#"{"jsonrpc":"2.0","id":"a","result":{"tools":[{"name":"no"}]}}"#;
        assert_eq!(
            run(none, &mut [target("\"a\"")]).0,
            Filtered::NoneAllowed(RpcId::String("a".into()))
        );
        let first_page =
            r#"{"jsonrpc":"2.0","id":"a","result":{"tools":[{"name":"no"}],"nextCursor":"5"}}"#;
        assert_eq!(
            run(first_page, &mut [target("\"a\"")]).0,
            Filtered::Rewritten(
                r#"{"jsonrpc":"2.0","id":"a","result":{"tools":[],"nextCursor":"5"}}"#.into()
            )
        );
        let mut later = target("\"a\"");
        later.paged = true;
        assert!(matches!(
            run(none, &mut [later]).0,
            Filtered::Rewritten(s) if s.contains("\"tools\":[]")
        ));
    }

    #[test]
    fn any_scope_filters_every_listing_and_never_refuses() {
        let mut decisions = Vec::new();
        let allow = |name: &str| name.starts_with("ok");
        let text = r#"{"jsonrpc":"2.0","id":"replayed","result":{"tools":[{"name":"no"}]}}"#;
        assert_eq!(
            filter_json(text, Scope::Any, &allow, &mut decisions),
            Filtered::Rewritten(
                r#"{"jsonrpc":"2.0","id":"replayed","result":{"tools":[]}}"#.into()
            )
        );
        let call = r#"{"jsonrpc":"2.0","id":3,"result":{"content":[]}}"#;
        assert_eq!(
            filter_json(call, Scope::Any, &allow, &mut decisions),
            Filtered::Unchanged
        );
    }

    #[test]
    fn batches_filter_each_answer() {
        let text = r#"[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"no"},{"name":"ok"}]}},{"jsonrpc":"2.0","id":2,"result":{}},{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"no2"},{"name":"ok2"}]}}]"#;
        let (out, _) = run(text, &mut [target("1"), target("3")]);
        assert_eq!(
            out,
            Filtered::Rewritten(r#"[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ok"}]}},{"jsonrpc":"2.0","id":2,"result":{}},{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"ok2"}]}}]"#.into())
        );
        let denied = r#"[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ok"}]}},{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"no"}]}}]"#;
        assert_eq!(
            run(denied, &mut [target("1"), target("3")]).0,
            Filtered::NoneAllowed(RpcId::Number("3".into()))
        );
    }

    #[test]
    fn ambiguous_answers_fail_closed() {
        for (text, why) in [
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[],"tools":[{"name":"no"}]}}"#,
                "result repeats tools or nextCursor",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"Tools":[{"name":"ok"}],"tools":[]}}"#,
                "result repeats tools or nextCursor",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]},"result":{"tools":[{"name":"no"}]}}"#,
                "the answer repeats a member",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"tools":{"name":"no"}}}"#,
                "result.tools is not an array",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":[]}"#,
                "result is not an object",
            ),
        ] {
            assert_eq!(
                run(text, &mut [target("1")]).0,
                Filtered::Unreadable(RpcId::Number("1".into()), why),
                "{text}"
            );
        }
    }

    #[test]
    fn nameless_and_duplicate_named_entries_are_dropped() {
        let text = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ok"},{"title":"ok"},7,{"name":"ok","name":"no"},{"name":"ok2"}]}}"#;
        assert_eq!(
            run(text, &mut [target("1")]).0,
            Filtered::Rewritten(
                r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ok"},{"name":"ok2"}]}}"#
                    .into()
            )
        );
    }

    #[test]
    fn escaped_names_are_decoded() {
        let text = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"\u006fk"},{"name":"n\u006f"}]}}"#;
        let (out, decisions) = run(text, &mut [target("1")]);
        assert!(matches!(out, Filtered::Rewritten(_)));
        assert_eq!(
            decisions,
            [("ok".to_string(), true), ("no".to_string(), false)]
        );
    }

    #[test]
    fn sse_blocks_under_every_line_ending() {
        let buf = b"id: 1\r\ndata: a\r\n\r\n: c\rdata: b\r\rdata: c\n\ndata: d\r";
        let first = next_block(buf, 0).unwrap();
        assert_eq!(&buf[..first], b"id: 1\r\ndata: a\r\n\r\n");
        let second = next_block(buf, first).unwrap();
        assert_eq!(&buf[first..second], b": c\rdata: b\r\r");
        let third = next_block(buf, second).unwrap();
        assert_eq!(&buf[second..third], b"data: c\n\n");
        assert_eq!(
            next_block(buf, third),
            Err(third),
            "a lone CR at the end may become CRLF"
        );
        assert_eq!(next_block(b"data: x\r\n\r", 0), Err(9));
        assert_eq!(
            next_block(b"data: x\r\n\r\n", 9),
            Ok(11),
            "resumes mid-block"
        );
        assert_eq!(block_data(&buf[first..second]).as_deref(), Some("b"));
    }

    #[test]
    fn sse_data_joined_and_rewritten_in_place() {
        let block = b"event: message\nid: 7\ndata: {\"a\":\ndata:1}\nretry: 5\n\n";
        assert_eq!(
            rewrite_block(b"data: 1\r\ndata: 2\r\n\r\n", "3\n4"),
            b"data: 3\r\ndata: 4\r\n\r\n"
        );
        assert_eq!(block_data(block).as_deref(), Some("{\"a\":\n1}"));
        assert_eq!(
            rewrite_block(block, "{\"b\":\n2}"),
            b"event: message\nid: 7\ndata: {\"b\":\ndata: 2}\nretry: 5\n\n"
        );
        assert_eq!(block_data(b": only a comment\n\n"), None);
        assert_eq!(block_data(b"data\n\n").as_deref(), Some(""));
        assert_eq!(block_data(b"datax: 1\n\n"), None);
    }
}
