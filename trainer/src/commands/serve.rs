//! `shoptrain serve`: the web demo, the browser package and exported models
//! over HTTP, plus `/api/models` from the index. Files come from tower-http's
//! `ServeDir` (content types, ranges, `Last-Modified` and 304s), compressed
//! with gzip or brotli as the client asks, with a weak `ETag` so a reload
//! revalidates instead of downloading the wasm again; `--allow-origin` lets
//! pages of other origins load the module, the wasm and the models.

use crate::registry::{ListFilter, Registry};
use anyhow::{bail, Context, Result};
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, ETAG, IF_NONE_MATCH, LAST_MODIFIED, VARY};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::net::SocketAddr;
use std::path::PathBuf;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// Where, what and to whom to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub host: String,
    pub port: u16,
    /// The web-demo folder (with pkg/ and models/ inside).
    pub root: PathBuf,
    /// Origins whose pages may fetch from this server (`*` for any); none
    /// means same-origin only.
    pub allow_origins: Vec<String>,
}

pub fn run(models_dir: &std::path::Path, args: &ServeOptions) -> Result<()> {
    let root = args
        .root
        .canonicalize()
        .with_context(|| format!("web root {} not found", args.root.display()))?;
    let app = router(root.clone(), models_dir.to_path_buf(), &args.allow_origins)?;
    let addr: SocketAddr = format!("{}:{}", args.host, args.port)
        .parse()
        .with_context(|| format!("--host {:?} is not an IP address", args.host))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        println!("serving {} on http://{addr}/", root.display());
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the server stopped")
    })
}

/// The whole service, separate from the socket so tests can call it.
pub fn router(root: PathBuf, models_dir: PathBuf, allow_origins: &[String]) -> Result<Router> {
    let files = ServeDir::new(root).append_index_html_on_directories(true);
    let app = Router::new()
        .route("/api/models", get(api_models))
        .with_state(models_dir)
        .fallback_service(files)
        .layer(middleware::from_fn(weak_etag))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(head_as_get))
        // revalidate every time: a re-exported model keeps its URL
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));
    Ok(match cors(allow_origins)? {
        Some(layer) => app.layer(layer),
        None => app,
    })
}

fn cors(origins: &[String]) -> Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let mut values = Vec::with_capacity(origins.len());
        for o in origins {
            if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/') {
                bail!("--allow-origin {o:?} is not an origin: give scheme, host and port without a path, e.g. https://shop.example or http://localhost:5173 (or * for any)");
            }
            values.push(HeaderValue::from_str(o).with_context(|| format!("--allow-origin {o:?}"))?);
        }
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::HEAD])
            .expose_headers([ETAG, LAST_MODIFIED]),
    ))
}

async fn api_models(State(models_dir): State<PathBuf>) -> Response {
    let rows = tokio::task::spawn_blocking(move || {
        Registry::open(&models_dir).and_then(|r| r.list(&ListFilter::default()))
    })
    .await;
    match rows {
        Ok(Ok(rows)) => Json(rows).into_response(),
        Ok(Err(e)) => error_json(format!("{e:#}")),
        Err(e) => error_json(format!("listing the models failed: {e}")),
    }
}

