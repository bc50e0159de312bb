//! Search over HTTP: the query syntax end to end, French and English analysis, paging, recent
//! mentions, saved messages, and that a private channel's posts never reach a non-member.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::harness::{Api, Session};

struct Boat {
    api: Api,
    skipper: Session,
    deckhand: Session,
    flotilla: String,
}

impl Boat {
    async fn new() -> Boat {
        let api = Api::start().await;
        let skipper = api.setup("skipper").await;
        let flotilla = api.flotilla(&skipper, "Glénans").await;
        let deckhand = api.user(&skipper, "deckhand").await;
        Boat {
            api,
            skipper,
            deckhand,
            flotilla,
        }
    }

    async fn call(&self, method: Method, rest: &str, who: &Session, body: Option<Value>) -> Value {
        let url = format!("/api/v1/flotillas/{}{rest}", self.flotilla);
        let a = self.api.call(method, &url, Some(who), body).await;
        assert!(a.status.is_success(), "{url}: {:?} {:?}", a.status, a.json);
        a.json
    }

    async fn channel(&self, name: &str, private: bool) -> String {
        let c = self
            .call(
                Method::POST,
                "/channels",
                &self.skipper,
                Some(json!({"name": name, "private": private})),
            )
            .await;
        c["id"].as_str().unwrap().to_owned()
    }

    async fn post(&self, who: &Session, channel: &str, text: &str) -> String {
        let p = self
            .call(
                Method::POST,
                &format!("/channels/{channel}/posts"),
                who,
                Some(json!({"text": text})),
            )
            .await;
        p["id"].as_str().unwrap().to_owned()
    }

    /// The texts found by `q` for `who`, newest first.
    async fn search(&self, who: &Session, q: &str) -> Vec<String> {
        let url = format!("/search?q={}", urlencode(q));
        let page = self.call(Method::GET, &url, who, None).await;
        texts(&page)
    }
}

