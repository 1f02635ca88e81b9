//! `GET /v1.0/openapi.json`: the hand-written OpenAPI 3 document of the API (no token needed).

use actix_web::{web, HttpResponse};

/// The document, as served.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Registers the route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").route(web::get().to(document)));
}

async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI_JSON)
}

#[cfg(test)]
mod tests {
    use super::OPENAPI_JSON;
    use serde_json::Value;

    #[test]
    fn the_document_is_openapi_3_and_lists_every_route() {
        let doc: Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let routes = [
            ("/outplans", &["post", "get"][..]),
            ("/outplans/{id}", &["get", "put", "delete"]),
            ("/outdials", &["post", "get"]),
            ("/outdials/{id}", &["get", "put", "delete"]),
            ("/outdials/{id}/reset", &["post"]),
            ("/outdials/{id}/targets", &["post", "get"]),
            ("/outdials/{id}/targets/{target_id}", &["get", "delete"]),
            ("/campaigns", &["post", "get"]),
            ("/campaigns/{id}", &["get", "put", "delete"]),
            ("/campaigns/{id}/status", &["put"]),
            ("/campaigns/{id}/service_level", &["put"]),
            ("/campaigns/{id}/actions", &["put"]),
            ("/campaigns/{id}/next_campaign_id", &["put"]),
            ("/campaigns/{id}/stats", &["get"]),
            ("/campaigns/{id}/eligibility", &["get"]),
            ("/campaigns/{id}/campaigncalls", &["get"]),
            ("/campaigncalls", &["get"]),
            ("/campaigncalls/{id}", &["get"]),
            ("/flows", &["post", "get"]),
            ("/flows/{id}", &["get", "put", "delete"]),
            ("/agents", &["post", "get"]),
            ("/agents/{id}", &["get", "put", "delete"]),
            ("/agents/{id}/status", &["put"]),
            ("/agents/{id}/addresses", &["put"]),
            ("/agents/{id}/tag_ids", &["put"]),
            ("/agents/{id}/permission", &["put"]),
            ("/agents/{id}/password", &["put"]),
            ("/queues", &["post", "get"]),
            ("/queues/{id}", &["get", "put", "delete"]),
            ("/queues/{id}/stats", &["get"]),
            ("/dnclists", &["post", "get"]),
            ("/dnclists/{id}", &["get", "put", "delete"]),
            ("/dnclists/{id}/numbers", &["post", "get"]),
            ("/dnclists/{id}/numbers/{number}", &["delete"]),
            ("/recordings", &["get"]),
            ("/recordings/{id}", &["get", "delete"]),
            ("/recordings/{id}/file", &["get"]),
            ("/events", &["get"]),
            ("/webhooks", &["post", "get"]),
            ("/webhooks/{id}", &["get", "put", "delete"]),
            ("/webhooks/{id}/deliveries", &["get"]),
            ("/openapi.json", &["get"]),
        ];
        let paths = doc["paths"].as_object().expect("paths");
        assert_eq!(
            paths.len(),
            routes.len(),
            "{:?}",
            paths.keys().collect::<Vec<_>>()
        );
        for (path, methods) in routes {
            for m in methods {
                assert!(doc["paths"][path][m].is_object(), "{m} {path}");
            }
        }
    }
}
