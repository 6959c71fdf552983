//! The `ipvs` command on the in-memory kernel (`--mock=FILE`): exports read back as the same
//! table, plans print as shown in docs/desired-state.md, exit codes say what happened and bad
//! files are refused with the file, line, column and field.

mod common;

use std::process::Command;

use common::ipvs_with_input;

const SEED: &str = "-A -t 192.0.2.1:80 -s wrr -p 300
-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3
-a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 1 -x 100 -y 10
-A -u 192.0.2.1:53 -s rr
-A -f 7 -s mh -b flag-1
-a -f 7 -r 198.51.100.3:0 -i
-A -t [2001:db8::1]:443 -s sh -b sh-port
-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -g -w 2
";

/// A fresh scratch directory for this test, removed on drop.
fn scratch(name: &str) -> common::Dir {
    common::Dir::new("cli", name)
}

/// Runs `ipvs ARGS` on `stdin` (empty if None): (status, stdout, stderr).
fn ipvs(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    ipvs_with_input(args, stdin.unwrap_or(""))
}

#[test]
fn every_export_format_reads_back_as_the_same_table() {
    let dir = scratch("export");
    let seed = dir.file("seed.rules", SEED);
    let mock = format!("--mock={seed}");
    for format in ["toml", "json", "rules"] {
        let (code, exported, err) = ipvs(&[&mock, "export", "--format", format], None);
        assert_eq!((code, err.as_str()), (0, ""), "export --format {format}");
        assert!(exported.contains("192.0.2.1"), "{exported}");
        // From a file named by its extension, and from standard input told by its content.
        let file = dir.file(&format!("exported.{format}"), &exported);
        let (code, out, err) = ipvs(&[&mock, "diff", &file], None);
        assert_eq!((code, out.as_str(), err.as_str()), (0, "plan: no change\n", ""), "{format}:\n{exported}");
        let (code, out, _) = ipvs(&[&mock, "diff", "-"], Some(&exported));
        assert_eq!((code, out.as_str()), (0, "plan: no change\n"), "{format} on stdin");
        // Onto an empty kernel, the export is the whole table.
        let (code, out, _) = ipvs(&["--mock", "diff", &file, "--output", "rules"], None);
        assert_eq!(code, 1);
        assert_eq!(out.lines().count(), SEED.lines().count(), "{out}");
        // Nothing is lost, not even what `ipvsadm -S` leaves out (thresholds).
        assert!(format != "rules" || exported.contains(" -x 100 -y 10\n"), "{exported}");
    }
}

#[test]
fn toml_export_leaves_defaults_out() {
    let dir = scratch("toml");
    let seed = dir.file("seed.rules", "-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1:80\n");
    let (code, out, _) = ipvs(&[&format!("--mock={seed}"), "export"], None);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "[timeouts]\ntcp = 900\ntcp_fin = 120\nudp = 300\n\n[[services]]\nprotocol = \"tcp\"\naddress = \"192.0.2.1\"\n\
         port = 80\n\n[[services.destinations]]\naddress = \"198.51.100.1\"\n"
    );
}

#[test]
fn diff_shows_each_change_with_its_reason_and_exits_1() {
    let dir = scratch("diff");
    let seed = dir.file("seed.rules", SEED);
    let mock = format!("--mock={seed}");
    let desired = dir.file(
        "desired.toml",
        r#"
[[services]]
protocol = "tcp"
address = "192.0.2.1"
port = 80
scheduler = "wrr"
persistence = 300

[[services.destinations]]
address = "198.51.100.1"
port = 8080
forward = "nat"
weight = 5

[[services]]
protocol = "udp"
address = "192.0.2.1"
port = 53
scheduler = "lc"

[[services.destinations]]
address = "198.51.100.9"
port = 53
forward = "nat"
"#,
    );
    let (code, out, err) = ipvs(&[&mock, "diff", &desired], None);
    assert_eq!((code, err.as_str()), (1, ""));
    assert_eq!(
        out,
        "-E -u 192.0.2.1:53 -s lc                                     # changed: scheduler\n\
         -e -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 5              # changed: weight\n\
         -d -t 192.0.2.1:80 -r 198.51.100.2:8080                      # drained: no connection left\n\
         -a -u 192.0.2.1:53 -r 198.51.100.9:53 -m -w 1                # new destination\n\
         plan: 1 service changed, 1 destination new, 1 destination changed, 1 destination removed\n"
    );
    // Services the file does not name are left alone unless --prune.
    let (code, out, _) = ipvs(&[&mock, "diff", &desired, "--prune", "--output", "rules"], None);
    assert_eq!(code, 1);
    assert!(out.contains("-D -f 7\n") && out.contains("-D -t [2001:db8::1]:443\n"), "{out}");
    // --prune within a scope removes only what the scope selects.
    let (code, out, _) =
        ipvs(&[&mock, "diff", &desired, "--prune", "--scope", "192.0.2.0/24", "--output", "rules"], None);
    assert_eq!(code, 1);
    assert!(!out.contains("-D"), "{out}");
    let (code, out, _) = ipvs(&[&mock, "diff", &desired, "--output", "json"], None);
    assert_eq!(code, 1);
    assert!(out.contains("\"why\": \"changed: weight\""), "{out}");
}

