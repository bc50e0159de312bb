//! Proofs carried by control events and checked by every ledger: admissions and user keys.
//!
//! - **Admission** ([`AdmitProof`]): the joining node signs the statement
//!   `"flotilla/v2 admit" ‖ genesis ‖ invite ‖ node` ([`admit_statement`]) with its own key
//!   (proof of possession: nobody can admit a node key with an X25519 key or a name of its
//!   choosing), and, when it joins by an invite, with the invite's secret key too. The invite
//!   code carries that secret key; `InviteCreate` publishes only its public key. So the
//!   joiner never sends the secret: what it sends a member (the statement and the two
//!   signatures) admits its own node and nobody else, whoever captures it.
//! - **User key** ([`user_statement`]): a `UserAdd` carries the user key's signature over
//!   `"flotilla/v2 user" ‖ genesis ‖ user info`, so no node can claim another node's user.

use serde::{Deserialize, Serialize};

use crate::crypto::{PublicKey, SecretKey, Signature};
use crate::event::{NodeInfo, UserInfo};
use crate::id::{EventId, InviteId};

const ADMIT_DOMAIN: &[u8] = b"flotilla/v2 admit";
const USER_DOMAIN: &[u8] = b"flotilla/v2 user";

/// The invite half of an admission proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteSig {
    /// The invite.
    pub invite: InviteId,
    /// The invite secret key's signature over the admission statement.
    pub sig: Signature,
}

/// What a node admission carries: the node's own signature and, by invite, the invite's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmitProof {
    /// By invite (author: any member node), or `None` (author: an admin).
    pub invite: Option<InviteSig>,
    /// The admitted node's signature over the admission statement.
    pub node_sig: Signature,
}

impl AdmitProof {
    /// The invite this admission uses, if any.
    pub fn invite_id(&self) -> Option<InviteId> {
        self.invite.as_ref().map(|i| i.invite)
    }
}

/// Why a proof does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The node's own signature does not verify.
    #[error("the node's signature does not verify")]
    Node,
    /// The invite's signature does not verify against the invite's published key.
    #[error("the invite signature does not verify")]
    Invite,
    /// The user key's signature does not verify.
    #[error("the user key's signature does not verify")]
    User,
}

/// The statement an admission proof signs.
pub fn admit_statement(genesis: &EventId, invite: Option<&InviteId>, node: &NodeInfo) -> Vec<u8> {
    let mut m = Vec::with_capacity(ADMIT_DOMAIN.len() + 32 + 17 + 32 + 32 + node.name.len() + 2);
    m.extend_from_slice(ADMIT_DOMAIN);
    m.extend_from_slice(&genesis.0);
    match invite {
        Some(i) => {
            m.push(1);
            m.extend_from_slice(&i.0);
        }
        None => m.push(0),
    }
    m.extend_from_slice(&node.key.0);
    m.extend_from_slice(&node.x25519.0);
    m.extend_from_slice(&(node.name.len() as u32).to_be_bytes());
    m.extend_from_slice(node.name.as_bytes());
    m
}

/// The joining node proves its admission: signed by its own key `node_key` (whose public
/// half must be `node.key`) and, by invite, by the invite's secret key.
pub fn prove_admission(
    genesis: &EventId,
    invite: Option<(InviteId, &SecretKey)>,
    node_key: &SecretKey,
    node: &NodeInfo,
) -> AdmitProof {
    let statement = admit_statement(genesis, invite.as_ref().map(|(i, _)| i), node);
    AdmitProof {
        invite: invite.map(|(invite, key)| InviteSig {
            invite,
            sig: key.sign(&statement),
        }),
        node_sig: node_key.sign(&statement),
    }
}

/// Verifies an admission proof; `invite_key` is the published key of the invite it names.
///
/// # Errors
/// [`ProofError`] naming the signature that fails.
pub fn verify_admission(
    genesis: &EventId,
    node: &NodeInfo,
    proof: &AdmitProof,
    invite_key: Option<&PublicKey>,
) -> Result<(), ProofError> {
    let statement = admit_statement(genesis, proof.invite.as_ref().map(|i| &i.invite), node);
    node.key
        .verify(&statement, &proof.node_sig)
        .map_err(|_| ProofError::Node)?;
    if let Some(inv) = &proof.invite {
        let key = invite_key.ok_or(ProofError::Invite)?;
        key.verify(&statement, &inv.sig)
            .map_err(|_| ProofError::Invite)?;
    }
    Ok(())
}

