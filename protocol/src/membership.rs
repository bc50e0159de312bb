//! Membership: the control DAG of one flotilla and who may do what.
//!
//! Control events ([`Control`]) name in `deps` the control events their author had seen, so
//! they form a DAG rooted at the flotilla's genesis. The [`AuthState`] *as of* a set of events
//! is decided by the resolver (`resolve.rs`, whose module docs state the rule set): a fold in
//! a topological order of the DAG, with deterministic rules for concurrent acts (strong
//! remove, mutual removal, removal beats a concurrent re-add, uniqueness by causal
//! precedence, invite use limits). Timestamps decide nothing: an author chooses its own.
//!
//! An incoming event is judged ([`Ledger::check`]) against the state as of its own deps:
//! - its deps must all be known (else [`Verdict::MissingDeps`]: the caller fetches them);
//! - its author must be an active member there, with the right for the action (for an
//!   admission: a valid invite proof; for a user: the user key's signature);
//! - and its author must not be removed in the state this node knows now: a removed
//!   author's control events are refused (they cannot be in the removal's causal past, which
//!   this node holds), except a removal of its remover (mutual removal); its content is
//!   refused unless it is on the author's hash chain that ends at the removal's cut (the
//!   last event of the author the remover had seen, by number and id), whatever deps,
//!   timestamps and numbers it names. This is what stops a stale peer relaying a removed
//!   member's later events, and a removed member forking its own numbering.
//!
//! The ledger also keeps, per author, its latest event (what a local author's next event
//! names as `prev`, what a removal cuts at) and the chain links of the events it has seen,
//! from which it computes [`AuthState::chains`]: the events that count under each cut.
//!
//! The state is a function of the set of events, not of their arrival order.

pub mod removal;
mod resolve;
mod state;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use resolve::Node;
pub use state::{
    AuthError, AuthState, ChannelAuth, InviteState, NodeState, PrivateHistory, Profile, UserState,
};

use crate::crypto::PublicKey;
use crate::event::{Control, Cut, Kind, SignedEvent};
use crate::hlc::Hlc;
use crate::id::{EventId, FlotillaId};

/// How many `state_at` results are cached (most events share the same deps).
pub const STATE_CACHE_CAP: usize = 64;

/// The judgement on an incoming event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: store it (and, for control events, [`Ledger::insert`] it).
    Accept,
    /// Some control deps are unknown: fetch these, then check again.
    MissingDeps(Vec<EventId>),
    /// Never valid: drop it, store nothing.
    Reject(AuthError),
}

/// One flotilla's control events and the membership state they fold to.
#[derive(Debug, Clone)]
pub struct Ledger {
    genesis: EventId,
    flotilla: Option<FlotillaId>,
    nodes: HashMap<EventId, Node>,
    heads: BTreeSet<EventId>,
    state: Arc<AuthState>,
    /// Control events void under the resolution rules (in the full set).
    void: BTreeSet<EventId>,
    cache: HashMap<Vec<EventId>, Arc<AuthState>>,
    /// The latest event seen (or signed) per author, by number then id: the next event of a
    /// local author takes one more and names it as `prev`; a removal cuts there.
    seqs: BTreeMap<PublicKey, Cut>,
    /// The chain links of the events seen of the authors whose links are loaded (cut authors,
    /// [`Self::needs_links`]): id to (author, seq, prev). Other authors' links are not kept
    /// (memory in proportion to history); the store holds them for when a cut names one.
    links: HashMap<EventId, Link>,
    /// The authors whose stored links the caller has loaded ([`Self::needs_links`]).
    loaded: BTreeSet<PublicKey>,
}

/// One event's place in its author's hash chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// Its author.
    pub author: PublicKey,
    /// Its number.
    pub seq: u64,
    /// The id of the author's previous event.
    pub prev: Option<EventId>,
}

impl Link {
    /// The link of `event`.
    pub fn of(event: &SignedEvent) -> Self {
        let env = event.envelope();
        Link {
            author: env.author,
            seq: env.seq,
            prev: env.prev,
        }
    }
}

impl Ledger {
    /// A ledger for the flotilla founded by the genesis event `genesis` (known from the
    /// invite code or from founding it). Any other genesis is rejected.
    pub fn new(genesis: EventId) -> Self {
        Ledger {
            genesis,
            flotilla: None,
            nodes: HashMap::new(),
            heads: BTreeSet::new(),
            state: Arc::new(AuthState::default()),
            void: BTreeSet::new(),
            cache: HashMap::new(),
            seqs: BTreeMap::new(),
            links: HashMap::new(),
            loaded: BTreeSet::new(),
        }
    }

