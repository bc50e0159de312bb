//! The crew's web UI: the files of the `flotilla-web` crate, served from memory at `/` and
//! below, with a strict Content-Security-Policy (nothing but this node: no inline scripts,
//! no remote fonts, images or connections).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What the UI may load: its own files, its own API and WebSocket, data: images (for
/// generated avatars), nothing else.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// `GET /`: the UI's entry page.
pub async fn index() -> Response {
    serve("index.html")
}

/// `GET /{*path}`: a UI file, or 404.
pub async fn file(Path(path): Path<String>) -> Response {
    serve(&path)
}

fn serve(path: &str) -> Response {
    let Some(asset) = flotilla_web::asset(path) else {
        return super::error::ApiError::not_found(format!("no such file: {path}")).into_response();
    };
    let cache = if path == "index.html" {
        "no-cache"
    } else {
        // Files are not fingerprinted: revalidate, cheap on a LAN.
        "no-cache"
    };
    let mut response = (StatusCode::OK, asset.bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
