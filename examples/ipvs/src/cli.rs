//! The command line and what each command does.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use ipvs::command::{mock_flag_or_env, open_transport, OpenError, Opened};
use ipvs::state::{ApplyReport, DrainClock, Plan, Policy, Scope, Selector, Table};
use ipvs::transport::{MockTransport, Transport};
use ipvs::Client;

use crate::files::{self, Format};
use crate::top::{SortKey, View};

/// Whole IPVS tables as desired state: show, export, diff and apply.
#[derive(Parser, Debug)]
#[command(name = "ipvs", version, about)]
struct Cli {
    /// Work in the network namespace at this path (/run/netns/NAME, /proc/PID/ns/net).
    #[arg(long, global = true, value_name = "PATH")]
    netns: Option<String>,
    /// Work on the in-memory kernel model (empty, or holding FILE's table); also IPVS_MOCK.
    #[arg(long, global = true, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    mock: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// How a plan is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    /// Each command with its reason, and a summary.
    Summary,
    /// ipvsadm commands only.
    Rules,
    /// JSON.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The table with statistics and rates.
    Show {
        /// As JSON (the desired-state schema, with statistics and connection counts).
        #[arg(long)]
        json: bool,
    },
    /// The configuration as a desired-state file (valid input to `apply`).
    Export {
        /// The format.
        #[arg(long, value_enum, default_value = "toml")]
        format: Format,
    },
    /// The plan from the kernel's table to FILE's; exit 0 with nothing to do, 1 with changes.
    Diff {
        #[command(flatten)]
        target: Target,
        /// How to show the plan.
        #[arg(long, value_enum, default_value = "summary")]
        output: Output,
    },
    /// Prepares, checks or undoes a real server for direct routing, tunnelling or NAT.
    Realserver {
        #[command(subcommand)]
        action: crate::realserver::Action,
    },
    /// A live view of services and destinations (connections, rates), like top.
    Top {
        /// Print one frame and exit (for scripts).
        #[arg(long)]
        once: bool,
        /// What to sort by (keys c, p, b, a, n in the view).
        #[arg(long, value_enum, default_value = "cps")]
        sort: SortKey,
        /// Show only services and destinations whose line contains this (key / in the view).
        #[arg(long, default_value = "")]
        filter: String,
        /// Seconds between reads.
        #[arg(long, default_value_t = 1.0, value_parser = interval)]
        interval: f64,
        /// Width of the frame printed by --once.
        #[arg(long, default_value_t = 132)]
        width: u16,
        /// With --mock: invent changing traffic each interval (for demos and tests).
        #[arg(long)]
        mock_traffic: bool,
    },
    /// Applies FILE: exit 0 when the kernel holds it (destinations still draining apart).
    Apply {
        #[command(flatten)]
        target: Target,
        /// Show the plan, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Then wait for draining destinations to be deleted, at most SECS seconds (default:
        /// their longest drain; at most a day).
        #[arg(long, value_name = "SECS", num_args = 0..=1, require_equals = true, default_missing_value = "0",
              value_parser = clap::value_parser!(u64).range(0..=MAX_WAIT_SECS))]
        wait: Option<u64>,
    },
}

/// The desired table and what may be touched.
#[derive(clap::Args, Debug)]
struct Target {
    /// The desired-state file (TOML, JSON or ipvsadm rules; `-` for standard input).
    file: String,
    /// The file's format (default: by its extension, else by its content).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Only services these select: prefix, tcp/udp/sctp, port=N[-M], fwmark=N[-M],
    /// comma-separated; repeat for more. The file's services must be among them.
    #[arg(long, value_name = "SELECTOR")]
    scope: Vec<String>,
    /// Also remove the services in scope (every service without --scope) that FILE does not
    /// name.
    #[arg(long)]
    prune: bool,
}

type Ipvs = Client<Box<dyn Transport>>;

/// The command line as a `clap::Command` (for manual pages and completions).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// The longest `apply --wait=SECS`: a day (a drain longer than that is not waited for by a
/// command; and a deadline must fit the clock).
const MAX_WAIT_SECS: u64 = 86_400;