    /// The highest sequence number of `author` this ledger has seen or used.
    pub fn seq_of(&self, author: &PublicKey) -> u64 {
        self.head_of(author).seq
    }

    /// The latest event of `author` this ledger has seen or signed: what a removal or a
    /// demotion of the author cuts at.
    pub fn head_of(&self, author: &PublicKey) -> Cut {
        self.seqs.get(author).copied().unwrap_or(Cut::NONE)
    }

    /// Records the latest event of `author` known from the store after a restart (its
    /// number and id), without its link.
    pub fn observe_head(&mut self, author: PublicKey, seq: u64, id: EventId) {
        let s = self.seqs.entry(author).or_insert(Cut::NONE);
        *s = (*s).max(Cut {
            seq,
            head: Some(id),
        });
    }

    /// Records an accepted (or locally signed) event: its author's latest event and its
    /// chain link. Returns whether it extended a cut author's chain (the caller then looks
    /// again for what that withdraws, [`Self::is_withdrawn`]).
    ///
    /// The link is kept only for an author whose links are loaded or who is cut now; the
    /// caller, which stores every accepted event, passes the stored links of a newly cut
    /// author when [`Self::needs_links`] names it.
    pub fn observe(&mut self, event: &SignedEvent) -> bool {
        let env = event.envelope();
        self.observe_head(env.author, env.seq, event.id());
        if !self.keeps_links_of(&env.author) {
            return false;
        }
        self.add_link(event.id(), Link::of(event))
    }

    /// Are `author`'s chain links kept: loaded, or named by a removal cut?
    fn keeps_links_of(&self, author: &PublicKey) -> bool {
        self.loaded.contains(author) || self.state.cuts.contains_key(author)
    }

    /// How many chain links are held (they are kept for cut authors only).
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// Records the link of a stored event of an author that a cut names (loaded by the
    /// caller when [`Self::needs_links`] says so). Returns whether it extended a chain.
    pub fn add_link(&mut self, id: EventId, link: Link) -> bool {
        if self.links.insert(id, link).is_some() {
            return false;
        }
        let below = link.prev.unwrap_or(id);
        let waiting: Vec<EventId> = self
            .state
            .chains
            .iter()
            .filter(|(_, c)| c.contains_key(&id) && !c.contains_key(&below))
            .map(|(h, _)| *h)
            .collect();
        if waiting.is_empty() {
            return false;
        }
        let cut_heads = self.state.cut_heads();
        let heads: Vec<(EventId, PublicKey)> = waiting
            .into_iter()
            .filter_map(|h| Some((h, cut_heads.get(&h)?.0)))
            .collect();
        for (head, author) in &heads {
            // Go on down from the chain's lowest known link.
            let chain = &self.state.chains[head];
            let Some((low, seq)) = chain.iter().min_by_key(|(_, s)| **s).map(|(i, s)| (*i, *s))
            else {
                continue;
            };
            let more = self.walk(low, *author, seq);
            Arc::make_mut(&mut self.state)
                .chains
                .entry(*head)
                .or_default()
                .extend(more);
        }
        !heads.is_empty()
    }

    /// The cut authors whose stored events' links the caller must still pass to
    /// [`Self::add_link`] (events stored before this ledger was built, or before the cut
    /// was known); they count as loaded from this call on.
    pub fn needs_links(&mut self) -> Vec<PublicKey> {
        let authors: BTreeSet<PublicKey> = self.state.cut_heads().values().map(|v| v.0).collect();
        let new: Vec<PublicKey> = authors.difference(&self.loaded).copied().collect();
        self.loaded.extend(new.iter().copied());
        new
    }

    /// The lowest number down to which the chain of `cut` is known: below it, an event of
    /// the author may still join the chain when the missing links arrive; at or above it,
    /// an event not on the chain never counts. When the chain's lowest link is held, the
    /// chain is complete (it reached the author's first event, or a link the author broke
    /// by naming as `prev` an event of another number): the floor is 1.
    pub fn chain_floor(&self, cut: &Cut) -> u64 {
        let lowest = cut
            .head
            .and_then(|h| self.state.chains.get(&h))
            .and_then(|c| c.iter().min_by_key(|(_, s)| **s));
        match lowest {
            Some((id, _)) if self.links.contains_key(id) => 1,
            Some((_, seq)) => (*seq).max(1),
            None => cut.seq.max(1),
        }
    }

