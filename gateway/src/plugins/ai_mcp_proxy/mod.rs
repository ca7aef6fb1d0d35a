//! ai-mcp-proxy (priority 820) in `passthrough-listener` mode: MCP traffic is proxied unchanged
//! while every JSON-RPC call is observed. See README.md beside this file for the phase chart.
//!
//! - `access`: JSON POST bodies are read up to `max_request_body_size` and classified
//!   (`envelope`); refusals answer at once; the original bytes go upstream.
//! - `header_filter`/`body_filter`: the response is followed as it streams (`observe`, `sse`);
//!   a `tools/list` under an ACL is held and filtered before the client sees it (`list`,
//!   `filter`).
//! - `log`: the `ai.mcp` section and the metric facts (`record`).

pub mod access;
pub mod acl;
pub mod envelope;
pub mod filter;
pub mod list;
pub mod observe;
pub mod record;
pub mod schema;
pub mod sse;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::HttpResponse;
use bytes::Bytes;
use serde_json::Value;
use uuid::Uuid;

use self::access::Parsed;
use self::list::{Form, ListFilter};
use self::observe::{Follow, Observation};
use self::record::{Ending, ToolNames};
use self::schema::AiMcpProxyConfig;
use super::context::{Ctx, ProxyRequest};
use super::{Access, Plugin};
use crate::config::ConfigError;
use crate::telemetry::json::Members;
use crate::telemetry::record::Record;

pub use self::record::McpStats;

pub struct AiMcpProxy {
    config: AiMcpProxyConfig,
    names: Arc<ToolNames>,
    decisions: acl::Cache,
}

impl AiMcpProxy {
    /// `consumers`: the ids of the configuration's consumers (one decision table each).
    pub fn new(
        config: &Value,
        consumers: impl IntoIterator<Item = Uuid>,
    ) -> Result<Self, ConfigError> {
        let config: AiMcpProxyConfig = super::schema::typed(config)?;
        Ok(AiMcpProxy {
            config,
            names: Arc::new(ToolNames::default()),
            decisions: acl::Cache::new(consumers),
        })
    }

    /// A body this plugin reads (see [`access::wants_body`]): read, classify, authorize.
    async fn observe_request(
        &self,
        ctx: &mut Ctx,
        req: &mut ProxyRequest,
    ) -> Result<(), HttpResponse> {
        let body = access::read_body(&mut req.body, self.config.max_request_body_size)
            .await
            .map_err(|r| refuse(ctx, r))?;
        ctx.request_size = body.len() as u64;
        let parsed = access::parse(&req.headers, &body).map_err(|r| refuse(ctx, r))?;
        let Parsed::Rpc { envelopes } = parsed else {
            return Ok(());
        };
        self.authorize(ctx, &envelopes)?;
        let mut obs = Observation::new(
            observe::calls_from(envelopes),
            self.config.logging.log_payloads,
        );
        obs.session_id = header_text(&req.headers, envelope::MCP_SESSION_ID);
        ctx.extensions.insert(obs);
        Ok(())
    }
}

impl AiMcpProxy {
    fn has_acls(&self) -> bool {
        !self.config.default_acl.is_empty() || self.config.tools.iter().any(|t| t.acl.is_some())
    }

    /// Every `tools/call` in the request is decided; one denial denies the whole request, so a
    /// batch can never smuggle a denied call next to allowed ones.
    #[allow(clippy::result_large_err)] // the early answer is built once per denied request
    fn authorize(
        &self,
        ctx: &mut Ctx,
        envelopes: &[(envelope::Envelope, Bytes)],
    ) -> Result<(), HttpResponse> {
        if !self.has_acls() {
            return Ok(());
        }
        if !envelopes.iter().any(|(e, _)| e.is_tools_call()) {
            return Ok(());
        }
        let table = self.decisions.table(ctx, &self.config);
        let subject = &table.subject;
        let mut audits = acl::Audits::default();
        let mut denial = None;
        for (env, _) in envelopes.iter().filter(|(e, _)| e.is_tools_call()) {
            let tool = env.tool_name.as_deref().unwrap_or_default();
            let decision = table.decide(tool);
            audits.decisions.push((
                tool.to_string(),
                "tools/call",
                if decision.allowed { "allow" } else { "deny" },
            ));
            if self.config.logging.log_audits {
                audits.records.push(acl::audit(&decision, subject));
            }
            if !decision.allowed && denial.is_none() {
                denial = Some((decision, env.id.clone()));
            }
        }
        ctx.extensions.insert(audits);
        let Some((decision, id)) = denial else {
            return Ok(());
        };
        let response = acl::denied(&decision, id.as_ref(), &ctx.request_id);
        ctx.extensions.insert(record::Rejected {
            id,
            code: envelope::INVALID_PARAMS,
            message: format!("Tool '{}' denied by ACL", decision.tool),
            outcome: record::Outcome::Denied,
        });
        Err(response)
    }
}

/// A GET on a route with ACLs: an event stream answered to it is filtered for listings.
struct EventStreamOpen;

