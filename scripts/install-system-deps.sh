#!/usr/bin/env bash
# Debian packages the tests and benchmarks drive: real NBD clients and servers (libnbd,
# nbdkit, qemu), disk and filesystem tools that build test images, certtool and psktool
# (gnutls-bin) that make the TLS tests' certificates and keys, nginx that serves images to the
# http plugin's tests (started by the tests, never as a service), and Chromium for the UI tests.
# Run as root (CI runs it from .ci/run).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  libnbd-bin python3-libnbd nbdkit qemu-utils fio fuse3 \
  gdisk fdisk util-linux e2fsprogs dosfstools mtools xfsprogs btrfs-progs exfatprogs ntfs-3g \
  cryptsetup-bin xorriso \
  gnutls-bin \
  nginx \
  chromium xvfb imagemagick \
  python3 make g++
