#!/usr/bin/env bash
# Every test of the project, on a fresh machine (root, Rust toolchain, Python 3.11):
#   1. installs what is missing (lab/setup.sh: apt packages, the cached lab kernel),
#   2. formatting, clippy, then the unit, property, mock-scenario, fault-injection, fuzz-replay
#      and doc tests on the host, the Python tests, the status page in headless chromium
#      (lab/browser-check.sh), the Ansible collection (ansible-test sanity, its modules on
#      the mock), the keepalived.conf corpus beside keepalived -t (in network namespaces; in
#      the lab when the host cannot make them), then bounded fuzzing (nightly toolchain),
#   3. boots the real-kernel lab once and runs there, as root: the scenario suite against the
#      kernel, the kernel-only tests, the Python tests, the seed scenario with real traffic,
#      the desired-state scenario, the ipvsadm tool compared byte for byte with the real
#      ipvsadm, and the desired-state benchmark (ours, ipvsadm and the floors side by side).
# Exits non-zero if anything fails; kernel tests are counted and none may be skipped.
set -euo pipefail
cd "$(dirname "$0")"
started=$(date +%s)
step() { printf '\n##### %s\n' "$*"; }

step "setup"
bash lab/setup.sh >/dev/null

step "format and lint"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings

step "host tests (mock transport, no root needed)"
host_log="$(mktemp)"
cargo test --workspace 2>&1 | tee "$host_log"
host_passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$host_log" | awk '{s+=$1} END {print s+0}')

step "python bindings (mock)"
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r ipvs-py/requirements-dev.txt
# The bindings built as the benchmark programs below are (thin LTO, parallel code generation):
# the release profile's fat LTO is for package.sh's wheel; here it only costs time.
CARGO_PROFILE_RELEASE_LTO=thin CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0 \
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore ./ipvs-py
py_log="$(mktemp)"
(cd ipvs-py && python3 -m pytest -q -p no:cacheprovider tests) 2>&1 | tee "$py_log"
(cd ipvs-py && python3 -m mypy --strict --no-incremental tests python/ipvs)
# The stubs must describe the native module exactly: stubtest fails on any difference.
(cd ipvs-py && python3 -m mypy.stubtest ipvs)
python3 -c 'import doctest, sys, ipvs; r = doctest.testmod(ipvs); print("python doctests:", r); sys.exit(1 if r.failed or not r.attempted else 0)'
py_passed=$(grep -oE '[0-9]+ passed' "$py_log" | tail -n1 | cut -d' ' -f1)
host_passed=$((host_passed + ${py_passed:-0}))

# The programs (the lab's and the browser check's director): the same compilation as the
# tests' (the dev and test profiles are one), so this links more than it compiles.
cargo build --workspace --bins

step "status page in a browser (headless chromium: lab/browser-check.sh)"
browser_log="$(mktemp)"
bash lab/browser-check.sh "$PWD/target/debug/ipvs-director" 2>&1 | tee "$browser_log"
browser_passed=$(sed -n 's/^browser-check: \([0-9]*\) passed.*/\1/p' "$browser_log")
host_passed=$((host_passed + ${browser_passed:-0}))

step "Ansible collection: ansible-test sanity, the modules and role on the mock"
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r ansible/requirements.txt
bash ansible/tests/sanity.sh
ansible_log="$(mktemp)"
IPVS_BIN="$PWD/target/debug/ipvs" IPVS_DIRECTOR_BIN="$PWD/target/debug/ipvs-director" \
  bash ansible/tests/mock-integration.sh 2>&1 | tee "$ansible_log"
