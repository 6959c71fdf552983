//! `ipvs-director --check-config`: a valid file prints what it holds and exits 0; an invalid one
//! prints each problem with its file, place and field and exits 1; nothing runs (no root, no
//! kernel). Each run is bounded (10 s, then killed).

mod common;

use std::path::Path;

use common::{director, output_within, TempFile};

/// Runs the binary with `args`, killed after 10 s: (exit code, standard output, standard error).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = output_within(director(args), 10, &format!("ipvs-director {args:?}"));
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().expect("an exit code, not a signal"), text(out.stdout), text(out.stderr))
}

/// A file for this test in the temporary directory, removed on drop.
fn file(name: &str, text: &str) -> TempFile {
    TempFile::new("cli", name, text)
}

const VALID: &str = r#"[[virtual_servers]]
protocol = "tcp"
address = "192.0.2.10"
port = 80
scheduler = "rr"

[[virtual_servers.real_servers]]
address = "198.51.100.11"

[[virtual_servers.real_servers]]
address = "198.51.100.12"

[[virtual_servers]]
fwmark = 7
family = "inet"
scheduler = "wlc"

[[virtual_servers.real_servers]]
address = "198.51.100.13"
"#;

#[test]
fn a_valid_file_is_counted_and_exits_0() {
    let f = file("valid.toml", VALID);
    let (code, out, err) = run(&["--config", f.as_str(), "--check-config"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "configuration valid: 2 virtual servers, 3 real servers\n", ""));

    let k = file(
        "valid.conf",
        "virtual_server 192.0.2.10 80 {\n  protocol TCP\n  lvs_sched rr\n  lvs_method NAT\n  \
         real_server 198.51.100.11 80 {\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n}\n",
    );
    let (code, out, err) = run(&["--keepalived", k.as_str(), "--check-config"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "configuration valid: 1 virtual server, 1 real server\n", ""));

    // VRRP instances are counted when there are some (the interface need not exist here).
    let vrrp = format!(
        "{VALID}\n[[vrrp_instances]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvirtual_router_id = 51\n\
         virtual_ipaddress = [{{ address = \"192.0.2.10/24\" }}]\n"
    );
    let f = file("vrrp.toml", &vrrp);
    let (code, out, _) = run(&["--config", f.as_str(), "--check-config"]);
    assert_eq!((code, out.as_str()), (0, "configuration valid: 2 virtual servers, 3 real servers, 1 VRRP instance\n"));
}

#[test]
fn an_invalid_file_names_the_field_and_exits_1() {
    let f = file("scheduler.toml", &VALID.replace("scheduler = \"rr\"", "scheduler = \"bogus\""));
    let (code, out, err) = run(&["--config", f.as_str(), "--check-config"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with(&format!("{}:5:13: virtual_servers[0].scheduler: unknown scheduler \"bogus\"", f.as_str())),
        "{err}"
    );

    // Every problem is reported, each with its line and field.
    let two = VALID.replace("port = 80\n", "port = 80\nquorum = 5\n").replace("fwmark = 7", "fwmark = 0");
    let f = file("two.toml", &two);
    let (code, out, err) = run(&["--config", f.as_str(), "--check-config"]);
    assert_eq!((code, out.as_str()), (1, ""));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with(&format!("{}:5:1: virtual_servers[0].quorum = 5: ", f.as_str())), "{err}");
    assert!(lines[1].starts_with(&format!("{}:15:1: virtual_servers[1].fwmark = 0: ", f.as_str())), "{err}");

    // keepalived.conf: the file, line and keyword.
    let k = file(
        "bad.conf",
        "virtual_server 192.0.2.10 80 {\n  protocol TCP\n  lvs_sched rr\n  hashed\n  lvs_method NAT\n  \
         real_server 198.51.100.11 80 {\n  }\n}\n",
    );
    let (code, out, err) = run(&["--keepalived", k.as_str(), "--check-config"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.starts_with(&format!("{}:4: hashed: ", k.as_str())), "{err}");

    // A file that is not there.
    let missing = Path::new("/nonexistent/ipvs-director.toml");
    let (code, _, err) = run(&["--config", missing.to_str().unwrap(), "--check-config"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("/nonexistent/ipvs-director.toml: "), "{err}");
}

#[test]
fn no_configuration_is_a_usage_error() {
    let (code, out, err) = run(&["--check-config"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("--config FILE or --keepalived FILE"), "{err}");
}