fn error_json(message: String) -> Response {
    let body = serde_json::json!({ "error": message });
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

/// A weak validator from the file's size and modification time (what
/// `ServeDir` already reports); weak because compression changes the bytes
/// but not what they mean. A matching `If-None-Match` gets a bodiless 304.
async fn weak_etag(request: Request, next: Next) -> Response {
    let if_none_match = request.headers().get(IF_NONE_MATCH).cloned();
    let mut response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let headers = response.headers();
    let (Some(modified), Some(length)) = (headers.get(LAST_MODIFIED), headers.get(CONTENT_LENGTH))
    else {
        return response;
    };
    let tag = format!(
        "W/\"{}-{:x}\"",
        length.to_str().unwrap_or_default(),
        fnv1a(modified.as_bytes())
    );
    let Ok(tag) = HeaderValue::from_str(&tag) else {
        return response;
    };
    let matches = if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if matches {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        let out = not_modified.headers_mut();
        out.insert(ETAG, tag);
        out.insert(LAST_MODIFIED, modified.clone());
        if let Some(vary) = response.headers().get(VARY) {
            out.insert(VARY, vary.clone());
        }
        return not_modified;
    }
    response.headers_mut().insert(ETAG, tag);
    response
}

/// A `HEAD` gets the headers its `GET` would (`Content-Encoding`, `Vary`,
/// no raw length): the compression layer only encodes `GET`s, so the request
/// runs as one; the server sends no body for a `HEAD`.
async fn head_as_get(mut request: Request, next: Next) -> Response {
    if request.method() != Method::HEAD {
        return next.run(request).await;
    }
    *request.method_mut() = Method::GET;
    next.run(request).await
}

/// FNV-1a: a short stable digest of the `Last-Modified` text for the tag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{to_bytes, Body};
    use axum::http::header::{
        ACCEPT_ENCODING, ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_ENCODING, CONTENT_TYPE, ORIGIN,
    };
    use tower::ServiceExt;

    fn site() -> (tempfile::TempDir, Router) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        // compressible: the same bytes again and again
        std::fs::write(
            dir.path().join("pkg/a.wasm"),
            [0u8, 97, 115, 109].repeat(4096),
        )
        .unwrap();
        std::fs::write(dir.path().join("index.html"), "<!doctype html><p>hi</p>").unwrap();
        let app = router(
            dir.path().to_path_buf(),
            dir.path().join("models"),
            &["http://localhost:5173".into()],
        )
        .unwrap();
        (dir, app)
    }

    async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::builder().uri(uri);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        app.clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn wasm_is_typed_compressed_and_revalidated() {
        let (_dir, app) = site();
        let plain = get(&app, "/pkg/a.wasm", &[]).await;
        assert_eq!(plain.status(), StatusCode::OK);
        assert_eq!(plain.headers()[CONTENT_TYPE], "application/wasm");
        assert_eq!(plain.headers()[CACHE_CONTROL], "no-cache");
        let tag = plain.headers()[ETAG].to_str().unwrap().to_string();
        assert!(tag.starts_with("W/\"16384-"), "{tag}");

        let gz = get(&app, "/pkg/a.wasm", &[("accept-encoding", "gzip")]).await;
        assert_eq!(gz.headers()[CONTENT_ENCODING], "gzip");
        let body = to_bytes(gz.into_body(), usize::MAX).await.unwrap();
        assert!(body.len() < 1000, "gzipped to {} bytes", body.len());
        let br = get(&app, "/pkg/a.wasm", &[(ACCEPT_ENCODING.as_str(), "br")]).await;
        assert_eq!(br.headers()[CONTENT_ENCODING], "br");

        // a HEAD says what the GET would send
        let head = app
            .clone()
            .oneshot(
                Request::builder()
                    .method(Method::HEAD)
                    .uri("/pkg/a.wasm")
                    .header(ACCEPT_ENCODING, "br, gzip")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(head.headers()[CONTENT_ENCODING], "br");
        assert!(head.headers()[VARY]
            .to_str()
            .unwrap()
            .contains("accept-encoding"));
        assert!(head.headers().get(CONTENT_LENGTH).is_none());

        let again = get(&app, "/pkg/a.wasm", &[("if-none-match", &tag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(to_bytes(again.into_body(), usize::MAX)
            .await
            .unwrap()
            .is_empty());
        let stale = get(&app, "/pkg/a.wasm", &[("if-none-match", "W/\"1-0\"")]).await;
        assert_eq!(stale.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn only_the_allowed_origin_may_read_cross_origin() {
        let (_dir, app) = site();
        let allowed = get(
            &app,
            "/pkg/a.wasm",
            &[(ORIGIN.as_str(), "http://localhost:5173")],
        )
        .await;
        assert_eq!(
            allowed.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://localhost:5173"
        );
        let other = get(
            &app,
            "/pkg/a.wasm",
            &[(ORIGIN.as_str(), "https://evil.example")],
        )
        .await;
        assert!(other.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    }

    #[tokio::test]
    async fn traversal_and_missing_files_are_404() {
        let (_dir, app) = site();
        assert_eq!(
            get(&app, "/../etc/passwd", &[]).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&app, "/nope.js", &[]).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(get(&app, "/", &[]).await.status(), StatusCode::OK);
    }

    #[test]
    fn origins_must_be_scheme_host_port() {
        for bad in ["shop.example", "https://shop.example/", "ftp://x"] {
            let e = cors(&[bad.to_string()]).unwrap_err().to_string();
            assert!(e.contains("is not an origin"), "{e}");
        }
        assert!(cors(&["*".into()]).unwrap().is_some());
        assert!(cors(&[]).unwrap().is_none());
    }
}
