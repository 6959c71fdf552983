//! The configuration: one keepalived.conf text per node, the same for both implementations,
//! and the IPVS table keepalived's checker would load from it.

use ipvs_lab_tools::{in_ns, Res};

use crate::{Node, RS1, STREAM_PORT, VIP, VRID, WEB};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Vrrp {
    pub(crate) priority: u8,
    /// `state MASTER` (else BACKUP).
    pub(crate) master: bool,
    pub(crate) nopreempt: bool,
    pub(crate) version: u8,
    /// `lvs_sync_daemon eth0 VI_1`.
    pub(crate) sync: bool,
}

pub(crate) const BASE: Vrrp = Vrrp { priority: 150, master: false, nopreempt: false, version: 2, sync: false };

fn real_server(rs: Node, port: u16) -> String {
    format!(
        "    real_server {} {port} {{\n        weight 1\n        TCP_CHECK {{\n            connect_timeout 1\n            retry 1\n            delay_before_retry 1\n            warmup 0\n        }}\n    }}\n",
        rs.addr
    )
}

pub(crate) fn keepalived_conf(v: Vrrp) -> String {
    let mut global = String::new();
    if v.version == 3 {
        global += "    vrrp_version 3\n";
    }
    if v.sync {
        global += "    lvs_sync_daemon eth0 VI_1\n";
    }
    let global = if global.is_empty() { String::new() } else { format!("global_defs {{\n{global}}}\n\n") };
    let state = if v.master { "MASTER" } else { "BACKUP" };
    let nopreempt = if v.nopreempt { "    nopreempt\n" } else { "" };
    format!(
        "{global}vrrp_instance VI_1 {{\n    state {state}\n    interface eth0\n    virtual_router_id {VRID}\n    priority {}\n    advert_int 1\n{nopreempt}    virtual_ipaddress {{\n        {VIP}/24 dev eth0\n    }}\n}}\n\n\
         virtual_server {VIP} 80 {{\n    delay_loop 1\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    ha_suspend\n{}}}\n\n\
         virtual_server {VIP} {STREAM_PORT} {{\n    delay_loop 1\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n{}}}\n",
        v.priority,
        WEB.iter().map(|rs| real_server(*rs, 80)).collect::<String>(),
        real_server(RS1, STREAM_PORT),
    )
}

/// The table keepalived's checker would make from that file (keepalived runs VRRP only here).
pub(crate) fn load_table(node: Node) -> Res<()> {
    let vip80 = format!("{VIP}:80");
    let vip_stream = format!("{VIP}:{STREAM_PORT}");
    in_ns(node.ns, &["ipvsadm", "-C"])?;
    in_ns(node.ns, &["ipvsadm", "-A", "-t", &vip80, "-s", "rr"])?;
    for rs in WEB {
        in_ns(node.ns, &["ipvsadm", "-a", "-t", &vip80, "-r", &format!("{}:80", rs.addr), "-g", "-w", "1"])?;
    }
    in_ns(node.ns, &["ipvsadm", "-A", "-t", &vip_stream, "-s", "rr"])?;
    in_ns(node.ns, &["ipvsadm", "-a", "-t", &vip_stream, "-r", &format!("{}:{STREAM_PORT}", RS1.addr), "-g", "-w", "1"])
}
