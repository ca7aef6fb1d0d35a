//! Incremental `text/event-stream` parser that follows a relayed SSE response "on the side".
//!
//! The relay forwards every upstream chunk unchanged and also hands it to [`SseParser::feed`],
//! which applies the WHATWG HTML "event stream interpretation" rules so the MCP plugin can find
//! the JSON-RPC messages inside `data` fields. The parser never influences what is relayed: it
//! owns no I/O, never fails, and keeps its memory bounded by `max_event_bytes` however long the
//! stream lives or however large one event grows.
//!
//! Spec behaviour worth knowing (all per WHATWG, not MCP-specific):
//! - Lines end with CRLF, LF or CR; a CR ending one chunk and an LF starting the next is one line
//!   end. A UTF-8 BOM at the very start of the stream is skipped.
//! - A block is dispatched at a blank line only if it had at least one `data` line. `data:` with an
//!   empty value counts, so the MCP 2025-11-25 priming event `id: 1\ndata:\n\n` *is* dispatched
//!   with empty data (the spec's own example says so); a block with no `data` line at all (e.g.
//!   `id: 1\n\n`) is not, and is counted by [`SseParser::empty_events`].
//! - `id` (unless it contains NUL) sets the last event id, which persists across events and is
//!   updated even by blocks that are not dispatched. `retry` is accepted only as ASCII digits.
//! - The end of the stream discards an unterminated block ([`SseParser::finish`]).
//! - Field values are decoded as lossy UTF-8 per line. CR, LF and `:` are ASCII and never occur
//!   inside a multi-byte sequence, so this equals decoding the whole stream first.

