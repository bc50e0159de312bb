//! The resolver: the membership state of a causally closed set of control events, decided
//! by their causal graph (deps), never by the timestamps their authors chose.
//!
//! # Order
//! Events are folded in a topological order of the DAG: by depth (the longest path from the
//! genesis), ties by event id. Every event comes after its deps; the order among concurrent
//! events is only a tie-break, and the rules below make the result independent of it where
//! it matters.
//!
//! # Rules for concurrent acts (two events are concurrent when neither is in the other's
//! causal past)
//! 1. **Strong remove.** When a removal of a user or node takes effect, every event by the
//!    removed key (or by a user of the removed node) that is concurrent with it is void: a
//!    removed member cannot act "before" its removal by naming old deps. Exception: a
//!    concurrent removal of the remover (a *mutual removal*) takes effect too, so both are
//!    removed.
//! 2. **Demotion.** When an admin role revocation takes effect, every admin act of the
//!    demoted user concurrent with it is void, except a concurrent revocation of the
//!    revoker (mutual demotion: both lose the role).
//! 3. **Removal beats a concurrent addition.** A channel member addition concurrent with
//!    the removal of the same user from the same channel, a role grant concurrent with the
//!    revocation of the same role from the same user, and an admission concurrent with the
//!    revocation of its invite are void.
//! 4. **Uniqueness.** A node key, user key or channel id declared by several concurrent
//!    events goes to the smallest event id among them when they agree (a node's or user's
//!    declarations carry its own signature, so they all bind the same keys); a channel id
//!    claimed concurrently by different authors belongs to nobody (it is void, and stays
//!    so), so a re-declaration can never take a channel over.
//! 5. **Invite uses.** An admission by an invite limited to `m` uses counts only if fewer
//!    than `m` other admissions by that invite are not in its causal future: concurrent
//!    admissions beyond the limit all lose, so a backdated admission cannot take a used-up
//!    invite's last use.
//!
//! The void events are found by folding, reading the removals, revocations and claims that
//! took effect, voiding what they void, and folding again until nothing changes (the void
//! set only grows, so this ends). Everything is a function of the set of events.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::state::AuthState;
use crate::crypto::PublicKey;
use crate::event::{Control, Role, SignedEvent};
use crate::hlc::Hlc;
use crate::id::{ChannelId, EventId, InviteId};

/// The most fold rounds of one resolution (each round can only void more events).
const MAX_ROUNDS: usize = 16;

/// One control event in the ledger.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) hlc: Hlc,
    pub(super) depth: u32,
    pub(super) deps: Vec<EventId>,
    pub(super) event: SignedEvent,
    pub(super) control: Option<Control>,
}

/// The outcome of a resolution.
#[derive(Debug, Clone, Default)]
pub(super) struct Resolved {
    pub(super) state: AuthState,
    /// Events that are void under the rules above.
    pub(super) void: BTreeSet<EventId>,
}

/// The graph of the events being resolved, in fold order.
struct Graph<'a> {
    order: Vec<&'a Node>,
    deps: Vec<Vec<usize>>,
}

impl<'a> Graph<'a> {
    fn new(nodes: &'a HashMap<EventId, Node>, ids: &BTreeSet<EventId>) -> Self {
        let mut order: Vec<&Node> = ids.iter().filter_map(|i| nodes.get(i)).collect();
        order.sort_by_key(|n| (n.depth, n.event.id()));
        let pos: HashMap<EventId, usize> = order
            .iter()
            .enumerate()
            .map(|(i, n)| (n.event.id(), i))
            .collect();
        let deps = order
            .iter()
            .map(|n| n.deps.iter().filter_map(|d| pos.get(d).copied()).collect())
            .collect();
        Graph { order, deps }
    }

    fn len(&self) -> usize {
        self.order.len()
    }

    /// Events in the causal past of `x`.
    fn ancestors(&self, x: usize) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack = self.deps[x].clone();
        while let Some(i) = stack.pop() {
            if !seen[i] {
                seen[i] = true;
                stack.extend(self.deps[i].iter().copied());
            }
        }
        seen
    }

    /// Events that have `x` in their causal past.
    fn descendants(&self, x: usize) -> Vec<bool> {
        let mut desc = vec![false; self.len()];
        for i in x + 1..self.len() {
            desc[i] = self.deps[i].iter().any(|&d| d == x || desc[d]);
        }
        desc
    }

    /// Positions concurrent with `x`.
    fn concurrent(&self, x: usize) -> Vec<bool> {
        let (anc, desc) = (self.ancestors(x), self.descendants(x));
        (0..self.len())
            .map(|i| i != x && !anc[i] && !desc[i])
            .collect()
    }

    fn id(&self, i: usize) -> EventId {
        self.order[i].event.id()
    }

    fn author(&self, i: usize) -> PublicKey {
        self.order[i].event.author()
    }

    fn control(&self, i: usize) -> Option<&Control> {
        self.order[i].control.as_ref()
    }
}

