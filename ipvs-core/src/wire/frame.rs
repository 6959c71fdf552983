//! Netlink framing: a request as bytes (netlink header, generic netlink header, attributes),
//! and a received datagram split into frames. No I/O; no panics on any input.

use netlink_packet_core::{
    DecodeError, DoneBuffer, Emitable, ErrorBuffer, NetlinkBuffer, NetlinkHeader, ParseableParametrized, NLMSG_DONE,
    NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::{ctrl::GenlCtrl, GenlHeader, GenlMessage};

use super::IpvsMessage;
use crate::error::Errno;

/// Flags of a request that wants an acknowledgement.
pub const REQUEST_ACK: u16 = NLM_F_REQUEST | NLM_F_ACK;
/// Flags of a request that wants no acknowledgement (errors are still reported).
pub const REQUEST: u16 = NLM_F_REQUEST;
/// Flags of a dump request.
pub const DUMP: u16 = NLM_F_REQUEST | NLM_F_DUMP;
/// Flag the kernel sets on dump parts when the table changed during the dump.
pub const DUMP_INTR: u16 = netlink_packet_core::NLM_F_DUMP_INTR;
/// Flag set on every part of a multipart (dump) reply.
pub const MULTIPART: u16 = netlink_packet_core::NLM_F_MULTIPART;
/// The generic netlink controller's fixed family id.
pub const GENL_ID_CTRL: u16 = 0x10;

const NLMSG_HDRLEN: usize = 16;
const GENL_HDRLEN: usize = 4;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn header(len: usize, message_type: u16, flags: u16, seq: u32) -> NetlinkHeader {
    let mut h = NetlinkHeader::default();
    h.length = len as u32;
    h.message_type = message_type;
    h.flags = flags;
    h.sequence_number = seq;
    h
}

/// Appends `msg` as one netlink message of family `family` to `out`.
pub fn encode(msg: &IpvsMessage, family: u16, seq: u32, flags: u16, out: &mut Vec<u8>) {
    let len = NLMSG_HDRLEN + GENL_HDRLEN + msg.buffer_len();
    let start = out.len();
    out.resize(start + align4(len), 0);
    let buf = &mut out[start..start + len];
    header(len, family, flags, seq).emit(&mut buf[..NLMSG_HDRLEN]);
    GenlHeader { cmd: msg.cmd.number(), version: super::FAMILY_VERSION }
        .emit(&mut buf[NLMSG_HDRLEN..NLMSG_HDRLEN + GENL_HDRLEN]);
    msg.emit(&mut buf[NLMSG_HDRLEN + GENL_HDRLEN..]);
}

/// Appends a generic netlink controller request (family resolution) to `out`.
pub fn encode_ctrl(msg: GenlCtrl, seq: u32, flags: u16, out: &mut Vec<u8>) {
    let mut genl = GenlMessage::from_payload(msg);
    genl.finalize();
    let len = NLMSG_HDRLEN + genl.buffer_len();
    let start = out.len();
    out.resize(start + align4(len), 0);
    let buf = &mut out[start..start + len];
    header(len, GENL_ID_CTRL, flags, seq).emit(&mut buf[..NLMSG_HDRLEN]);
    genl.emit(&mut buf[NLMSG_HDRLEN..]);
}

/// What one received netlink message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// An IPVS message (a reply or a dump part).
    Ipvs(IpvsMessage),
    /// A generic netlink controller message (family resolution).
    Ctrl(GenlCtrl),
    /// A positive acknowledgement (NLMSG_ERROR with code 0).
    Ack,
    /// An error report for a request (NLMSG_ERROR with a negative code).
    Error(Errno),
    /// End of a dump, with the dump's final status (0 or a negative errno).
    Done(i32),
    /// No-op.
    Noop,
    /// Overrun (data lost).
    Overrun,
}

/// One received netlink message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The netlink message type (family id, or NLMSG_*).
    pub msg_type: u16,
    /// Netlink flags (MULTIPART, DUMP_INTR, ...).
    pub flags: u16,
    /// Sequence number: the request's.
    pub seq: u32,
    /// Port id of the socket it was sent to.
    pub port: u32,
    /// The content.
    pub payload: Payload,
}

impl Frame {
    /// The IPVS message, if this frame carries one.
    pub fn message(&self) -> Option<&IpvsMessage> {
        match &self.payload {
            Payload::Ipvs(m) => Some(m),
            _ => None,
        }
    }

    /// Whether the kernel flagged this dump part as inconsistent.
    pub fn interrupted(&self) -> bool {
        self.flags & DUMP_INTR != 0
    }
}

