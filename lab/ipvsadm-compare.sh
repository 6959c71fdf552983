#!/usr/bin/env bash
# Runs inside the lab guest: every case script in lab/ipvsadm-cases twice, once with the real
# ipvsadm and once with ours, each in a fresh network namespace, and compares every command's
# stdout, stderr and exit status byte for byte. Prints a diff for each difference and ends with
#   N passed, M failed
# (one count per command). Exits non-zero on any difference.
#
#   lab/run.sh bash lab/ipvsadm-compare.sh OUR-IPVSADM [CASE...]
set -u
ours="${1:?usage: ipvsadm-compare.sh OUR-IPVSADM [CASE...]}"; shift
here="$(cd "$(dirname "$0")" && pwd)"
real="$(command -v ipvsadm)"
[ -x "$real" ] || { echo "no real ipvsadm"; exit 1; }
[ $# -gt 0 ] || set -- "$here"/ipvsadm-cases/*.sh

# Whether an ipvsadm command line lists (-L, -l, -S, --list, --save, or nothing at all).
is_listing() {
  [ $# -eq 0 ] && return 0
  local a
  for a in "$@"; do
    case "$a" in
      --list|--save|--list=*) return 0 ;;
      --*) ;;
      -*[LlS]*) return 0 ;;
    esac
  done
  return 1
}

# One side of one case, run inside its network namespace (entered once per side: `ip netns
# exec` per command made this suite take minutes in the emulated lab).
run_side() {  # SIDE DIR CASE
  local side="$1" dir="$2" case="$3"
  n=0
  # Each call of `ipvsadm` in a case script runs the tool of this side, argv[0] "ipvsadm".
  ipvsadm() {
    n=$((n + 1))
    printf '%s\n' "ipvsadm $*" > "$dir/$n.cmd"
    if [ "$side" = real ]; then
      command ipvsadm "$@" > "$dir/$n.out" 2> "$dir/$n.err"
      echo $? > "$dir/$n.rc"
      return
    fi
    (exec -a ipvsadm "$ours" "$@") > "$dir/$n.out" 2> "$dir/$n.err"
    echo $? > "$dir/$n.rc"
    # A listing's order depends on the kernel's hash order, which depends on the namespace:
    # with --nosort directly, and sorted too, since ipvsadm's comparison (a signed
    # difference of addresses) is not transitive. So a listing is compared byte for byte
    # against the real ipvsadm reading this same namespace (and below, the two namespaces
    # must hold the same lines).
    if is_listing "$@"; then
      command ipvsadm "$@" > "$dir/$n.same.out" 2> "$dir/$n.same.err"
      echo $? > "$dir/$n.same.rc"
    fi
  }
  # shellcheck disable=SC1090
  . "$case" < /dev/null
}
if [ "${IPVSADM_COMPARE_SIDE:-}" ]; then
  # Inside the namespace (see below): `real`, `ours` and the side come from the caller.
  run_side "$IPVSADM_COMPARE_SIDE" "$IPVSADM_COMPARE_DIR" "$1"
  exit 0
fi

work="$(mktemp -d)"
passed=0 failed=0
for case in "$@"; do
  name="$(basename "$case" .sh)"
  for side in real ours; do
    ns="cmp-$side-$$"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link add dummy0 type dummy
    ip -n "$ns" link set dummy0 up multicast on
    dir="$work/$name/$side"; mkdir -p "$dir"
    IPVSADM_COMPARE_SIDE="$side" IPVSADM_COMPARE_DIR="$dir" \
      ip netns exec "$ns" bash "$here/ipvsadm-compare.sh" "$ours" "$case"
    ip netns del "$ns"
  done
  for cmd in "$work/$name"/real/*.cmd; do
    i="$(basename "$cmd" .cmd)"
    bad=0
    ref="$work/$name/real/$i"
    if [ -f "$work/$name/ours/$i.same.rc" ]; then
      ref="$work/$name/ours/$i.same"
      # Both namespaces hold the same table: the same lines, in whatever order.
      # (Files, not process substitution: the lab guest has no /dev/fd.)
      sort "$work/$name/real/$i.out" > "$work/sorted.real"; sort "$ref.out" > "$work/sorted.same"
      cmp -s "$work/sorted.real" "$work/sorted.same" || bad=1
      cmp -s "$work/$name/real/$i.rc" "$ref.rc" || bad=1
    fi
    for part in out err rc; do
      cmp -s "$ref.$part" "$work/$name/ours/$i.$part" || bad=1
    done
    if [ "$bad" = 0 ]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "DIFF $name #$i: $(cat "$cmd")"
      for part in out err rc; do
        diff -u --label "ipvsadm.$part" --label "ours.$part" \
          "$ref.$part" "$work/$name/ours/$i.$part" | sed 's/^/    /'
      done
      if [ "$ref" != "$work/$name/real/$i" ]; then
        diff -u --label "ipvsadm (its namespace, sorted)" --label "ipvsadm (ours, sorted)" \
          "$work/sorted.real" "$work/sorted.same" | sed 's/^/    /'
      fi
    fi
  done
  echo "case $name: $(ls "$work/$name"/real/*.cmd | wc -l) commands"
done
rm -rf "$work"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
