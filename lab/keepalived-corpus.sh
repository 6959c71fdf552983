#!/usr/bin/env bash
# The keepalived.conf corpus side by side (issue 22): for each file of lab/keepalived-corpus/,
# in a throwaway network namespace holding an interface for each interface name the file uses
# (one end of a veth pair, both ends up: a link with carrier that does multicast, as the
# interfaces of a real director do; a dummy link does not do multicast, and keepalived then
# disables each VRRP instance on it with a warning of its own), keepalived's own config test
# (`keepalived -t -l -f FILE`) and ours (`ipvs-director --check-config --keepalived FILE`), as
# many files at once as there are cores. Needs root and veth links (./test.sh runs it on the host when the host can make
# them, in the lab guest otherwise: keepalived's parse does not depend on the kernel).
#
#   lab/keepalived-corpus.sh PATH-TO-ipvs-director [FILE...]
#
# What each said is compared by lab/keepalived-corpus-compare.py (which starts, which accepts
# the file without a word, the lines each warns at; its header says how), which prints a line
# per file that differs and the three `corpus:` totals. Exits 0 unless ours crashed or hung
# (past 20 s) on a file: the figures are the goal's measurement, not a pass/fail (the
# differences listed are issue 22's work list). keepalived's own config test hangs on some
# files: killed after 20 s, it counts as not starting, and the line says so.
set -uo pipefail
director="${1:?usage: keepalived-corpus.sh PATH-TO-ipvs-director [FILE...]}"; shift
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -gt 0 ] || set -- "$here"/keepalived-corpus/*.conf
command -v keepalived >/dev/null || { echo "corpus: no keepalived"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The interface names a file uses: `interface X`, `dev X` (addresses, routes), the entries of
# track_interface blocks, lvs_sync_daemon's interface. Names a link cannot have (an alias
# with ':', longer than 15 bytes) are left out.
interfaces() {
  awk '
    /track_interface[ \t]*\{/ { inblock = 1; next }
    inblock && /\}/ { inblock = 0; next }
    inblock { print $1; next }
    { for (i = 1; i < NF; i++) if ($i == "interface" || $i == "dev" || $i == "lvs_sync_daemon") print $(i + 1) }
  ' "$1" | tr -d '"\r' | grep -E '^[A-Za-z0-9_.@-]{1,15}$' | grep -vE '^(lo|weight)$' | sort -u
}

# One file (number $2): both programs in a namespace of its own; their outputs in
# $work/N.k and $work/N.o, their exit statuses in $work/N.rc.
run_one() {
  local f="$1" n="$2" ns="corpus$$-$2" i k o peer=0
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  for i in $(interfaces "$f"); do
    peer=$((peer + 1))
    ip -n "$ns" link add "$i" type veth peer name "kcp$peer" 2>/dev/null &&
      ip -n "$ns" link set "kcp$peer" up && ip -n "$ns" link set "$i" up
  done
  ip netns exec "$ns" timeout -k 5 20 keepalived -t -l -f "$f" > "$work/$n.k" 2>&1
  k=$?
  ip netns exec "$ns" timeout -k 5 20 "$director" --check-config --keepalived "$f" > "$work/$n.o" 2>&1
  o=$?
  ip netns del "$ns"
  echo "$k $o" > "$work/$n.rc"
}

# As many files at once as there are cores (each program runs on one).
n=0 running=0
for f in "$@"; do
  n=$((n + 1))
  if [ "$running" -ge "$(nproc)" ]; then
    wait -n; running=$((running - 1))
  fi
  run_one "$f" "$n" &
  running=$((running + 1))
done
wait

python3 "$here/keepalived-corpus-compare.py" "$work" "$@"
