//! `/agents`, `PUT /agents/{id}/status` and VoIPBIN's one-field `PUT /agents/{id}/<field>`: the
//! people at softphones that queues hand calls to.
//!
//! The `password` is write-only: it is kept as digest HA1 hashes for the configured realm and
//! never answered nor logged. A `username` is the SIP user the softphone registers as, unique
//! on the node (409 when taken, by any customer). The answers carry the agent's live `status`
//! (offline until a softphone registers) and its registered `contacts`.

use super::address::address;
use super::auth::Customer;
use super::documents::owned;
use super::error::{ApiError, FieldError};
use super::fields::{text, Fields, Known, Write, READ_ONLY};
use super::paging::Paging;
use super::ApiState;
use crate::agent::password::hash_password;
use crate::agent::{AgentState, Contact};
use crate::domain::address::Problem;
use crate::domain::agent::PasswordHashes;
use crate::domain::sip_uri::has_control;
use crate::domain::time::{now_string, NEVER};
use crate::domain::{Address, AddressKind, Agent, Availability, RingMethod, Username};
use crate::store::{AgentCounts, Listed};
use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// Most tags an agent or a queue carries.
pub const MAX_TAGS: usize = 64;
/// Most addresses an agent has.
const MAX_ADDRESSES: usize = 16;
/// Longest password, in bytes.
const MAX_PASSWORD: usize = 128;

/// The fields an agent body may carry; `status` and `contacts` are live and read only, as are
/// `total_handled_count` and `total_talk_ms`.
pub(super) const FIELDS: Known = Known {
    writable: &[
        "username",
        "password",
        "name",
        "detail",
        "ring_method",
        "permission",
        "tag_ids",
        "addresses",
    ],
    read_only: &[
        READ_ONLY[0],
        READ_ONLY[1],
        READ_ONLY[2],
        READ_ONLY[3],
        READ_ONLY[4],
        "status",
        "contacts",
        "total_handled_count",
        "total_talk_ms",
    ],
};

/// The body of `PUT /agents/{id}/status`.
pub(super) const STATUS_FIELDS: Known = Known {
    writable: &["status"],
    read_only: &[],
};

/// Registers the routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/agents")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/agents/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    )
    .service(web::resource("/agents/{id}/status").route(web::put().to(put_status)));
    cfg.service(web::resource("/agents/{id}/addresses").route(web::put().to(put_addresses)))
        .service(web::resource("/agents/{id}/tag_ids").route(web::put().to(put_tag_ids)))
        .service(web::resource("/agents/{id}/permission").route(web::put().to(put_permission)))
        .service(web::resource("/agents/{id}/password").route(web::put().to(put_password)));
}

/// An agent as answered: the stored fields without the password's hashes, with the live
/// state and contacts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Agent)]
struct AgentView {
    id: Uuid,
    customer_id: Uuid,
    #[schema(value_type = String)]
    username: Username,
    name: String,
    detail: String,
    ring_method: RingMethod,
    status: AgentState,
    permission: u64,
    tag_ids: Vec<Uuid>,
    addresses: Vec<Address>,
    contacts: Vec<Contact>,
    /// Calls the agent has handled: attempts that ended with the agent who took them.
    total_handled_count: u64,
    /// The time it talked on them, ms: each one's answer to hang-up less its wait for the agent.
    total_talk_ms: u64,
    tm_create: String,
    tm_update: String,
    tm_delete: String,
}

impl AgentView {
    fn new(state: &ApiState, agent: Agent, counts: &HashMap<Uuid, AgentCounts>) -> AgentView {
        let done = counts.get(&agent.id).copied().unwrap_or_default();
        let live = state.live.agents.live(agent.id);
        AgentView {
            id: agent.id,
            customer_id: agent.customer_id,
            username: agent.username,
            name: agent.name,
            detail: agent.detail,
            ring_method: agent.ring_method,
            status: live.state,
            permission: agent.permission,
            tag_ids: agent.tag_ids,
            addresses: agent.addresses,
            contacts: live.contacts,
            total_handled_count: done.handled,
            total_talk_ms: done.talk_ms,
            tm_create: agent.tm_create,
            tm_update: agent.tm_update,
            tm_delete: agent.tm_delete,
        }
    }
}

