//! Reading and decrypting a channel's stored events for the fold ([`super::cache`]): the
//! cold cost of the first view of a channel after a start. Each event is one store read, one
//! decode (no signature check: [`SignedEvent::decode_stored`]) and one decryption; a large
//! channel is split over up to [`MAX_LOAD_THREADS`] scoped threads, the fold itself being
//! applied afterwards, in order, by the caller.

use flotilla_protocol as proto;
use proto::id::EventId;
use proto::keyring::Keyring;
use proto::store::Store;
use proto::{Content, SignedEvent};

use crate::Error;
use crate::store::{self, SledStore};

/// The most threads one load uses.
pub(super) const MAX_LOAD_THREADS: usize = 4;

/// The most events one [`open_all`] call is given by the fold loader (the decrypted events
/// it holds at once before folding them).
pub(super) const LOAD_WINDOW: usize = 8192;

/// Below this many events a load stays on the calling thread (a thread costs more).
pub(super) const PARALLEL_LOAD_MIN: usize = 1024;

/// The events `ids` read from the store and decrypted, in the order of `ids`; events the
/// keyring cannot open (a key this node does not hold) are left out, as are ids the store
/// does not hold.
///
/// # Errors
/// A store read failed.
pub(super) fn open_all(
    store: &SledStore,
    keyring: &Keyring,
    ids: &[EventId],
) -> Result<Vec<(SignedEvent, Content)>, Error> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_LOAD_THREADS);
    if threads < 2 || ids.len() < PARALLEL_LOAD_MIN {
        return open_chunk(store, keyring, ids);
    }
    let chunk = ids.len().div_ceil(threads);
    let parts: Vec<Result<Vec<(SignedEvent, Content)>, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .chunks(chunk)
            .map(|part| s.spawn(move || open_chunk(store, keyring, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(store::Error::Corrupt("a fold loader thread panicked".into()).into())
                })
            })
            .collect()
    });
    let mut out = Vec::with_capacity(ids.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

fn open_chunk(
    store: &SledStore,
    keyring: &Keyring,
    ids: &[EventId],
) -> Result<Vec<(SignedEvent, Content)>, Error> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(event) = store.get(id)?
            && let Ok(content) = keyring.open_content(&event)
        {
            out.push((event, content));
        }
    }
    Ok(out)
}
