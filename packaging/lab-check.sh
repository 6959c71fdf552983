#!/usr/bin/env bash
# The packages package.sh built, and the Ansible collection, on the real kernel in the lab
# (the slow half of the packaging proof, kept out of ./test.sh: building the packages takes
# 12-25 minutes on 2 cores):
#   deb-check    the .deb files unpacked into a scratch root, their programs run from it
#                against the kernel, the director started the way its unit starts it,
#                reloaded with SIGHUP, stopped with SIGTERM (packaging/deb-check.sh);
#   wheel-check  the wheel in a fresh venv with no Rust toolchain, ipvs-py's tests on the
#                kernel (IPVS_TEST_TARGET=kernel; pytest and mypy from a wheelhouse
#                downloaded here first, since the lab has no network);
#   ansible      the Ansible collection's modules on the kernel (ansible/tests/
#                lab-integration.sh: 20 checks, about 6 minutes under the lab's emulation,
#                which ./test.sh's budget does not have; ./test.sh runs them on the mock).
#
#   ./package.sh dist && packaging/lab-check.sh dist     # from the repository's root, as root
# It needs the debug build of the ipvs command (cargo build -p ipvs-cli) and ansible-core
# (ansible/requirements.txt).
set -euo pipefail
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 DIST" >&2; exit 2; }
cd "$(dirname "$0")/.."
dist="$(cd "$1" && pwd)"
case "$dist" in "$PWD"/*) ;; *) echo "lab-check: $dist must be inside $PWD (the lab sees only the repository)" >&2; exit 2;; esac
wheels=("$dist"/ipvs-*.whl)
[ -f "${wheels[0]}" ] || { echo "lab-check: no wheel in $dist" >&2; exit 2; }
python3 -m pip download -q --disable-pip-version-check --only-binary=:all: -d "$dist/wheelhouse" \
  $(grep -E '^(pytest|mypy)\b' ipvs-py/requirements-dev.txt)
mkdir -p target/lab
list=target/lab/packages.list
{
  echo "deb-check bash $PWD/packaging/deb-check.sh $dist"
  echo "wheel-check env IPVS_TEST_TARGET=kernel IPVS_WHEELHOUSE=$dist/wheelhouse bash $PWD/packaging/wheel-check.sh ${wheels[0]}"
  # ansible-playbook beside the interpreter, by its real path (not a pyenv shim).
  echo "ansible env PATH=$(python3 -c 'import os, sys; print(os.path.dirname(sys.executable))'):/usr/sbin:/usr/bin:/sbin:/bin IPVS_BIN=$PWD/target/debug/ipvs bash $PWD/ansible/tests/lab-integration.sh"
} > "$list"
cat "$list"
IPVS_LAB_TIMEOUT="${IPVS_LAB_TIMEOUT:-1200}" bash lab/run.sh bash lab/guest-tests.sh "$list"
