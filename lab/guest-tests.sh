#!/usr/bin/env bash
# Runs inside the lab guest (as root, real IPVS kernel): every kernel-facing test suite,
# then the seed scenario. Prints one tally line per suite and a final line
#   lab: N passed, M failed, 0 skipped
# and exits non-zero if anything failed or did not run.
#
#   lab/run.sh bash lab/guest-tests.sh LIST   # LIST: lines "NAME PROGRAM [ARG...]"
set -uo pipefail
list="${1:?usage: guest-tests.sh LIST}"
export IPVS_TEST_TARGET=kernel RUST_BACKTRACE=1
passed=0 failed=0 skipped=0
log="$(mktemp)"

# Each suite runs in a session of its own, for at most IPVS_SUITE_LIMIT seconds (default
# 1200): past that, what the guest is doing is printed (load, the busiest and blocked
# processes with their kernel stacks, the newest logs under /tmp) and the suite is killed and
# counted as failed. No wait in the lab is unbounded.
limit="${IPVS_SUITE_LIMIT:-1200}"
memory() {  # what is left: available memory, and what /tmp (a tmpfs) holds
  echo "$(awk '/MemAvailable/ {printf "%d MB available", $2 / 1024}' /proc/meminfo), /tmp $(du -smx /tmp 2>/dev/null | cut -f1) MB"
}
leftovers() {  # processes a suite left running (not this script, its callers or kernel threads)
  ps -eo pid=,ppid=,comm= | awk -v me="$$" -v up="$PPID" '
    $1 > 2 && $2 != 2 && $1 != me && $1 != up && $2 != me && $3 != "ps" && $3 != "awk" {printf " %s(%s)", $3, $1}'
}
diagnose() {
  echo "load: $(cat /proc/loadavg); memory: $(memory)"
  ps -eo pid,ppid,stat,pcpu,etime,wchan:28,args --sort=-pcpu | cut -c1-200 | head -25
  for p in $(ps -eo pid= --sort=-pcpu | head -4) $(ps -eo pid=,stat= | awk '$2 ~ /^D/ {print $1}'); do
    [ -d "/proc/$p" ] || continue
    echo "--- pid $p: $(tr '\0' ' ' < "/proc/$p/cmdline" | cut -c1-150)"
    for t in /proc/"$p"/task/*; do
      echo "  thread ${t##*/} ($(cat "$t/comm" 2>/dev/null)) in $(cat "$t/wchan" 2>/dev/null)"
      sed 's/^/    /' "$t/stack" 2>/dev/null | head -12
    done
  done
  find /tmp -name '*.log' -mmin -20 -type f 2>/dev/null | xargs -r ls -t | head -4 | while read -r f; do
    echo "--- last lines of $f"; tail -n 15 "$f"
  done
}

while read -r name prog args; do
  [ -n "$name" ] && [ "${name#\#}" = "$name" ] || continue
  echo "=== $name"
  start=$(date +%s)
  # shellcheck disable=SC2086
  setsid -w bash -c 'set -o pipefail; "$@" 2>&1 | tee "$0"' "$log" "$prog" $args &
  pid=$!
  ( sleep "$limit"
    if kill -0 "$pid" 2>/dev/null; then
      echo "=== $name: still running after ${limit} s; what the guest is doing:"
      diagnose
      kill -TERM -- "-$pid"; sleep 10; kill -KILL -- "-$pid"
    fi ) 2>/dev/null &
  dog=$!
  wait "$pid"
  rc=$?
  pkill -P "$dog" sleep 2>/dev/null; kill "$dog" 2>/dev/null; wait "$dog" 2>/dev/null
  secs=$(( $(date +%s) - start ))
  # libtest suites report "N passed; M failed; K ignored"; other programs count as one test.
  if grep -q '^test result:' "$log"; then
    p=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\2/p' "$log" | awk '{s+=$1} END {print s+0}')
    i=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\3/p' "$log" | awk '{s+=$1} END {print s+0}')
  elif grep -qE '^(=+ )?[0-9]+ (passed|failed)' "$log"; then
    # pytest's summary line: "8 passed, 1 skipped in 0.1s" / "1 failed, 7 passed in ..."
    line=$(grep -E '^(=+ )?[0-9]+ (passed|failed)' "$log" | tail -n1)
    p=$(echo "$line" | grep -oE '[0-9]+ passed' | cut -d' ' -f1); p=${p:-0}
    f=$(echo "$line" | grep -oE '[0-9]+ (failed|errors?)' | cut -d' ' -f1 | awk '{s+=$1} END {print s+0}')
    i=$(echo "$line" | grep -oE '[0-9]+ skipped' | cut -d' ' -f1); i=${i:-0}
  else
    p=$(( rc == 0 )); f=$(( rc != 0 )); i=0
  fi
  # A suite that exits non-zero without reporting a failure still failed.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  echo "--- $name: $p passed, $f failed, $i skipped (${secs}s; $(memory); load $(cut -d' ' -f1-3 /proc/loadavg))"
  left="$(leftovers)"
  [ -z "$left" ] || echo "    left running:$left"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + i))
done < "$list"

echo "lab: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$passed" -gt 0 ]
