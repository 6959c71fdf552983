//! The native TOML file: every problem names its line, column and field path; a full
//! configuration survives writing and reading back (TOML and JSON).

use std::time::Duration;

use ipvs_director::config::{CheckKind, Config, OnFailure};

/// A valid file with every kind of section, most settings given.
const FULL: &str = r#"
[global]
timeouts = { tcp = 900, tcp_fin = 120, udp = 300 }
script_user = "nobody"
script_group = "nogroup"
enable_script_security = true
log_all_failures = true
vrrp_version = 2

[global.sync_daemon]
interface = "eth1"
instance = "VI_1"
sync_id = 9

[[virtual_server_groups]]
name = "web"
entries = [
    { address = "192.0.2.100", last = "192.0.2.103", port = 80 },
    { fwmark = 9, family = "inet" },
]

[[virtual_servers]]
group = "web"
protocol = "tcp"
scheduler = "sh"
flags = ["sh-port", "sh-fallback"]
forward = "dr"
persistence = 300
netmask = "255.255.255.0"
delay_loop = 2.5
connect_timeout = 3
retry = 2
delay_before_retry = 0.5
warmup = 0
on_failure = "drain"
max_drain = 120
alpha = true
omega = true
quorum = 2
hysteresis = 1
quorum_up = "/etc/ipvs-director/quorum up"
quorum_down = { command = ["/etc/ipvs-director/quorum", "down"], user = "root" }
weight = 2
virtualhost = "www.example.org"

[virtual_servers.sorry_server]
address = "203.0.113.50"
forward = "nat"
port = 8080
inhibit = true

[[virtual_servers.real_servers]]
address = "198.51.100.11"
weight = 3
upper_threshold = 100
lower_threshold = 50
on_failure = "inhibit"
alpha = false
notify_up = ["/bin/logger", "up"]
notify_down = "/bin/logger down"

[[virtual_servers.real_servers.tcp_check]]
connect_port = 8080
connect_ip = "198.51.100.111"
bindto = "198.51.100.2"
bind_port = 40000
fwmark = 3
log_all_failures = false

[[virtual_servers.real_servers.http_get]]
connect_port = 80
virtualhost = "a.example.org"
http_protocol = "1.0C"
fast_recovery = true

[[virtual_servers.real_servers.http_get.url]]
path = "/health"
digest = "d41d8cd98f00b204e9800998ecf8427e"
status_code = [200, "300-302"]
virtualhost = "b.example.org"

[[virtual_servers.real_servers]]
address = "2001:db8::12"
forward = "tunnel"
tunnel = "gue"
tunnel_port = 6080
tunnel_checksum = "remcsum"

[[virtual_servers.real_servers.dns_check]]
connect_port = 53
type = "MX"
name = "example.org"

[[virtual_servers.real_servers.misc_check]]
misc_path = { command = "/usr/local/bin/check 'a b'", user = "nobody" }
misc_timeout = 4
misc_dynamic = true
retry = 0

[[virtual_servers.real_servers.smtp_check]]
connect_port = 25
helo_name = "director.example.org"

[[virtual_servers]]
fwmark = 5
family = "inet6"
scheduler = "mh"

[[virtual_servers.real_servers]]
address = "2001:db8::21"
port = 80

[[virtual_servers.real_servers.ssl_get]]
enable_sni = true
url = [{ path = "/" }]

[[vrrp_scripts]]
name = "chk"
script = "/usr/bin/pgrep haproxy"
interval = 2
weight = 10
reverse = true

[[vrrp_sync_groups]]
name = "G"
group = ["VI_1"]

[[vrrp_instances]]
name = "VI_1"
state = "BACKUP"
interface = "eth0"
virtual_router_id = 51
priority = 120
advert_int = 1
preempt_delay = 30
virtual_ipaddress = [{ address = "192.0.2.1/24", dev = "eth0", label = "eth0:1" }]
track_interface = [{ name = "eth1", weight = -5 }]
track_script = [{ script = "chk", weight = 20 }]
auth_pass = "secret"
notify_master = "/bin/logger master"
"#;

