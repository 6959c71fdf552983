#!/usr/bin/env bash
# Runs inside the lab guest for ./demo.sh: the three parts of the story, one after the other,
# then every check they made with its result.
#
#   lab/run.sh bash lab/demo-guest.sh BINDIR    # BINDIR: where cargo put the lab programs
set -uo pipefail
bin="${1:?usage: demo-guest.sh BINDIR}"
log="$(mktemp)"
rc=0
run() {  # title, then the command
  local title="$1"; shift
  printf '\n################ %s\n' "$title"
  "$@" 2>&1 | tee -a "$log"
  local r=${PIPESTATUS[0]}
  [ "$r" -eq 0 ] || rc=1
}
run "1/3 the seed scenario: NAT, direct routing and IPIP; rr, wrr, a drain" "$bin/seed-scenario"
run "2/3 desired state: the ipvs command" "$bin/desired-state-scenario"
run "3/3 health checks and failover: ipvs-director on two directors" \
  env IPVS_VRRP_SECTIONS=story "$bin/vrrp-scenario" "$bin/ipvs-director"

printf '\n################ summary\n'
grep -E '^ *\[(ok|FAILED)\] ' "$log" | sed 's/^ */  /'
ok=$(grep -cE '^ *\[ok\] ' "$log")
bad=$(grep -cE '^ *\[FAILED\] ' "$log")
echo "demo: $ok checks passed, $bad failed"
[ "$bad" -eq 0 ] && [ "$rc" -eq 0 ]
