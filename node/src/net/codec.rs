//! The request-response codec of `/flotilla/sync/4`: one length-prefixed frame per request
//! and per response.
//!
//! ```text
//! frame    = len (u32 big-endian) ++ body            len ≤ MAX_BODY
//! request  = 0x00 ++ wire frame (proto::wire::encode of a PeerMsg)
//!          | 0x01 ++ postcard JoinRequest
//!          | 0x02 ++ probe tag (32 bytes, protocol::proof::probe_tag): "do you follow this?"
//!          | 0x03 ++ postcard FilesRequest (the chunk protocol, crate::files::wire)
//! response = postcard Response
//! ```
//! The length is checked before anything is allocated: a frame announcing more than
//! [`MAX_BODY`] bytes is refused with an [`io::ErrorKind::InvalidData`] error wrapping a
//! [`CodecError`], and the stream is dropped. A body never allocates more than it announced.

use std::io;

use flotilla_protocol as proto;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use proto::event::NodeInfo;
use proto::id::{EventId, FlotillaId, InviteId};
use proto::proof::AdmitProof;
use proto::wire::{self, PeerMsg};
use serde::{Deserialize, Serialize};

/// The protocol name and version negotiated by multistream-select.
/// Version 2: envelope v2, invite proofs instead of invite secrets, membership probes; 3: the
/// round numbers echoed in `Reconcile` answers; 4: envelope v3 (per-author hash chains).
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/flotilla/sync/4");
/// The largest body: a wire frame plus its one-byte tag.
pub const MAX_BODY: usize = wire::MAX_FRAME_SIZE + 1;

const TAG_SYNC: u8 = 0;
const TAG_JOIN: u8 = 1;
const TAG_PROBE: u8 = 2;
const TAG_FILES: u8 = 3;

/// A request to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A sync message (answered with [`Response::Ack`]).
    Sync(PeerMsg),
    /// "Admit my node with this invite" (answered with [`Response::Joined`] or
    /// [`Response::Refused`]).
    Join(Box<JoinRequest>),
    /// "Do you follow the flotilla whose genesis this tag names?" (the tag binds the genesis
    /// id to the asking node's key: protocol::proof::probe_tag), answered with
    /// [`Response::Genesis`] or [`Response::Refused`]. A joiner without `via` asks every
    /// connected peer this first, and sends its [`JoinRequest`] only to peers that answer
    /// with the genesis event itself, which an outsider does not hold.
    Probe([u8; 32]),
    /// A chunk-protocol request (answered with [`Response::Files`]).
    Files(crate::files::wire::FilesRequest),
}

/// A joiner's proof that it was given an invite code (DESIGN §5; protocol::proof). It
/// carries no secret: the proof admits the joining node and nobody else, so a captured
/// request is useless to whoever replays it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The flotilla's genesis, from the code.
    pub genesis: EventId,
    /// The invite, from the code.
    pub invite: InviteId,
    /// The joining node; its key must be the connection's peer id.
    pub node: NodeInfo,
    /// The node's and the invite's signatures over the admission statement.
    pub proof: AdmitProof,
}

impl std::fmt::Debug for JoinRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinRequest")
            .field("invite", &self.invite.fmt_short())
            .field("node", &self.node.key.fmt_short())
            .finish_non_exhaustive()
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// A sync message was received (its effects travel as new requests).
    Ack,
    /// The joiner was admitted: follow this flotilla.
    Joined {
        /// Its genesis.
        genesis: EventId,
        /// Its id.
        flotilla: FlotillaId,
    },
    /// The join was refused.
    Refused(JoinRefusal),
    /// The answer to a [`Request::Probe`]: the genesis event's bytes.
    Genesis(Vec<u8>),
    /// A chunk-protocol answer.
    Files(crate::files::wire::FilesResponse),
}

/// Why a member refused a join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum JoinRefusal {
    /// The member does not follow the flotilla of this genesis.
    #[error("this peer is not in that flotilla")]
    UnknownFlotilla,
    /// No such invite.
    #[error("invite unknown")]
    BadSecret,
    /// The invite is revoked, expired or used up (the ledger's reason).
    #[error("invite not usable: {0}")]
    Unusable(String),
    /// The node in the request is not the node that sent it.
    #[error("the request names another node")]
    WrongNode,
    /// The member could not build the admission.
    #[error("the member cannot admit now: {0}")]
    NotReady(String),
    /// The admission proof does not verify (not signed with this invite's key).
    #[error("the invite proof does not verify")]
    BadProof,
}

/// A frame that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The announced length is over the bound.
    #[error("frame of {len} bytes announced, more than the {max} allowed")]
    TooLarge {
        /// Announced length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The body does not decode.
    #[error("malformed frame: {0}")]
    Malformed(String),
}