fn interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.05..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?}: seconds between 0.05 and 3600")),
    }
}

fn connect(cli: &Cli) -> Result<(Ipvs, Option<Arc<MockTransport>>), String> {
    let mock = mock_flag_or_env(cli.mock.as_deref());
    let netns = cli.netns.as_deref().map(std::path::Path::new);
    let opened =
        open_transport(mock.as_deref(), netns, |file| files::read(file, None)).map_err(|e| match (e, &cli.netns) {
            (OpenError::Kernel(e), Some(p)) => format!("{p}: {e}"),
            (e, _) => e.to_string(),
        })?;
    Ok(match opened {
        Opened::Mock(model) => (Client::with_transport(Box::new(model.clone())), Some(model)),
        Opened::Kernel(transport) => (Client::with_transport(transport), None),
    })
}

fn scope(target: &Target, desired: &Table) -> Result<Scope, String> {
    let selectors: Vec<Selector> = target
        .scope
        .iter()
        .map(|s| s.parse::<Selector>().map_err(|e| format!("--scope: {e}")))
        .collect::<Result<_, _>>()?;
    Scope::from_selectors(selectors, target.prune, desired).map_err(|e| e.to_string())
}

fn print_plan(plan: &Plan, output: Output) -> String {
    match output {
        Output::Rules => plan.to_rules(),
        Output::Json => plan.to_json(),
        Output::Summary => {
            let mut out = String::new();
            for s in plan.steps() {
                let line = ipvs::rules::request_line(&s.request, &ipvs::rules::Numeric);
                out.push_str(&format!("{line:<60} # {}\n", s.why));
            }
            for d in plan.draining() {
                out.push_str(&format!(
                    "# draining {} -> {}: {} active, {} inactive connections\n",
                    d.service, d.destination, d.active, d.inactive
                ));
            }
            out.push_str(&format!("plan: {}\n", plan.summary()));
            out
        }
    }
}

fn print_report(r: &ApplyReport) -> String {
    let mut out = String::new();
    for f in &r.failures {
        out.push_str(&format!(
            "failed: {}: {}\n",
            ipvs::rules::request_line(&f.request, &ipvs::rules::Numeric),
            f.error
        ));
    }
    for d in &r.draining {
        out.push_str(&format!(
            "draining {} -> {}: {} active, {} inactive connections\n",
            d.service, d.destination, d.active, d.inactive
        ));
    }
    if !r.converged {
        for s in r.remaining.steps() {
            out.push_str(&format!(
                "still to do: {} # {}\n",
                ipvs::rules::request_line(&s.request, &ipvs::rules::Numeric),
                s.why
            ));
        }
    }
    out.push_str(&format!("applied: {}\n", r.summary()));
    out
}

/// Progress of a long apply, on a terminal only.
fn progress() -> impl FnMut(usize, usize) {
    let tty = std::io::stderr().is_terminal();
    let start = Instant::now();
    move |done, total| {
        if tty && total >= 1000 {
            let _ = write!(
                std::io::stderr(),
                "\rapplying: {done}/{total} requests ({:.1} s)",
                start.elapsed().as_secs_f64()
            );
            if done == total {
                let _ = writeln!(std::io::stderr());
            }
        }
    }
}

