#!/usr/bin/env bash
# Sets up (when needed) and runs the whole test suite, browser tests included.
# Extra arguments go to pytest, e.g. scripts/test.sh -k identify
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"
