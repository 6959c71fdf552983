//! The floors: what the kernel itself costs, measured with no library in the way. Requests
//! are encoded before the clock starts and sent on one bare netlink socket; replies are only
//! walked header by header (no attribute is decoded).

use std::time::{Duration, Instant};

use ipvs::wire::frame::{self, DUMP, REQUEST, REQUEST_ACK};
use ipvs::wire::IpvsMessage;
use ipvs::{Request, ServiceId};
use ipvs_lab_tools::Res;
use netlink_sys::protocols::NETLINK_GENERIC;
use netlink_sys::{Socket, SocketAddr};
use nix::sys::socket::{setsockopt, sockopt};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// What the write floor sends per sendmsg.
const BATCH_BYTES: usize = 256 * 1024;

/// One bare socket and the IPVS family id.
pub struct Probe {
    socket: Socket,
    family: u16,
    seq: u32,
    rx: Vec<u8>,
}

/// What one datagram held: messages, and whether it ended the exchange (DONE or ACK), and
/// any error codes.
struct Walk {
    messages: usize,
    done: bool,
    errors: Vec<i32>,
}

fn walk(buf: &[u8], seq_done: Option<u32>) -> Walk {
    let mut w = Walk { messages: 0, done: false, errors: Vec::new() };
    let mut at = 0;
    while at + 16 <= buf.len() {
        let len = u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
        let ty = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
        let seq = u32::from_ne_bytes([buf[at + 8], buf[at + 9], buf[at + 10], buf[at + 11]]);
        if len < 16 || at + len > buf.len() {
            break;
        }
        match ty {
            NLMSG_DONE => w.done = true,
            NLMSG_ERROR if len >= 20 => {
                let code = i32::from_ne_bytes([buf[at + 16], buf[at + 17], buf[at + 18], buf[at + 19]]);
                if code != 0 {
                    w.errors.push(code);
                }
                if seq_done.is_none_or(|s| s == seq) {
                    w.done |= code == 0 || seq_done.is_some();
                }
            }
            _ => w.messages += 1,
        }
        at += (len + 3) & !3;
    }
    w
}

impl Probe {
    pub fn open(family: u16) -> Res<Probe> {
        let mut socket = Socket::new(NETLINK_GENERIC)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        let _ = socket.set_cap_ack(true);
        setsockopt(&socket, sockopt::RcvBufForce, &(4 * 1024 * 1024))?;
        // A 256 KiB sendmsg needs a send buffer larger than the default.
        setsockopt(&socket, sockopt::SndBufForce, &(4 * 1024 * 1024))?;
        Ok(Probe { socket, family, seq: 1, rx: Vec::with_capacity(256 * 1024) })
    }

    fn encode(&mut self, msg: &IpvsMessage, flags: u16, out: &mut Vec<u8>) -> Res<u32> {
        self.seq += 1;
        frame::encode(msg, self.family, self.seq, flags, out)?;
        Ok(self.seq)
    }

    fn recv(&mut self) -> Res<&[u8]> {
        self.rx.clear();
        self.rx.reserve_exact(256 * 1024);
        self.socket.recv(&mut self.rx, 0)?;
        Ok(&self.rx)
    }

    /// Sends a pre-encoded dump request and reads datagrams until DONE: the message count.
    fn dump(&mut self, request: &[u8]) -> Res<usize> {
        self.socket.send(request, 0)?;
        let mut n = 0;
        loop {
            let w = walk(self.recv()?, None);
            if let Some(e) = w.errors.first() {
                return Err(format!("dump failed: errno {}", -e).into());
            }
            n += w.messages;
            if w.done {
                return Ok(n);
            }
        }
    }

    /// The service dump alone: (services, time).
    pub fn read_services(&mut self) -> Res<(usize, Duration)> {
        let mut req = Vec::new();
        self.encode(&IpvsMessage::dump_services(), DUMP, &mut req)?;
        let start = Instant::now();
        let n = self.dump(&req)?;
        Ok((n, start.elapsed()))
    }

    /// The read floor: one service dump, then one destination dump per service, in turn on
    /// this socket (requests encoded beforehand). Returns (services, destinations, time).
    pub fn read_table(&mut self, ids: &[ServiceId]) -> Res<(usize, usize, Duration)> {
        let mut svc_req = Vec::new();
        self.encode(&IpvsMessage::dump_services(), DUMP, &mut svc_req)?;
        let mut dest_reqs = Vec::with_capacity(ids.len());
        for id in ids {
            let mut r = Vec::new();
            self.encode(&IpvsMessage::dump_destinations(id), DUMP, &mut r)?;
            dest_reqs.push(r);
        }
        let start = Instant::now();
        let services = self.dump(&svc_req)?;
        let mut dests = 0;
        for r in &dest_reqs {
            dests += self.dump(r)?;
        }
        Ok((services, dests, start.elapsed()))
    }

    /// The write floor: every request encoded beforehand without an acknowledgement, sent in
    /// 256 KiB batches, failures collected as they come, and one acknowledged barrier at the
    /// end. Returns the time; any failure is an error.
    pub fn write(&mut self, requests: &[Request]) -> Res<Duration> {
        let mut batches: Vec<Vec<u8>> = vec![Vec::with_capacity(BATCH_BYTES + 4096)];
        for r in requests {
            let msg = IpvsMessage::from(r);
            let mut one = Vec::new();
            self.encode(&msg, REQUEST, &mut one)?;
            if batches.last().is_some_and(|b| b.len() + one.len() > BATCH_BYTES) {
                batches.push(Vec::with_capacity(BATCH_BYTES + 4096));
            }
            if let Some(b) = batches.last_mut() {
                b.extend_from_slice(&one);
            }
        }
        let mut barrier = Vec::new();
        let barrier_seq = self.encode(&IpvsMessage::get_info(), REQUEST_ACK, &mut barrier)?;
        let start = Instant::now();
        let mut errors = 0usize;
        for b in &batches {
            self.socket.send(b, 0)?;
            // Failures of this batch, if any, are queued now.
            loop {
                self.rx.clear();
                self.rx.reserve_exact(256 * 1024);
                match self.socket.recv(&mut self.rx, libc_dontwait()) {
                    Ok(_) => errors += walk(&self.rx, Some(u32::MAX)).errors.len(),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.socket.send(&barrier, 0)?;
        loop {
            let w = walk(self.recv()?, Some(barrier_seq));
            errors += w.errors.len();
            if w.done {
                break;
            }
        }
        let took = start.elapsed();
        if errors > 0 {
            return Err(format!("write floor: {errors} requests failed").into());
        }
        Ok(took)
    }
}

fn libc_dontwait() -> i32 {
    nix::sys::socket::MsgFlags::MSG_DONTWAIT.bits()
}
