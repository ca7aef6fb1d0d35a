//! Process settings, the way `kong.conf` works: built-in defaults, then an optional settings
//! file (`kong.conf` style `key = value`, or TOML/YAML/JSON), then `KONG_*` environment variables.
//! Names and defaults are Kong's where Kong has them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Every setting the gateway reads. Unknown keys in a settings file are rejected so a typo never
/// silently falls back to a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Kong's `proxy_listen`: comma-separated `host:port [flags]` entries; `off` disables.
    pub proxy_listen: String,
    /// Kong's `admin_listen`, loopback by default.
    pub admin_listen: String,
    /// Kong's `status_listen` (`/status`, `/metrics`), `off` by default.
    pub status_listen: String,
    /// `off`: the declarative file is the whole truth (Kong's DB-less mode).
    pub database: String,
    /// Kong's `declarative_config`: the decK file to serve and watch.
    pub declarative_config: Option<PathBuf>,
    /// Kong's `prefix`: the working directory for state the gateway writes.
    pub prefix: PathBuf,
    /// Kong's `log_level`: debug, info, notice, warn, error, crit.
    pub log_level: String,
    /// How often the declarative file is checked for changes, in milliseconds.
    pub declarative_config_poll_ms: u64,
    /// Records the telemetry actor may hold before new ones are counted as dropped.
    pub telemetry_queue_size: usize,
    /// Proxy worker threads; 0 = one per core.
    pub worker_processes: usize,
    /// nginx's `client_header_timeout` (Kong injects `nginx_http_*` keys as nginx directives):
    /// how long a new connection may take to send its first request head; 408 after it.
    pub nginx_http_client_header_timeout: String,
    /// nginx's `client_body_timeout`: the longest pause between two reads of a request body;
    /// the request is refused with 408 after it. `0` disables it.
    pub nginx_http_client_body_timeout: String,
    /// nginx's `keepalive_timeout`: how long an idle client connection is kept open between
    /// requests. `0` closes every connection after its response.
    pub nginx_http_keepalive_timeout: String,
    /// nginx's `lingering_timeout`: after refusing a request whose body is still arriving, how
    /// long the gateway goes on reading and discarding it, so that the client, still writing,
    /// reads the refusal instead of a reset connection; then the connection is closed. Here a
    /// total for the connection. `0` closes at once.
    pub nginx_http_lingering_timeout: String,
    /// nginx's `client_max_body_size` (`0` = no limit, Kong's default): larger request bodies
    /// get 413, by `Content-Length` before anything is read, or as soon as a chunked body
    /// passes it.
    pub nginx_http_client_max_body_size: String,
    /// nginx's `worker_shutdown_timeout`: on SIGTERM, how long in-flight requests and streams
    /// may take to finish before their connections are closed.
    pub nginx_main_worker_shutdown_timeout: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            proxy_listen: "0.0.0.0:8000".into(),
            admin_listen: "127.0.0.1:8001".into(),
            status_listen: "off".into(),
            database: "off".into(),
            declarative_config: None,
            prefix: PathBuf::from(".kong"),
            log_level: "notice".into(),
            declarative_config_poll_ms: 1000,
            telemetry_queue_size: 10_000,
            worker_processes: 0,
            nginx_http_client_header_timeout: "60s".into(),
            nginx_http_client_body_timeout: "60s".into(),
            nginx_http_keepalive_timeout: "75s".into(),
            nginx_http_lingering_timeout: "5s".into(),
            nginx_http_client_max_body_size: "0".into(),
            nginx_main_worker_shutdown_timeout: "30s".into(),
        }
    }
}

/// The keys a settings file or `KONG_*` variable may set.
const KEYS: &[&str] = &[
    "proxy_listen",
    "admin_listen",
    "status_listen",
    "database",
    "declarative_config",
    "prefix",
    "log_level",
    "declarative_config_poll_ms",
    "telemetry_queue_size",
    "worker_processes",
    "nginx_http_client_header_timeout",
    "nginx_http_client_body_timeout",
    "nginx_http_keepalive_timeout",
    "nginx_http_lingering_timeout",
    "nginx_http_client_max_body_size",
    "nginx_main_worker_shutdown_timeout",
];

