//! Per-tool access control for `tools/call`. Subjects are the authenticated consumer's
//! `consumer_identifier` attribute, plus its group names with `include_consumer_groups`. A
//! tool's own `acl` replaces `default_acl` (scope `tools`); deny wins over allow; an `allow` list
//! that names no subject denies; no ACL allows. Decisions are made on the parsed body, never on
//! mirrored headers.

use foldhash::{HashMap, HashMapExt as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Value};
use uuid::Uuid;

use super::envelope::{self, RpcId};
use super::schema::{AclScope, AiMcpProxyConfig, ConsumerIdentifier};
use crate::config::model::{Consumer, ConsumerGroup};
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
        Subject::new(ctx.consumer.as_deref(), &ctx.groups, config)
    }

    pub fn new(
        consumer: Option<&Consumer>,
        groups: &[Arc<ConsumerGroup>],
        config: &AiMcpProxyConfig,
    ) -> Subject {
        let (value, identifier) = match config.consumer_identifier {
            ConsumerIdentifier::Username => (consumer.and_then(|c| c.username.clone()), "username"),
            ConsumerIdentifier::CustomId => {
                (consumer.and_then(|c| c.custom_id.clone()), "custom_id")
            }
            ConsumerIdentifier::ConsumerId => (consumer.map(|c| c.id.to_string()), "consumer_id"),
        };
        let groups = if config.include_consumer_groups {
            groups.iter().map(|g| g.name.clone()).collect()
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

/// What the ACL says about one subject for a tool, whatever the tool's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub allowed: bool,
    pub scope: &'static str,
    pub named: Option<(&'static str, String)>,
}

impl Rule {
    pub fn decision(&self, tool: &str) -> Decision {
        Decision {
            tool: tool.into(),
            allowed: self.allowed,
            scope: self.scope,
            named: self.named.clone(),
        }
    }
}

fn default_rule(config: &AiMcpProxyConfig, subject: &Subject) -> Rule {
    match config
        .default_acl
        .iter()
        .find(|d| d.scope == AclScope::Tools)
    {
        Some(d) => rule(d.allow.as_deref(), &d.deny, "default", subject),
        None => rule(None, &[], "none", subject),
    }
}

/// Deny before allow; an `allow` list that names none of the subjects denies.
fn rule(allow: Option<&[String]>, deny: &[String], scope: &'static str, subject: &Subject) -> Rule {
    let named = |m: Matched<'_>| match m {
        Matched::Consumer(c) => ("consumer", c.to_string()),
        Matched::Group(g) => ("consumer group", g.to_string()),
    };
    let fallback = || subject.consumer.clone().map(|c| ("consumer", c));
    let (allowed, named) = if let Some(m) = subject.matches(deny) {
        (false, Some(named(m)))
    } else {
        match allow.map(|list| subject.matches(list)) {
            Some(Some(m)) => (true, Some(named(m))),
            Some(None) => (false, fallback()),
            None => (true, fallback()),
        }
    };
    Rule {
        allowed,
        scope,
        named,
    }
}

/// Every decision for one subject under one plugin configuration: the rule of each tool that
/// has its own ACL, and the default rule for every other name. Keys are the exact tool names
/// and the table belongs to one subject, so no two (subject, tool) pairs can share an entry.
pub struct Table {
    pub subject: Subject,
    own: HashMap<String, Rule>,
    default: Rule,
}

impl Table {
    pub fn build(config: &AiMcpProxyConfig, subject: Subject) -> Table {
        let mut own = HashMap::new();
        for tool in &config.tools {
            if let (Some(name), Some(acl)) = (&tool.name, &tool.acl) {
                // The first entry of a name decides, as `decide` does.
                own.entry(name.clone()).or_insert_with(|| {
                    rule(acl.allow.as_deref(), &acl.deny, "primitive", &subject)
                });
            }
        }
        let default = default_rule(config, &subject);
        Table {
            subject,
            own,
            default,
        }
    }

    pub fn rule(&self, tool: &str) -> &Rule {
        self.own.get(tool).unwrap_or(&self.default)
    }

    pub fn decide(&self, tool: &str) -> Decision {
        self.rule(tool).decision(tool)
    }
}

/// The decision tables of one plugin configuration, one per consumer (and one for requests
/// without a consumer), each computed on first use. A reload builds a new plugin and with it a
/// new cache, so a changed ACL, consumer or group membership is never answered from an old
/// table. Lookups take no lock: the consumer slots are fixed when the plugin is built.
pub struct Cache {
    slots: HashMap<Uuid, OnceLock<Arc<Table>>>,
    anonymous: OnceLock<Arc<Table>>,
    builds: AtomicU64,
}

impl Cache {
    pub fn new(consumers: impl IntoIterator<Item = Uuid>) -> Cache {
        Cache {
            slots: consumers
                .into_iter()
                .map(|id| (id, OnceLock::new()))
                .collect(),
            anonymous: OnceLock::new(),
            builds: AtomicU64::new(0),
        }
    }

    /// The table of the request's subject.
    pub fn table(&self, ctx: &Ctx, config: &AiMcpProxyConfig) -> Arc<Table> {
        self.table_for(ctx.consumer.as_deref(), &ctx.groups, config)
    }

    /// The table of a consumer (with its groups), or of requests without one.
    pub fn table_for(
        &self,
        consumer: Option<&Consumer>,
        groups: &[Arc<ConsumerGroup>],
        config: &AiMcpProxyConfig,
    ) -> Arc<Table> {
        let build = || {
            self.builds.fetch_add(1, Ordering::Relaxed);
            Arc::new(Table::build(config, Subject::new(consumer, groups, config)))
        };
        let slot = match consumer {
            None => Some(&self.anonymous),
            Some(consumer) => self.slots.get(&consumer.id),
        };
        match slot {
            Some(slot) => slot.get_or_init(build).clone(),
            // A consumer this configuration does not know: decided, not kept.
            None => build(),
        }
    }

    /// How many tables were computed (each is computed once per subject).
    pub fn builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }
}

