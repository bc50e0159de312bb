//! What the index holds of one post: [`IndexDoc`], made from the fold's view of the post (the
//! newest text after edits), its files' names and summaries, its tags and mentions.

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::id::{ChannelId, EventId};

use super::analysis;

/// One indexed post or reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDoc {
    /// The post's id.
    pub id: EventId,
    /// Its channel.
    pub channel: ChannelId,
    /// Its author.
    pub author: PublicKey,
    /// When it was written (HLC ms).
    pub ms: u64,
    /// The searchable text: the post's text, then one line per file (name and summary).
    pub text: String,
    /// Normalised `#hashtags`.
    pub hashtags: Vec<String>,
    /// Normalised mentioned names (`@names` in the text and the usernames mentioned by key).
    pub mentions: Vec<String>,
}

/// A file attached to a post, as the index sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTerms {
    /// Its name (`gfs-2026-12-07.grb2`).
    pub name: String,
    /// A summary of its content, when one is known (a GRIB file's area, times and
    /// parameters; see `files::grib::summary_text`).
    pub summary: Option<String>,
}

impl IndexDoc {
    /// Builds the document of a post with `text`, its files, and the usernames it mentions by
    /// key.
    pub fn new(
        id: EventId,
        channel: ChannelId,
        author: PublicKey,
        ms: u64,
        text: &str,
        files: &[FileTerms],
        mentioned: &[String],
    ) -> IndexDoc {
        let mut full = text.to_owned();
        for f in files {
            full.push('\n');
            full.push_str(&f.name);
            if let Some(s) = &f.summary {
                full.push(' ');
                full.push_str(s);
            }
        }
        let mut mentions: Vec<String> = proto::mention::names(text)
            .into_iter()
            .chain(mentioned.iter().map(String::as_str))
            .filter_map(analysis::tag)
            .collect();
        mentions.sort();
        mentions.dedup();
        IndexDoc {
            id,
            channel,
            author,
            ms,
            hashtags: analysis::hashtags(text),
            mentions,
            text: full,
        }
    }

    /// A fingerprint of everything indexed: a post whose fingerprint changed is re-indexed
    /// when the index is reconciled with the fold.
    pub fn version(&self) -> u64 {
        let mut h = blake3::Hasher::new();
        h.update(self.channel.0.as_slice());
        h.update(self.author.0.as_slice());
        h.update(&self.ms.to_le_bytes());
        for part in std::iter::once(&self.text)
            .chain(&self.hashtags)
            .chain(&self.mentions)
        {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let bytes = h.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&bytes.as_bytes()[..8]);
        u64::from_le_bytes(first)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn files_tags_and_mentions_are_indexed() {
        let files = [FileTerms {
            name: "gfs.grb2".into(),
            summary: Some("vent 10 m".into()),
        }];
        let d = IndexDoc::new(
            EventId([1; 32]),
            ChannelId([2; 16]),
            PublicKey([3; 32]),
            5,
            "#GRIB pour @Anne et @bob",
            &files,
            &["Chloé".into()],
        );
        assert_eq!(d.text, "#GRIB pour @Anne et @bob\ngfs.grb2 vent 10 m");
        assert_eq!(d.hashtags, ["grib"]);
        assert_eq!(d.mentions, ["anne", "bob", "chloe"]);
        let mut edited = d.clone();
        edited.text.push('!');
        assert_ne!(d.version(), edited.version());
    }
}
