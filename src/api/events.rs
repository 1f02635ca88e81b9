//! `GET /events`: the customer's events as Server-Sent Events (`text/event-stream`).
//!
//! Each event is one SSE message: `id:` its position in the stream, `event:` its type,
//! `data:` the event as JSON (`{"id", "type", "customer_id", "resource_id", "data",
//! "tm_create"}`, `data` being the resource's API representation after the change). Filters:
//! `?type=` (event types, comma-separated), `?resource=` (resource kinds: `campaign`,
//! `campaigncall`, `agent`, `queue`, `trunk`), `?resource_id=`. A client that reconnects
//! with `Last-Event-ID` (or `?last_event_id=`) is first sent what it missed, at most
//! `[events] replay_max` events (the newest of them); without it, the stream starts now.
//!
//! The stream is read from the events table, woken by each commit that records events: a
//! client is only sent what is committed, in commit order, and holds no more than one page
//! in memory; a client more than `replay_max` events behind (one that reads slower than
//! events come) is disconnected, and catches up by reconnecting. An idle stream carries a
//! heartbeat comment every `[events] heartbeat_secs`.

use super::auth::Customer;
use super::error::ApiError;
use super::ApiState;
use crate::domain::event::RESOURCES;
use crate::domain::{Event, EventType};
use crate::store::{EventFilter, Store};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Events read (and sent) at a time.
const PAGE: u32 = 500;

/// Longest `resource_id`.
const MAX_RESOURCE_ID: usize = 128;

/// Registers the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/events").route(web::get().to(stream)));
}

// Strings, so that a bad value gets a message naming its field rather than serde's.
#[derive(Deserialize)]
struct RawQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    resource: Option<String>,
    resource_id: Option<String>,
    last_event_id: Option<String>,
}

/// What a request asks of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    filter: EventFilter,
    last_event_id: Option<i64>,
}

fn names<'a>(field: &str, list: &'a str) -> Result<Vec<&'a str>, ApiError> {
    let names: Vec<&str> = list.split(',').map(str::trim).collect();
    if names.iter().any(|n| n.is_empty()) {
        return Err(ApiError::invalid(field, "an empty name in the list"));
    }
    Ok(names)
}

