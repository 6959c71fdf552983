#!/usr/bin/env bash
# Run a command as root inside the real-kernel lab guest and return its exit status.
#
#   lab/run.sh [--] COMMAND [ARG...]
#
# What the command writes into $IPVS_LAB_OUT (a folder the guest can write) is copied to
# $IPVS_LAB_OUT_DIR (default target/lab-out under the working directory) afterwards.
#
# The guest sees the host's root filesystem read-only (so host-built binaries,
# python3 and ipvsadm run there), a fresh /tmp and /run, and no network card.
# Environment variables named IPVS_* and RUST_* are passed through; the working
# directory is kept.
set -euo pipefail
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "usage: lab/run.sh COMMAND [ARG...]" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
cache="$("$here/setup.sh")"

share="$(mktemp -d /tmp/ipvs-lab-run.XXXXXX)"
trap 'rm -rf "$share"' EXIT
{
  echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  echo 'export HOME=/tmp LANG=C.UTF-8 IPVS_LAB=1'
  printf 'export IPVS_LAB_OUT=%q\n' "$share/out"
  env | grep -E '^(IPVS_|RUST_|CARGO_TERM_|PYTHON)[A-Za-z0-9_]*=' | grep -vE '^IPVS_LAB(_OUT)?=' | while IFS= read -r kv; do
    printf 'export %q\n' "$kv"
  done
  printf 'cd %q || exit 125\n' "$PWD"
  printf 'exec'; printf ' %q' "$@"; printf '\n'
} > "$share/cmd.sh"
mkdir -p "$share/out"

# The working directory (the repository, or wherever the caller is) is shared on its own:
# the guest's /tmp and /run are fresh, and a checkout may live there.
work="$(git -C "$PWD" rev-parse --show-toplevel 2>/dev/null || pwd)"
case "$work" in *' '*) echo "lab: paths with spaces are not supported: $work" >&2; exit 2;; esac
mem="${IPVS_LAB_MEM:-2048}"
smp="${IPVS_LAB_SMP:-$(nproc)}"
# mawk (Debian's awk) reads a pipe in blocks unless told otherwise: the guest's output would
# arrive minutes late during quiet suites.
line_by_line=()
case "$(awk -W version 2>&1)" in *mawk*) line_by_line=(-W interactive) ;; esac
timeout --foreground -k 10 "${IPVS_LAB_TIMEOUT:-1500}" \
  qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m "$mem" -smp "$smp" \
    -nic none -nographic -no-reboot -monitor none -serial stdio \
    -kernel "$cache/vmlinuz" -initrd "$cache/initrd.cpio.gz" \
    -append "console=ttyS0 quiet loglevel=1 panic=-1 labshare=$share labwork=$work" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$share,mount_tag=labshare,security_model=none,multidevs=remap" \
    -virtfs "local,path=$work,mount_tag=labwork,security_model=none,readonly=on,multidevs=remap" \
    </dev/null | awk "${line_by_line[@]}" '
      # The serial console ends lines with CR LF. (In awk, not tr: tr holds back a block of
      # output, which looked like a stalled guest during quiet suites.)
      { sub(/\r+$/, "") }
      /IPVS-LAB-BEGIN$/ { on = 1; next }
      /^IPVS-LAB-EXIT /  { on = 0; next }
      on || /lab-init:|Kernel panic|BUG:|Oops/ { print; fflush() }' || true
if [ -n "$(ls -A "$share/out")" ]; then
  out="${IPVS_LAB_OUT_DIR:-$PWD/target/lab-out}"
  mkdir -p "$out" && cp -r "$share/out/." "$out/" && echo "lab: the guest's output is in $out" >&2
fi
if [ -f "$share/rc" ]; then
  exit "$(cat "$share/rc")"
fi
echo "lab: the guest ended without an exit status" >&2
exit 124
