#!/usr/bin/env bash
# The main job, for real. Boots the real-kernel lab and, inside it:
#   1. the seed scenario: a director with virtual IPs and four web servers in network
#      namespaces, real HTTP requests balanced by NAT, direct routing and IPIP tunnelling with
#      rr and wrr, a server drained with weight 0, the table and the kernel's statistics;
#   2. the desired-state scenario: the `ipvs` command applies a desired table, a server with
#      a live TCP connection drains (weight 0, deleted once the connection ends), a restarted
#      process carries on, apply under a concurrent writer converges, and `ipvs export | ipvs
#      apply -` copies a table between namespaces (checked with the real ipvsadm).
set -euo pipefail
cd "$(dirname "$0")"
bash lab/setup.sh >/dev/null
cargo build --quiet -p ipvs-lab-tools -p ipvsadm -p ipvs-cli
exec bash lab/run.sh bash -c '"$1" && "$2"' demo "$PWD/target/debug/seed-scenario" "$PWD/target/debug/desired-state-scenario"
