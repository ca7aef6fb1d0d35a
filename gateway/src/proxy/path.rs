//! The path sent upstream: Kong's `path_handling` algorithms `v0` (the default) and `v1`.
//!
//! Both follow Kong's own code (`get_upstream_uri_v0` in `kong/router/utils.lua` and the `v1`
//! branch of `kong/router/traditional.lua`) rather than the prose around them, because the prose
//! is looser than the code ("the trailing slash is removed") and one row of the published example
//! table has a typo. Every row of both published tables is a test below.
//!
//! Terms, as in Kong:
//! - `base`: the service `path`, or `/` when it has none;
//! - `postfix`: what follows the matched route path when `strip_path` is true and a path matched;
//!   otherwise the whole request path without its leading `/`.

use crate::config::model::PathHandling;

/// The upstream path (without query string) for a request.
///
/// `matched` is the part of `request_path` the route's path matched (the prefix, or the text of
/// a regex match); pass `""` when the route matched without a path. It must be a prefix of
/// `request_path`; if it is not, the request is treated as if no path matched (never a panic).
pub fn upstream_path(
    service_path: Option<&str>,
    strip_path: bool,
    matched: &str,
    request_path: &str,
    handling: PathHandling,
) -> String {
    let base = match service_path {
        Some(p) if !p.is_empty() => p,
        _ => "/",
    };
    let stripped = if strip_path && !matched.is_empty() {
        request_path.strip_prefix(matched)
    } else {
        None
    };
    // Kong: "if we do not have a path-match, then the postfix is simply the incoming path,
    // without the initial slash".
    let postfix = sanitize_postfix(stripped.unwrap_or_else(|| without_leading_slash(request_path)));

    // One allocation, sized for the longest possible result.
    let mut out = String::with_capacity(base.len() + request_path.len() + 1);
    match handling {
        PathHandling::V0 => v0(&mut out, base, strip_path, postfix, request_path),
        PathHandling::V1 => v1(&mut out, base, strip_path, postfix, request_path),
    }
    out
}

/// `v0`: service path, route path and request path are URL *segments*, joined by exactly one `/`.
fn v0(out: &mut String, base: &str, strip: bool, postfix: &str, request_path: &str) {
    let request_has_trailing_slash = request_path.len() > 1 && request_path.ends_with('/');
    if let Some(base_no_slash) = base.strip_suffix('/') {
        if !strip {
            // Keep the whole request path, dropping its initial slash to avoid `//`.
            out.push_str(base);
            out.push_str(without_leading_slash(request_path));
        } else if postfix.is_empty() {
            // Nothing left after the route path: the base, with its trailing slash only when
            // the request had one (and `/` stays `/`).
            if base == "/" || request_path.ends_with('/') {
                out.push_str(base);
            } else {
                out.push_str(base_no_slash);
            }
        } else if postfix.starts_with('/') {
            out.push_str(base_no_slash);
            out.push_str(postfix);
        } else {
            out.push_str(base);
            out.push_str(postfix);
        }
        return;
    }
    // The base does not end with `/`.
    if !strip {
        out.push_str(base);
        if request_path != "/" {
            out.push_str(request_path);
        }
    } else if postfix.is_empty() {
        out.push_str(base);
        if request_has_trailing_slash {
            out.push('/');
        }
    } else {
        out.push_str(base);
        if !postfix.starts_with('/') {
            out.push('/');
        }
        out.push_str(postfix);
    }
}

/// `v1` (Kong 1.x): the service path is a plain *prefix*; the initial slashes of the route and
/// request paths are dropped, so `/s` + `/r` + `/re` gives `/sre`.
fn v1(out: &mut String, base: &str, strip: bool, postfix: &str, request_path: &str) {
    if !strip {
        out.push_str(base);
        out.push_str(without_leading_slash(request_path));
        return;
    }
    match base.strip_suffix('/') {
        // Double `/`: drop the base's.
        Some(base_no_slash) if postfix.starts_with('/') => out.push_str(base_no_slash),
        _ => out.push_str(base),
    }
    out.push_str(postfix);
}

