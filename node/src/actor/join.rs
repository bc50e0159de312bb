//! The join handshake (DESIGN §5; docs/protocol.md §7.3), both sides.
//!
//! Joiner: `InEvent::Join { genesis }` first (so the member's Hello, which may overtake its
//! answer, is recognised), then a [`JoinRequest`] to the member(s); on `Joined` it records
//! the flotilla (resumed after a restart) and subscribes to its topic; `join()` answers once
//! this node sees itself as an active node of the flotilla (admission and keys synced), or
//! fails at the deadline.
//!
//! The joiner never sends a secret: the request carries its admission proof, signed with
//! the invite's secret key and its own node key (protocol::proof), which admits this node
//! and nobody else. Without `via`, it first probes every connected peer
//! ([`Request::Probe`]) and sends the request only to the peers that answer with the
//! flotilla's genesis event, which an outsider does not hold.
//!
//! Member: answers probes for the flotillas it is an active node of; checks the request's
//! node key against the connection, builds the `NodeAdmit` with the sync core's context
//! (whose ledger verifies the proof, the invite's expiry, uses and revocation, as every
//! other ledger will) and publishes it like any local event.

use flotilla_protocol as proto;
use libp2p::PeerId;
use libp2p::request_response::OutboundRequestId;
use proto::author::{AuthorError, InviteCode};
use proto::event::NodeInfo;
use proto::event::SignedEvent;
use proto::id::{EventId, FlotillaId};
use proto::membership::AuthError;
use proto::sync::InEvent;
use tokio::sync::oneshot;

use std::collections::HashMap;

use super::{Actor, JoinAttempt, Timer, now_ms, peer_of};
use crate::Error;
use crate::handle::Event;
use crate::net::codec::{JoinRefusal, JoinRequest, Request, Response};
use crate::net::{self};

impl Actor {
    /// This node as the flotilla will know it.
    fn node_info(&self) -> NodeInfo {
        NodeInfo {
            key: self.me,
            x25519: self.key.x25519_public(),
            name: self.name.clone(),
        }
    }

    /// The flotilla founded by `genesis`, if followed.
    fn flotilla_of(&self, genesis: &EventId) -> Option<FlotillaId> {
        self.state.flotillas().copied().find(|f| {
            self.state
                .ledger(f)
                .is_some_and(|l| l.genesis() == *genesis)
        })
    }

    pub(super) fn is_member(&self, flotilla: &FlotillaId) -> bool {
        self.state
            .ledger(flotilla)
            .is_some_and(|l| l.state().is_active_node(&self.me))
    }

    pub(super) fn start_join(
        &mut self,
        code: InviteCode,
        via: Option<libp2p::Multiaddr>,
        reply: oneshot::Sender<Result<FlotillaId, Error>>,
    ) {
        if let Some(f) = self.flotilla_of(&code.genesis)
            && self.is_member(&f)
        {
            let _ = reply.send(Ok(f));
            return;
        }
        let via_given = via.clone();
        let targets: Vec<(PeerId, Vec<libp2p::Multiaddr>)> = match via {
            Some(addr) => match peer_of(&addr) {
                Some(p) => vec![(p, vec![addr])],
                None => {
                    let reason = format!("`{addr}` does not end in /p2p/<peer id>");
                    let _ = reply.send(Err(Error::Invalid {
                        what: "via",
                        reason,
                    }));
                    return;
                }
            },
            None => self
                .peers
                .iter()
                .filter(|(_, p)| p.connections > 0)
                .map(|(k, _)| (*k, vec![]))
                .collect(),
        };
        if targets.is_empty() {
            let _ = reply.send(Err(Error::Join(
                "no peer to ask: connect to a member first".into(),
            )));
            return;
        }
        self.drive(InEvent::Join {
            genesis: code.genesis,
        });
        let node = self.node_info();
        let request = JoinRequest {
            genesis: code.genesis,
            invite: code.invite,
            proof: code.prove(&self.key, &node),
            node,
        };
        // With `via`, the operator named a member; otherwise ask who is one first.
        let probing = via_given.is_none();
        let id = self.next_join;
        self.next_join += 1;
        let mut probes = HashMap::new();
        for (peer, addrs) in &targets {
            let message = if probing {
                Request::Probe(proto::proof::probe_tag(&code.genesis, &self.me))
            } else {
                Request::Join(Box::new(request.clone()))
            };
            let rid = self.swarm.behaviour_mut().sync.send_request_with_addresses(
                peer,
                message,
                addrs.clone(),
            );
            if probing {
                probes.insert(rid, *peer);
            }
            self.join_requests.insert(rid, id);
        }
        let via: Vec<PeerId> = targets.iter().map(|(p, _)| *p).collect();
        for p in &via {
            self.set_welcome(*p, true);
        }
        self.joins.insert(
            id,
            JoinAttempt {
                genesis: code.genesis,
                reply: Some(reply),
                outstanding: targets.len(),
                last_error: None,
                flotilla: None,
                via,
                request,
                probes,
            },
        );
        // Long enough for the request and then the admission and keys to sync.
        let deadline = self.timeouts.request * 3;
        self.timers.set(deadline, Timer::JoinDeadline(id));
    }

