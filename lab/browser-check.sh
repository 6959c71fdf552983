#!/usr/bin/env bash
# The director's status page in a real browser (Debian's chromium, headless), on the host:
#
#   lab/browser-check.sh [IPVS_DIRECTOR]    # default: builds and runs target/debug/ipvs-director
#
# Starts `ipvs-director --mock` on 127.0.0.1 with a known configuration: virtual server
# 192.0.2.10:80 with 198.51.100.11 (a TCP check to a port this script opens), .12 (a closed
# port: down) and .13 (a closed port, on_failure = "inhibit": inhibited); virtual server
# 192.0.2.20:80 whose two servers fail, so its quorum is lost and its sorry server is in.
# chromium loads the page (--dump-dom, after its script refreshed it): every server row must
# be there with its state; loaded as /#filter=198.51.100.12, only .12's row and section may
# stay shown; a screenshot is saved as target/status-page.png. Then the port .11
# is checked on is closed, and a second load must show .11 down (target/status-page-after.png);
# so must the page as served, without JavaScript (its rows and its meta refresh).
# No chromium is a failure, not a skip. Prints `browser-check: N passed, 0 failed` on success.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { printf 'browser-check: FAILED: %s\n' "$*" >&2; exit 1; }
command -v chromium >/dev/null || fail "chromium is not installed (apt-get install chromium; lab/setup.sh installs it)"
command -v python3 >/dev/null || fail "python3 is needed"

director="${1:-}"
if [ -z "$director" ]; then
  cargo build --quiet -p ipvs-director
  director="$PWD/target/debug/ipvs-director"
fi
[ -x "$director" ] || fail "no director binary at $director"
mkdir -p target
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The port .11 is checked on: a listener this script owns (it accepts and closes).
python3 -u -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64); print(s.getsockname()[1])
while True:
    c, _ = s.accept(); c.close()
' > "$work/port" &
listener=$!
pids+=("$listener")
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
open_port="$(head -n1 "$work/port")"
[ -n "$open_port" ] || fail "the check's listener did not start"
closed_port="$(free_port)"
listen_port="$(free_port)"
url="http://127.0.0.1:$listen_port/"

vs() {  # address, then extra lines
  printf '[[virtual_servers]]\nprotocol = "tcp"\naddress = "%s"\nport = 80\nscheduler = "rr"\nforward = "nat"\n' "$1"
  printf 'delay_loop = 0.5\nconnect_timeout = 1\nretry = 1\ndelay_before_retry = 0.2\nwarmup = 0\n%s\n' "${2:-}"
}
rs() {  # address, check port, then extra lines
  printf '[[virtual_servers.real_servers]]\naddress = "%s"\nport = 80\n%s\n' "$1" "${3:-}"
  printf '[[virtual_servers.real_servers.tcp_check]]\nconnect_ip = "127.0.0.1"\nconnect_port = %s\n' "$2"
}
{
  vs 192.0.2.10
  rs 198.51.100.11 "$open_port" "weight = 2"
  rs 198.51.100.12 "$closed_port"
  rs 198.51.100.13 "$closed_port" 'on_failure = "inhibit"'
  vs 192.0.2.20 $'quorum = 2\nsorry_server = { address = "203.0.113.50", port = 8080 }'
  rs 198.51.100.21 "$closed_port"
  rs 198.51.100.22 "$closed_port"
} > "$work/director.toml"

"$director" --mock --config "$work/director.toml" --listen "127.0.0.1:$listen_port" 2> "$work/director.log" &
pids+=("$!")
echo "status page: $url"

# Waits (at most 20 s) until /?format=json says .11 is ALIVE (True/False) and every check ran.
wait_alive() {
  python3 - "$url?format=json" "$1" <<'PY' || fail "the director did not reach the state (.11 alive: $1); log: $(tail -n 20 "$work/director.log")"
import json, sys, time, urllib.request
url, want = sys.argv[1], sys.argv[2] == "True"
deadline = time.time() + 20
while time.time() < deadline:
    try:
        doc = json.load(urllib.request.urlopen(url, timeout=5))
        servers = [r for v in doc["virtual_servers"] for r in v["real_servers"]]
        ran = all(c["attempts"] >= 1 for r in servers for c in r["checks"])
        if ran and servers[0]["alive"] == want:
            sys.exit(0)
    except (OSError, ValueError, KeyError, IndexError):
        pass
    time.sleep(0.2)
sys.exit(1)
PY
}