/// A settings problem, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("settings: {0}")]
    Source(#[from] config::ConfigError),
    #[error("settings: {key}: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Settings {
    /// Defaults, then `file` when given, then the process environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Settings, SettingsError> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Settings::load`] with an explicit environment (tests use this).
    pub fn load_from(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let defaults = config::Config::try_from(&DefaultsView::from(Settings::default()))?;
        let mut builder = config::Config::builder().add_source(defaults);
        if let Some(path) = file {
            // `kong.conf` is `key = value` lines: INI without sections.
            let known = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("toml" | "yaml" | "yml" | "json" | "ini")
            );
            let file = config::File::from(path).required(true);
            builder = builder.add_source(if known {
                file
            } else {
                file.format(config::FileFormat::Ini)
            });
        }
        let vars: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| {
                // Only our keys: other KONG_* variables (Kong's nginx injections, users' own)
                // must not make start-up fail.
                k.strip_prefix("KONG_")
                    .is_some_and(|key| KEYS.contains(&key.to_ascii_lowercase().as_str()))
            })
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("KONG")
                .prefix_separator("_")
                .source(Some(vars))
                .try_parsing(true),
        );
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), SettingsError> {
        if self.database != "off" {
            return Err(SettingsError::Invalid {
                key: "database",
                message: format!(
                    "\"{}\" is not supported: only \"off\" (declarative configuration)",
                    self.database
                ),
            });
        }
        for (key, value) in [
            ("proxy_listen", &self.proxy_listen),
            ("admin_listen", &self.admin_listen),
            ("status_listen", &self.status_listen),
        ] {
            parse_listen(value).map_err(|message| SettingsError::Invalid { key, message })?;
        }
        tracing_level(&self.log_level).map_err(|message| SettingsError::Invalid {
            key: "log_level",
            message,
        })?;
        for (key, value) in [
            (
                "nginx_http_client_header_timeout",
                &self.nginx_http_client_header_timeout,
            ),
            (
                "nginx_http_client_body_timeout",
                &self.nginx_http_client_body_timeout,
            ),
            (
                "nginx_http_keepalive_timeout",
                &self.nginx_http_keepalive_timeout,
            ),
            (
                "nginx_http_lingering_timeout",
                &self.nginx_http_lingering_timeout,
            ),
            (
                "nginx_main_worker_shutdown_timeout",
                &self.nginx_main_worker_shutdown_timeout,
            ),
        ] {
            parse_time(value).map_err(|message| SettingsError::Invalid { key, message })?;
        }
        parse_size(&self.nginx_http_client_max_body_size).map_err(|message| {
            SettingsError::Invalid {
                key: "nginx_http_client_max_body_size",
                message,
            }
        })?;
        Ok(())
    }

    pub fn proxy_addrs(&self) -> Vec<SocketAddr> {
        parse_listen(&self.proxy_listen).unwrap_or_default()
    }

    pub fn admin_addrs(&self) -> Vec<SocketAddr> {
        parse_listen(&self.admin_listen).unwrap_or_default()
    }

    pub fn status_addrs(&self) -> Vec<SocketAddr> {
        parse_listen(&self.status_listen).unwrap_or_default()
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.declarative_config_poll_ms.max(10))
    }

    /// Time allowed for a new connection's first request head.
    pub fn client_header_timeout(&self) -> Duration {
        parse_time(&self.nginx_http_client_header_timeout).unwrap_or(Duration::from_secs(60))
    }

    /// Longest pause between two reads of a request body; `None` = unbounded.
    pub fn client_body_timeout(&self) -> Option<Duration> {
        let d = parse_time(&self.nginx_http_client_body_timeout).unwrap_or(Duration::from_secs(60));
        (!d.is_zero()).then_some(d)
    }

    /// Idle time allowed between two requests on a connection; zero disables keep-alive.
    pub fn keepalive_timeout(&self) -> Duration {
        parse_time(&self.nginx_http_keepalive_timeout).unwrap_or(Duration::from_secs(75))
    }

    /// How long a refused request's unread body is read and discarded before the connection
    /// closes; zero closes at once.
    pub fn lingering_timeout(&self) -> Duration {
        parse_time(&self.nginx_http_lingering_timeout).unwrap_or(Duration::from_secs(5))
    }

    /// Largest request body accepted; `None` = no limit.
    pub fn client_max_body_size(&self) -> Option<u64> {
        parse_size(&self.nginx_http_client_max_body_size)
            .ok()
            .filter(|&n| n > 0)
    }

    /// How long a graceful shutdown waits for in-flight requests and streams.
    pub fn shutdown_timeout(&self) -> Duration {
        parse_time(&self.nginx_main_worker_shutdown_timeout).unwrap_or(Duration::from_secs(30))
    }

    /// The `tracing` filter directive for `log_level`.
    pub fn tracing_filter(&self) -> &'static str {
        tracing_level(&self.log_level).unwrap_or("info")
    }
}

