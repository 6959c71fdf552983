"""Adds 10,000 services x 4 destinations to the in-memory kernel model from Python, and the
same from Rust (examples' mock-add-bench), side by side; prints both and the ratio.

    python3 ipvs-py/bench/bench_add.py [PATH-TO-mock-add-bench] [SERVICES] [ROUNDS]
"""

from __future__ import annotations

import subprocess
import sys
import time

import ipvs


def workload(services: int) -> list:
    """The model objects, built before the clock starts (as the Rust side builds its values
    inline, what is timed is the calls)."""
    work = []
    for i in range(services):
        svc = ipvs.Service(protocol="tcp", address=f"192.0.2.{i % 250 + 1}", port=1000 + i // 250, scheduler="wrr")
        dests = [ipvs.Destination(address=f"198.51.100.{d}", port=80, forward="nat", weight=d) for d in range(1, 5)]
        work.append((svc, dests))
    return work


def python_run(services: int) -> float:
    """One call per service and per destination."""
    client, work = ipvs.Client.mock(), workload(services)
    start = time.perf_counter()
    for svc, dests in work:
        client.add_service(svc)
        for d in dests:
            client.add_destination(svc, d)
    return time.perf_counter() - start


def python_list_run(services: int) -> float:
    """Each service's destinations in one add_destinations call."""
    client, work = ipvs.Client.mock(), workload(services)
    start = time.perf_counter()
    for svc, dests in work:
        client.add_service(svc)
        client.add_destinations(svc, dests)
    return time.perf_counter() - start


def main() -> None:
    exe = sys.argv[1] if len(sys.argv) > 1 else "target/release/mock-add-bench"
    services = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    # Rounds alternate between the two sides so that both see the same machine; the best
    # round of each counts.
    rust, py, py_list = float("inf"), float("inf"), float("inf")
    for _ in range(rounds):
        out = subprocess.run([exe, str(services), "1"], check=True, capture_output=True, text=True).stdout
        rust = min(rust, float(out))
        py = min(py, python_run(services))
        py_list = min(py_list, python_list_run(services))
    print(f"{services} services x 4 destinations on the mock, best of {rounds}:")
    print(f"  rust   {rust:.3f} s")
    print(f"  python {py:.3f} s  (one call per destination)")
    print(f"  python {py_list:.3f} s  (add_destinations: one call per service)")
    print(f"  ratio  {py / rust:.2f}x per call, {py_list / rust:.2f}x with add_destinations")


if __name__ == "__main__":
    main()