fn texts(page: &Value) -> Vec<String> {
    page["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_owned())
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn search_finds_french_and_english_and_respects_private_channels() {
    let b = Boat::new().await;
    let channels = b.call(Method::GET, "/channels", &b.skipper, None).await;
    let ts = channels
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "town-square")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = b.channel("capitaines", true).await;
    b.post(&b.skipper, &ts, "La météo annonce 25 nœuds").await;
    b.post(&b.deckhand, &ts, "Les bateaux sont au ponton B #mouillage")
        .await;
    let edited = b
        .post(&b.deckhand, &ts, "The fuel dock closes at 18h")
        .await;
    let gone = b.post(&b.skipper, &ts, "message à effacer").await;
    b.post(&b.skipper, &secret, "Le code du ponton est 4321")
        .await;
    b.post(&b.skipper, &ts, "@deckhand le GRIB de mardi est arrivé")
        .await;

    assert_eq!(
        b.search(&b.deckhand, "meteo").await,
        ["La météo annonce 25 nœuds"]
    );
    assert_eq!(
        b.search(&b.deckhand, "bateau").await,
        ["Les bateaux sont au ponton B #mouillage"]
    );
    assert_eq!(
        b.search(&b.deckhand, "closing").await,
        ["The fuel dock closes at 18h"]
    );
    assert_eq!(b.search(&b.deckhand, "#mouillage").await.len(), 1);
    assert_eq!(b.search(&b.deckhand, "from:skipper mardi").await.len(), 1);
    assert!(
        b.search(&b.deckhand, "from:deckhand mardi")
            .await
            .is_empty()
    );
    // The private channel: its member finds the post, the other never does.
    assert_eq!(
        b.search(&b.skipper, "\"code du ponton\"").await,
        ["Le code du ponton est 4321"]
    );
    assert!(b.search(&b.deckhand, "code").await.is_empty());
    assert!(b.search(&b.deckhand, "in:capitaines").await.is_empty());
    assert_eq!(b.search(&b.deckhand, "ponton").await.len(), 1);
    // Edits: the newest text wins. Deletes leave the index.
    b.call(
        Method::PUT,
        &format!("/posts/{edited}"),
        &b.deckhand,
        Some(json!({"text": "Le quai carburant ferme à 18h"})),
    )
    .await;
    assert!(b.search(&b.deckhand, "dock").await.is_empty());
    assert_eq!(b.search(&b.deckhand, "carburant").await.len(), 1);
    b.call(Method::DELETE, &format!("/posts/{gone}"), &b.skipper, None)
        .await;
    assert!(b.search(&b.skipper, "effacer").await.is_empty());

    // Recent mentions, saved messages.
    let m = b.call(Method::GET, "/mentions", &b.deckhand, None).await;
    assert_eq!(texts(&m), ["@deckhand le GRIB de mardi est arrivé"]);
    let first = m["posts"][0]["id"].as_str().unwrap().to_owned();
    b.call(
        Method::PUT,
        &format!("/posts/{first}/saved"),
        &b.deckhand,
        None,
    )
    .await;
    let saved = b.call(Method::GET, "/saved", &b.deckhand, None).await;
    assert_eq!(texts(&saved).len(), 1);
    assert!(texts(&b.call(Method::GET, "/saved", &b.skipper, None).await).is_empty());

    // Bad queries and limits are 4xx, not 500.
    let url = format!("/api/v1/flotillas/{}/search?q=on:2026-13-01", b.flotilla);
    let a = b.api.call(Method::GET, &url, Some(&b.deckhand), None).await;
    assert!(a.status.is_client_error(), "{:?}", a.json);
    let url = format!("/api/v1/flotillas/{}/search?q=x&limit=0", b.flotilla);
    let a = b.api.call(Method::GET, &url, Some(&b.deckhand), None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn search_pages_newest_first() {
    let b = Boat::new().await;
    let channels = b.call(Method::GET, "/channels", &b.skipper, None).await;
    let ts = channels
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "town-square")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..7 {
        b.post(&b.skipper, &ts, &format!("bouée numéro {i}")).await;
    }
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let cursor = before
            .as_deref()
            .map(|c| format!("&before={c}"))
            .unwrap_or_default();
        let page = b
            .call(
                Method::GET,
                &format!("/search?q=bouee&limit=3{cursor}"),
                &b.skipper,
                None,
            )
            .await;
        seen.extend(texts(&page));
        match page["next"].as_str() {
            Some(n) => before = Some(n.to_owned()),
            None => break,
        }
    }
    let want: Vec<String> = (0..7).rev().map(|i| format!("bouée numéro {i}")).collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn in_at_user_searches_the_dm_with_that_user() {
    let b = Boat::new().await;
    let bosun = b.api.user(&b.skipper, "bosun").await;
    let dm = |who: &'static str| json!({"usernames": [who]});
    let with_deckhand = b
        .call(Method::POST, "/dms", &b.skipper, Some(dm("deckhand")))
        .await;
    let with_bosun = b
        .call(Method::POST, "/dms", &b.skipper, Some(dm("bosun")))
        .await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    b.post(&b.deckhand, &id(&with_deckhand), "mouillage nord")
        .await;
    b.post(&bosun, &id(&with_bosun), "mouillage sud").await;
    let general = b.channel("general", false).await;
    b.post(&b.skipper, &general, "mouillage est").await;

    assert_eq!(
        b.search(&b.skipper, "mouillage in:@deckhand").await,
        ["mouillage nord"]
    );
    assert_eq!(
        b.search(&b.skipper, "mouillage in:@Bosun").await,
        ["mouillage sud"]
    );
    assert_eq!(
        b.search(&b.skipper, "mouillage in:@deckhand in:@bosun")
            .await
            .len(),
        2
    );
    assert_eq!(
        b.search(&b.deckhand, "mouillage in:@skipper").await,
        ["mouillage nord"]
    );
    assert!(
        b.search(&b.deckhand, "mouillage in:@bosun")
            .await
            .is_empty(),
        "not a member of that DM"
    );
}
