//! Connections and request-response: peers up and down, the join grace, sync requests.

use libp2p::core::ConnectedPoint;
use libp2p::request_response::{self, Message as RrMessage};
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};

use super::{Actor, MAX_KNOWN_PEERS, REDIAL_INITIAL, Timer, now_ms};
use crate::handle::{Event, PeerInfo};
use crate::net::codec::{Request, Response};
use crate::net::{self};
use flotilla_protocol as proto;
use flotilla_protocol::sync::InEvent;

impl Actor {
    pub(super) fn on_connected(
        &mut self,
        peer: PeerId,
        connection: ConnectionId,
        endpoint: &ConnectedPoint,
        established: u32,
    ) {
        if let Some(i) = self.static_dials.remove(&connection)
            && let Some(sp) = self.statics.get_mut(i)
        {
            sp.peer = Some(peer);
            sp.backoff = REDIAL_INITIAL;
        }
        self.forget_old_peers();
        let entry = self.peers.entry(peer).or_default();
        entry.connections += 1;
        entry.last_seen_ms = now_ms();
        if let ConnectedPoint::Dialer { address, .. } = endpoint
            && !entry.addrs.contains(address)
        {
            entry.addrs.push(address.clone());
        }
        self.link_up(peer, connection, endpoint);
        if established > 1 {
            self.regreet(&peer);
            return;
        }
        self.set_connected_count();
        let welcome = self.is_welcome(&peer);
        self.set_welcome(peer, welcome);
        if !welcome {
            self.timers
                .set(self.timeouts.join_grace, Timer::Grace(peer));
        }
        tracing::debug!(%peer, welcome, "peer connected");
        self.emit(Event::PeerConnected(peer));
        if let Some(key) = net::node_key(&peer) {
            self.drive(InEvent::PeerUp(key));
        }
    }

    pub(super) fn on_disconnected(&mut self, peer: PeerId, remaining: u32) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.connections = remaining as usize;
            p.last_seen_ms = now_ms();
        }
        if remaining > 0 {
            self.regreet(&peer);
            return;
        }
        self.set_connected_count();
        tracing::debug!(%peer, "peer disconnected");
        self.emit(Event::PeerDisconnected(peer));
        if let Some(key) = net::node_key(&peer) {
            self.drive(InEvent::PeerDown(key));
        }
        self.files_peer_down(&peer);
        let lost: Vec<usize> = (0..self.statics.len())
            .filter(|&i| self.statics[i].peer == Some(peer))
            .collect();
        for i in lost {
            self.schedule_redial(i);
        }
        let plan = self.found.disconnected(&peer, std::time::Instant::now());
        self.follow_plan(peer, plan);
    }

    /// Keeps the peer table bounded: forgets the longest-unseen disconnected peers.
    pub(super) fn forget_old_peers(&mut self) {
        while self.peers.len() >= MAX_KNOWN_PEERS {
            let oldest = self
                .peers
                .iter()
                .filter(|(_, p)| p.connections == 0)
                .min_by_key(|(_, p)| p.last_seen_ms)
                .map(|(k, _)| *k);
            match oldest {
                Some(k) => {
                    self.peers.remove(&k);
                }
                None => return,
            }
        }
    }

    pub(super) fn peer_list(&self) -> Vec<PeerInfo> {
        let mut out: Vec<PeerInfo> = self
            .peers
            .iter()
            .map(|(peer, p)| PeerInfo {
                peer: *peer,
                node: net::node_key(peer),
                addresses: p.addrs.clone(),
                connected: p.connections > 0,
                last_seen_ms: p.last_seen_ms,
            })
            .collect();
        out.sort_by_key(|p| p.peer);
        out
    }

    pub(super) fn on_request_response(&mut self, ev: request_response::Event<Request, Response>) {
        match ev {
            request_response::Event::Message { peer, message, .. } => match message {
                RrMessage::Request {
                    request_id,
                    request,
                    channel,
                } => {
                    if let Some(p) = self.peers.get_mut(&peer) {
                        p.last_seen_ms = now_ms();
                    }
                    let request = match request {
                        // answered by the file service, maybe later (a chunk read off the actor)
                        Request::Files(req) => {
                            return self.on_files_request(peer, request_id, req, channel);
                        }
                        other => other,
                    };
                    let response = self.on_request(peer, request);
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .sync
                        .send_response(channel, response); // the peer may be gone
                }
                RrMessage::Response {
                    request_id,
                    response,
                } => self.on_response(request_id, response),
            },
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if !self.on_files_failed(request_id) {
                    self.on_request_failed(request_id, &error.to_string());
                }
            }
            request_response::Event::InboundFailure {
                peer,
                error,
                request_id,
                ..
            } => {
                self.on_files_response_sent(peer, request_id);
                tracing::debug!(%peer, %error, "inbound request failed");
            }
            request_response::Event::ResponseSent {
                peer, request_id, ..
            } => self.on_files_response_sent(peer, request_id),
        }
    }

    fn on_request(&mut self, peer: PeerId, request: Request) -> Response {
        match request {
            Request::Sync(msg) => {
                if let Some(key) = net::node_key(&peer) {
                    self.on_sync_msg(key, msg);
                }
                Response::Ack
            }
            Request::Join(join) => self.on_join_request(peer, *join),
            Request::Probe(tag) => self.on_probe(peer, tag),
            Request::Files(_) => Response::Files(crate::files::wire::FilesResponse::NotHere),
        }
    }

    /// A sync message from a peer: events are verified off the actor, the rest goes to
    /// the core at once.
    pub(super) fn on_sync_msg(&mut self, peer: proto::PublicKey, msg: proto::wire::PeerMsg) {
        match msg {
            proto::wire::PeerMsg::Events { flotilla, events } => {
                self.on_events(peer, flotilla, events);
            }
            msg => self.drive(InEvent::Recv { peer, msg }),
        }
    }

    fn on_response(&mut self, id: request_response::OutboundRequestId, response: Response) {
        match response {
            Response::Ack => {}
            Response::Joined { genesis, flotilla } => self.on_joined(id, genesis, flotilla),
            Response::Refused(why) => self.on_join_refused(id, why),
            Response::Genesis(bytes) => self.on_probe_answer(id, &bytes),
            Response::Files(res) => self.on_files_response(id, res),
        }
    }

    pub(super) fn dial_addr(&mut self, addr: Multiaddr) -> Result<(), crate::Error> {
        self.swarm
            .dial(addr)
            .map_err(|e| crate::Error::Dial(e.to_string()))
    }
}
