//! The node's durable event store: [`SledStore`], sled 0.34 behind the core's
//! [`proto::store::Store`] trait, plus the node's own indexes (post timelines, threads,
//! read markers) in [`index`].
//!
//! # Trees
//! Named `<key>_<value>`, each with its key layout below; [`ALL_TREES`] lists them all. Key
//! encodings live in [`keys`] (fixed-width ids, big-endian numbers, no separators).
//!
//! # Durability
//! sled only fsyncs its log every 500 ms on its own, so a crash could lose writes it already
//! returned from. Every insert here calls [`sled::Db::flush`] before returning `Ok`
//! ([`Store::insert_many`] once per batch), unless the caller deferred it
//! ([`SledStore::defer_flush`], the actor's group commit of local posts, which flushes once
//! before it acknowledges any of them): an event the node acknowledged survives a crash.
//! The four trees an event touches are written in one sled transaction per batch (one
//! [`sled::Batch`] per tree), so a crash never leaves an event without its channel item,
//! or the reverse.
//!
//! Reads trust the store: events were verified before they were written, so
//! [`Store::get`] decodes without checking the signature again.

mod auth;
mod index;
pub(crate) mod keys;
mod schema;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::event::SignedEvent;
use proto::id::{ChannelId, EventId, FlotillaId};
use proto::store::{Item, Store, StoreError};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

pub use auth::{SESSIONHASH_SESSION, StoredSession, StoredToken, TOKENHASH_TOKEN};
pub use index::{Cursor, MAX_PAGE, Page, PostIndex};
pub use schema::{Migration, SCHEMA_VERSION};

/// `EventId -> SignedEvent` wire bytes (what [`SignedEvent::decode`] takes).
pub const EVENTID_EVENT: &str = "eventid_event";
/// `FlotillaId ++ ChannelId ++ hlc.ms (u64 BE) ++ EventId -> ()`: the core's reconciliation
/// items, so [`Store::channel_items`] is one ordered prefix scan.
pub const CHANNELITEM_EMPTY: &str = "channelitem_empty";
/// `FlotillaId ++ ChannelId -> ()`: the channels of a flotilla that hold an event.
pub const FLOTILLACHANNEL_EMPTY: &str = "flotillachannel_empty";
/// `FlotillaId ++ ChannelId ++ Hlc (ms u64 BE ++ logical u32 BE) ++ EventId -> ()`: root
/// posts of a channel, for the timeline (replies live in [`ROOTREPLY_EMPTY`]).
pub const CHANNELROOT_EMPTY: &str = "channelroot_empty";
/// `root EventId ++ Hlc ++ EventId -> ()`: the replies of a thread.
pub const ROOTREPLY_EMPTY: &str = "rootreply_empty";
/// `FlotillaId ++ ChannelId ++ Hlc ++ EventId -> author PublicKey`: every post and reply of
/// a channel, for unread counts.
pub const CHANNELPOST_AUTHOR: &str = "channelpost_author";
/// `user PublicKey ++ FlotillaId ++ ChannelId -> Hlc`: how far a user has read a channel.
pub const USERCHANNEL_READHLC: &str = "userchannel_readhlc";
/// `FlotillaId ++ author PublicKey ++ seq (u64 BE) ++ EventId -> ChannelId`: every event by
/// its author and the author's own number, so a removal finds what its cut withdraws with
/// one range read, and a start each author's last number with one read per author (schema
/// 3; schema 2 keyed it by HLC, which an author chooses).
pub const AUTHOR_EVENT: &str = "author_event";
/// `FlotillaId -> u64 BE`: how many events of the flotilla are stored, updated in the batch
/// that stores them (schema 2), so counting is O(1).
pub const FLOTILLA_COUNT: &str = "flotilla_count";
/// `name (utf-8) -> value`: store metadata; `schema_version -> u32 BE`.
pub const META_VALUE: &str = "meta_value";
/// `FlotillaId -> genesis EventId`: the flotillas this node follows, resumed at start.
pub const FLOTILLA_GENESIS: &str = "flotilla_genesis";
/// `username (utf-8) -> nonce (24 B) ++ XChaCha20-Poly1305(user seed)`: the local users'
/// keys, encrypted under a key derived from the node key (see `crate::users`).
pub const USERNAME_USERKEY: &str = "username_userkey";
/// `username (utf-8) -> postcard(`[`Account`]`)`: the local users' accounts (argon2
/// password hash, node-admin flag), made by `flotilla user create`.
pub const USERNAME_ACCOUNT: &str = "username_account";

