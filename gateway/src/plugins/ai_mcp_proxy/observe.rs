//! Per-request observation: the JSON-RPC messages the client sent, and what the upstream
//! answered to each, found in a JSON body or in SSE events as they stream past. Nothing here
//! changes a byte that is relayed; it only watches.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use serde_json::value::RawValue;

use super::envelope::{self, Envelope, RpcId};
use super::sse::{SseEvent, SseParser};

/// A JSON response body is copied for inspection up to this size; past it only its size is
/// known (the relay itself is never limited).
pub const MAX_INSPECTED_BODY: usize = 4 * 1024 * 1024;
/// An SSE event larger than this is relayed but not inspected.
pub const MAX_INSPECTED_EVENT: usize = 4 * 1024 * 1024;

/// One JSON-RPC message the client sent, and what became of it.
#[derive(Debug)]
pub struct Call {
    pub method: String,
    pub id: Option<RpcId>,
    pub tool_name: Option<String>,
    /// The message's own bytes (for `log_payloads`).
    pub request: Bytes,
    pub answer: Option<Answer>,
}

/// The upstream's answer to one call.
#[derive(Debug, Clone)]
pub struct Answer {
    pub at: Instant,
    pub size: usize,
    pub error: Option<(i64, String)>,
    pub tool_error: bool,
    pub payload: Option<String>,
    /// Tool names, when this answered a `tools/list`.
    pub tools: Option<Vec<String>>,
}

/// How the response body is being followed.
pub enum Follow {
    /// Not (yet) a response worth parsing: non-2xx, 202, other content types.
    Raw,
    Json {
        buf: BytesMut,
        overflow: bool,
    },
    Sse {
        parser: Box<SseParser>,
        events: u64,
        first_event: Option<Instant>,
    },
}

/// Everything the plugin learns about one request, kept in the request context.
pub struct Observation {
    pub calls: Vec<Call>,
    /// Answers the ACL replaced with a refusal: (call id, the refusal's message).
    pub denied: Vec<(RpcId, String)>,
    pub session_id: Option<String>,
    pub follow: Follow,
    pub keep_payloads: bool,
    scratch: Vec<SseEvent>,
}

impl Observation {
    pub fn new(calls: Vec<Call>, keep_payloads: bool) -> Self {
        Observation {
            calls,
            denied: Vec::new(),
            session_id: None,
            follow: Follow::Raw,
            keep_payloads,
            scratch: Vec::new(),
        }
    }

    /// Chooses how to follow the body from the response head.
    pub fn start_response(&mut self, status: u16, content_type: Option<&str>) {
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        self.follow = if !(200..300).contains(&status) || status == 202 {
            Follow::Raw
        } else if ct.starts_with("text/event-stream") {
            Follow::Sse {
                parser: Box::new(SseParser::new(MAX_INSPECTED_EVENT)),
                events: 0,
                first_event: None,
            }
        } else if ct.starts_with("application/json") || ct.contains("+json") {
            Follow::Json {
                buf: BytesMut::new(),
                overflow: false,
            }
        } else {
            Follow::Raw
        };
    }

    pub fn chunk(&mut self, chunk: &[u8]) {
        match &mut self.follow {
            Follow::Raw => {}
            Follow::Json { buf, overflow } => {
                if buf.len() + chunk.len() > MAX_INSPECTED_BODY {
                    *overflow = true;
                    buf.clear();
                } else if !*overflow {
                    buf.extend_from_slice(chunk);
                }
            }
            Follow::Sse {
                parser,
                events,
                first_event,
            } => {
                parser.feed(chunk, &mut self.scratch);
                if !self.scratch.is_empty() && first_event.is_none() {
                    *first_event = Some(Instant::now());
                }
                *events += self.scratch.len() as u64;
                let taken = std::mem::take(&mut self.scratch);
                for event in &taken {
                    self.answer(event.data.as_bytes(), Instant::now());
                }
                self.scratch = taken;
                self.scratch.clear();
            }
        }
    }

    /// The response ended: a JSON body is inspected now.
    pub fn finish(&mut self) {
        if let Follow::Json {
            buf,
            overflow: false,
        } = &mut self.follow
        {
            let body = buf.split().freeze();
            self.answer(&body, Instant::now());
        }
    }

    /// Matches the JSON-RPC responses in `body` (one message or a batch) to the calls.
    fn answer(&mut self, body: &[u8], at: Instant) {
        let trimmed = body.trim_ascii_start();
        if trimmed.first() == Some(&b'[') {
            // Each element of a batch is an answer of its own, with its own bytes.
            if let Ok(items) = serde_json::from_slice::<Vec<&RawValue>>(trimmed) {
                for item in items {
                    self.answer_message(item.get().as_bytes(), at);
                }
                return;
            }
        }
        self.answer_message(body, at);
    }

    /// Matches the responses in one message (or a batch the split above did not read).
    fn answer_message(&mut self, message: &[u8], at: Instant) {
        let info = envelope::inspect_response(message);
        for m in info.messages {
            if !m.is_response {
                continue;
            }
            let Some(id) = m.id else { continue };
            let Some(call) = self
                .calls
                .iter_mut()
                .find(|c| c.answer.is_none() && c.id.as_ref() == Some(&id))
            else {
                continue;
            };
            let tools = (call.method == "tools/list").then(|| tool_names(message));
            call.answer = Some(Answer {
                at,
                size: message.len(),
                error: m.error,
                tool_error: m.is_error_result,
                payload: self
                    .keep_payloads
                    .then(|| String::from_utf8_lossy(message).into_owned()),
                tools: tools.flatten(),
            });
        }
    }

    pub fn events(&self) -> Option<(u64, Option<Instant>)> {
        match &self.follow {
            Follow::Sse {
                events,
                first_event,
                ..
            } => Some((*events, *first_event)),
            _ => None,
        }
    }
}

/// `result.tools[].name` of a `tools/list` answer.
fn tool_names(message: &[u8]) -> Option<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Msg {
        result: Res,
    }
    #[derive(serde::Deserialize)]
    struct Res {
        tools: Vec<Named>,
    }
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }
    let msg: Msg = serde_json::from_slice(message).ok()?;
    Some(msg.result.tools.into_iter().map(|t| t.name).collect())
}

/// The calls of an envelope list (requests and notifications; client responses are not calls).
pub fn calls_from(envelopes: Vec<(Envelope, Bytes)>) -> Vec<Call> {
    envelopes
        .into_iter()
        .filter_map(|(env, raw)| {
            let method = env.method?;
            Some(Call {
                method,
                id: env.id,
                tool_name: env.tool_name,
                request: raw,
                answer: None,
            })
        })
        .collect()
}