/// The `tools/list` calls (any spelling the upstream may accept) whose answers must be filtered.
fn list_targets(obs: &Observation) -> Vec<filter::Target> {
    obs.calls
        .iter()
        .filter(|c| envelope::is_tools_list_like(&c.method))
        .filter_map(|c| {
            Some(filter::Target {
                id: c.id.clone()?,
                paged: has_cursor(&c.request),
                answered: false,
            })
        })
        .collect()
}

/// A `tools/list` request asking for a later page.
fn has_cursor(request: &[u8]) -> bool {
    serde_json::from_slice::<Value>(request)
        .is_ok_and(|v| v.pointer("/params/cursor").is_some_and(|c| !c.is_null()))
}

/// Answers a refusal, keeping what the log phase needs to record it.
fn refuse(ctx: &mut Ctx, refusal: access::Refusal) -> HttpResponse {
    ctx.extensions.insert(record::Rejected {
        id: refusal.id.clone(),
        code: refusal.code,
        message: refusal.message.clone(),
        outcome: record::Outcome::Rejected,
    });
    refusal.response(&ctx.request_id)
}

fn header_text(headers: &header::HeaderMap, name: header::HeaderName) -> Option<String> {
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

    fn access<'a>(&'a self, ctx: &'a mut Ctx, req: &'a mut ProxyRequest) -> Access<'a> {
        if req.http.method() == actix_web::http::Method::GET && self.has_acls() {
            ctx.extensions.insert(EventStreamOpen);
        }
        if !access::wants_body(req.http.method(), &req.headers) {
            return Access::Done(Ok(()));
        }
        Access::Wait(Box::pin(self.observe_request(ctx, req)))
    }

    fn header_filter(&self, ctx: &mut Ctx) {
        let status = ctx.status;
        let content_type = header_text(&ctx.response_headers, header::CONTENT_TYPE);
        let session = header_text(&ctx.response_headers, envelope::MCP_SESSION_ID);
        let Some(obs) = ctx.extensions.get_mut::<Observation>() else {
            let stream = content_type
                .as_deref()
                .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("text/event-stream"));
            if stream
                && (200..300).contains(&status)
                && ctx.extensions.contains::<EventStreamOpen>()
            {
                let table = self.decisions.table(ctx, &self.config);
                let log_audits = self.config.logging.log_audits;
                ctx.rewrite = Some(Box::new(ListFilter::every_listing(table, log_audits)));
            }
            return;
        };
        obs.start_response(status, content_type.as_deref());
        if obs.session_id.is_none() {
            obs.session_id = session;
        }
        let form = match obs.follow {
            Follow::Json { .. } => Form::Json,
            Follow::Sse { .. } => Form::EventStream,
            Follow::Raw => return,
        };
        if !self.has_acls() {
            return;
        }
        let targets = list_targets(obs);
        if targets.is_empty() {
            return;
        }
        let table = self.decisions.table(ctx, &self.config);
        let log_audits = self.config.logging.log_audits;
        ctx.rewrite = Some(Box::new(ListFilter::new(table, targets, log_audits, form)));
    }

    fn body_filter(&self, ctx: &mut Ctx, chunk: &Bytes) {
        if let Some(obs) = ctx.extensions.get_mut::<Observation>() {
            obs.chunk(chunk);
        }
    }

    fn log(&self, ctx: &mut Ctx, record: &mut Record) {
        let statistics = self.config.logging.log_statistics;
        let audits = ctx.extensions.remove::<acl::Audits>().unwrap_or_default();
        if let Some(rejected) = ctx.extensions.remove::<record::Rejected>() {
            let (section, stats) = rejected.build(statistics);
            self.finish_log(ctx, record, section, stats, audits);
            return;
        }
        let Some(mut obs) = ctx.extensions.remove::<Observation>() else {
            if !audits.decisions.is_empty() {
                // Listings filtered on a stream the client opened with GET.
                self.finish_log(ctx, record, Members::default(), McpStats::default(), audits);
            }
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
        self.finish_log(ctx, record, section, stats, audits);
    }
}

impl AiMcpProxy {
    /// Adds audits to the section, writes it into the record and leaves the metric facts.
    fn finish_log(
        &self,
        ctx: &mut Ctx,
        record: &mut Record,
        mut section: Members,
        mut stats: McpStats,
        audits: acl::Audits,
    ) {
        if !audits.records.is_empty() {
            section.serde("audit", &audits.records);
        }
        // At `ai.mcp` of the log record; nothing when it is empty.
        if !section.is_empty() {
            record.add("ai", "mcp", &section.into_object());
        }
        // Tool names come from clients: bound them like every other tool_name label.
        let route = ctx.route.id;
        stats.acl = audits
            .decisions
            .into_iter()
            .map(|(tool, method, action)| (self.names.label(route, &tool), method, action))
            .collect();
        if self.config.logging.log_statistics || !stats.acl.is_empty() {
            ctx.extensions.insert(stats);
        }
    }
}
