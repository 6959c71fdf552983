#!/usr/bin/env bash
# The main job, for real. Boots the real-kernel lab and, inside it (lab/demo-guest.sh):
#   1. the seed scenario: a director with virtual IPs and four web servers in network
#      namespaces, real HTTP requests balanced by NAT, direct routing and IPIP tunnelling with
#      rr and wrr, a server drained with weight 0, the table and the kernel's statistics;
#   2. the desired-state scenario: the `ipvs` command applies a desired table, a server with
#      a live TCP connection drains (weight 0, deleted once the connection ends), a restarted
#      process carries on, apply under a concurrent writer converges, and `ipvs export | ipvs
#      apply -` copies a table between namespaces (checked with the real ipvsadm);
#   3. health checks and failover: `ipvs-director` on two directors from keepalived.conf; a
#      web server stops and its destination leaves the table (timed against keepalived's
#      bound), then comes back; the master dies (director killed, link cut) while a client
#      keeps requesting and a download runs through the VIP: the takeover time, the VIP and
#      the client's ARP entry moving, the failed requests, the download surviving by
#      connection sync.
# Then every check with its result. The new master's status page, as served in the lab, is
# saved with a screenshot: target/lab-out/status-page.html, target/demo-status-page.png.
set -euo pipefail
cd "$(dirname "$0")"
bash lab/setup.sh >/dev/null
cargo build --quiet -p ipvs-lab-tools -p ipvsadm -p ipvs-cli -p ipvs-director
rm -rf target/lab-out target/demo-status-page.png
set +e
bash lab/run.sh bash lab/demo-guest.sh "$PWD/target/debug"
rc=$?
set -e
page="$PWD/target/lab-out/status-page.html"
if [ -f "$page" ]; then
  profile="$(mktemp -d)"
  if chromium --headless --disable-gpu --no-sandbox --no-first-run --hide-scrollbars --user-data-dir="$profile" \
      --window-size=1400,900 --screenshot="$PWD/target/demo-status-page.png" "file://$page" 2>/dev/null >&2; then
    echo "the status page of the new master, as served in the lab: $page (screenshot: target/demo-status-page.png)"
  else
    echo "demo: chromium could not take a screenshot of $page"; rc=1
  fi
  rm -rf "$profile"
elif [ "$rc" -eq 0 ]; then
  echo "demo: the lab saved no status page"; rc=1
fi
exit "$rc"
