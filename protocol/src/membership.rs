//! Membership: the control DAG of one flotilla and who may do what.
//!
//! Control events ([`Control`]) name in `deps` the control events their author had seen, so
//! they form a DAG rooted at the flotilla's genesis. The [`AuthState`] *as of* a set of events
//! is the fold of their causal closure, applied in `(hlc, id)` order (a topological order,
//! because an event's HLC is always greater than its deps'). Each step checks the author's
//! rights in the state built so far ([`AuthState::apply`]); a step that fails is skipped.
//!
//! An incoming event is judged ([`Ledger::check`]) against the state as of its own deps:
//! - its deps must all be known (else [`Verdict::MissingDeps`]: the caller fetches them);
//! - its author must be an active member there, with the right for the action;
//! - and its author must not be removed, in the state this node knows now, by a removal whose
//!   HLC is at or before the event's. This is what stops a removed member, or a stale peer
//!   relaying its events late, from writing after the removal even when it pretends not to
//!   have seen the removal. (A removed member that forges old timestamps can still place
//!   events in the past; docs/protocol.md discusses that limit.)
//!
//! The state is a function of the set of events, not of their arrival order.

mod state;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

pub use state::{AuthError, AuthState, ChannelAuth, InviteState, NodeState, UserState};

use crate::event::{Control, Kind, SignedEvent};
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

#[derive(Debug, Clone)]
struct Node {
    hlc: Hlc,
    deps: Vec<EventId>,
    event: SignedEvent,
}

/// One flotilla's control events and the membership state they fold to.
#[derive(Debug, Clone)]
pub struct Ledger {
    genesis: EventId,
    flotilla: Option<FlotillaId>,
    nodes: HashMap<EventId, Node>,
    heads: BTreeSet<EventId>,
    state: Arc<AuthState>,
    cache: HashMap<Vec<EventId>, Arc<AuthState>>,
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
            cache: HashMap::new(),
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

    /// The control events, in fold order.
    pub fn events(&self) -> Vec<&SignedEvent> {
        let mut v: Vec<&Node> = self.nodes.values().collect();
        v.sort_by_key(|n| (n.hlc, n.event.id()));
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
        if self
            .state
            .removed_at(&env.author)
            .is_some_and(|at| at <= env.hlc)
        {
            return Verdict::Reject(AuthError::Removed);
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
        for d in &env.deps {
            self.heads.remove(d);
        }
        self.heads.insert(event.id());
        let appends = self
            .nodes
            .values()
            .all(|n| (n.hlc, n.event.id()) < (env.hlc, event.id()));
        self.nodes.insert(
            event.id(),
            Node {
                hlc: env.hlc,
                deps: env.deps.clone(),
                event: event.clone(),
            },
        );
        self.cache.clear();
        if appends {
            let mut s = (*self.state).clone();
            s.apply_lenient(event);
            self.state = Arc::new(s);
        } else {
            self.state = Arc::new(self.fold(self.nodes.keys().copied().collect()));
        }
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
        let state = Arc::new(self.fold(self.closure(deps)));
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

    fn fold(&self, ids: BTreeSet<EventId>) -> AuthState {
        let mut order: Vec<&Node> = ids.iter().filter_map(|id| self.nodes.get(id)).collect();
        order.sort_by_key(|n| (n.hlc, n.event.id()));
        let mut s = AuthState::default();
        for n in order {
            s.apply_lenient(&n.event);
        }
        s
    }
}
