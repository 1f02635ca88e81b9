//! The web dashboard: one page, its style sheet and its script (ES modules), embedded in the
//! binary and served at `/dashboard/` (`/` redirects there). The page signs in with an API token and
//! speaks the REST API under `/v1.0` and its event stream; nothing here reads the store.
//!
//! Every answer carries a Content-Security-Policy that allows this origin only (no inline
//! script or style, no other host), and an `ETag` with `Cache-Control: no-cache`, so that a
//! browser revalidates and a new binary's files are picked up at once.

use super::error::ApiError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::OnceLock;

/// The page's Content-Security-Policy: this origin only, no inline code, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    /// Its name under `/dashboard/` (`""`: the page itself).
    name: &'static str,
    body: &'static [u8],
    content_type: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file of the dashboard: the page, its style sheet and its script's modules.
const ASSETS: [Asset; 9] = [
    asset("", include_bytes!("dashboard/index.html"), HTML),
    asset("app.css", include_bytes!("dashboard/app.css"), CSS),
    asset("app.js", include_bytes!("dashboard/app.js"), JS),
    asset("api.js", include_bytes!("dashboard/api.js"), JS),
    asset("dom.js", include_bytes!("dashboard/dom.js"), JS),
    asset("stream.js", include_bytes!("dashboard/stream.js"), JS),
    asset("campaigns.js", include_bytes!("dashboard/campaigns.js"), JS),
    asset("create.js", include_bytes!("dashboard/create.js"), JS),
    asset("board.js", include_bytes!("dashboard/board.js"), JS),
];

const fn asset(name: &'static str, body: &'static [u8], content_type: &'static str) -> Asset {
    Asset {
        name,
        body,
        content_type,
    }
}

/// Registers the routes (at the root, beside `/v1.0`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(root)))
        .service(web::resource("/dashboard").route(web::get().to(to_dashboard)))
        .service(web::resource("/dashboard/").route(web::get().to(index)))
        .service(web::resource("/dashboard/{file}").route(web::get().to(file)));
}

#[utoipa::path(
    get,
    path = "/",
    tag = "dashboard",
    summary = "The root leads to the dashboard",
    security(()),
    responses((status = 302, description = "`Location: /dashboard/`")),
)]
async fn root() -> HttpResponse {
    to_dashboard().await
}

#[utoipa::path(
    get,
    path = "/dashboard",
    tag = "dashboard",
    summary = "Leads to the dashboard's page",
    security(()),
    responses((status = 302, description = "`Location: /dashboard/`")),
)]
async fn to_dashboard() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/dashboard/"))
        .finish()
}

#[utoipa::path(
    get,
    path = "/dashboard/",
    tag = "dashboard",
    summary = "The dashboard's page (no token needed to load it; it asks for one)",
    security(()),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    ),
)]
async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, 0)
}

#[utoipa::path(
    get,
    path = "/dashboard/{file}",
    tag = "dashboard",
    summary = "One of the dashboard's style sheet and script modules",
    security(()),
    params(("file" = String, Path, description = "A file name, such as `app.js` or `app.css`")),
    responses(
        (status = 200, description = "The file (text/css or text/javascript)", body = String),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 404, description = "No such file", body = super::error::ErrorBody),
    ),
)]
async fn file(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let found = ASSETS
        .iter()
        .position(|a| !a.name.is_empty() && a.name == name.as_str())
        .ok_or_else(|| ApiError::NotFound("no such endpoint".into()))?;
    Ok(serve(&req, found))
}

/// The entity tags of the files, worked out once.
fn etags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| ASSETS.iter().map(|a| etag(a.body)).collect())
}

/// A strong entity tag for `body`: its FNV-1a hash.
fn etag(body: &[u8]) -> String {
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

/// Answers file `which` of [`ASSETS`] (304 when the browser holds this version), with the
/// security headers.
fn serve(req: &HttpRequest, which: usize) -> HttpResponse {
    let asset = &ASSETS[which];
    let tag = &etags()[which];
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut answer = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, tag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    if fresh {
        return answer.finish();
    }
    answer
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .body(asset.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{http::StatusCode, test as actix_test, App};

    /// The value of header `name` of `res`.
    fn value(res: &actix_web::dev::ServiceResponse, name: header::HeaderName) -> String {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    #[actix_web::test]
    async fn the_page_and_its_files_come_with_their_types_and_a_strict_policy() {
        let app = actix_test::init_service(App::new().configure(routes)).await;
        for (path, content_type) in ASSETS
            .iter()
            .map(|a| (format!("/dashboard/{}", a.name), a.content_type))
        {
            let path = path.as_str();
            let res = actix_test::call_service(
                &app,
                actix_test::TestRequest::get().uri(path).to_request(),
            )
            .await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(value(&res, header::CONTENT_TYPE), content_type, "{path}");
            assert_eq!(
                value(&res, header::CONTENT_SECURITY_POLICY),
                CONTENT_SECURITY_POLICY
            );
            assert_eq!(value(&res, header::CACHE_CONTROL), "no-cache");
            assert_eq!(value(&res, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            let tag = value(&res, header::ETAG);
            let again = actix_test::call_service(
                &app,
                actix_test::TestRequest::get()
                    .uri(path)
                    .insert_header((header::IF_NONE_MATCH, tag.as_str()))
                    .to_request(),
            )
            .await;
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        }
        let res = actix_test::call_service(
            &app,
            actix_test::TestRequest::get()
                .uri("/dashboard/nothing.js")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        for path in ["/", "/dashboard"] {
            let res = actix_test::call_service(
                &app,
                actix_test::TestRequest::get().uri(path).to_request(),
            )
            .await;
            assert_eq!(res.status(), StatusCode::FOUND);
            assert_eq!(value(&res, header::LOCATION), "/dashboard/");
        }
    }

    #[test]
    fn the_page_loads_nothing_inline_and_nothing_from_elsewhere() {
        let page = std::str::from_utf8(ASSETS[0].body).expect("utf-8");
        assert!(!page.contains("<style"), "inline style");
        assert!(!page.contains(" style="), "inline style attribute");
        assert!(!page.contains("<script>"), "inline script");
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "another host"
        );
        for a in ASSETS.iter().filter(|a| a.content_type == JS) {
            let script = std::str::from_utf8(a.body).expect("utf-8");
            assert!(
                !script.contains("innerHTML"),
                "{}: markup built from strings",
                a.name
            );
            assert!(!script.contains("eval("), "{}: eval", a.name);
            for import in script.lines().filter_map(|l| l.split(" from './").nth(1)) {
                let name = import.trim_end_matches("';");
                assert!(
                    ASSETS.iter().any(|b| b.name == name),
                    "{} imports {name}, which is not served",
                    a.name
                );
            }
        }
    }
}
