#!/usr/bin/env bash
# Sets up (when needed) and starts the dashboard on the embedded sample ImageServer, under waitress
# (threads, keep-alive; `--debug` gives Flask's development server instead).
# Arguments go to app.py, e.g. scripts/run.sh --port 8060 --service-url https://host/arcgis/rest/services/X/ImageServer
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
# A bounded GDAL block cache (MB; GDAL's own default is 5 % of the RAM) and few malloc arenas, so the
# server's memory levels off (bench/RESULTS.md, "Memory").
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" GDAL_CACHEMAX="${GDAL_CACHEMAX:-256}"
exec .venv/bin/python app.py "$@"