    /// Recomputes [`AuthState::chains`] for the cut heads it does not hold yet, and drops
    /// those of heads no cut names any more (after a control event changed the state).
    fn refresh_chains(&mut self) {
        let heads = self.state.cut_heads();
        let current = &self.state.chains;
        if heads.len() == current.len() && heads.keys().all(|h| current.contains_key(h)) {
            return;
        }
        let mut chains = BTreeMap::new();
        for (head, (author, seq)) in heads {
            let chain = match current.get(&head) {
                Some(c) => c.clone(),
                None => self.walk(head, author, seq),
            };
            chains.insert(head, chain);
        }
        Arc::make_mut(&mut self.state).chains = chains;
    }

    /// The chain that ends at `head` (`author`'s event numbered `seq`), down through the
    /// links held: each id with the number it must have. It stops at a link not held, or
    /// held with another author or number (that event does not count).
    fn walk(&self, head: EventId, author: PublicKey, seq: u64) -> BTreeMap<EventId, u64> {
        let mut chain = BTreeMap::new();
        let (mut want, mut seq) = (Some(head), seq);
        while let Some(id) = want
            && seq > 0
        {
            chain.insert(id, seq);
            match self.links.get(&id) {
                Some(l) if l.author == author && l.seq == seq => {
                    want = l.prev;
                    seq -= 1;
                }
                _ => break,
            }
        }
        chain
    }

    /// The control events void under the resolution rules, in id order.
    pub fn void_ids(&self) -> impl Iterator<Item = &EventId> {
        self.void.iter()
    }

    /// Is this control event void under the resolution rules (it has no effect)?
    pub fn is_void(&self, id: &EventId) -> bool {
        self.void.contains(id)
    }

    /// Should a stored event be withdrawn, now that its author is known to be removed? True
    /// for the author's control events that the removal voided, and for content that can
    /// never count: beyond the cut, or not on the cut's chain at a number the chain already
    /// reaches ([`Self::chain_floor`]). Content below that floor that is not on the chain
    /// yet is not withdrawn (its successors may still arrive) but does not count in views.
    pub fn is_withdrawn(&self, event: &SignedEvent) -> bool {
        let env = event.envelope();
        let Some(cut) = self.state.cut_of(&env.author) else {
            return false;
        };
        if env.kind == Kind::CONTROL {
            self.void.contains(&event.id())
        } else {
            !self.state.counts(&cut, &event.id(), env.seq) && env.seq >= self.chain_floor(&cut)
        }
    }

    /// The genesis event id this ledger is pinned to.
    pub fn genesis(&self) -> EventId {
        self.genesis
    }

    /// The flotilla id, once the genesis is in.
    pub fn flotilla(&self) -> Option<FlotillaId> {
        self.flotilla
    }

    /// The current control-DAG heads: what a new event names as its deps.
    pub fn heads(&self) -> Vec<EventId> {
        self.heads.iter().copied().collect()
    }

    /// Is this control event in the ledger?
    pub fn contains(&self, id: &EventId) -> bool {
        self.nodes.contains_key(id)
    }

    /// How many control events the ledger holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Is the ledger empty (no genesis yet)?
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// One control event.
    pub fn event(&self, id: &EventId) -> Option<&SignedEvent> {
        self.nodes.get(id).map(|n| &n.event)
    }

    /// The control events, in fold order.
    pub fn events(&self) -> Vec<&SignedEvent> {
        let mut v: Vec<&Node> = self.nodes.values().collect();
        v.sort_by_key(|n| (n.depth, n.event.id()));
        v.into_iter().map(|n| &n.event).collect()
    }

    /// The state folded from every control event known.
    pub fn state(&self) -> &AuthState {
        &self.state
    }

    /// The greatest HLC among these deps (a new event must be later).
    pub fn max_hlc(&self, deps: &[EventId]) -> Hlc {
        deps.iter()
            .filter_map(|d| self.nodes.get(d))
            .map(|n| n.hlc)
            .max()
            .unwrap_or_default()
    }

