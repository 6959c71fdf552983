//! No input makes the keepalived.conf reader panic: token soups from keepalived's own
//! vocabulary, arbitrary text, and the sample files with a line dropped, repeated or cut.

use ipvs_director::keepalived::read_str;
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "{",
    "}",
    "\"",
    "#",
    "!",
    "\\",
    "virtual_server",
    "real_server",
    "virtual_server_group",
    "group",
    "fwmark",
    "global_defs",
    "vrrp_instance",
    "vrrp_script",
    "vrrp_sync_group",
    "TCP_CHECK",
    "HTTP_GET",
    "SSL_GET",
    "DNS_CHECK",
    "MISC_CHECK",
    "SMTP_CHECK",
    "url",
    "path",
    "digest",
    "status_code",
    "lb_algo",
    "lb_kind",
    "lvs_method",
    "protocol",
    "TCP",
    "UDP",
    "NAT",
    "DR",
    "TUN",
    "type",
    "gue",
    "port",
    "csum",
    "rr",
    "sh",
    "sh-port",
    "weight",
    "quorum",
    "hysteresis",
    "sorry_server",
    "persistence_timeout",
    "persistence_granularity",
    "delay_loop",
    "retry",
    "misc_path",
    "authentication",
    "auth_type",
    "PASS",
    "virtual_ipaddress",
    "track_script",
    "include",
    "192.0.2.10",
    "198.51.100.11",
    "2001:db8::1",
    "192.0.2.1-5",
    "192.0.2.0/30",
    "80",
    "0",
    "-1",
    "2.5",
    "99999999999999999999",
    "on",
    "off",
    "'a b'",
    "\n",
    "\n",
    "\n",
    "@x",
    "$A=1",
    "~SEQ",
];

fn soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(WORDS), 0..120).prop_map(|w| w.join(" "))
}

const SAMPLES: &[&str] = &[
    include_str!("../testdata/keepalived/seed.conf"),
    include_str!("../testdata/keepalived/vrrp.conf"),
    include_str!("../testdata/keepalived/quorum_sorry.conf"),
    include_str!("../testdata/keepalived/group.conf"),
    include_str!("../testdata/keepalived/dr_tun.conf"),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn token_soups_do_not_panic(text in soup()) {
        let _ = read_str(&text, "/nonexistent/k.conf");
    }

    #[test]
    fn arbitrary_text_does_not_panic(text in "\\PC{0,400}") {
        let _ = read_str(&text, "/nonexistent/k.conf");
    }

    #[test]
    fn damaged_samples_do_not_panic_and_errors_have_lines(sample in 0..SAMPLES.len(), line in 0usize..120, how in 0u8..4, cut in 0usize..40) {
        let mut lines: Vec<String> = SAMPLES[sample].lines().map(str::to_owned).collect();
        let i = line % lines.len();
        match how {
            0 => { lines.remove(i); }
            1 => { let l = lines[i].clone(); lines.insert(i, l); }
            2 => { let l = &lines[i]; let c = l.char_indices().map(|(j, _)| j).nth(cut).unwrap_or(l.len()); lines[i] = l[..c].to_owned(); }
            _ => { lines[i] = lines[i].replace(' ', " x "); }
        }
        if let Err(e) = read_str(&lines.join("\n"), "/nonexistent/k.conf") {
            for x in &e.0 {
                prop_assert!(x.line > 0 && x.line <= lines.len(), "{}", x);
            }
        }
    }
}
