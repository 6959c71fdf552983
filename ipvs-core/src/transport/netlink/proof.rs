//! The proof that a multi-datagram dump is consistent.
//!
//! IPVS dumps resume by an index counted over every network namespace's entries and never set
//! NLM_F_DUMP_INTR, so a dump of several datagrams repeats or skips entries at the datagram
//! boundaries when any table changes meanwhile. A one-datagram dump is atomic. A longer one is
//! checked against witness dumps taken on sockets whose datagrams are sized differently: each
//! boundary of the dump must be bridged by one (atomic) witness datagram that holds an entry
//! from each side, and any entry the witness lists between those two is added. Repeated
//! entries are dropped. So the result holds every entry that existed throughout the call
//! exactly once; entries created or deleted during the call may or may not appear.
//!
//! Limits: the proof relies on entries keeping their order, which holds for every change but
//! one: an entry deleted and created again under the same identity while the call runs moves,
//! and if it bridges a boundary, an entry skipped there can go unnoticed. Entries skipped at
//! the very end of a dump (the kernel's last, empty datagram starting past them) show at no
//! boundary: they are recovered from the witness's own tail, which makes losing them need the
//! same skip in both dumps, but is not a proof.

use std::collections::{HashMap, HashSet};

use netlink_packet_core::Emitable;

use crate::wire::{DaemonAttr, DestAttr, IpvsMessage, ServiceAttr};

/// Receive lengths of the witness sockets: the kernel sizes dump datagrams by them, and they
/// share no small common multiple with each other or with the main socket's 32 KiB.
pub(super) const WITNESS_RX_LENGTHS: [usize; 2] = [9 * 1024 + 100, 13 * 1024 + 300];

/// One witness dump, indexed: where each entry sits (datagram, position), every occurrence
/// (a witness can repeat entries at its own boundaries).
pub(super) struct Witness {
    parts: Vec<Vec<IpvsMessage>>,
    at: HashMap<Vec<u8>, Vec<(usize, usize)>>,
}

impl Witness {
    pub(super) fn new(parts: Vec<Vec<IpvsMessage>>) -> Witness {
        let mut at: HashMap<Vec<u8>, Vec<(usize, usize)>> = HashMap::new();
        for (i, part) in parts.iter().enumerate() {
            for (j, m) in part.iter().enumerate() {
                at.entry(identity_key(m)).or_default().push((i, j));
            }
        }
        Witness { parts, at }
    }

    /// Bridges the boundary between two consecutive datagrams of a dump: an entry of
    /// `before` and a later one of `after` that this witness lists within one datagram.
    /// Returns the witness entries between them (a skipped entry would be among them).
    fn bridge(&self, before: &[(Vec<u8>, &IpvsMessage)], after: &[(Vec<u8>, &IpvsMessage)]) -> Option<&[IpvsMessage]> {
        let no_places = Vec::new();
        let places = |k: &Vec<u8>| self.at.get(k).unwrap_or(&no_places).iter().copied();
        for (k, _) in after {
            for (part, to) in places(k) {
                let from = before.iter().rev().find_map(|(b, _)| places(b).find(|&(p, j)| p == part && j < to));
                if let Some((_, from)) = from {
                    return self.parts[part].get(from + 1..to);
                }
            }
        }
        None
    }
}

/// The entries of a multi-datagram dump without repeats, if a witness bridges every boundary;
/// entries a witness saw inside a bridge that the dump lacks are added (they may have been
/// skipped, and they existed during the call).
pub(super) fn proven_listing(parts: &[Vec<IpvsMessage>], witnesses: &[Witness]) -> Option<Vec<IpvsMessage>> {
    let mut seen = HashSet::new();
    let keyed: Vec<Vec<(Vec<u8>, &IpvsMessage)>> = parts
        .iter()
        .map(|part| part.iter().map(|m| (identity_key(m), m)).filter(|(k, _)| seen.insert(k.clone())).collect())
        .filter(|part: &Vec<_>| !part.is_empty())
        .collect();
    let mut out: Vec<IpvsMessage> = Vec::with_capacity(seen.len());
    for (i, part) in keyed.iter().enumerate() {
        if i > 0 {
            let between = witnesses.iter().find_map(|w| w.bridge(&keyed[i - 1], part))?;
            out.extend(between.iter().filter(|m| seen.insert(identity_key(m))).cloned());
        }
        out.extend(part.iter().map(|(_, m)| (*m).clone()));
    }
    // The kernel can also skip entries at the very end (its last, empty datagram starts past
    // them), where no boundary shows it: add what any witness lists after the dump's last entry.
    if let Some((last, _)) = keyed.last().and_then(|p| p.last()) {
        for w in witnesses {
            if let Some(&(part, at)) = w.at.get(last).and_then(|p| p.last()) {
                let tail = w.parts[part][at + 1..].iter().chain(w.parts[part + 1..].iter().flatten());
                out.extend(tail.filter(|m| seen.insert(identity_key(m))).cloned());
            }
        }
    }
    Some(out)
}

