#!/usr/bin/env bash
# Installs Debian's chromium (/usr/bin/chromium) for the browser tests when it is missing, with apt-get as
# root or through passwordless sudo. Never downloads a browser build; without apt the browser tests skip.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "chromium is not installed and cannot be installed here (needs root or sudo): browser tests will be skipped"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is not installed and apt-get is not available: browser tests will be skipped"
  exit 0
fi
echo "installing Debian's chromium for the browser tests (apt-get)"
if ! ${as_root[@]+"${as_root[@]}"} apt-get update -qq >/dev/null \
  || ! ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
  echo "apt-get could not install chromium: browser tests will be skipped"
fi
