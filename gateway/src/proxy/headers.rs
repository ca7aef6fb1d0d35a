//! Header rules of a reverse proxy: what is hop-by-hop, and what the gateway adds upstream.

use std::ops::Range;

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use bytes::BytesMut;

/// Headers that describe one connection, never forwarded as such (RFC 9110 §7.6.1).
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// `headers` without hop-by-hop headers, those the `Connection` header names, and
/// `Content-Length` (the relay sets it from the body it sends), removed in place: the map the
/// client sent becomes the upstream's, no copy made.
pub fn into_end_to_end(mut headers: HeaderMap) -> HeaderMap {
    headers.remove(header::CONTENT_LENGTH);
    if !headers.keys().any(|name| is_hop_by_hop(name.as_str())) {
        return headers;
    }
    // Rare: the names are collected first, the map cannot change while they are read.
    let mut drop: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    drop.extend(
        headers
            .keys()
            .filter(|name| is_hop_by_hop(name.as_str()))
            .cloned(),
    );
    for name in drop {
        headers.remove(name);
    }
    headers
}

/// How many headers the gateway adds upstream at most: the eight of [`add_forwarded`], `Host`,
/// and key-auth's six consumer and credential headers.
pub const ADDED: usize = 15;

/// What the gateway knows about the client connection, for `X-Forwarded-*`.
pub struct Forwarded<'a> {
    pub client_ip: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub path: &'a str,
    /// The prefix `strip_path` removed, if any.
    pub prefix: Option<&'a str>,
    pub request_id: &'a str,
}

/// The upstream headers [`add_forwarded`] sets.
const FORWARDED: [&str; 8] = [
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-path",
    "x-forwarded-prefix",
    "x-real-ip",
    "x-kong-request-id",
];

/// Adds Kong's upstream headers. The client's `X-Forwarded-For` is extended, the others are
/// set from this connection (no proxy in front is trusted by default, as in Kong). A value that
/// is not valid header text is skipped (never a panic on input). The values share one buffer:
/// one allocation for all of them, however many there are.
pub fn add_forwarded(headers: &mut HeaderMap, f: &Forwarded<'_>) {
    // Names checked at compile time rather than on every request.
    const FOR: HeaderName = HeaderName::from_static(FORWARDED[0]);
    const PROTO: HeaderName = HeaderName::from_static(FORWARDED[1]);
    const HOST: HeaderName = HeaderName::from_static(FORWARDED[2]);
    const PORT: HeaderName = HeaderName::from_static(FORWARDED[3]);
    const PATH: HeaderName = HeaderName::from_static(FORWARDED[4]);
    const PREFIX: HeaderName = HeaderName::from_static(FORWARDED[5]);
    const REAL_IP: HeaderName = HeaderName::from_static(FORWARDED[6]);
    const REQUEST_ID: HeaderName = HeaderName::from_static(FORWARDED[7]);

    // One pass over the client's headers: whether it sent any of these names (usually not:
    // then each is appended without looking for it first), and its `X-Forwarded-For`.
    let mut sent = false;
    let mut prior = None;
    for (name, value) in headers.iter() {
        if FORWARDED.contains(&name.as_str()) {
            sent = true;
            if prior.is_none() && *name == FOR {
                prior = Some(value);
            }
        }
    }
    let prior = prior
        .and_then(|v| v.to_str().ok())
        .filter(|p| !p.is_empty());
    let prefix = f.prefix.filter(|p| !p.is_empty());
    let mut port = itoa::Buffer::new();
    let port = port.format(f.port);
    let mut texts = Texts::with_capacity(
        prior.map_or(0, |p| p.len() + 2)
            + 2 * f.client_ip.len()
            + f.host.len()
            + port.len()
            + f.path.len()
            + prefix.map_or(0, str::len)
            + f.request_id.len(),
    );
    let xff = match prior {
        Some(prior) => texts.push(&[prior, ", ", f.client_ip]),
        None => texts.push(&[f.client_ip]),
    };
    let real_ip = texts.push(&[f.client_ip]);
    let host = texts.push(&[f.host]);
    let port = texts.push(&[port]);
    let path = texts.push(&[f.path]);
    let prefix_at = prefix.map(|p| texts.push(&[p]));
    let request_id = texts.push(&[f.request_id]);
    let texts = texts.0.freeze();
    // A value shares the buffer; `None` when it is not valid header text.
    let value = |at: Range<usize>| HeaderValue::from_maybe_shared(texts.slice(at)).ok();

    if sent {
        // The client's values go: ours replace them, or the name is removed (the prefix).
        headers.remove(PREFIX);
    }
    let mut put = |name: HeaderName, value: Option<HeaderValue>| {
        if let Some(v) = value {
            set_value(headers, name, v, !sent);
        }
    };
    put(FOR, value(xff));
    put(PROTO, Some(HeaderValue::from_static("http")));
    put(HOST, value(host));
    put(PORT, value(port));
    put(PATH, value(path));
    if let Some(at) = prefix_at {
        put(PREFIX, value(at));
    }
    put(REAL_IP, value(real_ip));
    put(REQUEST_ID, value(request_id));
}

/// Header values written one after another into one buffer, each remembered by its range.
struct Texts(BytesMut);

impl Texts {
    fn with_capacity(n: usize) -> Self {
        Texts(BytesMut::with_capacity(n))
    }

    /// Appends the concatenation of `parts`; answers where it lies.
    fn push(&mut self, parts: &[&str]) -> Range<usize> {
        let start = self.0.len();
        for part in parts {
            self.0.extend_from_slice(part.as_bytes());
        }
        start..self.0.len()
    }
}

/// Sets a header, skipping values that are not valid header text (never panics on input).
pub fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        set_value(headers, HeaderName::from_static(name), v, false);
    }
}

