//! The store's schema version and its migrations.
//!
//! The version lives under the `schema_version` key of [`super::META_VALUE`]. A new store is
//! stamped with [`SCHEMA_VERSION`]. An older store is brought forward one version at a time
//! by [`MIGRATIONS`]; a newer one is refused untouched, because this code cannot know what a
//! later flotilla changed.

use super::{Error, META_VALUE};

/// The schema this code reads and writes. Bump it with a [`Migration`] from the previous one.
pub const SCHEMA_VERSION: u32 = 3;

/// The key of the version in [`META_VALUE`].
const VERSION_KEY: &[u8] = b"schema_version";

/// One step forward: turns a store at version `from` into one at `from + 1`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version this step starts from.
    pub from: u32,
    /// Rewrites the database. Must be idempotent: a crash before the new version is written
    /// runs it again.
    pub run: fn(&sled::Db) -> Result<(), Error>,
}

/// Every migration, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        from: 1,
        run: author_index,
    },
    Migration {
        from: 2,
        run: author_index,
    },
];

/// 1 → 2 and 2 → 3: (re)builds [`super::AUTHOR_EVENT`] and [`super::FLOTILLA_COUNT`] from
/// the stored events (once; later events update them in the batch that stores them).
/// Schema 2 keyed the author index by HLC, schema 3 by the author's sequence number: the
/// tree is cleared and filled again. Idempotent: the index is rebuilt and the counts are
/// recomputed whole.
fn author_index(db: &sled::Db) -> Result<(), Error> {
    let events = db.open_tree(super::EVENTID_EVENT)?;
    let authors = db.open_tree(super::AUTHOR_EVENT)?;
    authors.clear()?;
    let counts = db.open_tree(super::FLOTILLA_COUNT)?;
    let mut per_flotilla = std::collections::BTreeMap::<[u8; 16], u64>::new();
    let mut batch = sled::Batch::default();
    for kv in &events {
        let (_, bytes) = kv?;
        let event = flotilla_protocol::SignedEvent::decode_stored(&bytes)
            .map_err(|e| Error::Corrupt(format!("event: {e}")))?;
        let env = event.envelope();
        let key = super::keys::authored(&env.flotilla, &env.author, env.seq, &event.id());
        batch.insert(key, &env.channel.0[..]);
        *per_flotilla.entry(env.flotilla.0).or_default() += 1;
    }
    authors.apply_batch(batch)?;
    for (flotilla, n) in per_flotilla {
        counts.insert(flotilla, &n.to_be_bytes()[..])?;
    }
    db.flush()?;
    Ok(())
}

/// Stamps a new store, refuses a newer one, migrates an older one.
pub(crate) fn check_and_migrate(db: &sled::Db, migrations: &[Migration]) -> Result<(), Error> {
    let meta = db.open_tree(META_VALUE)?;
    let Some(mut found) = read_version(&meta)? else {
        return write_version(db, &meta, SCHEMA_VERSION);
    };
    if found > SCHEMA_VERSION {
        return Err(Error::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    while found < SCHEMA_VERSION {
        let step = migrations
            .iter()
            .find(|m| m.from == found)
            .ok_or(Error::NoMigration { from: found })?;
        tracing::info!(from = found, to = found + 1, "migrating store schema");
        (step.run)(db)?;
        found += 1;
        write_version(db, &meta, found)?;
    }
    Ok(())
}

/// The stored version, or `None` for a store never stamped.
pub(crate) fn read_version(meta: &sled::Tree) -> Result<Option<u32>, Error> {
    let Some(bytes) = meta.get(VERSION_KEY)? else {
        return Ok(None);
    };
    let raw: [u8; 4] = bytes
        .as_ref()
        .try_into()
        .map_err(|_| Error::Corrupt("schema version".into()))?;
    Ok(Some(u32::from_be_bytes(raw)))
}

/// Writes the version and flushes, so a migration is never recorded before it is durable.
pub(crate) fn write_version(db: &sled::Db, meta: &sled::Tree, version: u32) -> Result<(), Error> {
    meta.insert(VERSION_KEY, &version.to_be_bytes()[..])?;
    db.flush()?;
    Ok(())
}
