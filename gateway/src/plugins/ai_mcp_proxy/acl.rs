//! Per-tool access control for `tools/call`. Subjects are the authenticated consumer's
//! `consumer_identifier` attribute, plus its group names with `include_consumer_groups`. A
//! tool's own `acl` replaces `default_acl` (scope `tools`); deny wins over allow; an `allow` list
//! that names no subject denies; no ACL allows. Decisions are made on the parsed body, never on
//! mirrored headers.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Value};

use super::envelope::{self, RpcId};
use super::schema::{AclScope, AiMcpProxyConfig, ConsumerIdentifier};
use crate::plugins::context::Ctx;

/// Who is asking: the subject names an ACL entry may use.
pub struct Subject {
    /// The consumer's identifier value, per `consumer_identifier`.
    pub consumer: Option<String>,
    pub groups: Vec<String>,
    pub consumer_id: Option<String>,
    pub identifier: &'static str,
}

impl Subject {
    pub fn of(ctx: &Ctx, config: &AiMcpProxyConfig) -> Subject {
        let consumer = ctx.consumer.as_ref();
        let (value, identifier) = match config.consumer_identifier {
            ConsumerIdentifier::Username => (consumer.and_then(|c| c.username.clone()), "username"),
            ConsumerIdentifier::CustomId => {
                (consumer.and_then(|c| c.custom_id.clone()), "custom_id")
            }
            ConsumerIdentifier::ConsumerId => (consumer.map(|c| c.id.to_string()), "consumer_id"),
        };
        let groups = if config.include_consumer_groups {
            ctx.groups.iter().map(|g| g.name.clone()).collect()
        } else {
            Vec::new()
        };
        Subject {
            consumer: value,
            groups,
            consumer_id: consumer.map(|c| c.id.to_string()),
            identifier,
        }
    }

    /// The first subject name in `list`: the consumer, then its groups.
    fn matches<'a>(&'a self, list: &[String]) -> Option<Matched<'a>> {
        if let Some(c) = self
            .consumer
            .as_deref()
            .filter(|c| list.iter().any(|e| e == c))
        {
            return Some(Matched::Consumer(c));
        }
        self.groups
            .iter()
            .find(|g| list.contains(g))
            .map(|g| Matched::Group(g))
    }
}

enum Matched<'a> {
    Consumer(&'a str),
    Group(&'a str),
}

/// One ACL decision, for the response, the audit record and the metric.
pub struct Decision {
    pub tool: String,
    pub allowed: bool,
    /// `primitive` when the tool's own ACL decided, `default` for `default_acl`, `none`.
    pub scope: &'static str,
    /// The subject the decision names: (kind, name) — `consumer`/`consumer group`.
    pub named: Option<(&'static str, String)>,
}

pub fn decide(config: &AiMcpProxyConfig, subject: &Subject, tool: &str) -> Decision {
    let own = config
        .tools
        .iter()
        .find(|t| t.name.as_deref() == Some(tool))
        .and_then(|t| t.acl.as_ref());
    let (allow, deny, scope) = match own {
        Some(acl) => (acl.allow.as_deref(), acl.deny.as_slice(), "primitive"),
        None => match config
            .default_acl
            .iter()
            .find(|d| d.scope == AclScope::Tools)
        {
            Some(d) => (d.allow.as_deref(), d.deny.as_slice(), "default"),
            None => (None, &[][..], "none"),
        },
    };
    let named = |m: Matched<'_>| match m {
        Matched::Consumer(c) => ("consumer", c.to_string()),
        Matched::Group(g) => ("consumer group", g.to_string()),
    };
    let fallback = || subject.consumer.clone().map(|c| ("consumer", c));
    if let Some(m) = subject.matches(deny) {
        return Decision {
            tool: tool.into(),
            allowed: false,
            scope,
            named: Some(named(m)),
        };
    }
    match allow {
        Some(list) => match subject.matches(list) {
            Some(m) => Decision {
                tool: tool.into(),
                allowed: true,
                scope,
                named: Some(named(m)),
            },
            None => Decision {
                tool: tool.into(),
                allowed: false,
                scope,
                named: fallback(),
            },
        },
        None => Decision {
            tool: tool.into(),
            allowed: true,
            scope,
            named: fallback(),
        },
    }
}

/// The 403 a denied `tools/call` gets: Bearer `insufficient_scope` and a JSON-RPC -32602.
pub fn denied(decision: &Decision, id: Option<&RpcId>, request_id: &str) -> HttpResponse {
    let who = match &decision.named {
        Some((kind, name)) => format!("{kind} '{name}'"),
        None => "anonymous consumer".to_string(),
    };
    let message = format!("Tool '{}' is not available for {who}", decision.tool);
    HttpResponse::build(StatusCode::FORBIDDEN)
        .insert_header(("www-authenticate", "Bearer error=\"insufficient_scope\""))
        .insert_header(("content-type", "application/json"))
        .insert_header(("x-kong-request-id", request_id))
        .body(envelope::error_body(id, envelope::INVALID_PARAMS, &message))
}

/// The audit record of one decision.
pub fn audit(decision: &Decision, subject: &Subject) -> Value {
    let (name, identifier) = match &decision.named {
        Some(("consumer group", g)) => (Value::from(g.as_str()), "consumer_group"),
        Some((_, c)) => (Value::from(c.as_str()), subject.identifier),
        None => (Value::Null, subject.identifier),
    };
    json!({
        "primitive_name": decision.tool,
        "primitive": "tool",
        "action": if decision.allowed { "allow" } else { "deny" },
        "scope": decision.scope,
        "consumer": { "id": subject.consumer_id, "name": name, "identifier": identifier },
    })
}

/// Audits collected during access, for the log phase.
#[derive(Default)]
pub struct Audits {
    pub records: Vec<Value>,
    /// (tool, action) per decision, for `kong_ai_mcp_acl_total`.
    pub decisions: Vec<(String, &'static str)>,
}