    pub(super) fn on_joined(
        &mut self,
        rid: OutboundRequestId,
        genesis: EventId,
        flotilla: FlotillaId,
    ) {
        let Some(id) = self.join_requests.remove(&rid) else {
            return;
        };
        let Some(attempt) = self.joins.get_mut(&id) else {
            return;
        };
        attempt.outstanding = attempt.outstanding.saturating_sub(1);
        if attempt.genesis != genesis || attempt.flotilla.is_some() {
            return;
        }
        attempt.flotilla = Some(flotilla);
        if let Err(e) = self.store.set_genesis(&flotilla, &genesis) {
            tracing::warn!(%e, "cannot record the joined flotilla");
        }
        self.follow_topic(flotilla);
        self.check_joins();
    }

    pub(super) fn on_join_refused(&mut self, rid: OutboundRequestId, why: JoinRefusal) {
        self.join_failed(rid, Error::JoinRefused(why));
    }

    pub(super) fn on_request_failed(&mut self, rid: OutboundRequestId, error: &str) {
        if self.join_requests.contains_key(&rid) {
            self.join_failed(rid, Error::Join(error.to_owned()));
        } else {
            tracing::debug!(%error, "sync request failed");
        }
    }

    fn join_failed(&mut self, rid: OutboundRequestId, error: Error) {
        let Some(id) = self.join_requests.remove(&rid) else {
            return;
        };
        let Some(attempt) = self.joins.get_mut(&id) else {
            return;
        };
        attempt.outstanding = attempt.outstanding.saturating_sub(1);
        attempt.last_error = Some(error);
        if attempt.outstanding == 0 && attempt.flotilla.is_none() {
            self.finish_join(id);
        }
    }