    /// Judges an event (control or content) of this flotilla.
    pub fn check(&mut self, event: &SignedEvent) -> Verdict {
        let env = event.envelope();
        if self.flotilla.is_some_and(|f| f != env.flotilla) {
            return Verdict::Reject(AuthError::WrongFlotilla);
        }
        if let Some(Control::Genesis { .. }) = event.control() {
            return if event.id() == self.genesis {
                Verdict::Accept
            } else {
                Verdict::Reject(AuthError::NotOurGenesis)
            };
        }
        let missing: Vec<EventId> = env
            .deps
            .iter()
            .filter(|d| !self.nodes.contains_key(d))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Verdict::MissingDeps(missing);
        }
        if env.hlc <= self.max_hlc(&env.deps) {
            return Verdict::Reject(AuthError::ClockBeforeDeps);
        }
        if let Some(cut) = self.state.cut_of(&env.author) {
            let allowed = match event.control() {
                // A removed author's control event cannot be in its removal's causal past
                // (which this ledger holds): only a removal of its remover counts.
                Some(c) => self.state.is_mutual_removal(&env.author, &c),
                // Content counts only on the chain that ends at the cut, as far as this
                // node holds it: an earlier event of that chain is refused until its
                // successor is here, and fetched again by the next reconciliation.
                None => env.kind == Kind::CONTROL || self.state.counts(&cut, &event.id(), env.seq),
            };
            if !allowed {
                return Verdict::Reject(AuthError::Removed);
            }
        }
        let past = self.state_at(&env.deps);
        let result = match env.kind {
            Kind::CONTROL => match event.control() {
                Some(c) => (*past).clone().apply(event.id(), env, &c),
                None => past.check_member(&env.author), // a newer control variant: membership only
            },
            Kind::SEALED => past.check_content(event),
            _ => past.check_member(&env.author),
        };
        match result {
            Ok(()) => Verdict::Accept,
            Err(e) => Verdict::Reject(e),
        }
    }

    /// Adds a control event that [`Self::check`] accepted, and refolds the state.
    /// Content events and events already present are ignored. Returns whether it was added.
    pub fn insert(&mut self, event: &SignedEvent) -> bool {
        let env = event.envelope();
        if env.kind != Kind::CONTROL || self.nodes.contains_key(&event.id()) {
            return false;
        }
        if env.deps.iter().any(|d| !self.nodes.contains_key(d)) {
            return false;
        }
        if env.deps.is_empty() {
            if event.id() != self.genesis {
                return false;
            }
            self.flotilla = Some(env.flotilla);
        }
        let appends = env.deps.iter().copied().collect::<BTreeSet<_>>() == self.heads;
        for d in &env.deps {
            self.heads.remove(d);
        }
        self.heads.insert(event.id());
        let depth = env
            .deps
            .iter()
            .filter_map(|d| self.nodes.get(d))
            .map(|n| n.depth + 1)
            .max()
            .unwrap_or(0);
        let control = event.control();
        self.observe(event);
        self.nodes.insert(
            event.id(),
            Node {
                hlc: env.hlc,
                depth,
                deps: env.deps.clone(),
                event: event.clone(),
                control: control.clone(),
            },
        );
        self.cache.clear();
        // An event after every other one is concurrent with none: it is last in the fold
        // and voids nothing, so the state is the previous one plus this event.
        match control.filter(|_| appends) {
            Some(c) => {
                let mut s = (*self.state).clone();
                s.apply_lenient(event.id(), env, &c);
                self.state = Arc::new(s);
            }
            None => {
                let all = self.nodes.keys().copied().collect();
                let resolved = resolve::resolve(&self.nodes, &all);
                let chains = std::mem::take(&mut Arc::make_mut(&mut self.state).chains);
                self.state = Arc::new(AuthState {
                    chains,
                    ..resolved.state
                });
                self.void = resolved.void;
            }
        }
        self.refresh_chains();
        true
    }

    /// The state as of `deps`: the fold of their causal closure.
    pub fn state_at(&mut self, deps: &[EventId]) -> Arc<AuthState> {
        if deps.iter().copied().collect::<BTreeSet<_>>() == self.heads {
            return self.state.clone();
        }
        if let Some(s) = self.cache.get(deps) {
            return s.clone();
        }
        let state = Arc::new(resolve::resolve(&self.nodes, &self.closure(deps)).state);
        if self.cache.len() >= STATE_CACHE_CAP {
            self.cache.clear();
        }
        self.cache.insert(deps.to_vec(), state.clone());
        state
    }

    fn closure(&self, deps: &[EventId]) -> BTreeSet<EventId> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<EventId> = deps.to_vec();
        while let Some(id) = stack.pop() {
            if let Some(n) = self.nodes.get(&id)
                && seen.insert(id)
            {
                stack.extend(n.deps.iter().copied());
            }
        }
        seen
    }
}
