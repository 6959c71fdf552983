#!/usr/bin/env bash
# Checks what package.sh built in OUTDIR (as root):
#   1. the systemd units: `systemd-analyze verify` in a root holding the packages' files and
#      this machine's units and kill(1); any message fails,
#   2. the .deb files: lintian; an error or warning tag not explained in
#      packaging/lintian-explained.txt fails (explained ones are listed with their reason),
#   3. the .deb files run from a scratch root (packaging/deb-check.sh),
#   4. the wheel in a fresh venv without a Rust toolchain (packaging/wheel-check.sh).
#
#   packaging/check.sh OUTDIR
set -uo pipefail
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
results=()
result() { results+=("$1: $2"); }

printf '\n##### check: systemd-analyze verify\n'
root="$work/verify"
mkdir -p "$root/usr/lib/systemd/system" "$root/usr/bin" "$root/bin"
cp -a /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/"
for deb in "$out"/*.deb; do dpkg-deb -x "$deb" "$root"; done
cp /usr/bin/kill "$root/usr/bin/kill" && cp /usr/bin/kill "$root/bin/kill"
units=("$root"/usr/lib/systemd/system/ipvs-*.service)
# Documentation=man:... is looked up in the root's pages.
if MANPATH="$root/usr/share/man" systemd-analyze verify --root="$root" "${units[@]}" >"$work/verify.log" 2>&1 &&
    [ ! -s "$work/verify.log" ]; then
  result "systemd-analyze verify ${units[*]##*/}" "ok"
else
  cat "$work/verify.log"
  result "systemd-analyze verify" "FAILED"
fi
for unit in "${units[@]}"; do  # figures, not a pass/fail
  systemd-analyze security --offline=yes --root="$root" "${unit##*/}" 2>/dev/null | tail -n1 |
    sed "s/^/${unit##*\/}: exposure: /"
done

printf '\n##### check: lintian\n'
lintian --tag-display-limit 0 --display-info "$out"/*.deb >"$work/lintian.log" 2>&1
cat "$work/lintian.log"
unexplained=0
while IFS= read -r line; do
  tag="$(awk '{print $3}' <<<"$line")"
  if grep -qE "^$tag([[:space:]]|$)" "$here/lintian-explained.txt"; then
    echo "lintian: explained: $line -- $(sed -n "s/^$tag[[:space:]]*//p" "$here/lintian-explained.txt")"
  else
    echo "lintian: NOT EXPLAINED: $line"
    unexplained=$((unexplained + 1))
  fi
done < <(grep -E '^[EW]: ' "$work/lintian.log" | sort -u)
[ "$unexplained" -eq 0 ] && result "lintian (errors and warnings explained)" "ok" || result "lintian" "FAILED: $unexplained unexplained"

printf '\n##### check: the packages run from a scratch root\n'
bash "$here/deb-check.sh" "$out" && result "deb-check" "ok" || result "deb-check" "FAILED"

printf '\n##### check: the wheel without a Rust toolchain\n'
wheels=("$out"/ipvs-*.whl)
bash "$here/wheel-check.sh" "${wheels[0]}" && result "wheel-check ${wheels[0]##*/}" "ok" || result "wheel-check" "FAILED"

printf '\n##### check: summary\n'
failed=0
for r in "${results[@]}"; do echo "package check: $r"; [[ $r == *FAILED* ]] && failed=$((failed + 1)); done
echo "package checks: $(( ${#results[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
