//! `GET /campaigns/{id}/campaigncalls.csv`: every campaigncall of a campaign as a CSV file,
//! newest first, streamed page by page over the store (keyset paging), so that memory stays
//! bounded whatever the campaign's size.
//!
//! Columns: every field of a campaigncall (addresses as `source.type`, `source.target`, ...),
//! then the flow's result flattened: `flow.digits`, `flow.actions` (each action run as
//! `type:result`, in order), for each type of action the campaign runs `result.<type>.result`
//! and `result.<type>.value` (its last run on the call: the digits of `digits_receive`, the
//! value a `branch` tested), and `var.<name>` for each variable the campaign's calls set (at
//! most [`MAX_VARIABLES`]).

use super::auth::Customer;
use super::documents::owned;
use super::error::ApiError;
use super::ApiState;
use crate::domain::{Action, Campaign, Campaigncall};
use crate::store::{resolve_actions, CallFilter, Page, Store};
use actix_web::{web, HttpResponse};
use bytes::Bytes;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;

/// Campaigncalls read per page.
const PAGE: u32 = 100;
/// Most `var.<name>` columns.
pub const MAX_VARIABLES: usize = 64;

/// A campaigncall's own columns, in order; `source` and `destination` are addresses.
const CALL_COLUMNS: &[&str] = &[
    "id",
    "customer_id",
    "campaign_id",
    "outplan_id",
    "outdial_id",
    "outdial_target_id",
    "queue_id",
    "reference_type",
    "reference_id",
    "sip_call_id",
    "status",
    "result",
    "source",
    "destination",
    "destination_index",
    "try_count",
    "disposition",
    "sip_code",
    "reason",
    "hangup_by",
    "setup_ms",
    "talk_ms",
    "agent_id",
    "wait_ms",
    "amd_result",
    "tm_create",
    "tm_update",
    "tm_delete",
];

/// The fields of an address column.
const ADDRESS_FIELDS: &[&str] = &["type", "target", "target_name", "name", "detail"];

/// Registers the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/campaigns/{id}/campaigncalls.csv").route(web::get().to(export)));
}

/// The columns of one export.
struct Columns {
    /// The types of the campaign's actions, each once, in order.
    actions: Vec<String>,
    /// The variables set, by name.
    variables: Vec<String>,
}

impl Columns {
    fn header(&self) -> Vec<String> {
        let mut header = Vec::new();
        for column in CALL_COLUMNS {
            if matches!(*column, "source" | "destination") {
                header.extend(ADDRESS_FIELDS.iter().map(|f| format!("{column}.{f}")));
            } else {
                header.push(column.to_string());
            }
        }
        header.push("flow.digits".into());
        header.push("flow.actions".into());
        for kind in &self.actions {
            header.push(format!("result.{kind}.result"));
            header.push(format!("result.{kind}.value"));
        }
        header.extend(self.variables.iter().map(|v| format!("var.{v}")));
        header
    }

    fn row(&self, call: &Campaigncall) -> Result<Vec<String>, ApiError> {
        let value = serde_json::to_value(call).map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut row = Vec::new();
        for column in CALL_COLUMNS {
            if matches!(*column, "source" | "destination") {
                row.extend(
                    ADDRESS_FIELDS
                        .iter()
                        .map(|f| text(value.get(column).and_then(|a| a.get(f)))),
                );
            } else {
                row.push(text(value.get(column)));
            }
        }
        let flow = call.flow_result.as_ref().unwrap_or(&Value::Null);
        row.push(text(flow.get("digits")));
        let runs = flow
            .get("actions")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        row.push(
            runs.iter()
                .map(|r| format!("{}:{}", text(r.get("type")), text(r.get("result"))))
                .collect::<Vec<_>>()
                .join(" "),
        );
        for kind in &self.actions {
            let last = runs
                .iter()
                .rev()
                .find(|r| r.get("type").and_then(Value::as_str) == Some(kind.as_str()));
            row.push(text(last.and_then(|r| r.get("result"))));
            row.push(text(last.and_then(|r| r.get("value"))));
        }
        for name in &self.variables {
            row.push(text(flow.get("variables").and_then(|v| v.get(name))));
        }
        Ok(row)
    }
}

/// A JSON value as a CSV cell: strings as they are, `null` and absent as empty.
fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Reads the campaign's calls page by page.
struct Pages {
    store: Arc<dyn Store>,
    customer: Uuid,
    filter: CallFilter,
    token: Option<String>,
    done: bool,
}

impl Pages {
    async fn next(&mut self) -> Result<Option<Vec<Campaigncall>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let page = Page {
            size: PAGE,
            token: self.token.take(),
            max_bytes: usize::MAX,
        };
        let listed = self
            .store
            .list_campaigncalls(self.customer, &self.filter, &page)
            .await?;
        self.done = listed.next_page_token.is_empty();
        self.token = Some(listed.next_page_token);
        Ok(Some(listed.result))
    }
}

