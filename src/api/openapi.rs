//! `GET /v1.0/openapi.json`: the OpenAPI 3 document of the API (no token needed), generated
//! from the handlers' `#[utoipa::path]` attributes and the types they answer.

use actix_web::{web, HttpResponse};
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

/// The document: every route of [`super::configure`] (the test below checks both ways).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ringmaster control API",
        version = "1.0",
        description = "VoIPBIN-shaped campaign resources. Authenticate with ?token=<token> or \
                       Authorization: Bearer <token>; every query is scoped to the token's customer."
    ),
    modifiers(&SecuritySchemes, &OperationIds),
    security(("token" = []), ("bearer" = [])),
    paths(
        super::outplans::create,
        super::outplans::list,
        super::outplans::get,
        super::outplans::update,
        super::outplans::delete,
        super::outdials::create,
        super::outdials::list,
        super::outdials::get,
        super::outdials::update,
        super::outdials::delete,
        super::outdials::reset,
        super::targets::create,
        super::targets::list,
        super::targets::get,
        super::targets::delete,
        super::campaigns::create,
        super::campaigns::list,
        super::campaigns::get,
        super::campaigns::update,
        super::campaigns::delete,
        super::campaign_status::put_status,
        super::campaigns::put_service_level,
        super::campaigns::put_actions,
        super::campaigns::put_next_campaign_id,
        super::stats::get,
        super::eligibility::get,
        super::campaigncalls::list,
        super::campaigncalls::get,
        super::campaigncalls::of_campaign,
        super::campaigncall_csv::export,
        super::flows::create,
        super::flows::list,
        super::flows::get,
        super::flows::update,
        super::flows::delete,
        super::agents::create,
        super::agents::list,
        super::agents::get,
        super::agents::update,
        super::agents::delete,
        super::agents::put_status,
        super::agents::put_addresses,
        super::agents::put_tag_ids,
        super::agents::put_permission,
        super::agents::put_password,
        super::queues::create,
        super::queues::list,
        super::queues::get,
        super::queues::update,
        super::queues::delete,
        super::queues::stats,
        super::dnclists::create,
        super::dnclists::list,
        super::dnclists::get,
        super::dnclists::update,
        super::dnclists::delete,
        super::dnclists::add_numbers,
        super::dnclists::list_numbers,
        super::dnclists::delete_number,
        super::recordings::list,
        super::recordings::get,
        super::recordings::delete,
        super::recordings::file,
        super::events::stream,
        super::webhooks::create,
        super::webhooks::list,
        super::webhooks::get,
        super::webhooks::update,
        super::webhooks::delete,
        super::webhooks::deliveries,
        document,
        super::health::get,
        super::metrics::get,
        super::dashboard::root,
        super::dashboard::to_dashboard,
        super::dashboard::index,
        super::dashboard::file,
    )
)]
pub struct ApiDoc;

/// The ways to give a token: `?token=` (as VoIPBIN) or `Authorization: Bearer`; `/metrics`
/// takes the metrics token the same two ways.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let query = || SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("token")));
        let bearer =
            || SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        components.add_security_scheme("token", query());
        components.add_security_scheme("bearer", bearer());
        components.add_security_scheme("metrics_token", query());
        components.add_security_scheme("metrics_bearer", bearer());
    }
}

/// Operation ids from the method and the path (`get_campaigns_id_stats`): the handlers' names
/// (`create`, `get`) repeat from one resource to the next, and the ids must be unique.
struct OperationIds;

impl utoipa::Modify for OperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let slug = path
                .trim_start_matches("/v1.0")
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| s.trim_matches(['{', '}']).replace('.', "_"))
                .collect::<Vec<_>>()
                .join("_");
            // `/` and a folder's page (`/dashboard/`) need names of their own.
            let slug = match (slug.is_empty(), path.len() > 1 && path.ends_with('/')) {
                (true, _) => "root".to_string(),
                (false, true) => format!("{slug}_index"),
                (false, false) => slug,
            };
            for (method, op) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ] {
                if let Some(op) = op {
                    op.operation_id = Some(format!("{method}_{slug}"));
                }
            }
        }
    }
}

/// The document as served, built once.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default())
}

/// Registers the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").route(web::get().to(document)));
}

#[utoipa::path(
    get,
    path = "/v1.0/openapi.json",
    tag = "meta",
    summary = "This document",
    security(()),
    responses(
        (status = 200, description = "OpenAPI 3 document", body = Object),
    )
)]
async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document_json())
}

#[cfg(test)]
mod tests {
    use super::document_json;
    use actix_web::dev::Service;
    use actix_web::http::{Method, StatusCode};
    use actix_web::test::{call_service, init_service, TestRequest};
    use actix_web::App;
    use serde_json::Value;
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    use std::rc::Rc;

