//! The error answers the API's extractors give, added to the OpenAPI description of every
//! operation they apply to ([`document`]), so the description says what the handlers really
//! answer without repeating the same four lines on every `#[utoipa::path]`:
//!
//! - `400 bad_request`: an operation with path or query parameters ([`super::json::ApiPath`],
//!   [`super::json::ApiQuery`] reject what does not parse) or a JSON body
//!   ([`super::json::ApiJson`]: malformed JSON, a missing or mistyped field).
//! - `401 unauthorized`: every operation but the [`PUBLIC`] ones (the [`super::auth::Caller`]
//!   extractor: no session, an unknown or revoked token).
//! - `404 not_found`: an operation with path parameters: each names a flotilla, channel,
//!   post, file, user, node or token, and one that is not on this boat is a 404.
//! - `413 too_large`, `415 unsupported_media_type`: an operation with a JSON body (over
//!   [`super::json::MAX_JSON_BODY`]; not `application/json`). A file upload's body is not
//!   JSON and documents its own 413.
//!
//! What an operation already documents for one of these statuses is kept (its own words).
//! `405 method_not_allowed` is no operation's: it answers a method the description does not
//! list for a path (the router's fallback).

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// Operations anyone may call: `(method, path)` as the description spells them. Every other
/// operation takes a [`super::auth::Caller`] (a unit test checks both ways).
pub const PUBLIC: &[(&str, &str)] = &[
    ("get", "/api/v1/status"),
    ("get", "/api/v1/setup"),
    ("post", "/api/v1/setup"),
    ("post", "/api/v1/login"),
    ("get", "/api/v1/emoji"),
];

/// The JSON media type.
const JSON: &str = "application/json";

/// Adds the shared error answers to every operation of `spec` where they apply.
pub fn document(spec: &mut OpenApi) {
    for (path, item) in &mut spec.paths.paths {
        let path_params = item.parameters.as_ref().is_some_and(|p| !p.is_empty());
        for (method, op) in operations_mut(item) {
            let json_body = op
                .request_body
                .as_ref()
                .is_some_and(|b| b.content.contains_key(JSON));
            let in_path = path_params
                || op.parameters.as_ref().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| matches!(p.parameter_in, ParameterIn::Path))
                });
            let params = in_path || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            if params || json_body {
                add(
                    op,
                    "400",
                    "`bad_request`: a path segment, query parameter or JSON body that does not \
                     parse or misses a field",
                );
            }
            if !PUBLIC.contains(&(method, path.as_str())) {
                add(
                    op,
                    "401",
                    "`unauthorized`: no session cookie or bearer token, or one that ended",
                );
            }
            if in_path {
                add(
                    op,
                    "404",
                    "`not_found`: no such flotilla, channel, post, file, user, node or token \
                     on this boat",
                );
            }
            if json_body {
                add(op, "413", "`too_large`: a body over 64 KiB");
                add(
                    op,
                    "415",
                    "`unsupported_media_type`: a body without `Content-Type: application/json`",
                );
            }
        }
    }
}

/// The operations of a path, with their method's lowercase name.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_mut().map(|op| (method, op)))
}

/// Documents `status` with an `ErrorBody`, unless the operation already does.
fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            let mut response = Response::new(description);
            response.content.insert(
                JSON.to_owned(),
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            );
            RefOr::T(response)
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_public_operation_exists() {
        let spec = super::super::openapi();
        for (method, path) in PUBLIC {
            let item = spec.paths.paths.get(*path);
            assert!(item.is_some(), "{path} is described");
            let mut item = item.cloned().unwrap_or_default();
            assert!(
                operations_mut(&mut item).any(|(m, _)| m == *method),
                "{method} {path} is described"
            );
        }
    }
}
