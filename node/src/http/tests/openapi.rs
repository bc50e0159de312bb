//! The router against its own OpenAPI description: a method a path does not take is a 405 in
//! the error shape, and the shared error answers the description lists (`openapi_errors`)
//! are what the extractors really answer.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use super::harness::{Api, request};
use crate::http::openapi_errors::PUBLIC;

#[tokio::test]
async fn a_wrong_method_answers_405_in_the_error_shape() {
    let api = Api::start().await;
    let session = api.setup("skipper").await;
    for (method, uri, allowed) in [
        (Method::POST, "/api/v1/status", "GET"),
        (Method::DELETE, "/api/v1/me", "GET"),
        (Method::PATCH, "/api/v1/flotillas/00/channels", "POST"),
        (Method::PUT, "/api/v1/openapi.json", "GET"),
        (Method::POST, "/js/main.js", "GET"),
    ] {
        let a = api.call(method.clone(), uri, Some(&session), None).await;
        a.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        let allow = a.headers.get(header::ALLOW).and_then(|v| v.to_str().ok());
        assert!(
            allow.is_some_and(|v| v.contains(allowed)),
            "{method} {uri}: Allow {allow:?}"
        );
    }
    // A method the path takes is still served.
    let a = api
        .call(Method::GET, "/api/v1/me", Some(&session), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
}

/// Every operation of the description: method, path with `x` for each parameter, whether it
/// takes a JSON body, the statuses it documents.
fn operations() -> Vec<(Method, String, bool, Vec<String>)> {
    let spec = serde_json::to_value(crate::http::openapi()).unwrap();
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(m) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            if op.get("responses").is_none() {
                continue;
            }
            let uri = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let json_body = op["requestBody"]["content"]
                .get("application/json")
                .is_some();
            let statuses = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            out.push((m, uri, json_body, statuses));
        }
    }
    assert!(out.len() > 50, "{} operations", out.len());
    out
}

#[tokio::test]
async fn the_documented_401_and_415_are_what_the_extractors_answer() {
    let api = Api::start().await;
    let session = api.setup("skipper").await;
    for (method, uri, json_body, statuses) in operations() {
        let public = PUBLIC
            .iter()
            .any(|(m, p)| m.eq_ignore_ascii_case(method.as_str()) && path_matches(p, &uri));
        // Anonymous: 401 exactly where it is documented as the caller's doing.
        let body = json_body.then(|| json!({}));
        let a = api.call(method.clone(), &uri, None, body).await;
        if public {
            assert_ne!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{method} {uri} is public"
            );
        } else {
            a.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
            assert!(
                statuses.contains(&"401".into()),
                "{method} {uri}: {statuses:?}"
            );
        }
        // A JSON body sent as text: 415, documented.
        if json_body {
            let mut req: Request<Body> = request(method.clone(), &uri, Some(&session), None);
            *req.body_mut() = Body::from("{}");
            req.headers_mut()
                .insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
            let a = api.send(req).await;
            assert_eq!(
                a.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{method} {uri}: {:?}",
                a.json
            );
            assert_eq!(a.json["error"], Value::from("unsupported_media_type"));
            assert!(
                statuses.contains(&"415".into()),
                "{method} {uri}: {statuses:?}"
            );
            assert!(
                statuses.contains(&"400".into()),
                "{method} {uri}: {statuses:?}"
            );
        }
    }
}

fn path_matches(pattern: &str, uri: &str) -> bool {
    let (p, u): (Vec<_>, Vec<_>) = (pattern.split('/').collect(), uri.split('/').collect());
    p.len() == u.len() && p.iter().zip(&u).all(|(p, u)| p.starts_with('{') || p == u)
}
