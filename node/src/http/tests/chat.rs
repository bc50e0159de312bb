//! Flotillas, channels, posts, reactions, pins, unread counts and files over HTTP, on one
//! node with two crew members.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use super::harness::{Answer, Api, Session, request};

/// A node with a flotilla, its admin `skipper` and a crew member `deckhand`.
struct Crew {
    api: Api,
    skipper: Session,
    deckhand: Session,
    flotilla: String,
    town_square: String,
}

impl Crew {
    async fn new() -> Crew {
        let api = Api::start().await;
        let skipper = api.setup("skipper").await;
        let a = api
            .call(
                Method::POST,
                "/api/v1/flotillas",
                Some(&skipper),
                Some(json!({"name": "Glénans"})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
        let flotilla = a.json["id"].as_str().unwrap().to_owned();
        assert_eq!(a.json["admin"], true);
        let deckhand = api.user(&skipper, "deckhand").await;
        let channels = api
            .call(
                Method::GET,
                &format!("/api/v1/flotillas/{flotilla}/channels"),
                Some(&deckhand),
                None,
            )
            .await;
        let town_square = find(&channels.json, "name", "town-square")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        Crew {
            api,
            skipper,
            deckhand,
            flotilla,
            town_square,
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

    async fn post(&self, who: &Session, channel: &str, text: &str) -> Value {
        let a = self
            .call(
                Method::POST,
                &format!("/channels/{channel}/posts"),
                who,
                Some(json!({"text": text})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
        a.json
    }
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .and_then(|l| l.iter().find(|x| x[key] == value))
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}

#[tokio::test]
async fn posts_render_page_and_thread() {
    let crew = Crew::new().await;
    let ts = crew.town_square.clone();
    let first = crew
        .post(
            &crew.skipper,
            &ts,
            "**Départ** 8h :sailboat: @deckhand ~town-square #meteo",
        )
        .await;
    let html = first["html"].as_str().unwrap();
    assert!(html.contains("<strong>Départ</strong>"), "{html}");
    assert!(html.contains("class=\"mention"), "{html}");
    assert!(html.contains("channel-link"), "{html}");
    assert!(html.contains("hashtag"), "{html}");
    let xss = crew
        .post(
            &crew.deckhand,
            &ts,
            "<script>alert(1)</script>[x](javascript:alert(1))",
        )
        .await;
    let html = xss["html"].as_str().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("href=\"javascript"),
        "{html}"
    );

    for i in 0..5 {
        crew.post(&crew.deckhand, &ts, &format!("message {i}"))
            .await;
    }
    let page = crew
        .call(
            Method::GET,
            &format!("/channels/{ts}/posts?limit=3"),
            &crew.deckhand,
            None,
        )
        .await;
    let texts: Vec<&str> = page.json["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["message 2", "message 3", "message 4"]);
    let next = page.json["next"].as_str().unwrap();
    let older = crew
        .call(
            Method::GET,
            &format!("/channels/{ts}/posts?limit=3&before={next}"),
            &crew.deckhand,
            None,
        )
        .await;
    assert_eq!(
        older.json["posts"].as_array().unwrap().len(),
        3,
        "{:?}",
        older.json
    );

    let root = first["id"].as_str().unwrap();
    let reply = crew
        .call(
            Method::POST,
            &format!("/channels/{ts}/posts"),
            &crew.deckhand,
            Some(json!({"text": "reçu", "root_id": root})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let thread = crew
        .call(
            Method::GET,
            &format!("/posts/{root}/thread"),
            &crew.skipper,
            None,
        )
        .await;
    assert_eq!(thread.json["root"]["reply_count"], 1);
    assert_eq!(thread.json["replies"][0]["text"], "reçu");
    let a = crew
        .call(
            Method::GET,
            &format!("/channels/{ts}/posts?before=garbage"),
            &crew.skipper,
            None,
        )
        .await;
    a.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let a = crew
        .call(
            Method::GET,
            &format!("/channels/{ts}/posts?limit=0"),
            &crew.skipper,
            None,
        )
        .await;
    a.assert_error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn edits_deletes_reactions_and_pins_follow_the_rules() {
    let crew = Crew::new().await;
    let ts = crew.town_square.clone();
    let skippers = crew.post(&crew.skipper, &ts, "cap au 270").await;
    let cap = skippers["id"].as_str().unwrap();
    let a = crew
        .call(
            Method::PUT,
            &format!("/posts/{cap}"),
            &crew.deckhand,
            Some(json!({"text": "hijacked"})),
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let mine = crew.post(&crew.deckhand, &ts, "first draft").await;
    let id = mine["id"].as_str().unwrap();
    // A flotilla admin edits anyone's post (moderation); it stays the author's.
    let a = crew
        .call(
            Method::PUT,
            &format!("/posts/{id}"),
            &crew.skipper,
            Some(json!({"text": "(modéré)"})),
        )
        .await;
    assert_eq!(
        (a.json["text"].as_str(), a.json["author"].as_str()),
        (Some("(modéré)"), Some("deckhand")),
        "{:?}",
        a.json
    );
    let a = crew
        .call(
            Method::PUT,
            &format!("/posts/{id}"),
            &crew.deckhand,
            Some(json!({"text": "second draft"})),
        )
        .await;
    assert_eq!(
        (a.json["text"].as_str(), a.json["edited"].as_bool()),
        (Some("second draft"), Some(true))
    );

    let a = crew
        .call(
            Method::PUT,
            &format!("/posts/{id}/reactions/thumbsup"),
            &crew.skipper,
            None,
        )
        .await;
    assert_eq!(a.json["reactions"][0]["count"], 1, "{:?}", a.json);
    assert_eq!(a.json["reactions"][0]["me"], true);
    let a = crew
        .call(
            Method::PUT,
            &format!("/posts/{id}/reactions/not%20an%20emoji"),
            &crew.skipper,
            None,
        )
        .await;
    assert!(a.status.is_client_error(), "{:?}", a.json);
    let a = crew
        .call(
            Method::DELETE,
            &format!("/posts/{id}/reactions/thumbsup"),
            &crew.skipper,
            None,
        )
        .await;
    assert_eq!(a.json["reactions"].as_array().map(Vec::len), Some(0));

    let a = crew
        .call(
            Method::PUT,
            &format!("/posts/{id}/pin"),
            &crew.skipper,
            None,
        )
        .await;
    assert_eq!(a.json["pinned"], true);
    let pins = crew
        .call(
            Method::GET,
            &format!("/channels/{ts}/pins"),
            &crew.deckhand,
            None,
        )
        .await;
    assert_eq!(pins.json[0]["id"], id);

    let skippers = crew.post(&crew.skipper, &ts, "skipper's orders").await;
    let sid = skippers["id"].as_str().unwrap();
    let a = crew
        .call(
            Method::DELETE,
            &format!("/posts/{sid}"),
            &crew.deckhand,
            None,
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = crew
        .call(Method::DELETE, &format!("/posts/{id}"), &crew.skipper, None)
        .await;
    assert_eq!(
        a.status,
        StatusCode::NO_CONTENT,
        "an admin deletes any post: {:?}",
        a.json
    );
    let page = crew
        .call(
            Method::GET,
            &format!("/channels/{ts}/posts"),
            &crew.deckhand,
            None,
        )
        .await;
    let ids: Vec<&str> = page.json["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [cap, sid]);
}

#[tokio::test]
async fn refused_posts_store_nothing() {
    let crew = Crew::new().await;
    let ts = crew.town_square.clone();
    let uri = format!("/channels/{ts}/posts");
    let too_long = "a".repeat(16_384);
    let a = crew
        .call(
            Method::POST,
            &uri,
            &crew.deckhand,
            Some(json!({"text": too_long})),
        )
        .await;
    a.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let a = crew
        .call(
            Method::POST,
            &uri,
            &crew.deckhand,
            Some(json!({"text": ""})),
        )
        .await;
    a.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let a = crew
        .call(
            Method::POST,
            &uri,
            &crew.deckhand,
            Some(json!({"text": "x", "root_id": "nope"})),
        )
        .await;
    a.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let no_csrf = Session {
        csrf: String::new(),
        ..crew.deckhand.clone()
    };
    let a = crew
        .call(
            Method::POST,
            &uri,
            &no_csrf,
            Some(json!({"text": "sneaky"})),
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "csrf");
    let a = crew
        .api
        .call(
            Method::POST,
            &crew.url(&uri),
            None,
            Some(json!({"text": "anonymous"})),
        )
        .await;
    a.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let a = crew
        .call(
            Method::POST,
            "/channels/00/posts",
            &crew.deckhand,
            Some(json!({"text": "x"})),
        )
        .await;
    a.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let page = crew
        .call(
            Method::GET,
            &format!("/channels/{ts}/posts"),
            &crew.deckhand,
            None,
        )
        .await;
    assert_eq!(page.json["posts"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn channels_dms_archive_and_unread_counts() {
    let crew = Crew::new().await;
    let a = crew
        .call(
            Method::POST,
            "/channels",
            &crew.skipper,
            Some(json!({"name": "navigation", "purpose": "routes"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    let nav = a.json["id"].as_str().unwrap().to_owned();
    let a = crew
        .call(
            Method::POST,
            "/channels",
            &crew.skipper,
            Some(json!({"name": "navigation"})),
        )
        .await;
    a.assert_error(StatusCode::CONFLICT, "conflict");
    let a = crew
        .call(
            Method::POST,
            "/channels",
            &crew.skipper,
            Some(json!({"name": "Bad Name!"})),
        )
        .await;
    assert!(a.status.is_client_error(), "{:?}", a.json);

    let a = crew
        .call(
            Method::POST,
            &format!("/channels/{nav}/join"),
            &crew.deckhand,
            None,
        )
        .await;
    assert_eq!(a.json["member"], true, "{:?}", a.json);
    crew.post(&crew.skipper, &nav, "cap au 270").await;
    crew.post(&crew.skipper, &nav, "@deckhand prends la barre")
        .await;
    let view = crew
        .call(
            Method::GET,
            &format!("/channels/{nav}"),
            &crew.deckhand,
            None,
        )
        .await;
    assert_eq!(
        (view.json["unread"].as_u64(), view.json["mentions"].as_u64()),
        (Some(2), Some(1)),
        "{:?}",
        view.json
    );
    let a = crew
        .call(
            Method::POST,
            &format!("/channels/{nav}/read"),
            &crew.deckhand,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let view = crew
        .call(
            Method::GET,
            &format!("/channels/{nav}"),
            &crew.deckhand,
            None,
        )
        .await;
    assert_eq!(view.json["unread"], 0);

    let a = crew
        .call(
            Method::PATCH,
            &format!("/channels/{nav}"),
            &crew.deckhand,
            Some(json!({"header": "VHF 72"})),
        )
        .await;
    assert_eq!(a.json["header"], "VHF 72", "{:?}", a.json);
    let a = crew
        .call(
            Method::POST,
            &format!("/channels/{nav}/archive"),
            &crew.deckhand,
            Some(json!({"archived": true})),
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = crew
        .call(
            Method::POST,
            &format!("/channels/{nav}/archive"),
            &crew.skipper,
            Some(json!({"archived": true})),
        )
        .await;
    assert_eq!(a.json["archived"], true);
    let a = crew
        .call(
            Method::POST,
            &format!("/channels/{nav}/posts"),
            &crew.skipper,
            Some(json!({"text": "late"})),
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");

    let dm = crew
        .call(
            Method::POST,
            "/dms",
            &crew.skipper,
            Some(json!({"usernames": ["deckhand"]})),
        )
        .await;
    assert_eq!(
        (dm.status, dm.json["kind"].as_str()),
        (StatusCode::CREATED, Some("dm")),
        "{:?}",
        dm.json
    );
    let again = crew
        .call(
            Method::POST,
            "/dms",
            &crew.deckhand,
            Some(json!({"usernames": ["skipper"]})),
        )
        .await;
    assert_eq!(
        (again.status, &again.json["id"]),
        (StatusCode::OK, &dm.json["id"])
    );
    let a = crew
        .call(
            Method::POST,
            "/dms",
            &crew.skipper,
            Some(json!({"usernames": ["ghost"]})),
        )
        .await;
    assert!(a.status.is_client_error(), "{:?}", a.json);
}

#[tokio::test]
async fn flotilla_admin_endpoints_and_members() {
    let crew = Crew::new().await;
    let a = crew
        .call(Method::POST, "/invites", &crew.deckhand, Some(json!({})))
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = crew
        .call(
            Method::POST,
            "/invites",
            &crew.skipper,
            Some(json!({"uses": 1})),
        )
        .await;
    assert!(
        a.json["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("fl2")),
        "{:?}",
        a.json
    );
    let a = crew
        .api
        .call(
            Method::POST,
            "/api/v1/flotillas",
            Some(&crew.deckhand),
            Some(json!({"name": "x"})),
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = crew
        .api
        .call(
            Method::POST,
            "/api/v1/flotillas/join",
            Some(&crew.skipper),
            Some(json!({"code": "garbage"})),
        )
        .await;
    a.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let members = crew
        .call(Method::GET, "/members", &crew.deckhand, None)
        .await;
    find(&members.json, "username", "deckhand");
    assert_eq!(find(&members.json, "username", "skipper")["admin"], true);
    let boats = crew.call(Method::GET, "/nodes", &crew.deckhand, None).await;
    assert_eq!(boats.json[0]["me"], true, "{:?}", boats.json);
    let emoji = crew
        .api
        .call(Method::GET, "/api/v1/emoji", None, None)
        .await;
    assert!(emoji.json.as_array().is_some_and(|l| l.len() > 100));
}

#[tokio::test]
async fn files_upload_within_the_limit_and_download_safely() {
    let crew = Crew::new().await;
    let ts = crew.town_square.clone();
    let upload = |bytes: Vec<u8>, name: &str, mime: &str| {
        let mut req: Request<Body> = request(
            Method::POST,
            &crew.url(&format!("/files?channel={ts}&name={name}")),
            Some(&crew.deckhand),
            None,
        );
        *req.body_mut() = Body::from(bytes);
        req.headers_mut()
            .insert(header::CONTENT_TYPE, mime.parse().unwrap());
        req
    };
    let a = crew
        .api
        .send(upload(
            b"GRIB2 bytes".to_vec(),
            "meteo.grb",
            "application/octet-stream",
        ))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    let id = a.json["id"].as_str().unwrap().to_owned();
    let post = crew
        .call(
            Method::POST,
            &format!("/channels/{ts}/posts"),
            &crew.deckhand,
            Some(json!({"text": "", "file_ids": [id]})),
        )
        .await;
    assert_eq!(
        post.json["files"][0]["name"], "meteo.grb",
        "{:?}",
        post.json
    );
    let a = crew
        .call(Method::GET, &format!("/files/{id}"), &crew.skipper, None)
        .await;
    assert_eq!(a.bytes, b"GRIB2 bytes");
    assert!(
        a.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(a.headers.contains_key(header::CONTENT_SECURITY_POLICY));

    let too_big = vec![0u8; 10 * 1024 * 1024 + 1];
    let a = crew
        .api
        .send(upload(too_big, "big.bin", "application/octet-stream"))
        .await;
    a.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    assert!(
        a.json["message"].as_str().unwrap().contains("10 MB"),
        "{:?}",
        a.json
    );
    let a = crew
        .call(
            Method::GET,
            &format!("/files/{}", "ab".repeat(32)),
            &crew.skipper,
            None,
        )
        .await;
    a.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn lora_fields_are_null_without_a_radio_and_radios_need_a_session() {
    let crew = Crew::new().await;
    let ts = crew.town_square.clone();
    let post = crew
        .post(&crew.deckhand, &ts, "au port, pas de radio")
        .await;
    assert!(post["lora"].is_null(), "{post}");
    let page = crew
        .call(
            Method::GET,
            &format!("/channels/{ts}/posts"),
            &crew.skipper,
            None,
        )
        .await;
    assert!(page.json["posts"][0]["lora"].is_null(), "{:?}", page.json);
    let boats = crew.call(Method::GET, "/nodes", &crew.deckhand, None).await;
    assert_eq!(boats.json[0]["lora_only"], false, "{:?}", boats.json);
    assert!(boats.json[0]["lora_hops"].is_null());
    let radios = crew
        .call(Method::GET, "/radios", &crew.deckhand, None)
        .await;
    assert_eq!(radios.status, StatusCode::OK);
    assert_eq!(radios.json, json!([]), "no --lora: no radio");
    // No session, a malformed or unknown flotilla: refused, nothing leaks.
    let anon = crew
        .api
        .call(Method::GET, &crew.url("/radios"), None, None)
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    let bad = crew
        .api
        .call(
            Method::GET,
            "/api/v1/flotillas/zz/radios",
            Some(&crew.skipper),
            None,
        )
        .await;
    bad.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let unknown = crew
        .api
        .call(
            Method::GET,
            &format!("/api/v1/flotillas/{}/radios", "ab".repeat(16)),
            Some(&crew.skipper),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{:?}", unknown.json);
}

/// Texts of a channel's posts as `who` sees them.
async fn texts(crew: &Crew, who: &Session, channel: &str) -> Answer {
    crew.call(
        Method::GET,
        &format!("/channels/{channel}/posts"),
        who,
        None,
    )
    .await
}

fn has_text(a: &Answer, text: &str) -> bool {
    a.json["posts"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p["text"] == text))
}

#[tokio::test]
async fn channel_rename_display_name_and_privacy_switch_are_for_admins() {
    let crew = Crew::new().await;
    let cook = crew.api.user(&crew.skipper, "cook").await;
    let a = crew
        .call(
            Method::POST,
            "/channels",
            &crew.skipper,
            Some(json!({"name": "galley"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    let galley = a.json["id"].as_str().unwrap().to_owned();
    let url = format!("/channels/{galley}");
    let a = crew
        .call(Method::POST, &format!("{url}/join"), &crew.deckhand, None)
        .await;
    assert_eq!(a.json["member"], true, "{:?}", a.json);
    crew.post(&crew.skipper, &galley, "menu public").await;

    // A member who is neither its creator nor an admin changes none of the admin fields,
    // and nothing is written.
    for body in [
        json!({"name": "cuisine"}),
        json!({"display_name": "La Cuisine"}),
        json!({"private": true}),
    ] {
        let a = crew
            .call(Method::PATCH, &url, &crew.deckhand, Some(body.clone()))
            .await;
        a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    let a = crew.call(Method::GET, &url, &crew.deckhand, None).await;
    assert_eq!(
        (&a.json["name"], &a.json["display_name"], &a.json["kind"]),
        (&json!("galley"), &json!(""), &json!("public"))
    );
    // Bad and taken names name the field.
    let a = crew
        .call(
            Method::PATCH,
            &url,
            &crew.skipper,
            Some(json!({"name": "La Cuisine"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", a.json);
    assert!(a.json["message"].as_str().unwrap().contains("channel name"));
    let a = crew
        .call(
            Method::PATCH,
            &url,
            &crew.skipper,
            Some(json!({"name": "town-square"})),
        )
        .await;
    a.assert_error(StatusCode::CONFLICT, "conflict");

    // The admin renames it, with a display name.
    let a = crew
        .call(
            Method::PATCH,
            &url,
            &crew.skipper,
            Some(json!({"name": "cuisine", "display_name": "La Cuisine à bord"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(a.json["name"], "cuisine");
    assert_eq!(a.json["display_name"], "La Cuisine à bord");
    let a = crew.call(Method::GET, &url, &cook, None).await;
    assert_eq!(a.json["name"], "cuisine", "{:?}", a.json);

    // The default channels stay public; a DM keeps its people and privacy.
    let a = crew
        .call(
            Method::PATCH,
            &format!("/channels/{}", crew.town_square),
            &crew.skipper,
            Some(json!({"private": true})),
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");

    // Private: members (deckhand) and the admin keep it; cook is out.
    let a = crew
        .call(
            Method::PATCH,
            &url,
            &crew.skipper,
            Some(json!({"private": true})),
        )
        .await;
    assert_eq!(a.json["kind"], "private", "{:?}", a.json);
    let members = a.json["members"].as_array().unwrap();
    assert!(members.contains(&json!("deckhand")) && members.contains(&json!("skipper")));
    assert!(!members.contains(&json!("cook")));
    texts(&crew, &cook, &galley)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = texts(&crew, &crew.deckhand, &galley).await;
    assert!(has_text(&a, "menu public"), "{:?}", a.json);
    crew.post(&crew.deckhand, &galley, "recette secrète").await;
    let a = crew
        .call(
            Method::POST,
            &format!("{url}/posts"),
            &cook,
            Some(json!({"text": "intrus"})),
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");

    // Public again: new posts are for everyone, the private past only for its members.
    let a = crew
        .call(
            Method::PATCH,
            &url,
            &crew.deckhand,
            Some(json!({"private": false})),
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = crew
        .call(
            Method::PATCH,
            &url,
            &crew.skipper,
            Some(json!({"private": false})),
        )
        .await;
    assert_eq!(a.json["kind"], "public", "{:?}", a.json);
    crew.post(&crew.skipper, &galley, "menu du soir").await;
    let a = texts(&crew, &cook, &galley).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert!(has_text(&a, "menu du soir"), "{:?}", a.json);
    assert!(!has_text(&a, "recette secrète"), "{:?}", a.json);
    let a = texts(&crew, &crew.deckhand, &galley).await;
    assert!(has_text(&a, "recette secrète") && has_text(&a, "menu du soir"));
    let search = crew
        .call(Method::GET, "/search?q=secr%C3%A8te", &cook, None)
        .await;
    assert!(
        !search.json.to_string().contains("recette"),
        "{:?}",
        search.json
    );
}
