//! The hold on a `tools/list` answer under an ACL: the response head waits until the answer has
//! been read and filtered (`filter`). A JSON body is read whole (it is sent with its new
//! `Content-Length`); an event stream is read event by event until every `tools/list` of the
//! request is answered, then the rest of the stream flows as it comes.
//!
//! - some tools allowed → the answer with only those, every other byte as the upstream sent it;
//! - tools listed and none allowed → `403` with the JSON-RPC `-32602` error, as for a denied call;
//! - an answer that cannot be read with certainty, or larger than [`MAX_HELD`] → `502` with a
//!   JSON-RPC error naming the cause. Nothing unfiltered ever reaches the client.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use bytes::{Bytes, BytesMut};

use super::acl::{self, Audits, Table};
use super::envelope::{self, RpcId};
use super::filter::{self, Filtered, Scope, Target};
use super::observe::Observation;
use crate::plugins::chain::{BodyRewrite, Rewrite};
use crate::plugins::context::Ctx;

/// The most of a held response kept in memory while waiting for the `tools/list` answer.
pub const MAX_HELD: usize = 4 * 1024 * 1024;

pub struct ListFilter {
    table: Arc<Table>,
    targets: Vec<Target>,
    /// Every listing in the stream, whatever its id, one event at a time (no hold).
    every_listing: bool,
    log_audits: bool,
    form: Form,
    /// Upstream bytes not yet passed on.
    held: BytesMut,
    /// Where to look for the end of the held event block (a line start).
    resume: usize,
    /// Event blocks already read, ready for the client.
    ready: BytesMut,
    decisions: Vec<(String, bool)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Json,
    EventStream,
}

impl ListFilter {
    pub fn new(table: Arc<Table>, targets: Vec<Target>, log_audits: bool, form: Form) -> Self {
        ListFilter {
            table,
            targets,
            every_listing: false,
            log_audits,
            form,
            held: BytesMut::new(),
            resume: 0,
            ready: BytesMut::new(),
            decisions: Vec::new(),
        }
    }

    /// A stream the client did not open with a `tools/list` (the legacy standalone GET stream,
    /// or one resumed with `Last-Event-ID`): an answer replayed there is filtered too, one event
    /// at a time, and nothing allowed is `tools: []` (the head is long gone).
    pub fn every_listing(table: Arc<Table>, log_audits: bool) -> Self {
        let mut filter = ListFilter::new(table, Vec::new(), log_audits, Form::EventStream);
        filter.every_listing = true;
        filter
    }

    fn filter(&mut self, text: &str) -> Filtered {
        let table = Arc::clone(&self.table);
        let decide = |name: &str| table.rule(name).allowed;
        let scope = if self.every_listing {
            Scope::Any
        } else {
            Scope::Targets(&mut self.targets)
        };
        filter::filter_json(text, scope, &decide, &mut self.decisions)
    }

    /// Reads the complete event blocks held so far.
    fn read_events(&mut self) -> Result<(), Filtered> {
        loop {
            match filter::next_block(&self.held, self.resume) {
                Err(resume) => {
                    self.resume = resume;
                    return Ok(());
                }
                Ok(end) => {
                    let block = self.held.split_to(end);
                    self.resume = 0;
                    let data = filter::block_data(&block);
                    match data.map(|d| self.filter(&d)) {
                        None | Some(Filtered::Unchanged) => self.ready.extend_from_slice(&block),
                        Some(Filtered::Rewritten(new)) => self
                            .ready
                            .extend_from_slice(&filter::rewrite_block(&block, &new)),
                        Some(verdict) => return Err(verdict),
                    }
                }
            }
        }
    }

    fn pending(&self) -> bool {
        self.targets.iter().any(|t| !t.answered)
    }

