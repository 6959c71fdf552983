//! Writes the seed corpora of the fuzz targets from real encoded messages, real rule lines
//! and real command lines: `cargo run -p ipvs-fuzz --bin make-corpus`. The seeds are checked
//! in under `corpus/`; running this again rewrites them.

use std::net::SocketAddr;
use std::path::Path;

use ipvs::transport::{MockTransport, Transport};
use ipvs::wire::{frame, IpvsMessage};
use ipvs::{
    rules, Client, Daemon, DaemonState, Destination, Family, Forward, Netmask, PersistenceEngine, Request, Scheduler,
    Service, ServiceFlags, ServiceId, Timeouts, Tunnel, TunnelFlags,
};

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn table() -> Vec<Request> {
    let web = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    let v6 = ServiceId::udp("2001:db8::53".parse().unwrap(), 53);
    let fwm = ServiceId::fwmark(7, Family::Inet6);
    vec![
        Request::AddService(Service::new(web, Scheduler::Wrr)),
        Request::AddService(
            Service::new(v6, Scheduler::Mh).with_flags(ServiceFlags::MH_PORT | ServiceFlags::ONE_PACKET),
        ),
        Request::AddService(Service::new(fwm, Scheduler::Sh).with_persistence(300).with_netmask(Netmask::Prefix(64))),
        Request::AddService(
            Service::new(ServiceId::udp("192.0.2.5".parse().unwrap(), 5060), Scheduler::Rr)
                .with_persistence(60)
                .with_persistence_engine(PersistenceEngine::Sip),
        ),
        Request::AddDestination {
            service: web,
            destination: Destination::new(sa("198.51.100.1:8080"), Forward::Masquerade).with_weight(3),
        },
        Request::AddDestination {
            service: web,
            destination: Destination::new(sa("198.51.100.2:80"), Forward::DirectRoute).with_thresholds(100, 10),
        },
        Request::AddDestination {
            service: web,
            destination: Destination::new(
                sa("198.51.100.3:80"),
                Forward::Tunnel(Tunnel::Gue { port: 6080, flags: TunnelFlags::CSUM }),
            ),
        },
        Request::AddDestination {
            service: web,
            destination: Destination::new(
                sa("[2001:db8::4]:80"),
                Forward::Tunnel(Tunnel::Gre { flags: TunnelFlags::empty() }),
            ),
        },
        Request::AddDestination {
            service: v6,
            destination: Destination::new(sa("[2001:db8::a]:53"), Forward::Masquerade),
        },
        Request::SetTimeouts(Timeouts { tcp: 900, tcp_fin: 120, udp: 300 }),
    ]
}

fn write(dir: &Path, name: &str, data: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), data).unwrap();
}