/// Every tree this store opens. A test checks that the database holds exactly these.
pub const ALL_TREES: &[&str] = &[
    EVENTID_EVENT,
    CHANNELITEM_EMPTY,
    FLOTILLACHANNEL_EMPTY,
    CHANNELROOT_EMPTY,
    ROOTREPLY_EMPTY,
    CHANNELPOST_AUTHOR,
    AUTHOR_EVENT,
    FLOTILLA_COUNT,
    USERCHANNEL_READHLC,
    META_VALUE,
    FLOTILLA_GENESIS,
    USERNAME_USERKEY,
    USERNAME_ACCOUNT,
    SESSIONHASH_SESSION,
    TOKENHASH_TOKEN,
];

/// sled's page cache. sled's default is 1 GiB, too much for a Raspberry Pi sharing its
/// memory with the web UI; 64 MiB holds far more than a flotilla's working set.
pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store was written by a newer flotilla; opening it could damage it.
    #[error(
        "store schema version {found} is newer than the {supported} this flotilla supports: \
         upgrade flotilla (the store was left untouched)"
    )]
    NewerSchema {
        /// The version found on disk.
        found: u32,
        /// [`SCHEMA_VERSION`].
        supported: u32,
    },
    /// An older schema with no migration to the next version.
    #[error("no migration from store schema version {from}")]
    NoMigration {
        /// The version found on disk.
        from: u32,
    },
    /// sled failed (I/O, or the database is locked by another process).
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    /// Stored bytes do not decode.
    #[error("corrupt store: {0}")]
    Corrupt(String),
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::Corrupt(what) => StoreError::Corrupt(what),
            other => StoreError::Backend(other.to_string()),
        }
    }
}

/// The events and indexes of one node, in a sled database. Cheap to clone (sled handles are
/// reference-counted); every method is synchronous and may block on disk, so async callers
/// use `spawn_blocking`.
#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
    events: sled::Tree,
    items: sled::Tree,
    channels: sled::Tree,
    roots: sled::Tree,
    replies: sled::Tree,
    posts: sled::Tree,
    authors: sled::Tree,
    counts: sled::Tree,
    read: sled::Tree,
    geneses: sled::Tree,
    users: sled::Tree,
    accounts: sled::Tree,
    /// While set, event inserts skip their flush: the caller (the actor's group commit)
    /// flushes once for several writes before it acknowledges any of them.
    defer_flush: Arc<AtomicBool>,
    /// Flushes made (for the test that counts one per batch).
    flushes: Arc<AtomicU64>,
}

/// A local user's account, as stored in [`USERNAME_ACCOUNT`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    /// The argon2id hash of the password, as a PHC string (`$argon2id$v=19$...`).
    pub password_phc: String,
    /// A node admin (`user create --admin`): founds flotillas and acts for the node.
    pub admin: bool,
    /// Deactivated (`user deactivate`): cannot log in until `user activate`. Accounts stored
    /// before this field existed decode as active (see [`decode_account`]).
    pub deactivated: bool,
}

/// An account as stored before `deactivated` (postcard has no optional trailing fields).
#[derive(serde::Deserialize)]
struct AccountV1 {
    password_phc: String,
    admin: bool,
}

/// Decodes an [`Account`], or one stored before `deactivated` existed (then active).
fn decode_account(bytes: &[u8]) -> Result<Account, Error> {
    if let Ok(account) = postcard::from_bytes::<Account>(bytes) {
        return Ok(account);
    }
    let old: AccountV1 = postcard::from_bytes(bytes).map_err(|_| corrupt("account"))?;
    Ok(Account {
        password_phc: old.password_phc,
        admin: old.admin,
        deactivated: false,
    })
}