/// Reads the query and the `Last-Event-ID` header.
fn wanted(query: &str, last_event_header: Option<&str>) -> Result<Wanted, ApiError> {
    let raw = web::Query::<RawQuery>::from_query(query)
        .map_err(|e| ApiError::invalid("query", e))?
        .into_inner();
    let mut types: Vec<EventType> = match raw.kind.as_deref() {
        None => EventType::ALL.to_vec(),
        Some(list) => names("type", list)?
            .into_iter()
            .map(|n| {
                EventType::parse(n).ok_or_else(|| {
                    let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
                    ApiError::invalid(
                        "type",
                        format!("unknown event type {n:?}; one of {}", known.join(", ")),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    if let Some(list) = raw.resource.as_deref() {
        let kinds = names("resource", list)?;
        if let Some(bad) = kinds.iter().find(|k| !RESOURCES.contains(k)) {
            return Err(ApiError::invalid(
                "resource",
                format!("unknown resource {bad:?}; one of {}", RESOURCES.join(", ")),
            ));
        }
        types.retain(|t| kinds.contains(&t.resource()));
        if types.is_empty() {
            return Err(ApiError::invalid(
                "resource",
                "no event type of these resources is among those of `type`",
            ));
        }
    }
    if types.len() == EventType::ALL.len() {
        types.clear();
    }
    let resource_id = match raw.resource_id {
        Some(id) if id.is_empty() || id.len() > MAX_RESOURCE_ID => {
            return Err(ApiError::invalid(
                "resource_id",
                format!("must be 1 to {MAX_RESOURCE_ID} characters"),
            ))
        }
        Some(id) => Some(Uuid::parse_str(&id).map(|u| u.to_string()).unwrap_or(id)),
        None => None,
    };
    let last_event_id = match (last_event_header, raw.last_event_id.as_deref()) {
        (Some(v), _) => Some(("Last-Event-ID", v)),
        (None, Some(v)) => Some(("last_event_id", v)),
        (None, None) => None,
    }
    .map(|(field, v)| {
        v.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::invalid(field, "must be an event id (a whole number)"))
    })
    .transpose()?;
    Ok(Wanted {
        filter: EventFilter { types, resource_id },
        last_event_id,
    })
}

/// Where a stream starts: after the client's last event, but no more than `replay_max`
/// events back from `newest`; now, for a client with no last event.
fn start_after(last: Option<i64>, newest: i64, replay_max: u32) -> i64 {
    match last {
        Some(last) => last.min(newest).max(newest - i64::from(replay_max)),
        None => newest,
    }
}

/// One SSE message.
fn frame(e: &Event, out: &mut String) {
    let json = serde_json::to_string(e).unwrap_or_else(|_| "null".into());
    out.push_str(&format!(
        "id: {}\nevent: {}\ndata: {json}\n\n",
        e.id, e.kind
    ));
}

/// A stream's state between two reads.
struct Feed {
    store: Arc<dyn Store>,
    customer: Uuid,
    filter: EventFilter,
    cursor: i64,
    notices: tokio::sync::watch::Receiver<i64>,
    heartbeat: Duration,
    replay_max: u32,
    opened: bool,
}

impl Feed {
    /// The next bytes to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Result<Bytes, ApiError>> {
        if !self.opened {
            self.opened = true;
            // `retry`: how long a client waits before reconnecting (ms).
            return Some(Ok(Bytes::from_static(b": events\nretry: 2000\n\n")));
        }
        loop {
            let newest = *self.notices.borrow_and_update();
            if newest - self.cursor > i64::from(self.replay_max) {
                tracing::info!(customer = %self.customer, behind = newest - self.cursor, "an event stream's client reads too slowly: disconnected");
                return None;
            }
            let events = match self
                .store
                .events_after(self.customer, self.cursor, &self.filter, PAGE)
                .await
            {
                Ok(events) => events,
                Err(e) => return Some(Err(e.into())),
            };
            if events.len() < PAGE as usize {
                // Every event up to `newest` was committed before the read began: none of
                // them passes the filter beyond what was read.
                self.cursor = self.cursor.max(newest);
            }
            if let Some(last) = events.last() {
                self.cursor = self.cursor.max(last.id);
                let mut out = String::new();
                for e in &events {
                    frame(e, &mut out);
                }
                return Some(Ok(Bytes::from(out)));
            }
            tokio::select! {
                changed = self.notices.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                _ = tokio::time::sleep(self.heartbeat) => {
                    return Some(Ok(Bytes::from_static(b": heartbeat\n\n")));
                }
            }
        }
    }
}

#[utoipa::path(
    get,
    path = "/v1.0/events",
    tag = "events",
    summary = "The customer's events as Server-Sent Events (adds)",
    params(
        ("type" = Option<String>, Query, description = "Event types, comma-separated: campaign_created, campaign_updated, campaign_deleted, campaigncall_created, campaigncall_updated, agent_updated, queue_updated, trunk_updated"),
        ("resource" = Option<String>, Query, description = "Resource kinds, comma-separated: campaign, campaigncall, agent, queue, trunk"),
        ("resource_id" = Option<String>, Query, description = "One resource's events only"),
        ("last_event_id" = Option<u64>, Query, description = "Replay the events after this one (as the Last-Event-ID header), at most [events] replay_max"),
        ("Last-Event-ID" = Option<u64>, Header, description = "Replay the events after this one"),
    ),
    responses(
        (status = 200, description = "An endless stream: one SSE message per event (id, event: its type, data: the Event as JSON)", body = String, content_type = "text/event-stream"),
        super::answers::QueryErrors,
    )
)]
async fn stream(
    req: HttpRequest,
    state: web::Data<ApiState>,
    Customer(customer): Customer,
) -> Result<HttpResponse, ApiError> {
    let header = req
        .headers()
        .get("Last-Event-ID")
        .map(|v| v.to_str().unwrap_or("not text"));
    let wanted = wanted(req.query_string(), header)?;
    let notices = state.store.event_notices();
    let newest = *notices.borrow();
    let feed = Feed {
        store: state.store.clone(),
        customer,
        filter: wanted.filter,
        cursor: start_after(wanted.last_event_id, newest, state.events.replay_max),
        notices,
        heartbeat: state.events.heartbeat(),
        replay_max: state.events.replay_max.max(PAGE),
        opened: false,
    };
    let body = futures::stream::unfold(feed, |mut feed| async move {
        let next = feed.next().await?;
        Some((next, feed))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_name_the_field_they_fail_on() {
        for (query, field) in [
            ("type=campaigncall_exploded", "type"),
            ("type=campaigncall_created,", "type"),
            ("resource=calls", "resource"),
            ("type=agent_updated&resource=campaign", "resource"),
            ("last_event_id=-3", "last_event_id"),
            ("last_event_id=abc", "last_event_id"),
            ("resource_id=", "resource_id"),
        ] {
            let e = wanted(query, None).expect_err(query).to_string();
            assert!(e.starts_with(field), "{query}: {e}");
        }
        let e = wanted("", Some("x")).expect_err("header").to_string();
        assert!(e.starts_with("Last-Event-ID"), "{e}");
    }

    #[test]
    fn a_resource_filter_keeps_that_resource_s_types() {
        let w = wanted("resource=campaigncall&last_event_id=7", None).expect("ok");
        assert_eq!(
            w.filter.types,
            [
                EventType::CampaigncallCreated,
                EventType::CampaigncallUpdated
            ]
        );
        assert_eq!(w.last_event_id, Some(7));
        assert!(wanted("", None).expect("ok").filter.types.is_empty());
    }

    #[test]
    fn a_reconnect_is_replayed_at_most_replay_max_events() {
        assert_eq!(start_after(Some(90), 100, 50), 90);
        assert_eq!(start_after(Some(10), 100, 50), 50);
        assert_eq!(start_after(Some(500), 100, 50), 100);
        assert_eq!(start_after(None, 100, 50), 100);
    }
}