/// Kong's `sanitize_uri_postfix`: a postfix that starts with a dot segment must not let the
/// request climb out of the service path.
fn sanitize_postfix(postfix: &str) -> &str {
    match postfix {
        "." | ".." => "",
        _ => postfix
            .strip_prefix("./")
            .or_else(|| postfix.strip_prefix("../"))
            .unwrap_or(postfix),
    }
}

fn without_leading_slash(path: &str) -> &str {
    path.strip_prefix('/').unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use PathHandling::{V0, V1};

    /// (service path, route path, strip_path, path_handling, request path, upstream path)
    type Row = (
        &'static str,
        &'static str,
        bool,
        PathHandling,
        &'static str,
        &'static str,
    );

    fn check(rows: &[Row]) {
        for &(service, route, strip, handling, request, expected) in rows {
            // For these tables the route path is a prefix of the request path, so it is what
            // the router reports as matched.
            assert!(request.starts_with(route), "bad row {route} {request}");
            let got = upstream_path(Some(service), strip, route, request, handling);
            assert_eq!(
                got, expected,
                "service {service} route {route} strip {strip} {handling:?} request {request}"
            );
        }
    }

    /// The table in Kong's Admin API reference, Route object, "Path handling algorithms"
    /// (`autodoc/admin-api/data/admin-api.lua` in Kong/kong).
    #[test]
    fn kong_admin_api_table() {
        check(&[
            ("/s", "/fv0", false, V0, "/fv0req", "/s/fv0req"),
            ("/s", "/fv1", false, V1, "/fv1req", "/sfv1req"),
            ("/s", "/tv0", true, V0, "/tv0req", "/s/req"),
            ("/s", "/tv1", true, V1, "/tv1req", "/sreq"),
            ("/s", "/fv0/", false, V0, "/fv0/req", "/s/fv0/req"),
            ("/s", "/fv1/", false, V1, "/fv1/req", "/sfv1/req"),
            ("/s", "/tv0/", true, V0, "/tv0/req", "/s/req"),
            ("/s", "/tv1/", true, V1, "/tv1/req", "/sreq"),
        ]);
    }

    /// The detailed table on developer.konghq.com/gateway/entities/route/ ("Expand this block to
    /// see a table showing detailed v0 and v1 examples"), every row in its order.
    #[test]
    fn kong_route_entity_table() {
        check(&[
            ("/s", "/fv0", false, V0, "/fv0/req", "/s/fv0/req"),
            ("/s", "/fv0", false, V0, "/fv0", "/s/fv0"),
            ("/s", "/fv1", false, V1, "/fv1/req", "/sfv1/req"),
            ("/s", "/fv1", false, V1, "/fv1", "/sfv1"),
            ("/s", "/tv0", true, V0, "/tv0/req", "/s/req"),
            ("/s", "/tv0", true, V0, "/tv0", "/s"),
            ("/s", "/tv1", true, V1, "/tv1/req", "/s/req"),
            ("/s", "/tv1", true, V1, "/tv1", "/s"),
            ("/s", "/fv0/", false, V0, "/fv0/req", "/s/fv0/req"),
            // The page prints `/s/fv01/` here, a typo: Kong's code gives `/s/fv0/`.
            ("/s", "/fv0/", false, V0, "/fv0/", "/s/fv0/"),
            ("/s", "/fv1/", false, V1, "/fv1/req", "/sfv1/req"),
            ("/s", "/fv1/", false, V1, "/fv1/", "/sfv1/"),
            ("/s", "/tv0/", true, V0, "/tv0/req", "/s/req"),
            ("/s", "/tv0/", true, V0, "/tv0/", "/s/"),
            ("/s", "/tv1/", true, V1, "/tv1/req", "/sreq"),
            ("/s", "/tv1/", true, V1, "/tv1/", "/s"),
        ]);
    }

    #[test]
    fn spec_worked_examples() {
        // Service `http://h:3000`, route `/marketplace`.
        assert_eq!(
            upstream_path(None, true, "/marketplace", "/marketplace/users", V0),
            "/users"
        );
        assert_eq!(
            upstream_path(None, true, "/marketplace", "/marketplace", V0),
            "/"
        );
        // Service `http://h:3001/mcp`, route `/mcp`.
        assert_eq!(
            upstream_path(Some("/mcp"), true, "/mcp", "/mcp", V0),
            "/mcp"
        );
    }

    #[test]
    fn v0_trailing_slash_is_kept_only_when_the_request_had_one() {
        assert_eq!(
            upstream_path(None, true, "/marketplace", "/marketplace/", V0),
            "/"
        );
        assert_eq!(
            upstream_path(Some("/mcp"), true, "/mcp", "/mcp/", V0),
            "/mcp/"
        );
        assert_eq!(
            upstream_path(Some("/mcp/"), true, "/mcp", "/mcp", V0),
            "/mcp"
        );
        assert_eq!(
            upstream_path(Some("/mcp/"), true, "/mcp/", "/mcp/", V0),
            "/mcp/"
        );
        assert_eq!(upstream_path(Some("/"), true, "/a/", "/a/", V0), "/");
    }

    #[test]
    fn v0_joins_with_exactly_one_slash() {
        assert_eq!(
            upstream_path(Some("/api/"), true, "/x", "/x/users", V0),
            "/api/users"
        );
        assert_eq!(
            upstream_path(Some("/api"), true, "/x", "/x/users", V0),
            "/api/users"
        );
        assert_eq!(
            upstream_path(Some("/api/"), true, "/x/", "/x/users", V0),
            "/api/users"
        );
        // A plain prefix also matches mid-segment: `/mcp` strips from `/mcpx`.
        assert_eq!(upstream_path(None, true, "/mcp", "/mcpx", V0), "/x");
        assert_eq!(upstream_path(Some("/s"), true, "/mcp", "/mcpx", V0), "/s/x");
    }

    #[test]
    fn v0_without_strip_path_keeps_the_whole_request_path() {
        assert_eq!(upstream_path(None, false, "/mcp", "/mcp", V0), "/mcp");
        assert_eq!(upstream_path(None, false, "/mcp", "/mcp/x/", V0), "/mcp/x/");
        assert_eq!(
            upstream_path(Some("/up"), false, "/mcp", "/mcp/x", V0),
            "/up/mcp/x"
        );
        assert_eq!(
            upstream_path(Some("/up/"), false, "/mcp", "/mcp/x", V0),
            "/up/mcp/x"
        );
        assert_eq!(upstream_path(Some("/up"), false, "/", "/", V0), "/up");
    }

    #[test]
    fn no_path_matched_forwards_the_whole_request_path() {
        // A route matched by host or method only: nothing to strip.
        assert_eq!(upstream_path(None, true, "", "/a/b", V0), "/a/b");
        assert_eq!(upstream_path(Some("/s"), true, "", "/a/b", V0), "/s/a/b");
        assert_eq!(upstream_path(Some("/s"), true, "", "/", V0), "/s");
        assert_eq!(upstream_path(Some("/s"), true, "", "/", V1), "/s");
        assert_eq!(upstream_path(Some("/s"), true, "", "/a", V1), "/sa");
    }

    #[test]
    fn dot_segment_postfix_cannot_climb_out() {
        assert_eq!(upstream_path(Some("/s"), true, "/a", "/a..", V0), "/s");
        assert_eq!(upstream_path(Some("/s"), true, "/a", "/a../x", V0), "/s/x");
        assert_eq!(upstream_path(Some("/s"), true, "/a", "/a./x", V0), "/s/x");
    }

    #[test]
    fn a_matched_text_that_is_not_a_prefix_does_not_panic() {
        assert_eq!(upstream_path(Some("/s"), true, "/zzz", "/a", V0), "/s/a");
        assert_eq!(upstream_path(None, true, "/é", "é", V0), "/é");
    }
}
