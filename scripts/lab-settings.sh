#!/usr/bin/env bash
# Turn off JupyterLab's "Would you like to get notified about official Jupyter news?" pop-up,
# which otherwise covers the notebook on a learner's first open. Used by `make lab` and Binder.
# Usage: scripts/lab-settings.sh PREFIX   (the environment's sys.prefix, e.g. .venv)
set -euo pipefail
settings="${1:?usage: scripts/lab-settings.sh PREFIX}/share/jupyter/lab/settings"
mkdir -p "$settings"
cat > "$settings/overrides.json" <<'JSON'
{
  "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}
}
JSON