/// Decodes one netlink message from the start of `buf`; returns it and the bytes it used.
pub fn decode_one(buf: &[u8]) -> Result<(Frame, usize), DecodeError> {
    let nl = NetlinkBuffer::new_checked(buf)?;
    let len = nl.length() as usize;
    let payload = nl.payload();
    let msg_type = nl.message_type();
    let content = match msg_type {
        NLMSG_ERROR => {
            let eb = ErrorBuffer::new_checked(&payload)?;
            match eb.code() {
                None => Payload::Ack,
                Some(c) => Payload::Error(Errno(c.get().checked_neg().unwrap_or(i32::MAX))),
            }
        }
        NLMSG_DONE => {
            if payload.len() >= 4 {
                Payload::Done(DoneBuffer::new_checked(&payload)?.code())
            } else {
                Payload::Done(0)
            }
        }
        NLMSG_NOOP => Payload::Noop,
        NLMSG_OVERRUN => Payload::Overrun,
        GENL_ID_CTRL => Payload::Ctrl(GenlMessage::<GenlCtrl>::parse_with_param(payload, msg_type)?.payload),
        _ => {
            let header = GenlHeader::parse(payload)?;
            Payload::Ipvs(IpvsMessage::parse_with_param(&payload[GENL_HDRLEN..], header)?)
        }
    };
    let frame =
        Frame { msg_type, flags: nl.flags(), seq: nl.sequence_number(), port: nl.port_number(), payload: content };
    Ok((frame, align4(len).min(buf.len())))
}

/// Decodes every netlink message in a datagram.
pub fn decode_all(mut buf: &[u8]) -> Result<Vec<Frame>, DecodeError> {
    let mut frames = Vec::new();
    while !buf.is_empty() {
        let (frame, used) = decode_one(buf)?;
        frames.push(frame);
        buf = &buf[used..];
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{IpvsAttr, IpvsCmd, ServiceAttr};

    #[test]
    fn flush_request_bytes() {
        let mut out = Vec::new();
        encode(&IpvsMessage::bare(IpvsCmd::Flush), 0x1d, 7, REQUEST_ACK, &mut out);
        assert_eq!(
            out,
            [
                20, 0, 0, 0, // length
                0x1d, 0, // family id
                5, 0, // REQUEST | ACK
                7, 0, 0, 0, // seq
                0, 0, 0, 0, // port
                17, 1, 0, 0, // cmd FLUSH, version 1
            ]
        );
    }

    #[test]
    fn ack_error_done_frames() {
        // An ack for seq 3, an EEXIST for seq 4 and a DONE, in one datagram.
        let mut buf = Vec::new();
        for (seq, code) in [(3u32, 0i32), (4, -17)] {
            buf.extend_from_slice(&36u32.to_ne_bytes());
            buf.extend_from_slice(&2u16.to_ne_bytes());
            buf.extend_from_slice(&0u16.to_ne_bytes());
            buf.extend_from_slice(&seq.to_ne_bytes());
            buf.extend_from_slice(&99u32.to_ne_bytes());
            buf.extend_from_slice(&code.to_ne_bytes());
            buf.extend_from_slice(&[0u8; 16]);
        }
        buf.extend_from_slice(&20u32.to_ne_bytes());
        buf.extend_from_slice(&3u16.to_ne_bytes());
        buf.extend_from_slice(&2u16.to_ne_bytes());
        buf.extend_from_slice(&5u32.to_ne_bytes());
        buf.extend_from_slice(&99u32.to_ne_bytes());
        buf.extend_from_slice(&0i32.to_ne_bytes());
        let frames = decode_all(&buf).unwrap();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].payload, Payload::Ack);
        assert_eq!(frames[1].payload, Payload::Error(Errno::EEXIST));
        assert_eq!(frames[1].seq, 4);
        assert_eq!(frames[2].payload, Payload::Done(0));
        assert_eq!(frames[2].flags, MULTIPART);
    }

    #[test]
    fn request_round_trips_through_decode() {
        let msg = IpvsMessage {
            cmd: IpvsCmd::GetService,
            attrs: vec![IpvsAttr::Service(vec![ServiceAttr::Af(2), ServiceAttr::Fwmark(9)])],
        };
        let mut out = Vec::new();
        encode(&msg, 0x20, 1, REQUEST_ACK, &mut out);
        encode(&msg, 0x20, 2, DUMP, &mut out);
        let frames = decode_all(&out).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].seq, 2);
        assert_eq!(frames[1].flags, DUMP);
        assert_eq!(frames[0].message(), Some(&msg));
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u32 = 0x1234_5678;
        for len in 0..200usize {
            for _ in 0..50 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        x as u8
                    })
                    .collect();
                let _ = decode_all(&bytes);
                // Also with a plausible header in front.
                let mut framed = Vec::new();
                framed.extend_from_slice(&((len + 20) as u32).to_ne_bytes());
                framed.extend_from_slice(&0x1du16.to_ne_bytes());
                framed.extend_from_slice(&[0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
                framed.extend_from_slice(&[1, 1, 0, 0]);
                framed.extend_from_slice(&bytes);
                let _ = decode_all(&framed);
            }
        }
    }
}