ansible_passed=$(sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p' "$ansible_log")
host_passed=$((host_passed + ${ansible_passed:-0}))

step "keepalived.conf corpus: keepalived -t and ours side by side (lab/keepalived-corpus.sh)"
# Each file in a network namespace of its own with veth links for the interfaces it names: on
# the host when it can make them (seconds, against minutes under the lab's emulation), in the
# lab guest otherwise (then it is one of the lab's suites).
corpus_log="$(mktemp)"
corpus_in_lab=0
if ip netns add "ipvs-corpus-probe-$$" 2>/dev/null &&
    ip -n "ipvs-corpus-probe-$$" link add probe0 type veth peer name probe1 2>/dev/null; then
  ip netns del "ipvs-corpus-probe-$$"
  bash lab/keepalived-corpus.sh "$PWD/target/debug/ipvs-director" 2>&1 | tee "$corpus_log"
  host_passed=$((host_passed + 1))
else
  ip netns del "ipvs-corpus-probe-$$" 2>/dev/null || true
  corpus_in_lab=1
  echo "this host cannot make network namespaces with veth links: the corpus runs in the lab"
fi

step "fuzzing (bounded; where a nightly toolchain is present)"
fuzz_log="$(mktemp)"
bash fuzz/run.sh "${IPVS_FUZZ_SECONDS:-15}" 2>&1 | tee "$fuzz_log"
fuzz_rc=${PIPESTATUS[0]}

step "benchmark: Python bindings vs Rust on the mock (figures, not a pass/fail)"
# The benchmark programs with thin LTO and parallel code generation: minutes less to build on
# 2 cores than the release profile's fat LTO (kept for `cargo bench`), for figures that are
# mostly the kernel's.
export CARGO_PROFILE_RELEASE_LTO=thin CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0
cargo build --release --quiet -p ipvs-lab-tools -p ipvsadm -p ipvs-exporter -p ipvs-director
python3 ipvs-py/bench/bench_add.py target/release/mock-add-bench 10000 7 | tee target/bench-python.txt
python3 ipvs-py/bench/bench_apply.py target/release/mock-apply-bench 10000 5 | tee target/bench-python-apply.txt
target/release/director-reload-bench 3 | tee target/bench-director-reload.txt

step "build the lab's programs"
mkdir -p target/lab
# The independent C probe of the kernel's write floor (state-bench checks its floor against it).
gcc -O2 -Wall -Wextra -Werror -o target/lab/floor-probe lab/floor-probe.c
cargo test --workspace --no-run --message-format=json 2>/dev/null > target/lab/artifacts.json
exe() {  # the test executable of integration-test target $1
  python3 - "$1" <<'PY'
import json, sys
for line in open("target/lab/artifacts.json"):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == sys.argv[1] \
            and "test" in m["target"]["kind"]:
        print(m["executable"]); break
PY
}
list=target/lab/tests.list
{
  echo "scenarios $(exe scenarios) --test-threads 2"
  echo "kernel $(exe kernel) --include-ignored --test-threads 1"
  # The interpreter the bindings were installed into, by its real path (not a pyenv shim).
  echo "python env PYTHONDONTWRITEBYTECODE=1 $(python3 -c 'import sys; print(sys.executable)') -m pytest -q -p no:cacheprovider ipvs-py/tests"
  # The desired-state properties on the kernel, with fewer cases than on the mock.
  echo "state env IPVS_PROPTEST_CASES=0.05 $(exe state) --test-threads 2"
  # Real servers: each misconfiguration named by check, and traffic after prepare (one at a
  # time: a test unloads ipip, another flips a global tunnel setting).
  echo "realserver-checks $(exe kernel_checks) --include-ignored --test-threads 1"
  echo "realserver-traffic $(exe kernel_traffic) --include-ignored --test-threads 1"
  # Our keepalived.conf reader against keepalived's own config test (keepalived -t).
  echo "keepalived-config $(exe keepalived_cross_check) --include-ignored"
  # lvs_sync_daemon naming no instance: the kernel's sync daemons under keepalived and ours.
  echo "sync-daemon bash $PWD/lab/sync-daemon-compare.sh $PWD/target/debug/ipvs-director"
  # The real-world keepalived.conf corpus, when the host could not run it (above).
  [ "$corpus_in_lab" = 0 ] ||
    echo "keepalived-corpus bash $PWD/lab/keepalived-corpus.sh $PWD/target/release/ipvs-director"
  echo "seed-scenario $PWD/target/debug/seed-scenario"
  echo "desired-state $PWD/target/debug/desired-state-scenario"
  echo "monitoring $PWD/target/debug/monitoring-scenario $PWD/target/debug/ipvs-exporter"
  # The director beside the real keepalived on the same keepalived.conf files.
  echo "director $PWD/target/debug/director-scenario $PWD/target/debug/ipvs-director"
  # VRRP failover between two directors (takeover times beside keepalived's), connection
  # sync, keepalived as the peer (v2 and v3), malformed adverts.
  echo "vrrp $PWD/target/debug/vrrp-scenario $PWD/target/debug/ipvs-director"
  echo "ipvsadm-compare bash $PWD/lab/ipvsadm-compare.sh $PWD/target/debug/ipvsadm"
  echo "director-bench $PWD/target/release/director-bench $PWD/target/release/ipvs-director 15"
  # Figures side by side with ipvsadm and the floors (it also checks every table it makes).
  # Last: the kernel tears its namespaces down after it, which would load a suite after it.
  echo "state-bench env IPVS_FLOOR_PROBE=$PWD/target/lab/floor-probe $PWD/target/release/state-bench $PWD/target/release/ipvsadm 10000,20000"
} > "$list"
cat "$list"

step "real-kernel lab"
lab_log="$(mktemp)"
set +e
IPVS_LAB_TIMEOUT="${IPVS_LAB_TIMEOUT:-3000}" bash lab/run.sh bash lab/guest-tests.sh "$list" 2>&1 | tee "$lab_log"
lab_rc=${PIPESTATUS[0]}
set -e
summary="$(grep -E '^lab: [0-9]+ passed' "$lab_log" | tail -n1 || true)"

step "summary"
echo "host: $host_passed passed, 0 failed"
echo "${summary:-lab: did not report (the guest failed to boot or run)}"
echo "python vs rust, 10,000 services x 4 destinations on the mock: add one by one $(sed -n 's/ *ratio *//p' target/bench-python.txt); apply $(sed -n 's/ *ratio *//p' target/bench-python-apply.txt)"
cat target/bench-director-reload.txt
grep -E '^bench ' "$lab_log" || true
grep -hE '^corpus: ' "$corpus_log" "$lab_log" || true
grep -E '^fuzz' "$fuzz_log" || true
echo "time: $(( $(date +%s) - started ))s"
# Last, so that the summary's tail (all a CI page may show) names what failed: the lab's count
# again, each suite that failed or was stopped, and each fuzz target that crashed.
echo "${summary:-lab: did not report (the guest failed to boot or run)}"
# (Each failed suite with the last lines it printed before its count.)
awk '/^--- .*: [0-9]+ passed, [1-9][0-9]* failed/ {
       sub(/^--- /, "lab suite failed: "); print
       for (i = n - 4; i < n; i++) if (i >= 0) print "    " substr(last[i % 4], 1, 200)
     }
     { last[n % 4] = $0; n++ }' "$lab_log" || true
grep -E '^=== .*: still running after' "$lab_log" | sed 's/^=== /lab suite stopped: /' || true
grep -E '^fuzz .*: (CRASH|no result)' "$fuzz_log" || true
if [ "$lab_rc" -ne 0 ] || [ -z "$summary" ] || [ "$fuzz_rc" -ne 0 ]; then
  echo "FAILED (lab exit $lab_rc, fuzzing exit $fuzz_rc)"; exit 1
fi
echo "ALL PASSED"
