//! Limits and refusals of the configuration model, on the native file and keepalived.conf
//! alike: error placement in linear time, the total number of services, users and groups
//! that must exist, request text without control characters, compact numbers in timing
//! messages, and a native file that is not a regular file. Every slow case runs in a thread
//! bounded by a generous timeout (or a child under `ulimit -v`); nothing asserts on speed.

mod common;

use std::fmt::Write as _;
use std::process::Command;

use common::{within, TempFile};
use ipvs_director::config::{Config, MAX_GROUP_ADDRESSES, MAX_SERVICES};
use ipvs_director::keepalived;

/// A path for this test in the temporary directory, removed on drop.
fn temp_path(name: &str) -> TempFile {
    TempFile::path_only("limits", name)
}

/// A file for this test in the temporary directory, removed on drop.
fn temp_file(name: &str, text: &str) -> TempFile {
    TempFile::new("limits", name, text)
}

/// Runs `ipvs-director ARGS` under `ulimit -v KIB`, killed after `secs`: (exit code, stdout,
/// stderr).
fn run_limited(kib: u64, secs: u64, args: &[&str]) -> (i32, String, String) {
    common::run_under_ulimit(kib, secs, args, &format!("ipvs-director {args:?}"))
}

const VS: &str = "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nscheduler = \"rr\"\n";

/// One virtual server with one real server and the check `check` (TOML lines after
/// `[[virtual_servers.real_servers.KIND]]`).
fn with_check(kind: &str, check: &str) -> String {
    format!("{VS}\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.11\"\nport = 80\n\n[[virtual_servers.real_servers.{kind}]]\n{check}")
}

// Row 3: every error placed, in time linear in the file.

#[test]
fn thousands_of_errors_are_all_placed_without_parsing_again_for_each() {
    const N: usize = 3_000;
    let mut text = String::new();
    for i in 0..N {
        let (b, port) = (i % 250 + 1, 1000 + i / 250);
        write!(
            text,
            "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.{b}\"\nport = {port}\nquorum = 5\n\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.1\"\n\n"
        )
        .unwrap();
    }
    let err = within(60, move || Config::from_toml(&text).unwrap_err());
    assert_eq!(err.problems.len(), N, "{}", err.problems[0].message);
    // Each virtual server takes 9 lines; `quorum` is the fifth.
    for (i, p) in err.problems.iter().enumerate().step_by(499) {
        assert_eq!((p.line, p.column), (Some(9 * i + 5), Some(1)), "{p:?}");
        assert_eq!(p.path.as_deref(), Some(format!("virtual_servers[{i}].quorum").as_str()));
    }
}

// Row 5: the services of a whole configuration, counted before anything is expanded.

fn groups_toml(groups: usize) -> String {
    let mut text = String::new();
    for g in 0..groups {
        write!(
            text,
            "[[virtual_server_groups]]\nname = \"g{g}\"\nentries = [{{ address = \"10.{g}.0.0\", last = \"10.{g}.255.255\", port = 80 }}]\n\n"
        )
        .unwrap();
    }
    for g in 0..groups {
        write!(
            text,
            "[[virtual_servers]]\ngroup = \"g{g}\"\nprotocol = \"tcp\"\nscheduler = \"rr\"\n\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.1\"\n\n"
        )
        .unwrap();
    }
    text
}

#[test]
fn one_group_at_its_own_limit_fits_the_limit_in_all() {
    const { assert!(MAX_SERVICES >= MAX_GROUP_ADDRESSES) };
    let text = groups_toml(1);
    let config = within(120, move || Config::from_toml(&text).unwrap());
    assert_eq!(config.service_count(), MAX_GROUP_ADDRESSES);
}

#[test]
fn two_full_groups_are_more_services_than_the_limit() {
    let text = groups_toml(2);
    let err = within(60, move || Config::from_toml(&text).unwrap_err()).to_string();
    assert!(err.contains(&format!("{}", 2 * 65_536)), "{err}");
    assert!(err.contains(&format!("more than {MAX_SERVICES} services")), "{err}");
    assert!(err.len() < 300, "{err}");
}

