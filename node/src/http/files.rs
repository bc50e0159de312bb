//! Attachments over HTTP: upload (raw body, per-flotilla size limit), download (`409
//! fetching` while the chunks are on their way), the file list with each file's state on
//! this boat, "fetch now", the weather list and the wind grid of a forecast.
//!
//! Downloads are served so that an uploaded file can never run as a page of this origin: a
//! sandboxing Content-Security-Policy, `nosniff`, and `attachment` for anything but raster
//! images (SVG included, since it can carry scripts).

pub use super::size::human_size;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
// Path and query rejections answered as `{"error","message"}` (see `json`).
use super::json::{ApiPath as Path, ApiQuery as Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

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
        (status = 403, body = ErrorBody),
        (status = 422, description = "a file name that breaks the rules", body = ErrorBody),
        (status = 507, body = ErrorBody)))]
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
    responses((status = 200, description = "the file's bytes"), (status = 404, body = ErrorBody),
        (status = 409, description = "`fetching`: the bytes are on their way", body = ErrorBody)))]
/// Downloads a file.
pub async fn get_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let file = parse_id(&id, "file")?;
    serve_file(&state, &caller, flotilla, file).await
}

/// Answers a file's bytes (as [`get_file`] does), or `409 fetching` while they are on their
/// way (starting the fetch if the policy had left the file on demand).
pub(super) async fn serve_file(
    state: &AppState,
    caller: &Caller,
    flotilla: flotilla_protocol::id::FlotillaId,
    file: flotilla_protocol::id::FileId,
) -> Result<Response, ApiError> {
    let info = state
        .node
        .file_info(flotilla, file, &caller.username)
        .await?;
    if !info.state.available() {
        // "download" of a file the policy left on demand starts its fetch
        let info = state
            .node
            .fetch_file(flotilla, file, &caller.username)
            .await?;
        return Err(ApiError::fetching(format!(
            "{} is on its way to this boat ({:.0} %, from {} boat(s))",
            info.name,
            info.state.progress() * 100.0,
            info.state.sources
        )));
    }
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

/// A GRIB file's preview (angles in degrees, times in ms since the Unix epoch, UTC).
#[derive(Debug, Serialize, ToSchema)]
pub struct Grib {
    /// GRIB edition, 1 or 2.
    pub edition: u8,
    /// The producing centre (`ecmf`, `kwbc`, or its WMO number).
    pub centre: String,
    /// The model run (newest reference time in the file).
    pub reference_time: i64,
    /// Forecast hours after the run.
    pub forecast_hours: Vec<i64>,
    /// The area covered.
    /// `null` where the file has no lat/lon extent (spherical harmonics, polar
    /// stereographic or Lambert projections: `grib_ls` shows no last grid point either).
    pub area: Option<Area>,
    /// Grid step in degrees; `null` where the file gives none (reduced grids,
    /// projections, spherical harmonics: `grib_ls` says MISSING).
    pub resolution: Option<f64>,
    /// `wind`, `gusts`, `pressure`, `waves`, `precipitation`, …
    pub parameters: Vec<String>,
    /// Number of GRIB messages (fields).
    pub messages: u32,
}

/// A bounding box in degrees.
#[derive(Debug, Serialize, ToSchema)]
pub struct Area {
    /// Northmost latitude.
    pub north: f64,
    /// Southmost latitude.
    pub south: f64,
    /// Westmost longitude.
    pub west: f64,
    /// Eastmost longitude.
    pub east: f64,
}

impl From<&crate::files::grib::GribSummary> for Grib {
    fn from(s: &crate::files::grib::GribSummary) -> Self {
        let deg = |u: i64| u as f64 / 1e6;
        Grib {
            edition: s.edition,
            centre: s.centre.clone(),
            reference_time: s.reference_time_ms,
            forecast_hours: s.forecast_hours.clone(),
            area: s.area.map(|a| Area {
                north: deg(a.north_udeg),
                south: deg(a.south_udeg),
                west: deg(a.west_udeg),
                east: deg(a.east_udeg),
            }),
            resolution: s.resolution_udeg.map(deg),
            parameters: s.parameters.clone(),
            messages: s.messages,
        }
    }
}

/// The `grib` and `grib_error` fields of a file.
pub(super) fn grib_fields(state: &crate::files::FileState) -> (Option<Grib>, Option<String>) {
    match state.grib.as_deref() {
        Some(Ok(s)) => (Some(s.into()), None),
        Some(Err(e)) => (None, Some(e.clone())),
        None => (None, None),
    }
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/files", tag = "files",
    params(("f" = String, Path)),
    responses((status = 200, body = Vec<File>), (status = 404, body = ErrorBody)))]