/// The agents as answered, with their counts of calls handled.
async fn views(state: &ApiState, agents: Vec<Agent>) -> Result<Vec<AgentView>, ApiError> {
    let ids: Vec<Uuid> = agents.iter().map(|a| a.id).collect();
    let handled = state.store.agents_handled(&ids).await?;
    Ok(agents
        .into_iter()
        .map(|a| AgentView::new(state, a, &handled))
        .collect())
}

async fn answer(state: &ApiState, agent: Agent) -> Result<HttpResponse, ApiError> {
    let handled = state.store.agents_handled(&[agent.id]).await?;
    Ok(HttpResponse::Ok().json(AgentView::new(state, agent, &handled)))
}

/// Stores `agent` and answers it. Its counts are read first: a write that took effect is not
/// answered with an error because a read after it failed (a client would retry it).
async fn save_and_answer(state: &ApiState, agent: Agent) -> Result<HttpResponse, ApiError> {
    let handled = state.store.agents_handled(&[agent.id]).await?;
    save(state, &agent).await?;
    Ok(HttpResponse::Ok().json(AgentView::new(state, agent, &handled)))
}

/// A new agent: away until it asks to be available (as in VoIPBIN).
fn new_agent(customer: Uuid) -> Agent {
    Agent {
        id: Uuid::new_v4(),
        customer_id: customer,
        username: Username::default(),
        name: String::new(),
        detail: String::new(),
        ring_method: RingMethod::Ringall,
        status: Availability::Away,
        permission: 0,
        tag_ids: Vec::new(),
        addresses: Vec::new(),
        password_hashes: PasswordHashes::default(),
        tm_create: now_string(),
        tm_update: NEVER.into(),
        tm_delete: NEVER.into(),
    }
}

/// Applies the fields the body carries. A new password, or a new username (which the hashes
/// include), needs `password`.
fn apply(state: &ApiState, agent: &mut Agent, f: &Fields) -> Result<(), ApiError> {
    let region = state.region()?;
    if let Some(v) = f.string("username")? {
        let username = Username::parse(&v).map_err(|e| FieldError::new("username", e))?;
        if username != agent.username && f.raw("password").is_none() {
            return Err(ApiError::invalid(
                "password",
                "required with a new username (the password is kept hashed with it)",
            ));
        }
        agent.username = username;
    }
    if agent.username.as_str().is_empty() {
        return Err(ApiError::invalid("username", "required"));
    }
    if let Some(v) = f.raw("password") {
        let Value::String(password) = v else {
            return Err(ApiError::invalid("password", "must be a string"));
        };
        let password = text("password", password, MAX_PASSWORD)?;
        if password.is_empty() {
            return Err(ApiError::invalid("password", "must not be empty"));
        }
        if has_control(password) {
            return Err(ApiError::invalid("password", Problem::ControlCharacter));
        }
        agent.password_hashes = hash_password(&agent.username, &state.realm, password);
    }
    if agent.password_hashes.ha1_md5.is_empty() {
        return Err(ApiError::invalid("password", "required"));
    }
    if let Some(v) = f.string("name")? {
        agent.name = v;
    }
    if let Some(v) = f.string("detail")? {
        agent.detail = v;
    }
    if let Some(v) = f.parse::<RingMethod>("ring_method")? {
        agent.ring_method = v;
    }
    if let Some(v) = f.int("permission", 0..=i64::MAX, "an integer, 0 or more")? {
        agent.permission = v as u64;
    }
    if let Some(v) = f.uuids("tag_ids", MAX_TAGS)? {
        agent.tag_ids = v;
    }
    if let Some(v) = f.raw("addresses") {
        agent.addresses = addresses(v, region)?;
    }
    Ok(())
}

