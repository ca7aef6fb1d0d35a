//! The common case of [`super::scan::scan_object_text`] without serde_json: one strict pass over
//! the bytes that validates the whole object and keeps the wanted members' raw text, nested
//! objects (`params` and `_meta`, an answer's `result`) read in place as the seeds read them.
//!
//! It answers only when it is sure, and says `None` otherwise: for anything that is not JSON,
//! and also for valid JSON it leaves to serde_json (a key with an escape, which must be decoded
//! before it is compared; a `\u` escape of a lone surrogate; a skipped value nested past 128
//! levels; a member read in place that holds no object). Where it answers, the answer is
//! serde_json's: it accepts no text serde_json refuses, and keeps the same values and the same
//! first repeat (`tests/quick.rs` holds it to that). So the outcome never depends on which way
//! was taken. The bodies read on every call take about two thirds of serde_json's time: 167 ns
//! against 263 for the benchmark's `tools/call`, 268 against 380 for the mock's answer.

use std::ops::Range;

use super::methods::key_position;
use super::scan::Scanned;
use crate::telemetry::json::next_escape;

/// Deepest nesting this pass follows; deeper values are left to serde_json.
const MAX_NESTING: u32 = 128;

/// The members to keep of one object and, for one of them, of the object it holds.
pub(super) struct Level {
    pub wanted: &'static [&'static str],
    /// A wanted member (its position) whose first value, an object, is read in place by the
    /// next level, as `scan_object_text_with` reads it with a seed: that member's raw text is
    /// not kept, and any other value for it leaves the whole body to serde_json.
    pub inner: Option<(usize, &'static Level)>,
}

/// The members of the object in `json` that `wanted` names, or `None` when serde_json must
/// decide (see the module documentation).
pub(super) fn scan<'a>(json: &'a str, wanted: &'static [&'static str]) -> Option<Scanned<'a>> {
    let level = Level {
        wanted,
        inner: None,
    };
    let mut scanned = Scanned::default();
    scan_levels(json, &level, &mut [&mut scanned])?;
    Some(scanned)
}

/// Reads the object in `json` through `level` and the levels within it, in one pass, into
/// `out` (outermost first). Returns how many levels' objects were found: 1 when the first
/// level's wanted member for the second was absent, and so on. `out` is left half-written
/// when serde_json must decide.
pub(super) fn scan_levels<'a>(
    json: &'a str,
    level: &Level,
    out: &mut [&mut Scanned<'a>],
) -> Option<usize> {
    let mut p = Bytes {
        b: json.as_bytes(),
        i: 0,
    };
    p.ws();
    let found = p.object(json, level, out)?;
    p.ws();
    (p.i == p.b.len()).then_some(found)
}

struct Bytes<'a> {
    b: &'a [u8],
    i: usize,
}

impl Bytes<'_> {
    /// An object whose members `level` names, its opening brace next; how many levels' objects
    /// were found, this one included.
    fn object<'a>(
        &mut self,
        json: &'a str,
        level: &Level,
        out: &mut [&mut Scanned<'a>],
    ) -> Option<usize> {
        let (here, deeper) = out.split_first_mut()?;
        let mut found = 1;
        self.eat(b'{')?;
        self.ws();
        if self.eat_if(b'}') {
            return Some(found);
        }
        let mut inner = level.inner;
        loop {
            let key = self.plain_key()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            if let Some(i) = key_position(&json[key], level.wanted) {
                match inner.take_if(|(slot, _)| *slot == i) {
                    Some((_, next)) => {
                        if self.peek() != Some(b'{') {
                            return None;
                        }
                        found += self.object(json, next, deeper)?;
                    }
                    None => {
                        let start = self.i;
                        self.value()?;
                        let taken = level.inner.is_some_and(|(slot, _)| slot == i);
                        here.keep(level.wanted, i, &json[start..self.i], taken);
                    }
                }
            } else {
                self.value()?;
            }
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => return Some(found),
                _ => return None,
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn eat_if(&mut self, want: u8) -> bool {
        let hit = self.peek() == Some(want);
        self.i += usize::from(hit);
        hit
    }

    /// JSON's four whitespace bytes, as serde_json skips them.
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// A key with no escape: its text's byte range, which needs no decoding.
    fn plain_key(&mut self) -> Option<Range<usize>> {
        self.eat(b'"')?;
        let start = self.i;
        let at = start + next_escape(&self.b[start..])?;
        (self.b[at] == b'"').then(|| {
            self.i = at + 1;
            start..at
        })
    }

    /// A string, its opening quote next; escapes checked as strictly as any decoder would.
    fn string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            self.i += next_escape(&self.b[self.i..])?;
            match self.next()? {
                b'"' => return Some(()),
                b'\\' => self.escape()?,
                // A control character.
                _ => return None,
            }
        }
    }

    /// The rest of an escape, its backslash read.
    fn escape(&mut self) -> Option<()> {
        match self.next()? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(()),
            b'u' => match self.hex4()? {
                // A high surrogate counts only with its low half right after it.
                0xD800..=0xDBFF => {
                    self.eat(b'\\')?;
                    self.eat(b'u')?;
                    matches!(self.hex4()?, 0xDC00..=0xDFFF).then_some(())
                }
                0xDC00..=0xDFFF => None,
                _ => Some(()),
            },
            _ => None,
        }
    }

    fn hex4(&mut self) -> Option<u16> {
        let digits = self.b.get(self.i..self.i + 4)?;
        let mut v = 0u16;
        for &d in digits {
            v = v << 4 | char::from(d).to_digit(16)? as u16;
        }
        self.i += 4;
        Some(v)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<()> {
        self.eat_if(b'-');
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat_if(b'.') {
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// One value, whitespace before it already skipped, nothing after it read. Iterative: the
    /// open containers are bits of `objects` (1 for an object), the innermost lowest.
    fn value(&mut self) -> Option<()> {
        let mut objects: u128 = 0;
        let mut depth = 0u32;
        loop {
            // A value starts here.
            match self.peek()? {
                open @ (b'{' | b'[') => {
                    self.i += 1;
                    self.ws();
                    let object = open == b'{';
                    if !self.eat_if(if object { b'}' } else { b']' }) {
                        depth += 1;
                        if depth > MAX_NESTING {
                            return None;
                        }
                        objects = objects << 1 | u128::from(object);
                        if object {
                            self.member_key()?;
                        }
                        continue;
                    }
                }
                b'"' => self.string()?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // A value ended: close what it completes, up to the next value or the end.
            loop {
                if depth == 0 {
                    return Some(());
                }
                self.ws();
                let object = objects & 1 == 1;
                match (self.next()?, object) {
                    (b',', _) => {
                        self.ws();
                        if object {
                            self.member_key()?;
                        }
                        break;
                    }
                    (b'}', true) | (b']', false) => {
                        objects >>= 1;
                        depth -= 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// A member's key and colon inside a skipped object, up to its value.
    fn member_key(&mut self) -> Option<()> {
        self.string()?;
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(())
    }
}