/// Netlink messages (`frame_decoder`, `reply_decoders`): every request of the table, the kernel's
/// dumps, a sync daemon, info and timeouts, a dump datagram, acknowledgements and errors.
fn netlink_messages(root: &Path, kernel: &MockTransport, client: &Client<&MockTransport>, reqs: &[Request]) {
    let mut messages: Vec<IpvsMessage> = reqs.iter().map(IpvsMessage::from).collect();
    messages.extend(kernel.dump(&IpvsMessage::dump_services()).unwrap());
    for s in client.services().unwrap() {
        messages.extend(kernel.dump(&IpvsMessage::dump_destinations(&s.service.id)).unwrap());
    }
    // Sync daemons cannot run beside mixed-family destinations: another kernel for them.
    let daemons = MockTransport::new();
    let daemon =
        Request::StartDaemon(Daemon::new(DaemonState::Master, "lo", 7).with_group("239.1.2.3".parse().unwrap()));
    Client::with_transport(&daemons).execute(&daemon).unwrap();
    messages.push(IpvsMessage::from(&daemon));
    messages.extend(daemons.dump(&IpvsMessage::dump_daemons()).unwrap());
    messages.push(kernel.request(&IpvsMessage::get_info()).unwrap().unwrap());
    messages.push(kernel.request(&IpvsMessage::get_timeouts()).unwrap().unwrap());
    for (i, m) in messages.iter().enumerate() {
        let mut bytes = Vec::new();
        frame::encode(m, 0x1d, i as u32 + 1, frame::MULTIPART, &mut bytes).unwrap();
        write(&root.join("frame_decoder"), &format!("message-{i:02}"), &bytes);
        let mut body = vec![m.cmd.number()];
        body.extend_from_slice(&bytes[20..]);
        write(&root.join("reply_decoders"), &format!("body-{i:02}"), &body);
    }
    // A whole dump datagram: several parts and a DONE.
    let mut dump = Vec::new();
    for m in kernel.dump(&IpvsMessage::dump_services()).unwrap() {
        frame::encode(&m, 0x1d, 9, frame::MULTIPART, &mut dump).unwrap();
    }
    dump.extend_from_slice(&[20, 0, 0, 0, 3, 0, 2, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    write(&root.join("frame_decoder"), "dump-datagram", &dump);
    // Acknowledgements and errors, and a controller request.
    let mut ack = vec![36, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0];
    ack.extend_from_slice(&(-17i32).to_ne_bytes());
    ack.extend_from_slice(&[0; 16]);
    write(&root.join("frame_decoder"), "error-eexist", &ack);
    let mut ctrl = Vec::new();
    frame::encode_get_family("IPVS", 1, frame::REQUEST_ACK, &mut ctrl).unwrap();
    write(&root.join("frame_decoder"), "ctrl-getfamily", &ctrl);
}

/// The saved table of the mock kernel and other rule files (`rule_parser`); returns the saved table.
fn rule_files(root: &Path, client: &Client<&MockTransport>) -> String {
    let rows: Vec<(Service, Vec<Destination>)> = client
        .services()
        .unwrap()
        .into_iter()
        .map(|s| {
            let d = client.destinations(&s.service.id).unwrap().into_iter().map(|d| d.destination).collect();
            (s.service, d)
        })
        .collect();
    let saved = rules::render(rows.iter().map(|(s, d)| (s, &d[..])));
    write(&root.join("rule_parser"), "saved-table", saved.as_bytes());
    let extra = "-E -t 192.0.2.1:80 -s rr -p\n-e -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 0 -x 10 -y 5\n\
                 -d -t 192.0.2.1:80 -r 198.51.100.1:8080\n-D -u [2001:db8::53]:53\n-Z\n-C\n--set 900 120 300\n\
                 --start-daemon master --mcast-interface lo --syncid 3\n--stop-daemon master\n# comment\n";
    write(&root.join("rule_parser"), "commands", extra.as_bytes());
    for (name, text) in [
        ("tunnels", "-A -f 7 -s mh -b mh-port,mh-fallback\n-a -f 7 -r 198.51.100.3:0 -i --tun-type gue --tun-port 6080 --tun-remcsum\n-a -f 7 -r 198.51.100.4:0 -i --tun-type gre --tun-csum\n"),
        ("persistence", "-A -u 192.0.2.5:5060 -s sh -b sh-port -o -p 60 -M 255.255.255.0 --pe sip\n-A -t [2001:db8::1]:443 -s wlc -p 300 -M 64\n"),
        ("long-options", "--add-service --tcp-service 192.0.2.6:80 --scheduler wrr\n--add-server --tcp-service 192.0.2.6:80 --real-server 198.51.100.6:8080 --masquerading --weight 4 --u-threshold 100 --l-threshold 10\n"),
        ("bad-lines", "-A -t 192.0.2.1:99999\n-a -t 192.0.2.1:80 -r ::ffff:198.51.100.1 -g\n-A -s\n-X\n"),
    ] {
        write(&root.join("rule_parser"), name, text.as_bytes());
    }

    saved
}

/// VRRP adverts (`vrrp_advert`).
fn vrrp_adverts(root: &Path) {
    // VRRP adverts, v2 and v3, IPv4 and IPv6.
    {
        use ipvs_vrrp::packet::{emit, Addresses, Advert, Auth, PacketContext};
        let v4 = PacketContext::new("198.51.100.2".parse().unwrap(), "224.0.0.18".parse().unwrap());
        let v6 = PacketContext::new("fe80::2".parse().unwrap(), "ff02::12".parse().unwrap());
        let a = Advert::v2(51, 100, 1, Auth::pass("secret"), vec!["192.0.2.10".parse().unwrap()]).unwrap();
        write(&root.join("vrrp_advert"), "v2-pass", &emit(&a, &v4));
        let a = Advert::v3(51, 150, 100, Addresses::V4(vec!["192.0.2.10".parse().unwrap()])).unwrap();
        write(&root.join("vrrp_advert"), "v3-ipv4", &emit(&a, &v4));
        let a = Advert::v3(7, 255, 100, Addresses::V6(vec!["2001:db8::10".parse().unwrap()])).unwrap();
        write(&root.join("vrrp_advert"), "v3-ipv6", &emit(&a, &v6));
    }
}

/// Desired-state files (`desired_state_file`) and keepalived.conf samples (`keepalived_conf`).
fn state_and_keepalived_files(root: &Path, saved: &str) {
    // Desired-state files: the documentation's example, and a table of every kind in both formats.
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/web.toml");
    write(&root.join("desired_state_file"), "web-toml", &std::fs::read(&docs).unwrap());
    let mut every = ipvs::state::Table::from_rules(saved).unwrap();
    every.set_timeouts(Some(ipvs::Timeouts { tcp: 900, tcp_fin: 120, udp: 300 }));
    write(&root.join("desired_state_file"), "table-toml", every.to_toml().as_bytes());
    write(&root.join("desired_state_file"), "table-json", every.to_json().as_bytes());
    // keepalived.conf: the director's sample configurations.
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ipvs-director/testdata/keepalived");
    for entry in std::fs::read_dir(&samples).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "conf") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            write(&root.join("keepalived_conf"), &name, &std::fs::read(&p).unwrap());
        }
    }
}