use memchr::memchr2;

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// A line buffer grown past this by one large line is released afterwards, so a stream that once
/// carried a huge event does not pin that memory for hours.
const LINE_KEEP_CAPACITY: usize = 16 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event` field; `None` means the default type `message`.
    pub event: Option<String>,
    /// All `data` lines of the block joined with `\n`.
    pub data: String,
    /// The last event id at dispatch (it persists across events); `None` when empty.
    pub id: Option<String>,
    /// A valid `retry` value given in this block, in milliseconds.
    pub retry: Option<u64>,
}

impl SseEvent {
    /// The event type as a browser would report it.
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}

/// What the bytes of the current line are being used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineMode {
    /// A field line (or a blank line while `line` is empty): bytes are buffered.
    Field,
    /// A `:` comment: skipped without buffering, keep-alives cost nothing.
    Comment,
    /// A line longer than `max_event_bytes`: skipped to its end.
    Overlong,
}

/// Incremental parser for one response stream. Feed chunks in order; see the module docs.
#[derive(Debug)]
pub struct SseParser {
    max_event_bytes: usize,
    /// Bytes of the BOM matched so far; `None` once the stream start has been decided.
    bom_matched: Option<usize>,
    /// The previous chunk ended with CR: an LF at the start of the next one is part of that line end.
    pending_cr: bool,
    mode: LineMode,
    line: Vec<u8>,
    data: String,
    has_data: bool,
    event_type: String,
    block_retry: Option<u64>,
    /// The current block had at least one field line.
    block_has_fields: bool,
    /// The current block went over `max_event_bytes`: it is dropped at its blank line.
    block_oversized: bool,
    last_event_id: String,
    reconnection_time: Option<u64>,
    events: u64,
    comments: u64,
    bytes: u64,
    oversized: u64,
    empty_events: u64,
}

impl SseParser {
    /// A parser that never buffers more than `max_event_bytes` of one event (pending line plus
    /// data and event type); larger events are dropped and counted in [`Self::oversized`].
    pub fn new(max_event_bytes: usize) -> Self {
        SseParser {
            max_event_bytes,
            bom_matched: Some(0),
            pending_cr: false,
            mode: LineMode::Field,
            line: Vec::new(),
            data: String::new(),
            has_data: false,
            event_type: String::new(),
            block_retry: None,
            block_has_fields: false,
            block_oversized: false,
            last_event_id: String::new(),
            reconnection_time: None,
            events: 0,
            comments: 0,
            bytes: 0,
            oversized: 0,
            empty_events: 0,
        }
    }

    /// Parses the next chunk, pushing every event it completes onto `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        self.feed_with(chunk, |event| out.push(event));
    }

    /// Parses the next chunk, calling `emit` for every event it completes.
    pub fn feed_with(&mut self, chunk: &[u8], mut emit: impl FnMut(SseEvent)) {
        self.bytes += chunk.len() as u64;
        let chunk = self.skip_bom(chunk, &mut emit);
        self.scan(chunk, &mut emit);
    }

    /// Ends the stream. Per spec an unterminated final block is discarded, never dispatched;
    /// returns whether such a block (or a partial line) was pending, so the caller may log a
    /// stream cut mid-event. Counters and the last event id are kept.
    pub fn finish(&mut self) -> bool {
        let pending = !self.line.is_empty()
            || self.mode != LineMode::Field
            || self.block_has_fields
            || self.block_oversized;
        if self.block_oversized {
            self.oversized += 1;
        }
        self.line.clear();
        self.mode = LineMode::Field;
        self.pending_cr = false;
        self.reset_block();
        pending
    }

    /// Events dispatched so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Comment lines (keep-alives) seen so far.
    pub fn comments(&self) -> u64 {
        self.comments
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Events dropped because they exceeded `max_event_bytes`.
    pub fn oversized(&self) -> u64 {
        self.oversized
    }

    /// Blocks ended by a blank line that had fields but no `data` line (e.g. `id: 1\n\n`);
    /// per spec they are not dispatched, but they do set the last event id.
    pub fn empty_events(&self) -> u64 {
        self.empty_events
    }

    /// The last event id the stream set (what a client would send as `Last-Event-ID`).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The last valid `retry` value in the stream, in milliseconds.
    pub fn reconnection_time(&self) -> Option<u64> {
        self.reconnection_time
    }

    /// Bytes currently held for the pending line and block; never above `max_event_bytes`.
    pub fn buffered_bytes(&self) -> usize {
        self.line.len() + self.data.len() + self.event_type.len()
    }

    /// Consumes the stream-start BOM, possibly split over chunks. Returns the rest of the chunk.
    fn skip_bom<'a>(&mut self, mut chunk: &'a [u8], emit: &mut impl FnMut(SseEvent)) -> &'a [u8] {
        while let Some(matched) = self.bom_matched {
            let Some((&first, rest)) = chunk.split_first() else {
                break;
            };
            if first == BOM[matched] {
                chunk = rest;
                self.bom_matched = (matched + 1 < BOM.len()).then_some(matched + 1);
            } else {
                // Not a BOM after all: the bytes held back are ordinary content.
                self.bom_matched = None;
                self.scan(&BOM[..matched], emit);
            }
        }
        chunk
    }

    fn scan(&mut self, chunk: &[u8], emit: &mut impl FnMut(SseEvent)) {
        let mut pos = 0;
        while pos < chunk.len() {
            if std::mem::take(&mut self.pending_cr) && chunk[pos] == b'\n' {
                pos += 1;
                continue;
            }
            if self.mode == LineMode::Field && self.line.is_empty() && chunk[pos] == b':' {
                self.mode = LineMode::Comment;
            }
            let rest = &chunk[pos..];
            match memchr2(b'\n', b'\r', rest) {
                Some(end) => {
                    self.segment(&rest[..end], true, emit);
                    self.pending_cr = rest[end] == b'\r';
                    pos += end + 1;
                }
                None => {
                    self.segment(rest, false, emit);
                    pos = chunk.len();
                }
            }
        }
    }

    /// Handles part of a line; `eol` says whether a line end follows it.
    fn segment(&mut self, seg: &[u8], eol: bool, emit: &mut impl FnMut(SseEvent)) {
        match self.mode {
            LineMode::Comment => {
                if eol {
                    self.comments += 1;
                    self.mode = LineMode::Field;
                }
            }
            LineMode::Overlong => {
                if eol {
                    self.mode = LineMode::Field;
                }
            }
            LineMode::Field => {
                if !self.make_room(self.line.len() + seg.len()) {
                    self.line.clear();
                    self.mode = if eol {
                        LineMode::Field
                    } else {
                        LineMode::Overlong
                    };
                } else if eol && self.line.is_empty() {
                    // Fast path: the whole line is in this chunk, no copy.
                    self.line_complete(seg, emit);
                } else {
                    self.line.extend_from_slice(seg);
                    if eol {
                        let line = std::mem::take(&mut self.line);
                        self.line_complete(&line, emit);
                        self.line = line;
                        self.line.clear();
                        if self.line.capacity() > LINE_KEEP_CAPACITY {
                            self.line = Vec::new();
                        }
                    }
                }
            }
        }
    }

    /// Whether a pending line of `line_len` bytes fits. When it does not fit beside the block,
    /// the block is marked oversized and its buffers freed, so the line itself (an `id` after a
    /// huge `data`, say) still gets a chance; `false` means the line alone is too long.
    fn make_room(&mut self, line_len: usize) -> bool {
        if line_len + self.data.len() + self.event_type.len() <= self.max_event_bytes {
            return true;
        }
        self.mark_oversized();
        line_len <= self.max_event_bytes
    }

    fn mark_oversized(&mut self) {
        self.block_oversized = true;
        self.data = String::new();
        self.event_type = String::new();
        self.has_data = false;
    }

    fn line_complete(&mut self, line: &[u8], emit: &mut impl FnMut(SseEvent)) {
        if line.is_empty() {
            self.dispatch(emit);
            return;
        }
        self.block_has_fields = true;
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" if !self.block_oversized => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&String::from_utf8_lossy(value));
                self.has_data = true;
            }
            b"event" if !self.block_oversized => {
                self.event_type.clear();
                self.event_type.push_str(&String::from_utf8_lossy(value));
            }
            b"id" if !value.contains(&0) => {
                self.last_event_id.clear();
                self.last_event_id.push_str(&String::from_utf8_lossy(value));
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // Digits too many for u64 are ignored rather than saturated: no real server sends them.
                if let Some(ms) = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok()) {
                    self.block_retry = Some(ms);
                    self.reconnection_time = Some(ms);
                }
            }
            _ => {}
        }
        // Lossy decoding may grow invalid bytes threefold; keep the bound exact.
        if self.data.len() + self.event_type.len() > self.max_event_bytes {
            self.mark_oversized();
        }
    }

    fn dispatch(&mut self, emit: &mut impl FnMut(SseEvent)) {
        if self.block_oversized {
            self.oversized += 1;
        } else if self.has_data {
            self.events += 1;
            let event = SseEvent {
                event: non_empty(std::mem::take(&mut self.event_type)),
                data: std::mem::take(&mut self.data),
                id: (!self.last_event_id.is_empty()).then(|| self.last_event_id.clone()),
                retry: self.block_retry,
            };
            emit(event);
        } else if self.block_has_fields {
            self.empty_events += 1;
        }
        self.reset_block();
    }

    fn reset_block(&mut self) {
        self.data.clear();
        self.event_type.clear();
        self.has_data = false;
        self.block_retry = None;
        self.block_has_fields = false;
        self.block_oversized = false;
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks(max: usize, chunks: &[&[u8]]) -> (Vec<SseEvent>, SseParser) {
        let mut parser = SseParser::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out);
        }
        (out, parser)
    }

    fn parse(input: &str) -> Vec<SseEvent> {
        parse_chunks(1024, &[input.as_bytes()]).0
    }

    fn ev(event: Option<&str>, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
            id: id.map(str::to_owned),
            retry: None,
        }
    }

    #[test]
    fn single_event() {
        let events = parse("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1}\n\n");
        assert_eq!(
            events,
            [ev(Some("message"), "{\"jsonrpc\":\"2.0\",\"id\":1}", None)]
        );
        assert_eq!(events[0].event_type(), "message");
    }

    #[test]
    fn multi_line_data_is_joined_with_lf() {
        assert_eq!(
            parse("data: a\ndata:\ndata: b\n\n"),
            [ev(None, "a\n\nb", None)]
        );
    }

    #[test]
    fn all_line_endings() {
        let expected = [ev(None, "1\n2", None), ev(None, "3", None)];
        assert_eq!(parse("data: 1\r\ndata: 2\r\n\r\ndata: 3\r\n\r\n"), expected);
        assert_eq!(parse("data: 1\rdata: 2\r\rdata: 3\r\r"), expected);
        assert_eq!(parse("data: 1\ndata: 2\r\n\rdata: 3\n\r\n"), expected);
    }

    #[test]
    fn cr_at_chunk_end_then_lf_is_one_line_end() {
        let (events, _) = parse_chunks(64, &[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(events, [ev(None, "a\nb", None)]);
        // A lone CR at a chunk end followed by a blank line's LF would merge; CR then CR does not.
        let (events, _) = parse_chunks(64, &[b"data: a\r", b"\r"]);
        assert_eq!(events, [ev(None, "a", None)]);
    }

    #[test]
    fn comments_between_events_are_counted_not_dispatched() {
        let (events, parser) = parse_chunks(
            64,
            &[
                b": keep-alive\n\ndata: x\n",
                b": mid-event\n\n:",
                b" split\n",
            ],
        );
        assert_eq!(events, [ev(None, "x", None)]);
        assert_eq!(parser.comments(), 3);
        assert_eq!(parser.events(), 1);
    }

    #[test]
    fn bom_at_stream_start_only() {
        assert_eq!(parse("\u{FEFF}data: a\n\n"), [ev(None, "a", None)]);
        let (events, _) = parse_chunks(64, &[b"\xEF", b"\xBB", b"\xBFdata: a\n\n"]);
        assert_eq!(events, [ev(None, "a", None)]);
        // A second BOM is content: the line's field name is then not `data`.
        assert_eq!(parse("\u{FEFF}\u{FEFF}data: a\n\n"), []);
        // A BOM prefix that turns out not to be one is kept as content.
        let (events, _) = parse_chunks(64, &[b"\xEF", b"\xBBdata: a\n\ndata: b\n\n"]);
        assert_eq!(events, [ev(None, "b", None)]);
    }

    #[test]
    fn space_after_colon_is_optional_and_only_one_is_removed() {
        assert_eq!(
            parse("data:test\n\ndata: test\n\ndata:  test\n\n"),
            [
                ev(None, "test", None),
                ev(None, "test", None),
                ev(None, " test", None)
            ]
        );
    }

    #[test]
    fn field_without_colon_has_empty_value() {
        // The spec's example: `data` alone fires an empty event, two fire "\n".
        assert_eq!(
            parse("data\n\ndata\ndata\n\ndata:"),
            [ev(None, "", None), ev(None, "\n", None)]
        );
    }

    #[test]
    fn id_persists_and_nul_ids_are_ignored() {
        let events = parse("id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid\ndata: d\n\n");
        let ids: Vec<_> = events.iter().map(|e| e.id.as_deref()).collect();
        assert_eq!(ids, [Some("1"), Some("1"), Some("1"), None]);
    }

    #[test]
    fn retry_accepts_only_digits() {
        let events = parse("retry: 1500\ndata: a\n\nretry: 1.5\ndata: b\n\nretry:\ndata: c\n\n");
        let retries: Vec<_> = events.iter().map(|e| e.retry).collect();
        assert_eq!(retries, [Some(1500), None, None]);
        let (_, parser) = parse_chunks(64, &[b"retry: 99999999999999999999999\n\n"]);
        assert_eq!(parser.reconnection_time(), None);
    }

    #[test]
    fn unknown_fields_and_event_reset() {
        let events = parse("foo: bar\nevent: ping\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n");
        let kinds: Vec<_> = events.iter().map(SseEvent::event_type).collect();
        assert_eq!(kinds, ["ping", "message", "message"]);
    }

    #[test]
    fn priming_event_with_empty_data_line_is_dispatched() {
        // WHATWG: `data:` appends "" plus LF, so the buffer is not empty and the event fires with
        // empty data. MCP 2025-11-25 priming events therefore reach the caller, which skips them.
        let (events, parser) = parse_chunks(64, &[b"id: 1\nretry: 3000\ndata:\n\n"]);
        let mut expected = ev(None, "", Some("1"));
        expected.retry = Some(3000);
        assert_eq!(events, [expected]);
        assert_eq!(parser.empty_events(), 0);
    }

    #[test]
    fn block_without_data_is_not_dispatched_but_sets_the_id() {
        let (events, parser) = parse_chunks(64, &[b"id: 7\nevent: x\n\n\n\ndata: a\n\n"]);
        assert_eq!(events, [ev(None, "a", Some("7"))]);
        assert_eq!(parser.empty_events(), 1);
        assert_eq!(parser.last_event_id(), "7");
    }

    #[test]
    fn oversized_event_is_dropped_and_the_next_one_parses() {
        let big = format!("data: {}\n", "x".repeat(40));
        let mut parser = SseParser::new(32);
        let mut out = Vec::new();
        for chunk in [
            "data: a\n",
            &big,
            "data: b\n",
            "id: 9\n\n",
            "data: next\n\n",
        ] {
            for byte in chunk.as_bytes().chunks(5) {
                parser.feed(byte, &mut out);
                assert!(parser.buffered_bytes() <= 32);
            }
        }
        assert_eq!(out, [ev(None, "next", Some("9"))]);
        assert_eq!(parser.oversized(), 1);
    }

    #[test]
    fn many_lines_adding_up_past_the_limit_are_dropped() {
        let lines = "data: 0123456789\n".repeat(10);
        let (events, parser) = parse_chunks(64, &[lines.as_bytes(), b"\ndata: ok\n\n"]);
        assert_eq!(events, [ev(None, "ok", None)]);
        assert_eq!(parser.oversized(), 1);
    }

    #[test]
    fn long_comments_are_not_buffered() {
        let comment = format!(":{}\n", "k".repeat(1000));
        let (events, parser) = parse_chunks(16, &[comment.as_bytes(), b"data: a\n\n"]);
        assert_eq!(events, [ev(None, "a", None)]);
        assert_eq!(parser.oversized(), 0);
    }

    #[test]
    fn unterminated_final_event_is_discarded_at_finish() {
        let (events, mut parser) = parse_chunks(64, &[b"data: a\n\ndata: partial\n"]);
        assert_eq!(events, [ev(None, "a", None)]);
        assert!(parser.finish());
        assert!(!parser.finish());
        assert_eq!(parser.events(), 1);
        assert_eq!(parser.bytes(), 23);
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        let (events, _) = parse_chunks(64, &[b"data: \xFF\xC3", b"\xA9\n\n"]);
        assert_eq!(events, [ev(None, "\u{FFFD}\u{e9}", None)]);
    }
}
