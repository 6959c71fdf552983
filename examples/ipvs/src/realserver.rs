//! `ipvs realserver prepare|check|undo`: a host made ready to be a real server for direct
//! routing, tunnelling or NAT (the `ipvs_realserver` library; see docs/real-servers.md).

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use ipvs_realserver::{ArpCure, Method, Network, Request, ServicePort, Tunnel};

/// What to do.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// Makes the host ready (idempotent); prints each change, records the previous values.
    Prepare {
        #[command(flatten)]
        host: Host,
        /// Print what would change, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Prints each problem with its fix; exit 0 when ready, 1 when not, 2 on an error.
    Check {
        #[command(flatten)]
        host: Host,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Puts back exactly what prepare changed (from its record).
    Undo {
        /// The record prepare kept (default: /run/ipvs-realserver/, per namespace).
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
    },
}

/// The forwarding method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Direct routing.
    Dr,
    /// Tunnelling.
    Tun,
    /// NAT (masquerading).
    Nat,
}

/// The tunnel encapsulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TunnelArg {
    /// IP in IP.
    Ipip,
    /// Generic UDP encapsulation (needs --tun-port).
    Gue,
    /// GRE.
    Gre,
}

/// How a DR or TUN real server keeps from answering ARP for its VIPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArpArg {
    /// arp_ignore=1 and arp_announce=2.
    Sysctl,
    /// nftables arp rules: drop ARP requests for the VIPs, rewrite them as sender address.
    Arptables,
    /// No VIP on the host; nftables nat rules redirect each VIP and --port to it (DR only).
    Redirect,
}

/// What the host serves and how.
#[derive(Args, Debug)]
pub struct Host {
    /// A virtual IP this host serves (repeat for more).
    #[arg(long = "vip", value_name = "ADDR", required = true)]
    vips: Vec<IpAddr>,
    /// How the director forwards to this host.
    #[arg(long, value_enum)]
    method: MethodArg,
    /// The encapsulation, for --method tun.
    #[arg(long, value_enum, default_value = "ipip")]
    tunnel: TunnelArg,
    /// The UDP port of GUE encapsulation.
    #[arg(long, value_name = "PORT")]
    tun_port: Option<u16>,
    /// The interface facing the clients (ARP settings go there; default: `all`).
    #[arg(long, value_name = "IFACE")]
    dev: Option<String>,
    /// The director's address (NAT: replies must go back through it).
    #[arg(long, value_name = "ADDR")]
    director: Option<IpAddr>,
    /// A client network whose route must go through the director (NAT; default: the default route).
    #[arg(long = "client", value_name = "NET")]
    clients: Vec<String>,
    /// The record of what prepare changed (default: /run/ipvs-realserver/, per namespace).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// DR and TUN: how the host keeps from answering ARP for the VIPs.
    #[arg(long, value_enum, default_value = "sysctl")]
    arp: ArpArg,
    /// A service port the director forwards (repeat for more; --arp redirect needs them).
    #[arg(long = "port", value_name = "PORT")]
    ports: Vec<u16>,
    /// The protocol of the --port ports: tcp, udp or sctp.
    #[arg(long, value_name = "PROTO", default_value = "tcp")]
    protocol: String,
}

fn request(host: &Host, netns: Option<&str>) -> Result<Request, String> {
    let method = match host.method {
        MethodArg::Dr => Method::Dr,
        MethodArg::Nat => Method::Nat,
        MethodArg::Tun => Method::Tun(match (host.tunnel, host.tun_port) {
            (TunnelArg::Ipip, None) => Tunnel::Ipip,
            (TunnelArg::Gre, None) => Tunnel::Gre,
            (TunnelArg::Gue, Some(port)) => Tunnel::Gue { port },
            (TunnelArg::Gue, None) => return Err("--tunnel gue needs --tun-port".into()),
            (_, Some(_)) => return Err("--tun-port is for --tunnel gue".into()),
        }),
    };
    let mut r = Request::new(method);
    for v in &host.vips {
        r = r.vip(*v);
    }
    if let Some(d) = &host.dev {
        r = r.dev(d.clone());
    }
    if let Some(d) = host.director {
        r = r.director(d);
    }
    for c in &host.clients {
        r = r.client_network(c.parse::<Network>().map_err(|e| format!("--client {c}: {e}"))?);
    }
    if let Some(ns) = netns {
        r = r.netns(ns);
    }
    r = r.arp(match host.arp {
        ArpArg::Sysctl => ArpCure::Sysctl,
        ArpArg::Arptables => ArpCure::Arptables,
        ArpArg::Redirect => ArpCure::Redirect,
    });
    for port in &host.ports {
        let service = format!("{}:{port}", host.protocol.to_ascii_lowercase());
        r = r.service(service.parse::<ServicePort>().map_err(|e| format!("--protocol {}: {e}", host.protocol))?);
    }
    r.validate().map_err(|e| e.to_string())?;
    Ok(r)
}

fn state_file(given: &Option<PathBuf>, netns: Option<&str>) -> PathBuf {
    given.clone().unwrap_or_else(|| ipvs_realserver::state_path(netns.map(std::path::Path::new)))
}

/// Runs an action: (exit status, what to print).
pub fn run(action: &Action, netns: Option<&str>) -> Result<(u8, String), String> {
    match action {
        Action::Check { host, json } => {
            let problems = ipvs_realserver::check(&request(host, netns)?).map_err(|e| e.to_string())?;
            let text = if *json {
                serde_json::to_string_pretty(&problems).map_err(|e| e.to_string())? + "\n"
            } else {
                problems.iter().map(|p| format!("{p}\n")).collect()
            };
            Ok((u8::from(!problems.is_empty()), text))
        }
        Action::Prepare { host, dry_run: true } => {
            let plan = ipvs_realserver::plan(&request(host, netns)?).map_err(|e| e.to_string())?;
            Ok((0, plan.steps.iter().map(|s| format!("would: {s}\n")).collect()))
        }
        Action::Prepare { host, dry_run: false } => {
            let req = request(host, netns)?;
            match ipvs_realserver::prepare_recorded(&req, &state_file(&host.state, netns)) {
                Ok(report) => Ok((0, report.to_string())),
                Err(f) => {
                    let done: String = f.done.iter().map(|c| format!("{c}\n")).collect();
                    Err(format!("{done}prepare failed: {}", f.error))
                }
            }
        }
        Action::Undo { state } => match ipvs_realserver::undo_recorded(&state_file(state, netns)) {
            Ok(report) => Ok((0, report.to_string())),
            Err(f) => {
                let done: String = f.done.iter().map(|c| format!("{}\n", c.undo_text())).collect();
                Err(format!("{done}undo failed: {}", f.error))
            }
        },
    }
}