/// How long [`SledStore::open`] waits for the store's file lock. Dropping a store does not
/// release the lock at once: sled's background flusher holds the database until it wakes
/// and sees it closed, which on a loaded machine can take a moment. A store reopened in the
/// same process (a restart, a test) waits that out; one held by another process is refused
/// after this long.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens sled at `path`, retrying while the file lock is still held (see [`LOCK_WAIT`]).
fn open_db(path: &Path) -> Result<sled::Db, Error> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        let opened = sled::Config::new()
            .path(path)
            .cache_capacity(DEFAULT_CACHE_BYTES)
            .open();
        match opened {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

impl SledStore {
    /// Opens (or creates) the store in directory `path`, checks its schema version and runs
    /// any migrations.
    ///
    /// # Errors
    /// [`Error::NewerSchema`] for a store from a newer flotilla, [`Error::Sled`] if sled
    /// cannot open it (for instance another process holds it).
    pub fn open(path: &Path) -> Result<Self, Error> {
        let db = open_db(path)?;
        schema::check_and_migrate(&db, schema::MIGRATIONS)?;
        Self::from_db(db)
    }

    fn from_db(db: sled::Db) -> Result<Self, Error> {
        // Opened on use by `auth`; created here so a new store holds every tree.
        db.open_tree(SESSIONHASH_SESSION)?;
        db.open_tree(TOKENHASH_TOKEN)?;
        Ok(SledStore {
            events: db.open_tree(EVENTID_EVENT)?,
            items: db.open_tree(CHANNELITEM_EMPTY)?,
            channels: db.open_tree(FLOTILLACHANNEL_EMPTY)?,
            roots: db.open_tree(CHANNELROOT_EMPTY)?,
            replies: db.open_tree(ROOTREPLY_EMPTY)?,
            posts: db.open_tree(CHANNELPOST_AUTHOR)?,
            authors: db.open_tree(AUTHOR_EVENT)?,
            counts: db.open_tree(FLOTILLA_COUNT)?,
            read: db.open_tree(USERCHANNEL_READHLC)?,
            geneses: db.open_tree(FLOTILLA_GENESIS)?,
            users: db.open_tree(USERNAME_USERKEY)?,
            accounts: db.open_tree(USERNAME_ACCOUNT)?,
            defer_flush: Arc::new(AtomicBool::new(false)),
            flushes: Arc::new(AtomicU64::new(0)),
            db,
        })
    }

    /// How many events are stored: the sum of the per-flotilla counts ([`FLOTILLA_COUNT`]),
    /// O(flotillas).
    pub fn event_count(&self) -> usize {
        self.counts
            .iter()
            .filter_map(|kv| kv.ok().and_then(|(_, v)| keys::decode_u64(&v)))
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
            .fold(0, usize::saturating_add)
    }

    /// Defers (or stops deferring) the flush of event inserts: see [`Self::flush`]. Shared by
    /// every clone of this store.
    pub fn defer_flush(&self, defer: bool) {
        self.defer_flush.store(defer, Ordering::Relaxed);
    }

    fn flush_events(&self) -> Result<(), Error> {
        if self.defer_flush.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.flush()
    }

    /// Bytes the database takes on disk (0 if sled cannot tell).
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// How many times [`Self::flush`] ran since the store was opened.
    pub fn flush_count(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }

    /// How many events of `flotilla` are stored (revoked ones included). O(1).
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn flotilla_event_count(&self, flotilla: &FlotillaId) -> Result<u64, Error> {
        Ok(self
            .counts
            .get(flotilla.0)?
            .and_then(|v| keys::decode_u64(&v))
            .unwrap_or(0))
    }

    /// Makes every write so far durable.
    ///
    /// # Errors
    /// [`Error::Sled`] if the fsync fails.
    pub fn flush(&self) -> Result<(), Error> {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.db.flush()?;
        Ok(())
    }

    /// Records that this node follows `flotilla`, founded by `genesis`. Flushed.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn set_genesis(&self, flotilla: &FlotillaId, genesis: &EventId) -> Result<(), Error> {
        self.geneses.insert(flotilla.0, &genesis.0[..])?;
        self.flush()
    }

    /// Every flotilla this node follows, with its genesis.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails, [`Error::Corrupt`] for an undecodable entry.
    pub fn geneses(&self) -> Result<Vec<(FlotillaId, EventId)>, Error> {
        self.geneses
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let f = k.as_ref().try_into().map_err(|_| corrupt("flotilla id"))?;
                let g = v.as_ref().try_into().map_err(|_| corrupt("genesis id"))?;
                Ok((FlotillaId(f), EventId(g)))
            })
            .collect()
    }

    /// Stores a local user's encrypted key under its username (replacing any). Flushed.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn put_user_key(&self, username: &str, sealed: &[u8]) -> Result<(), Error> {
        self.users.insert(username.as_bytes(), sealed)?;
        self.flush()
    }

    /// Every local user with its encrypted key.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails, [`Error::Corrupt`] for a username that is not utf-8.
    pub fn user_keys(&self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        self.users
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let name = String::from_utf8(k.to_vec()).map_err(|_| corrupt("username"))?;
                Ok((name, v.to_vec()))
            })
            .collect()
    }

    /// Stores a local user's account (replacing any). Flushed.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn put_account(&self, username: &str, account: &Account) -> Result<(), Error> {
        let bytes = postcard::to_stdvec(account).map_err(|_| corrupt("account"))?;
        self.accounts.insert(username.as_bytes(), bytes)?;
        self.flush()
    }

    /// Forgets a local user: its account and its encrypted key (`user delete`). Flushed.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn remove_user(&self, username: &str) -> Result<(), Error> {
        self.accounts.remove(username.as_bytes())?;
        self.users.remove(username.as_bytes())?;
        self.flush()
    }

    /// Every local account, by username.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails, [`Error::Corrupt`] for an undecodable entry.
    pub fn accounts(&self) -> Result<Vec<(String, Account)>, Error> {
        self.accounts
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let name = String::from_utf8(k.to_vec()).map_err(|_| corrupt("username"))?;
                Ok((name, decode_account(&v)?))
            })
            .collect()
    }

    /// Writes the new events among `events` and their indexes in one transaction (one sled
    /// batch per tree), without flushing; returns how many were new.
    fn write_events(&self, events: &[SignedEvent]) -> Result<usize, Error> {
        let mut batches: [sled::Batch; 4] = Default::default();
        let mut seen = HashSet::with_capacity(events.len());
        let mut per_flotilla: BTreeMap<FlotillaId, u64> = BTreeMap::new();
        let mut new = 0;
        for event in events {
            let id = event.id();
            if !seen.insert(id) || self.events.contains_key(id.0)? {
                continue;
            }
            new += 1;
            let env = event.envelope();
            *per_flotilla.entry(env.flotilla).or_default() += 1;
            let [rows, items, channels, authors] = &mut batches;
            rows.insert(&id.0[..], event.bytes());
            items.insert(
                keys::item(&env.flotilla, &env.channel, env.hlc.ms, &id),
                &[][..],
            );
            channels.insert(keys::channel(&env.flotilla, &env.channel), &[][..]);
            authors.insert(
                keys::authored(&env.flotilla, &env.author, env.seq, &id),
                &env.channel.0[..],
            );
        }
        if new == 0 {
            return Ok(0);
        }
        let trees = (
            &self.events,
            &self.items,
            &self.channels,
            &self.authors,
            &self.counts,
        );
        let res = trees.transaction(|(rows, items, channels, authors, counts)| {
            rows.apply_batch(&batches[0])?;
            items.apply_batch(&batches[1])?;
            channels.apply_batch(&batches[2])?;
            authors.apply_batch(&batches[3])?;
            for (flotilla, added) in &per_flotilla {
                let old = counts.get(flotilla.0)?.and_then(|v| keys::decode_u64(&v));
                let total = old.unwrap_or(0) + added;
                counts.insert(&flotilla.0[..], &total.to_be_bytes()[..])?;
            }
            Ok::<_, ConflictableTransactionError<()>>(())
        });
        res.map_err(from_tx)?;
        Ok(new)
    }

    fn read_items(&self, prefix: &[u8]) -> Result<Vec<Item>, Error> {
        self.items
            .scan_prefix(prefix)
            .map(|kv| {
                let (k, _) = kv?;
                keys::decode_item(&k).ok_or_else(|| corrupt("channel item key"))
            })
            .collect()
    }
}

