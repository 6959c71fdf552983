//! Foo-over-UDP receive ports (the `fou` generic netlink family), for GUE tunnels.

use std::io;

use netlink_packet_route::AddressFamily;
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

use crate::error::{Error, Result};

const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const FOU_CMD_ADD: u8 = 1;
const FOU_CMD_DEL: u8 = 2;
const FOU_CMD_GET: u8 = 3;
const FOU_ATTR_PORT: u16 = 1;
const FOU_ATTR_AF: u16 = 2;
const FOU_ATTR_TYPE: u16 = 4;
const FOU_ENCAP_GUE: u8 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

/// A receive port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FouPort {
    pub port: u16,
    pub ipv6: bool,
    pub gue: bool,
}

/// A socket speaking the `fou` family (resolving it loads the `fou` module).
pub(crate) struct Fou {
    socket: Socket,
    family: u16,
    seq: u32,
}

/// One received message: type, flags and the generic netlink attributes after the header.
struct Reply {
    kind: u16,
    error: i32,
    attrs: Vec<(u16, Vec<u8>)>,
}

impl Fou {
    /// Opens a socket and resolves the family.
    pub fn open() -> Result<Self> {
        let mut socket = Socket::new(NETLINK_GENERIC).map_err(Error::Socket)?;
        socket.bind_auto().map_err(Error::Socket)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(Error::Socket)?;
        let mut fou = Fou { socket, family: GENL_ID_CTRL, seq: 0 };
        let name = attr(CTRL_ATTR_FAMILY_NAME, b"fou\0");
        let replies = fou.call("resolve the fou family", CTRL_CMD_GETFAMILY, NLM_F_ACK, &name)?;
        let id = replies
            .iter()
            .flat_map(|r| r.attrs.iter())
            .find(|(t, v)| *t == CTRL_ATTR_FAMILY_ID && v.len() >= 2)
            .map(|(_, v)| u16::from_ne_bytes([v[0], v[1]]))
            .ok_or_else(|| Error::Decode("the fou family has no id".into()))?;
        fou.family = id;
        Ok(fou)
    }

    /// The receive ports of this namespace.
    pub fn ports(&mut self) -> Result<Vec<FouPort>> {
        let replies = self.call("list fou ports", FOU_CMD_GET, NLM_F_DUMP, &[])?;
        let mut out = Vec::new();
        for r in replies {
            let get = |t: u16| r.attrs.iter().find(|(k, _)| *k == t).map(|(_, v)| v.as_slice());
            let Some([hi, lo, ..]) = get(FOU_ATTR_PORT) else { continue };
            let ipv6 = matches!(get(FOU_ATTR_AF), Some([af, ..]) if *af == u8::from(AddressFamily::Inet6));
            let gue = matches!(get(FOU_ATTR_TYPE), Some([FOU_ENCAP_GUE, ..]));
            out.push(FouPort { port: u16::from_be_bytes([*hi, *lo]), ipv6, gue });
        }
        Ok(out)
    }

    /// Adds (`add`) or removes a GUE receive port.
    pub fn set(&mut self, add: bool, port: u16, ipv6: bool) -> Result<()> {
        let mut attrs = attr(FOU_ATTR_PORT, &port.to_be_bytes());
        attrs.extend(attr(FOU_ATTR_AF, &[u8::from(if ipv6 { AddressFamily::Inet6 } else { AddressFamily::Inet })]));
        if add {
            attrs.extend(attr(FOU_ATTR_TYPE, &[FOU_ENCAP_GUE]));
        }
        let v = if ipv6 { "IPv6" } else { "IPv4" };
        let op = format!("{} GUE port {port} ({v})", if add { "add" } else { "remove" });
        let cmd = if add { FOU_CMD_ADD } else { FOU_CMD_DEL };
        self.call(&op, cmd, NLM_F_ACK, &attrs).map(drop)
    }

    fn call(&mut self, op: &str, cmd: u8, flags: u16, attrs: &[u8]) -> Result<Vec<Reply>> {
        self.seq = self.seq.wrapping_add(1);
        let len = 16 + 4 + attrs.len();
        let mut buf = Vec::with_capacity(len);
        buf.extend((len as u32).to_ne_bytes());
        buf.extend(self.family.to_ne_bytes());
        buf.extend((NLM_F_REQUEST | flags).to_ne_bytes());
        buf.extend(self.seq.to_ne_bytes());
        buf.extend(0u32.to_ne_bytes());
        buf.extend([cmd, 1, 0, 0]);
        buf.extend_from_slice(attrs);
        loop {
            match self.socket.send(&buf, 0) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Socket(e)),
            }
        }
        let mut out = Vec::new();
        loop {
            let (data, _) = match self.socket.recv_from_full() {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Socket(e)),
            };
            for r in parse(&data)? {
                match r {
                    (seq, _) if seq != self.seq => {}
                    (_, Reply { kind: NLMSG_DONE, .. }) => return Ok(out),
                    (_, Reply { kind: NLMSG_ERROR, error: 0, .. }) => return Ok(out),
                    (_, Reply { kind: NLMSG_ERROR, error, .. }) => return Err(Error::kernel(op, error)),
                    (_, r) => out.push(r),
                }
            }
        }
    }
}

fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
    let len = 4 + value.len();
    let mut out = Vec::with_capacity((len + 3) & !3);
    out.extend((len as u16).to_ne_bytes());
    out.extend(kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize((len + 3) & !3, 0);
    out
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

/// Splits a datagram into (sequence, reply) pairs.
fn parse(data: &[u8]) -> Result<Vec<(u32, Reply)>> {
    let bad = |what: &str| Error::Decode(format!("generic netlink: {what}"));
    let mut out = Vec::new();
    let mut off = 0;
    while off + 16 <= data.len() {
        let len = u32_at(data, off).ok_or_else(|| bad("header"))? as usize;
        if len < 16 || off + len > data.len() {
            return Err(bad("message length"));
        }
        let msg = &data[off..off + len];
        let kind = u16_at(msg, 4).ok_or_else(|| bad("header"))?;
        let seq = u32_at(msg, 8).ok_or_else(|| bad("header"))?;
        let mut reply = Reply { kind, error: 0, attrs: Vec::new() };
        if kind == NLMSG_ERROR {
            reply.error = u32_at(msg, 16).ok_or_else(|| bad("error"))? as i32;
        } else if kind != NLMSG_DONE {
            let mut a = 20;
            while a + 4 <= msg.len() {
                let alen = u16_at(msg, a).ok_or_else(|| bad("attribute"))? as usize;
                let akind = u16_at(msg, a + 2).ok_or_else(|| bad("attribute"))? & 0x3fff;
                if alen < 4 || a + alen > msg.len() {
                    return Err(bad("attribute length"));
                }
                reply.attrs.push((akind, msg[a + 4..a + alen].to_vec()));
                a += (alen + 3) & !3;
            }
        }
        out.push((seq, reply));
        off += (len + 3) & !3;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded() {
        assert_eq!(attr(2, b"fou\0"), vec![8, 0, 2, 0, b'f', b'o', b'u', 0]);
        assert_eq!(attr(1, &[0x17, 0x70]), vec![6, 0, 1, 0, 0x17, 0x70, 0, 0]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(&[255; 40]).is_err());
        assert!(parse(&[]).unwrap().is_empty());
        let mut msg = vec![24, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 9, 0, 1, 0];
        assert!(parse(&msg).is_err(), "attribute longer than the message");
        msg[20] = 4;
        let r = parse(&msg).unwrap();
        assert_eq!(r[0].0, 1);
    }
}
