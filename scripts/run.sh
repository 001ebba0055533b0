#!/usr/bin/env bash
# Sets up (when needed) and starts the dashboard on the embedded sample ImageServer.
# Arguments go to app.py, e.g. scripts/run.sh --port 8060 --service-url https://host/arcgis/rest/services/X/ImageServer
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
exec .venv/bin/python app.py "$@"