/// Our transactions never abort on purpose, so only the storage error is left.
fn from_tx(e: TransactionError<()>) -> Error {
    match e {
        TransactionError::Storage(e) => Error::Sled(e),
        TransactionError::Abort(()) => Error::Corrupt("transaction aborted".into()),
    }
}

/// The smallest key greater than every key starting with `prefix`, if any.
fn next_prefix(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.pop() {
        if last < 0xff {
            next.push(last + 1);
            return Some(next);
        }
    }
    None
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("undecodable {what}"))
}

impl Store for SledStore {
    fn insert(&mut self, event: &SignedEvent) -> Result<bool, StoreError> {
        let new = self.write_events(std::slice::from_ref(event))?;
        self.flush_events()?;
        Ok(new > 0)
    }

    fn insert_many(&mut self, events: &[SignedEvent]) -> Result<usize, StoreError> {
        let new = self.write_events(events)?;
        self.flush_events()?;
        Ok(new)
    }

    /// Trusts the bytes: the node verified every event before writing it, and sled
    /// checksums what it reads back ([`SignedEvent::decode_stored`]).
    fn get(&self, id: &EventId) -> Result<Option<SignedEvent>, StoreError> {
        let Some(bytes) = self.events.get(id.0).map_err(Error::from)? else {
            return Ok(None);
        };
        let event = SignedEvent::decode_stored(&bytes)
            .map_err(|e| Error::Corrupt(format!("event {id}: {e}")))?;
        Ok(Some(event))
    }

