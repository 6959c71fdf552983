//! Netlink framing: a request as bytes (netlink header, generic netlink header, attributes),
//! and a received datagram split into frames. No I/O.
//!
//! Encoding refuses what netlink cannot carry (an attribute over 65,535 bytes, a message over
//! 4 GiB) with an error instead of writing a wrapped length. Decoding never panics on any
//! input: the generic netlink header and the controller's replies are parsed here, with
//! bounds checks, and nothing is handed to a parser that could index past its input.

use netlink_packet_core::{
    DecodeError, DoneBuffer, Emitable, ErrorBuffer, NetlinkBuffer, NetlinkHeader, Nla, NlaBuffer, NlasIterator,
    NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};

use super::{IpvsCmd, IpvsMessage};
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
/// The largest attribute netlink can describe (its length field is 16 bits).
const MAX_NLA_LEN: usize = u16::MAX as usize;

const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_VERSION: u8 = 2;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

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

/// Why a message cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EncodeError(String);

/// Checks that every attribute of `msg` fits netlink's 16-bit attribute length and the whole
/// message its 32-bit length. (A nest that fits holds only attributes that fit.)
pub fn check_sizes(msg: &IpvsMessage) -> Result<usize, EncodeError> {
    let mut total = NLMSG_HDRLEN + GENL_HDRLEN;
    for a in &msg.attrs {
        let len = 4 + a.value_len();
        if len > MAX_NLA_LEN {
            return Err(EncodeError(format!(
                "attribute {} of {:?} is {len} bytes; netlink attributes hold at most {MAX_NLA_LEN}",
                a.kind(),
                msg.cmd
            )));
        }
        total += align4(len);
    }
    if total > u32::MAX as usize {
        return Err(EncodeError(format!("{:?} message of {total} bytes", msg.cmd)));
    }
    Ok(total)
}

/// Appends `msg` as one netlink message of family `family` to `out`.
pub fn encode(msg: &IpvsMessage, family: u16, seq: u32, flags: u16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    check_sizes(msg)?;
    let len = NLMSG_HDRLEN + GENL_HDRLEN + msg.body_len();
    let start = out.len();
    out.resize(start + align4(len), 0);
    let buf = &mut out[start..start + len];
    header(len, family, flags, seq).emit(&mut buf[..NLMSG_HDRLEN]);
    buf[NLMSG_HDRLEN] = msg.cmd.number();
    buf[NLMSG_HDRLEN + 1] = super::FAMILY_VERSION;
    msg.emit_body(&mut buf[NLMSG_HDRLEN + GENL_HDRLEN..]);
    Ok(())
}

/// Appends a generic netlink controller request resolving the family `name` to `out`.
pub fn encode_get_family(name: &str, seq: u32, flags: u16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let attr_len = 4 + name.len() + 1;
    if attr_len > MAX_NLA_LEN {
        return Err(EncodeError(format!("family name of {} bytes", name.len())));
    }
    let len = NLMSG_HDRLEN + GENL_HDRLEN + attr_len;
    let start = out.len();
    out.resize(start + align4(len), 0);
    let buf = &mut out[start..start + len];
    header(len, GENL_ID_CTRL, flags, seq).emit(&mut buf[..NLMSG_HDRLEN]);
    buf[NLMSG_HDRLEN] = CTRL_CMD_GETFAMILY;
    buf[NLMSG_HDRLEN + 1] = CTRL_VERSION;
    let a = &mut buf[NLMSG_HDRLEN + GENL_HDRLEN..];
    a[..2].copy_from_slice(&(attr_len as u16).to_ne_bytes());
    a[2..4].copy_from_slice(&CTRL_ATTR_FAMILY_NAME.to_ne_bytes());
    a[4..4 + name.len()].copy_from_slice(name.as_bytes());
    Ok(())
}

/// A generic netlink controller message (family resolution): what this library reads of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtrlMessage {
    /// The controller command.
    pub cmd: u8,
    /// The family id, if the message carries one.
    pub family_id: Option<u16>,
    /// The family name, if the message carries one.
    pub family_name: Option<String>,
}

fn parse_ctrl(payload: &[u8]) -> Result<CtrlMessage, DecodeError> {
    if payload.len() < GENL_HDRLEN {
        return Err(DecodeError::from(format!("generic netlink header of {} bytes", payload.len())));
    }
    let mut m = CtrlMessage { cmd: payload[0], family_id: None, family_name: None };
    for nla in NlasIterator::new(&payload[GENL_HDRLEN..]) {
        let nla: NlaBuffer<&[u8]> = nla?;
        let v = nla.value();
        match nla.kind() {
            CTRL_ATTR_FAMILY_ID => m.family_id = Some(netlink_packet_core::parse_u16(v)?),
            CTRL_ATTR_FAMILY_NAME => m.family_name = Some(netlink_packet_core::parse_string(v)?),
            _ => {}
        }
    }
    Ok(m)
}

