//! Request path normalization before routing, as Kong does it (`kong.tools.uri.normalize` with
//! slash merging): percent-encoded unreserved characters are decoded, other escapes upper-cased,
//! dot segments removed (RFC 3986 §5.2.4) and repeated slashes merged. Routing and the upstream
//! path both use the result, so `/public/../admin` can never match `/public` and then reach
//! `/admin` past that route's plugins.

use std::borrow::Cow;

/// The normalized form of a raw request path (without the query string).
pub fn normalize(raw: &str) -> Cow<'_, str> {
    if is_normal(raw) {
        return Cow::Borrowed(raw);
    }
    let decoded = decode_unreserved(raw);
    Cow::Owned(remove_dot_segments(&merge_slashes(&decoded)))
}

/// The fast path: nothing to decode, no dot segment, no repeated slash. One pass over the
/// bytes; a segment starts at the path's start and after each slash.
fn is_normal(raw: &str) -> bool {
    let b = raw.as_bytes();
    let mut start = 0;
    for i in 0..=b.len() {
        match b.get(i) {
            Some(b'%') => return false,
            Some(b'/') | None => {
                if matches!(&b[start..i], b"." | b"..") {
                    return false;
                }
                if i > 0 && b.get(i) == Some(&b'/') && b[i - 1] == b'/' {
                    return false;
                }
                start = i + 1;
            }
            Some(_) => {}
        }
    }
    true
}

fn decode_unreserved(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                let c = (h << 4 | l) as char;
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~') {
                    out.push(c);
                } else {
                    out.push('%');
                    out.push(b[i + 1].to_ascii_uppercase() as char);
                    out.push(b[i + 2].to_ascii_uppercase() as char);
                }
                i += 3;
                continue;
            }
        }
        // Safe: we only ever split at ASCII bytes, so `raw[i..]` starts a character here.
        let ch = raw[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn merge_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut prev_slash = false;
    for c in path.chars() {
        if c == '/' && prev_slash {
            continue;
        }
        prev_slash = c == '/';
        out.push(c);
    }
    out
}

/// RFC 3986 §5.2.4 for an absolute path; a trailing `.`/`..` keeps the trailing slash.
fn remove_dot_segments(path: &str) -> String {
    let mut stack: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = path.ends_with('/');
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => trailing_slash |= i == last,
            ".." => {
                stack.pop();
                trailing_slash |= i == last;
            }
            s if s.is_empty() && i == last => {}
            s => stack.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for seg in &stack {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn examples() {
        for (raw, want) in [
            ("/marketplace/users", "/marketplace/users"),
            ("/", "/"),
            ("/public/../admin", "/admin"),
            ("/public/%2e%2e/admin", "/admin"),
            ("/a/./b/", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/a//b///c", "/a/b/c"),
            ("/%7euser/%41%2f", "/~user/A%2F"),
            ("/%zz/%4", "/%zz/%4"),
            ("/../../x", "/x"),
            ("/é/%C3%A9", "/é/%C3%A9"),
            ("/marketplace/", "/marketplace/"),
        ] {
            assert_eq!(normalize(raw), want, "{raw}");
        }
    }

    /// The one-pass fast path answers as the definition does, for every path of up to six
    /// bytes over the characters that matter.
    #[test]
    fn the_fast_path_agrees_with_its_definition() {
        fn defined(raw: &str) -> bool {
            !raw.contains('%')
                && !raw.contains("//")
                && !raw.split('/').any(|seg| seg == "." || seg == "..")
        }
        let alphabet = ['/', '.', 'a', '%'];
        let mut paths = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = paths
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            for p in &longer {
                assert_eq!(super::is_normal(p), defined(p), "{p:?}");
            }
            paths = longer;
        }
        assert!(super::is_normal(""));
    }

    #[test]
    fn normal_paths_are_borrowed() {
        assert!(matches!(normalize("/mcp/x"), std::borrow::Cow::Borrowed(_)));
    }
}