/// The names of the variables the campaign's calls set (a first pass over them).
async fn variables_set(mut pages: Pages) -> Result<Vec<String>, ApiError> {
    let mut names = BTreeSet::new();
    while let Some(calls) = pages.next().await? {
        for call in calls {
            let vars = call
                .flow_result
                .as_ref()
                .and_then(|f| f.get("variables"))
                .and_then(Value::as_object);
            for name in vars.into_iter().flat_map(|v| v.keys()) {
                if names.len() < MAX_VARIABLES {
                    names.insert(name.clone());
                }
            }
        }
    }
    Ok(names.into_iter().collect())
}

fn csv_bytes(rows: impl IntoIterator<Item = Vec<String>>) -> Result<Bytes, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for row in rows {
        out.write_record(&row)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    out.into_inner()
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

#[utoipa::path(
    get,
    path = "/v1.0/campaigns/{id}/campaigncalls.csv",
    tag = "campaigncalls",
    summary = "A campaign's dial attempts as a CSV file, every field, flow results flattened (adds)",
    params(
        ("id" = Uuid, Path, description = "The campaign's id"),
    ),
    responses(
        (status = 200, description = "The CSV file, streamed", body = String,
            content_type = "text/csv; charset=utf-8"),
        (status = 401, description = "No token, or an unknown one", body = super::error::ErrorBody),
        (status = 404, description = "No such campaign for this customer", body = super::error::ErrorBody),
    )
)]
async fn export(
    state: web::Data<ApiState>,
    Customer(customer): Customer,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let campaign = owned::<Campaign>(&state, customer, *id).await?;
    let pages = || Pages {
        store: state.store.clone(),
        customer,
        filter: CallFilter {
            campaign: Some(campaign.id),
            ..Default::default()
        },
        token: None,
        done: false,
    };
    let actions: Vec<Action> = resolve_actions(state.store.as_ref(), &campaign).await?;
    let mut kinds: Vec<String> = Vec::new();
    for action in &actions {
        if !kinds.contains(&action.kind) {
            kinds.push(action.kind.clone());
        }
    }
    let columns = Columns {
        actions: kinds,
        variables: variables_set(pages()).await?,
    };
    let header = csv_bytes([columns.header()])?;
    let body = futures::stream::try_unfold(
        (pages(), columns, Some(header)),
        |(mut pages, columns, header)| async move {
            if let Some(header) = header {
                return Ok(Some((header, (pages, columns, None))));
            }
            let Some(calls) = pages.next().await? else {
                return Ok(None);
            };
            let rows = calls
                .iter()
                .map(|c| columns.row(c))
                .collect::<Result<Vec<_>, ApiError>>()?;
            let bytes = csv_bytes(rows)?;
            Ok::<_, ApiError>(Some((bytes, (pages, columns, None))))
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"campaign-{}-campaigncalls.csv\"",
                campaign.id
            ),
        ))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flow_results_are_flattened_into_their_columns() {
        let talk = Uuid::from_u128(1);
        let digits = Uuid::from_u128(2);
        let columns = Columns {
            actions: vec!["talk".into(), "digits_receive".into()],
            variables: vec!["voipbin.call.digits".into()],
        };
        let header = columns.header();
        let call: Campaigncall = serde_json::from_value(json!({
            "id": Uuid::from_u128(9), "customer_id": Uuid::nil(), "campaign_id": Uuid::nil(),
            "outplan_id": Uuid::nil(), "outdial_id": Uuid::nil(),
            "outdial_target_id": Uuid::nil(), "queue_id": Uuid::nil(),
            "reference_type": "call", "reference_id": "abc", "status": "done",
            "result": "success",
            "source": {"type": "tel", "target": "+15551230000"},
            "destination": {"type": "tel", "target": "+15551234567", "name": "Ann, B"},
            "destination_index": 0, "try_count": 1, "disposition": "answered",
            "sip_code": 200, "reason": "", "hangup_by": "remote", "setup_ms": 12,
            "talk_ms": 3000,
            "flow_result": {"actions": [
                {"id": talk, "type": "talk", "result": "ok"},
                {"id": digits, "type": "digits_receive", "result": "ok", "value": "1"}],
                "digits": "1", "variables": {"voipbin.call.digits": "1"}},
            "tm_create": "2024-01-01 00:00:00.000000", "tm_update": "", "tm_delete": ""
        }))
        .expect("a campaigncall");
        let row = columns.row(&call).expect("a row");
        assert_eq!(header.len(), row.len());
        let cell = |name: &str| {
            let i = header.iter().position(|h| h == name).expect(name);
            row[i].as_str()
        };
        assert_eq!(cell("destination.target"), "+15551234567");
        assert_eq!(cell("destination.name"), "Ann, B");
        assert_eq!(cell("disposition"), "answered");
        assert_eq!(cell("sip_code"), "200");
        assert_eq!(cell("agent_id"), "");
        assert_eq!(cell("flow.digits"), "1");
        assert_eq!(cell("flow.actions"), "talk:ok digits_receive:ok");
        assert_eq!(cell("result.talk.result"), "ok");
        assert_eq!(cell("result.digits_receive.value"), "1");
        assert_eq!(cell("var.voipbin.call.digits"), "1");
    }
}
