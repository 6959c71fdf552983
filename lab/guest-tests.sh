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

while read -r name prog args; do
  [ -n "$name" ] && [ "${name#\#}" = "$name" ] || continue
  echo "=== $name"
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$prog" $args 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
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
  echo "--- $name: $p passed, $f failed, $i skipped (${secs}s)"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + i))
done < "$list"

echo "lab: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$passed" -gt 0 ]
