//! keepalived's preprocessor and reading rules (issue 22, "Reading"): definitions and their
//! substitution, `@ID` lines and `--config-id`, `~SEQ`/`~LST`, a last `\`, odd blanks and
//! bytes, and the include variants. Each case quotes what keepalived 2.2.7 printed for it
//! (`keepalived -t -f FILE -l -D -n --log-console [-i ID]`), or what it did.

mod common;

use common::{director, output_within, within, TempDir, TempFile};
use ipvs::Scheduler;
use ipvs_director::keepalived::{self, ReadOptions, Reading, MAX_GENERATED_LINES};

/// A virtual server whose scheduler, and then body, the case gives.
fn vs(algo: &str, body: &str) -> String {
    format!("virtual_server 192.0.2.10 80 {{\n  protocol TCP\n  lb_kind NAT\n  lb_algo {algo}\n{body}  real_server 198.51.100.1 80 {{\n  }}\n}}\n")
}

fn read(text: &str, id: &str) -> Reading {
    let o = ReadOptions { config_id: id.to_owned(), strict: false };
    o.read_str_with_warnings(text, "/nonexistent/k.conf").unwrap_or_else(|e| panic!("{text}\n{e}"))
}

fn refused(text: &str, id: &str) -> Vec<String> {
    let o = ReadOptions { config_id: id.to_owned(), strict: false };
    let e = o.read_str_with_warnings(text, "/nonexistent/k.conf").expect_err(text);
    e.0.iter().map(ToString::to_string).collect()
}

fn warnings(r: &Reading) -> Vec<String> {
    r.warnings.iter().map(ToString::to_string).collect()
}

fn servers(r: &Reading) -> Vec<String> {
    r.config.virtual_servers[0].real_servers.iter().map(|s| s.address.to_string()).collect()
}

#[test]
fn definitions_are_substituted_where_keepalived_substitutes_them() {
    // keepalived: "$X= rr  # c" defines X as rr (no error); "lb_algo ${X}y" gives "Invalid
    // lvs_scheduler 'rry'"; "lb_algo $Xy" gives "Invalid lvs_scheduler '$Xy'" ($X must be
    // followed by a blank, `,`, `)` or the end); "$UNDEF" stays: "Unknown keyword '$UNDEF'".
    let text = format!("$X= rr  # c\n{}", vs("$X", "  $UNDEF\n"));
    let r = read(&text, "x");
    assert_eq!(r.config.virtual_servers[0].scheduler, Scheduler::Rr);
    assert_eq!(warnings(&r), ["/nonexistent/k.conf:6: warning: $UNDEF: unknown keyword in virtual_server; ignored, as keepalived ignores it"]);
    // (The scheduler ignored, keepalived falls back to wlc: the first warning says so.)
    let r = read(&format!("$X=rr\n{}", vs("${X}y", "")), "x");
    assert!(warnings(&r)[1].starts_with("/nonexistent/k.conf:5: warning: lb_algo: "), "{:?}", r.warnings);
    assert!(warnings(&r)[1].contains("\"rry\""), "{:?}", r.warnings);
    let r = read(&format!("$X=rr\n{}", vs("$Xy", "")), "x");
    assert!(warnings(&r)[1].contains("\"$Xy\""), "{:?}", r.warnings);
    // keepalived: "$X =rr" is no definition: "(Line 1) Unknown keyword '$X'".
    let r = read(&format!("$X =rr\n{}", vs("rr", "")), "x");
    assert_eq!(
        warnings(&r),
        ["/nonexistent/k.conf:1: warning: $X: unknown keyword at the top level; ignored, as keepalived ignores it"]
    );
    // Replacement happens at use (keepalived.conf(5)'s ADDRESS_BASE example), and recursively.
    let text =
        format!("$NET=198.51.${{SUB}}\n$SUB=100\n$RS=real_server ${{NET}}.7 80 {{\n{}", vs("rr", "  $RS\n  }\n"));
    assert_eq!(servers(&read(&text, "x")), ["198.51.100.7", "198.51.100.1"]);
}

