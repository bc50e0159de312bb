//! The admin socket end to end, with a real node in this process.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::*;
use crate::Node;
use crate::config::Config;

async fn node() -> (tempfile::TempDir, Node) {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(Config::for_tests(tmp.path())).await.unwrap();
    (tmp, node)
}

async fn raw(path: &std::path::Path, line: &[u8]) -> String {
    let mut stream = UnixStream::connect(path).await.unwrap();
    // A refused connection (busy) may be closed before the request is written.
    let _ = stream.write_all(line).await;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn a_client_administers_the_node_through_the_socket() {
    let (tmp, node) = node().await;
    let server = Server::start(tmp.path(), node.handle().clone()).unwrap();
    let mode = std::fs::metadata(server.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let mut client = Client::connect(tmp.path()).await.unwrap();
    let no_admin = client
        .call::<FlotillaView>(&Request::FlotillaCreate { name: "R".into() })
        .await
        .unwrap_err();
    assert!(no_admin.to_string().contains("--admin"), "{no_admin}");
    let user: UserView = client
        .call(&Request::UserCreate {
            username: "anne".into(),
            password: "a long passphrase".into(),
            admin: true,
        })
        .await
        .unwrap();
    assert!(user.admin);
    let f: FlotillaView = client
        .call(&Request::FlotillaCreate {
            name: "Rallye".into(),
        })
        .await
        .unwrap();
    let channels: Vec<ChannelView> = client
        .call(&Request::ChannelList { flotilla: None })
        .await
        .unwrap();
    assert!(
        channels
            .iter()
            .any(|c| c.name == "town-square" && c.flotilla == f.id)
    );
    let post: PostView = client
        .call(&Request::Post {
            as_user: "anne".into(),
            channel: "town-square".into(),
            text: "hello".into(),
            reply_to: None,
            flotilla: Some("Rallye".into()),
        })
        .await
        .unwrap();
    let messages: Vec<MessageView> = client
        .call(&Request::Messages {
            channel: "town-square".into(),
            limit: None,
            flotilla: Some(f.id.clone()),
        })
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].id, post.id);
    assert_eq!(messages[0].author, "anne");
    assert!(messages[0].created_at.ends_with('Z'));

    let err = client
        .call::<PostView>(&Request::Post {
            as_user: "nobody".into(),
            channel: "town-square".into(),
            text: "hi".into(),
            reply_to: None,
            flotilla: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Remote {
                code: ErrorCode::NotFound,
                ..
            }
        ),
        "{err:?}"
    );

    let path = server.path().to_path_buf();
    server.shutdown().await;
    assert!(!path.exists(), "the socket is removed on shutdown");
    let err = Client::connect(tmp.path()).await.unwrap_err();
    assert!(err.to_string().contains("no node is running on"), "{err}");
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_and_malformed_requests_and_extra_clients_are_refused() {
    let (tmp, node) = node().await;
    let limits = Limits {
        max_request_bytes: 64,
        max_clients: 1,
        ..Limits::default()
    };
    let path = tmp.path().join(SOCKET_FILE);
    let server = Server::start_with(&path, node.handle().clone(), limits).unwrap();

    let big = format!(
        "{{\"cmd\":\"flotilla_create\",\"name\":\"{}\"}}\n",
        "x".repeat(100)
    );
    assert!(
        raw(&path, big.as_bytes())
            .await
            .contains(r#""error":"too_large""#)
    );
    assert!(
        raw(&path, b"{\"cmd\":\"nope\"}\n")
            .await
            .contains(r#""error":"bad_request""#)
    );

    let held = UnixStream::connect(&path).await.unwrap();
    // The held connection takes the only slot once accepted; poll until the next is busy.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let answer = raw(&path, b"{\"cmd\":\"peers\"}\n").await;
        if answer.contains(r#""error":"busy""#) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never busy: {answer}"
        );
        tokio::task::yield_now().await;
    }
    drop(held);
    drop(server);
    assert!(!path.exists());
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_stale_socket_is_replaced_and_a_live_one_refused() {
    let (tmp, node) = node().await;
    let path = tmp.path().join(SOCKET_FILE);
    // A crashed node leaves its socket file with nobody behind it.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let server = Server::start(tmp.path(), node.handle().clone()).unwrap();
    let second = Server::start(tmp.path(), node.handle().clone());
    assert!(
        matches!(second, Err(ServerError::InUse { .. })),
        "{second:?}"
    );
    let peers: Vec<PeerView> = Client::connect(tmp.path())
        .await
        .unwrap()
        .call(&Request::Peers {})
        .await
        .unwrap();
    assert!(peers.is_empty());
    server.shutdown().await;
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn status_counts_events_channels_members_and_ingest_in_o1() {
    let (tmp, node) = node().await;
    let server = Server::start(tmp.path(), node.handle().clone()).unwrap();
    let mut client = Client::connect(tmp.path()).await.unwrap();
    let empty: StatusView = client.call(&Request::Status {}).await.unwrap();
    assert!(empty.flotillas.is_empty());
    assert_eq!(empty.peers_connected, 0);
    assert!(empty.store_bytes > 0, "sled has files from the start");
    client
        .call::<UserView>(&Request::UserCreate {
            username: "anne".into(),
            password: "a long passphrase".into(),
            admin: true,
        })
        .await
        .unwrap();
    let f: FlotillaView = client
        .call(&Request::FlotillaCreate {
            name: "Rallye".into(),
        })
        .await
        .unwrap();
    let before: StatusView = client.call(&Request::Status {}).await.unwrap();
    for i in 0..5 {
        client
            .call::<PostView>(&Request::Post {
                as_user: "anne".into(),
                channel: "town-square".into(),
                text: format!("post {i}"),
                reply_to: None,
                flotilla: None,
            })
            .await
            .unwrap();
    }
    let s: StatusView = client.call(&Request::Status {}).await.unwrap();
    assert_eq!(s.flotillas.len(), 1);
    let fs = &s.flotillas[0];
    assert_eq!(
        (fs.id.as_str(), fs.name.as_str()),
        (f.id.as_str(), "Rallye")
    );
    assert!(fs.member);
    assert_eq!(fs.events, before.flotillas[0].events + 5, "{s:?}");
    assert_eq!((fs.members, fs.boats, fs.boats_connected), (1, 1, 0));
    assert!(fs.channels >= 2, "town-square and off-topic: {s:?}");
    assert_eq!(s.ingested, before.ingested + 5);
    assert!(s.ingest_rate > 0.0, "five posts in the window: {s:?}");
    // The JSON keeps the field names the CLI's `status --json` prints.
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["flotillas"][0]["events"], fs.events);
    for field in ["ingest_rate", "store_bytes", "peers_connected"] {
        assert!(json.get(field).is_some(), "{field} missing: {json}");
    }
    server.shutdown().await;
    node.shutdown().await.unwrap();
}
