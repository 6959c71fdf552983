//! The `ipvs-director` daemon (being written).
#![forbid(unsafe_code)]

fn main() {
    eprintln!("ipvs-director: not yet");
    std::process::exit(2);
}