#[test]
fn two_full_groups_in_keepalived_conf_are_more_services_than_the_limit() {
    let mut conf = String::new();
    for g in 0..2 {
        write!(conf, "virtual_server_group g{g} {{\n  10.{g}.0.0/16 80\n}}\n").unwrap();
        write!(
            conf,
            "virtual_server group g{g} {{\n  protocol TCP\n  lb_algo rr\n  lb_kind NAT\n  real_server 198.51.100.1 80 {{\n  }}\n}}\n"
        )
        .unwrap();
    }
    let err = within(60, move || keepalived::read_str(&conf, "k.conf").unwrap_err()).to_string();
    assert!(err.contains(&format!("more than {MAX_SERVICES} services")), "{err}");
}

#[test]
fn a_quarter_of_a_million_groups_worth_of_services_is_refused_in_little_memory() {
    let f = temp_file("groups.toml", &groups_toml(256));
    let (code, out, err) = run_limited(1 << 20, 120, &["--config", f.as_str(), "--check-config"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains(&format!("{}", 256 * 65_536)), "{err}");
    assert!(err.contains(&format!("more than {MAX_SERVICES} services")), "{err}");
}

// Row 8: users and groups scripts run as must exist (keepalived -t exits 5: "Failed to set
// uid/gid for misc checker script").

const NO_USER: &str = "nosuchuser-ipvs-test";
const NO_GROUP: &str = "nosuchgroup-ipvs-test";

#[test]
fn a_misc_check_user_that_does_not_exist_is_refused() {
    let text = with_check("misc_check", &format!("misc_path = {{ command = \"/bin/true\", user = \"{NO_USER}\" }}\n"));
    let err = Config::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("misc_check[0].misc_path.user") && err.contains(NO_USER), "{err}");
    let text = with_check(
        "misc_check",
        &format!("misc_path = {{ command = \"/bin/true\", user = \"root\", group = \"{NO_GROUP}\" }}\n"),
    );
    let err = Config::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("misc_check[0].misc_path.group") && err.contains(NO_GROUP), "{err}");
    let ok = with_check("misc_check", "misc_path = { command = \"/bin/true\", user = \"root\", group = \"root\" }\n");
    Config::from_toml(&ok).unwrap();
}

#[test]
fn a_script_user_that_does_not_exist_is_refused() {
    let text =
        format!("[global]\nscript_user = \"{NO_USER}\"\n\n{}", with_check("misc_check", "misc_path = \"/bin/true\"\n"));
    let err = Config::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("global.script_user") && err.contains(NO_USER), "{err}");
    let text = format!("[global]\nscript_user = \"root\"\nscript_group = \"{NO_GROUP}\"\n");
    let err = Config::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("global.script_group") && err.contains(NO_GROUP), "{err}");
    let text = format!("{VS}notify_up = {{ command = \"/bin/true\", user = \"{NO_USER}\" }}\n");
    let err = Config::from_toml(&text.replace("notify_up", "quorum_up")).unwrap_err().to_string();
    assert!(err.contains("quorum_up.user") && err.contains(NO_USER), "{err}");
}