    fn contains(&self, id: &EventId) -> Result<bool, StoreError> {
        Ok(self.events.contains_key(id.0).map_err(Error::from)?)
    }

    fn channel_items(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
    ) -> Result<Vec<Item>, StoreError> {
        Ok(self.read_items(&keys::channel(flotilla, channel))?)
    }

    fn channels(&self, flotilla: &FlotillaId) -> Result<Vec<ChannelId>, StoreError> {
        let channels: Result<Vec<_>, Error> = self
            .channels
            .scan_prefix(flotilla.0)
            .map(|kv| keys::decode_channel(&kv?.0).ok_or_else(|| corrupt("channel key")))
            .collect();
        Ok(channels?)
    }

    fn authored_after(
        &self,
        flotilla: &FlotillaId,
        author: &PublicKey,
        seq: u64,
    ) -> Result<Vec<(EventId, ChannelId)>, StoreError> {
        let prefix = keys::author(flotilla, author);
        let Some(from) = seq.checked_add(1) else {
            return Ok(vec![]);
        };
        let start = keys::authored(flotilla, author, from, &EventId([0; 32]));
        let mut out = Vec::new();
        for kv in self.authors.range(start..) {
            let (k, v) = kv.map_err(Error::from)?;
            if !k.starts_with(&prefix) {
                break;
            }
            let (_, _, id) = keys::decode_authored(&k).ok_or_else(|| corrupt("author key"))?;
            let channel = v
                .as_ref()
                .try_into()
                .map_err(|_| corrupt("author channel"))?;
            out.push((id, ChannelId(channel)));
        }
        Ok(out)
    }

    /// One read per author: the last key under each author's prefix, then a jump past it.
    fn author_seqs(
        &self,
        flotilla: &FlotillaId,
    ) -> Result<Vec<(PublicKey, u64, EventId)>, StoreError> {
        let mut out = Vec::new();
        let mut from = flotilla.0.to_vec();
        loop {
            let Some(kv) = self.authors.range(from.clone()..).next() else {
                break;
            };
            let (k, _) = kv.map_err(Error::from)?;
            if !k.starts_with(&flotilla.0) {
                break;
            }
            let (who, _, _) = keys::decode_authored(&k).ok_or_else(|| corrupt("author key"))?;
            let prefix = keys::author(flotilla, &who);
            let last = self.authors.scan_prefix(&prefix).next_back();
            let Some(last) = last else {
                break;
            };
            let (k, _) = last.map_err(Error::from)?;
            let (_, seq, id) = keys::decode_authored(&k).ok_or_else(|| corrupt("author key"))?;
            out.push((who, seq, id));
            // The next author: the prefix with its last byte bumped (carrying); past the
            // all-ones key nothing of this flotilla follows.
            match next_prefix(&prefix) {
                Some(next) if next.starts_with(&flotilla.0) => from = next,
                _ => break,
            }
        }
        Ok(out)
    }
}
