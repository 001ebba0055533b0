#!/usr/bin/env bash
# Installs what the project needs, idempotently and quickly when everything is already there.
#   scripts/setup.sh          the Python environment for running the dashboard
#   scripts/setup.sh hosting  plus gunicorn and Celery (scripts/serve.sh, team hosting)
#   scripts/setup.sh test     plus the test extras, Debian's Chromium + chromedriver and redis-server
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-run}
python=${PYTHON:-python3}

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Python 3.11 or newer is needed (found: $("$python" --version 2>&1))." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "Creating the virtual environment in .venv ..."
    "$python" -m venv .venv
fi

# The test install is a superset of the others, so its stamp satisfies every want.
case "$want" in
    test) extras="[test]" ;;
    hosting) extras="[dashboard,hosting]" ;;
    *) extras="[dashboard]" ;;
esac
digest=$(sha256sum pyproject.toml | cut -d' ' -f1)
installed() { [ "$(cat ".venv/.installed-$1" 2>/dev/null)" = "$digest" ]; }
if ! installed test && ! installed "$want"; then
    echo "Installing Python packages (pyproject.toml${extras}) ..."
    log=.venv/pip-install.log
    if ! { .venv/bin/python -m pip install --upgrade pip &&
           .venv/bin/python -m pip install -e ".${extras}"; } >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "Installing the Python packages failed; the whole log is in $log" >&2
        exit 1
    fi
    echo "$digest" > ".venv/.installed-${want}"
fi

# Debian packages for the tests: Chromium + chromedriver (browser tests), redis-server (the hosting test).
debs=()
if [ "$want" = test ]; then
    command -v chromium >/dev/null && command -v chromedriver >/dev/null || debs+=(chromium chromium-driver)
    command -v redis-server >/dev/null || debs+=(redis-server)
fi
if [ ${#debs[@]} -gt 0 ]; then
    echo "Installing Debian packages for the tests: ${debs[*]} ..."
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${debs[@]}" >/dev/null
fi

# JavaScript clients the tests and benchmarks drive in Chromium, installed from their lock files
# (npm ci) only when a lock file changes: a stamp in node_modules holds its digest.
js_install() {  # folder, what it is for
    local folder=$1 purpose=$2
    local digest
    digest=$(sha256sum "$folder/package-lock.json" | cut -d' ' -f1)
    [ "$(cat "$folder/node_modules/.installed" 2>/dev/null)" = "$digest" ] && return
    if ! command -v npm >/dev/null; then
        echo "npm (Node.js) is needed for the $purpose." >&2
        exit 1
    fi
    echo "Installing the $purpose (npm ci) ..."
    npm ci --prefix "$folder" --no-audit --no-fund --loglevel=error >/dev/null
    echo "$digest" > "$folder/node_modules/.installed"
}
if [ "$want" = test ]; then
    # Unchanged esri-leaflet + Leaflet for the peer tests.
    js_install tests/js "esri-leaflet peer tests"
    # The ArcGIS Maps SDK for JavaScript and its test page, bundled by vite into tests/arcgis_sdk/dist;
    # rebuilt when the lock file or the page's sources change.
    sdk=tests/arcgis_sdk
    js_install "$sdk" "ArcGIS Maps SDK for JavaScript tests"
    sdk_digest=$(cat "$sdk"/package-lock.json "$sdk"/*.html "$sdk"/*.js | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$sdk/dist/.built" 2>/dev/null)" != "$sdk_digest" ]; then
        echo "Bundling the ArcGIS Maps SDK test page (vite build) ..."
        npm run --prefix "$sdk" --silent build >/dev/null
        echo "$sdk_digest" > "$sdk/dist/.built"
    fi
fi
