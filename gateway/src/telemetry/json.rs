//! JSON text written straight from the gateway's own values, for the log record: the same
//! bytes serde_json writes for the same values (compact, its string escapes), without building
//! a value tree first and with an escaper that copies runs of plain text whole.

use serde::Serialize;

/// JSON text the gateway wrote itself (valid by construction), ready to be embedded.
pub struct JsonText(String);

impl JsonText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The members of one JSON object, in the order they are added.
#[derive(Default)]
pub struct Members {
    buf: Vec<u8>,
    /// Where these members start in `buf`: after the `{` of an object opened in place.
    start: usize,
}

impl Members {
    pub fn with_capacity(bytes: usize) -> Self {
        Members {
            buf: Vec::with_capacity(bytes),
            start: 0,
        }
    }

    /// Members written straight into their object's text, for the outermost object, at the end
    /// of `buf` after what it holds: no copy when it is finished ([`Members::into_bytes`]
    /// answers `buf` with the object appended).
    pub fn object_after(mut buf: Vec<u8>) -> Self {
        buf.push(b'{');
        let start = buf.len();
        Members { buf, start }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.len() == self.start
    }

    fn text(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The comma before every member but the first.
    #[inline]
    fn next_member(&mut self) {
        if !self.is_empty() {
            self.buf.push(b',');
        }
    }

    /// Starts member `name` and answers the buffer its value is written to. Names are the
    /// program's own (`'static`): plain text, written without an escaping pass.
    #[inline(always)]
    pub fn key(&mut self, name: &'static str) -> &mut Vec<u8> {
        self.key_raw(name)
    }

    /// Starts member `name`, a name known to need no escaping (the program's own names, a
    /// header name: a token).
    #[inline(always)]
    pub fn key_raw(&mut self, name: &str) -> &mut Vec<u8> {
        debug_assert!(!name.bytes().any(needs_escape), "{name:?} needs escaping");
        self.next_member();
        self.buf.reserve(name.len() + 3);
        self.buf.push(b'"');
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(b"\":");
        &mut self.buf
    }

    #[inline(always)]
    pub fn str(&mut self, name: &'static str, value: &str) {
        string(self.key(name), value);
    }

    #[inline(always)]
    pub fn int<I: itoa::Integer>(&mut self, name: &'static str, value: I) {
        let out = self.key(name);
        out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// A value that is already JSON text.
    #[inline(always)]
    pub fn raw(&mut self, name: &'static str, json: &str) {
        self.key(name).extend_from_slice(json.as_bytes());
    }

    /// A value that is already JSON text, as this module wrote it ([`Members::into_bytes`]).
    pub fn raw_bytes(&mut self, name: &'static str, json: &[u8]) {
        self.key(name).extend_from_slice(json);
    }

    /// A nested object.
    pub fn object(&mut self, name: &'static str, members: &Members) {
        let out = self.key(name);
        out.push(b'{');
        out.extend_from_slice(members.text());
        out.push(b'}');
    }

    /// A nested object written in place: `fill` adds its members.
    pub fn nested(&mut self, name: &'static str, fill: impl FnOnce(&mut Members)) {
        object_in_place(self.key(name), fill);
    }

    /// Members already written as JSON text (`"a":1,"b":2`), appended as they are.
    pub fn members(&mut self, text: &'static str) {
        self.next_member();
        self.buf.extend_from_slice(text.as_bytes());
    }

    /// A nested array written in place: `fill` adds its elements.
    pub fn array(&mut self, name: &'static str, fill: impl FnOnce(&mut Items<'_>)) {
        let buf = self.key(name);
        buf.push(b'[');
        let start = buf.len();
        fill(&mut Items { buf, start });
        self.buf.push(b']');
    }

    /// Anything else, through serde_json.
    pub fn serde<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) {
        let out = self.key(name);
        let mark = out.len();
        if serde_json::to_writer(&mut *out, value).is_err() {
            out.truncate(mark);
            out.extend_from_slice(b"null");
        }
    }

    /// The object these members make.
    pub fn into_object(self) -> JsonText {
        JsonText(into_string(self.into_bytes()))
    }

    /// The object these members make, as the UTF-8 bytes of its text (no second look at them).
    pub fn into_bytes(mut self) -> Vec<u8> {
        if self.start == 0 {
            self.buf.insert(0, b'{');
        }
        self.buf.push(b'}');
        self.buf
    }
}

/// The elements of an array written in place ([`Members::array`]).
pub struct Items<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
}

