#!/usr/bin/env bash
# Builds the project's packages into OUTDIR from a clean checkout (see docs/install.md):
#   ipvs_*.deb           the ipvs command                      /usr/sbin/ipvs
#   ipvs-director_*.deb  the director, its unit and config     /usr/sbin/ipvs-director
#   ipvs-exporter_*.deb  the exporter and its unit             /usr/sbin/ipvs-exporter
#   ipvs-ipvsadm_*.deb   the ipvsadm drop-in (Conflicts: ipvsadm) /usr/sbin/ipvsadm
#   ipvs-*.whl, ipvs-*.tar.gz   the Python wheel (abi3) and sdist, built with maturin
#   ipvs-ipvs-*.tar.gz   the Ansible collection ipvs.ipvs (ansible-galaxy collection build)
# each .deb with its manual pages (made from the clap definitions by gen-manpages) and
# bash/zsh/fish completions. Then it checks them: the units with `systemd-analyze verify`
# in a root holding the packages' files, the packages with lintian (tags explained in
# packaging/lintian-explained.txt are reported as such), and the wheel with
# packaging/wheel-check.sh (a fresh venv, no Rust toolchain on PATH, ipvs-py's tests).
#
#   ./package.sh OUTDIR        # exits non-zero if a build or a check fails
#
# Installs what it lacks (as ./test.sh does): lintian and systemd from Debian, cargo-deb from
# crates.io, maturin and ansible-core from PyPI. Everything runs at nice 19.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out="$(cd "$1" && pwd)"
cd "$(dirname "$0")"
started=$(date +%s)
step() { printf '\n##### package: %s\n' "$*"; }
n() { nice -n 19 "$@"; }

step "tools"
need=()
command -v lintian >/dev/null || need+=(lintian)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v gzip >/dev/null || need+=(gzip)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  n apt-get update -qq
  n apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
cargo deb --version >/dev/null 2>&1 || n cargo install cargo-deb --locked --version 3.8.0
command -v ansible-galaxy >/dev/null ||
  n python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r ansible/requirements.txt
python3 -m maturin --version >/dev/null 2>&1 ||
  n python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    "$(grep -E '^maturin\b' ipvs-py/requirements-dev.txt)"

step "release binaries"
n cargo build --release --locked -p ipvs-cli -p ipvsadm -p ipvs-director -p ipvs-exporter
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

step "manual pages and completions (from the clap definitions)"
gen="$target/release/packaging"
rm -rf "$gen"
n cargo run -q --locked -p ipvs-lab-tools --bin gen-manpages -- "$gen"
find "$gen" -path '*/man/man*/*' -type f -exec gzip -9n {} +

step "Debian packages"
rm -f "$out"/*.deb
for crate in ipvs-cli ipvsadm ipvs-director ipvs-exporter; do
  n cargo deb --locked --no-build --strip -p "$crate" -o "$out"
done

step "Python wheel and sdist"
rm -f "$out"/ipvs-*.whl "$out"/ipvs-*.tar.gz
(cd ipvs-py && n python3 -m maturin build --release --locked --out "$out" &&
  n python3 -m maturin sdist --out "$out")

step "Ansible collection"
rm -f "$out"/ipvs-ipvs-*.tar.gz
n ansible-galaxy collection build ansible/ansible_collections/ipvs/ipvs --output-path "$out" --force

bash packaging/check.sh "$out"
echo "package: built and checked in $(( $(date +%s) - started ))s:"
ls -l "$out"
