# Shared by mock-integration.sh and lab-integration.sh: the environment ansible-playbook
# runs in, and `check NAME PYTHON-EXPRESSION` over the playbook's results.json.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export ANSIBLE_COLLECTIONS_PATH="$repo/ansible"
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0
export ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_DEPRECATION_WARNINGS=0
# The modules run with this Python: the one with the ipvs bindings.
python="$(python3 -c 'import sys; print(sys.executable)')"
passed=0
failed=0

# A program of the project: $2 if set, else on PATH, else built in target/.
program() {
  local name="$1" given="${2:-}"
  if [ -n "$given" ]; then echo "$given"; return; fi
  command -v "$name" 2>/dev/null && return
  for p in "$repo/target/release/$name" "$repo/target/debug/$name"; do
    [ -x "$p" ] && { echo "$p"; return; }
  done
  echo "ansible: no $name on PATH or in target/ (build it, or set its variable)" >&2
  exit 2
}

# Runs a playbook; its output goes to $work/NAME.log, shown when it fails.
playbook() {
  local log="$work/$(basename "$1" .yml).log"
  # Ansible's own files (its temporary folders on both sides) under $work: a home that is
  # read-only (the lab guest's /root) must not matter.
  if ! ANSIBLE_HOME="$work/.ansible" ANSIBLE_REMOTE_TMP="$work/.ansible/tmp" nice -n 19 ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$python" \
      -e "work=$work" "$@" >"$log" 2>&1; then
    cat "$log"
    echo "ansible: FAIL: ansible-playbook $1 failed (log above)"
    exit 1
  fi
}

# check NAME EXPR: EXPR is Python with `r` the results ($results, default
# $work/results.json), `text(path)` a file's text.
check() {
  if python3 - "${results:-$work/results.json}" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
text = lambda path: open(path).read()
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
  then
    passed=$((passed + 1)); echo "ok: $1"
  else
    failed=$((failed + 1)); echo "FAIL: $1    ($2)"
  fi
}

# The last line, as the lab runner counts it: "N passed, M failed".
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
