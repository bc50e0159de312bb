//! Ingest: judging, storing and publishing events, local or received, and the pending
//! buffer of events whose control deps are not known yet.

use std::collections::{BTreeSet, HashSet};

use super::{Event, Flotilla, OutEvent, Pending, State};
use crate::crypto::PublicKey;
use crate::entropy::Entropy;
use crate::event::{Control, SignedEvent};
use crate::hlc::Clock;
use crate::id::{EventId, FlotillaId};
use crate::keyring::Keyring;
use crate::membership::{Ledger, Verdict};
use crate::store::Store;

/// What one ingest step gathered.
#[derive(Debug, Default)]
struct Batch {
    /// Accepted, in acceptance order, with their `local` flag.
    accepted: Vec<(SignedEvent, bool)>,
    /// Ids accepted in this step (not yet in the store).
    ids: HashSet<EventId>,
    /// Control deps found missing.
    missing: BTreeSet<EventId>,
    /// A control event was accepted since pending events were last judged.
    control_progress: bool,
}

impl<S: Store, R: Entropy> State<S, R> {
    /// Judges `events` (all of `flotilla`), stores the accepted ones in one batch, publishes
    /// them, and wants missing deps from `from`.
    pub(super) fn ingest(
        &mut self,
        flotilla: FlotillaId,
        events: Vec<SignedEvent>,
        from: Option<PublicKey>,
        local: bool,
        now_ms: u64,
    ) {
        self.adopt_if_joining(flotilla, &events);
        if !self.flotillas.contains_key(&flotilla) {
            return;
        }
        let mut batch = Batch::default();
        for event in events {
            self.judge(flotilla, event, from, local, &mut batch);
        }
        self.retry_pending(flotilla, &mut batch);
        if let Some(peer) = from {
            let missing: Vec<EventId> = batch.missing.iter().copied().collect();
            self.want(peer, flotilla, missing);
        }
        self.commit(flotilla, batch.accepted, now_ms);
    }

    /// A flotilla being joined starts when its genesis (the one we were given) arrives.
    fn adopt_if_joining(&mut self, flotilla: FlotillaId, events: &[SignedEvent]) {
        if self.flotillas.contains_key(&flotilla) || self.joins.is_empty() {
            return;
        }
        let genesis = events.iter().find(|e| {
            self.joins.contains(&e.id())
                && e.envelope().flotilla == flotilla
                && matches!(e.control(), Some(Control::Genesis { .. }))
        });
        if let Some(genesis) = genesis {
            let id = genesis.id();
            self.joins.remove(&id);
            let state = Flotilla {
                ledger: Ledger::new(id),
                keyring: Keyring::new(),
                clock: Clock::new(),
                revoked: BTreeSet::new(),
            };
            self.flotillas.insert(flotilla, state);
        }
    }

    fn is_known(&mut self, id: &EventId, batch: &Batch) -> bool {
        if batch.ids.contains(id) || self.pending_ids.contains(id) {
            return true;
        }
        match self.store.contains(id) {
            Ok(known) => known,
            Err(e) => {
                self.deliver(Event::StoreFailed(e));
                true // cannot tell: do not accept it twice; the next round brings it again
            }
        }
    }

    fn judge(
        &mut self,
        flotilla: FlotillaId,
        event: SignedEvent,
        from: Option<PublicKey>,
        local: bool,
        batch: &mut Batch,
    ) {
        if self.is_known(&event.id(), batch) {
            return;
        }
        let Some(f) = self.flotillas.get_mut(&flotilla) else {
            return;
        };
        match f.ledger.check(&event) {
            Verdict::Accept => {
                if f.ledger.insert(&event) {
                    let commits = &f.ledger.state().key_commits;
                    f.keyring.absorb_checked(&event, &self.node_key, commits);
                    batch.control_progress = true;
                }
                batch.ids.insert(event.id());
                batch.accepted.push((event, local));
            }
            Verdict::MissingDeps(ids) => {
                batch.missing.extend(ids);
                self.push_pending(Pending { event, from, local });
            }
            Verdict::Reject(reason) => {
                let id = event.id();
                self.deliver(Event::Rejected { from, id, reason });
            }
        }
    }

    fn push_pending(&mut self, pending: Pending) {
        while self.pending.len() >= self.config.max_pending {
            // Oldest first: it comes again with the next reconciliation.
            match self.pending.pop_front() {
                Some(old) => {
                    self.pending_ids.remove(&old.event.id());
                }
                None => break,
            }
        }
        self.pending_ids.insert(pending.event.id());
        self.pending.push_back(pending);
    }

