//! The `ipvs-exporter` daemon (being written).
#![forbid(unsafe_code)]

fn main() {
    eprintln!("ipvs-exporter: not yet");
    std::process::exit(2);
}
