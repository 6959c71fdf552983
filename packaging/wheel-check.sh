#!/usr/bin/env bash
# Installs the Python wheel into a fresh virtual environment whose PATH has no Rust toolchain
# (no cargo, rustc or rustup: nothing can be built), checks that the installed package is the
# one imported and ships its type stubs, then runs ipvs-py's tests and mypy.stubtest against it.
#
#   packaging/wheel-check.sh DIST/ipvs-*.whl
#
# On the in-memory kernel by default; with IPVS_TEST_TARGET=kernel (root, a kernel with IPVS:
# the lab) the tests run on the kernel; IPVS_WHEELHOUSE=DIR takes pytest and mypy from DIR
# (pip download) instead of PyPI. Ends with pytest's summary line; exits non-zero on any
# failure.
set -euo pipefail
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 WHEEL" >&2; exit 2; }
wheel="$(realpath "$1")"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
# Only the environment's own programs and the system's: no ~/.cargo/bin, no pyenv shims.
clean=(env -u CARGO_HOME -u RUSTUP_HOME -u PYTHONPATH PATH="$work/venv/bin:/usr/bin:/bin" VIRTUAL_ENV="$work/venv")
for tool in cargo rustc rustup; do
  if "${clean[@]}" sh -c "command -v $tool" >/dev/null; then
    echo "wheel-check: $tool is on the clean PATH" >&2
    exit 1
  fi
done

pip=("${clean[@]}" python -m pip -q --disable-pip-version-check install --root-user-action=ignore)
# The wheel alone, never a source build; then the test tools ipvs-py pins (from PyPI, or from
# the folder $IPVS_WHEELHOUSE without a network: the lab, see packaging/lab-check.sh).
"${pip[@]}" --no-deps --only-binary=:all: "$wheel"
mapfile -t tools < <(grep -E '^(pytest|mypy)\b' "$repo/ipvs-py/requirements-dev.txt")
if [ -n "${IPVS_WHEELHOUSE:-}" ]; then
  "${pip[@]}" --no-index --find-links "$IPVS_WHEELHOUSE" "${tools[@]}"
else
  "${pip[@]}" "${tools[@]}"
fi

# From a folder of its own, so that nothing but the installed package can be imported.
cd "$work"
"${clean[@]}" python - <<'PY'
import pathlib, sys
import ipvs, ipvs._ipvs
where = pathlib.Path(ipvs.__file__).resolve()
assert where.is_relative_to(pathlib.Path(sys.prefix).resolve()), f"ipvs imported from {where}"
for stub in ("py.typed", "_ipvs.pyi"):
    assert (where.parent / stub).is_file(), f"the wheel has no {stub}"
print(f"wheel-check: ipvs from {where.parent}, with py.typed and _ipvs.pyi")
PY
# The stubs describe the installed native module exactly.
"${clean[@]}" python -m mypy.stubtest ipvs
"${clean[@]}" PYTHONDONTWRITEBYTECODE=1 python -m pytest -q -p no:cacheprovider --rootdir "$work" "$repo/ipvs-py/tests"
