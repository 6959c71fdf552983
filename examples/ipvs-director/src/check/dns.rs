//! DNS_CHECK: one query over UDP; a reply with the query's id, QR set and RCODE 0 passes
//! (answers, the TC bit and the question are not looked at, as keepalived does not).

use std::net::SocketAddr;

use tokio::net::UdpSocket;

use super::{net, CheckError, Setup, Step, Wait};
use crate::config::{DnsCheck, ResolvedCheck};

/// The query: id, flags RD, one question of `name`, `qtype`, class IN.
pub(super) fn query_bytes(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, CheckError> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|l| *l <= 63)
            .ok_or_else(|| CheckError::DnsLabel(label.to_owned()))?;
        q.push(len);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    Ok(q)
}

pub(super) async fn query(check: &ResolvedCheck, dns: &DnsCheck, target: SocketAddr) -> Result<(), CheckError> {
    let bind: SocketAddr = match check.bind {
        Some(b) => b,
        None if target.is_ipv6() => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
        None => SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0)),
    };
    let socket = UdpSocket::bind(bind).await.map_err(|e| net::setup(Setup::Socket, e))?;
    socket.connect(target).await.map_err(|e| CheckError::io(Step::DnsConnect(target), &e))?;
    let id = rand_id();
    let q = query_bytes(id, &dns.name, dns.query_type.number())?;
    let exchange = async {
        socket.send(&q).await.map_err(|e| CheckError::io(Step::DnsSend, &e))?;
        let mut buf = [0u8; 4096];
        loop {
            let n = socket.recv(&mut buf).await.map_err(|e| CheckError::io(Step::DnsReceive, &e))?;
            let Some(head) = buf.get(..n.min(4)).filter(|h| h.len() == 4) else { continue };
            // Another id, or not a reply: keep waiting (within the timeout).
            if u16::from_be_bytes([head[0], head[1]]) != id || head[2] & 0x80 == 0 {
                continue;
            }
            let rcode = head[3] & 0x0f;
            return if rcode == 0 { Ok(()) } else { Err(CheckError::DnsRcode(rcode)) };
        }
    };
    tokio::time::timeout(check.connect_timeout, exchange).await.map_err(|_| CheckError::TimedOut(Wait::DnsReply))?
}

/// A query id that differs from run to run (not a secret: it only pairs replies).
fn rand_id() -> u16 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    (nanos ^ (nanos >> 16) ^ std::process::id()) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_laid_out_as_the_rfc_says() {
        let q = query_bytes(0x1234, "example.org.", 6).unwrap();
        assert_eq!(
            q,
            [
                0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'o',
                b'r', b'g', 0, 0, 6, 0, 1
            ]
        );
        // The root.
        assert_eq!(&query_bytes(1, ".", 6).unwrap()[12..], [0, 0, 6, 0, 1]);
        assert!(query_bytes(1, &"a".repeat(64), 1).is_err());
    }
}
