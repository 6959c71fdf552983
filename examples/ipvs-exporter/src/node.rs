//! node_exporter's ipvs collector, series for series: `node_ipvs_*` names, HELP texts, labels
//! and label formats as node_exporter 1.5 writes them, so dashboards built on it keep working.
//!
//! - The five totals come from the namespace's own counters (`/proc/net/ip_vs_stats`).
//! - Each backend (destination) gives `node_ipvs_backend_connections_active`,
//!   `..._inactive` and `node_ipvs_backend_weight`, labelled `local_address`, `local_mark`
//!   (8 uppercase hex digits for a firewall-mark service, else empty), `local_port` (`0` for a
//!   firewall-mark service), `proto` (`TCP`, `UDP`, `FWM`), `remote_address` and `remote_port`.
//!   Addresses print as Go prints them (an IPv4-mapped IPv6 address as dotted IPv4; a
//!   firewall-mark service's address empty). Rows with the same labels are summed, weights
//!   included, as node_exporter does; the backend families are left out when there is no
//!   backend, as node_exporter leaves them out.
//!
//! One difference on purpose: node_exporter files the real servers of an SCTP service under
//! whichever service precedes it in the kernel's hash order; here they are labelled
//! `proto="SCTP"` under their own service.

use std::fmt;
use std::net::IpAddr;

use ipvs::{Protocol, ServiceId};
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;

use crate::metrics::{write_family, LabelText, Row, Snapshot, Value};

/// An address as Go's `net.IP.String()` prints it.
pub fn go_address(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        IpAddr::V4(v4) => v4.to_string(),
    }
}

/// The labels of a backend, in the order node_exporter writes them (sorted by name).
pub type BackendLabels = [(&'static str, String); 6];

/// The labels of the backend `remote` of `service`.
pub fn backend_labels(service: &ServiceId, remote: &std::net::SocketAddr) -> BackendLabels {
    let (local_address, local_mark, local_port, proto) = match service {
        ServiceId::Inet { protocol, addr, port } => {
            let proto = match protocol {
                Protocol::Other(n) => format!("IP_{n}"),
                p => p.name().to_uppercase(),
            };
            (go_address(addr), String::new(), port.to_string(), proto)
        }
        ServiceId::Fwmark { mark, .. } => (String::new(), format!("{mark:08X}"), "0".to_owned(), "FWM".to_owned()),
    };
    [
        ("local_address", local_address),
        ("local_mark", local_mark),
        ("local_port", local_port),
        ("proto", proto),
        ("remote_address", go_address(&remote.ip())),
        ("remote_port", remote.port().to_string()),
    ]
}

/// The `node_ipvs_*` families of a snapshot.
pub(crate) fn encode(enc: &mut DescriptorEncoder, snap: &Snapshot) -> fmt::Result {
    if let Some(t) = &snap.totals {
        let c = MetricType::Counter;
        for (name, help, v) in [
            ("node_ipvs_connections", "The total number of connections made.", t.conns),
            ("node_ipvs_incoming_packets", "The total number of incoming packets.", t.in_packets),
            ("node_ipvs_outgoing_packets", "The total number of outgoing packets.", t.out_packets),
            ("node_ipvs_incoming_bytes", "The total amount of incoming data.", t.in_bytes),
            ("node_ipvs_outgoing_bytes", "The total amount of outgoing data.", t.out_bytes),
        ] {
            write_family(enc, name, help, c, true, &[(&LabelText::default(), Value::Count(v))])?;
        }
    }
    let Some(table) = &snap.table else { return Ok(()) };
    // Summed by label set, as node_exporter does: sorted by labels, equal neighbours merged.
    let mut backends: Vec<(LabelText, (u64, u64, u64))> = Vec::with_capacity(table.destination_count());
    for e in table.entries() {
        for d in e.destinations() {
            let labels = LabelText::new(&backend_labels(&e.service().id, &d.destination.socket_addr()));
            let own = (u64::from(d.active_conns), u64::from(d.inactive_conns), u64::from(d.destination.weight));
            backends.push((labels, own));
        }
    }
    backends.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    backends.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 .0 += later.1 .0;
            kept.1 .1 += later.1 .1;
            kept.1 .2 += later.1 .2;
        }
        same
    });
    let g = MetricType::Gauge;
    let rows = |f: fn(&(u64, u64, u64)) -> u64| -> Vec<Row<'_>> {
        backends.iter().map(|(l, v)| (l, Value::Int(i64::try_from(f(v)).unwrap_or(i64::MAX)))).collect()
    };
    write_family(
        enc,
        "node_ipvs_backend_connections_active",
        "The current active connections by local and remote address.",
        g,
        false,
        &rows(|v| v.0),
    )?;
    write_family(
        enc,
        "node_ipvs_backend_connections_inactive",
        "The current inactive connections by local and remote address.",
        g,
        false,
        &rows(|v| v.1),
    )?;
    write_family(
        enc,
        "node_ipvs_backend_weight",
        "The current backend weight by local and remote address.",
        g,
        false,
        &rows(|v| v.2),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_formatted_as_node_exporter_formats_them() {
        let mapped: IpAddr = "::ffff:198.51.100.5".parse().unwrap();
        assert_eq!(go_address(&mapped), "198.51.100.5");
        let v6: IpAddr = "2001:db8:0:0:1:0:0:1".parse().unwrap();
        assert_eq!(go_address(&v6), "2001:db8::1:0:0:1");
        let fwm = ServiceId::fwmark(10, ipvs::Family::Inet);
        let l = backend_labels(&fwm, &"198.51.100.1:0".parse().unwrap());
        assert_eq!(l[1].1, "0000000A");
        assert_eq!((l[0].1.as_str(), l[2].1.as_str(), l[3].1.as_str()), ("", "0", "FWM"));
        let tcp = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
        let l = backend_labels(&tcp, &"198.51.100.1:8080".parse().unwrap());
        assert_eq!(
            l.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
            ["192.0.2.1", "", "80", "TCP", "198.51.100.1", "8080"]
        );
    }
}