/// The addresses an agent may be reached at: `tel` and `sip` only.
fn addresses(value: &Value, region: phonenumber::country::Id) -> Result<Vec<Address>, FieldError> {
    let Value::Array(items) = value else {
        return Err(FieldError::new(
            "addresses",
            "must be an array of addresses",
        ));
    };
    if items.len() > MAX_ADDRESSES {
        return Err(FieldError::new(
            "addresses",
            format!("more than {MAX_ADDRESSES} items"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = format!("addresses[{i}]");
            let a = address(&field, item, region)?;
            match a.kind {
                AddressKind::Tel(_) | AddressKind::Sip(_) => Ok(a),
                _ => Err(FieldError::new(
                    format!("{field}.type"),
                    format!(
                        "{} addresses cannot reach an agent; use tel or sip",
                        a.kind.type_name()
                    ),
                )),
            }
        })
        .collect()
}

/// 409 when another live agent has the username.
async fn ensure_username_free(state: &ApiState, agent: &Agent) -> Result<(), ApiError> {
    let taken = state
        .docs()
        .agent_by_username(agent.username.as_str())
        .await?
        .is_some_and(|other| other.id != agent.id);
    if taken {
        return Err(username_taken(agent));
    }
    Ok(())
}

fn username_taken(agent: &Agent) -> ApiError {
    ApiError::Conflict(format!("username: {} is taken", agent.username))
}

/// Stores the agent; the unique index answers a username taken meanwhile with a 409.
/// Stores `agent`, then tells the node (the registrar takes its credential, the board its
/// status).
async fn save(state: &ApiState, agent: &Agent) -> Result<(), ApiError> {
    match state.docs().put(agent).await {
        Err(e) if e.is_duplicate() => return Err(username_taken(agent)),
        Err(e) => return Err(ApiError::from(e)),
        Ok(()) => {}
    }
    state.live.agent_changes.stored(agent);
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v1.0/agents",
    tag = "agents",
    summary = "Create an agent (409 when the username is taken)",
    request_body = super::bodies::AgentInput,
    responses(
        (status = 200, description = "OK", body = AgentView),
        super::answers::ResourceErrors,
        super::answers::Conflict,
    )
)]
async fn create(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(FIELDS, Write::Create)?;
    let mut agent = new_agent(customer);
    apply(&state, &mut agent, &f)?;
    ensure_username_free(&state, &agent).await?;
    save_and_answer(&state, agent).await
}

#[utoipa::path(
    get,
    path = "/v1.0/agents",
    tag = "agents",
    summary = "List agents",
    params(
        super::paging::PageParams,
    ),
    responses(
        (status = 200, description = "OK", body = crate::store::Listed<AgentView>),
        super::answers::ResourceErrors,
    )
)]
async fn list(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    Paging(page): Paging,
) -> Result<HttpResponse, ApiError> {
    let listed = state.docs().list::<Agent>(customer, &page).await?;
    Ok(HttpResponse::Ok().json(Listed {
        result: views(&state, listed.result).await?,
        next_page_token: listed.next_page_token,
    }))
}

#[utoipa::path(
    get,
    path = "/v1.0/agents/{id}",
    tag = "agents",
    summary = "Get an agent",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = AgentView),
        super::answers::ResourceErrors,
    )
)]
async fn get(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let agent = owned::<Agent>(&state, customer, *id).await?;
    answer(&state, agent).await
}

#[utoipa::path(
    put,
    path = "/v1.0/agents/{id}",
    tag = "agents",
    summary = "Update an agent (fields given; 409 when the username is taken)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::AgentInput,
    responses(
        (status = 200, description = "OK", body = AgentView),
        super::answers::ResourceErrors,
        super::answers::Conflict,
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
    let mut agent = owned::<Agent>(&state, customer, *id).await?;
    apply(&state, &mut agent, &f)?;
    ensure_username_free(&state, &agent).await?;
    agent.tm_update = now_string();
    save_and_answer(&state, agent).await
}