    /// The full paths of the resources in a `ResourceMap`'s debug text: each map's pattern
    /// prefixes its nodes' (actix offers no other way to list what an app routes).
    fn resource_paths(debug: &str) -> Vec<String> {
        const MAP: &str = "ResourceMap {";
        const PATTERN: &str = "patterns: Single(\"";
        // (depth of the map's brace, its pattern, whether it has nodes)
        let mut stack: Vec<(usize, String, bool)> = Vec::new();
        let mut leaves = Vec::new();
        let mut depth = 0usize;
        let mut i = 0;
        let bytes = debug.as_bytes();
        while i < bytes.len() {
            let rest = &debug[i..];
            if rest.starts_with(MAP) {
                depth += 1;
                stack.push((depth, String::new(), false));
                i += MAP.len();
            } else if rest.starts_with(PATTERN) {
                let start = i + PATTERN.len();
                let end = start + debug[start..].find('"').expect("closing quote");
                if let Some(top) = stack.last_mut().filter(|t| t.1.is_empty()) {
                    top.1 = debug[start..end].to_string();
                }
                i = end + 1;
            } else if rest.starts_with("nodes: Some(") {
                if let Some(top) = stack.last_mut() {
                    top.2 = true;
                }
                i += 1;
            } else if rest.starts_with('"') {
                // Skip a string literal (patterns hold braces).
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            } else {
                match bytes[i] {
                    b'{' => depth += 1,
                    b'}' => {
                        if stack.last().is_some_and(|t| t.0 == depth) {
                            let (_, pattern, has_nodes) = stack.pop().expect("frame");
                            if !has_nodes {
                                let prefix: String = stack.iter().map(|t| t.1.as_str()).collect();
                                leaves.push(prefix + &pattern);
                            }
                        }
                        depth -= 1;
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        leaves
    }

    /// Every (method, path) the app routes, found by asking each resource each method: a
    /// resource answers 405 for a method it has no route for.
    async fn routed() -> BTreeSet<(String, String)> {
        let seen = Rc::new(RefCell::new(String::new()));
        let probe = seen.clone();
        let app = init_service(
            App::new()
                .wrap_fn(move |req, srv| {
                    *probe.borrow_mut() = format!("{:?}", req.request().resource_map());
                    srv.call(req)
                })
                .configure(crate::api::configure),
        )
        .await;
        call_service(&app, TestRequest::get().uri("/").to_request()).await;
        let debug = seen.borrow().clone();
        let mut routes = BTreeSet::new();
        for path in resource_paths(&debug) {
            let concrete = path
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        "00000000-0000-0000-0000-000000000000"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
                let req = TestRequest::default()
                    .method(Method::from_bytes(method.as_bytes()).expect("method"))
                    .uri(&concrete)
                    .to_request();
                let res = call_service(&app, req).await;
                if res.status() != StatusCode::METHOD_NOT_ALLOWED {
                    routes.insert((method.to_lowercase(), path.clone()));
                }
            }
        }
        routes
    }

    #[actix_web::test]
    async fn the_document_names_exactly_the_routes_the_app_serves() {
        let doc: Value = serde_json::from_str(document_json()).expect("valid JSON");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let mut documented = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                documented.insert((method.clone(), path.clone()));
                ids.insert(op["operationId"].as_str().expect("operationId").to_string());
            }
        }
        assert_eq!(ids.len(), documented.len(), "operation ids repeat: {ids:?}");
        let routed = routed().await;
        assert!(routed.len() > 60, "{routed:?}");
        let missing: Vec<_> = routed.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(
            missing.is_empty(),
            "routes missing from the document: {missing:?}"
        );
        assert!(
            unrouted.is_empty(),
            "documented but not routed: {unrouted:?}"
        );
    }

    /// The request schemas of `bodies.rs` against the fields the handlers take.
    #[test]
    fn request_schemas_name_the_fields_the_handlers_take() {
        use crate::api::{agents, campaign_fields, dnclists, fields::Known};
        use crate::api::{flows, outdials, outplans, queues, target_rows, webhooks};
        let doc: Value = serde_json::from_str(document_json()).expect("valid JSON");
        let properties = |schema: &str| -> BTreeSet<String> {
            doc["components"]["schemas"][schema]["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{schema} has properties"))
                .keys()
                .cloned()
                .collect()
        };
        let bodies: [(&str, Known); 11] = [
            ("OutplanInput", outplans::FIELDS),
            ("OutdialInput", outdials::FIELDS),
            ("TargetInput", target_rows::TARGET_FIELDS),
            ("CampaignInput", campaign_fields::CREATE),
            ("CampaignUpdate", campaign_fields::UPDATE),
            ("FlowInput", flows::FIELDS),
            ("AgentInput", agents::FIELDS),
            ("AgentStatusRequest", agents::STATUS_FIELDS),
            ("QueueInput", queues::FIELDS),
            ("DnclistInput", dnclists::FIELDS),
            ("WebhookInput", webhooks::FIELDS),
        ];
        for (schema, known) in bodies {
            let taken: BTreeSet<String> = known.writable.iter().map(|f| f.to_string()).collect();
            assert_eq!(properties(schema), taken, "{schema}");
        }
    }
}
