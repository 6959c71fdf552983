#!/usr/bin/env bash
# Runs the Debian packages from a scratch root (as root):
#
#   packaging/deb-check.sh DIR-WITH-DEBS
#
# 1. Unpacks every .deb of DIR into a fresh root (dpkg-deb -x) and adds the shared libraries
#    its programs load (copied from this machine, as a base system would provide them).
# 2. Runs each program from that root (chroot): versions, ipvsadm and ipvs on the in-memory
#    kernel and, where the kernel has IPVS (the lab), on the kernel in a namespace of their
#    own (the drop-in's listing compared with Debian's ipvsadm's), the manual pages render,
#    the bash completions load.
# 3. Starts ipvs-director the way its unit does: ExecStart= of the packaged unit, with the
#    unit's Environment= and its EnvironmentFile (/etc/default/ipvs-director) from the root,
#    systemd's PATH, root with the unit's capability bounding set and no new privileges;
#    then SIGHUP (must log "Reloaded") and SIGTERM (must exit 0). Where the kernel has no
#    IPVS (no /proc/net/ip_vs), `--mock` is added to its command line, and said.
# Ends with "deb-check: N passed, M failed"; exits non-zero if any check failed.
set -euo pipefail
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 DIR-WITH-DEBS" >&2; exit 2; }
debs=("$1"/*.deb)
[ -e "${debs[0]}" ] || { echo "deb-check: no .deb in $1" >&2; exit 2; }
work="$(mktemp -d)"
root="$work/root"
trap 'umount "$root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "deb-check: ok: $*"; }
bad() { failed=$((failed + 1)); echo "deb-check: FAILED: $*"; }
check() { local what="$1"; shift; if "$@" >"$work/check.log" 2>&1; then ok "$what"; else bad "$what"; cat "$work/check.log"; fi; }

mkdir -p "$root"
for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$root"; done
# The libraries the packaged programs load, at the same paths.
for prog in "$root"/usr/sbin/* /usr/bin/setpriv /usr/bin/env; do
  ldd "$prog" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"; cp -nL "$lib" "$root$lib"
  done
done
mkdir -p "$root/usr/bin" "$root/proc" "$root/dev" "$root/tmp"
cp /usr/bin/setpriv /usr/bin/env "$root/usr/bin/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin "$@"; }

check "ipvs --version" in_root ipvs --version
check "ipvs-director --version" in_root ipvs-director --version
check "ipvs-exporter --version" in_root ipvs-exporter --version
check "ipvsadm -v on the in-memory kernel (the drop-in's version line)" sh -c \
  "chroot '$root' /usr/bin/env -i PATH=/usr/sbin:/usr/bin IPVSADM_MOCK=1 ipvsadm -v | grep -q '^ipvsadm v1.31'"
check "ipvsadm -A on the in-memory kernel" in_root IPVSADM_MOCK=1 ipvsadm -A -t 192.0.2.1:80 -s rr
check "ipvs show on the in-memory kernel" in_root IPVS_MOCK=1 ipvs show
check "ipvs-director --check-config of the shipped file" \
  in_root ipvs-director --config /etc/ipvs-director/director.toml --check-config
if [ -e /proc/net/ip_vs ]; then
  # On the kernel (the lab), in a namespace of its own: the drop-in and ipvs from the root
  # write and read the kernel's table, and the drop-in's listing is Debian's ipvsadm's.
  ns="deb-check-$$"
  ip netns add "$ns"
  # With lo up the namespace has its local routing table: without one the kernel takes
  # every address for a broadcast one and refuses real servers (EINVAL).
  ip -n "$ns" link set lo up
  in_ns() { ip netns exec "$ns" chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin "$@"; }
  debians() { ip netns exec "$ns" /usr/sbin/ipvsadm "$@"; }
  kernel_add() { in_ns ipvsadm -A -t 203.0.113.7:80 -s wrr && in_ns ipvsadm -a -t 203.0.113.7:80 -r 198.51.100.7:80 -m -w 3; }
  kernel_list() { [ "$(in_ns ipvsadm -Ln)" = "$(debians -Ln)" ] && debians -Ln | grep -q '198.51.100.7:80 *Masq *3'; }
  kernel_show() { in_ns ipvs show | grep -q '203.0.113.7:80'; }
  kernel_clear() { in_ns ipvsadm -C && [ -z "$(debians -Sn)" ]; }
  check "ipvsadm -A, -a on the kernel" kernel_add
  check "ipvsadm -Ln from the root is Debian's ipvsadm -Ln" kernel_list
  check "ipvs show on the kernel" kernel_show
  check "ipvsadm -C on the kernel" kernel_clear
  ip netns delete "$ns"
fi
for page in "$root"/usr/share/man/man*/*.gz; do
  check "man $(basename "$page")" sh -c "MANWIDTH=80 man -l '$page' | grep -q ."
done
for comp in "$root"/usr/share/bash-completion/completions/*; do
  name="$(basename "$comp")"
  check "bash completion of $name" bash -c "source '$comp' && complete -p '$name'"
done

# The director, as its unit starts it.
unit="$root/usr/lib/systemd/system/ipvs-director.service"
env_vars=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
while IFS= read -r line; do  # Environment="NAME=VALUE" lines
  line="${line#Environment=}"; line="${line#\"}"; env_vars+=("${line%\"}")
done < <(grep '^Environment=' "$unit")
envfile="$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$unit")"
while IFS= read -r line; do  # NAME=VALUE or NAME="VALUE" lines of the EnvironmentFile
  value="${line#*=}"; value="${value#\"}"; env_vars+=("${line%%=*}=${value%\"}")
done < <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$root$envfile")
command=()
read -ra words < <(sed -n 's/^ExecStart=//p' "$unit")
for word in "${words[@]}"; do  # $NAME: its value split at blanks
  if [[ $word == \$* ]]; then
    name="${word#\$}" value=""
    for kv in "${env_vars[@]}"; do [[ $kv == "$name="* ]] && value="${kv#*=}"; done
    # shellcheck disable=SC2206  # the split is the point: systemd splits $NAME the same way
    command+=(${value:-})
  else
    command+=("$word")
  fi
done
if [ ! -e /proc/net/ip_vs ]; then
  echo "deb-check: this kernel has no IPVS: the director runs with --mock added"
  command+=(--mock)
fi
caps="$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')"
echo "deb-check: director: env -i ${env_vars[*]} setpriv --bounding-set -all,$caps --no-new-privs ${command[*]}"
mount -t proc proc "$root/proc" || echo "deb-check: cannot mount /proc in the root; the director runs without it"
log="$root/tmp/director.log"
chroot "$root" /usr/bin/env -i "${env_vars[@]}" \
  setpriv --bounding-set "-all,$caps" --inh-caps -all --no-new-privs -- "${command[@]}" >"$log" 2>&1 &
pid=$!
wait_for() {  # wait_for TEXT: until the log has TEXT (10 s at most)
  for _ in $(seq 100); do grep -q "$1" "$log" && return 0; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  return 1
}
check "director started (serving /metrics and /status)" wait_for "serving /metrics and /status"
check "director answers /status" python3 -c \
  'import json, urllib.request; json.load(urllib.request.urlopen("http://127.0.0.1:9745/status", timeout=5))'
kill -HUP "$pid"
check "director reloaded on SIGHUP" wait_for "Reloaded"
kill -TERM "$pid"
status=0; wait "$pid" || status=$?
check "director stopped on SIGTERM with status 0 (status $status)" test "$status" -eq 0
check "director said it stopped" grep -q "Stopped" "$log"
[ "$failed" -eq 0 ] || cat "$log"
echo "deb-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
