#!/usr/bin/env bash
# Make sure the system programs pplkit's set-up needs are present.
# Usage: scripts/system-deps.sh graphviz [chromium]
# Installs missing Debian packages when running as root; otherwise names them and fails.
set -euo pipefail
missing=()
for pkg in "$@"; do
  case "$pkg" in
    graphviz) command -v dot >/dev/null 2>&1 || missing+=(graphviz) ;;
    chromium) command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    *) echo "system-deps: unknown package '$pkg'" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "system-deps: missing ${missing[*]}." >&2
  echo "  Install with:  sudo apt-get install ${missing[*]}   (Debian/Ubuntu)" >&2
  echo "  or: conda install -c conda-forge ${missing[*]}; or: brew install ${missing[*]}" >&2
  exit 1
fi