    /// Judges again the pending events of `flotilla` while control events keep arriving.
    fn retry_pending(&mut self, flotilla: FlotillaId, batch: &mut Batch) {
        while batch.control_progress {
            batch.control_progress = false;
            let (mine, others): (Vec<Pending>, Vec<Pending>) = self
                .pending
                .drain(..)
                .partition(|p| p.event.envelope().flotilla == flotilla);
            self.pending.extend(others);
            for p in mine {
                self.pending_ids.remove(&p.event.id());
                self.judge(flotilla, p.event, p.from, p.local, batch);
            }
        }
    }

    /// Stores accepted events in one batch, then reports and publishes them.
    pub(super) fn commit(
        &mut self,
        flotilla: FlotillaId,
        accepted: Vec<(SignedEvent, bool)>,
        now_ms: u64,
    ) {
        if accepted.is_empty() {
            return;
        }
        let events: Vec<SignedEvent> = accepted.iter().map(|(e, _)| e.clone()).collect();
        if let Err(e) = self.store.insert_many(&events) {
            self.deliver(Event::StoreFailed(e));
            // The ledger already took this batch's control events: bring it back to what the
            // store holds, so that the events are judged and stored again when they return.
            if let Err(e) = self.reload(flotilla) {
                self.deliver(Event::StoreFailed(e));
            }
            return;
        }
        let mut control = false;
        let mut removal = false;
        for (event, local) in accepted {
            let env = event.envelope();
            if let Some(f) = self.flotillas.get_mut(&flotilla) {
                // A link that extends a cut author's chain can make more of its stored
                // events count, or show that others never will.
                removal |= f.ledger.observe(&event);
            }
            let is_control = event.control().is_some();
            control |= is_control;
            removal |= matches!(
                event.control(),
                Some(
                    Control::NodeRemove { .. }
                        | Control::UserRemove { .. }
                        | Control::RoleRevoke { .. }
                )
            );
            if let Some(f) = self.flotillas.get_mut(&flotilla) {
                f.clock.observe(env.hlc, now_ms);
            }
            if let Some(set) = self.cache.get_mut(&(flotilla, env.channel)) {
                set.insert((env.hlc.ms, event.id()));
            }
            self.deliver(Event::Accepted {
                flotilla,
                id: event.id(),
                channel: env.channel,
                control: is_control,
            });
            self.outbox.push(OutEvent::Publish {
                flotilla,
                event,
                local,
            });
        }
        if removal {
            self.revoke_after_removal(flotilla);
        } else if control {
            // A control event can cut an author without being a removal (the resolution of
            // concurrent events): the ledger keeps only cut authors' links, so it gets the
            // newly cut author's stored ones now.
            if let Err(e) = self.load_links(flotilla) {
                self.deliver(Event::StoreFailed(e));
            }
        }
        if control {
            self.greet_new_members(flotilla);
        }
    }

