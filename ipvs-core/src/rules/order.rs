//! ipvsadm's order of services and destinations, reproduced exactly: its comparisons take
//! differences of unsigned fields as signed ints, so some orders look odd (10.0.0.1 can sort
//! after 192.168.0.1), and they are not transitive, so the order also depends on the C
//! library's merge sort, which is reproduced too.

use std::cmp::Ordering;
use std::net::IpAddr;

use crate::model::{Destination, Family, Service, ServiceId};

fn words(addr: Option<IpAddr>) -> [u32; 4] {
    match addr {
        Some(IpAddr::V4(a)) => [u32::from(a), 0, 0, 0],
        Some(IpAddr::V6(a)) => {
            let o = a.octets();
            let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            [w(0), w(4), w(8), w(12)]
        }
        None => [0; 4],
    }
}

/// ipvsadm compares unsigned fields by their difference taken as a signed int.
fn diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn cmp_words(a: [u32; 4], b: [u32; 4], v6: bool) -> i32 {
    if v6 {
        a.iter().zip(&b).map(|(x, y)| diff(*x, *y)).find(|r| *r != 0).unwrap_or(0)
    } else {
        diff(a[0], b[0])
    }
}

fn svc_key(id: &ServiceId) -> (u32, i32, i32, Option<IpAddr>, i32) {
    let af = i32::from(id.family().number());
    match *id {
        ServiceId::Inet { protocol, addr, port } => (0, af, i32::from(protocol.number()), Some(addr), i32::from(port)),
        ServiceId::Fwmark { mark, .. } => (mark, af, 0, None, 0),
    }
}

/// ipvsadm's service comparison (`ipvs_cmp_services`), as a signed int.
fn cmp_service_ids(a: &ServiceId, b: &ServiceId) -> i32 {
    let (ka, kb) = (svc_key(a), svc_key(b));
    let mut r = diff(ka.0, kb.0);
    if r == 0 {
        r = ka.1 - kb.1;
    }
    if r == 0 {
        r = ka.2 - kb.2;
    }
    if r == 0 {
        r = cmp_words(words(ka.3), words(kb.3), a.family() == Family::Inet6);
    }
    if r == 0 {
        r = ka.4 - kb.4;
    }
    r
}

/// ipvsadm's destination comparison (`ipvs_cmp_dests`), as a signed int.
fn cmp_dests(a: &Destination, b: &Destination) -> i32 {
    let r = cmp_words(words(Some(a.addr)), words(Some(b.addr)), a.addr.is_ipv6());
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// The C library's merge sort (what `qsort` runs for these sizes): halves, then a merge that
/// takes from the left while the comparison is <= 0.
fn msort<T: Clone>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    msort(&mut v[..n1], cmp);
    msort(&mut v[n1..], cmp);
    let (left, right) = (v[..n1].to_vec(), v[n1..].to_vec());
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        if cmp(&left[i], &right[j]) <= 0 {
            v[k] = left[i].clone();
            i += 1;
        } else {
            v[k] = right[j].clone();
            j += 1;
        }
        k += 1;
    }
    for x in left[i..].iter().chain(&right[j..]) {
        v[k] = x.clone();
        k += 1;
    }
}

/// Sorts items keyed by service identity as ipvsadm sorts services.
///
/// ```
/// use ipvs::rules::order;
/// use ipvs::ServiceId;
/// let mut ids = vec![ServiceId::tcp("192.0.2.2".parse().unwrap(), 80), ServiceId::tcp("192.0.2.1".parse().unwrap(), 80)];
/// order::sort_by_service(&mut ids, |id| id);
/// assert_eq!(ids[0].to_string(), "TCP 192.0.2.1:80");
/// ```
pub fn sort_by_service<T: Clone>(v: &mut [T], id: impl Fn(&T) -> &ServiceId) {
    msort(v, &|a, b| cmp_service_ids(id(a), id(b)));
}

/// Sorts services as ipvsadm does.
pub fn sort_services(v: &mut [Service]) {
    sort_by_service(v, |s| &s.id);
}

/// Sorts items keyed by destination as ipvsadm sorts destinations.
pub fn sort_by_destination<T: Clone>(v: &mut [T], dest: impl Fn(&T) -> &Destination) {
    msort(v, &|a, b| cmp_dests(dest(a), dest(b)));
}

/// Sorts destinations as ipvsadm does.
///
/// ```
/// use ipvs::rules::order;
/// use ipvs::{Destination, Forward};
/// let d = |a: &str| Destination::new(format!("{a}:80").parse().unwrap(), Forward::Masquerade);
/// let mut v = vec![d("192.0.2.1"), d("10.0.0.1")];
/// order::sort_destinations(&mut v);
/// // 192.0.2.1 - 10.0.0.1 overflows to a negative int: 192.0.2.1 sorts first.
/// assert_eq!(v[0].addr.to_string(), "192.0.2.1");
/// ```
pub fn sort_destinations(v: &mut [Destination]) {
    sort_by_destination(v, |d| d);
}

/// Compares two service identities as ipvsadm does (not a total order: see the module docs).
pub fn service_order(a: &ServiceId, b: &ServiceId) -> Ordering {
    cmp_service_ids(a, b).cmp(&0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Forward;

    #[test]
    fn signed_differences_sort_high_addresses_first() {
        let d = |a: &str| Destination::new(format!("{a}:80").parse().unwrap(), Forward::Masquerade);
        let mut v = vec![d("10.0.0.2"), d("10.0.0.1")];
        sort_destinations(&mut v);
        assert_eq!(v[0].addr.to_string(), "10.0.0.1");
        let mut v = vec![d("192.0.2.1"), d("10.0.0.1")];
        sort_destinations(&mut v);
        assert_eq!(v[0].addr.to_string(), "192.0.2.1");
    }

    #[test]
    fn services_sort_by_mark_family_protocol_address_port() {
        let ids = [
            ServiceId::fwmark(2, Family::Inet),
            ServiceId::udp("192.0.2.1".parse().unwrap(), 53),
            ServiceId::tcp("192.0.2.1".parse().unwrap(), 80),
            ServiceId::tcp("2001:db8::1".parse().unwrap(), 80),
            ServiceId::tcp("192.0.2.1".parse().unwrap(), 22),
        ];
        let mut v = ids.to_vec();
        sort_by_service(&mut v, |i| i);
        let shown: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["TCP 192.0.2.1:22", "TCP 192.0.2.1:80", "UDP 192.0.2.1:53", "TCP [2001:db8::1]:80", "FWM 2 IPv4"]
        );
    }
}