#[test]
fn builtins() {
    // keepalived: "${_PWD} x" gives "Unknown keyword '/tmp/ka/inc'" (the file's directory);
    // "${_INSTANCE} y" gives "Unknown keyword 'main'" with -i main; "kw_a${_HASH}b" gives
    // "Unknown keyword 'kw_a'" (the # starts a comment once substituted).
    let d = TempDir::new("pre", "builtins");
    let f = d.write("k.conf", format!("${{_PWD}} x\n${{_INSTANCE}} y\nkw_a${{_HASH}}b\n{}", vs("rr", "")));
    let r = ReadOptions { config_id: "main".into(), strict: false }.read_file_with_warnings(&f).unwrap();
    let w = warnings(&r);
    let dir = d.path().canonicalize().unwrap();
    assert!(w[0].contains(&format!(":1: warning: {}: unknown keyword", dir.display())), "{w:?}");
    assert!(w[1].contains(":2: warning: main: unknown keyword"), "{w:?}");
    assert!(w[2].contains(":3: warning: kw_a: unknown keyword"), "{w:?}");
    // keepalived 2.2.7 garbles "${_RANDOM 5 5} r" into "Unknown keyword '5'", "Extra '}'
    // found": refused, naming it.
    let e = refused(&format!("${{_RANDOM 5 5}} r\n{}", vs("rr", "")), "x");
    assert_eq!(e, ["/nonexistent/k.conf:1: ${_RANDOM: ${_RANDOM MIN MAX}: keepalived 2.2.7 garbles the line around it (use ${_RANDOM})"]);
}

#[test]
fn conditional_lines_follow_the_config_id() {
    // keepalived -i main: "@main lb_algo aa" read, "@^main lb_algo bb" not, "@main" alone
    // dropped, "@other lb_algo cc" not, "@^other lb_algo dd" read, "@main\tlb_algo ee" read.
    let body = "@main weight 2\n@^main weight 3\n@main\n@other weight 4\n@^other delay_loop 7\n";
    let text = vs("rr", body);
    let r = read(&text, "main");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.config.virtual_servers[0].weight, 2);
    let r = read(&text, "backup");
    assert_eq!(r.config.virtual_servers[0].weight, 3);
    // A definition that expands to a condition: dropped when it does not hold (keepalived -i
    // other: no message); keepalived -i main prints "Invalid lvs_scheduler '_algo'" for
    // "$M lb_algo m1" (the line garbled): refused.
    let text = format!("$M=@main\n{}", vs("rr", "$M weight 5\n"));
    assert_eq!(read(&text, "other").config.virtual_servers[0].weight, 1);
    let e = refused(&text, "main");
    assert!(
        e[0].starts_with("/nonexistent/k.conf:6: $M: a definition gives this line a condition (@ID) that holds"),
        "{e:?}"
    );
    // The default id is the host name up to its first dot (keepalived's uname nodename).
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(ReadOptions::default().config_id, host.trim().split('.').next().unwrap());
}

#[test]
fn multi_line_definitions_expand_at_the_line_of_use() {
    // keepalived, m1.conf: the definition's lines come at the line of use: "(m1.conf: Line 10)
    // Unknown keyword 'lb_algo'" for "@main lb_algo r${N}" inside a real_server.
    let text = format!(
        "$RS= \\\n real_server 198.51.100.${{N}} 80 {{ \\\n  weight ${{W}} \\\n  @main colour r${{N}} \\\n }}\n$W=5\n{}",
        vs("rr", "$N=2\n  $RS\n$N=3\n$RS\n")
    );
    let r = read(&text, "main");
    assert_eq!(servers(&r), ["198.51.100.2", "198.51.100.3", "198.51.100.1"]);
    assert_eq!(r.config.virtual_servers[0].real_servers[1].weight, Some(5));
    let w = warnings(&r);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("/nonexistent/k.conf:12: warning: colour: unknown keyword in real_server"), "{w:?}");
    assert!(w[1].starts_with("/nonexistent/k.conf:14: warning: colour"), "{w:?}");
    // keepalived, m2.conf: "$A=first \" takes "first" as the first line, an empty line ends
    // the definition: "lb_algo $A" gives "Invalid lvs_scheduler 'first'" then "Unknown
    // keyword 'second'".
    let r = read(&format!("$A=rr \\\n colour \\\n\n{}", vs("$A", "")), "x");
    assert_eq!(r.config.virtual_servers[0].scheduler, Scheduler::Rr);
    assert!(warnings(&r)[0].starts_with("/nonexistent/k.conf:7: warning: colour: unknown keyword"), "{:?}", r.warnings);
}

