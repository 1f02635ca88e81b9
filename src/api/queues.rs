//! `/queues`: where answered calls wait for an agent and how the agent is chosen. The answers
//! carry the calls waiting and being served now (`wait_queuecall_ids`,
//! `service_queuecall_ids`) from the node's live board, and the counters the queue keeps in
//! the store; `/queues/{id}/stats` adds waits and the service level. Every queue stored is
//! told to the board, whose copy the queue's next join follows.

use super::agents::MAX_TAGS;
use super::auth::Customer;
use super::documents::{ensure_unused, owned, referenced, save, Stamped};
use super::error::ApiError;
use super::fields::{Fields, Known, Write, READ_ONLY};
use super::paging::{Paging, MAX_PAGE_SIZE};
use super::ApiState;
use crate::domain::time::{now_string, NEVER};
use crate::domain::{Flow, Queue, RoutingMethod};
use crate::flow;
use crate::queue::queue_stats;
use crate::store::{Listed, Page};
use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// Longest wait or service timeout: a day, in ms.
const MAX_TIMEOUT: i64 = 86_400_000;
/// Longest ring time: five minutes, in ms.
const MAX_RING_TIMEOUT: i64 = 300_000;
/// Longest wrap-up time: an hour, in ms.
const MAX_WRAP_UP: i64 = 3_600_000;

/// The fields a queue body may carry; the counters and the live call lists are read only.
pub(super) const FIELDS: Known = Known {
    writable: &[
        "name",
        "detail",
        "routing_method",
        "tag_ids",
        "wait_flow_id",
        "wait_actions",
        "wait_timeout",
        "service_timeout",
        "timeout_wait",
        "timeout_service",
        "wrap_up_time",
        "ring_timeout",
        "service_level_time",
        "wait_announce_position",
    ],
    read_only: &[
        READ_ONLY[0],
        READ_ONLY[1],
        READ_ONLY[2],
        READ_ONLY[3],
        READ_ONLY[4],
        "total_incoming_count",
        "total_serviced_count",
        "total_abandoned_count",
        "wait_queuecall_ids",
        "service_queuecall_ids",
    ],
};

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/queues")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/queues/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    )
    .service(web::resource("/queues/{id}/stats").route(web::get().to(stats)));
}

/// A queue as answered: the stored fields and the calls it holds now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct QueueView {
    #[serde(flatten)]
    queue: Queue,
    wait_queuecall_ids: Vec<Uuid>,
    service_queuecall_ids: Vec<Uuid>,
}

impl QueueView {
    /// The view of `queue`, its counters read from the store.
    async fn new(state: &ApiState, mut queue: Queue) -> Result<QueueView, ApiError> {
        let counts = state.store.queue_counts(queue.id).await?;
        queue.total_incoming_count = counts.incoming;
        queue.total_serviced_count = counts.serviced;
        queue.total_abandoned_count = counts.abandoned;
        let live = state.live.queues.live(queue.id);
        Ok(QueueView {
            queue,
            wait_queuecall_ids: live.waiting,
            service_queuecall_ids: live.serving,
        })
    }
}

async fn answer(state: &ApiState, queue: Queue) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(QueueView::new(state, queue).await?))
}

/// Stores `queue` and tells the board, whose copy the queue's next join follows.
async fn store(state: &ApiState, queue: &Queue) -> Result<(), ApiError> {
    save(state, queue).await?;
    state.live.queues.stored(queue);
    Ok(())
}

/// A new queue: random routing, no tags, no wait limits.
fn new_queue(customer: Uuid) -> Queue {
    Queue {
        id: Uuid::new_v4(),
        customer_id: customer,
        name: String::new(),
        detail: String::new(),
        routing_method: RoutingMethod::Random,
        tag_ids: Vec::new(),
        wait_flow_id: Uuid::nil(),
        wait_actions: Vec::new(),
        wait_timeout: 0,
        service_timeout: 0,
        wrap_up_time: 0,
        ring_timeout: 0,
        service_level_time: 0,
        wait_announce_position: false,
        total_incoming_count: 0,
        total_serviced_count: 0,
        total_abandoned_count: 0,
        tm_create: now_string(),
        tm_update: NEVER.into(),
        tm_delete: NEVER.into(),
    }
}