/// `PUT /agents/{id}/status` with `{"status": "available" | "away"}`.
#[utoipa::path(
    put,
    path = "/v1.0/agents/{id}/status",
    tag = "agents",
    summary = "Set an agent available or away",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    request_body = super::bodies::AgentStatusRequest,
    responses(
        (status = 200, description = "OK", body = AgentView),
        super::answers::ResourceErrors,
    )
)]
async fn put_status(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(STATUS_FIELDS, Write::Update)?;
    let wanted = match f.require("status")? {
        Value::String(s) if s == "available" => Availability::Available,
        Value::String(s) if s == "away" => Availability::Away,
        _ => {
            return Err(ApiError::invalid(
                "status",
                "must be \"available\" or \"away\"",
            ))
        }
    };
    let mut agent = owned::<Agent>(&state, customer, *id).await?;
    agent.status = wanted;
    agent.tm_update = now_string();
    save_and_answer(&state, agent).await
}

/// `PUT /agents/{id}/<field>`: sets one field; any other is a 400 naming it.
async fn put_field(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
    field: &'static str,
) -> Result<HttpResponse, ApiError> {
    let f = Fields::from_body(body.into_inner())?;
    f.only(
        Known {
            writable: &[field],
            read_only: &[],
        },
        Write::Update,
    )?;
    f.require(field)?;
    let mut agent = owned::<Agent>(&state, customer, *id).await?;
    apply(&state, &mut agent, &f)?;
    agent.tm_update = now_string();
    save_and_answer(&state, agent).await
}

/// The `PUT /agents/{id}/<field>` handlers, each setting its one field through [`put_field`].
macro_rules! put_one_field {
    ($($handler:ident: $field:tt, $body:ident;)*) => {$(
        #[utoipa::path(
            put,
            path = concat!("/v1.0/agents/{id}/", $field),
            tag = "agents",
            summary = concat!("Set an agent's ", $field, " (that field only)"),
            params(
                ("id" = Uuid, Path, description = "The resource's id"),
            ),
            request_body = super::bodies::$body,
            responses(
                (status = 200, description = "OK", body = AgentView),
                super::answers::ResourceErrors,
            )
        )]
        async fn $handler(
            state: web::Data<ApiState>,
            customer: Customer,
            id: web::Path<Uuid>,
            body: web::Json<Value>,
        ) -> Result<HttpResponse, ApiError> {
            put_field(state, customer, id, body, $field).await
        }
    )*};
}

put_one_field! {
    put_addresses: "addresses", AgentAddressesRequest;
    put_tag_ids: "tag_ids", AgentTagIdsRequest;
    put_permission: "permission", AgentPermissionRequest;
    put_password: "password", AgentPasswordRequest;
}

#[utoipa::path(
    delete,
    path = "/v1.0/agents/{id}",
    tag = "agents",
    summary = "Delete an agent (soft; frees its username)",
    params(
        ("id" = Uuid, Path, description = "The resource's id"),
    ),
    responses(
        (status = 200, description = "OK", body = AgentView),
        super::answers::ResourceErrors,
    )
)]
async fn delete(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut agent = owned::<Agent>(&state, customer, *id).await?;
    let now = now_string();
    agent.tm_update.clone_from(&now);
    agent.tm_delete = now;
    save_and_answer(&state, agent).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn region() -> phonenumber::country::Id {
        crate::domain::phone::region("US").expect("a region")
    }

    #[test]
    fn addresses_are_tel_or_sip_and_errors_name_the_item() {
        let ok = addresses(
            &json!([{"type": "tel", "target": "(555) 555-0100"}, "sip:alice@example.com"]),
            region(),
        )
        .expect("valid");
        assert_eq!(ok[0].kind.target(), "+15555550100");
        assert_eq!(ok[1].kind.type_name(), "sip");
        let e = addresses(
            &json!(["+15555550100", {"type": "email", "target": "a@example.com"}]),
            region(),
        )
        .map_err(|e| e.to_string());
        assert_eq!(
            e.err().as_deref(),
            Some("addresses[1].type: email addresses cannot reach an agent; use tel or sip")
        );
        assert!(addresses(&json!("sip:a@b"), region()).is_err());
    }
}
