#!/usr/bin/env bash
# Prepare the real-kernel lab: host packages, a cached Debian kernel with IPVS,
# and a busybox initramfs. Idempotent; fast on a warm cache.
#
#   lab/setup.sh            # installs what is missing, prints the cache folder
#
# The cache lives outside the repository: $IPVS_LAB_CACHE, default ~/.cache/ipvs-lab.
set -euo pipefail

cache="${IPVS_LAB_CACHE:-$HOME/.cache/ipvs-lab}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$cache"

log() { printf 'lab: %s\n' "$*" >&2; }

# 1. Host packages.
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && /bin/busybox --list | grep -qx nsenter || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
# gcc: the lab's independent C probe of the write floor (lab/floor-probe.c).
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v depmod >/dev/null || need+=(kmod)
command -v ipvsadm >/dev/null || need+=(ipvsadm)
command -v ip >/dev/null || need+=(iproute2)
# The real programs ours are compared with in the lab, and tmux to drive terminal views.
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
command -v keepalived >/dev/null || need+=(keepalived)
command -v tmux >/dev/null || need+=(tmux)
# nft: the real server's arptables and redirect ARP cures (nftables rules through nft -j).
command -v nft >/dev/null || need+=(nftables)
# chromium: the director's status page in a real browser (lab/browser-check.sh, on the host).
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# 2. The kernel: the versioned package linux-image-amd64 depends on.
if [ ! -f "$cache/kernel/ready" ]; then
  [ -n "$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: //p')" ] || apt-get update -qq >&2
  pkg="$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -n1)"
  [ -n "$pkg" ] || { log "cannot resolve the kernel package"; exit 1; }
  log "downloading $pkg"
  rm -rf "$cache/kernel" "$cache/dl"; mkdir -p "$cache/dl" "$cache/kernel"
  (cd "$cache/dl" && apt-get download -qq "$pkg" >&2)
  dpkg -x "$cache"/dl/*.deb "$cache/kernel/root"
  rm -rf "$cache/dl"
  echo "$pkg" > "$cache/kernel/ready"
fi
kroot="$cache/kernel/root"
kver="$(ls "$kroot/lib/modules" | head -n1)"

# 3. The initramfs: busybox, the modules the lab needs, and our init.
stamp="$(cat "$here/init" "$here/setup.sh" | sha256sum | cut -c1-16)-$kver"
if [ ! -f "$cache/initrd-$stamp.cpio.gz" ]; then
  log "building initramfs for $kver"
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  ir="$work/ir"
  mkdir -p "$ir"/{bin,sbin,proc,sys,dev,host,run,tmp,etc,lib/modules/"$kver"/kernel}
  cp /bin/busybox "$ir/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$ir/bin/$a"; done
  ln -sf ../bin/busybox "$ir/sbin/modprobe"
  m="$kroot/lib/modules/$kver/kernel"
  for d in net/netfilter net/ipv4 net/ipv6 net/9p fs/9p fs/netfs fs/fscache drivers/net drivers/virtio \
           lib crypto arch/x86/crypto net/core net/sched net/bridge net/llc net/802; do
    [ -d "$m/$d" ] || continue
    mkdir -p "$ir/lib/modules/$kver/kernel/$d"
    cp -a "$m/$d/." "$ir/lib/modules/$kver/kernel/$d/"
  done
  # Drop big driver folders the guest never uses.
  find "$ir/lib/modules/$kver/kernel/drivers/net" -mindepth 1 -maxdepth 1 -type d \
    ! -name virtio_net.ko* -exec rm -rf {} + 2>/dev/null || true
  cp "$kroot/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$ir/lib/modules/$kver/" 2>/dev/null || true
  depmod -b "$ir" "$kver"
  # busybox modprobe understands plain .ko files; decompress xz/zst modules if needed.
  if find "$ir/lib/modules" -name '*.ko.xz' | grep -q .; then
    find "$ir/lib/modules" -name '*.ko.xz' -exec xz -d {} +
    depmod -b "$ir" "$kver"
  fi
  if find "$ir/lib/modules" -name '*.ko.zst' | grep -q .; then
    command -v zstd >/dev/null || apt-get install -y -qq zstd >&2
    find "$ir/lib/modules" -name '*.ko.zst' -exec zstd -q -d --rm {} +
    depmod -b "$ir" "$kver"
  fi
  cp "$here/init" "$ir/init"; chmod +x "$ir/init"
  (cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$cache/initrd-$stamp.cpio.gz.tmp"
  mv "$cache/initrd-$stamp.cpio.gz.tmp" "$cache/initrd-$stamp.cpio.gz"
  find "$cache" -maxdepth 1 -name 'initrd-*.cpio.gz' ! -name "initrd-$stamp.cpio.gz" -delete
fi
ln -sf "initrd-$stamp.cpio.gz" "$cache/initrd.cpio.gz"
ln -sf "kernel/root/boot/vmlinuz-$kver" "$cache/vmlinuz"
echo "$cache"