#[test]
fn a_full_file_reads_and_round_trips() {
    let c = Config::from_toml(FULL).unwrap_or_else(|e| panic!("{e}"));
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.on_failure, Some(OnFailure::Drain { max: Some(Duration::from_secs(120)) }));
    assert_eq!(vs.timing.delay_loop, Some(Duration::from_millis(2500)));
    assert_eq!(vs.real_servers[0].checks.len(), 2);
    assert_eq!(vs.real_servers[1].checks.len(), 3);
    let CheckKind::Misc(m) = &vs.real_servers[1].checks[1].kind else { panic!() };
    assert_eq!(m.command.argv, ["/usr/local/bin/check", "a b"]);
    assert_eq!(c.services().len(), 6);
    let toml = c.to_toml();
    assert_eq!(Config::from_toml(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}")), c, "{toml}");
    let json = serde_json::to_string_pretty(&c).unwrap();
    assert_eq!(serde_json::from_str::<Config>(&json).unwrap(), c, "{json}");
}

#[test]
fn a_file_is_loaded_by_name() {
    let dir = std::env::temp_dir().join(format!("ipvs-director-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("director.toml");
    std::fs::write(&file, FULL).unwrap();
    assert!(Config::load(&file).is_ok());
    std::fs::write(&file, "[global]\nvrrp_version = 7\n").unwrap();
    let e = Config::load(&file).unwrap_err();
    assert_eq!(e.to_string(), format!("{}:2:1: global.vrrp_version = 7: must be 2 or 3", file.display()));
    let e = Config::load(dir.join("none.toml")).unwrap_err();
    assert!(e.to_string().contains("none.toml: cannot read it"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// (file, its problem's line, words the message has).
fn bad_files() -> Vec<(String, usize, &'static str)> {
    let vs = |extra: &str, rs: &str| {
        format!("[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\n{extra}\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.11\"\n{rs}\n")
    };
    let vrrp = |extra: &str| {
        format!("[[vrrp_instances]]\nname = \"VI\"\ninterface = \"eth0\"\nvirtual_router_id = 1\nvirtual_ipaddress = [{{ address = \"192.0.2.1/24\" }}]\n{extra}\n")
    };
    vec![
        ("not toml = [\n".into(), 1, "expected `=`"),
        ("[global]\ncolour = 1\n".into(), 2, "unknown field `colour`"),
        (vs("scheduler = \"xx\"", ""), 5, "unknown scheduler \"xx\""),
        (vs("scheduler = \"none\"", ""), 5, "unknown scheduler \"none\""),
        (vs("forward = \"local\"", ""), 5, "unknown forwarding method \"local\""),
        (vs("protocol = \"icmp\"", ""), 5, "duplicate key"),
        (vs("tunnel = \"gue\"", ""), 5, "tunnel settings need forward = \"tunnel\""),
        (vs("forward = \"tunnel\"\ntunnel = \"gue\"", ""), 6, "a gue tunnel needs tunnel_port"),
        (vs("max_drain = 5", ""), 5, "only with on_failure = \"drain\""),
        (vs("on_failure = \"explode\"", ""), 5, "unknown variant `explode`"),
        (vs("flags = [\"mh-port\"]", ""), 5, "a flag of the mh scheduler, not of wlc"),
        (vs("netmask = 64", ""), 5, "an IPv4 service needs a dotted netmask"),
        (vs("netmask = \"255.255.0.0\"", ""), 5, "a netmask needs persistence"),
        (vs("persistence = 0", ""), 5, "a persistence timeout must be in 1..="),
        (vs("quorum = 0", ""), 5, "must be at least 1"),
        (vs("quorum = 3", "weight = 2"), 5, "exceeds the real servers' total weight (2)"),
        (vs("hysteresis = 1", ""), 5, "must be less than quorum (1)"),
        (vs("retry = 0", ""), 5, "must be at least 1 here"),
        (vs("delay_loop = 0", ""), 5, "must be more than 0"),
        (vs("connect_timeout = 5000", ""), 5, "at most 4294.967295 s"),
        (vs("delay_before_retry = -1", ""), 5, "must not be negative"),
        (vs("weight = 0", ""), 5, "must be in 1..=2147483647"),
        (vs("forward = \"dr\"", "port = 8080"), 8, "differs from the virtual port 80"),
        (vs("", "port = 0"), 8, "leave the port out rather than 0"),
        (vs("", "address = \"2001:db8::1\""), 8, "duplicate key"),
        (vs("", "weight = -1"), 8, "invalid value"),
        (vs("", "upper_threshold = 1\nlower_threshold = 2"), 9, "must not exceed the upper threshold (1)"),
        (vs("", "[[virtual_servers.real_servers.tcp_check]]\nmisc_path = \"/bin/x\""), 9, "not a setting of tcp_check"),
        (vs("", "[[virtual_servers.real_servers.misc_check]]\nconnect_port = 8"), 9, "not a setting of misc_check"),
        (vs("", "[[virtual_servers.real_servers.misc_check]]\nretry = 1"), 8, "a misc_check needs misc_path"),
        (vs("", "[[virtual_servers.real_servers.tcp_check]]\nconnect_port = 0"), 9, "a port must not be 0"),
        (vs("", "[[virtual_servers.real_servers.tcp_check]]\ncolour = 1"), 9, "unknown field `colour`"),
        (vs("", "[[virtual_servers.real_servers.http_get]]\nvirtualhost = \"x\""), 8, "a check needs at least one url"),
        (vs("", "[[virtual_servers.real_servers.http_get]]\nurl = [{ path = \"/\", status_code = [99] }]"), 9, "not within 100-599"),
        (vs("", "[[virtual_servers.real_servers.http_get]]\nurl = [{ path = \"/\", digest = \"xyz\" }]"), 9, "32 hexadecimal digits"),
        (vs("", "[[virtual_servers.real_servers.http_get]]\nurl = [{ path = \"/\" }]\nenable_sni = true"), 10, "not a setting of http_get"),
        (vs("", "[[virtual_servers.real_servers.dns_check]]\nname = \"a..b\""), 9, "empty label"),
        (vs("", "[[virtual_servers.real_servers.dns_check]]\ntype = \"PTR\""), 9, "unknown DNS type"),
        (vs("", "notify_up = \"\""), 8, "the command is empty"),
        (vs("", "notify_up = \"'a\""), 8, "cannot split the command"),
        ("[[virtual_servers]]\nfwmark = 1\nprotocol = \"tcp\"\n".into(), 3, "a firewall-mark virtual server has no protocol"),
        ("[[virtual_servers]]\naddress = \"192.0.2.1\"\nport = 80\n".into(), 1, "needs a protocol"),
        ("[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.1\"\nport = 80\n".into(), 1, "needs at least one real server"),
        ("[[virtual_servers]]\nfwmark = 1\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.1\"\n[[virtual_servers.real_servers.tcp_check]]\n".into(), 5, "nothing gives this check a port"),
        ("[[virtual_servers]]\ngroup = \"none\"\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.1\"\n".into(), 2, "no virtual_server_groups entry has this name"),
        ("[[virtual_server_groups]]\nname = \"g\"\nentries = [{ address = \"192.0.2.9\", last = \"192.0.2.1\" }]\n".into(), 3, "comes before 192.0.2.9"),
        ("[[virtual_server_groups]]\nname = \"g\"\nentries = [{ address = \"192.0.0.0\", last = \"192.1.0.0\" }]\n".into(), 3, "more than 65536 addresses"),
        ("[global]\ntimeouts = { tcp = 99999999 }\n".into(), 2, "at most 8589934 seconds"),
        ("[global]\nscript_group = \"g\"\n".into(), 2, "a group needs script_user"),
        ("[global.sync_daemon]\ninterface = \"eth0\"\ninstance = \"VI\"\n".into(), 3, "no vrrp_instances entry has this name"),
        (vrrp("virtual_router_id = 0").replace("virtual_router_id = 1\n", ""), 5, "must be in 1..=255"),
        (vrrp("priority = 0"), 6, "must be in 1..=255 (255: the address owner)"),
        (vrrp("advert_int = 1.5"), 6, "VRRP version 2 needs whole seconds"),
        (vrrp("version = 3\nadvert_int = 0.005"), 7, "hundredths of a second"),
        (vrrp("auth_pass = \"123456789\""), 6, "1 to 8 bytes"),
        (vrrp("version = 3\nauth_pass = \"x\""), 7, "only for VRRP version 2"),
        (vrrp("unicast_peer = [\"2001:db8::1\"]"), 6, "the instance is IPv4"),
        (vrrp("unicast_src_ip = \"192.0.2.2\""), 6, "unicast needs unicast_peer"),
        (vrrp("state = \"MASTER\"\nnopreempt = true"), 7, "does not work with state MASTER"),
        (vrrp("preempt_delay = 1001"), 6, "must be at most 1000 s"),
        (vrrp("track_script = [{ script = \"none\" }]"), 6, "no vrrp_scripts entry has this name"),
        (vrrp("track_interface = [{ name = \"eth1\", weight = 254 }]"), 6, "must be in -253..=253"),
        (vrrp("state = \"master\""), 6, "unknown variant `master`"),
        (vrrp("").replace("interface = \"eth0\"\n", ""), 1, "needs an interface, or unicast_src_ip and unicast_peer"),
        (format!("{}{}", vrrp(""), vrrp("").replace("name = \"VI\"", "name = \"VI2\"")), 10, "the same id on the same interface"),
        ("[[vrrp_sync_groups]]\nname = \"G\"\ngroup = [\"X\"]\n".into(), 3, "no vrrp_instances entry has this name"),
        ("[[vrrp_scripts]]\nname = \"s\"\nscript = \"/bin/true\"\nrise = 0\n".into(), 4, "must be in 1..=2147483647"),
    ]
}

#[test]
fn every_problem_names_its_line_and_field() {
    let mut failures = Vec::new();
    for (text, line, words) in bad_files() {
        match Config::from_toml(&text) {
            Ok(_) => failures.push(format!("accepted:\n{text}")),
            Err(e) => {
                let placed = e.to_string().lines().any(|l| l.starts_with(&format!("{line}:")) && l.contains(words));
                if !placed || e.problems.iter().any(|p| p.line.is_none() || p.column.is_none()) {
                    failures.push(format!("wanted line {line} and {words:?}, got: {e}\n{text}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {}:\n\n{}", failures.len(), bad_files().len(), failures.join("\n\n"));
}

#[test]
fn several_problems_are_reported_together() {
    let text = "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nquorum = 0\nweight = 0\n";
    let e = Config::from_toml(text).unwrap_err();
    let lines: Vec<Option<usize>> = e.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [Some(5), Some(6), Some(1)], "{e}");
    assert!(e.problems.iter().all(|p| p.path.as_deref().is_some_and(|p| p.starts_with("virtual_servers[0]"))));
}

#[test]
fn validation_of_configurations_built_in_code() {
    let mut c = Config::from_toml(FULL).unwrap();
    c.validate().unwrap();
    c.virtual_servers[0].real_servers[0].weight = Some(u32::MAX);
    c.vrrp_instances[0].virtual_router_id = 0;
    let e = c.validate().unwrap_err();
    let paths: Vec<&str> = e.0.iter().map(|x| x.path.as_str()).collect();
    assert!(paths.contains(&"virtual_servers[0].real_servers[0].weight"), "{e}");
    assert!(paths.contains(&"vrrp_instances[0].virtual_router_id"), "{e}");
    assert_eq!(e.0.iter().find(|x| x.field() == "virtual_router_id").unwrap().value, "0");
}