#[test]
fn keepalived_users_that_do_not_exist_leave_their_checks_out() {
    // keepalived 2.2.7 -t: "Failed to set uid/gid for misc checker script '/bin/true' -
    // removing"; with script_user unusable, "(Line 2) Error setting global script uid/gid"
    // and "Unable to set default user for misc script '/bin/true' - removing".
    let conf = |misc_user: &str, global: &str| {
        format!("global_defs {{\n{global}}}\nvirtual_server 192.0.2.10 80 {{\n  protocol TCP\n  lb_algo rr\n  lb_kind NAT\n  real_server 198.51.100.11 80 {{\n    MISC_CHECK {{\n      misc_path /bin/true\n{misc_user}    }}\n  }}\n}}\n")
    };
    let read = |text: &str| keepalived::read_str_with_warnings(text, "k.conf").unwrap_or_else(|e| panic!("{e}"));
    let shown = |r: &keepalived::Reading| r.warnings.iter().map(ToString::to_string).collect::<Vec<_>>();
    let r = read(&conf(&format!("      user {NO_USER}\n"), ""));
    let w = shown(&r);
    assert!(w.len() == 1 && w[0].starts_with("k.conf:10: warning: user: ") && w[0].contains(NO_USER), "{w:?}");
    assert!(w[0].ends_with("this MISC_CHECK removed, as keepalived removes it"), "{w:?}");
    assert!(r.config.virtual_servers[0].real_servers[0].checks.is_empty());
    let w = shown(&read(&conf(&format!("      user root {NO_GROUP}\n"), "")));
    assert!(w.len() == 1 && w[0].contains(NO_GROUP), "{w:?}");
    let r = read(&conf("", &format!("  script_user {NO_USER}\n")));
    let w = shown(&r);
    assert!(w.len() == 2 && w[0].starts_with("k.conf:2: warning: script_user: ") && w[0].contains(NO_USER), "{w:?}");
    assert!(w[1].starts_with("k.conf:10: warning: misc_path: it names no user"), "{w:?}");
    assert!(r.config.virtual_servers[0].real_servers[0].checks.is_empty());
    let r = read(&conf("      user root\n", "  script_user root\n"));
    assert!(r.warnings.is_empty() && r.config.virtual_servers[0].real_servers[0].checks.len() == 1);
}

#[test]
fn check_config_exits_1_naming_the_user() {
    let f = temp_file(
        "user.toml",
        &with_check("misc_check", &format!("misc_path = {{ command = \"/bin/true\", user = \"{NO_USER}\" }}\n")),
    );
    let (code, out, err) = run_limited(4 << 20, 30, &["--config", f.as_str(), "--check-config"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains(NO_USER), "{err}");
}

// Row 12: what goes into a request line or header has no control characters.

#[test]
fn request_text_with_control_characters_is_refused() {
    let cases = [
        ("http_get", "virtualhost = \"a\\r\\nX-Injected: 1\"\nurl = [{ path = \"/\" }]\n", "http_get[0].virtualhost"),
        ("ssl_get", "virtualhost = \"a\\nb\"\nurl = [{ path = \"/\" }]\n", "ssl_get[0].virtualhost"),
        ("http_get", "url = [{ path = \"/\", virtualhost = \"a\\r\\nX: 1\" }]\n", "http_get[0].url[0].virtualhost"),
        ("http_get", "virtualhost = \"a\\u0000b\"\nurl = [{ path = \"/\" }]\n", "http_get[0].virtualhost"),
        ("http_get", "virtualhost = \"a\\tb\"\nurl = [{ path = \"/\" }]\n", "http_get[0].virtualhost"),
        ("http_get", "url = [{ path = \"/a\\u007fb\" }]\n", "http_get[0].url[0].path"),
        ("http_get", "url = [{ path = \"/a\\r\\nb\" }]\n", "http_get[0].url[0].path"),
        ("smtp_check", "helo_name = \"x\\r\\nMAIL FROM:<a@b>\"\n", "smtp_check[0].helo_name"),
    ];
    for (kind, check, path) in cases {
        let err = Config::from_toml(&with_check(kind, check)).unwrap_err().to_string();
        assert!(err.contains(path) && err.contains("control character"), "{check}: {err}");
        assert!(!err.contains('\r') && !err.contains('\u{0}'), "{err:?}");
    }
    let text = with_check("tcp_check", "").replace("port = 80\n\n", "port = 80\nvirtualhost = \"a\\r\\nb\"\n\n");
    let err = Config::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("real_servers[0].virtualhost"), "{err}");
    let text = with_check("tcp_check", "").replacen(
        "scheduler = \"rr\"\n",
        "scheduler = \"rr\"\nvirtualhost = \"a\\nb\"\n",
        1,
    );
    let err = Config::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("virtual_servers[0].virtualhost"), "{err}");
    Config::from_toml(&with_check("http_get", "virtualhost = \"www.example.org\"\nurl = [{ path = \"/x?a=1\" }]\n"))
        .unwrap();
}

