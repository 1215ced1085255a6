#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's packages (bookworm: 2.42) when either is missing, for
# the ops tests. K2 runs Prometheus itself on loopback, so the package's own service is kept from
# starting (policy-rc.d) and, should an init system have started it anyway, stopped again.
set -euo pipefail

installed() { command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; }
installed && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-prometheus: promtool/prometheus missing; run as root, or: sudo apt-get install -y --no-install-recommends prometheus" >&2
  exit 1
fi

# Test files run in parallel: one installs, the others wait for it.
exec 9>/tmp/k2-install-prometheus.lock
flock 9
installed && exit 0

policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  added_policy=1
fi
cleanup() { if [ "$added_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "install-prometheus: installing Debian's prometheus package (promtool included; first run only)"
export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 prometheus >/dev/null; }
# The package lists may be missing or stale on a fresh machine: refresh them once if the install fails.
apt_install || { apt-get update -qq && apt_install; }

# Where systemd runs, the unit may have been enabled and started despite policy-rc.d.
if [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
promtool --version 2>&1 | head -n 1
