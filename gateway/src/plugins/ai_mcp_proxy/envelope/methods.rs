//! Method names as the gateway compares them.
//!
//! The ACL must apply to every spelling an upstream might dispatch as `tools/call`. JSON-RPC
//! method names are case-sensitive and the MCP SDKs compare them exactly, but hand-written
//! servers lowercase, trim (`str.strip()` in Python and `trim()` in JavaScript also remove
//! Unicode spaces and U+FEFF) or route on a case-insensitive table. So the `*_like` checks treat
//! surrounding whitespace and control characters as absent and compare case-insensitively,
//! including the few non-ASCII letters that Unicode case mapping turns into the ASCII letters of
//! these names (`ſ`→s, `ı`→i, Kelvin sign→k, the `ﬅ`/`ﬆ` ligatures→st). Matching too much
//! only puts an odd spelling under the ACL; matching too little would let it past.

/// Methods the gateway recognises, in their canonical spelling. Used for bounded metric labels.
const KNOWN: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "subscriptions/listen",
    "sampling/createMessage",
    "elicitation/create",
    "roots/list",
    "tasks/get",
    "tasks/result",
    "tasks/list",
    "tasks/cancel",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/message",
    "notifications/roots/list_changed",
    "notifications/tools/list_changed",
    "notifications/resources/list_changed",
    "notifications/resources/updated",
    "notifications/prompts/list_changed",
    "notifications/elicitation/complete",
    "notifications/tasks/status",
];

/// The label for notifications not in the table: still bounded, still recognisable.
pub const OTHER_NOTIFICATION: &str = "notifications/*";

/// The canonical spelling of a method the gateway knows, under the same loose comparison as
/// [`is_tools_call_like`]; [`OTHER_NOTIFICATION`] for any other `notifications/…`; else `None`.
pub fn canonical_method(m: &str) -> Option<&'static str> {
    let trimmed = trim(m);
    if let Some(known) = KNOWN.iter().find(|k| loosely_eq_trimmed(trimmed, k)) {
        return Some(known);
    }
    let prefix = "notifications/";
    let folded_prefix = folded(trimmed).take(prefix.len());
    folded_prefix
        .eq(prefix.chars())
        .then_some(OTHER_NOTIFICATION)
}

/// `tools/call` in any spelling an upstream might accept (see the module doc).
pub fn is_tools_call_like(m: &str) -> bool {
    method_like(m, "tools/call")
}

/// `tools/list` in any spelling an upstream might accept.
pub fn is_tools_list_like(m: &str) -> bool {
    method_like(m, "tools/list")
}

/// `prompts/get` in any spelling an upstream might accept.
pub fn is_prompts_get_like(m: &str) -> bool {
    method_like(m, "prompts/get")
}

/// `resources/read` in any spelling an upstream might accept.
pub fn is_resources_read_like(m: &str) -> bool {
    method_like(m, "resources/read")
}

/// Whether `m` loosely equals `canonical` (ASCII, compared case-insensitively).
pub fn method_like(m: &str, canonical: &str) -> bool {
    loosely_eq_trimmed(trim(m), canonical)
}

/// Case-insensitive comparison with the same folding, no trimming: how lenient parsers match
/// object keys (Go's `encoding/json` maps `"METHOD"` and `"paramſ"` onto `method`/`params`).
fn key_like(key: &str, canonical: &str) -> bool {
    loosely_eq_trimmed(key, canonical)
}

/// Which of `words` (ASCII) `key` matches as [`key_like`] matches: every object key of an
/// envelope goes through here. Folding turns each non-ASCII character into fewer bytes, so a
/// key of a word's length matches it only byte for byte (case aside), a shorter one never, and
/// a longer one only when it is not ASCII: most words are told apart by their length alone.
pub(super) fn key_position(key: &str, words: &[&str]) -> Option<usize> {
    use std::cmp::Ordering;
    let mut ascii = None;
    words.iter().position(|w| match key.len().cmp(&w.len()) {
        // The exact spelling first: one comparison of whole words, not a loop over bytes.
        Ordering::Equal => *w == key || w.as_bytes().eq_ignore_ascii_case(key.as_bytes()),
        Ordering::Greater => !*ascii.get_or_insert_with(|| key.is_ascii()) && key_like(key, w),
        Ordering::Less => false,
    })
}

fn loosely_eq_trimmed(m: &str, canonical: &str) -> bool {
    // `canonical` is ASCII, so a byte-wise match means `m` is ASCII too: the common case.
    if m.len() == canonical.len() && m.as_bytes().eq_ignore_ascii_case(canonical.as_bytes()) {
        return true;
    }
    // Folding turns each non-ASCII character into fewer bytes, so only a longer name that is
    // not ASCII can still fold onto `canonical`.
    if m.len() <= canonical.len() || m.is_ascii() {
        return false;
    }
    folded(m).eq(canonical.chars().map(|c| c.to_ascii_lowercase()))
}

fn trim(m: &str) -> &str {
    m.trim_matches(|c: char| c.is_whitespace() || c.is_control() || c == '\u{feff}')
}

fn folded(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().flat_map(|c| {
        let (a, b) = fold_char(c);
        std::iter::once(a).chain(b)
    })
}

fn fold_char(c: char) -> (char, Option<char>) {
    match c {
        'ſ' => ('s', None),
        'ı' => ('i', None),
        '\u{212a}' => ('k', None),
        'ﬅ' | 'ﬆ' => ('s', Some('t')),
        c => (c.to_ascii_lowercase(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_positions_are_the_first_word_each_key_is_like() {
        let words = ["jsonrpc", "id", "method", "params", "st", "s"];
        for key in [
            "jsonrpc",
            "JSONRPC",
            "Id",
            "iD",
            "method",
            "METHOD",
            "paramſ",
            "PARAMſ",
            "ﬅ",
            "ſ",
            "ſt",
            "\u{212a}",
            "ıd",
            "params ",
            "param",
            "methods",
            "",
            "ĳ",
            "parametro",
        ] {
            let expected = words.iter().position(|w| key_like(key, w));
            assert_eq!(key_position(key, &words), expected, "{key:?}");
        }
        assert_eq!(key_position("paramſ", &words), Some(3));
        assert_eq!(key_position("ıd", &words), Some(1));
        assert_eq!(key_position("ﬅ", &words), Some(4));
    }
}