impl Items<'_> {
    /// An object element written in place: `fill` adds its members.
    pub fn object(&mut self, fill: impl FnOnce(&mut Members)) {
        if self.buf.len() > self.start {
            self.buf.push(b',');
        }
        object_in_place(self.buf, fill);
    }
}

/// An object appended to `buf`, its members written by `fill` straight into `buf`.
fn object_in_place(buf: &mut Vec<u8>, fill: impl FnOnce(&mut Members)) {
    buf.push(b'{');
    let taken = std::mem::take(buf);
    let mut inner = Members {
        start: taken.len(),
        buf: taken,
    };
    fill(&mut inner);
    inner.buf.push(b'}');
    *buf = inner.buf;
}

/// The elements of one JSON array, in the order they are added.
#[derive(Default)]
pub struct Elements {
    buf: Vec<u8>,
}

impl Elements {
    pub fn object(&mut self, members: &Members) {
        if !self.buf.is_empty() {
            self.buf.push(b',');
        }
        self.buf.push(b'{');
        self.buf.extend_from_slice(members.text());
        self.buf.push(b'}');
    }

    /// The array as a member of `parent`.
    pub fn put(&self, parent: &mut Members, name: &'static str) {
        let out = parent.key(name);
        out.push(b'[');
        out.extend_from_slice(&self.buf);
        out.push(b']');
    }
}

fn into_string(buf: Vec<u8>) -> String {
    // Only ever written from `&str`s, whole UTF-8 sequences, and ASCII punctuation.
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Bytes JSON strings cannot hold as they are: control characters, `"` and `\`.
const fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// `value` as a quoted JSON string, escaped as serde_json escapes it.
pub fn string(out: &mut Vec<u8>, value: &str) {
    quoted(out, value.as_bytes());
}

/// `value`, ASCII text (a header value, mostly), as a quoted JSON string: the same as
/// [`string`] on it, without first checking it as UTF-8 (ASCII always is).
pub fn ascii_string(out: &mut Vec<u8>, value: &[u8]) {
    debug_assert!(value.is_ascii());
    quoted(out, value);
}

/// `value` (valid UTF-8) quoted and escaped.
fn quoted(out: &mut Vec<u8>, value: &[u8]) {
    out.reserve(value.len() + 2);
    out.push(b'"');
    escaped(out, value);
    out.push(b'"');
}

/// The concatenation of `parts` as one quoted JSON string (no joined copy made first).
pub fn string_of(out: &mut Vec<u8>, parts: &[&str]) {
    out.reserve(parts.iter().map(|p| p.len()).sum::<usize>() + 2);
    out.push(b'"');
    for part in parts {
        escaped(out, part.as_bytes());
    }
    out.push(b'"');
}

/// `bytes` (valid UTF-8) inside a JSON string, copied in runs between the bytes that need
/// escapes.
fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut plain = 0; // start of the run not yet copied
    let mut at = 0;
    while let Some(found) = next_escape(&bytes[at..]) {
        let i = at + found;
        out.extend_from_slice(&bytes[plain..i]);
        escape(out, bytes[i]);
        plain = i + 1;
        at = i + 1;
    }
    out.extend_from_slice(&bytes[plain..]);
}

/// The position of the first byte to escape, eight bytes per test where there are eight.
#[inline]
pub(crate) fn next_escape(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        if let Some(i) = first_to_escape(x) {
            return Some(offset + i);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| needs_escape(b))
        .map(|i| offset + i)
}

/// The first of the eight bytes in `x` (read little-endian, so in memory order) to escape.
#[inline]
fn first_to_escape(x: u64) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // The classic test for a zero byte. A borrow can mark bytes above a zero one too, never
    // below it, so the lowest mark is exact.
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    // Below 0x20 (bytes of 0x80 and above are excluded by `!x`), or `"`, or `\`; exact for the
    // lowest mark for the same reason.
    let below = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
    let special = below | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\')));
    (special != 0).then(|| special.trailing_zeros() as usize / 8)
}