#[test]
fn keepalived_virtualhost_with_control_characters_is_refused() {
    let conf = "virtual_server 192.0.2.10 80 {\n  protocol TCP\n  lb_algo rr\n  lb_kind NAT\n  real_server 198.51.100.11 80 {\n    HTTP_GET {\n      virtualhost \"a\x1bb\"\n      url {\n        path /\n      }\n    }\n  }\n}\n";
    let err = keepalived::read_str(conf, "k.conf").unwrap_err().to_string();
    assert!(err.contains("control character"), "{err}");
}

// Row 14: timing numbers out of range are shown compactly.

#[test]
fn timing_values_out_of_range_are_shown_compactly() {
    for (value, shown) in [
        ("1e300", "1e300"),
        ("-1e300", "-1e300"),
        ("1.5e20", "1.5e20"),
        ("inf", "inf"),
        ("nan", "NaN"),
        ("-inf", "-inf"),
    ] {
        for field in ["connect_timeout", "delay_loop", "delay_before_retry", "warmup"] {
            let text = with_check("tcp_check", &format!("{field} = {value}\n"));
            let err = Config::from_toml(&text).unwrap_err().to_string();
            assert!(err.len() < 200, "{field} = {value}: {} characters: {err}", err.len());
            assert!(err.contains(&format!("tcp_check[0].{field}")), "{err}");
            assert!(err.contains(shown), "{field} = {value}: {err}");
        }
    }
    let err = Config::from_toml(&format!("{VS}connect_timeout = 1e300\n")).unwrap_err().to_string();
    assert!(err.contains("1e300") && err.len() < 200, "{err}");
    // Integer fields given a huge float (serde shows the float in full) and other timers.
    for text in [
        "[global]\ntimeouts = { tcp = 1e300, udp = 60 }\n".to_owned(),
        "[[vrrp_scripts]]\nname = \"c\"\nscript = \"/bin/true\"\ninterval = 1e300\n".to_owned(),
        with_check("tcp_check", "connect_port = 1e300\n"),
        VS.replace("port = 80", "port = -1e300"),
    ] {
        let err = Config::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("1e300") && err.len() < 200, "{text}: {} characters: {err}", err.len());
    }
}

// Row 15: the native file is read only when it is a regular file.

#[test]
fn a_native_file_that_is_not_a_regular_file_is_refused_without_blocking() {
    let fifo = temp_path("fifo.toml");
    let made = Command::new("mkfifo").arg(fifo.path()).status().unwrap();
    assert!(made.success());
    let dir = temp_path("dir.toml");
    std::fs::create_dir(dir.path()).unwrap();
    for path in [fifo.as_str(), dir.as_str(), "/dev/null", "/dev/zero", "/proc/self/environ"] {
        let p = path.to_owned();
        let err = within(30, move || Config::load(&p).unwrap_err()).to_string();
        assert!(err.contains("not a regular file"), "{path}: {err}");
        assert!(err.len() < 200, "{path}: {err}");
    }
    let (code, out, err) = run_limited(4 << 20, 30, &["--config", fifo.as_str(), "--check-config"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn a_native_file_larger_than_the_limit_is_refused() {
    let limit = ipvs_director::config::MAX_FILE_BYTES;
    let big = temp_file("big.toml", &format!("# {}\n", "x".repeat(usize::try_from(limit).unwrap())));
    let err = Config::load(big.path()).unwrap_err().to_string();
    assert!(err.contains(&format!("larger than the limit of {limit} bytes")), "{err}");
}