#[test]
fn sequences_and_lists_replicate_lines() {
    // keepalived: "~SEQ(i, 1, 2, 5) lb_algo s${i}" gives s1, s3, s5; "~SEQ(j,3)" 1, 2, 3;
    // "~SEQ(k,5,3)" 5, 4, 3; "~SEQx(h,0x9,0x3,0x10)" h9, hc, hf; "~SEQ(a,1,2) ~SEQ(b,1,2)"
    // ab11, ab12, ab21, ab22; "~LST({p,q},{1,2},{3},{4,5})" m1_2, m3_, m4_5.
    let body = "~SEQ(i, 2, 2, 6) real_server 198.51.100.${i} 80 { }\n~SEQx(h,0xa,0x3,0x10) colour_${h}\n";
    let r = read(&vs("rr", body), "x");
    assert_eq!(servers(&r), ["198.51.100.2", "198.51.100.4", "198.51.100.6", "198.51.100.1"]);
    let w = warnings(&r);
    assert_eq!(w.len(), 3, "{w:?}");
    for (w, h) in w.iter().zip(["a", "d", "10"]) {
        assert!(w.starts_with(&format!("/nonexistent/k.conf:6: warning: colour_{h}: unknown keyword")), "{w}");
    }
    let body = "~LST({a,w},{11,2},{12},{13,4}) real_server 198.51.100.$a 80 { weight 0$w }\n";
    let r = read(&vs("rr", body), "x");
    let weights: Vec<_> = r.config.virtual_servers[0].real_servers.iter().map(|s| s.weight).collect();
    assert_eq!(servers(&r)[..3], ["198.51.100.11", "198.51.100.12", "198.51.100.13"]);
    // A missing value is empty (keepalived: m3_ above).
    assert_eq!(weights[..3], [Some(2), Some(0), Some(4)]);
    // The variable keeps its last value after the line (keepalived: "~SEQ(i,1,3)" then
    // "lb_algo after${i}" gives 'after3').
    let r = read(&vs("rr", "~SEQ(i,1,3)\n  weight $i\n"), "x");
    assert_eq!(r.config.virtual_servers[0].weight, 3);
    // keepalived: "Invalid ~SEQ values '~SEQ(i,1,0,5) lb_algo x'", "~SEQx is only valid for
    // positive numbers", "~LST specification has too many values".
    let e = refused(&vs("rr", "~SEQ(i,1,0,5) x\n~SEQx(i,-1,2) y\n~LST({p,q},{1,2,3}) z\n"), "x");
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(e[0].starts_with("/nonexistent/k.conf:5: ~SEQ(i,1,0,5): Invalid ~SEQ values"), "{e:?}");
    assert!(e[1].contains(":6: ~SEQx(i,-1,2): ~SEQx is only valid for positive numbers"), "{e:?}");
    assert!(e[2].contains(":7: ~LST({p,q},{1,2,3}): ~LST specification has too many values"), "{e:?}");
}

