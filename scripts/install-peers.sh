#!/usr/bin/env bash
# Install the peer servers the harness can compare against (Debian packages): the original Tornado
# design (python3-tornado, run with /usr/bin/python3) and nginx with the nchan module; and Debian's
# chromium, which the tests use to open report.html headless (driven by playwright-core; nothing is
# downloaded at run time).
# Idempotent: installed packages are left as they are. Needs root (or sudo) and the Debian archive.
set -euo pipefail
PACKAGES=(python3-tornado nginx-light libnginx-mod-nchan chromium redis-server)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "peers already installed: ${PACKAGES[*]}"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
# nginx's package starts a system service on install where it can; the harness runs its own
# nginx on a loopback port, so the system one is not needed (and is stopped if it was started).
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  $SUDO systemctl stop nginx || true
fi
echo "peers installed: ${PACKAGES[*]}"