/// The 403 a denied `tools/call` gets: Bearer `insufficient_scope` and a JSON-RPC -32602.
pub fn denied(decision: &Decision, id: Option<&RpcId>, request_id: &str) -> HttpResponse {
    let who = match &decision.named {
        Some((kind, name)) => format!("{kind} '{name}'"),
        None => "anonymous consumer".to_string(),
    };
    let message = format!("Tool '{}' is not available for {who}", decision.tool);
    forbidden(id, &message, request_id)
}

/// `403` with Bearer `insufficient_scope` and a JSON-RPC `-32602` carrying `message`.
pub fn forbidden(id: Option<&RpcId>, message: &str, request_id: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::FORBIDDEN)
        .insert_header(("www-authenticate", "Bearer error=\"insufficient_scope\""))
        .insert_header(("content-type", "application/json"))
        .insert_header(("x-kong-request-id", request_id))
        .body(envelope::error_body(id, envelope::INVALID_PARAMS, message))
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
    /// (tool, method, action) per decision, for `kong_ai_mcp_acl_total`.
    pub decisions: Vec<(String, &'static str, &'static str)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> AiMcpProxyConfig {
        let value: Value = serde_norway::from_str(yaml).unwrap();
        serde_json::from_value(value).unwrap()
    }

    fn consumer(name: &str) -> Consumer {
        Consumer {
            id: Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes()),
            username: Some(name.into()),
            custom_id: None,
            tags: Vec::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn group(name: &str) -> Arc<ConsumerGroup> {
        Arc::new(ConsumerGroup {
            id: Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes()),
            name: name.into(),
            consumers: Vec::new(),
            tags: Vec::new(),
            created_at: 0,
            updated_at: 0,
        })
    }

    const ACLS: &str = r#"
mode: passthrough-listener
include_consumer_groups: true
default_acl: [{scope: tools, allow: [developer], deny: [suspended]}]
tools:
  - {name: "b|c", description: x, acl: {allow: ["a"]}}
  - {name: "c", description: x, acl: {allow: ["a|b"], deny: [developer]}}
  - {name: "c", description: later entries of a name do not count, acl: {allow: [developer]}}
"#;

    #[test]
    fn each_subject_table_is_computed_once() {
        let config = config(ACLS);
        let (a, ab) = (consumer("a"), consumer("a|b"));
        let cache = Cache::new([a.id, ab.id]);
        let first = cache.table_for(Some(&a), &[], &config);
        let again = cache.table_for(Some(&a), &[], &config);
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(cache.builds(), 1);
        cache.table_for(Some(&ab), &[], &config);
        cache.table_for(None, &[], &config);
        cache.table_for(None, &[], &config);
        assert_eq!(cache.builds(), 3, "a, a|b and the anonymous subject");
        // A consumer the configuration does not know is decided every time, never kept.
        let stranger = consumer("stranger");
        cache.table_for(Some(&stranger), &[], &config);
        cache.table_for(Some(&stranger), &[], &config);
        assert_eq!(cache.builds(), 5);
    }

    #[test]
    fn subjects_and_tool_names_never_share_an_entry() {
        let config = config(ACLS);
        let (a, ab) = (consumer("a"), consumer("a|b"));
        let cache = Cache::new([a.id, ab.id]);
        // ("a", "b|c") and ("a|b", "c") would collide under a joined "subject|tool" key.
        assert!(cache.table_for(Some(&a), &[], &config).rule("b|c").allowed);
        assert!(!cache.table_for(Some(&a), &[], &config).rule("c").allowed);
        assert!(cache.table_for(Some(&ab), &[], &config).rule("c").allowed);
        assert!(!cache.table_for(Some(&ab), &[], &config).rule("b|c").allowed);
    }

    #[test]
    fn rules_follow_the_documented_order() {
        let config = config(ACLS);
        let dev = consumer("dev");
        let table = Table::build(
            &config,
            Subject::new(Some(&dev), &[group("developer")], &config),
        );
        let own = table.rule("c");
        assert_eq!(
            (own.allowed, own.scope, own.named.clone()),
            (
                false,
                "primitive",
                Some(("consumer group", "developer".into()))
            ),
            "deny wins, and the first entry of a name decides"
        );
        let default = table.rule("anything");
        assert_eq!((default.allowed, default.scope), (true, "default"));
        let both = Table::build(
            &config,
            Subject::new(
                Some(&dev),
                &[group("developer"), group("suspended")],
                &config,
            ),
        );
        assert!(!both.rule("anything").allowed, "deny before allow");
        let anonymous = Table::build(&config, Subject::new(None, &[], &config));
        assert!(
            !anonymous.rule("anything").allowed,
            "an allow list needs a subject"
        );
        let no_acl = self::config("mode: passthrough-listener\n");
        let open = Table::build(&no_acl, Subject::new(None, &[], &no_acl));
        assert_eq!(
            (open.rule("x").allowed, open.rule("x").scope),
            (true, "none")
        );
    }
}
