//! `ipvsadm`: a drop-in for ipvsadm 1.31 on the ipvs library (see the `ipvsadm_compat`
//! library of this crate).
//!
//! Runs against the kernel in the current network namespace; with `IPVSADM_MOCK=1` against
//! the in-memory model (for trying it without root). Arguments are bytes (see
//! `ipvsadm_compat::bytes`): messages echo them as ipvsadm does. Output that cannot be
//! written (a full disk, a closed pipe) is an error: a message on stderr and status 1.
#![forbid(unsafe_code)]

use std::io::Write;

use ipvs::transport::{MockTransport, NetlinkTransport};
use std::os::unix::ffi::OsStrExt;

use ipvsadm_compat::{bytes, error_text, run, FileNames, Output};

fn main() {
    let argv: Vec<String> = std::env::args_os().map(|a| bytes::decode(a.as_bytes())).collect();
    let program = argv.first().cloned().unwrap_or_else(|| "ipvsadm".into());
    let names = FileNames::system();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let out: Output = if std::env::var_os("IPVSADM_MOCK").is_some() {
        run(&MockTransport::new(), &argv, &mut input, &names)
    } else {
        match NetlinkTransport::open() {
            Ok(kernel) => run(&kernel, &argv, &mut input, &names),
            Err(e) => Output {
                stdout: String::new(),
                stderr: format!(
                    "Can't initialize ipvs: {}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
                    error_text(ipvs::Operation::Connect, e.errno())
                ),
                code: 2,
            },
        }
    };
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_all(&bytes::encode(&out.stdout)).and_then(|_| stdout.flush());
    let _ = std::io::stderr().write_all(&bytes::encode(&out.stderr));
    if let Err(e) = written {
        let text = e.raw_os_error().map_or_else(|| e.to_string(), |n| ipvs::Errno(n).description());
        let _ = std::io::stderr().write_all(&bytes::encode(&format!("{program}: write error: {text}\n")));
        std::process::exit(if out.code == 0 { 1 } else { out.code });
    }
    std::process::exit(out.code);
}
