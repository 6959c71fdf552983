#!/usr/bin/env bash
# The collection ipvs.ipvs on the in-memory IPVS kernel, no root needed for the table:
# ipvs_table with mock_state, ipvs_realserver read-only on this host (check mode, check,
# argument errors), the director role's configuration validated by ipvs-director.
#
#   bash ansible/tests/mock-integration.sh
#
# Needs ansible-core (ansible/requirements.txt), the ipvs Python bindings in python3, and
# the ipvs and ipvs-director programs (on PATH, in target/, or $IPVS_BIN, $IPVS_DIRECTOR_BIN).
# Prints one line per check and `N passed, M failed` last; exits 1 if any failed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ipvs_bin="$(program ipvs "${IPVS_BIN:-}")"
director_bin="$(program ipvs-director "${IPVS_DIRECTOR_BIN:-}")"
work="$(mktemp -d)"
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
started=$(date +%s)

playbook "$here/mock.yml" -e "ipvs_bin=$ipvs_bin" -e "director_bin=$director_bin"
state="$work/state.rules"

check "first run changed with 5 writes" 'r["first"]["changed"] and r["first"]["writes"] == 5 and len(r["first"]["steps"]) == 5'
check "first run summary as the library says" 'r["first"]["summary"] == "5 writes, 0 failed, 0 draining, converged"'
check "second identical run not changed, 0 writes" 'not r["second"]["changed"] and r["second"]["writes"] == 0 and r["second"]["steps"] == []'
check "check mode: changed, 0 writes, the planned step" 'r["checked"]["changed"] and r["checked"]["writes"] == 0 and r["checked"]["steps"] == ["-a -t 192.0.2.10:80 -r 198.51.100.13:80 -m -w 1"]'
check "check mode: the state file unchanged" 'r["before_check"]["stat"]["checksum"] == r["after_check"]["stat"]["checksum"]'
check "check mode: no diff without diff mode" '"diff" not in r["checked"]'
check "diff mode: prepared diff of the rules lines" 'r["diffed"]["diff"]["prepared"] == "-a -t 192.0.2.10:80 -r 198.51.100.13:80 -m -w 1\n"'
check "apply in diff mode: 1 write, diff shown" 'r["applied_diff"]["changed"] and r["applied_diff"]["writes"] == 1 and "198.51.100.13" in r["applied_diff"]["diff"]["prepared"]'
check "the state file holds the table (thresholds too)" '"-a -t 192.0.2.10:80 -r 198.51.100.13:80 -m -w 1" in text("'"$state"'") and "-x 1000 -y 800" in text("'"$state"'")'
check "content in rules format: 2 writes" 'r["from_rules"]["changed"] and r["from_rules"]["writes"] == 2'
check "src .json: format from the extension, nothing to do" 'not r["from_file"]["changed"] and r["from_file"]["writes"] == 0'
check "scope string with commas is one selector" 'r["scope_one"]["failed"] and r["scope_one"]["msg"].endswith("TCP 192.0.2.10:80 is outside the scope (the services matching 192.0.2.0/24,udp)")'
check "prune in a scope removes the unlisted service in it only" 'r["pruned"]["changed"] and r["pruned"]["steps"] == ["-D -t 192.0.2.20:443"]'
check "prune without scope removes the other unlisted service" 'r["pruned_all"]["steps"] == ["-D -u 192.0.2.10:53"] and "192.0.2.20" not in text("'"$state"'") and "-u 192.0.2.10:53" not in text("'"$state"'")'
check "bad table fails naming the field and value" 'r["bad_table"]["failed"] and r["bad_table"]["msg"].startswith("table: services[0].scheduler") and "rrx" in r["bad_table"]["msg"]'
check "bad TOML content fails naming the field" 'r["bad_toml"]["failed"] and r["bad_toml"]["msg"].startswith("content (format toml): ")'
check "unknown format fails naming it" 'r["bad_format"]["failed"] and "format" in r["bad_format"]["msg"] and "yaml" in r["bad_format"]["msg"]'
check "src of unknown extension fails naming it" 'r["bad_ext"]["failed"] and r["bad_ext"]["msg"].startswith("src: ") and "web.yaml" in r["bad_ext"]["msg"]'
check "realserver check mode: would change, what" 'r["rs_dry"]["changed"] and "add 192.0.2.123/32 to lo" in r["rs_dry"]["changes"] and "--dry-run" in r["rs_dry"]["cmd"]'
check "realserver check mode wrote nothing" 'any(p["kind"] == "vip_missing" for p in r["rs_check"]["problems"])'
check "realserver checked: fails, ready false, problems listed" 'r["rs_check"]["failed"] and r["rs_check"]["ready"] is False and "vip_missing (192.0.2.123)" in r["rs_check"]["msg"]'
check "realserver absent in check mode, nothing recorded: not changed" 'not r["rs_absent"]["changed"] and not r["rs_absent"]["failed"]'
check "realserver without method: argument error" 'r["rs_no_method"]["failed"] and "method" in r["rs_no_method"]["msg"]'
check "realserver gue without tun_port: the command says why" 'r["rs_gue"]["failed"] and r["rs_gue"]["msg"] == "--tunnel gue needs --tun-port"'
check "director role: the file written and valid" 'r["director_first"]["stat"]["exists"] and "[[virtual_servers.real_servers.http_get.url]]" in text("'"$work"'/director.toml")'
check "director role again: the file not rewritten" 'r["director_first"]["stat"]["checksum"] == r["director_second"]["stat"]["checksum"] and r["director_first"]["stat"]["mtime"] == r["director_second"]["stat"]["mtime"]'
check "director role: a refused configuration fails validation, file kept" 'r["director_bad"]["failed"] and "scheduler" in r["director_bad"]["stderr"] and r["director_after_bad"]["stat"]["checksum"] == r["director_first"]["stat"]["checksum"]'
# A write that fails (another writer between plan and apply): run in-process, see the file.
PYTHONPATH="$repo/ansible" nice -n 19 python3 "$here/apply_failure.py" "$work/race.rules" >"$work/failure.json"
results="$work/failure.json"
check "a failed write fails the module, listed with errno and error" 'r["failed"] and r["failures"] == [{"command": "-A -t 192.0.2.1:80 -s rr", "errno": 17, "error": "[Errno 17] add_service TCP 192.0.2.1:80: File exists (EEXIST)"}]'
check "the failure: message, writes done, what remains" '"-A -t 192.0.2.1:80 -s rr: [Errno 17]" in r["msg"] and r["changed"] and r["writes"] == 1 and r["remaining"] == ["-E -t 192.0.2.1:80 -s rr"]'
unset results
if "$director_bin" --check-config --config "$work/director.toml" >/dev/null 2>&1; then
  passed=$((passed + 1)); echo "ok: director accepts the rendered file"
else
  failed=$((failed + 1)); echo "FAIL: director accepts the rendered file"
fi
echo "ansible: mock integration took $(( $(date +%s) - started ))s"
finish
