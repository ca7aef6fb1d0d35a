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
            .map_err(|r| refuse(ctx, r))?;
        ctx.request_size = body.len() as u64;
        let parsed = access::parse(&req.headers, &body).map_err(|r| refuse(ctx, r))?;
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

/// Answers a refusal, keeping what the log phase needs to record it.
fn refuse(ctx: &mut Ctx, refusal: access::Refusal) -> HttpResponse {
    ctx.extensions.insert(record::Rejected {
        id: refusal.id.clone(),
        code: refusal.code,
        message: refusal.message.clone(),
    });
    refusal.response(&ctx.request_id)
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
        let statistics = self.config.logging.log_statistics;
        if let Some(rejected) = ctx.extensions.remove::<record::Rejected>() {
            let (section, stats) = rejected.build(statistics);
            insert_section(record, section);
            if statistics {
                ctx.extensions.insert(stats);
            }
            return;
        }
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
            statistics,
        };
        let (section, stats) = record::build(&obs, &ending);
        insert_section(record, section);
        if statistics {
            ctx.extensions.insert(stats);
        }
    }
}

/// Puts the section at `ai.mcp` of the log record (nothing when it is empty).
fn insert_section(record: &mut Map<String, Value>, section: Map<String, Value>) {
    if section.is_empty() {
        return;
    }
    if let Value::Object(ai) = record
        .entry("ai")
        .or_insert_with(|| Value::Object(Map::new()))
    {
        ai.insert("mcp".into(), Value::Object(section));
    }
}
