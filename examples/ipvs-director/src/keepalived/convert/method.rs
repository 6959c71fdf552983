//! The forwarding methods of `lvs_method` (virtual servers, their real and sorry servers).

use ipvs::{Forward, Tunnel, TunnelFlags};

use super::super::args::{parse_uint, Ctx};
use super::super::tree::Node;

/// `lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`
/// (check_parser.c `svr_forwarding_handler`; the method's name is case-sensitive).
pub(super) fn method(n: &Node, ctx: &mut Ctx) -> Option<Forward> {
    if n.args().is_empty() {
        ctx.err(n, "needs NAT, DR or TUN");
        return None;
    }
    if !ctx.no_block(n) {
        return None;
    }
    let extra = n.args().get(1..).unwrap_or_default();
    match n.arg(0).unwrap_or_default() {
        "NAT" | "DR" if !extra.is_empty() => {
            ctx.err(n, "NAT and DR take no options");
            None
        }
        "NAT" => Some(Forward::Masquerade),
        "DR" => Some(Forward::DirectRoute),
        "TUN" => {
            let (mut kind, mut port, mut flags) = ("ipip", 0u16, TunnelFlags::empty());
            let mut i = 0;
            while let Some(opt) = extra.get(i) {
                match opt.as_str() {
                    "type" => match extra.get(i + 1).map(String::as_str) {
                        Some(t @ ("ipip" | "gue" | "gre")) => {
                            kind = t;
                            i += 1;
                        }
                        other => {
                            ctx.err(n, format!("unknown tunnel type {:?} (ipip, gue or gre)", other.unwrap_or("")));
                            return None;
                        }
                    },
                    "port" => match extra.get(i + 1).and_then(|p| parse_uint(p)).filter(|p| (1..=65_535).contains(p)) {
                        Some(p) => {
                            port = p as u16;
                            i += 1;
                        }
                        None => {
                            ctx.err(n, "a tunnel port must be in 1..=65535");
                            return None;
                        }
                    },
                    "nocsum" => flags = TunnelFlags::empty(),
                    "csum" => flags = TunnelFlags::CSUM,
                    "remcsum" => flags = TunnelFlags::REMCSUM,
                    other => {
                        ctx.err(n, format!("unknown tunnel option {other:?}"));
                        return None;
                    }
                }
                i += 1;
            }
            if (kind == "gue") != (port != 0) {
                ctx.err(n, "a gue tunnel needs a port, and only gue takes one");
                return None;
            }
            match Tunnel::from_name(kind, port, flags) {
                Ok(Tunnel::Gre { flags }) if flags.contains(TunnelFlags::REMCSUM) => {
                    ctx.err(n, "a gre tunnel has no remote checksum offload");
                    None
                }
                Ok(t) => Some(Forward::Tunnel(t)),
                Err(e) => {
                    ctx.err(n, e.reason);
                    None
                }
            }
        }
        // keepalived 2.2.7: "PARSER : unknown [nat] routing method for virtual server." and
        // the method stays unset (the virtual server's, else NAT).
        other => {
            ctx.warn(
                n,
                format!("unknown method {other:?} (NAT, DR or TUN, in capitals): ignored, as keepalived ignores it"),
            );
            None
        }
    }
}
