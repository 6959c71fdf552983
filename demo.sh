#!/usr/bin/env bash
# The main job: the seed scenario for real. Boots the real-kernel lab and, inside it, builds a
# director with a virtual IP and four web servers in network namespaces, then balances real
# HTTP requests by NAT, direct routing and IPIP tunnelling with rr and wrr, drains a server
# with weight 0, and prints the table, the per-server request counts and the kernel's stats.
set -euo pipefail
cd "$(dirname "$0")"
bash lab/setup.sh >/dev/null
cargo build --quiet -p ipvs-lab-tools -p ipvsadm --bin seed-scenario --bin ipvsadm
exec bash lab/run.sh "$PWD/target/debug/seed-scenario" "$@"