    /// Answers every join whose flotilla now counts this node as an active member.
    pub(super) fn check_joins(&mut self) {
        let done: Vec<u64> = self
            .joins
            .iter()
            .filter(|(_, a)| a.flotilla.is_some_and(|f| self.is_member(&f)))
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            self.finish_join(id);
        }
    }

    pub(super) fn on_join_deadline(&mut self, id: u64) {
        if let Some(a) = self.joins.get_mut(&id)
            && a.last_error.is_none()
        {
            a.last_error = Some(Error::Join("timed out".into()));
        }
        self.finish_join(id);
    }

    fn finish_join(&mut self, id: u64) {
        let Some(mut attempt) = self.joins.remove(&id) else {
            return;
        };
        self.join_requests.retain(|_, j| *j != id);
        let result = match attempt.flotilla {
            Some(f) if self.is_member(&f) => {
                self.add_accounts(&f);
                self.emit(Event::Joined(f));
                Ok(f)
            }
            _ => Err(attempt
                .last_error
                .take()
                .unwrap_or_else(|| Error::Join("timed out".into()))),
        };
        if let Some(reply) = attempt.reply.take() {
            let _ = reply.send(result); // the caller may have given up
        }
        self.refresh_welcome();
        // Peers made welcome only for this join (asked, and not members) are closed now,
        // as their join grace would have closed them.
        for peer in attempt.via {
            self.on_grace(peer);
        }
    }

    /// Joiner side: a peer answered a probe with a genesis; if it is the flotilla's, the
    /// peer is a member: send it the join request.
    pub(super) fn on_probe_answer(&mut self, rid: OutboundRequestId, bytes: &[u8]) {
        let Some(&id) = self.join_requests.get(&rid) else {
            return;
        };
        let Some(attempt) = self.joins.get_mut(&id) else {
            return;
        };
        let Some(peer) = attempt.probes.remove(&rid) else {
            return;
        };
        let genuine = SignedEvent::decode(bytes).is_ok_and(|e| e.id() == attempt.genesis);
        if !genuine {
            tracing::info!(%peer, "a peer answered a join probe with a wrong genesis");
            self.join_failed(rid, Error::Join("a peer is not a member".into()));
            return;
        }
        let request = Request::Join(Box::new(attempt.request.clone()));
        self.join_requests.remove(&rid);
        let rid = self.swarm.behaviour_mut().sync.send_request(&peer, request);
        self.join_requests.insert(rid, id);
    }

    /// Member side: answers a probe with the genesis event if this node is an active node
    /// of the flotilla it names for this peer (a replayed tag names nothing).
    pub(super) fn on_probe(&mut self, peer: PeerId, tag: [u8; 32]) -> Response {
        let Some(asker) = net::node_key(&peer) else {
            return Response::Refused(JoinRefusal::WrongNode);
        };
        let event = self
            .state
            .flotillas()
            .copied()
            .filter(|f| self.is_member(f))
            .filter_map(|f| self.state.ledger(&f))
            .find(|l| proto::proof::probe_tag(&l.genesis(), &asker) == tag)
            .and_then(|l| l.event(&l.genesis()).cloned());
        match event {
            Some(e) => Response::Genesis(e.bytes().to_vec()),
            None => Response::Refused(JoinRefusal::UnknownFlotilla),
        }
    }

    /// Member side: judges a join request and admits the node if the invite holds.
    pub(super) fn on_join_request(&mut self, peer: PeerId, req: JoinRequest) -> Response {
        match self.admit(peer, &req) {
            Ok(flotilla) => Response::Joined {
                genesis: req.genesis,
                flotilla,
            },
            Err(why) => {
                tracing::info!(%peer, %why, "join refused");
                Response::Refused(why)
            }
        }
    }

    fn admit(&mut self, peer: PeerId, req: &JoinRequest) -> Result<FlotillaId, JoinRefusal> {
        if net::node_key(&peer) != Some(req.node.key) {
            return Err(JoinRefusal::WrongNode);
        }
        let flotilla = self
            .flotilla_of(&req.genesis)
            .ok_or(JoinRefusal::UnknownFlotilla)?;
        let auth = self
            .state
            .ledger(&flotilla)
            .ok_or(JoinRefusal::UnknownFlotilla)?
            .state();
        if auth.is_active_node(&req.node.key) {
            return Ok(flotilla); // asked twice (a retry): already in
        }
        if !auth.invites.contains_key(&req.invite) || req.proof.invite_id() != Some(req.invite) {
            return Err(JoinRefusal::BadSecret);
        }
        let (node, proof) = (req.node.clone(), req.proof.clone());
        let built = self
            .state
            .with_ctx(&flotilla, now_ms(), |ctx, key| ctx.admit(key, node, proof))
            .ok_or(JoinRefusal::UnknownFlotilla)?;
        let event = built.map_err(|e| match e {
            AuthorError::Refused(AuthError::InviteUnusable(why)) => {
                JoinRefusal::Unusable(why.to_owned())
            }
            AuthorError::Refused(AuthError::BadProof(_)) => JoinRefusal::BadProof,
            other => JoinRefusal::NotReady(other.to_string()),
        })?;
        tracing::info!(%peer, flotilla = %flotilla.fmt_short(), "admitting a node by invite");
        self.drive(InEvent::Publish(event));
        if self.is_member_node(&flotilla, &req.node.key) {
            Ok(flotilla)
        } else {
            Err(JoinRefusal::NotReady("the admission was not stored".into()))
        }
    }

    fn is_member_node(&self, flotilla: &FlotillaId, key: &proto::PublicKey) -> bool {
        self.state
            .ledger(flotilla)
            .is_some_and(|l| l.state().is_active_node(key))
    }
}