/// Kong's listen syntax: `off`, or comma-separated `addr:port [flag…]`. Entries flagged `ssl`
/// are refused (TLS termination is not served by this gateway) rather than silently dropped.
pub fn parse_listen(value: &str) -> Result<Vec<SocketAddr>, String> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") {
        return Ok(Vec::new());
    }
    let mut addrs = Vec::new();
    for entry in value.split(',') {
        let mut words = entry.split_whitespace();
        let Some(addr) = words.next() else {
            return Err(format!("empty listen entry in \"{value}\""));
        };
        if words.any(|flag| flag == "ssl") {
            return Err(format!(
                "\"{}\": ssl listeners are not supported",
                entry.trim()
            ));
        }
        let addr = addr.replace("localhost:", "127.0.0.1:");
        let parsed = addr
            .parse::<SocketAddr>()
            .map_err(|e| format!("\"{}\": {e} (expected host:port)", entry.trim()))?;
        addrs.push(parsed);
    }
    Ok(addrs)
}

/// nginx's time syntax: a number with an optional unit (`ms`, `s`, `m`, `h`, `d`; seconds when
/// absent), or several such parts in decreasing units (`1m30s`).
pub fn parse_time(value: &str) -> Result<Duration, String> {
    let text = value.trim();
    let bad = || format!("\"{text}\" is not a time (expected e.g. 60s, 500ms, 1m30s)");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit] {
            "ms" => Duration::from_millis(n),
            "" | "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            "d" => Duration::from_secs(n.saturating_mul(86_400)),
            _ => return Err(bad()),
        };
        total = total.saturating_add(part);
        rest = &rest[unit..];
    }
    Ok(total)
}

/// nginx's size syntax: bytes, or a number with `k`/`m`/`g` (either case).
pub fn parse_size(value: &str) -> Result<u64, String> {
    let text = value.trim();
    let bad = || format!("\"{text}\" is not a size (expected e.g. 0, 8k, 10m)");
    let (digits, factor) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&text[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .map_err(|_| bad())
        .map(|n| n.saturating_mul(factor))
}

fn tracing_level(level: &str) -> Result<&'static str, String> {
    match level.to_ascii_lowercase().as_str() {
        "debug" => Ok("debug"),
        "info" | "notice" => Ok("info"),
        "warn" => Ok("warn"),
        "error" | "crit" | "alert" | "emerg" => Ok("error"),
        other => Err(format!(
            "\"{other}\" is not one of debug, info, notice, warn, error, crit"
        )),
    }
}

/// The defaults as a serializable view, so they enter `config` as its lowest layer.
#[derive(serde::Serialize)]
struct DefaultsView {
    proxy_listen: String,
    admin_listen: String,
    status_listen: String,
    database: String,
    prefix: PathBuf,
    log_level: String,
    declarative_config_poll_ms: u64,
    telemetry_queue_size: usize,
    worker_processes: usize,
    nginx_http_client_header_timeout: String,
    nginx_http_client_body_timeout: String,
    nginx_http_keepalive_timeout: String,
    nginx_http_lingering_timeout: String,
    nginx_http_client_max_body_size: String,
    nginx_main_worker_shutdown_timeout: String,
}

impl From<Settings> for DefaultsView {
    fn from(s: Settings) -> Self {
        DefaultsView {
            proxy_listen: s.proxy_listen,
            admin_listen: s.admin_listen,
            status_listen: s.status_listen,
            database: s.database,
            prefix: s.prefix,
            log_level: s.log_level,
            declarative_config_poll_ms: s.declarative_config_poll_ms,
            telemetry_queue_size: s.telemetry_queue_size,
            worker_processes: s.worker_processes,
            nginx_http_client_header_timeout: s.nginx_http_client_header_timeout,
            nginx_http_client_body_timeout: s.nginx_http_client_body_timeout,
            nginx_http_keepalive_timeout: s.nginx_http_keepalive_timeout,
            nginx_http_lingering_timeout: s.nginx_http_lingering_timeout,
            nginx_http_client_max_body_size: s.nginx_http_client_max_body_size,
            nginx_main_worker_shutdown_timeout: s.nginx_main_worker_shutdown_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn kong_defaults() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.proxy_addrs(), vec!["0.0.0.0:8000".parse().unwrap()]);
        assert_eq!(s.admin_addrs(), vec!["127.0.0.1:8001".parse().unwrap()]);
        assert!(s.status_addrs().is_empty());
        assert_eq!(s.database, "off");
    }