/// What a joiner without a known member asks each connected peer: a tag of the genesis id
/// bound to the joiner's node key. A member that follows that flotilla recognises it (it
/// knows the genesis id and sees the joiner's key on the connection); an outsider learns
/// nothing from it, and cannot replay it from its own connection.
pub fn probe_tag(genesis: &EventId, joiner: &PublicKey) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("flotilla/v2 join probe");
    h.update(&genesis.0);
    h.update(&joiner.0);
    *h.finalize().as_bytes()
}

/// The statement a user key signs to be declared by its home node.
pub fn user_statement(genesis: &EventId, user: &UserInfo) -> Vec<u8> {
    let mut m = Vec::with_capacity(USER_DOMAIN.len() + 32 * 3 + 4 + user.username.len());
    m.extend_from_slice(USER_DOMAIN);
    m.extend_from_slice(&genesis.0);
    m.extend_from_slice(&user.key.0);
    m.extend_from_slice(&user.home.0);
    m.extend_from_slice(&(user.username.len() as u32).to_be_bytes());
    m.extend_from_slice(user.username.as_bytes());
    m
}

/// Verifies a user declaration's signature.
///
/// # Errors
/// [`ProofError::User`].
pub fn verify_user(genesis: &EventId, user: &UserInfo, sig: &Signature) -> Result<(), ProofError> {
    user.key
        .verify(&user_statement(genesis, user), sig)
        .map_err(|_| ProofError::User)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;

    fn node(k: &SecretKey) -> NodeInfo {
        NodeInfo {
            key: k.public(),
            x25519: k.x25519_public(),
            name: "Ondine".into(),
        }
    }

    #[test]
    fn admission_proofs_bind_node_invite_and_genesis() {
        let mut rng = SeededEntropy::new(1);
        let (n, inv, other) = (
            SecretKey::generate(&mut rng),
            SecretKey::generate(&mut rng),
            SecretKey::generate(&mut rng),
        );
        let g = EventId([1; 32]);
        let id = InviteId([2; 16]);
        let info = node(&n);
        let proof = prove_admission(&g, Some((id, &inv)), &n, &info);
        assert_eq!(
            verify_admission(&g, &info, &proof, Some(&inv.public())),
            Ok(())
        );
        // Another genesis, another node, another X25519 key, another invite key: refused.
        let g2 = EventId([3; 32]);
        assert!(verify_admission(&g2, &info, &proof, Some(&inv.public())).is_err());
        let mut moved = info.clone();
        moved.x25519 = other.x25519_public();
        assert_eq!(
            verify_admission(&g, &moved, &proof, Some(&inv.public())),
            Err(ProofError::Node)
        );
        assert_eq!(
            verify_admission(&g, &node(&other), &proof, Some(&inv.public())),
            Err(ProofError::Node)
        );
        assert_eq!(
            verify_admission(&g, &info, &proof, Some(&other.public())),
            Err(ProofError::Invite)
        );
        let direct = prove_admission(&g, None, &n, &info);
        assert_eq!(verify_admission(&g, &info, &direct, None), Ok(()));
    }

    #[test]
    fn invite_codes_round_trip_as_text() {
        use crate::author::InviteCode;
        let mut rng = SeededEntropy::new(3);
        let code = InviteCode {
            genesis: EventId([4; 32]),
            invite: InviteId([5; 16]),
            secret: SecretKey::generate(&mut rng),
        };
        let text = code.to_string();
        assert!(text.starts_with("fl2") && text.len() == 163, "{text}");
        assert_eq!(text.parse::<InviteCode>(), Ok(code));
        assert!("fl1abc".parse::<InviteCode>().is_err());
        assert!(text[..162].parse::<InviteCode>().is_err());
    }

    #[test]
    fn user_statements_bind_the_home() {
        let mut rng = SeededEntropy::new(2);
        let (u, home, other) = (
            SecretKey::generate(&mut rng),
            SecretKey::generate(&mut rng),
            SecretKey::generate(&mut rng),
        );
        let g = EventId([1; 32]);
        let info = UserInfo {
            key: u.public(),
            username: "bob".into(),
            home: home.public(),
        };
        let sig = u.sign(&user_statement(&g, &info));
        assert_eq!(verify_user(&g, &info, &sig), Ok(()));
        let moved = UserInfo {
            home: other.public(),
            ..info
        };
        assert_eq!(verify_user(&g, &moved, &sig), Err(ProofError::User));
    }
}
