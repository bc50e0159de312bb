//! [`ApiJson`]: axum's JSON extractor with its rejections turned into [`ApiError`]s, so a
//! malformed, oversized or non-JSON body gets the same `{"error","message"}` shape as
//! everything else.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
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
