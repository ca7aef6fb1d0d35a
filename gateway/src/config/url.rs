//! The `url` shorthand of a service: `scheme://host[:port][/path]`, split into Kong's
//! `protocol`, `host`, `port` and `path`. Only what a service URL may contain is accepted: no
//! user information, query or fragment.

/// A service URL split into its parts; `port` is `None` when the URL has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrl {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    pub path: Option<String>,
}

/// Splits a service URL, or says what is wrong with it.
pub fn parse(url: &str) -> Result<ServiceUrl, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("invalid url {url:?}: expected scheme://host[:port][/path]"))?;
    if rest.contains(['?', '#', '@']) {
        return Err(format!(
            "invalid url {url:?}: user information, query and fragment are not allowed"
        ));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(rest[i..].to_string())),
        None => (rest, None),
    };
    let (host, port) =
        split_authority(authority).map_err(|m| format!("invalid url {url:?}: {m}"))?;
    Ok(ServiceUrl {
        scheme: scheme.to_ascii_lowercase(),
        host,
        port,
        path,
    })
}

/// `host:port`, `[::1]:port` or a bare host.
fn split_authority(authority: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("unclosed [ in the host")?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or("unexpected text after the host")?,
            ),
        };
        (format!("[{host}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), Some(port)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err("missing host".to_string());
    }
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("invalid port {p:?}"))?,
        ),
        None => None,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(scheme: &str, host: &str, port: Option<u16>, path: Option<&str>) -> ServiceUrl {
        ServiceUrl {
            scheme: scheme.into(),
            host: host.into(),
            port,
            path: path.map(str::to_string),
        }
    }

    #[test]
    fn splits_urls() {
        assert_eq!(
            parse("http://127.0.0.1:3000").unwrap(),
            url("http", "127.0.0.1", Some(3000), None)
        );
        assert_eq!(
            parse("HTTPS://example.com/mcp").unwrap(),
            url("https", "example.com", None, Some("/mcp"))
        );
        assert_eq!(
            parse("http://[::1]:8080/").unwrap(),
            url("http", "[::1]", Some(8080), Some("/"))
        );
        assert_eq!(
            parse("http://[::1]").unwrap(),
            url("http", "[::1]", None, None)
        );
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(parse("127.0.0.1:3000")
            .unwrap_err()
            .contains("expected scheme://"));
        assert!(parse("http://:3000").unwrap_err().contains("missing host"));
        assert!(parse("http://h:99999")
            .unwrap_err()
            .contains("invalid port \"99999\""));
        assert!(parse("http://h/x?y=1").unwrap_err().contains("query"));
        assert!(parse("http://u:p@h/")
            .unwrap_err()
            .contains("user information"));
    }
}