#[test]
fn explosive_expansions_stop_at_a_limit() {
    // A sequence of 10^12 lines: keepalived would run for hours; stopped at the limit.
    let e = within(60, || refused("~SEQ(i,1,1000000000000)\n", "x"));
    assert_eq!(
        e,
        [format!("/nonexistent/k.conf:1: ~SEQ(i,1,1000000000000): reading stopped: definitions and ~SEQ/~LST produce more than {MAX_GENERATED_LINES} lines (the generated line limit)")]
    );
    // keepalived loops forever on "$A=$A" then "$A" (killed by timeout after 10 s).
    let e = within(60, || refused("$A=$A\n$A\n", "x"));
    assert!(e[0].contains(":2: $A: reading stopped: more than 10000 substitutions in one line"), "{e:?}");
    // keepalived: "$A=${A}x" then "$A" stops at its 1024-byte line ("would exceed maximum
    // line length") and reads the line half-expanded: refused.
    let e = within(60, || refused("$A=${A}${A}\n$A\n", "x"));
    assert!(e[0].contains(":2: $A: substituting $A makes the line 1024 bytes or longer"), "{e:?}");
    // Nested sequences (10^10 lines) stop the same way, and so do sequences that expand a
    // multi-line definition.
    let e = within(60, || refused("~SEQ(i,1,100000) ~SEQ(j,1,100000)\n", "x"));
    assert!(e[0].contains("the generated line limit"), "{e:?}");
    let e = within(60, || refused("$B= \\\n \\\n\n~SEQ(i,1,100000) ~SEQ(j,1,100000) $B\n", "x"));
    assert!(e[0].contains("the generated line limit"), "{e:?}");
    // keepalived does not run a sequence a substitution puts first: "~SEQ(j,1,100000)" from
    // a definition is a keyword it does not know.
    let r = read("$S=~SEQ(j,1,100000) x\n$S\n", "x");
    assert!(warnings(&r)[0].contains(":2: warning: ~SEQ(j,1,100000): unknown keyword"), "{:?}", r.warnings);
}

#[test]
fn a_last_backslash_and_odd_blanks_as_keepalived_reads_them() {
    // keepalived: "lb_algo rr \" gives "Invalid lvs_scheduler 'rr\' - ignoring".
    let r = read(&vs("rr \\", ""), "x");
    assert!(warnings(&r)[1].contains(":4: warning: lb_algo: unknown scheduler \"rr\\\\\""), "{:?}", r.warnings);
    // keepalived: "lb_algo\xc2\xa0rr" gives "Unknown keyword 'lb_algo rr'", "lb_kind\xa0NAT"
    // "Unknown keyword 'lb_kind\xa0NAT'"; \v, \f and \r separate words ("lb_algo\vxx":
    // "Invalid lvs_scheduler 'xx'").
    let r = read(&vs("rr", "  lb_algo\u{a0}rr\n  weight\x0b3\x0c\r\n"), "x");
    // (Shown escaped, as every character a terminal would not show plainly.)
    assert_eq!(warnings(&r), ["/nonexistent/k.conf:5: warning: lb_algo\\u{a0}rr: unknown keyword in virtual_server; ignored, as keepalived ignores it"]);
    assert_eq!(r.config.virtual_servers[0].weight, 3);
    let d = TempDir::new("pre", "nbsp");
    let f = d.write("k.conf", [vs("rr", "").as_bytes(), b"lb_kind\xa0NAT\n"].concat());
    let w = warnings(&keepalived::read_file_with_warnings(&f).unwrap());
    assert_eq!(
        w,
        [format!(
            "{}:8: warning: lb_kind\u{fffd}NAT: unknown keyword at the top level; ignored, as keepalived ignores it",
            f.display()
        )]
    );
}