/// Applies the fields the body carries.
async fn apply(state: &ApiState, queue: &mut Queue, f: &Fields) -> Result<(), ApiError> {
    if let Some(v) = f.string("name")? {
        queue.name = v;
    }
    if let Some(v) = f.string("detail")? {
        queue.detail = v;
    }
    if let Some(v) = f.raw("routing_method") {
        queue.routing_method = v.as_str().and_then(RoutingMethod::parse).ok_or_else(|| {
            let methods: Vec<&str> = RoutingMethod::ALL.iter().map(|m| m.as_str()).collect();
            ApiError::invalid(
                "routing_method",
                format!(
                    "{v} is not a routing method; use one of {}",
                    methods.join(", ")
                ),
            )
        })?;
    }
    if let Some(v) = f.uuids("tag_ids", MAX_TAGS)? {
        queue.tag_ids = v;
    }
    if let Some(v) = f.raw("wait_actions") {
        queue.wait_actions = flow::parse_actions("wait_actions", v)?;
    }
    if let Some(id) = f.uuid("wait_flow_id")? {
        if !id.is_nil() {
            referenced::<Flow>(state, queue.customer_id, "wait_flow_id", id).await?;
        }
        queue.wait_flow_id = id;
    }
    if !queue.wait_flow_id.is_nil() && !queue.wait_actions.is_empty() {
        let field = if f.raw("wait_actions").is_some() {
            "wait_actions"
        } else {
            "wait_flow_id"
        };
        return Err(ApiError::invalid(
            field,
            "a queue has wait_flow_id or wait_actions, not both",
        ));
    }
    // VoIPBIN's create body names the timeouts `timeout_wait` and `timeout_service`; its
    // answers, `wait_timeout` and `service_timeout`. Either is taken, not both.
    let ms = format!("a number of ms between 0 (no limit) and {MAX_TIMEOUT}");
    for (name, alias, slot) in [
        ("wait_timeout", "timeout_wait", &mut queue.wait_timeout),
        (
            "service_timeout",
            "timeout_service",
            &mut queue.service_timeout,
        ),
    ] {
        if f.raw(name).is_some() && f.raw(alias).is_some() {
            return Err(ApiError::invalid(
                alias,
                format!("the same as {name}: give one of them"),
            ));
        }
        for field in [name, alias] {
            if let Some(v) = f.int(field, 0..=MAX_TIMEOUT, &ms)? {
                *slot = v as u64;
            }
        }
    }
    if let Some(v) = f.int(
        "wrap_up_time",
        0..=MAX_WRAP_UP,
        &format!("a number of ms between 0 and {MAX_WRAP_UP}"),
    )? {
        queue.wrap_up_time = v as u64;
    }
    if let Some(v) = f.int(
        "ring_timeout",
        0..=MAX_RING_TIMEOUT,
        &format!("a number of ms between 0 (the default, 15 s) and {MAX_RING_TIMEOUT}"),
    )? {
        queue.ring_timeout = v as u64;
    }
    if let Some(v) = f.int(
        "service_level_time",
        0..=MAX_TIMEOUT,
        &format!("a number of ms between 0 (the default, 20 s) and {MAX_TIMEOUT}"),
    )? {
        queue.service_level_time = v as u64;
    }
    if let Some(v) = f.raw("wait_announce_position") {
        queue.wait_announce_position = v
            .as_bool()
            .ok_or_else(|| ApiError::invalid("wait_announce_position", "true or false"))?;
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v1.0/queues",
    tag = "queues",
    summary = "Create a queue",
    request_body = super::bodies::QueueInput,
    responses(
        (status = 200, description = "OK", body = QueueView),
        super::answers::ResourceErrors,
    )
)]
async fn create(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(FIELDS, Write::Create)?;
    let mut queue = new_queue(customer);
    apply(&state, &mut queue, &f).await?;
    store(&state, &queue).await?;
    answer(&state, queue).await
}

