//! Profiles over HTTP: fields set, kept and cleared; a picture uploaded, resized and read
//! back by another member; bad pictures refused with 413/415/422; nobody sets another's
//! profile.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use super::harness::{Answer, Api, Session, request};
use crate::picture::{self, sample_png};

struct Deck {
    api: Api,
    skipper: Session,
    deckhand: Session,
    flotilla: String,
}

impl Deck {
    async fn new() -> Deck {
        let api = Api::start().await;
        let skipper = api.setup("skipper").await;
        let body = Some(json!({"name": "Glénans"}));
        let a = api
            .call(Method::POST, "/api/v1/flotillas", Some(&skipper), body)
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
        let flotilla = a.json["id"].as_str().unwrap().to_owned();
        let deckhand = api.user(&skipper, "deckhand").await;
        Deck {
            api,
            skipper,
            deckhand,
            flotilla,
        }
    }

    fn url(&self, rest: &str) -> String {
        format!("/api/v1/flotillas/{}{rest}", self.flotilla)
    }

    async fn call(&self, method: Method, rest: &str, who: &Session, body: Option<Value>) -> Answer {
        self.api
            .call(method, &self.url(rest), Some(who), body)
            .await
    }

    async fn picture(&self, who: &Session, bytes: Vec<u8>, mime: &str) -> Answer {
        let mut req: Request<Body> =
            request(Method::PUT, &self.url("/me/picture"), Some(who), None);
        *req.body_mut() = Body::from(bytes);
        req.headers_mut()
            .insert(header::CONTENT_TYPE, mime.parse().unwrap());
        self.api.send(req).await
    }

    async fn member(&self, who: &Session, username: &str) -> Value {
        let a = self.call(Method::GET, "/members", who, None).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
        a.json
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["username"] == username)
            .cloned()
            .unwrap()
    }
}

#[tokio::test]
async fn a_profile_is_set_kept_and_cleared_field_by_field() {
    let deck = Deck::new().await;
    let body =
        json!({"full_name": "  Éric Tabarly ", "nickname": "Pen Duick", "position": "skipper"});
    let a = deck
        .call(Method::PUT, "/me/profile", &deck.skipper, Some(body))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(a.json["full_name"], "Éric Tabarly", "trimmed");
    // A field left out is kept; an empty one is cleared.
    let a = deck
        .call(
            Method::PUT,
            "/me/profile",
            &deck.skipper,
            Some(json!({"nickname": ""})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    let m = deck.member(&deck.deckhand, "skipper").await;
    assert_eq!(m["full_name"], "Éric Tabarly");
    assert_eq!(m["position"], "skipper");
    assert_eq!(m["display_name"], Value::Null);
    assert_eq!(m["picture"], Value::Null);
}

#[tokio::test]
async fn bad_profile_fields_are_refused() {
    let deck = Deck::new().await;
    let long = "x".repeat(65);
    let a = deck
        .call(
            Method::PUT,
            "/me/profile",
            &deck.deckhand,
            Some(json!({ "full_name": long })),
        )
        .await;
    a.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(a.json["message"].as_str().unwrap().contains("full name"));
    let a = deck
        .call(
            Method::PUT,
            "/me/profile",
            &deck.deckhand,
            Some(json!({ "position": "p".repeat(129) })),
        )
        .await;
    a.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // Someone else's profile cannot even be named: an unknown field is refused.
    let a = deck
        .call(
            Method::PUT,
            "/me/profile",
            &deck.deckhand,
            Some(json!({ "user": "skipper", "full_name": "Forged" })),
        )
        .await;
    assert!(a.status.is_client_error(), "{:?}", a.json);
    let m = deck.member(&deck.skipper, "skipper").await;
    assert_eq!(m["full_name"], Value::Null);
    // No route writes another user's profile.
    let a = deck
        .call(
            Method::PUT,
            "/members/skipper/profile",
            &deck.deckhand,
            Some(json!({ "full_name": "Forged" })),
        )
        .await;
    assert!(a.status.is_client_error(), "{:?}", a.status);
    let a = deck
        .api
        .call(
            Method::PUT,
            &deck.url("/me/profile"),
            None,
            Some(json!({ "full_name": "Anonymous" })),
        )
        .await;
    a.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn a_picture_is_resized_published_and_read_by_others() {
    let deck = Deck::new().await;
    let a = deck
        .picture(&deck.deckhand, sample_png(640, 480), "image/png")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    let id = a.json["picture"].as_str().unwrap().to_owned();
    let key = a.json["key"].as_str().unwrap().to_owned();
    for user in ["deckhand", key.as_str()] {
        let a = deck
            .call(
                Method::GET,
                &format!("/members/{user}/picture"),
                &deck.skipper,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
        assert_eq!(a.headers[header::CONTENT_TYPE], picture::PICTURE_MIME);
        let img = image::load_from_memory(&a.bytes).unwrap();
        assert_eq!((img.width(), img.height()), (128, 128));
        assert!(a.bytes.len() < 16 * 1024, "{} bytes", a.bytes.len());
    }
    let a = deck
        .call(Method::GET, &format!("/files/{id}"), &deck.skipper, None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    // Removed: the member has no picture any more.
    let a = deck
        .call(Method::DELETE, "/me/picture", &deck.deckhand, None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(a.json["picture"], Value::Null);
    let a = deck
        .call(
            Method::GET,
            "/members/deckhand/picture",
            &deck.skipper,
            None,
        )
        .await;
    a.assert_error(StatusCode::NOT_FOUND, "not_found");
    let a = deck
        .call(Method::GET, "/members/nobody/picture", &deck.skipper, None)
        .await;
    a.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn bad_pictures_are_refused_and_publish_nothing() {
    let deck = Deck::new().await;
    let a = deck
        .picture(&deck.deckhand, b"GIF89a...".to_vec(), "image/gif")
        .await;
    a.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let a = deck
        .picture(&deck.deckhand, b"not a png at all".to_vec(), "image/png")
        .await;
    a.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    // A PNG sent as a JPEG does not decode as one.
    let a = deck
        .picture(&deck.deckhand, sample_png(32, 32), "image/jpeg")
        .await;
    a.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    let too_big = vec![0u8; picture::MAX_UPLOAD_BYTES + 1];
    let a = deck.picture(&deck.deckhand, too_big, "image/png").await;
    a.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    let m = deck.member(&deck.skipper, "deckhand").await;
    assert_eq!(m["picture"], Value::Null);
}
