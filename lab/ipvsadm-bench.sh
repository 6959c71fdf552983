#!/usr/bin/env bash
# Runs inside the lab guest: restores SERVICES services x 4 destinations with the real ipvsadm
# and with ours, each in its own fresh namespace, then lists each table with -Sn; prints the
# times side by side and checks that both saved tables are the same. A figure, not a limit.
#
#   lab/run.sh bash lab/ipvsadm-bench.sh OUR-IPVSADM [SERVICES]
set -euo pipefail
ours="$1"; services="${2:-10000}"
rules="$(mktemp)"
awk -v n="$services" 'BEGIN {
  for (i = 0; i < n; i++) {
    vip = sprintf("192.0.2.%d:%d", i % 250 + 1, 1000 + int(i / 250))
    printf "-A -t %s -s wrr\n", vip
    for (d = 1; d <= 4; d++) printf "-a -t %s -r 198.51.100.%d:80 -m -w %d\n", vip, d, d
  }
}' > "$rules"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
declare -A restore save
for side in ipvsadm ours; do
  ns="bench-$side"
  ip netns add "$ns"; ip -n "$ns" link set lo up
  if [ "$side" = ipvsadm ]; then tool=(ipvsadm); else tool=(bash -c 'exec -a ipvsadm "$0" "$@"' "$ours"); fi
  t0=$(now); ip netns exec "$ns" "${tool[@]}" -R < "$rules"; t1=$(now)
  ip netns exec "$ns" "${tool[@]}" -Sn > "/tmp/saved-$side"; t2=$(now)
  restore[$side]=$(secs "$t0" "$t1"); save[$side]=$(secs "$t1" "$t2")
  ip netns del "$ns"
done
lines=$(wc -l < "$rules")
echo "restore of $services services x 4 destinations ($lines lines): ipvsadm ${restore[ipvsadm]} s, ours ${restore[ours]} s"
echo "full -Sn listing of it:                               ipvsadm ${save[ipvsadm]} s, ours ${save[ours]} s"
cmp -s /tmp/saved-ipvsadm /tmp/saved-ours && echo "saved tables identical ($(wc -l < /tmp/saved-ours) lines)" \
  || { echo "saved tables DIFFER"; diff /tmp/saved-ipvsadm /tmp/saved-ours | head; exit 1; }
