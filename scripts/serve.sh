#!/usr/bin/env bash
# Team hosting (docs/hosting.md): the dashboard with its embedded ImageServer under gunicorn, and the
# Celery worker that runs its background callbacks (temporal profiles, histograms) when REDIS_URL is set.
#   scripts/serve.sh [web] [gunicorn options]       gunicorn: $WEB_WORKERS processes x $WEB_THREADS threads
#   scripts/serve.sh worker [celery options]        the Celery worker (needs REDIS_URL): $CELERY_CONCURRENCY processes
# Settings come from the environment as for app.py: IMAGESERVICE_HOST, IMAGESERVICE_PORT, IMAGESERVICE_DATA_DIR,
# IMAGESERVICE_URL, IMAGESERVICE_BASEMAP, IMAGESERVICE_LAYER_OPTIONS, IMAGESERVICE_PROXY_CONFIG; sign-in with
# IMAGESERVICE_AUTH_CONFIG (and its secrets), or IMAGESERVICE_PUBLIC=1; and REDIS_URL. Give the web server and
# the worker the same settings. Both refuse to start on a host beyond loopback while the proxy holds operator
# credentials and nobody has to sign in (docs/hosting.md, "Sign-in"). SERVE_SKIP_SETUP=1 skips the install check.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SERVE_SKIP_SETUP:-}" ] || scripts/setup.sh hosting

# Memory that stays flat under load (bench/load.py): few malloc arenas for the many threads, and
# a bounded GDAL block cache per process (MB; GDAL's own default is 5 % of the RAM per process).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" GDAL_CACHEMAX="${GDAL_CACHEMAX:-256}"

role=web
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
    role=$1
    shift
fi

case "$role" in
web)
    # --preload builds the app (and generates the sample data, once) before the workers fork.
    # Threads, not only processes: a callback that asks the embedded ImageServer for something is
    # answered by another thread of the same server. The access log leaves out query strings (tokens).
    exec .venv/bin/gunicorn wsgi:server \
        --bind "${IMAGESERVICE_HOST:-127.0.0.1}:${IMAGESERVICE_PORT:-8050}" \
        --preload --workers "${WEB_WORKERS:-2}" --worker-class gthread --threads "${WEB_THREADS:-8}" \
        --timeout 120 --graceful-timeout 10 --no-control-socket \
        --access-logfile - --access-logformat '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms' \
        "$@"
    ;;
worker)
    if [ -z "${REDIS_URL:-}" ]; then
        echo "The Celery worker needs REDIS_URL (the Redis that holds its queue and results)." >&2
        exit 2
    fi
    exec .venv/bin/celery --app wsgi:celery worker --concurrency "${CELERY_CONCURRENCY:-2}" --loglevel INFO "$@"
    ;;
*)
    echo "usage: scripts/serve.sh [web|worker] [options for gunicorn or celery]" >&2
    exit 2
    ;;
esac