    /// The response to send for a verdict, with the decisions recorded.
    fn settle(&mut self, ctx: &mut Ctx, verdict: Filtered) -> Rewrite {
        self.record(ctx);
        match verdict {
            Filtered::NoneAllowed(id) => {
                let message = match &self.table.subject.consumer {
                    Some(name) => format!("No tool is available for consumer '{name}'"),
                    None => "No tool is available for anonymous consumer".to_string(),
                };
                if let Some(obs) = ctx.extensions.get_mut::<Observation>() {
                    obs.denied.push((id.clone(), message.clone()));
                }
                Rewrite::Replace(acl::forbidden(Some(&id), &message, &ctx.request_id))
            }
            Filtered::Unreadable(id, why) => {
                tracing::warn!(request_id = %ctx.request_id, reason = why, "tools/list answer not filterable");
                let message = format!("The upstream's tools/list answer cannot be filtered: {why}");
                Rewrite::Replace(unfilterable(Some(&id), &message, &ctx.request_id))
            }
            Filtered::Unchanged | Filtered::Rewritten(_) => {
                unreachable!("only refusals are settled")
            }
        }
    }

    fn too_large(&mut self, ctx: &mut Ctx) -> Rewrite {
        self.record(ctx);
        let id = self
            .targets
            .iter()
            .find(|t| !t.answered)
            .map(|t| t.id.clone());
        let message = format!(
            "The upstream's tools/list answer cannot be filtered: it exceeds {MAX_HELD} bytes"
        );
        Rewrite::Replace(unfilterable(id.as_ref(), &message, &ctx.request_id))
    }

    /// Every listed tool was a decision: audit records and metric facts for the log phase.
    fn record(&mut self, ctx: &mut Ctx) {
        if self.decisions.is_empty() {
            return;
        }
        if ctx.extensions.get::<Audits>().is_none() {
            ctx.extensions.insert(Audits::default());
        }
        let Some(audits) = ctx.extensions.get_mut::<Audits>() else {
            return;
        };
        for (name, allowed) in self.decisions.drain(..) {
            if self.log_audits {
                audits
                    .records
                    .push(acl::audit(&self.table.decide(&name), &self.table.subject));
            }
            let action = if allowed { "allow" } else { "deny" };
            audits.decisions.push((name, "tools/list", action));
        }
    }
}

impl BodyRewrite for ListFilter {
    fn holds_head(&self) -> bool {
        !self.every_listing
    }

    fn feed(&mut self, ctx: &mut Ctx, chunk: &Bytes) -> Rewrite {
        if self.held.len() + self.ready.len() + chunk.len() > MAX_HELD {
            return self.too_large(ctx);
        }
        self.held.extend_from_slice(chunk);
        if self.form == Form::Json {
            return Rewrite::Hold;
        }
        if let Err(verdict) = self.read_events() {
            return self.settle(ctx, verdict);
        }
        if self.every_listing {
            self.record(ctx);
            return Rewrite::Pass(self.ready.split().freeze());
        }
        if self.pending() {
            return Rewrite::Hold;
        }
        self.record(ctx);
        let mut out = self.ready.split();
        out.extend_from_slice(&self.held.split());
        Rewrite::Release(out.freeze())
    }

    fn end(&mut self, ctx: &mut Ctx) -> Rewrite {
        if self.form == Form::EventStream {
            // An unterminated last block is never dispatched by a client: it goes out as is.
            self.record(ctx);
            let mut out = self.ready.split();
            out.extend_from_slice(&self.held.split());
            return Rewrite::Release(out.freeze());
        }
        let body = self.held.split().freeze();
        let text = String::from_utf8_lossy(&body);
        match self.filter(&text) {
            Filtered::Unchanged => {
                if self.pending() && !body.is_empty() && !is_json(&text) {
                    let id = self
                        .targets
                        .iter()
                        .find(|t| !t.answered)
                        .map(|t| t.id.clone());
                    return self.settle(
                        ctx,
                        Filtered::Unreadable(
                            id.unwrap_or(RpcId::Null),
                            "the answer is not valid JSON",
                        ),
                    );
                }
                self.record(ctx);
                Rewrite::Release(body)
            }
            Filtered::Rewritten(new) => {
                self.record(ctx);
                Rewrite::Release(Bytes::from(new))
            }
            verdict => self.settle(ctx, verdict),
        }
    }
}

fn is_json(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// `502` with a JSON-RPC internal error: the answer was not relayed because it could not be
/// filtered.
fn unfilterable(id: Option<&RpcId>, message: &str, request_id: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::BAD_GATEWAY)
        .insert_header(("content-type", "application/json"))
        .insert_header(("x-kong-request-id", request_id))
        .body(envelope::error_body(id, envelope::INTERNAL_ERROR, message))
}
