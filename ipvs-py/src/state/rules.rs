//! `Client.save()` and `Client.restore()`: the kernel's table as `ipvsadm -Sn` prints it,
//! and ipvsadm rule lines applied as `ipvsadm -R` does.

use ipvs::rules::{parse, render};
use ipvs::transport::Transport;
use ipvs::{Client, Destination, Error, Request, Service};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::error_for;

/// Requests per pipelined batch when restoring.
const BATCH: usize = 4096;
/// How many failed lines an error lists.
const LISTED: usize = 10;

/// The kernel's services and destinations as the rule lines `ipvsadm -Sn` prints, in its
/// order (no timeouts, no thresholds: ipvsadm saves neither). Read as `Client::table` reads
/// (the dump-consistency proof, the destinations' dumps pipelined where the client does).
pub fn save<T: Transport>(c: &Client<T>) -> Result<String, Error> {
    let t = c.table()?;
    let table: Vec<(&Service, Vec<Destination>)> =
        t.entries().map(|e| (e.service(), e.destinations().map(|d| d.destination.clone()).collect())).collect();
    Ok(render(table.iter().map(|(s, d)| (*s, d.as_slice()))))
}

/// Rule lines to restore: the line numbers and the requests, each parsed and checked as the
/// client would before sending. A bad line is a ValueError naming it (`line 3: ...`), and
/// then nothing is sent.
pub fn restore_requests(text: &str) -> PyResult<(Vec<usize>, Vec<Request>)> {
    let parsed = parse(text).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let mut lines = Vec::with_capacity(parsed.len());
    let mut requests = Vec::with_capacity(parsed.len());
    for (line, r) in parsed {
        r.validate().map_err(|e| PyValueError::new_err(format!("line {line}: {e}")))?;
        lines.push(line);
        requests.push(r);
    }
    Ok((lines, requests))
}

/// Lines that failed: one line and the kernel's answer to it, or (`first` < `last`) a whole
/// batch the socket failed.
pub struct LineFailure {
    first: usize,
    last: usize,
    error: Error,
}

/// Sends the requests in pipelined batches, in order: how many took effect, and the lines
/// that failed. A batch failing as a whole (a socket error, a timeout) stops there.
pub fn send_rules<T: Transport>(c: &Client<T>, lines: &[usize], requests: &[Request]) -> (usize, Vec<LineFailure>) {
    let (mut writes, mut failed) = (0, Vec::new());
    for (ls, rs) in lines.chunks(BATCH).zip(requests.chunks(BATCH)) {
        match c.batch(rs) {
            Ok(outcomes) => {
                for (line, o) in ls.iter().zip(outcomes) {
                    match o {
                        Ok(()) => writes += 1,
                        Err(error) => failed.push(LineFailure { first: *line, last: *line, error }),
                    }
                }
            }
            Err(error) => {
                let (first, last) = (ls.first().copied().unwrap_or(0), ls.last().copied().unwrap_or(0));
                failed.push(LineFailure { first, last, error });
                break;
            }
        }
    }
    (writes, failed)
}

/// The exception for failed lines: the first one's (an `IpvsError`), its message naming its
/// line, and the other failed lines.
pub fn restore_error(py: Python<'_>, failed: &[LineFailure]) -> Option<PyErr> {
    let first = failed.first()?;
    let mut prefix = if first.first == first.last {
        format!("line {}", first.first)
    } else {
        format!("lines {}-{}", first.first, first.last)
    };
    if failed.len() > 1 {
        let listed: Vec<String> = failed.iter().take(LISTED).map(|f| f.first.to_string()).collect();
        let more = if failed.len() > LISTED { ", ..." } else { "" };
        prefix.push_str(&format!(" ({} lines failed: {}{more})", failed.len(), listed.join(", ")));
    }
    prefix.push_str(": ");
    Some(error_for(py, &first.error, &prefix))
}
