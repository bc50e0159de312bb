//! Attachments over HTTP: upload (raw body, per-flotilla size limit) and download.
//!
//! Downloads are served so that an uploaded file can never run as a page of this origin: a
//! sandboxing Content-Security-Policy, `nosniff`, and `attachment` for anything but raster
//! images (SVG included, since it can carry scripts).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::auth::Caller;
use super::dto::File;
use super::error::{ApiError, ErrorBody};
use super::flotillas::parse_id;

/// Where an upload goes.
#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The channel of the post it will be attached to.
    pub channel: String,
    /// The file's name.
    pub name: String,
}

/// Raster image types shown inline; everything else downloads.
const INLINE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/files", tag = "files",
    params(("f" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = File), (status = 413, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 507, body = ErrorBody)))]
/// Uploads a file for a post in `channel`; over the flotilla's limit is a 413, a full disk
/// a 507.
pub async fn post_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<File>), ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let channel = parse_id(&q.channel, "channel")?;
    let ceiling = state.info.max_attachment_bytes;
    let cap = usize::try_from(ceiling).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, cap).await.map_err(|_| {
        ApiError::too_large(format!(
            "the file is over the attachment limit of {}",
            human_size(ceiling)
        ))
    })?;
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let info = state
        .node
        .put_file(
            flotilla,
            channel,
            &caller.username,
            &q.name,
            mime,
            bytes.to_vec(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(info.into())))
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/files/{id}", tag = "files",
    params(("f" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "the file's bytes"), (status = 404, body = ErrorBody)))]
/// Downloads a file.
pub async fn get_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let file = parse_id(&id, "file")?;
    let (info, path) = state.node.file(flotilla, file, &caller.username).await?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| ApiError::not_found("this file's bytes are not on this boat"))?;
    let inline = INLINE_TYPES.contains(&info.mime.as_str());
    let mime = if inline {
        info.mime.as_str()
    } else {
        "application/octet-stream"
    };
    let disposition = content_disposition(&info.name, inline);
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, header_value(mime));
    h.insert(header::CONTENT_DISPOSITION, header_value(&disposition));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(response)
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn content_disposition(name: &str, inline: bool) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `10 MB`, `512 KB`, `900 B`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{} MB", b / 1_000_000),
        b if b >= 1_000 => format!("{} KB", b / 1_000),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_escape_quotes_and_encode_utf8() {
        let d = content_disposition("météo \"GRIB\".grb", false);
        assert!(
            d.starts_with("attachment; filename=\"m_t_o _GRIB_.grb\""),
            "{d}"
        );
        assert!(
            d.ends_with("filename*=UTF-8''m%C3%A9t%C3%A9o%20%22GRIB%22.grb"),
            "{d}"
        );
        assert!(content_disposition("a.png", true).starts_with("inline"));
    }

    #[test]
    fn sizes_read_like_people_say_them() {
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_size(2048), "2 KB");
        assert_eq!(human_size(12), "12 B");
    }
}
