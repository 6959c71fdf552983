//! Foo-over-UDP receive ports (the `fou` generic netlink family), for GUE tunnels, through
//! the core's netlink [`Connection`] (which also resolves the family).

use std::time::Duration;

use ipvs::netlink::{Connection, Deadline, GenericMessage, NETLINK_GENERIC};
use netlink_packet_route::AddressFamily;

use crate::error::{Error, Result};

const FOU_GENL_VERSION: u8 = 1;
const FOU_CMD_ADD: u8 = 1;
const FOU_CMD_DEL: u8 = 2;
const FOU_CMD_GET: u8 = 3;
const FOU_ATTR_PORT: u16 = 1;
const FOU_ATTR_AF: u16 = 2;
const FOU_ATTR_TYPE: u16 = 4;
const FOU_ENCAP_GUE: u8 = 2;
/// How long one request may take (the kernel answers while it handles it).
const TIMEOUT: Duration = Duration::from_secs(30);

/// A receive port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FouPort {
    pub port: u16,
    pub ipv6: bool,
    pub gue: bool,
}

/// A socket speaking the `fou` family (resolving it loads the `fou` module).
pub(crate) struct Fou {
    conn: Connection,
    family: u16,
}

impl Fou {
    /// Opens a socket and resolves the family.
    pub fn open() -> Result<Self> {
        let mut conn = Connection::open(NETLINK_GENERIC).map_err(|e| Error::netlink(&|| "open".into(), e))?;
        let family = conn
            .resolve_family("fou", Deadline::after(TIMEOUT))
            .map_err(|e| Error::netlink(&|| "resolve the fou family".into(), e))?;
        Ok(Fou { conn, family })
    }

    /// The receive ports of this namespace.
    pub fn ports(&mut self) -> Result<Vec<FouPort>> {
        let query = GenericMessage::new(self.family, FOU_CMD_GET, FOU_GENL_VERSION);
        let replies = self
            .conn
            .dump(query, Deadline::after(TIMEOUT))
            .map_err(|e| Error::netlink(&|| "list fou ports".into(), e))?;
        Ok(replies.iter().filter_map(port_of).collect())
    }

    /// Adds (`add`) or removes a GUE receive port.
    pub fn set(&mut self, add: bool, port: u16, ipv6: bool) -> Result<()> {
        let v = if ipv6 { "IPv6" } else { "IPv4" };
        let op = || format!("{} GUE port {port} ({v})", if add { "add" } else { "remove" });
        let cmd = if add { FOU_CMD_ADD } else { FOU_CMD_DEL };
        let af = u8::from(if ipv6 { AddressFamily::Inet6 } else { AddressFamily::Inet });
        let mut msg = GenericMessage::new(self.family, cmd, FOU_GENL_VERSION)
            .with_attr(FOU_ATTR_PORT, &port.to_be_bytes())
            .and_then(|m| m.with_attr(FOU_ATTR_AF, &[af]))
            .map_err(|e| Error::netlink(&op, e))?;
        if add {
            msg = msg.with_attr(FOU_ATTR_TYPE, &[FOU_ENCAP_GUE]).map_err(|e| Error::netlink(&op, e))?;
        }
        self.conn.request(msg, 0, Deadline::after(TIMEOUT)).map(drop).map_err(|e| Error::netlink(&op, e))
    }
}

/// The port a `fou` message describes (none without a port attribute).
fn port_of(m: &GenericMessage) -> Option<FouPort> {
    let Some([hi, lo, ..]) = m.attr(FOU_ATTR_PORT) else { return None };
    let ipv6 = matches!(m.attr(FOU_ATTR_AF), Some([af, ..]) if *af == u8::from(AddressFamily::Inet6));
    let gue = matches!(m.attr(FOU_ATTR_TYPE), Some([FOU_ENCAP_GUE, ..]));
    Some(FouPort { port: u16::from_be_bytes([*hi, *lo]), ipv6, gue })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_read_from_their_attributes() {
        let m = |attrs: &[(u16, &[u8])]| {
            attrs.iter().fold(GenericMessage::new(0x20, FOU_CMD_GET, 1), |m, (k, v)| m.with_attr(*k, v).unwrap())
        };
        let v6 = u8::from(AddressFamily::Inet6);
        let gue = m(&[(FOU_ATTR_PORT, &[0x17, 0x70]), (FOU_ATTR_AF, &[v6]), (FOU_ATTR_TYPE, &[FOU_ENCAP_GUE])]);
        assert_eq!(port_of(&gue), Some(FouPort { port: 6000, ipv6: true, gue: true }));
        assert_eq!(port_of(&m(&[(FOU_ATTR_PORT, &[0, 80])])), Some(FouPort { port: 80, ipv6: false, gue: false }));
        assert_eq!(port_of(&m(&[(FOU_ATTR_PORT, &[1])])), None);
        assert_eq!(port_of(&m(&[])), None);
    }
}
