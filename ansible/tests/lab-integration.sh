#!/usr/bin/env bash
# The collection ipvs.ipvs on the real kernel, as root, in a fresh network namespace this
# script makes (ip netns add) and removes: ipvs_table (first run changes, second does not,
# check mode writes nothing: the kernel's table read before and after) and ipvs_realserver
# (prepare, prepare again unchanged, check ready, undo), through their netns option.
#
#   sudo bash ansible/tests/lab-integration.sh
#   LAB_PARTS=realserver sudo bash ansible/tests/lab-integration.sh   # a kernel without IPVS
#
# Needs what mock-integration.sh needs, root, iproute2, and for the table part the ip_vs
# module. Addresses are documentation ones only (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32).
# Prints one line per check and `N passed, M failed` last; exits 1 if any failed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "ansible: lab-integration.sh needs root" >&2; exit 2; }
ipvs_bin="$(program ipvs "${IPVS_BIN:-}")"
parts="${LAB_PARTS:-table realserver}"
ns="ansible-lab-$$"
netns="/run/netns/$ns"
# The table's namespace, with lo up: without a local routing table the kernel takes every
# address for a broadcast one and refuses real servers (EINVAL). The real-server part keeps
# a namespace as fresh as it comes (lo down is one of the things prepare puts right).
table_ns="ansible-lab-table-$$"
work="$(mktemp -d)"
cleanup() {
  ip netns delete "$ns" 2>/dev/null || true
  ip netns delete "$table_ns" 2>/dev/null || true
  rm -f "/run/ipvs-realserver/netns-$ns.json"
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns add "$table_ns"
ip -n "$table_ns" link set lo up
started=$(date +%s)

if [[ " $parts " == *" table "* ]]; then
  if ! "$python" -c 'import ipvs, sys; ipvs.Client(netns=sys.argv[1]).services()' "/run/netns/$table_ns" 2>"$work/ipvs.err"; then
    echo "ansible: FAIL: no IPVS in a namespace of this kernel: $(cat "$work/ipvs.err")" >&2
    echo "ansible: (modprobe ip_vs, or LAB_PARTS=realserver to test only ipvs_realserver)" >&2
    exit 1
  fi
  playbook "$here/lab-table.yml" -e "netns=/run/netns/$table_ns"
  check "table: first run changed with 7 writes" 'r["first"]["changed"] and r["first"]["writes"] == 7 and r["first"]["converged"]'
  check "table: second identical run not changed, 0 writes" 'not r["second"]["changed"] and r["second"]["writes"] == 0'
  check "table: check mode changed, 0 writes, the planned step" 'r["checked"]["changed"] and r["checked"]["writes"] == 0 and r["checked"]["steps"] == ["-a -t 192.0.2.10:80 -r 198.51.100.13:80 -m -w 1"]'
  check "table: check mode wrote nothing to the kernel" 'r["before_check"]["stdout"] == r["after_check"]["stdout"] and "198.51.100.13" not in r["after_check"]["stdout"]'
  check "table: diff mode shows the rules lines" 'r["checked"]["diff"]["prepared"] == "-a -t 192.0.2.10:80 -r 198.51.100.13:80 -m -w 1\n"'
  check "table: apply writes the step" 'r["applied"]["changed"] and r["applied"]["writes"] == 1 and "-a -t 192.0.2.10:80 -r 198.51.100.13:80 -m -w 1" in r["final"]["stdout"]'
  check "table: content in TOML adds a service" 'r["from_toml"]["changed"] and r["from_toml"]["writes"] == 2'
  check "table: prune removes the unlisted service" 'r["pruned"]["steps"] == ["-D -t 192.0.2.20:443"] and "192.0.2.20" not in r["final"]["stdout"]'
  check "table: thresholds and IPv6 in the kernel" '"-x 1000 -y 800" in r["final"]["stdout"] and "[2001:db8::10]:443" in r["final"]["stdout"]'
fi

if [[ " $parts " == *" realserver "* ]]; then
  playbook "$here/lab-realserver.yml" -e "netns=$netns" -e "ipvs_bin=$ipvs_bin"
  check "realserver: check mode would change, changed nothing" 'r["dry"]["changed"] and "add 192.0.2.100/32 to lo" in r["dry"]["changes"] and r["check_before"]["failed"]'
  check "realserver: not ready before prepare" 'r["check_before"]["ready"] is False and {"vip_missing", "link_down"} <= {p["kind"] for p in r["check_before"]["problems"]}'
  check "realserver: a failed prepare fails with the command's error" 'r["bad_dev"]["failed"] and r["bad_dev"]["msg"] == "prepare failed: no interface nosuch0" and not r["bad_dev"]["changed"]'
  check "realserver: prepare changed, each change listed" 'r["prepared"]["changed"] and "added 192.0.2.100/32 to lo" in r["prepared"]["changes"] and "added 2001:db8::100/128 to lo" in r["prepared"]["changes"]'
  check "realserver: prepare again not changed" 'not r["prepared_again"]["changed"] and r["prepared_again"]["changes"] == []'
  check "realserver: check ready after prepare" 'not r["check_after"]["failed"] and r["check_after"]["ready"] and r["check_after"]["problems"] == []'
  check "realserver: only the namespace changed" '"192.0.2.100" not in r["own_lo"]["stdout"]'
  check "realserver: undo in check mode sees the record" 'r["absent_dry"]["changed"] and "netns-'"$ns"'.json" in r["absent_dry"]["notes"][0]'
  check "realserver: undo changed, puts each back" 'r["absent"]["changed"] and "removed 192.0.2.100/32 from lo" in r["absent"]["changes"]'
  check "realserver: undo again not changed" 'not r["absent_again"]["changed"] and r["absent_again"]["notes"][0].startswith("nothing recorded")'
  check "realserver: not ready after undo" 'r["check_undone"]["failed"] and r["check_undone"]["ready"] is False'
fi
echo "ansible: lab integration took $(( $(date +%s) - started ))s"
finish