fn escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(b >> 4) as usize],
            HEX[(b & 0xf) as usize],
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(s: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn an_object_after_other_text_leaves_that_text_as_it_was() {
        let mut alone = Members::object_after(Vec::new());
        let mut after = Members::object_after(b"before\n".to_vec());
        for members in [&mut alone, &mut after] {
            members.str("a", "x\"y");
            members.nested("n", |n| n.int("i", 7));
        }
        let alone = alone.into_bytes();
        assert_eq!(alone, br#"{"a":"x\"y","n":{"i":7}}"#);
        assert_eq!(after.into_bytes(), [&b"before\n"[..], &alone].concat());
        assert_eq!(Members::object_after(Vec::new()).into_bytes(), b"{}");
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut cases: Vec<String> = (0u32..0x80)
            .map(|c| char::from_u32(c).unwrap().to_string())
            .collect();
        cases.extend(
            [
                "",
                "plain",
                "é ü 雪 🦀",
                "a\"b\\c",
                "\u{7f}\u{80}\u{2028}\u{2029}",
                "line\nbreak\r\ttab\u{8}\u{c}\u{0}\u{1f}",
            ]
            .map(String::from),
        );
        // Escapes at every position around the 16-byte chunks, in runs and alone.
        let mut seed = 0x2545_f491_u32;
        for len in 0..70 {
            for _ in 0..20 {
                let s: String = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 17;
                        seed ^= seed << 5;
                        match seed % 9 {
                            0 => '"',
                            1 => '\\',
                            2 => '\n',
                            3 => '\u{1}',
                            4 => 'é',
                            _ => char::from(b'a' + (seed % 26) as u8),
                        }
                    })
                    .collect();
                cases.push(s);
            }
        }
        for s in cases {
            assert_eq!(ours(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn objects_and_arrays_compose() {
        let mut inner = Members::default();
        inner.str("k", "v\"");
        inner.int("n", 7u64);
        inner.int("m", -3i64);
        let mut list = Elements::default();
        list.object(&inner);
        list.object(&Members::default());
        let mut outer = Members::with_capacity(64);
        outer.object("inner", &inner);
        list.put(&mut outer, "list");
        outer.raw("raw", "[1,2]");
        outer.serde("serde", &serde_json::json!({"a": null}));
        let text = outer.into_object();
        assert_eq!(
            text.as_str(),
            r#"{"inner":{"k":"v\"","n":7,"m":-3},"list":[{"k":"v\"","n":7,"m":-3},{}],"raw":[1,2],"serde":{"a":null}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
        assert_eq!(parsed["list"][0]["m"], -3);
        assert_eq!(Members::default().into_object().as_str(), "{}");
    }

    #[test]
    fn arrays_written_in_place_read_as_copied_ones() {
        let fill = |m: &mut Members| {
            m.str("ip", "127.0.0.1");
            m.int("port", 8080u16);
        };
        let mut one = Members::default();
        fill(&mut one);
        for n in 0..3 {
            let mut list = Elements::default();
            let mut copied = Members::default();
            let mut in_place = Members::object_after(b"x".to_vec());
            for members in [&mut copied, &mut in_place] {
                members.members(r#""a":1,"b":"2""#);
            }
            for _ in 0..n {
                list.object(&one);
            }
            list.put(&mut copied, "tries");
            in_place.array("tries", |items| (0..n).for_each(|_| items.object(fill)));
            in_place.members(r#""c":[]"#);
            copied.members(r#""c":[]"#);
            let expected = copied.into_object();
            assert_eq!(
                in_place.into_bytes(),
                format!("x{}", expected.as_str()).as_bytes()
            );
            let parsed: serde_json::Value = serde_json::from_str(expected.as_str()).unwrap();
            assert_eq!(parsed["tries"].as_array().unwrap().len(), n);
            assert_eq!(
                (parsed["a"].clone(), parsed["b"].clone()),
                (1.into(), "2".into())
            );
        }
    }

    #[test]
    fn objects_written_in_place_read_as_copied_ones() {
        let fill = |m: &mut Members| {
            m.str("k", "v");
            m.nested("empty", |_| {});
            m.nested("deep", |d| {
                d.int("n", 1u8);
                d.nested("deeper", |e| e.raw("r", "[]"));
            });
        };
        let mut copied_inner = Members::default();
        fill(&mut copied_inner);
        let mut copied = Members::default();
        copied.object("o", &copied_inner);
        copied.int("after", 2u8);

        let mut in_place = Members::object_after(Vec::new());
        in_place.nested("o", fill);
        in_place.int("after", 2u8);
        assert!(!in_place.is_empty());
        let mut list = Elements::default();
        list.object(&in_place);

        let expected = r#"{"o":{"k":"v","empty":{},"deep":{"n":1,"deeper":{"r":[]}}},"after":2}"#;
        assert_eq!(copied.into_object().as_str(), expected);
        assert_eq!(in_place.into_object().as_str(), expected);
        assert!(Members::object_after(Vec::new()).is_empty());
        assert_eq!(
            Members::object_after(Vec::new()).into_object().as_str(),
            "{}"
        );
        let mut put = Members::default();
        list.put(&mut put, "l");
        assert_eq!(
            put.into_object().as_str(),
            format!("{{\"l\":[{expected}]}}")
        );
    }
}
