//! Property tests for the MCP plugin's SSE parser: chunk boundaries never change what it sees.
//!
//! Streams are generated as structured blocks (fields, comments, random line endings, an
//! optional BOM and an unterminated tail), serialized to bytes, and the events a simple model
//! expects are compared with what the parser yields for the whole stream, for every single split
//! point, for random multi-splits and byte by byte. The relay hands the parser whatever chunking
//! the network produced, so any dependence on it would be a bug.

use gateway::plugins::ai_mcp_proxy::sse::{SseEvent, SseParser};
use proptest::prelude::*;

const LF: u8 = 0;
const CR: u8 = 1;
const CRLF: u8 = 2;

#[derive(Debug, Clone)]
enum Content {
    Field {
        name: String,
        value: String,
        /// Write `name: value` rather than `name:value` (forced when the value starts with a space).
        space: bool,
        /// Write a bare `name` when the value is empty.
        bare: bool,
    },
    Comment(String),
}

#[derive(Debug, Clone)]
struct Line {
    content: Content,
    ending: u8,
}

#[derive(Debug, Clone)]
struct Block {
    lines: Vec<Line>,
    blank_ending: u8,
}

#[derive(Debug, Clone)]
struct Stream {
    bom: bool,
    blocks: Vec<Block>,
    /// Lines after the last blank line: never dispatched.
    tail: Vec<Line>,
}

fn field(
    name: impl Strategy<Value = String>,
    value: impl Strategy<Value = String>,
) -> impl Strategy<Value = Content> {
    (name, value, any::<bool>(), any::<bool>()).prop_map(|(name, value, space, bare)| {
        Content::Field {
            name,
            value,
            space,
            bare,
        }
    })
}

fn data_value() -> impl Strategy<Value = String> {
    let text = "[ -~é€😀]{0,12}";
    let rpc = (
        0u32..1000,
        prop::sample::select(vec!["tools/call", "tools/list", "ping"]),
        "[a-z é\"\\\\]{0,6}",
    )
        .prop_map(|(id, method, q)| {
            let q = serde_json::to_string(&q).expect("a string serializes");
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{{"q":{q}}}}}"#)
        });
    prop_oneof![3 => text, 1 => rpc]
}

fn content() -> impl Strategy<Value = Content> {
    prop_oneof![
        6 => field(Just("data".to_owned()), data_value()),
        2 => field(Just("event".to_owned()), "[a-z_/]{0,8}"),
        2 => field(Just("id".to_owned()), prop_oneof![4 => "[a-zA-Z0-9 _-]{0,6}", 1 => Just("a\0b".to_owned())]),
        1 => field(Just("retry".to_owned()), prop_oneof!["[0-9]{1,5}", "[0-9]{0,2}[a.][0-9]"]),
        1 => field("[a-z]{1,5}".prop_filter("unknown field", |n| !matches!(n.as_str(), "data" | "event" | "id" | "retry")), "[ -~]{0,12}"),
        2 => "[ -~]{0,10}".prop_map(Content::Comment),
    ]
}

fn line() -> impl Strategy<Value = Line> {
    (content(), 0u8..3).prop_map(|(content, ending)| Line { content, ending })
}

fn stream() -> impl Strategy<Value = Stream> {
    let block =
        (prop::collection::vec(line(), 0..5), 0u8..3).prop_map(|(lines, blank_ending)| Block {
            lines,
            blank_ending,
        });
    (
        any::<bool>(),
        prop::collection::vec(block, 0..6),
        prop::collection::vec(line(), 0..3),
    )
        .prop_map(|(bom, blocks, tail)| Stream { bom, blocks, tail })
}

fn line_bytes(content: &Content) -> Vec<u8> {
    match content {
        Content::Comment(text) => format!(":{text}").into_bytes(),
        Content::Field {
            name,
            value,
            bare: true,
            ..
        } if value.is_empty() => name.clone().into_bytes(),
        Content::Field {
            name, value, space, ..
        } => {
            let sep = if *space || value.starts_with(' ') {
                ": "
            } else {
                ":"
            };
            format!("{name}{sep}{value}").into_bytes()
        }
    }
}

fn push_line(out: &mut Vec<u8>, content: &[u8], ending: u8, prev_cr: &mut bool) {
    // A CR ending followed by a blank line written as LF would read as one CRLF line end.
    let ending = if content.is_empty() && *prev_cr && ending == LF {
        CRLF
    } else {
        ending
    };
    out.extend_from_slice(content);
    out.extend_from_slice(match ending {
        LF => b"\n",
        CR => b"\r",
        _ => b"\r\n",
    });
    *prev_cr = ending == CR;
}

fn serialize(stream: &Stream) -> Vec<u8> {
    let mut out = Vec::new();
    if stream.bom {
        out.extend_from_slice("\u{FEFF}".as_bytes());
    }
    let mut prev_cr = false;
    for block in &stream.blocks {
        for line in &block.lines {
            push_line(
                &mut out,
                &line_bytes(&line.content),
                line.ending,
                &mut prev_cr,
            );
        }
        push_line(&mut out, b"", block.blank_ending, &mut prev_cr);
    }
    for line in &stream.tail {
        push_line(
            &mut out,
            &line_bytes(&line.content),
            line.ending,
            &mut prev_cr,
        );
    }
    out
}