/// Every file of the flotilla the caller may read, with its state on this boat.
pub async fn get_files(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
) -> Result<Json<Vec<File>>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let files = state.node.file_list(flotilla, &caller.username).await?;
    Ok(Json(files.into_iter().map(File::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/files/{id}/fetch", tag = "files",
    params(("f" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = File), (status = 404, body = ErrorBody)))]
/// Fetches a file now, whatever the link's policy ("download").
pub async fn post_fetch(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, id)): Path<(String, String)>,
) -> Result<Json<File>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let file = parse_id(&id, "file")?;
    let info = state
        .node
        .fetch_file(flotilla, file, &caller.username)
        .await?;
    Ok(Json(info.into()))
}

/// One forecast of the weather list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Forecast {
    /// The file (its id, name, state and preview).
    pub file: File,
    /// The area's key: forecasts with the same key cover the same area.
    pub area: String,
    /// The model run, ms since the Unix epoch.
    pub reference_time: i64,
    /// A newer forecast of the same area exists.
    pub superseded: bool,
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/weather", tag = "files",
    params(("f" = String, Path)),
    responses((status = 200, body = Vec<Forecast>), (status = 404, body = ErrorBody)))]
/// The forecasts (GRIB files) on this boat, grouped by area, newest run first; older runs
/// of an area are `superseded`.
pub async fn get_weather(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
) -> Result<Json<Vec<Forecast>>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let list = state.node.weather(flotilla, &caller.username).await?;
    let mut out = Vec::with_capacity(list.len());
    for fc in list {
        let info = state
            .node
            .file_info(flotilla, fc.file, &caller.username)
            .await?;
        out.push(Forecast {
            file: info.into(),
            area: fc.area,
            reference_time: fc.grib.reference_time_ms,
            superseded: fc.superseded,
        });
    }
    Ok(Json(out))
}

/// Which step of the wind picture.
#[derive(Debug, Deserialize, IntoParams)]
pub struct WindQuery {
    /// Forecast hour (the first one if absent or not in the file).
    pub step: Option<i64>,
}

/// A down-sampled 10 m wind field.
#[derive(Debug, Serialize, ToSchema)]
pub struct Wind {
    /// Forecast hours with wind in the file.
    pub steps: Vec<i64>,
    /// The hour drawn.
    pub step: i64,
    /// Row latitudes (degrees).
    pub lats: Vec<f64>,
    /// Column longitudes (degrees).
    pub lons: Vec<f64>,
    /// East component, m/s, row-major.
    pub u: Vec<f32>,
    /// North component, m/s, row-major.
    pub v: Vec<f32>,
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/files/{id}/wind", tag = "files",
    params(("f" = String, Path), ("id" = String, Path), WindQuery),
    responses((status = 200, body = Wind), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
/// The 10 m wind of one forecast step, down-sampled for the wind picture.
pub async fn get_wind(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, id)): Path<(String, String)>,
    Query(q): Query<WindQuery>,
) -> Result<Json<Wind>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let file = parse_id(&id, "file")?;
    let (_, path) = state.node.file(flotilla, file, &caller.username).await?;
    let grid = tokio::task::spawn_blocking(move || {
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        crate::files::grib::wind_grid(&bytes, q.step).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(ApiError::unprocessable)?;
    Ok(Json(Wind {
        steps: grid.steps,
        step: grid.step,
        lats: grid.lats,
        lons: grid.lons,
        u: grid.u,
        v: grid.v,
    }))
}

/// The WebSocket `file` message for `user` (nothing if they may not read the file).
pub(super) async fn file_message(
    state: &AppState,
    user: &str,
    flotilla: flotilla_protocol::id::FlotillaId,
    file: flotilla_protocol::id::FileId,
) -> Option<Value> {
    let info = state.node.file_info(flotilla, file, user).await.ok()?;
    let file = serde_json::to_value(File::from(info)).ok()?;
    Some(json!({"type": "file", "flotilla": flotilla.to_string(), "file": file}))
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
