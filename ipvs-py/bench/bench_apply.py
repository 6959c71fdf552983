"""Applies a desired table of 10,000 services x 4 destinations onto an empty in-memory kernel
model from Python (`client.apply(table)`: the plan, the pipelined writes and the verification
read), and the same from Rust (examples' mock-apply-bench), side by side; prints both and the
ratio. Without the Rust program it prints the Python figure alone, and the line to pair with
one.

    python3 ipvs-py/bench/bench_apply.py [PATH-TO-mock-apply-bench] [SERVICES] [ROUNDS]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import ipvs


def desired(services: int) -> ipvs.Table:
    """The table, built before the clock starts (as the Rust side builds its table before
    timing): the services and destinations of bench_add.py."""
    t = ipvs.Table()
    for i in range(services):
        svc = ipvs.Service(protocol="tcp", address=f"192.0.2.{i % 250 + 1}", port=1000 + i // 250, scheduler="wrr")
        dests = [ipvs.Destination(address=f"198.51.100.{d}", port=80, forward="nat", weight=d) for d in range(1, 5)]
        t.add_service(svc, dests)
    return t


def python_run(table: ipvs.Table) -> float:
    """One apply onto an empty model; checked to have written everything and converged."""
    client = ipvs.Client.mock()
    start = time.perf_counter()
    report = client.apply(table)
    elapsed = time.perf_counter() - start
    want = len(table) + table.destination_count
    if report.writes != want or not report.converged or report.failures:
        raise SystemExit(f"apply did not converge: {report.summary} (expected {want} writes)")
    return elapsed


def main() -> None:
    exe = sys.argv[1] if len(sys.argv) > 1 else "target/release/mock-apply-bench"
    services = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    start = time.perf_counter()
    table = desired(services)
    build = time.perf_counter() - start
    have_rust = os.access(exe, os.X_OK)
    # Rounds alternate between the two sides so that both see the same machine; the best
    # round of each counts. Each Rust run does 2 rounds in its process, the first warming its
    # heap (40,000 entries are allocated and freed per round) as the Python process's is.
    rust, py = float("inf"), float("inf")
    for _ in range(rounds):
        if have_rust:
            out = subprocess.run([exe, str(services), "2"], check=True, capture_output=True, text=True).stdout
            rust = min(rust, float(out))
        py = min(py, python_run(table))
    print(f"{services} services x 4 destinations applied onto an empty mock, best of {rounds}:")
    if have_rust:
        print(f"  rust   {rust:.3f} s")
    print(f"  python {py:.3f} s  (client.apply(table): plan, writes, verification)")
    print(f"  (building the table from Python, untimed above: {build:.3f} s)")
    if have_rust:
        print(f"  ratio  {py / rust:.2f}x")
    else:
        print(f"  rust   {exe} not found: pair with its figure for {services} services")
        print(f"python-apply-seconds {services} {py:.6f}")


if __name__ == "__main__":
    main()
