//! Signature verification off the actor: the events of a received `Events` message are
//! decoded and verified on the blocking pool, split over the machine's cores (at most
//! [`MAX_VERIFY_THREADS`]), and come back to the actor as one [`Verified`] batch that the
//! core judges and stores without verifying again ([`InEvent::Verified`]). Strict
//! verification, one event at a time: no batch equation that a crafted signature could
//! make nodes disagree on.
//!
//! Batches in flight are bounded by the pull window ([`proto::sync::MAX_WANTS_IN_FLIGHT`]
//! ids per peer) and finished ones by [`VERIFIED_CAP`]; small messages (gossip-sized) are
//! verified on the actor, where a thread hop would cost more than it saves.

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::event::{InvalidEvent, SignedEvent};
use proto::id::FlotillaId;
use proto::sync::InEvent;
use tokio::sync::mpsc;

use super::Actor;

/// Verified batches waiting for the actor, at most.
pub(crate) const VERIFIED_CAP: usize = 16;
/// Threads one batch is split over, at most.
pub(crate) const MAX_VERIFY_THREADS: usize = 4;
/// Messages with fewer events are verified on the actor.
pub(crate) const MIN_OFF_ACTOR: usize = 16;

/// One `Events` message, decoded and verified.
#[derive(Debug)]
pub(super) struct Verified {
    peer: PublicKey,
    flotilla: FlotillaId,
    events: Vec<Result<SignedEvent, InvalidEvent>>,
}

/// Decodes and verifies `frames` over up to [`MAX_VERIFY_THREADS`] threads, in order.
fn verify_all(frames: &[Vec<u8>]) -> Vec<Result<SignedEvent, InvalidEvent>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, MAX_VERIFY_THREADS);
    let chunk = frames.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = frames
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let t = std::time::Instant::now();
                    let out = part
                        .iter()
                        .map(|bytes| SignedEvent::decode(bytes))
                        .collect::<Vec<_>>();
                    crate::profile::add(crate::profile::Stage::Verify, t);
                    out
                })
            })
            .collect();
        // `decode` never panics; a lost part would be found again by the next round.
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

impl Actor {
    /// Takes the events `peer` sent: verified on the blocking pool when there are enough
    /// of them, else handed to the core at once.
    pub(super) fn on_events(
        &mut self,
        peer: PublicKey,
        flotilla: FlotillaId,
        frames: Vec<Vec<u8>>,
    ) {
        if frames.len() < MIN_OFF_ACTOR {
            let msg = proto::wire::PeerMsg::Events {
                flotilla,
                events: frames,
            };
            self.drive(InEvent::Recv { peer, msg });
            return;
        }
        if !self.state.accepts_events(&peer, &flotilla) {
            tracing::debug!(peer = %peer.fmt_short(), "events from a peer we do not hear");
            return; // outsiders cost no verification
        }
        let tx = self.verified_tx.clone();
        tokio::task::spawn_blocking(move || {
            let events = verify_all(&frames);
            // The actor may be stopping: then the batch is dropped with it.
            let _ = tx.blocking_send(Verified {
                peer,
                flotilla,
                events,
            });
        });
    }

    /// A batch verified off the actor: judged and stored by the core.
    pub(super) fn on_verified(&mut self, batch: Verified) {
        tracing::debug!(events = batch.events.len(), "events verified off the actor");
        self.drive(InEvent::Verified {
            peer: batch.peer,
            flotilla: batch.flotilla,
            events: batch.events,
        });
    }
}

/// The channel verified batches come back on.
pub(super) fn channel() -> (mpsc::Sender<Verified>, mpsc::Receiver<Verified>) {
    mpsc::channel(VERIFIED_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::EventMaker;
    use proto::hlc::Hlc;

    #[test]
    fn a_batch_is_verified_in_order_and_a_bad_frame_is_reported() {
        let mut maker = EventMaker::new(7);
        let events: Vec<SignedEvent> = (0..100)
            .map(|i| maker.event(maker.channel(0), Hlc { ms: i, logical: 0 }))
            .collect();
        let mut frames: Vec<Vec<u8>> = events.iter().map(|e| e.bytes().to_vec()).collect();
        frames[50][10] ^= 1;
        let out = verify_all(&frames);
        assert_eq!(out.len(), 100);
        for (i, (got, want)) in out.iter().zip(&events).enumerate() {
            if i == 50 {
                assert!(got.is_err(), "frame 50 was damaged");
            } else {
                assert_eq!(got.as_ref().ok(), Some(want));
            }
        }
    }
}
