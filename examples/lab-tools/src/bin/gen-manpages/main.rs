//! `gen-manpages OUTDIR`: the manual pages and shell completions the Debian packages ship
//! (`package.sh` runs it), made from the commands' own clap definitions, one folder per
//! package:
//!
//! ```text
//! OUTDIR/ipvs/man/man8/ipvs.8, ipvs-SUBCOMMAND.8...  the ipvs command (ipvs_cli::command)
//! OUTDIR/ipvs-director/man/man8/ipvs-director.8...   the director (ipvs_director::cli::command)
//! OUTDIR/ipvs-director/man/man5/ipvs-director.toml.5 docs/director-config.md: the native file
//!                                                    and the keepalived.conf subset
//! OUTDIR/ipvs-exporter/man/man8/ipvs-exporter.8      the exporter (ipvs_exporter::cli::command)
//! OUTDIR/ipvs-ipvsadm/man/man8/ipvsadm.8             the drop-in (its -h text, run on the mock)
//! OUTDIR/PACKAGE/completions/{bash/NAME, zsh/_NAME, fish/NAME.fish}
//! ```
//!
//! Each page of a daemon ends with its signals, files and related pages (below, in Markdown).
#![forbid(unsafe_code)]

mod markdown;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap_complete::Shell;
use clap_mangen::roff::{roman, Roff};
use clap_mangen::Man;

/// A result with any error.
type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Where the director's configuration page comes from.
const DIRECTOR_CONFIG: &str = include_str!("../../../../../docs/director-config.md");

const IPVS_EXTRA: &str = "\
## Exit status

`diff`: 0 with nothing to do, 1 with changes, 2 on an error. `apply`: 0 when the kernel holds
the file's table (destinations still draining apart), 1 when it does not, 2 on an error.
`realserver check`: 0 ready, 1 not. Any other command: 0, or 2 on an error.

## Environment

* `IPVS_MOCK`: `1` works on the in-memory kernel model, a file name on one holding that
  file's table (as `--mock`).

## See also

ipvs-director(8), ipvs-exporter(8), ipvsadm(8); docs/desired-state.md and
docs/real-servers.md in the source.
";

const DIRECTOR_EXTRA: &str = "\
## Signals

* **SIGHUP** reloads the configuration: a file that does not read or validate is refused and
  the running configuration stays; otherwise only the difference is written.
* **SIGTERM**, **SIGINT** stop, also during start-up: the IPVS table stays as it is (traffic
  flows on through a restart), unless `--release-on-exit`.

## Exit status

0 after a stop by signal, or a valid configuration with `--check-config`; 1 when it cannot
run or the configuration is not valid; 2 for a usage error or output that cannot be written.

## Files

* `/etc/ipvs-director/director.toml`: the native configuration the package's unit reads,
  see ipvs-director.toml(5).
* `/etc/default/ipvs-director`: the unit's arguments (`IPVS_DIRECTOR_ARGS`) and environment
  (`RUST_LOG`).

## See also

ipvs-director.toml(5), ipvs(8), ipvs-exporter(8), keepalived(8), keepalived.conf(5).
";

const EXPORTER_EXTRA: &str = "\
## Signals

* **SIGHUP** opens the netlink socket again (after the ip_vs module was reloaded).
* **SIGTERM**, **SIGINT** stop accepting, let open scrapes finish, and exit 0.

## Files

* `/etc/default/ipvs-exporter`: the unit's arguments (`IPVS_EXPORTER_ARGS`) and environment.

## See also

ipvs-director(8), ipvs(8).
";

const IPVSADM_PAGE: &str = "\
# ipvsadm

## Description

A drop-in for ipvsadm 1.31 (Debian 12's) on the ipvs library: every command and option,
popt's parsing rules, the same checks, messages, exit statuses and listings (`-L` in every
mode, `-S`, names from `/etc/hosts` and `/etc/services` without `-n`), and `-R`. The
commands and options are ipvsadm's: see the ipvsadm manual for what each does. This page
lists them as `ipvsadm -h` does.

## Differences

`-h` prints this tool's own summary (below), not ipvsadm's text; host names are looked up in
`/etc/hosts` only (no DNS); output that cannot be written and `-R` input that cannot be read
are errors (ipvsadm exits 0), and a `-R` line longer than 64 KiB is refused.

## Environment

* `IPVSADM_MOCK`: when set, the commands run against an empty in-memory model of the kernel
  (for trying it without root).

## See also

ipvs(8), ipvs-director(8), ipvsadm-save(8), ipvsadm-restore(8).
";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!("usage: gen-manpages OUTDIR");
        return ExitCode::from(2);
    };
    match generate(Path::new(&out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-manpages: {e}");
            ExitCode::from(1)
        }
    }
}