#[utoipa::path(
    get,
    path = "/v1.0/queues",
    tag = "queues",
    summary = "List queues",
    params(
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<QueueView>),
        super::answers::ResourceErrors,
    )
)]
async fn list(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    Paging(page): Paging,
) -> Result<HttpResponse, ApiError> {
    let listed = state.docs().list::<Queue>(customer, &page).await?;
    let mut result = Vec::with_capacity(listed.result.len());
    for q in listed.result {
        result.push(QueueView::new(&state, q).await?);
    }
    Ok(HttpResponse::Ok().json(Listed {
        result,
        next_page_token: listed.next_page_token,
    }))
}

#[utoipa::path(
    get,
    path = "/v1.0/queues/{id}",
    tag = "queues",
    summary = "Get a queue",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = QueueView),
        super::answers::ResourceErrors,
    )
)]
async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let queue = owned::<Queue>(&state, customer, *id).await?;
    answer(&state, queue).await
}

/// `GET /queues/{id}/stats`: waiting and served now, the longest wait so far, the average
/// wait, the service level and the counters.
#[utoipa::path(
    get,
    path = "/v1.0/queues/{id}/stats",
    tag = "queues",
    summary = "A queue's figures: calls waiting and served now, longest and average wait, service level, counters",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "the figures", body = crate::queue::QueueStats),
        (status = 404, description = "no such queue of the customer"),
    )
)]
async fn stats(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let queue = owned::<Queue>(&state, customer, *id).await?;
    let counts = state.store.queue_counts(queue.id).await?;
    let live = state.live.queues.live(queue.id);
    let longest = live.oldest_join.map(|at| at.elapsed()).unwrap_or_default();
    Ok(HttpResponse::Ok().json(queue_stats(
        counts,
        live.waiting.len(),
        live.serving.len(),
        longest,
        queue.service_level(),
    )))
}

#[utoipa::path(
    put,
    path = "/v1.0/queues/{id}",
    tag = "queues",
    summary = "Update a queue (fields given)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::QueueInput,
    responses(
        (status = 200, description = "OK", body = QueueView),
        super::answers::ResourceErrors,
    )
)]
async fn update(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(FIELDS, Write::Update)?;
    let mut queue = owned::<Queue>(&state, customer, *id).await?;
    apply(&state, &mut queue, &f).await?;
    queue.tm_update = now_string();
    store(&state, &queue).await?;
    answer(&state, queue).await
}

/// Pages of queues read at most when looking for one that uses a flow.
const MAX_QUEUE_PAGES: usize = 1_000;

/// 409 when one of the customer's queues plays the flow to its waiting calls.
pub async fn ensure_no_queue_waits_with(
    state: &ApiState,
    customer: Uuid,
    flow: Uuid,
) -> Result<(), ApiError> {
    let mut page = Page {
        size: MAX_PAGE_SIZE,
        token: None,
        max_bytes: usize::MAX,
    };
    for _ in 0..MAX_QUEUE_PAGES {
        let listed = state.docs().list::<Queue>(customer, &page).await?;
        if let Some(q) = listed.result.iter().find(|q| q.wait_flow_id == flow) {
            return Err(ApiError::Conflict(format!(
                "flow is the wait flow of queue {}: change the queue's wait_flow_id first",
                q.id
            )));
        }
        if listed.next_page_token.is_empty() {
            break;
        }
        page.token = Some(listed.next_page_token);
    }
    Ok(())
}

/// A queue a running or stopping campaign uses cannot be deleted (409).
#[utoipa::path(
    delete,
    path = "/v1.0/queues/{id}",
    tag = "queues",
    summary = "Delete a queue (soft; 409 while a running campaign uses it)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = QueueView),
        super::answers::ResourceErrors,
        super::answers::Conflict,
    )
)]
async fn delete(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut queue = owned::<Queue>(&state, customer, *id).await?;
    ensure_unused(&state, customer, "queue", |c| c.queue_id == queue.id).await?;
    queue.mark_deleted(&now_string());
    store(&state, &queue).await?;
    answer(&state, queue).await
}
