//! What a removal must carry: the pure plan of who gets which new key.
//!
//! Removing a user or a node rotates the flotilla epoch key (sealed to every remaining
//! node) and the key of every private channel and DM a removed user was in (sealed to the
//! home nodes of the channel's remaining members), and records each removed key's cut (the
//! last of its sequence numbers that still counts). [`plan`] computes that from a state;
//! [`crate::author::Ctx::remove_user`] and [`crate::author::Ctx::remove_node`] generate the
//! keys and seal them.

use std::collections::BTreeSet;

use super::AuthState;
use crate::crypto::{PublicKey, X25519Public};
use crate::id::ChannelId;

/// Who is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One user.
    User(PublicKey),
    /// A node, and with it every user whose home it is.
    Node(PublicKey),
}

/// A node that receives a new key.
pub type Recipient = (PublicKey, X25519Public);

/// The keys a removal rotates, and to whom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The users removed (for a node: its active users).
    pub users: BTreeSet<PublicKey>,
    /// The new epoch key goes to these nodes (every active node but a removed one).
    pub epoch: Vec<Recipient>,
    /// Each private channel a removed user was in, sorted, with the remaining members'
    /// home nodes (its new key goes to them).
    pub channels: Vec<(ChannelId, Vec<Recipient>)>,
}

/// The rotation plan for removing `target` from the flotilla in `state`.
pub fn plan(state: &AuthState, target: Target) -> Plan {
    let (removed_node, users): (Option<PublicKey>, BTreeSet<PublicKey>) = match target {
        Target::User(u) => (None, BTreeSet::from([u])),
        Target::Node(n) => (
            Some(n),
            state
                .users
                .iter()
                .filter(|(k, u)| u.info.home == n && state.is_active_user(k))
                .map(|(k, _)| *k)
                .collect(),
        ),
    };
    let keep = |k: &PublicKey| Some(*k) != removed_node && state.is_active_node(k);
    let epoch: Vec<Recipient> = state
        .active_nodes()
        .into_iter()
        .filter(|n| keep(&n.key))
        .map(|n| (n.key, n.x25519))
        .collect();
    let channels = state
        .channels
        .iter()
        .filter(|(_, c)| c.private && c.members.iter().any(|m| users.contains(m)))
        .map(|(id, c)| {
            let homes: BTreeSet<PublicKey> = c
                .members
                .iter()
                .filter(|m| !users.contains(m) && state.is_active_user(m))
                .filter_map(|m| state.users.get(m).map(|u| u.info.home))
                .filter(|h| keep(h))
                .collect();
            let recipients = homes
                .iter()
                .filter_map(|h| state.nodes.get(h).map(|n| (n.info.key, n.info.x25519)))
                .collect();
            (*id, recipients)
        })
        .collect();
    Plan {
        users,
        epoch,
        channels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use crate::author::{self, Ctx};
    use crate::entropy::SeededEntropy;
    use crate::event::NodeInfo;
    use crate::hlc::Clock;
    use crate::id::ChannelId;
    use crate::proof::prove_admission;

    /// Removing bob (a user of node 1) rotates the DM he shares with alice (to node 0 only)
    /// and the epoch (to both nodes); removing node 1 drops it from the epoch's recipients.
    #[test]
    fn a_plan_covers_the_epoch_and_every_private_channel_of_the_removed() {
        let mut rng = SeededEntropy::new(5);
        let keys: Vec<SecretKey> = (0..4).map(|_| SecretKey::generate(&mut rng)).collect();
        let (n0, n1, alice, bob) = (&keys[0], &keys[1], &keys[2], &keys[3]);
        let mut clock = Clock::new();
        let mut f =
            author::found(n0, "O", alice, "alice", "R", &mut clock, 1, &mut rng).expect("found");
        let mut ctx = Ctx {
            ledger: &mut f.ledger,
            keyring: &f.keyring,
            clock: &mut clock,
            now_ms: 10,
            rng: &mut rng,
        };
        let info = NodeInfo {
            key: n1.public(),
            x25519: n1.x25519_public(),
            name: "A".into(),
        };
        let proof = prove_admission(&ctx.ledger.genesis(), None, n1, &info);
        let ev = ctx.admit(alice, info, proof).expect("admit");
        ctx.ledger.insert(&ev);
        let ev = ctx.add_user(n1, bob, "bob").expect("user");
        ctx.ledger.insert(&ev);
        let dm = ChannelId([1; 16]);
        let ev = ctx
            .create_channel(alice, dm, true, &[bob.public()])
            .expect("dm");
        ctx.ledger.insert(&ev);
        let state = ctx.ledger.state();
        let p = plan(state, Target::User(bob.public()));
        assert_eq!(p.users, BTreeSet::from([bob.public()]));
        assert_eq!(p.epoch.len(), 2);
        assert_eq!(p.channels.len(), 1);
        assert_eq!(p.channels[0].0, dm);
        let to: Vec<PublicKey> = p.channels[0].1.iter().map(|r| r.0).collect();
        assert_eq!(to, vec![n0.public()]);
        let p = plan(state, Target::Node(n1.public()));
        assert_eq!(p.users, BTreeSet::from([bob.public()]));
        let to: Vec<PublicKey> = p.epoch.iter().map(|r| r.0).collect();
        assert_eq!(to, vec![n0.public()]);
    }
}
