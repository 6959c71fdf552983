//! `ipvs realserver --arp`: the cure is chosen on the command line, and a request the cure
//! cannot serve is refused before anything is read or changed (exit 2, nothing on stdout).

mod common;

use common::ipvs_with_input;

fn refused(args: &[&str]) -> String {
    let mut all = vec!["realserver", "check"];
    all.extend(args);
    let (code, out, err) = ipvs_with_input(&all, "");
    assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
    err
}

#[test]
fn a_cure_that_does_not_fit_the_request_is_refused() {
    let dr = ["--vip", "192.0.2.100", "--method", "dr"];
    let err = refused(&[&dr[..], &["--arp", "redirect"]].concat());
    assert_eq!(err, "ipvs: invalid request: the redirect cure needs the service ports\n");
    let err = refused(&["--vip", "192.0.2.100", "--method", "tun", "--arp", "redirect", "--port", "80"]);
    assert_eq!(err, "ipvs: invalid request: the redirect cure is not for tun (ipip)\n");
    let err = refused(&[&dr[..], &["--arp", "redirect", "--port", "80", "--protocol", "icmp"]].concat());
    assert!(err.contains("--protocol icmp") && err.contains("tcp:PORT"), "{err}");
    let err = refused(&[&dr[..], &["--arp", "redirect", "--port", "0"]].concat());
    assert!(err.contains("service tcp:0"), "{err}");
    let err = refused(&[&dr[..], &["--arp", "bogus"]].concat());
    assert!(err.contains("sysctl") && err.contains("arptables") && err.contains("redirect"), "{err}");
}