/// Resolves the events `ids` (a causally closed set) of `nodes`.
pub(super) fn resolve(nodes: &HashMap<EventId, Node>, ids: &BTreeSet<EventId>) -> Resolved {
    let g = Graph::new(nodes, ids);
    let (mut void, void_channels) = uniqueness(&g);
    let mut mutual: BTreeSet<usize> = BTreeSet::new();
    let mut state = AuthState::default();
    for _ in 0..MAX_ROUNDS {
        let (s, applied) = fold(&g, &void, &mutual, &void_channels);
        state = s;
        let (more_void, more_mutual) = conflicts(&g, &state, &applied, &void);
        let grew = more_void.iter().any(|i| !void.contains(i))
            || more_mutual.iter().any(|i| !mutual.contains(i));
        if !grew {
            break;
        }
        void.extend(more_void);
        mutual.extend(more_mutual);
    }
    Resolved {
        state,
        void: void.iter().map(|&i| g.id(i)).collect(),
    }
}

fn fold(
    g: &Graph<'_>,
    void: &BTreeSet<usize>,
    mutual: &BTreeSet<usize>,
    void_channels: &BTreeSet<ChannelId>,
) -> (AuthState, Vec<bool>) {
    let mut s = AuthState {
        void_channels: void_channels.clone(),
        ..AuthState::default()
    };
    let mut applied = vec![false; g.len()];
    for (i, n) in g.order.iter().enumerate() {
        if void.contains(&i) {
            continue;
        }
        let Some(c) = &n.control else { continue };
        let (id, env) = (n.event.id(), n.event.envelope());
        applied[i] =
            s.apply_lenient(id, env, c) || (mutual.contains(&i) && s.apply_mutual(id, env, c));
    }
    (s, applied)
}

/// What a removal or revocation that took effect voids, and which concurrent removals of
/// the remover are mutual.
fn conflicts(
    g: &Graph<'_>,
    state: &AuthState,
    applied: &[bool],
    void: &BTreeSet<usize>,
) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let mut more = BTreeSet::new();
    let mut mutual = BTreeSet::new();
    for x in (0..g.len()).filter(|&x| applied[x]) {
        let Some(cx) = g.control(x) else { continue };
        let remover = g.author(x);
        let live = |i: usize| !void.contains(&i);
        match cx {
            Control::UserRemove { .. } | Control::NodeRemove { .. } => {
                let targets = removed_keys(cx, state);
                let conc = g.concurrent(x);
                for i in (0..g.len()).filter(|&i| conc[i] && live(i)) {
                    if !targets.contains(&g.author(i)) {
                        continue;
                    }
                    match g.control(i) {
                        Some(c) if removes(c, state).contains(&remover) => {
                            mutual.insert(i);
                        }
                        _ => {
                            more.insert(i);
                        }
                    }
                }
            }
            Control::RoleRevoke { user, role, .. } => {
                let conc = g.concurrent(x);
                for i in (0..g.len()).filter(|&i| conc[i] && live(i)) {
                    let Some(c) = g.control(i) else { continue };
                    let regrant = matches!(c, Control::RoleGrant { user: u, role: r }
                        if u == user && r == role);
                    let mutual_demotion = matches!(c, Control::RoleRevoke { user: u, role: Role::Admin, .. }
                        if *u == remover);
                    let demoted_act = *role == Role::Admin
                        && g.author(i) == *user
                        && needs_admin(c, &g.author(i), state);
                    if regrant || (demoted_act && !mutual_demotion) {
                        more.insert(i);
                    } else if demoted_act {
                        mutual.insert(i);
                    }
                }
            }
            Control::ChannelMemberRemove { channel, user, .. } => {
                let conc = g.concurrent(x);
                for i in (0..g.len()).filter(|&i| conc[i] && live(i)) {
                    if matches!(g.control(i), Some(Control::ChannelMemberAdd { channel: c, user: u, .. })
                        if c == channel && u == user)
                    {
                        more.insert(i);
                    }
                }
            }
            Control::InviteRevoke { invite } => {
                let conc = g.concurrent(x);
                for i in (0..g.len()).filter(|&i| conc[i] && live(i)) {
                    if admission_invite(g.control(i)) == Some(*invite) {
                        more.insert(i);
                    }
                }
            }
            _ => {}
        }
    }
    more.extend(over_used(g, state, void));
    (more, mutual)
}

