//! `ipvsadm`: a drop-in for ipvsadm 1.31 on the ipvs library (see `ipvs::ipvsadm`).
//!
//! Runs against the kernel in the current network namespace; with `IPVSADM_MOCK=1` against
//! the in-memory model (for trying it without root).

use std::io::Write;

use ipvs::ipvsadm::{run, FileNames, Output};
use ipvs::Client;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let names = FileNames::system();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let out: Output = if std::env::var_os("IPVSADM_MOCK").is_some() {
        run(&Client::mock(), &argv, &mut input, &names)
    } else {
        match Client::new() {
            Ok(client) => run(&client, &argv, &mut input, &names),
            Err(e) => Output {
                stdout: String::new(),
                stderr: format!(
                    "Can't initialize ipvs: {}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
                    ipvs::ipvsadm::error_text(e.operation(), e.errno().unwrap_or(ipvs::Errno::ENOPROTOOPT))
                ),
                code: 2,
            },
        }
    };
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    std::process::exit(out.code);
}
