#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const GOOD: &str = r#"{"type":"version","version":1}
{"type":"team","team":{"name":"club","display_name":"Club Voile","type":"O"}}
{"type":"channel","channel":{"team":"club","name":"town-square","display_name":"Centre-Ville","type":"O"}}
{"type":"channel","channel":{"team":"club","name":"bureau","display_name":"Bureau","type":"P","header":"Réservé","purpose":"Le bureau"}}
{"type":"channel","channel":{"team":"club","name":"vieux","type":"O","deleted_at":1600000000000}}
{"type":"user","user":{"username":"anne","roles":"system_admin system_user","teams":[{"name":"club","channels":[{"name":"bureau"}]}]}}
{"type":"user","user":{"username":"bruno","teams":[{"name":"club","channels":[{"name":"town-square"}]}]}}
{"type":"user","user":{"username":"chloe"}}
{"type":"post","post":{"team":"club","channel":"town-square","user":"anne","message":"Bonjour à tous ⛵","create_at":1600000000001,"is_pinned":true,"flagged_by":["bruno"],"reactions":[{"user":"bruno","emoji_name":"+1","create_at":1600000000005}],"replies":[{"user":"bruno","message":"Salut !","create_at":1600000000010}]}}
{"type":"post","post":{"team":"club","channel":"bureau","user":"chloe","message":"privé","create_at":1600000000002}}
{"type":"direct_channel","direct_channel":{"members":["anne","bruno"]}}
{"type":"direct_post","direct_post":{"channel_members":["anne","bruno"],"user":"bruno","message":"coucou","create_at":1600000000003}}
{"type":"direct_post","direct_post":{"channel_members":["anne","bruno","chloe"],"user":"chloe","message":"groupe","create_at":1600000000004}}
{"type":"emoji","emoji":{"name":"boat","image":"data/boat.png"}}
"#;

#[test]
fn a_valid_file_becomes_a_plan() {
    let plan = validate(GOOD).unwrap();
    assert_eq!(plan.users.len(), 3);
    assert!(plan.users[0].admin && !plan.users[1].admin);
    assert_eq!(plan.teams.len(), 1);
    let team = &plan.teams[0];
    assert_eq!(team.display_name, "Club Voile");
    assert_eq!(plan.post_count(), 5);
    assert_eq!(plan.direct.len(), 2);
    assert_eq!(plan.ignored_lines, 1);
    assert_eq!(plan.ignored_flags, 1);
    let Item::Channel(bureau) = &team.items[1] else {
        panic!("channel expected")
    };
    assert!(bureau.private);
    assert_eq!(bureau.header, "Réservé");
    assert_eq!(
        bureau.members,
        ["anne", "chloe"],
        "declared members, then authors"
    );
    assert!(
        matches!(team.items.last(), Some(Item::Archive { channel, .. }) if channel == "vieux"),
        "archives come after the posts"
    );
    let Some(Item::Post(post)) = team.items.iter().find(|i| matches!(i, Item::Post(_))) else {
        panic!("post expected")
    };
    assert_eq!(post.create_at, 1_600_000_000_001);
    assert!(post.pinned);
    assert_eq!(post.replies[0].message, "Salut !");
    assert_eq!(post.reactions[0].emoji, "+1");
}

fn lines_of(text: &str) -> Vec<usize> {
    validate(text).unwrap_err().iter().map(|p| p.line).collect()
}

#[test]
fn every_problem_is_reported_with_its_line() {
    let bad = r#"{"type":"version","version":1}
{"type":"team","team":{"name":"club"}}
{"type":"channel","channel":{"team":"nope","name":"x"}}
{"type":"post","post":{"team":"club","channel":"later","user":"anne","message":"a","create_at":1}}
{"type":"channel","channel":{"team":"club","name":"later"}}
{"type":"user","user":{"username":"anne"}}
{"type":"post", oops
{"type":"post","post":{"team":"club","channel":"later","user":"ghost","message":"a","create_at":1}}
{"type":"post","post":{"team":"club","channel":"later","user":"anne","message":"a","create_at":1,"reactions":[{"user":"anne","emoji_name":"Bad Emoji"}]}}
"#;
    let problems = validate(bad).unwrap_err();
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(lines_of(bad), [3, 4, 7, 8, 9], "{text:?}");
    assert!(text[0].contains("unknown team `nope`"), "{text:?}");
    assert!(text[1].contains("post before its channel"), "{text:?}");
    assert!(text[2].contains("malformed JSON"), "{text:?}");
    assert!(text[3].contains("unknown user `ghost`"), "{text:?}");
    assert!(text[4].contains("emoji"), "{text:?}");
}

#[test]
fn the_version_line_comes_first() {
    let no_version = r#"{"type":"team","team":{"name":"club"}}"#;
    assert_eq!(lines_of(no_version), [1]);
    assert_eq!(lines_of(""), [1]);
    assert_eq!(lines_of(r#"{"type":"version","version":2}"#), [1]);
    let garbage_first = "nope\n{\"type\":\"version\",\"version\":1}\n";
    assert_eq!(lines_of(garbage_first), [1, 1, 2]);
}

#[test]
fn limits_and_dms_are_checked() {
    let head = "{\"type\":\"version\",\"version\":1}\n{\"type\":\"user\",\"user\":{\"username\":\"anne\"}}\n";
    let long = "x".repeat(MAX_POST_CHARS + 1);
    let cases = [
        r#"{"type":"direct_post","direct_post":{"channel_members":["anne"],"user":"anne","message":"a","create_at":1}}"#.to_owned(),
        r#"{"type":"direct_post","direct_post":{"channel_members":["anne","zed"],"user":"anne","message":"a","create_at":1}}"#.to_owned(),
        format!(
            "{{\"type\":\"direct_post\",\"direct_post\":{{\"channel_members\":[\"anne\",\"anne2\"],\"user\":\"anne\",\"message\":\"{long}\",\"create_at\":1}}}}"
        ),
        "{\"type\":\"user\",\"user\":{\"username\":\"has space\"}}".to_owned(),
        "{\"type\":\"user\",\"user\":{\"username\":\"anne\"}}".to_owned(),
        "{\"type\":\"wat\"}".to_owned(),
        "{\"type\":\"team\"}".to_owned(),
    ];
    for case in cases {
        let text = format!("{head}{case}\n");
        assert!(
            lines_of(&text).contains(&3),
            "{case}: {:?}",
            validate(&text).unwrap_err()
        );
    }
}

#[test]
fn validation_never_panics_on_truncated_lines() {
    for cut in 0..GOOD.len() {
        if GOOD.is_char_boundary(cut) {
            let _ = validate(&GOOD[..cut]);
        }
    }
}