/// The keys a removal removes: the user, or the node and its users.
fn removed_keys(c: &Control, state: &AuthState) -> BTreeSet<PublicKey> {
    match c {
        Control::UserRemove { user, .. } => BTreeSet::from([*user]),
        Control::NodeRemove { node, .. } => state
            .users
            .iter()
            .filter(|(_, u)| u.info.home == *node)
            .map(|(k, _)| *k)
            .chain([*node])
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The keys whose removal `c` is, counting users with their home node.
fn removes(c: &Control, state: &AuthState) -> BTreeSet<PublicKey> {
    removed_keys(c, state)
}

fn admission_invite(c: Option<&Control>) -> Option<InviteId> {
    match c {
        Some(Control::NodeAdmit { proof, .. }) => proof.invite_id(),
        _ => None,
    }
}

/// Does `c` by `author` need the admin role?
fn needs_admin(c: &Control, author: &PublicKey, state: &AuthState) -> bool {
    match c {
        Control::InviteCreate { .. }
        | Control::InviteRevoke { .. }
        | Control::FlotillaRename { .. }
        | Control::RoleGrant { .. }
        | Control::RoleRevoke { .. }
        | Control::NodeRemove { .. }
        | Control::ChannelMemberAdd { .. }
        | Control::ChannelMemberRemove { .. } => true,
        Control::NodeAdmit { proof, .. } => proof.invite.is_none(),
        Control::UserRemove { user, .. } => user != author && state.home_of(user) != Some(*author),
        Control::ChannelPrivacy { channel, .. } => state
            .channels
            .get(channel)
            .is_none_or(|c| c.creator != *author),
        _ => false,
    }
}

/// Admissions beyond an invite's use limit (rule 5).
fn over_used(g: &Graph<'_>, state: &AuthState, void: &BTreeSet<usize>) -> BTreeSet<usize> {
    let mut by_invite: BTreeMap<InviteId, Vec<usize>> = BTreeMap::new();
    for i in (0..g.len()).filter(|i| !void.contains(i)) {
        if let Some(inv) = admission_invite(g.control(i)) {
            by_invite.entry(inv).or_default().push(i);
        }
    }
    let mut out = BTreeSet::new();
    for (inv, admissions) in by_invite {
        let Some(max) = state.invites.get(&inv).and_then(|s| s.max_uses) else {
            continue;
        };
        for &a in &admissions {
            let desc = g.descendants(a);
            let others = admissions.iter().filter(|&&o| o != a && !desc[o]).count();
            if others >= max as usize {
                out.insert(a);
            }
        }
    }
    out
}

/// Rule 4: the losers among concurrent declarations of one key or channel id, and the
/// channel ids nobody owns.
fn uniqueness(g: &Graph<'_>) -> (BTreeSet<usize>, BTreeSet<ChannelId>) {
    let mut claims: BTreeMap<(u8, [u8; 32]), Vec<usize>> = BTreeMap::new();
    for i in 0..g.len() {
        let key = match g.control(i) {
            Some(Control::NodeAdmit { node, .. }) => (0, node.key.0),
            Some(Control::UserAdd { user, .. }) => (1, user.key.0),
            Some(Control::ChannelCreate { channel, .. }) => {
                let mut k = [0u8; 32];
                k[..16].copy_from_slice(&channel.0);
                (2, k)
            }
            _ => continue,
        };
        claims.entry(key).or_default().push(i);
    }
    let mut void = BTreeSet::new();
    let mut void_channels = BTreeSet::new();
    for ((kind, key), claimants) in claims {
        if claimants.len() < 2 {
            continue;
        }
        // Claims with another claim in their past are refused by their own past anyway.
        let roots: Vec<usize> = claimants
            .iter()
            .copied()
            .filter(|&c| {
                let anc = g.ancestors(c);
                !claimants.iter().any(|&o| anc[o])
            })
            .collect();
        if roots.len() < 2 {
            continue;
        }
        let authors: BTreeSet<PublicKey> = roots.iter().map(|&r| g.author(r)).collect();
        if kind == 2 && authors.len() > 1 {
            void.extend(claimants.iter().copied());
            let mut id = [0u8; 16];
            id.copy_from_slice(&key[..16]);
            void_channels.insert(ChannelId(id));
            continue;
        }
        let keep = roots.iter().copied().min_by_key(|&r| g.id(r));
        void.extend(roots.iter().copied().filter(|&r| Some(r) != keep));
    }
    (void, void_channels)
}