    /// Sends a Hello to connected peers that became members (or that we may now talk to).
    fn greet_new_members(&mut self, flotilla: FlotillaId) {
        let peers: Vec<PublicKey> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.greeted.contains(&flotilla))
            .map(|(k, _)| *k)
            .filter(|k| self.may_sync(&flotilla, k))
            .collect();
        for peer in peers {
            self.send_hello(peer, flotilla);
        }
    }

    /// Withdraws stored events of removed authors that their removal voids (content beyond
    /// the removal's cut, control events concurrent with it).
    fn revoke_after_removal(&mut self, flotilla: FlotillaId) {
        if let Err(e) = self.load_links(flotilla) {
            return self.deliver(Event::StoreFailed(e));
        }
        let revoked = match self.find_revoked(flotilla) {
            Ok(r) => r,
            Err(e) => return self.deliver(Event::StoreFailed(e)),
        };
        for (id, channel) in revoked {
            if let Some(f) = self.flotillas.get_mut(&flotilla) {
                f.revoked.insert(id);
            }
            // Rare: the channel's set is read again from the store when next needed.
            self.cache.remove(&(flotilla, channel));
            self.deliver(Event::Revoked { flotilla, id });
        }
    }

    /// Gives the ledger the chain links of the stored events of every author a cut newly
    /// names (stored before the ledger was rebuilt or before the cut was known): one range
    /// read of the store's author index per such author, and one read per event of it.
    fn load_links(&mut self, flotilla: FlotillaId) -> Result<(), crate::store::StoreError> {
        let Some(f) = self.flotillas.get_mut(&flotilla) else {
            return Ok(());
        };
        for author in f.ledger.needs_links() {
            for (id, _) in self.store.authored_after(&flotilla, &author, 0)? {
                if let Some(event) = self.store.get(&id)? {
                    f.ledger.add_link(id, crate::membership::Link::of(&event));
                }
            }
        }
        Ok(())
    }

    /// Stored events of `flotilla` that their authors' removals withdraw and that are not
    /// revoked yet (`Ledger::is_withdrawn`, by the causal rule of §5.3, never by an
    /// author-chosen timestamp or number): for each removed key, the content that is not on
    /// the hash chain ending at its cut, at numbers the chain already reaches (after the
    /// cut, or forks), one range read of the store's author index; and the removed keys'
    /// control events that the resolution voids, from the ledger in memory. Never a walk of
    /// the flotilla.
    fn find_revoked(
        &self,
        flotilla: FlotillaId,
    ) -> Result<Vec<(EventId, crate::id::ChannelId)>, crate::store::StoreError> {
        let Some(f) = self.flotillas.get(&flotilla) else {
            return Ok(vec![]);
        };
        let ledger = &f.ledger;
        let mut out = Vec::new();
        for (author, cut) in &ledger.state().cuts {
            let floor = ledger.chain_floor(cut);
            for (id, channel) in self.store.authored_after(&flotilla, author, floor - 1)? {
                // Control events are judged by the resolution (below), not by number.
                if channel.is_control() || f.revoked.contains(&id) {
                    continue;
                }
                let on_chain = cut.head.and_then(|h| ledger.state().chains.get(&h));
                let withdrawn = match on_chain.filter(|c| c.contains_key(&id)) {
                    // On the chain: withdrawn only if held with another number.
                    Some(_) => self
                        .store
                        .get(&id)?
                        .is_some_and(|e| ledger.is_withdrawn(&e)),
                    None => true,
                };
                if withdrawn {
                    out.push((id, channel));
                }
            }
        }
        for id in ledger.void_ids() {
            let Some(event) = ledger.event(id) else {
                continue;
            };
            if !f.revoked.contains(id) && ledger.is_withdrawn(event) {
                out.push((*id, crate::id::ChannelId::CONTROL));
            }
        }
        Ok(out)
    }

    /// Rebuilds `flotilla`'s ledger, keyring, clock and revocations from the store (after a
    /// failed write, or when a node restarts on its data dir).
    pub(super) fn reload(&mut self, flotilla: FlotillaId) -> Result<(), crate::store::StoreError> {
        let Some(genesis) = self.flotillas.get(&flotilla).map(|f| f.ledger.genesis()) else {
            return Ok(());
        };
        let mut control = Vec::new();
        for (_, id) in self
            .store
            .channel_items(&flotilla, &crate::id::ChannelId::CONTROL)?
        {
            if let Some(event) = self.store.get(&id)? {
                control.push(event);
            }
        }
        // Any order works (the ledger waits for nothing: each event's deps were stored
        // before it); timestamp order keeps most insertions on the append path.
        control.sort_by_key(|e| (e.hlc(), e.id()));
        let mut rebuilt = Flotilla {
            ledger: Ledger::new(genesis),
            keyring: Keyring::new(),
            clock: Clock::new(),
            revoked: BTreeSet::new(),
        };
        for event in &control {
            if rebuilt.ledger.insert(event) {
                let commits = &rebuilt.ledger.state().key_commits;
                rebuilt
                    .keyring
                    .absorb_checked(event, &self.node_key, commits);
                rebuilt.clock.observe(event.hlc(), event.hlc().ms);
            }
        }
        for (author, seq, id) in self.store.author_seqs(&flotilla)? {
            rebuilt.ledger.observe_head(author, seq, id);
        }
        self.flotillas.insert(flotilla, rebuilt);
        self.load_links(flotilla)?;
        self.store_written(&flotilla);
        let revoked = self.find_revoked(flotilla)?;
        if let Some(f) = self.flotillas.get_mut(&flotilla) {
            f.revoked.extend(revoked.into_iter().map(|(id, _)| id));
        }
        Ok(())
    }
}