impl From<CodecError> for io::Error {
    fn from(e: CodecError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// The codec (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct Codec;

impl Request {
    /// The body bytes of this request.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if the message breaks a wire bound.
    pub fn to_body(&self) -> Result<Vec<u8>, CodecError> {
        let mut body = Vec::new();
        match self {
            Request::Sync(msg) => {
                body.push(TAG_SYNC);
                let frame = wire::encode(msg).map_err(|e| CodecError::Malformed(e.to_string()))?;
                body.extend_from_slice(&frame);
            }
            Request::Join(join) => {
                body.push(TAG_JOIN);
                let bytes =
                    postcard::to_stdvec(join).map_err(|e| CodecError::Malformed(e.to_string()))?;
                body.extend_from_slice(&bytes);
            }
            Request::Probe(genesis) => {
                body.push(TAG_PROBE);
                body.extend_from_slice(genesis);
            }
            Request::Files(req) => {
                body.push(TAG_FILES);
                let bytes =
                    postcard::to_stdvec(req).map_err(|e| CodecError::Malformed(e.to_string()))?;
                body.extend_from_slice(&bytes);
            }
        }
        Ok(body)
    }

    /// Decodes a body.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for anything that is not a request.
    pub fn from_body(body: &[u8]) -> Result<Self, CodecError> {
        match body.split_first() {
            Some((&TAG_SYNC, frame)) => wire::decode(frame)
                .map(Request::Sync)
                .map_err(|e| CodecError::Malformed(e.to_string())),
            Some((&TAG_JOIN, bytes)) => postcard::from_bytes(bytes)
                .map(|r| Request::Join(Box::new(r)))
                .map_err(|e| CodecError::Malformed(e.to_string())),
            Some((&TAG_PROBE, bytes)) => <[u8; 32]>::try_from(bytes)
                .map(Request::Probe)
                .map_err(|_| CodecError::Malformed("probe length".into())),
            Some((&TAG_FILES, bytes)) => postcard::from_bytes(bytes)
                .map(Request::Files)
                .map_err(|e| CodecError::Malformed(e.to_string())),
            _ => Err(CodecError::Malformed("unknown request tag".into())),
        }
    }
}

impl Response {
    /// Decodes a body (what [`Codec`] reads after the length prefix).
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for anything that is not a response.
    pub fn from_body(body: &[u8]) -> Result<Self, CodecError> {
        postcard::from_bytes(body).map_err(|e| CodecError::Malformed(e.to_string()))
    }
}

/// Splits a length-prefixed frame (`u32` big-endian length, then the body) as [`Codec`]
/// reads it from a stream: the body, or an error for a short frame or one over `MAX_BODY`.
///
/// # Errors
/// [`CodecError::TooLarge`], [`CodecError::Malformed`] (truncated).
pub fn split_frame(bytes: &[u8]) -> Result<&[u8], CodecError> {
    let (len, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| CodecError::Malformed("no length prefix".into()))?;
    let len = u32::from_be_bytes(*len) as usize;
    if len > MAX_BODY {
        return Err(CodecError::TooLarge { len, max: MAX_BODY });
    }
    rest.get(..len)
        .ok_or_else(|| CodecError::Malformed("truncated body".into()))
}

async fn read_body<T: AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_BODY {
        return Err(CodecError::TooLarge { len, max: MAX_BODY }.into());
    }
    let mut body = vec![0u8; len];
    io.read_exact(&mut body).await?;
    Ok(body)
}

async fn write_body<T: AsyncWrite + Unpin + Send>(io: &mut T, body: &[u8]) -> io::Result<()> {
    if body.len() > MAX_BODY {
        return Err(CodecError::TooLarge {
            len: body.len(),
            max: MAX_BODY,
        }
        .into());
    }
    let len = u32::try_from(body.len()).map_err(|_| CodecError::TooLarge {
        len: body.len(),
        max: MAX_BODY,
    })?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(body).await?;
    io.close().await
}

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let body = read_body(io).await?;
        Ok(Request::from_body(&body)?)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let body = read_body(io).await?;
        Ok(Response::from_body(&body)?)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_body(io, &req.to_body()?).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let body = postcard::to_stdvec(&res).map_err(|e| CodecError::Malformed(e.to_string()))?;
        write_body(io, &body).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use libp2p::request_response::Codec as _;

    use super::*;

    fn run<F: std::future::Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    #[test]
    fn requests_and_responses_round_trip() {
        let msg = PeerMsg::Want {
            flotilla: FlotillaId([3; 16]),
            ids: vec![EventId([4; 32])],
        };
        let mut buf = Vec::new();
        run(Codec.write_request(&PROTOCOL, &mut buf, Request::Sync(msg.clone()))).unwrap();
        let back = run(Codec.read_request(&PROTOCOL, &mut buf.as_slice())).unwrap();
        assert_eq!(back, Request::Sync(msg));
        let res = Response::Refused(JoinRefusal::Unusable("expired".into()));
        let mut buf = Vec::new();
        run(Codec.write_response(&PROTOCOL, &mut buf, res.clone())).unwrap();
        assert_eq!(
            run(Codec.read_response(&PROTOCOL, &mut buf.as_slice())).unwrap(),
            res
        );
    }

    #[test]
    fn an_oversized_length_is_refused_before_allocating() {
        let mut frame = u32::MAX.to_be_bytes().to_vec();
        frame.extend_from_slice(&[0; 16]);
        let err = run(Codec.read_request(&PROTOCOL, &mut frame.as_slice())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let inner = err.into_inner().unwrap().downcast::<CodecError>().unwrap();
        assert!(matches!(*inner, CodecError::TooLarge { .. }), "{inner}");
    }

    #[test]
    fn garbage_and_truncated_frames_are_errors_not_panics() {
        for body in [
            vec![],
            vec![9, 1, 2],
            vec![TAG_SYNC, 200, 1],
            vec![TAG_JOIN, 1],
        ] {
            let mut frame = (body.len() as u32).to_be_bytes().to_vec();
            frame.extend_from_slice(&body);
            assert!(run(Codec.read_request(&PROTOCOL, &mut frame.as_slice())).is_err());
        }
        let truncated = [0, 0, 0, 10, TAG_SYNC];
        assert!(run(Codec.read_request(&PROTOCOL, &mut truncated.as_slice())).is_err());
    }
}
