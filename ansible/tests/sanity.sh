#!/usr/bin/env bash
# ansible-test sanity on the collection, local (no container), Python 3.11:
#
#   bash ansible/tests/sanity.sh [MORE ansible-test ARGS]
#
# ansible-test makes a virtual environment per test and puts pip in it with a bootstrap
# script it downloads from ci-files.testing.ansible.com, which this project's machines do not
# reach (PyPI they do). When that script is not in ansible-test's cache, a stand-in goes
# there: pip from the interpreter's own ensurepip, then the pip version ansible-test asks for,
# from PyPI. Everything else ansible-test installs comes from PyPI as usual.
set -euo pipefail
cd "$(dirname "$0")/../ansible_collections/ipvs/ipvs"
pip_version="$(python3 -c 'import types; from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3.11"))["pip"])')"
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -e "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  cat >"$cache" <<'PY'
# Stand-in for get-pip.py, written by the ipvs project's ansible/tests/sanity.sh: pip from
# ensurepip, then the packages asked for (get-pip's own --no-setuptools/--no-wheel dropped).
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)
PY
fi
exec nice -n 19 ansible-test sanity --python 3.11 "$@"
