#!/usr/bin/env bash
# Fuzzes every target for a bounded time with libFuzzer, where a nightly toolchain is present
# (coverage instrumentation needs it; no cargo-fuzz install needed: the build flags are the
# ones cargo-fuzz uses). Seeds from corpus/ and regressions/; new corpus entries go to a
# scratch copy. Prints the executions of each target; a crash is saved under
# target/fuzz/crashes/ and fails the run (check it in under regressions/<target>/ once fixed).
#
#   bash fuzz/run.sh [SECONDS-PER-TARGET]     (default 30)
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
targets=(frame_decoder reply_decoders rule_parser ipvsadm_args vrrp_advert keepalived_conf desired_state_file)
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain here; corpora and regressions were replayed by the tests only"
  exit 0
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="$PWD/target/fuzz"
# The workspace's release profile (fat LTO, one codegen unit, debug info) is for the
# benchmarks' figures; fuzzing needs none of it, and with it each of the seven binaries links
# the whole graph with fat LTO (minutes each on 2 cores).
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# vrrp_advert is built on its own without the default features: it depends on ipvs-vrrp
# alone, not on the director (tokio, hyper, rustls).
bins=(); for t in "${targets[@]}"; do [ "$t" = vrrp_advert ] || bins+=(--bin "$t"); done
if ! rustup run nightly cargo build --quiet --release -p ipvs-fuzz --features libfuzzer "${bins[@]}" --target "$triple" \
  || ! rustup run nightly cargo build --quiet --release -p ipvs-fuzz --no-default-features --features libfuzzer \
    --bin vrrp_advert --target "$triple"; then
  echo "fuzz: FAILED to build the fuzz targets"; exit 1
fi
crashes="$CARGO_TARGET_DIR/crashes"; mkdir -p "$crashes"
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
# One target: its seeds copied to scratch, fuzzed for $secs, its line of result in
# $results/NAME (and status 1 if it crashed).
fuzz_one() {
  local t="$1" work log rc runs
  work="$(mktemp -d)"
  cp fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
  log="$(mktemp)"
  local seeds=("$work"); [ -d "fuzz/regressions/$t" ] && seeds+=("fuzz/regressions/$t")
  timeout -k 10 $((secs + 60)) "$CARGO_TARGET_DIR/$triple/release/$t" "${seeds[@]}" \
    -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$crashes/$t-" >"$log" 2>&1
  rc=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  if [ "$rc" -ne 0 ]; then
    { echo "fuzz $t: CRASH after ${runs:-?} executions:"; grep -E "panicked|deadly|Test unit written" -A 3 "$log" | head -20; } > "$results/$t"
  else
    echo "fuzz $t: ${runs:-?} executions in ${secs} s, no crash" > "$results/$t"
  fi
  rm -rf "$work" "$log"
  return $(( rc != 0 ))
}
# libFuzzer runs a target on one thread: as many targets at once as there are cores (each
# still gets its $secs), and the results printed in the targets' order.
jobs_at_once="$(nproc)"
failed=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs_at_once" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
for t in "${targets[@]}"; do
  cat "$results/$t" 2>/dev/null || { echo "fuzz $t: no result"; failed=1; }
done
exit "$failed"