#[test]
fn include_variants_as_keepalived() {
    let d = TempDir::new("pre", "include");
    std::fs::create_dir_all(d.path().join("sub/dir")).unwrap();
    d.write("sub/a.conf", "$D2=12\ninclude b.conf\n");
    d.write("sub/b.conf", "real_server 198.51.100.${D2} 80 {\n}\n");
    let x = d.write("sub/x.conf", "colour\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&x, std::fs::Permissions::from_mode(0o755)).unwrap();
    let main = |body: &str| d.write("main.conf", vs("rr", body));
    let shown = d.path().display().to_string();
    // keepalived: definitions hold across includes (b.conf, included from sub/, sees D2;
    // "lb_algo main_${D2}" in the main file gives 'main_fromsub'); relative to the
    // including file's directory.
    let f = main("  include sub/a.conf\n  real_server 198.51.100.${D2}3 80 {\n  }\n");
    let r = keepalived::read_file_with_warnings(&f).unwrap();
    assert_eq!(servers(&r), ["198.51.100.12", "198.51.100.123", "198.51.100.1"]);
    // keepalived skips, logging: a missing file ("Config files missing 'sub/none.conf'."), a
    // directory ("Configuration file 'd/' is a directory - skipping"), an executable file
    // ("is not a regular non-executable file - skipping"); a pattern matching nothing says
    // nothing (the plain include).
    let f = main("  include sub/none.conf\n  include sub/dir\n  include sub/x.conf\n  include sub/*.none\n");
    let w = warnings(&keepalived::read_file_with_warnings(&f).unwrap());
    assert_eq!(w.len(), 4, "{w:?}");
    assert!(w[0].ends_with(":5: warning: include: no file sub/none.conf (keepalived: \"Config files missing\"); skipped, as keepalived skips it"), "{w:?}");
    assert!(w[1].contains(&format!(":6: warning: include: {shown}/sub/dir: not a regular file (a directory")), "{w:?}");
    assert!(w[2].contains(":7: warning: include: ") && w[2].contains("sub/x.conf: an executable file"), "{w:?}");
    assert!(w[3].contains(":8: warning: include: sub/*.none matches no file"), "{w:?}");
    // The variants make them errors: includer (read), includem (missing), includew
    // (wildcard), includeb (brace), includea (all); keepalived -t exits with status 6
    // after "No config files matched 'sub/none*.conf'." for includew.
    let f = main("  includer sub/x.conf\n  includem sub/none.conf\n  includew sub/*.none\n  includeb sub/{a,zz}.conf\n  includer sub/none.conf\n");
    let e: Vec<String> =
        keepalived::read_file_with_warnings(&f).unwrap_err().0.iter().map(ToString::to_string).collect();
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(e[0].contains(":5: includer: ") && e[0].ends_with("(an error with includer, as in keepalived)"), "{e:?}");
    assert!(e[1].contains(":6: includem: no file sub/none.conf"), "{e:?}");
    assert!(e[2].contains(":7: includew: sub/*.none matches no file"), "{e:?}");
    assert!(e[3].contains(":8: includeb: some files of sub/{a,zz}.conf are missing"), "{e:?}");
    // keepalived reads an include after a condition or from a definition ("@main include
    // sub/k.conf", "$I sub/k.conf": both read k.conf); "include" alone is a keyword it does
    // not know ("Unknown keyword 'include'").
    let f = main("$D2=5\n@main include sub/b.conf\n$D2=6\n$I=include\n$I sub/b.conf\ninclude\n");
    let r = ReadOptions { config_id: "main".into(), strict: false }.read_file_with_warnings(&f).unwrap();
    assert_eq!(servers(&r), ["198.51.100.5", "198.51.100.6", "198.51.100.1"]);
    assert_eq!(warnings(&r), [format!("{shown}/main.conf:10: warning: include: unknown keyword in virtual_server; ignored, as keepalived ignores it")]);
}

#[test]
fn config_id_on_the_command_line() {
    let k = TempFile::new("preid", "k.conf", &vs("rr", "@main weight 2\n@^main colour\n"));
    let run = |args: &[&str]| {
        let out = output_within(director(args), 10, "ipvs-director");
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, err) = run(&["--keepalived", k.as_str(), "--check-config", "--config-id", "main"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let (code, err) = run(&["--keepalived", k.as_str(), "--check-config", "--config-id", "backup"]);
    assert_eq!(code, Some(0));
    assert!(err.contains(":6: warning: colour: unknown keyword"), "{err}");
    let (code, _) = run(&["--strict", "--config-id", "backup", "import-keepalived", k.as_str()]);
    assert_eq!(code, Some(1));
}
