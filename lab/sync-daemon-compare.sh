#!/usr/bin/env bash
# keepalived's `lvs_sync_daemon IFNAME` naming no VRRP instance, beside ours (issue 22): each
# in turn runs from the same keepalived.conf for 4 s in a network namespace of its own, and
# the IPVS sync daemons the kernel runs are read with ipvsadm -L --daemon while it runs and
# after SIGTERM. keepalived 2.2.7 runs the master and the backup daemon (sync id 0) from its
# start to its stop; ours must leave the kernel in the same states. Needs root and IPVS (the
# lab guest).
#
#   lab/sync-daemon-compare.sh PATH-TO-ipvs-director
set -uo pipefail
director="${1:?usage: sync-daemon-compare.sh PATH-TO-ipvs-director}"
[ -n "${IPVS_SYNCD_NS:-}" ] || exec env IPVS_SYNCD_NS=1 unshare -n bash "$0" "$@"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/keepalived.conf" <<'CONF'
global_defs {
    lvs_sync_daemon eth0
}
virtual_server 192.0.2.10 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    real_server 198.51.100.11 80 {
    }
}
CONF
ip link set lo up
ip link add eth0 type veth peer name syncd-peer && ip link set syncd-peer up && ip link set eth0 up &&
  ip addr add 198.51.100.1/24 dev eth0 || { echo "sync-daemon: cannot make eth0"; exit 1; }
for who in keepalived ours; do
  if [ "$who" = keepalived ]; then
    keepalived -n -l -D -f "$work/keepalived.conf" -p "$work/k.pid" -r "$work/v.pid" -c "$work/c.pid" > "$work/$who.log" 2>&1 &
  else
    "$director" --keepalived "$work/keepalived.conf" --no-listen > "$work/$who.log" 2>&1 &
  fi
  pid=$!
  sleep 4
  ipvsadm -L --daemon > "$work/$who.running"
  kill -TERM "$pid"
  timeout 10 tail --pid="$pid" -f /dev/null
  ipvsadm -L --daemon > "$work/$who.after"
  echo "$who while running: $(tr '\n' ';' < "$work/$who.running")"
  echo "$who after SIGTERM: [$(tr '\n' ';' < "$work/$who.after")]"
  ipvsadm -C
done
fail=0
[ -s "$work/ours.running" ] && cmp -s "$work/keepalived.running" "$work/ours.running" ||
  { echo "sync-daemon: the daemons differ while running"; fail=1; }
cmp -s "$work/keepalived.after" "$work/ours.after" || { echo "sync-daemon: the daemons differ after SIGTERM"; fail=1; }
[ "$fail" = 0 ] && echo "sync-daemon: the same daemons as keepalived's, while running and after SIGTERM" ||
  sed 's/^/    ours: /' "$work/ours.log" | tail -20
exit "$fail"
