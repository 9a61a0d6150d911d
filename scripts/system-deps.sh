#!/usr/bin/env bash
# Check every system program the set-up needs, up front, and report all that are missing at once.
# Usage: scripts/system-deps.sh venv graphviz compiler [chromium]
#   venv      python3 with venv and ensurepip ($PYTHON, default python3): Debian's python3-venv
#   graphviz  graphviz's `dot`, which draws the model diagrams
#   compiler  a C compiler (cc), for packages pip must build from source on a new Python
#   chromium  Debian's chromium, which the browser tests drive
# As root with apt-get, the missing Debian packages are installed; otherwise one message names
# them all, with the command to install them, and the script fails.
set -euo pipefail
PYTHON="${PYTHON:-python3}"
missing=()   # Debian packages
for need in "$@"; do
  case "$need" in
    venv)
      if ! command -v "$PYTHON" >/dev/null 2>&1; then
        missing+=(python3 python3-venv)
      elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=(python3-venv)
      fi ;;
    graphviz) command -v dot >/dev/null 2>&1 || missing+=(graphviz) ;;
    compiler) command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing+=(gcc) ;;
    chromium) command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    *) echo "system-deps: unknown prerequisite '$need' (known: venv graphviz compiler chromium)" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "${SYSTEM_DEPS_NO_INSTALL:-}" ]; then
  echo "system-deps: installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
{
  echo "system-deps: missing system packages: ${missing[*]}"
  echo "  Debian/Ubuntu:  sudo apt-get install ${missing[*]}"
  echo "  (conda: conda install -c conda-forge graphviz compilers; macOS: brew install graphviz, and Xcode's command line tools)"
} >&2
exit 1