/// Every page and completion into `out`.
fn generate(out: &Path) -> Res<()> {
    let commands = [
        ("ipvs", ipvs_cli::command(), IPVS_EXTRA),
        ("ipvs-director", ipvs_director::cli::command(), DIRECTOR_EXTRA),
        ("ipvs-exporter", ipvs_exporter::cli::command(), EXPORTER_EXTRA),
    ];
    for (package, command, extra) in commands {
        completions(&out.join(package), &command)?;
        pages(&man_dir(out, package, "8")?, command.disable_help_subcommand(true), extra)?;
    }
    let usage = ipvsadm_usage();
    let ipvsadm = IPVSADM_PAGE.replace("## Differences", &format!("## Options\n\n```\n{usage}```\n\n## Differences"));
    let version = env!("CARGO_PKG_VERSION");
    write_markdown_page(
        &man_dir(out, "ipvs-ipvsadm", "8")?.join("ipvsadm.8"),
        ["IPVSADM", "8", "", &format!("ipvsadm {version}"), "System Manager's Manual"],
        "ipvsadm - a drop-in for ipvsadm 1.31: the Linux Virtual Server table",
        &ipvsadm,
    )?;
    write_markdown_page(
        &man_dir(out, "ipvs-director", "5")?.join("ipvs-director.toml.5"),
        ["IPVS-DIRECTOR.TOML", "5", "", &format!("ipvs-director {version}"), "File Formats Manual"],
        "ipvs-director.toml - the configuration of ipvs-director: its native file, and the \
         keepalived.conf subset it reads",
        DIRECTOR_CONFIG,
    )?;
    Ok(())
}

/// `out/PACKAGE/man/manSECTION`, made.
fn man_dir(out: &Path, package: &str, section: &str) -> Res<PathBuf> {
    let dir = out.join(package).join("man").join(format!("man{section}"));
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The page of `command` and of each of its subcommands (`ipvs-show.8`, ...), section 8,
/// each ending with `extra`'s sections (the top page) or a pointer to the top page.
fn pages(dir: &Path, command: clap::Command, extra: &str) -> Res<()> {
    let mut command = command;
    command.build();
    let top = command.get_name().to_owned();
    let mut todo = vec![(command, true)];
    while let Some((cmd, is_top)) = todo.pop() {
        todo.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned().map(|s| (s, false)));
        let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name()).to_owned();
        let version = cmd.get_version().unwrap_or(env!("CARGO_PKG_VERSION")).to_owned();
        let man = Man::new(cmd)
            .title(name.to_uppercase())
            .section("8")
            .source(format!("{top} {version}"))
            .manual("System Manager's Manual");
        let mut text = Vec::new();
        man.render(&mut text)?;
        let mut tail = Roff::new();
        let more = if is_top { extra.to_owned() } else { format!("## See also\n\n{top}(8)\n") };
        markdown::append(&mut tail, &more, None);
        tail.to_writer(&mut text)?;
        let path = dir.join(format!("{name}.8"));
        fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

/// A page written in Markdown: `.TH` with `title`, NAME with `name_line`, then the body.
fn write_markdown_page(path: &Path, title: [&str; 5], name_line: &str, body: &str) -> Res<()> {
    let mut page = Roff::new();
    page.control("TH", title).control("SH", ["NAME"]).text([roman(name_line)]);
    markdown::append(&mut page, body, Some("DESCRIPTION"));
    let mut text = Vec::new();
    if markdown::has_table(body) {
        // tbl(1) is run on pages whose first line says so.
        text.extend_from_slice(b"'\\\" t\n");
    }
    page.to_writer(&mut text)?;
    let text = markdown::break_points(&String::from_utf8(text)?);
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}

/// `ipvsadm -h`, from the drop-in's own command line (on the in-memory model).
fn ipvsadm_usage() -> String {
    let argv = ["ipvsadm".to_owned(), "-h".to_owned()];
    let names = ipvsadm_compat::FileNames::system();
    let out = ipvsadm_compat::run(&ipvs::transport::MockTransport::new(), &argv, &mut std::io::empty(), &names);
    out.stdout
}

/// Bash, zsh and fish completions of `command`.
fn completions(out: &Path, command: &clap::Command) -> Res<()> {
    let name = command.get_name().to_owned();
    for (shell, file) in [
        (Shell::Bash, PathBuf::from("bash").join(&name)),
        (Shell::Zsh, PathBuf::from("zsh").join(format!("_{name}"))),
        (Shell::Fish, PathBuf::from("fish").join(format!("{name}.fish"))),
    ] {
        let path = out.join("completions").join(file);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut command.clone(), &name, &mut text);
        fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ipvs_director::config::Config;

    /// The example the package installs as /etc/ipvs-director/director.toml.
    const SHIPPED: &str = include_str!("../../../../../packaging/etc/director.toml");

    #[test]
    fn the_shipped_configuration_manages_nothing_and_its_example_is_valid() {
        let shipped = Config::from_toml(SHIPPED).expect("the shipped file reads");
        assert!(shipped.virtual_servers.is_empty() && shipped.vrrp_instances.is_empty());
        // The example: the commented lines after "An example", uncommented (prose is "# " and
        // a word; the example's own lines are "#" and TOML, indented or not).
        let at = SHIPPED.find("# An example").expect("the file has its example");
        let example: String = SHIPPED[at..]
            .lines()
            .filter(|l| *l != "#" && l.strip_prefix("# ").is_none_or(|t| t.starts_with(' ')))
            .map(|l| format!("{}\n", l.strip_prefix('#').unwrap_or(l)))
            .collect();
        let config = Config::from_toml(&example).unwrap_or_else(|e| panic!("{e}\n{example}"));
        assert_eq!(config.virtual_servers.len(), 1);
        assert_eq!(config.virtual_servers[0].real_servers.len(), 4);
    }

    #[test]
    fn the_ipvsadm_page_shows_the_drop_ins_own_summary() {
        let usage = super::ipvsadm_usage();
        assert!(usage.starts_with("ipvsadm: an ipvsadm 1.31-compatible tool"), "{usage}");
        assert!(usage.contains("--start-daemon"), "{usage}");
    }
}