/// What one received netlink message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload {
    /// An IPVS message (a reply or a dump part).
    Ipvs(IpvsMessage),
    /// A generic netlink controller message (family resolution).
    Ctrl(CtrlMessage),
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
        GENL_ID_CTRL => Payload::Ctrl(parse_ctrl(payload)?),
        _ => {
            if payload.len() < GENL_HDRLEN {
                return Err(DecodeError::from(format!("generic netlink header of {} bytes", payload.len())));
            }
            let cmd = IpvsCmd::from_number(payload[0]);
            Payload::Ipvs(IpvsMessage::parse_body(cmd, &payload[GENL_HDRLEN..])?)
        }
    };
    let frame =
        Frame { msg_type, flags: nl.flags(), seq: nl.sequence_number(), port: nl.port_number(), payload: content };
    Ok((frame, align4(len).min(buf.len()).max(1)))
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
    use crate::model::{Scheduler, Service, ServiceId};
    use crate::wire::{IpvsAttr, ServiceAttr};
    use crate::Request;

    #[test]
    fn flush_request_bytes() {
        let mut out = Vec::new();
        encode(&IpvsMessage::bare(IpvsCmd::Flush), 0x1d, 7, REQUEST_ACK, &mut out).unwrap();
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
    fn get_family_request_bytes() {
        let mut out = Vec::new();
        encode_get_family("IPVS", 1, REQUEST_ACK, &mut out).unwrap();
        assert_eq!(
            out,
            [
                29, 0, 0, 0, 0x10, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0, // netlink header (length unpadded)
                3, 2, 0, 0, // CTRL_CMD_GETFAMILY, version 2
                9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0, // FAMILY_NAME "IPVS"
            ]
        );
    }

    #[test]
    fn ctrl_reply_is_read_here() {
        // A NEWFAMILY reply: FAMILY_ID 0x1d, FAMILY_NAME "IPVS", and an attribute we ignore.
        let mut body = vec![1, 2, 0, 0];
        body.extend([6, 0, 1, 0, 0x1d, 0, 0, 0]);
        body.extend([9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0]);
        body.extend([8, 0, 3, 0, 1, 0, 0, 0]);
        let mut buf = Vec::new();
        buf.extend(((16 + body.len()) as u32).to_ne_bytes());
        buf.extend(0x10u16.to_ne_bytes());
        buf.extend([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        buf.extend(&body);
        let frames = decode_all(&buf).unwrap();
        assert_eq!(
            frames[0].payload,
            Payload::Ctrl(CtrlMessage { cmd: 1, family_id: Some(0x1d), family_name: Some("IPVS".into()) })
        );
    }

    #[test]
    fn ctrl_frames_that_crashed_a_dependency_decode_safely() {
        // The reproducer that made netlink-packet-generic's controller parser index past its
        // input: a controller frame with an attribute of type 8. Read here, it is a frame
        // with nothing this library needs.
        let hex = "1d0000001000000009000000d20000000400000009000800d299040000";
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let frames = decode_all(&bytes).unwrap();
        assert_eq!(frames[0].payload, Payload::Ctrl(CtrlMessage { cmd: 4, family_id: None, family_name: None }));
        // The same frame with its attribute claiming more than there is: an error.
        let mut longer = bytes.clone();
        longer[20] = 0x40;
        assert!(decode_all(&longer).is_err());
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
        encode(&msg, 0x20, 1, REQUEST_ACK, &mut out).unwrap();
        encode(&msg, 0x20, 2, DUMP, &mut out).unwrap();
        let frames = decode_all(&out).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].seq, 2);
        assert_eq!(frames[1].flags, DUMP);
        assert_eq!(frames[0].message(), Some(&msg));
    }

    #[test]
    fn oversized_attributes_are_refused_not_wrapped() {
        let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Other("x".repeat(65536)));
        let mut out = Vec::new();
        let err = encode(&IpvsMessage::from(&Request::AddService(svc)), 0x1d, 1, REQUEST_ACK, &mut out).unwrap_err();
        assert!(err.to_string().contains("at most 65535"), "{err}");
        assert!(out.is_empty());
        // A reply of 3,300 address attributes decodes; encoding it again is refused.
        let many = IpvsMessage {
            cmd: IpvsCmd::NewService,
            attrs: vec![IpvsAttr::Service(vec![ServiceAttr::Addr([0; 16]); 3300])],
        };
        assert!(encode(&many, 0x1d, 1, REQUEST_ACK, &mut out).is_err());
        // The largest attribute that fits is encoded.
        let fits = IpvsMessage {
            cmd: IpvsCmd::NewService,
            attrs: vec![IpvsAttr::Service(vec![ServiceAttr::SchedName("y".repeat(MAX_NLA_LEN - 12).into())])],
        };
        encode(&fits, 0x1d, 1, REQUEST_ACK, &mut out).unwrap();
        assert!(decode_all(&out).is_ok());
    }

    fn xorshift(x: &mut u32) -> u8 {
        *x ^= *x << 13;
        *x ^= *x >> 17;
        *x ^= *x << 5;
        *x as u8
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u32 = 0x1234_5678;
        for len in 0..200usize {
            for _ in 0..50 {
                let bytes: Vec<u8> = (0..len).map(|_| xorshift(&mut x)).collect();
                let _ = decode_all(&bytes);
                // Also with a plausible header in front, of every frame type the decoder tells apart.
                for msg_type in [0x1du16, GENL_ID_CTRL, NLMSG_ERROR, NLMSG_DONE] {
                    let mut framed = Vec::new();
                    framed.extend_from_slice(&((len + 20) as u32).to_ne_bytes());
                    framed.extend_from_slice(&msg_type.to_ne_bytes());
                    framed.extend_from_slice(&[0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
                    framed.extend_from_slice(&[1, 1, 0, 0]);
                    framed.extend_from_slice(&bytes);
                    let _ = decode_all(&framed);
                }
            }
        }
    }
}
