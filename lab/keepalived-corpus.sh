#!/usr/bin/env bash
# The keepalived.conf corpus side by side (issue 22): for each file of lab/keepalived-corpus/,
# in a throwaway network namespace holding an interface for each interface name the file uses
# (one end of a veth pair, both ends up: a link with carrier that does multicast, as the
# interfaces of a real director do; a dummy link does not do multicast, and keepalived then
# disables each VRRP instance on it with a warning of its own), keepalived's own config test (`keepalived -t -l -f FILE`) and ours
# (`ipvs-director --check-config --keepalived FILE`), as many files at once as there are
# cores. Needs root and veth links (./test.sh runs it on the host when the host can make
# them, in the lab guest otherwise: keepalived's parse does not depend on the kernel).
#
#   lab/keepalived-corpus.sh PATH-TO-ipvs-director [FILE...]
#
# keepalived "starts" on a file when `-t` exits 0, 5 or 6 (0: nothing to say; 5 and 6: it
# reported problems it falls back from and runs), and "accepts it without a word" when it
# exits 0 and prints nothing; ours starts when --check-config exits 0, and accepts without a
# word when it also prints no warning. Warnings are compared by line: each line keepalived
# names, "(FILE: Line N)" or "(Line N)", against the lines ours names, "FILE:N: warning:",
# leaving out ours' "accepted without effect" (keywords for what the director does not do,
# such as e-mail alerts: ours says so where keepalived is silent; counted apart).
# Prints one line per file that differs, then the totals:
#   corpus: N files; keepalived starts on K, ours on O (on every file keepalived starts on: X)
#   corpus: accepted without a word: keepalived A, ours B
#   corpus: warnings at the same lines on W of the K files keepalived starts on (...)
# Exits 0: the figures are the goal's measurement, not a pass/fail (the differences listed
# are issue 22's work list); a file that makes ours crash or hang (past 20 s) is a failure.
# keepalived's own config test hangs on some files: killed after 20 s, it counts as not
# starting, and the line says so.
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
  ' "$1" | tr -d '"' | grep -E '^[A-Za-z0-9_.@-]{1,15}$' | grep -vE '^(lo|weight)$' | sort -u
}

# The lines a program's output names: keepalived's "(FILE: Line N)" / "(Line N)", ours'
# "FILE:N: warning:".
keepalived_lines() { sed -nE 's/^\(([^)]*: )?Line ([0-9]+)\).*/\2/p' "$1" | sort -un; }
our_lines() { grep -v ': accepted without effect: ' "$1" | sed -nE 's/^[^ ]*:([0-9]+): warning: .*/\1/p' | sort -un; }

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

no_effect=0 no_effect_files=0 files=0 k_starts=0 o_starts=0 o_covers=0 k_quiet=0 o_quiet=0 same_lines=0 broken=0
n=0
for f in "$@"; do
  name="$(basename "$f")"
  files=$((files + 1)); n=$((n + 1))
  kout="$work/$n.k" oout="$work/$n.o"
  read -r k o < "$work/$n.rc"
  if [ "$o" -ge 124 ]; then
    echo "corpus $name: ours CRASHED OR HUNG (exit $o; keepalived exit $k)"; sed 's/^/    /' "$oout" | head -5
    broken=$((broken + 1)); continue
  fi
  [ "$k" -lt 124 ] || echo "corpus $name: keepalived's config test hung or crashed (exit $k): counted as not starting"
  case "$k" in 0|5|6) k_run=1 ;; *) k_run=0 ;; esac
  o_run=$(( o == 0 ))
  k_silent=$(( k == 0 && ! $(wc -c < "$kout") ))
  o_silent=$(( o == 0 && ! $(grep -c ': warning: ' "$oout") ))
  k_starts=$((k_starts + k_run)); o_starts=$((o_starts + o_run))
  k_quiet=$((k_quiet + k_silent)); o_quiet=$((o_quiet + o_silent))
  [ "$k_run" = 1 ] && [ "$o_run" = 1 ] && o_covers=$((o_covers + 1))
  notes="$(grep -c ': accepted without effect: ' "$oout")"
  no_effect=$((no_effect + notes)); [ "$notes" -eq 0 ] || no_effect_files=$((no_effect_files + 1))
  kl="$(keepalived_lines "$kout" | tr '\n' ' ')"; ol="$(our_lines "$oout" | tr '\n' ' ')"
  if [ "$k_run" = 1 ] && [ "$o_run" = 1 ] && [ "$kl" = "$ol" ]; then
    same_lines=$((same_lines + 1)); continue
  fi
  if [ "$k_run" != "$o_run" ]; then
    echo "corpus $name: keepalived $( [ "$k_run" = 1 ] && echo starts || echo refuses) (exit $k), ours $( [ "$o_run" = 1 ] && echo starts || echo refuses) (exit $o)"
  else
    echo "corpus $name: warnings at other lines: keepalived at [${kl% }], ours at [${ol% }]"
  fi
  # What each said, at most 6 lines each (keepalived's unnumbered lines too).
  grep -v '^$' "$kout" | head -6 | sed 's/^/    keepalived: /'
  grep -v -e '^configuration valid' -e ': accepted without effect: ' "$oout" | head -6 | sed "s|^$f|    ours: $name|"
done
echo "corpus: $files files; keepalived starts on $k_starts, ours on $o_starts (on every file keepalived starts on: $o_covers of $k_starts)"
echo "corpus: accepted without a word: keepalived $k_quiet, ours $o_quiet"
echo "corpus: warnings at the same lines on $same_lines of the $k_starts files keepalived starts on (besides ours' $no_effect notes of keywords without effect here, in $no_effect_files files)"
[ "$broken" -eq 0 ]