    #[test]
    fn environment_overrides() {
        let s = Settings::load_from(
            None,
            env(&[
                (
                    "KONG_PROXY_LISTEN",
                    "127.0.0.1:9000 reuseport, 127.0.0.1:9001",
                ),
                ("KONG_STATUS_LISTEN", "127.0.0.1:8100"),
                ("KONG_DECLARATIVE_CONFIG", "/tmp/kong.yaml"),
                ("KONG_LOG_LEVEL", "debug"),
                ("OTHER_VAR", "ignored"),
                ("KONG_NGINX_WORKER_PROCESSES", "4"),
            ]),
        )
        .unwrap();
        assert_eq!(s.proxy_addrs().len(), 2);
        assert_eq!(s.status_addrs(), vec!["127.0.0.1:8100".parse().unwrap()]);
        assert_eq!(s.declarative_config, Some(PathBuf::from("/tmp/kong.yaml")));
        assert_eq!(s.tracing_filter(), "debug");
    }

    #[test]
    fn kong_conf_file_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kong.conf");
        std::fs::write(
            &file,
            "# comment\nadmin_listen = 127.0.0.1:9444\nlog_level = warn\n",
        )
        .unwrap();
        let s = Settings::load_from(Some(&file), env(&[("KONG_LOG_LEVEL", "error")])).unwrap();
        assert_eq!(s.admin_addrs(), vec!["127.0.0.1:9444".parse().unwrap()]);
        assert_eq!(s.tracing_filter(), "error");
    }

    #[test]
    fn nginx_times_and_sizes() {
        assert_eq!(parse_time("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_time("75"), Ok(Duration::from_secs(75)));
        assert_eq!(parse_time("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_time("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_time("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_time("soon").is_err());
        assert!(parse_time("5x").is_err());
        assert!(parse_time("").is_err());
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("8k"), Ok(8192));
        assert_eq!(parse_size("10M"), Ok(10 << 20));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn client_limits_from_the_environment_and_a_file() {
        let s = Settings::load_from(
            None,
            env(&[
                ("KONG_NGINX_HTTP_CLIENT_BODY_TIMEOUT", "0"),
                ("KONG_NGINX_HTTP_CLIENT_MAX_BODY_SIZE", "1m"),
                ("KONG_NGINX_HTTP_KEEPALIVE_TIMEOUT", "5s"),
                ("KONG_NGINX_MAIN_WORKER_SHUTDOWN_TIMEOUT", "2500ms"),
            ]),
        )
        .unwrap();
        assert_eq!(s.client_body_timeout(), None);
        assert_eq!(s.client_max_body_size(), Some(1 << 20));
        assert_eq!(s.keepalive_timeout(), Duration::from_secs(5));
        assert_eq!(s.shutdown_timeout(), Duration::from_millis(2500));
        assert_eq!(s.client_header_timeout(), Duration::from_secs(60));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kong.conf");
        std::fs::write(&file, "nginx_http_client_header_timeout = 10s\n").unwrap();
        let s = Settings::load_from(Some(&file), env(&[])).unwrap();
        assert_eq!(s.client_header_timeout(), Duration::from_secs(10));
        assert_eq!(s.client_max_body_size(), None);
        let file = dir.path().join("kong.toml");
        std::fs::write(&file, "nginx_http_client_max_body_size = 4096\n").unwrap();
        let s = Settings::load_from(Some(&file), env(&[])).unwrap();
        assert_eq!(s.client_max_body_size(), Some(4096));
        let err = Settings::load_from(
            None,
            env(&[("KONG_NGINX_HTTP_CLIENT_BODY_TIMEOUT", "forever")]),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("settings: nginx_http_client_body_timeout: \"forever\""),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = Settings::load_from(None, env(&[("KONG_DATABASE", "postgres")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "settings: database: \"postgres\" is not supported: only \"off\" (declarative configuration)"
        );
        let err = Settings::load_from(None, env(&[("KONG_PROXY_LISTEN", "nowhere")])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("settings: proxy_listen: \"nowhere\""),
            "{err}"
        );
        let err = Settings::load_from(None, env(&[("KONG_PROXY_LISTEN", "0.0.0.0:8443 ssl")]))
            .unwrap_err();
        assert!(
            err.to_string().contains("ssl listeners are not supported"),
            "{err}"
        );
    }
}
