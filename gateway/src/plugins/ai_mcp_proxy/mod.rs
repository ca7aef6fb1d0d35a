//! ai-mcp-proxy (priority 820) in `passthrough-listener` mode: MCP traffic is proxied unchanged
//! while every JSON-RPC call is observed. See README.md beside this file for the phase chart.
//!
//! - `access`: JSON POST bodies are read up to `max_request_body_size` and classified
//!   (`envelope`); refusals answer at once; the original bytes go upstream.
//! - `header_filter`/`body_filter`: the response is followed as it streams (`observe`, `sse`).
//! - `log`: the `ai.mcp` section and the metric facts (`record`).

pub mod access;
pub mod envelope;
pub mod observe;
pub mod record;
pub mod schema;
pub mod sse;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::HttpResponse;
use bytes::Bytes;
use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};

use self::access::Parsed;
use self::observe::Observation;
use self::record::{Ending, ToolNames};
use self::schema::AiMcpProxyConfig;
use super::context::{Ctx, ProxyRequest};
use super::Plugin;
use crate::config::ConfigError;

pub use self::record::McpStats;

pub struct AiMcpProxy {
    config: AiMcpProxyConfig,
    names: Arc<ToolNames>,
}

impl AiMcpProxy {
    pub fn new(config: &Value) -> Result<Self, ConfigError> {
        let config: AiMcpProxyConfig = super::schema::typed(config)?;
        Ok(AiMcpProxy {
            config,
            names: Arc::new(ToolNames::default()),
        })
    }

    async fn observe_request(
        &self,
        ctx: &mut Ctx,
        req: &mut ProxyRequest,
    ) -> Result<(), HttpResponse> {
        if !access::wants_body(req.http.method(), &req.headers) {
            return Ok(());
        }
        let body = access::read_body(&mut req.body, self.config.max_request_body_size)
            .await
            .map_err(|r| r.response(&ctx.request_id))?;
        ctx.request_size = body.len() as u64;
        let parsed = access::parse(&req.headers, &body).map_err(|r| r.response(&ctx.request_id))?;
        let Parsed::Rpc { envelopes, batch } = parsed else {
            return Ok(());
        };
        let mut obs = Observation::new(
            observe::calls_from(envelopes),
            batch,
            self.config.logging.log_payloads,
        );
        obs.session_id = header_text(&req.headers, "mcp-session-id");
        ctx.extensions.insert(obs);
        Ok(())
    }
}

fn header_text(headers: &header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl Plugin for AiMcpProxy {
    fn name(&self) -> &'static str {
        "ai-mcp-proxy"
    }

    fn priority(&self) -> i32 {
        820
    }

    fn access<'a>(
        &'a self,
        ctx: &'a mut Ctx,
        req: &'a mut ProxyRequest,
    ) -> LocalBoxFuture<'a, Result<(), HttpResponse>> {
        Box::pin(self.observe_request(ctx, req))
    }

    fn header_filter(&self, ctx: &mut Ctx) {
        let status = ctx.status;
        let content_type = header_text(&ctx.response_headers, "content-type");
        let session = header_text(&ctx.response_headers, "mcp-session-id");
        if let Some(obs) = ctx.extensions.get_mut::<Observation>() {
            obs.start_response(status, content_type.as_deref());
            if obs.session_id.is_none() {
                obs.session_id = session;
            }
        }
    }

    fn body_filter(&self, ctx: &mut Ctx, chunk: &Bytes) {
        if let Some(obs) = ctx.extensions.get_mut::<Observation>() {
            obs.chunk(chunk);
        }
    }

    fn log(&self, ctx: &mut Ctx, record: &mut Map<String, Value>) {
        let Some(mut obs) = ctx.extensions.remove::<Observation>() else {
            return;
        };
        obs.finish();
        let ending = Ending {
            sent: ctx.upstream_sent,
            status: ctx.status,
            failure: ctx.failure,
            route: ctx.route.id,
            names: &self.names,
            statistics: self.config.logging.log_statistics,
        };
        let (section, stats) = record::build(&obs, &ending);
        if !section.is_empty() {
            let ai = record
                .entry("ai")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(ai) = ai {
                ai.insert("mcp".into(), Value::Object(section));
            }
        }
        if self.config.logging.log_statistics {
            ctx.extensions.insert(stats);
        }
    }
}
