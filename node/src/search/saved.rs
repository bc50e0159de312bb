//! Saved (flagged) posts: each local user's bookmarks, Mattermost's "Saved messages". Kept in
//! one small JSON file beside the store (`saved-posts.json`, written to a temporary file and
//! renamed, so a crash leaves the old or the new list), newest first, at most
//! [`MAX_SAVED_PER_USER`] per user. They are the user's own: never sent to other boats.

use std::path::{Path, PathBuf};

use flotilla_protocol as proto;
use proto::id::{EventId, FlotillaId};
use serde::{Deserialize, Serialize};

use super::Error;

/// The file's name in the data directory.
pub const SAVED_FILE: &str = "saved-posts.json";
/// The most posts one user keeps saved; saving more forgets the oldest.
pub const MAX_SAVED_PER_USER: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    user: String,
    flotilla: String,
    post: String,
}

/// Every local user's saved posts.
#[derive(Debug)]
pub struct SavedPosts {
    path: PathBuf,
    /// Newest first.
    entries: Vec<Entry>,
}

impl SavedPosts {
    /// Loads the list from `path` (missing: empty; unreadable: empty, with a warning).
    pub fn load(path: PathBuf) -> SavedPosts {
        let entries = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(%e, path = %path.display(), "saved posts unreadable: starting empty");
                Vec::new()
            }),
            Err(_) => Vec::new(),
        };
        SavedPosts { path, entries }
    }

    /// Saves (`true`) or unsaves a post for `user`; written to disk before returning.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written (the change is then undone).
    pub fn set(
        &mut self,
        user: &str,
        flotilla: &FlotillaId,
        post: &EventId,
        saved: bool,
    ) -> Result<(), Error> {
        let entry = Entry {
            user: user.to_owned(),
            flotilla: flotilla.to_string(),
            post: post.to_string(),
        };
        let before = self.entries.clone();
        self.entries.retain(|e| *e != entry);
        if saved {
            self.entries.insert(0, entry);
            let mut kept = 0;
            self.entries.retain(|e| {
                let mine = e.user == user;
                kept += usize::from(mine);
                !mine || kept <= MAX_SAVED_PER_USER
            });
        }
        if let Err(e) = self.write() {
            self.entries = before;
            return Err(e);
        }
        Ok(())
    }

    /// `user`'s saved posts in `flotilla`, newest first.
    pub fn list(&self, user: &str, flotilla: &FlotillaId) -> Vec<EventId> {
        let f = flotilla.to_string();
        self.entries
            .iter()
            .filter(|e| e.user == user && e.flotilla == f)
            .filter_map(|e| e.post.parse().ok())
            .collect()
    }

    fn write(&self) -> Result<(), Error> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        let bytes = serde_json::to_vec(&self.entries)
            .map_err(|e| Error::Corrupt(format!("saved posts: {e}")))?;
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn saved_posts_survive_a_reload_newest_first_per_user() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SAVED_FILE);
        let f = FlotillaId([1; 16]);
        let mut s = SavedPosts::load(path.clone());
        s.set("anne", &f, &EventId([1; 32]), true).unwrap();
        s.set("anne", &f, &EventId([2; 32]), true).unwrap();
        s.set("bruno", &f, &EventId([3; 32]), true).unwrap();
        s.set("anne", &f, &EventId([1; 32]), true).unwrap();
        let s = SavedPosts::load(path.clone());
        assert_eq!(s.list("anne", &f), [EventId([1; 32]), EventId([2; 32])]);
        assert_eq!(s.list("bruno", &f), [EventId([3; 32])]);
        assert!(s.list("anne", &FlotillaId([2; 16])).is_empty());
        let mut s = s;
        s.set("anne", &f, &EventId([1; 32]), false).unwrap();
        assert_eq!(SavedPosts::load(path).list("anne", &f), [EventId([2; 32])]);
    }
}