browse() {  # what to add to chromium's arguments; loads $at (default $url)
  chromium --headless --disable-gpu --no-sandbox --no-first-run --hide-scrollbars \
    --user-data-dir="$work/profile" --window-size=1400,900 "$@" "${at:-$url}" 2>> "$work/chromium.log"
}

passed=0
# The DOM as chromium has it must hold each row: data-server, then data-state.
check_rows() {  # dom file, then "server state" pairs
  local dom="$1"; shift
  local n
  n="$(grep -o '<tr data-server="[^"]*" data-state="[^"]*"' "$dom" | wc -l)"
  [ "$n" -eq "$#" ] || fail "$n server rows in the page, $# expected (see $dom)"
  for pair in "$@"; do
    set -- $pair
    grep -q "<tr data-server=\"$1:80\" data-state=\"$2\"" "$dom" || fail "no row of $1 $2 in the page (see $dom)"
    passed=$((passed + 1))
  done
}
check_png() {
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$1 is not a PNG screenshot"
  passed=$((passed + 1))
}

wait_alive True
# 7 s of the page's time: its script refreshes the table once at least (data-refreshes).
browse --virtual-time-budget=7000 --dump-dom > target/status-page.dom.html ||
  fail "chromium could not load $url (see $work/chromium.log)"
grep -q '<body data-refreshes="[1-9]' target/status-page.dom.html || fail "the page's script did not refresh it"
passed=$((passed + 1))
check_rows target/status-page.dom.html "198.51.100.11 up" "198.51.100.12 down" "198.51.100.13 inhibited" \
  "198.51.100.21 down" "198.51.100.22 down"
grep -q 'sorry server 203.0.113.50 in' target/status-page.dom.html || fail "the sorry server is not shown in"
grep -q 'quorum lost' target/status-page.dom.html || fail "the lost quorum is not shown"
passed=$((passed + 1))
# The filter box, from the address: only the rows that match stay shown, and a section with
# none of them is hidden.
hidden_row() { grep -q "<tr data-server=\"$2:80\"[^>]*hidden" "$1"; }
at="$url#filter=198.51.100.12" browse --virtual-time-budget=2000 --dump-dom > target/status-page-filtered.dom.html ||
  fail "chromium could not load $url#filter=198.51.100.12"
hidden_row target/status-page-filtered.dom.html 198.51.100.12 && fail "the filter hid the row it matches"
hidden_row target/status-page-filtered.dom.html 198.51.100.11 || fail "the filter did not hide a row it does not match"
grep -q '<details[^>]*data-section[^>]*hidden' target/status-page-filtered.dom.html ||
  fail "the filter did not hide the section without a match"
passed=$((passed + 1))
rm -f target/status-page.png
browse --screenshot="$PWD/target/status-page.png" >/dev/null || fail "chromium could not take a screenshot"
check_png target/status-page.png
echo "screenshot: target/status-page.png"

# .11's port closes: its check fails, and the page shows it.
kill "$listener"
wait "$listener" 2>/dev/null || true
wait_alive False
browse --dump-dom > target/status-page-after.dom.html || fail "chromium could not load $url the second time"
check_rows target/status-page-after.dom.html "198.51.100.11 down" "198.51.100.12 down" "198.51.100.13 inhibited" \
  "198.51.100.21 down" "198.51.100.22 down"
# Without JavaScript: the page as served, with its refresh, renders the same rows.
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
  "$url" > target/status-page-after.html || fail "could not fetch $url"
grep -q '<noscript><meta http-equiv="refresh"' target/status-page-after.html || fail "no refresh without JavaScript"
check_rows target/status-page-after.html "198.51.100.11 down" "198.51.100.12 down" "198.51.100.13 inhibited" \
  "198.51.100.21 down" "198.51.100.22 down"
rm -f target/status-page-after.png
browse --screenshot="$PWD/target/status-page-after.png" >/dev/null ||
  fail "chromium could not take the second screenshot"
check_png target/status-page-after.png
echo "screenshot after .11 failed: target/status-page-after.png"
echo "browser-check: $passed passed, 0 failed"
