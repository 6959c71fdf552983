//! The fuzz targets' bodies, one function per target. Each takes arbitrary bytes and must
//! never panic; where an input is accepted, what it means must survive a round trip.
//!
//! `fuzz_targets/` wraps each in libFuzzer (`cargo fuzz run NAME`, or the nightly build in
//! `test.sh`); `tests/replay.rs` runs every corpus and regression input through them on the
//! stable toolchain, as ordinary tests.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "other-targets")]
use ipvs::transport::MockTransport;
#[cfg(feature = "other-targets")]
use ipvs::wire::{frame, IpvsCmd, IpvsMessage};
#[cfg(feature = "other-targets")]
use ipvs::Family;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The targets by name, for the replay test: all of them, or `vrrp_advert` alone without the
/// `other-targets` feature.
pub const TARGETS: &[(&str, Target)] = &[
    #[cfg(feature = "other-targets")]
    ("frame_decoder", frame_decoder),
    #[cfg(feature = "other-targets")]
    ("reply_decoders", reply_decoders),
    #[cfg(feature = "other-targets")]
    ("rule_parser", rule_parser),
    #[cfg(feature = "other-targets")]
    ("ipvsadm_args", ipvsadm_args),
    ("vrrp_advert", vrrp_advert),
    #[cfg(feature = "other-targets")]
    ("keepalived_conf", keepalived_conf),
    #[cfg(feature = "other-targets")]
    ("desired_state_file", desired_state_file),
];

/// A desired-state file, as TOML and as JSON: what reads is written back in both formats
/// and reads back as the same table.
#[cfg(feature = "other-targets")]
pub fn desired_state_file(data: &[u8]) {
    use ipvs::state::Table;
    let Ok(text) = std::str::from_utf8(data) else { return };
    for table in [Table::from_toml(text), Table::from_json(text)].into_iter().flatten() {
        let toml = table.to_toml();
        assert_eq!(Table::from_toml(&toml).expect("written TOML reads back"), table, "{toml}");
        let json = table.to_json();
        assert_eq!(Table::from_json(&json).expect("written JSON reads back"), table, "{json}");
    }
}

/// A VRRP advertisement as received: parsed as v2 and v3, over IPv4 and IPv6, and fed to
/// running instances (`ipvs_vrrp::fuzz_advert`); what parses survives emit and parse again.
pub fn vrrp_advert(data: &[u8]) {
    ipvs_vrrp::fuzz_advert(data);
}

/// keepalived.conf text: read and converted (errors name their line), and what reads is
/// written as the native configuration and read back to the same configuration.
#[cfg(feature = "other-targets")]
pub fn keepalived_conf(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = ipvs_director::keepalived::read_str(text, "fuzz.conf") else { return };
    let native = config.to_toml();
    let again = ipvs_director::config::Config::from_toml(&native).expect("a converted configuration reads back");
    assert_eq!(again, config, "a configuration changed through the native file");
}

#[cfg(feature = "other-targets")]
fn decode_everything(m: &IpvsMessage) {
    let _ = m.to_service_status();
    let _ = m.to_destination_status(Family::Inet);
    let _ = m.to_destination_status(Family::Inet6);
    let _ = m.to_daemon();
    let _ = m.to_info();
    let _ = m.to_timeouts();
}

/// A received datagram: every frame type the decoder tells apart. What decodes is read into
/// the model, and encoded again (which may refuse, never panic); what encodes decodes to
/// the same message.
#[cfg(feature = "other-targets")]
pub fn frame_decoder(data: &[u8]) {
    let Ok(frames) = frame::decode_all(data) else { return };
    for f in frames {
        let Some(m) = f.message() else { continue };
        decode_everything(m);
        let mut out = Vec::new();
        if frame::encode(m, f.msg_type, f.seq, f.flags, &mut out).is_ok() {
            let again = frame::decode_all(&out).expect("an encoded message decodes");
            assert_eq!(again[0].message(), Some(m), "a message changed through encode and decode");
        }
    }
}

/// A message body as each command's reply: attribute parsing and every conversion into the
/// model.
#[cfg(feature = "other-targets")]
pub fn reply_decoders(data: &[u8]) {
    let Some((&cmd, body)) = data.split_first() else { return };
    if let Ok(m) = IpvsMessage::parse_body(IpvsCmd::from_number(cmd % 20), body) {
        decode_everything(&m);
    }
}

/// Rule text: parsed into requests; each accepted line's request renders back to a rule line
/// that parses to the same request.
#[cfg(feature = "other-targets")]
pub fn rule_parser(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let Ok(Some(r)) = ipvs::rules::parse_line(line) else { continue };
        let rendered = match &r {
            ipvs::Request::AddService(s) => ipvs::rules::service_line(s, &ipvs::rules::Numeric),
            ipvs::Request::AddDestination { service, destination } => {
                ipvs::rules::destination_line(service, destination, &ipvs::rules::Numeric)
            }
            _ => continue,
        };
        let back = ipvs::rules::parse_line(&rendered).expect("a rendered rule parses").expect("a rule");
        match (&r, &back) {
            // The saved format leaves out what ipvsadm does not save: thresholds, and the
            // netmask of a service that is not persistent.
            (ipvs::Request::AddService(a), ipvs::Request::AddService(b)) => {
                assert_eq!(a.id, b.id);
                assert_eq!(a.scheduler, b.scheduler);
                assert_eq!(a.persistence_timeout(), b.persistence_timeout());
            }
            (
                ipvs::Request::AddDestination { destination: a, .. },
                ipvs::Request::AddDestination { destination: b, .. },
            ) => {
                assert_eq!((a.addr, a.port, a.forward, a.weight), (b.addr, b.port, b.forward, b.weight));
            }
            _ => panic!("{line:?} became {rendered:?}"),
        }
    }
}

/// An ipvsadm command line (words split at NUL bytes, the first byte choosing whether it
/// also reads rules from the rest): parsed and run against the mock kernel.
#[cfg(feature = "other-targets")]
pub fn ipvsadm_args(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (args, stdin) = match rest.iter().position(|b| *b == 0xff) {
        Some(i) if mode & 1 == 1 => (&rest[..i], &rest[i + 1..]),
        _ => (rest, &[][..]),
    };
    let mut argv = vec!["ipvsadm".to_string()];
    argv.extend(args.split(|b| *b == 0).map(|w| String::from_utf8_lossy(w).into_owned()));
    let kernel = MockTransport::new();
    let out = ipvsadm_compat::run(&kernel, &argv, &mut &stdin[..], &ipvsadm_compat::NoNames);
    assert!(matches!(out.code, 0 | 1 | 2 | 255), "{argv:?}: {out:?}");
}