/// Sets `name` to `value` alone: appended without a search when the caller knows the map does
/// not hold the name (`absent`), else replacing what it holds.
pub fn set_value(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue, absent: bool) {
    if absent {
        headers.append_absent(name, value);
    } else {
        headers.insert(name, value);
    }
}

/// An address as text (`Display`'s spelling), IPv4 written without the formatting machinery:
/// every request needs its client's.
pub fn ip_text(ip: std::net::IpAddr) -> String {
    let std::net::IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut text = String::with_capacity(15);
    let mut digits = itoa::Buffer::new();
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        text.push_str(digits.format(octet));
    }
    text
}

/// The host part of a `Host` header value (without the port).
pub fn host_only(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map(|(h, _)| &host[..h.len() + 1])
            .unwrap_or(host);
    }
    host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_display_writes_them() {
        for ip in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "10.20.3.40",
            "::1",
            "fe80::1:2",
        ] {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    #[test]
    fn drops_hop_by_hop_and_connection_named() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, X-Secret-Hop"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("te", "trailers"),
            ("proxy-authorization", "Basic x"),
            ("x-secret-hop", "1"),
            ("content-length", "3"),
            ("authorization", "Bearer t"),
            ("mcp-session-id", "abc"),
            ("mcp-param-region", "eu"),
        ] {
            h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        let names = |out: &HeaderMap| {
            let mut names: Vec<_> = out.keys().map(|k| k.as_str().to_string()).collect();
            names.sort();
            names
        };
        let kept = ["authorization", "mcp-param-region", "mcp-session-id"];
        assert_eq!(names(&into_end_to_end(h)), kept);
    }

    /// A request on port 8000 to `/marketplace/users`, routed by the prefix `/marketplace`.
    const EXAMPLE: Forwarded<'static> = Forwarded {
        client_ip: "127.0.0.1",
        host: "example.test",
        port: 8000,
        path: "/marketplace/users",
        prefix: Some("/marketplace"),
        request_id: "rid",
    };

    #[test]
    fn forwarded_extends_xff_and_sets_the_rest() {
        let mut h = HeaderMap::new();
        set(&mut h, "x-forwarded-for", "10.0.0.1");
        set(&mut h, "x-forwarded-proto", "https");
        add_forwarded(&mut h, &EXAMPLE);
        let get = |k: &str| h.get(k).unwrap().to_str().unwrap().to_string();
        assert_eq!(get("x-forwarded-for"), "10.0.0.1, 127.0.0.1");
        assert_eq!(get("x-forwarded-proto"), "http");
        assert_eq!(get("x-forwarded-host"), "example.test");
        assert_eq!(get("x-forwarded-port"), "8000");
        assert_eq!(get("x-forwarded-path"), "/marketplace/users");
        assert_eq!(get("x-forwarded-prefix"), "/marketplace");
        assert_eq!(get("x-real-ip"), "127.0.0.1");
        assert_eq!(get("x-kong-request-id"), "rid");
    }

    #[test]
    fn forwarded_values_that_are_not_header_text_are_skipped_alone() {
        let mut h = HeaderMap::new();
        set(&mut h, "x-forwarded-prefix", "/from-the-client");
        add_forwarded(
            &mut h,
            &Forwarded {
                client_ip: "::1",
                host: "bad\u{7f}host",
                port: 80,
                path: "/p",
                prefix: None,
                request_id: "rid",
            },
        );
        let get = |k: &str| h.get(k).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(get("x-forwarded-host"), None);
        assert_eq!(get("x-forwarded-prefix"), None);
        assert_eq!(get("x-forwarded-for").as_deref(), Some("::1"));
        assert_eq!(get("x-real-ip").as_deref(), Some("::1"));
        assert_eq!(get("x-forwarded-port").as_deref(), Some("80"));
        assert_eq!(get("x-forwarded-path").as_deref(), Some("/p"));
        assert_eq!(get("x-kong-request-id").as_deref(), Some("rid"));
    }

    #[test]
    fn each_forwarded_name_goes_upstream_once_whatever_the_client_sent() {
        // Spelled out here, not taken from `FORWARDED`: a name missing there must fail.
        const NAMES: [&str; 8] = [
            "x-forwarded-for",
            "x-forwarded-proto",
            "x-forwarded-host",
            "x-forwarded-port",
            "x-forwarded-path",
            "x-forwarded-prefix",
            "x-real-ip",
            "x-kong-request-id",
        ];
        // Nothing from the client, each name alone (twice), all of them.
        let cases = std::iter::once(&[][..])
            .chain(NAMES.chunks(1))
            .chain(std::iter::once(&NAMES[..]));
        for sent in cases {
            let mut h = HeaderMap::new();
            set(&mut h, "accept", "*/*");
            for name in sent {
                for _ in 0..2 {
                    h.append(
                        HeaderName::from_static(name),
                        HeaderValue::from_static("client"),
                    );
                }
            }
            add_forwarded(&mut h, &EXAMPLE);
            for name in NAMES {
                let values: Vec<_> = h.get_all(name).collect();
                assert_eq!(values.len(), 1, "{name} after {sent:?} from the client");
                let expected_client = name == "x-forwarded-for" && sent.contains(&name);
                assert_eq!(
                    values[0].to_str().unwrap().starts_with("client"),
                    expected_client,
                    "{name}: {values:?}"
                );
            }
            assert_eq!(h.len_keys(), 9);
        }
    }

    #[test]
    fn host_without_port() {
        assert_eq!(host_only("example.test:8000"), "example.test");
        assert_eq!(host_only("example.test"), "example.test");
        assert_eq!(host_only("[::1]:8000"), "[::1]");
    }
}
