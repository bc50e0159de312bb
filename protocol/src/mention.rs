//! Mentions in post text: which `@name` words a text holds, and whether a post mentions a
//! given user (by key, or by `@channel`, `@all`, `@here`, which mention everyone).
//!
//! A mention is `@` at the start of the text or after a character that is not a letter, digit
//! or `@` (so `bob@example.org` is no mention), followed by the name: every character up to
//! whitespace or punctuation other than `.`, `_` and `-`; a trailing `.` is left out
//! (`merci @bob.` names `bob`).

use crate::crypto::PublicKey;

/// Words that mention every member of the channel.
pub const EVERYONE: [&str; 3] = ["channel", "all", "here"];

/// The most mentions read from one text (more are ignored).
pub const MAX_MENTIONS: usize = crate::event::MAX_REFS;

/// The names mentioned in `text`, in order, at most [`MAX_MENTIONS`], duplicates included.
pub fn names(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let starts = c == '@' && prev.is_none_or(|p| !p.is_alphanumeric() && p != '@');
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[i + 1..];
        let end = rest
            .find(|ch: char| !is_name_char(ch))
            .unwrap_or(rest.len());
        let name = rest[..end].trim_end_matches('.');
        if !name.is_empty() {
            out.push(name);
            if out.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    out
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Does `text` mention everyone (`@channel`, `@all`, `@here`)?
pub fn mentions_everyone(text: &str) -> bool {
    names(text).iter().any(|n| EVERYONE.contains(n))
}

/// Does a post with this text and these mentioned keys mention `user`?
pub fn mentions(text: &str, mentioned: &[PublicKey], user: &PublicKey) -> bool {
    mentioned.contains(user) || mentions_everyone(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_words_after_an_at_sign() {
        assert_eq!(names("@alice salut @bob."), ["alice", "bob"]);
        assert_eq!(names("(@chloé), @dan-2!"), ["chloé", "dan-2"]);
        assert!(names("bob@example.org @ @.").is_empty());
        assert_eq!(names("@@x"), Vec::<&str>::new());
    }

    #[test]
    fn everyone_words_mention_every_user() {
        let me = PublicKey([1; 32]);
        assert!(mentions("cap au sud @here", &[], &me));
        assert!(mentions("@all", &[], &me));
        assert!(mentions("salut", &[me], &me));
        assert!(!mentions("salut @bob", &[PublicKey([2; 32])], &me));
        assert!(!mentions("mail: x@all", &[], &me));
    }

    #[test]
    fn names_are_bounded() {
        let text = "@a ".repeat(MAX_MENTIONS + 10);
        assert_eq!(names(&text).len(), MAX_MENTIONS);
    }
}