#[test]
fn apply_converges_and_a_dry_run_writes_nothing() {
    let dir = scratch("apply");
    let seed = dir.file("seed.rules", SEED);
    let desired = dir.file("desired.rules", "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m\n");
    let mock = format!("--mock={seed}");
    let (code, out, _) = ipvs(&[&mock, "apply", &desired, "--dry-run"], None);
    assert_eq!(code, 0);
    assert!(out.ends_with("plan: 1 service changed, 1 destination new, 2 destinations removed\n"), "{out}");
    let (code, out, _) = ipvs(&[&mock, "apply", &desired], None);
    assert_eq!((code, out.as_str()), (0, "applied: 4 writes, 0 failed, 0 draining, converged\n"));
    let (code, out, _) = ipvs(&[&format!("--mock={desired}"), "apply", &desired], None);
    assert_eq!((code, out.as_str()), (0, "applied: 0 writes, 0 failed, 0 draining, converged\n"));
}

#[test]
fn bad_files_are_refused_naming_the_place_and_field() {
    let dir = scratch("bad");
    let cases = [
        (
            "scheduler.toml",
            "[[services]]\nprotocol = \"tcp\"\naddress = \"192.0.2.1\"\nport = 80\nscheduler = \"rrr\"\n",
            ":5:13: services[0].scheduler: invalid scheduler \"rrr\": unknown scheduler",
        ),
        (
            "weight.toml",
            "[[services]]\nfwmark = 1\n[[services.destinations]]\naddress = \"198.51.100.1\"\nweight = -1\n",
            ":5:10: services[0].destinations[0].weight: invalid weight \"-1\"",
        ),
        (
            "unknown.toml",
            "[[services]]\nfwmark = 1\nschedular = \"rr\"\n",
            ":3:1: services[0].schedular: unknown field `schedular`",
        ),
        (
            "duplicate.json",
            r#"{"services": [{"fwmark": 1}, {"fwmark": 1}]}"#,
            "services: invalid service \"FWM 1 IPv4\": named twice: services[0] and services[1]",
        ),
        ("bad.rules", "-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -w x\n", "bad.rules:2: "),
    ];
    for (name, body, want) in cases {
        let file = dir.file(name, body);
        let (code, out, err) = ipvs(&["--mock", "diff", &file], None);
        assert_eq!((code, out.as_str()), (2, ""), "{name}");
        assert!(err.starts_with(&format!("ipvs: {file}")) && err.contains(want), "{name}: {err}");
    }
    let (code, _, err) = ipvs(&["--mock", "diff", "/nonexistent/x.toml"], None);
    assert_eq!(code, 2);
    assert!(err.starts_with("ipvs: /nonexistent/x.toml: No such file"), "{err}");
}

#[test]
fn a_file_naming_services_outside_the_scope_is_refused() {
    let dir = scratch("scope");
    let file = dir.file("f.rules", "-A -t 192.0.2.1:80 -s rr\n");
    let (code, _, err) = ipvs(&["--mock", "diff", &file, "--scope", "udp"], None);
    assert_eq!(code, 2);
    assert_eq!(err, "ipvs: TCP 192.0.2.1:80 is outside the scope (the services matching udp)\n");
    let (code, _, err) = ipvs(&["--mock", "diff", &file, "--scope", "port=99999"], None);
    assert_eq!(code, 2);
    assert!(err.starts_with("ipvs: --scope: "), "{err}");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(ipvs(&["--help"], None).0, 0);
    assert_eq!(ipvs(&["frobnicate"], None).0, 2);
    assert_eq!(ipvs(&["diff"], None).0, 2);
    assert_eq!(ipvs(&["--mock", "export", "--format", "yaml"], None).0, 2);
}

#[test]
fn show_json_has_every_service_with_its_destinations_and_statistics() {
    let d = scratch("show");
    let seed = d.file("seed.rules", SEED);
    let (code, out, err) = ipvs(&[&format!("--mock={seed}"), "show", "--json"], None);
    assert_eq!((code, err.as_str()), (0, ""));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let services = v["services"].as_array().expect("a services list");
    assert_eq!(services.len(), 4, "{v:#}");
    let web = services.iter().find(|s| s["address"] == "192.0.2.1" && s["protocol"] == "tcp").expect("the web service");
    assert_eq!(web["scheduler"], "wrr");
    let dests = web["destinations"].as_array().unwrap();
    assert_eq!(dests.len(), 2);
    for key in ["active_conns", "inactive_conns", "persistent_conns", "weight", "forward", "stats"] {
        assert!(dests[0].get(key).is_some(), "{key} missing in {:#}", dests[0]);
    }
    for key in
        ["conns", "cps", "in_packets", "out_packets", "in_bytes", "out_bytes", "in_pps", "out_pps", "in_bps", "out_bps"]
    {
        assert!(web["stats"].get(key).is_some(), "{key} missing in {web:#}");
    }
    assert_eq!(v["timeouts"]["tcp"], 900);
    // The readable form names every service too.
    let (code, out, _) = ipvs(&[&format!("--mock={seed}"), "show"], None);
    assert_eq!(code, 0);
    for s in
        ["TCP 192.0.2.1:80 wrr", "UDP 192.0.2.1:53 rr", "FWM 7", "TCP [2001:db8::1]:443 sh", "-> 198.51.100.1:8080 nat"]
    {
        assert!(out.contains(s), "{s} not in:\n{out}");
    }
}

#[test]
fn output_that_cannot_be_written_is_an_error_for_every_command() {
    let d = scratch("full");
    let seed = d.file("seed.rules", SEED);
    let desired = d.file("want.rules", "-A -t 192.0.2.9:80 -s rr\n");
    for args in [vec!["show"], vec!["export"], vec!["diff", desired.as_str()], vec!["apply", desired.as_str()]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let mut all = vec![format!("--mock={seed}")];
        all.extend(args.iter().map(|a| a.to_string()));
        let out =
            Command::new(env!("CARGO_BIN_EXE_ipvs")).args(&all).env_remove("IPVS_MOCK").stdout(full).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("No space left on device"), "{args:?}: {out:?}");
    }
}
