//! The web dashboard: one page, its script and its style sheet, embedded in the binary and
//! served at `/dashboard/` (`/` redirects there). The page signs in with an API token and
//! speaks the REST API under `/v1.0` and its event stream; nothing here reads the store.
//!
//! Every answer carries a Content-Security-Policy that allows this origin only (no inline
//! script or style, no other host), and an `ETag` with `Cache-Control: no-cache`, so that a
//! browser revalidates and a new binary's files are picked up at once.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::OnceLock;

/// The page's Content-Security-Policy: this origin only, no inline code, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    body: &'static [u8],
    content_type: &'static str,
}

const INDEX: Asset = Asset {
    body: include_bytes!("dashboard/index.html"),
    content_type: "text/html; charset=utf-8",
};
const SCRIPT: Asset = Asset {
    body: include_bytes!("dashboard/app.js"),
    content_type: "text/javascript; charset=utf-8",
};
const STYLE: Asset = Asset {
    body: include_bytes!("dashboard/app.css"),
    content_type: "text/css; charset=utf-8",
};

/// Registers the routes (at the root, beside `/v1.0`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(to_dashboard)))
        .service(web::resource("/dashboard").route(web::get().to(to_dashboard)))
        .service(web::resource("/dashboard/").route(web::get().to(index)))
        .service(web::resource("/dashboard/app.js").route(web::get().to(script)))
        .service(web::resource("/dashboard/app.css").route(web::get().to(style)));
}

async fn to_dashboard() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/dashboard/"))
        .finish()
}

async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, &INDEX, 0)
}

async fn script(req: HttpRequest) -> HttpResponse {
    serve(&req, &SCRIPT, 1)
}

async fn style(req: HttpRequest) -> HttpResponse {
    serve(&req, &STYLE, 2)
}

/// The entity tags of the three files, worked out once.
fn etags() -> &'static [String; 3] {
    static TAGS: OnceLock<[String; 3]> = OnceLock::new();
    TAGS.get_or_init(|| [etag(INDEX.body), etag(SCRIPT.body), etag(STYLE.body)])
}

/// A strong entity tag for `body`: its FNV-1a hash.
fn etag(body: &[u8]) -> String {
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

/// Answers `asset` (304 when the browser holds this version), with the security headers.
fn serve(req: &HttpRequest, asset: &Asset, which: usize) -> HttpResponse {
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
        for (path, content_type) in [
            ("/dashboard/", "text/html; charset=utf-8"),
            ("/dashboard/app.js", "text/javascript; charset=utf-8"),
            ("/dashboard/app.css", "text/css; charset=utf-8"),
        ] {
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
        let page = std::str::from_utf8(INDEX.body).expect("utf-8");
        assert!(!page.contains("<style"), "inline style");
        assert!(!page.contains(" style="), "inline style attribute");
        assert!(!page.contains("<script>"), "inline script");
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "another host"
        );
        let script = std::str::from_utf8(SCRIPT.body).expect("utf-8");
        assert!(!script.contains("innerHTML"), "markup built from strings");
        assert!(!script.contains("eval("), "eval");
    }
}