fn apply(client: &Ipvs, desired: &Table, scope: &Scope, wait: Option<u64>) -> Result<u8, String> {
    let policy = Policy::default();
    let mut clock = DrainClock::new();
    let plan = client.plan_with_clock(desired, scope, &policy, &mut clock).map_err(|e| e.to_string())?;
    let mut report = client.apply_with_progress(&plan, &mut progress()).map_err(|e| e.to_string())?;
    // What was done must reach the operator: a report that cannot be written is an error.
    let say = |text: String| -> Result<(), String> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| format!("standard output: {e}"))
    };
    say(print_report(&report))?;
    if let Some(secs) = wait {
        let limit = if secs == 0 {
            Policy::DEFAULT_MAX_DRAIN.saturating_add(Duration::from_secs(5))
        } else {
            Duration::from_secs(secs)
        };
        // Time waited against the limit: no deadline is computed, so no limit can overflow the
        // clock (the limit is also at most a day, MAX_WAIT_SECS).
        let start = Instant::now();
        while !report.draining.is_empty() && start.elapsed() < limit {
            std::thread::sleep(Duration::from_secs(1));
            let plan = client.plan_with_clock(desired, scope, &policy, &mut clock).map_err(|e| e.to_string())?;
            if plan.is_empty() && plan.draining().len() == report.draining.len() {
                continue;
            }
            report = client.apply(&plan).map_err(|e| e.to_string())?;
            say(print_report(&report))?;
        }
    }
    Ok(if report.converged && report.failures.is_empty() { 0 } else { 1 })
}

/// Runs the command line; the exit status, or an error (status 2).
pub fn run(args: impl IntoIterator<Item = OsString>) -> Result<u8, String> {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(code);
        }
    };
    if let Command::Realserver { action } = &cli.command {
        let (code, text) = crate::realserver::run(action, cli.netns.as_deref())?;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| format!("standard output: {e}"))?;
        return Ok(code);
    }
    let (client, model) = connect(&cli)?;
    if let Command::Top { once, sort, filter, interval, width, mock_traffic } = &cli.command {
        if *mock_traffic && model.is_none() {
            return Err("--mock-traffic needs --mock (it invents traffic for the in-memory kernel)".into());
        }
        let traffic = model.as_deref().filter(|_| *mock_traffic);
        return top(&client, traffic, *once, *sort, filter, *interval, *width);
    }
    let mut stdout = std::io::stdout().lock();
    let text_and_code = match &cli.command {
        Command::Show { json } => {
            let t = client.table().map_err(|e| e.to_string())?;
            (if *json { t.to_status_json() } else { crate::show::render(&t) }, 0)
        }
        Command::Export { format } => (files::write(&client.table().map_err(|e| e.to_string())?, *format), 0),
        Command::Diff { target, output } => {
            let desired = files::read(&target.file, target.format)?;
            let scope = scope(target, &desired)?;
            let plan = client.plan(&desired, &scope, &Policy::default()).map_err(|e| e.to_string())?;
            (print_plan(&plan, *output), u8::from(!plan.is_empty()))
        }
        Command::Top { .. } | Command::Realserver { .. } => return Err("handled above".into()),
        Command::Apply { target, dry_run, wait } => {
            let desired = files::read(&target.file, target.format)?;
            let scope = scope(target, &desired)?;
            if *dry_run {
                let plan = client.plan(&desired, &scope, &Policy::default()).map_err(|e| e.to_string())?;
                (print_plan(&plan, Output::Summary), 0)
            } else {
                drop(stdout);
                let code = apply(&client, &desired, &scope, *wait)?;
                return Ok(code);
            }
        }
    };
    stdout.write_all(text_and_code.0.as_bytes()).map_err(|e| format!("standard output: {e}"))?;
    stdout.flush().map_err(|e| format!("standard output: {e}"))?;
    Ok(text_and_code.1)
}

fn top(
    client: &Ipvs,
    traffic: Option<&MockTransport>,
    once: bool,
    sort: SortKey,
    filter: &str,
    interval: f64,
    width: u16,
) -> Result<u8, String> {
    let mut tick = 0u64;
    let mut step = || {
        if let Some(mock) = traffic {
            if let Ok(t) = client.table() {
                crate::top::mock_traffic(mock, &t, tick);
            }
            tick += 1;
        }
    };
    step();
    let table = client.table().map_err(|e| e.to_string())?;
    let mut view = View::new(table, sort, filter.to_owned(), Duration::from_secs_f64(interval));
    if once {
        let text = crate::top::frame_text(&mut view, width)?;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| format!("standard output: {e}"))?;
        return Ok(0);
    }
    crate::top::run(view, || client.table().map_err(|e| e.to_string()), step)?;
    Ok(0)
}