/// The events a browser would fire, computed from the structure rather than the bytes.
fn expected(stream: &Stream) -> Vec<SseEvent> {
    let mut last_id = String::new();
    let mut events = Vec::new();
    for block in &stream.blocks {
        let (mut data, mut event, mut retry) = (None::<String>, String::new(), None);
        for line in &block.lines {
            let Content::Field { name, value, .. } = &line.content else {
                continue;
            };
            match name.as_str() {
                "data" => match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => data = Some(value.clone()),
                },
                "event" => event = value.clone(),
                "id" if !value.contains('\0') => last_id = value.clone(),
                "retry" if value.bytes().all(|b| b.is_ascii_digit()) => retry = value.parse().ok(),
                _ => {}
            }
        }
        if let Some(data) = data {
            events.push(SseEvent {
                event: (!event.is_empty()).then_some(event),
                data,
                id: (!last_id.is_empty()).then(|| last_id.clone()),
                retry,
            });
        }
    }
    events
}

/// Parses `bytes` split at `cuts` (sorted or not); returns the events and the counters.
fn parse_split(max: usize, bytes: &[u8], cuts: &[usize]) -> (Vec<SseEvent>, [u64; 5]) {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
    cuts.sort_unstable();
    let mut parser = SseParser::new(max);
    let mut out = Vec::new();
    let mut start = 0;
    for end in cuts.into_iter().chain([bytes.len()]) {
        parser.feed(&bytes[start..end], &mut out);
        assert!(
            parser.buffered_bytes() <= max,
            "buffered {} > {max}",
            parser.buffered_bytes()
        );
        start = end;
    }
    let counters = [
        parser.events(),
        parser.comments(),
        parser.bytes(),
        parser.oversized(),
        parser.empty_events(),
    ];
    parser.finish();
    (out, counters)
}

const ROOMY: usize = 1 << 20;

proptest! {
    #[test]
    fn whole_stream_matches_the_model(stream in stream()) {
        let bytes = serialize(&stream);
        let (events, counters) = parse_split(ROOMY, &bytes, &[]);
        prop_assert_eq!(&events, &expected(&stream));
        prop_assert_eq!(counters[0], events.len() as u64);
        prop_assert_eq!(counters[2], bytes.len() as u64);
    }

    #[test]
    fn every_single_split_point_gives_the_same_events(stream in stream()) {
        let bytes = serialize(&stream);
        prop_assume!(bytes.len() <= 600);
        let whole = parse_split(ROOMY, &bytes, &[]);
        for cut in 0..=bytes.len() {
            prop_assert_eq!(&parse_split(ROOMY, &bytes, &[cut]), &whole, "cut at {}", cut);
        }
        let bytewise: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(&parse_split(ROOMY, &bytes, &bytewise), &whole);
    }

    #[test]
    fn random_multi_splits_give_the_same_events(
        stream in stream(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let bytes = serialize(&stream);
        let cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        prop_assert_eq!(parse_split(ROOMY, &bytes, &cuts), parse_split(ROOMY, &bytes, &[]));
    }

    /// With a tight limit, big events are dropped and everything else is still exact.
    #[test]
    fn small_limit_drops_only_big_events(
        stream in stream(),
        max in 48usize..160,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let bytes = serialize(&stream);
        let cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        let (events, counters) = parse_split(max, &bytes, &cuts);
        prop_assert_eq!(&(events.clone(), counters), &parse_split(max, &bytes, &[]));

        let all = expected(&stream);
        // Every generated block without data stays far below 48 bytes, so only data blocks drop.
        prop_assert_eq!(counters[0] + counters[3], all.len() as u64);
        let mut rest = events.iter().peekable();
        for (block, want) in stream.blocks.iter().filter(|b| has_data(b)).zip(&all) {
            let size: usize = block.lines.iter()
                .filter(|l| !matches!(l.content, Content::Comment(_)))
                .map(|l| line_bytes(&l.content).len())
                .sum();
            let got = rest.next_if(|e| *e == want).is_some();
            if size <= max {
                prop_assert!(got, "a {size}-byte block under {max} was dropped");
            }
            if want.data.len() > max {
                prop_assert!(!got, "a {}-byte data buffer over {max} was kept", want.data.len());
            }
        }
        prop_assert!(rest.next().is_none(), "events not in the model");
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_ignore_chunking(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..400),
            prop::collection::vec(prop::sample::select(b"\r\n\r\n::: data:id\0retry9event\xEF\xBB\xBF\xFFx".to_vec()), 0..400),
        ],
        max in 0usize..64,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..30),
    ) {
        let cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        prop_assert_eq!(parse_split(max, &bytes, &cuts), parse_split(max, &bytes, &[]));
    }
}

fn has_data(block: &Block) -> bool {
    block
        .lines
        .iter()
        .any(|l| matches!(&l.content, Content::Field { name, .. } if name == "data"))
}
