//! ipvsadm 1.31 takes a v4-mapped IPv6 service address (`-A -t [::ffff:192.0.2.1]:80`: its
//! `parse_service` reads any address `inet_pton(AF_INET6)` takes, and the kernel checks no
//! service address), so the drop-in does too, byte for byte. The library's validation refuses
//! one (`ipvs::Service::validate`), but the drop-in sends what ipvsadm sends, unvalidated.

use ipvs::transport::MockTransport;
use ipvsadm_compat::{run, NoNames};

fn ipvsadm(kernel: &MockTransport, line: &str) -> (i32, String, String) {
    let argv: Vec<String> = line.split(' ').map(String::from).collect();
    let out = run(kernel, &argv, &mut &b""[..], &NoNames);
    (out.code, out.stdout, out.stderr)
}

#[test]
fn a_v4_mapped_service_is_taken_as_ipvsadm_takes_it() {
    let kernel = MockTransport::new();
    assert_eq!(ipvsadm(&kernel, "ipvsadm -A -t [::ffff:192.0.2.1]:80 -s rr"), (0, String::new(), String::new()));
    let (code, out, err) = ipvsadm(&kernel, "ipvsadm -Sn");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "-A -t [::ffff:192.0.2.1]:80 -s rr\n", ""));
    // Listed, and deleted by its identity.
    let (code, out, _) = ipvsadm(&kernel, "ipvsadm -Ln -t [::ffff:192.0.2.1]:80");
    assert_eq!(code, 0);
    assert!(out.contains("TCP  [::ffff:192.0.2.1]:80 rr"), "{out}");
    assert_eq!(ipvsadm(&kernel, "ipvsadm -D -t [::ffff:192.0.2.1]:80").0, 0);
    assert_eq!(ipvsadm(&kernel, "ipvsadm -Sn").1, "");
    // A v4-mapped real server is refused by the kernel, as ever.
    assert_eq!(ipvsadm(&kernel, "ipvsadm -A -t [2001:db8::1]:80 -s rr").0, 0);
    let (code, _, err) = ipvsadm(&kernel, "ipvsadm -a -t [2001:db8::1]:80 -r [::ffff:198.51.100.1]:80 -m");
    assert_eq!(code, 255, "{err}");
}