/// The bytes of the identifying attributes of a dumped service, destination or daemon.
fn identity_key(msg: &IpvsMessage) -> Vec<u8> {
    let mut key = Vec::new();
    let mut put = |a: &dyn Fn(&mut [u8]), len: usize| {
        let at = key.len();
        key.resize(at + len, 0);
        a(&mut key[at..]);
    };
    if let Some(attrs) = msg.service_attrs() {
        for a in attrs.iter().filter(|a| {
            matches!(
                a,
                ServiceAttr::Af(_)
                    | ServiceAttr::Protocol(_)
                    | ServiceAttr::Addr(_)
                    | ServiceAttr::Port(_)
                    | ServiceAttr::Fwmark(_)
            )
        }) {
            put(&|b| a.emit(b), a.buffer_len());
        }
    } else if let Some(attrs) = msg.dest_attrs() {
        for a in attrs.iter().filter(|a| matches!(a, DestAttr::Addr(_) | DestAttr::Port(_) | DestAttr::AddrFamily(_))) {
            put(&|b| a.emit(b), a.buffer_len());
        }
    } else if let Some(attrs) = msg.daemon_attrs() {
        for a in attrs.iter().filter(|a| matches!(a, DaemonAttr::State(_))) {
            put(&|b| a.emit(b), a.buffer_len());
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Request, Scheduler, Service, ServiceId};

    fn svc(n: u16) -> IpvsMessage {
        IpvsMessage::from(&Request::AddService(Service::new(ServiceId::tcp([192, 0, 2, 1].into(), n), Scheduler::Rr)))
    }
    fn dump(parts: &[&[u16]]) -> Vec<Vec<IpvsMessage>> {
        parts.iter().map(|p| p.iter().map(|&n| svc(n)).collect()).collect()
    }
    fn ports(list: &[IpvsMessage]) -> Vec<u16> {
        list.iter()
            .map(|m| {
                m.service_attrs()
                    .and_then(|a| a.iter().find_map(|a| if let ServiceAttr::Port(p) = a { Some(*p) } else { None }))
                    .unwrap()
            })
            .collect()
    }
    #[test]
    fn a_bridged_boundary_proves_the_dump() {
        let w = [Witness::new(dump(&[&[1, 2, 3], &[4, 5, 6]]))];
        let got = proven_listing(&dump(&[&[1, 2], &[3, 4, 5, 6]]), &w).unwrap();
        assert_eq!(ports(&got), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_skipped_entry_is_found_between_the_bridge_ends() {
        // 3 was skipped at the boundary; the witness lists it between 2 and 4.
        let w = [Witness::new(dump(&[&[1, 2, 3, 4], &[5, 6]]))];
        assert_eq!(ports(&proven_listing(&dump(&[&[1, 2], &[4, 5, 6]]), &w).unwrap()), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn repeats_are_dropped_and_bridges_skip_them() {
        let w = [Witness::new(dump(&[&[1, 2, 3, 4, 5]]))];
        assert_eq!(ports(&proven_listing(&dump(&[&[1, 2, 3], &[3, 4], &[4, 5]]), &w).unwrap()), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn entries_skipped_at_the_end_are_taken_from_the_witness_tail() {
        let w = [Witness::new(dump(&[&[1, 2, 3], &[4, 5]]))];
        assert_eq!(ports(&proven_listing(&dump(&[&[1, 2], &[3]]), &w).unwrap()), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_boundary_the_witness_shares_is_not_proof() {
        let w = [Witness::new(dump(&[&[1, 2], &[4, 5]]))];
        assert!(proven_listing(&dump(&[&[1, 2], &[4, 5]]), &w).is_none());
        // A second witness with other boundaries bridges it.
        let w2 = [Witness::new(dump(&[&[1, 2], &[4, 5]])), Witness::new(dump(&[&[1], &[2, 3, 4, 5]]))];
        assert_eq!(ports(&proven_listing(&dump(&[&[1, 2], &[4, 5]]), &w2).unwrap()), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn boundary_entries_gone_from_the_witness_fall_back_to_their_neighbours() {
        // 2 and 4 were deleted before the witness ran; 1 and 5 bridge instead.
        let w = [Witness::new(dump(&[&[1, 3, 5, 6]]))];
        assert_eq!(ports(&proven_listing(&dump(&[&[1, 2], &[4, 5, 6]]), &w).unwrap()), [1, 2, 3, 4, 5, 6]);
        // Nothing of one side in the witness: no proof.
        let w = [Witness::new(dump(&[&[5, 6]]))];
        assert!(proven_listing(&dump(&[&[1, 2], &[4, 5, 6]]), &w).is_none());
    }
}
