//! [`ApiJson`]: axum's JSON extractor with its rejections turned into [`ApiError`]s, so a
//! malformed, oversized or non-JSON body gets the same `{"error","message"}` shape as
//! everything else. [`ApiPath`] and [`ApiQuery`] do the same for path segments (not UTF-8
//! once percent-decoded) and query strings (a missing field, a number that is not one),
//! whose axum rejections are plain text. Handlers import them as `Path` and `Query`, the
//! names utoipa's `axum_extras` reads the parameters from.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The largest JSON body accepted (a post is at most 16,383 characters, ~64 KiB of UTF-8).
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// A JSON request body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(from_rejection(&rejection)),
        }
    }
}

fn from_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::too_large(format!("the body is over {MAX_JSON_BODY} bytes"))
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::unsupported_media_type("send JSON with Content-Type: application/json")
        }
        _ => ApiError::bad_request(format!("malformed JSON: {}", rejection.body_text())),
    }
}

/// Path parameters; a rejection is a 400 `bad_request` with axum's reason.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "bad path: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// A query string; a rejection is a 400 `bad_request` with axum's reason.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "bad query string: {}",
                rejection.body_text()
            ))),
        }
    }
}