/// ipvsadm command lines (`ipvsadm_args`).
fn ipvsadm_args(root: &Path, saved: &str) {
    let lines: [&[&str]; 6] = [
        &["-Ln"],
        &["-A", "-t", "192.0.2.1:80", "-s", "wrr", "-p", "-M", "255.255.255.0"],
        &[
            "-a",
            "-t",
            "192.0.2.1:80",
            "-r",
            "198.51.100.1:8080",
            "-i",
            "--tun-type",
            "gue",
            "--tun-port",
            "6080",
            "--tun-csum",
        ],
        &["-L", "--stats", "--exact", "-t", "192.0.2.1:80"],
        &["--start-daemon", "backup", "--mcast-group", "ff02::1:2"],
        &["-Sn"],
    ];
    for (i, words) in lines.iter().enumerate() {
        let mut data = vec![0u8];
        data.extend_from_slice(words.join("\0").as_bytes());
        write(&root.join("ipvsadm_args"), &format!("argv-{i}"), &data);
    }
    let mut restore = vec![1u8];
    restore.extend_from_slice(b"-R");
    restore.push(0xff);
    restore.extend_from_slice(saved.as_bytes());
    write(&root.join("ipvsadm_args"), "restore", &restore);
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let kernel = MockTransport::new();
    let client = Client::with_transport(&kernel);
    let reqs = table();
    for r in &reqs {
        client.execute(r).unwrap();
    }
    netlink_messages(&root, &kernel, &client, &reqs);
    let saved = rule_files(&root, &client);
    vrrp_adverts(&root);
    state_and_keepalived_files(&root, &saved);
    ipvsadm_args(&root, &saved);
    println!("corpus written under {}", root.display());
}
