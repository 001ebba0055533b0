"""The team-hosting stack as child processes on 127.0.0.1, exactly as `scripts/serve.sh` runs it:
gunicorn, and with Celery also redis-server and a Celery worker. Shared by the hosting test and the
load and browser benchmarks; plus headless Chromium with the test suite's flags.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from .common import REPO_ROOT, free_port

SERVE = REPO_ROOT / "scripts" / "serve.sh"
START_SECONDS = 120  # a cold start generates no data here, but imports are slow on a busy machine
STOP_SECONDS = 20


@dataclass(frozen=True)
class Stack:
    url: str
    web: subprocess.Popen
    worker: subprocess.Popen | None
    logs: Path

    def log(self, name: str) -> str:
        """What a process (web, worker, redis) has written so far."""
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def web_workers(self) -> list[psutil.Process]:
        return psutil.Process(self.web.pid).children()


def has_redis() -> bool:
    return shutil.which("redis-server") is not None


@contextmanager
def production_stack(data_dir: Path, logs: Path, *, celery: bool, workers: int = 2, threads: int = 8,
                     concurrency: int = 1) -> Iterator[Stack]:
    """gunicorn (`workers` x `threads`) over `data_dir`; with `celery`, background callbacks on a
    Celery worker (`concurrency` processes) and a private, unsaved redis-server. Logs go to
    `logs/{web,worker,redis}.log`. On exit everything is stopped, and leftovers are an error."""
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "SERVE_SKIP_SETUP": "1", "IMAGESERVICE_DATA_DIR": str(data_dir),
           "IMAGESERVICE_HOST": "127.0.0.1", "IMAGESERVICE_PORT": str(port), "WEB_WORKERS": str(workers),
           "WEB_THREADS": str(threads), "CELERY_CONCURRENCY": str(concurrency),
           "IMAGESERVICE_CALLBACK_CACHE": str(logs / "callbacks")}
    env.pop("REDIS_URL", None)
    with ExitStack() as started:
        worker = None
        if celery:
            redis_port = free_port()
            started.enter_context(child(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no", "--dir", str(logs)], env, logs / "redis.log"))
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            worker = started.enter_context(child([str(SERVE), "worker"], env, logs / "worker.log"))
        web = started.enter_context(child([str(SERVE)], env, logs / "web.log"))
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/", web, logs / "web.log")
        yield Stack(url, web, worker, logs)


@contextmanager
def run_script(data_dir: Path, logs: Path) -> Iterator[Stack]:
    """The dashboard as the README starts it, `scripts/run.sh --port P --data-dir DIR`, logging to
    `logs/web.log`; stopped on exit."""
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [str(REPO_ROOT / "scripts" / "run.sh"), "--port", str(port), "--data-dir", str(data_dir)]
    with child(command, dict(os.environ), logs / "web.log") as web:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/", web, logs / "web.log")
        yield Stack(url, web, None, logs)


@contextmanager
def child(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A child process in a session of its own, so that stopping it can find all it started."""
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        left = stop(process)
        if left:
            raise RuntimeError(f"{command[0]} left processes running: {left}")


def stop(process: subprocess.Popen) -> list[int]:
    """SIGTERM (gunicorn and Celery stop their children gracefully), SIGKILL to the whole session
    after STOP_SECONDS; returns the pids of the session still alive afterwards (none expected)."""
    session = process.pid
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(session, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)
    deadline = time.monotonic() + 10
    while True:
        alive = [p.pid for p in psutil.process_iter(["status"])
                 if _session(p.pid) == session and p.info["status"] != psutil.STATUS_ZOMBIE]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=5).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {START_SECONDS} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


def chromium(*, network_log: bool = False):
    """Headless Debian Chromium with the test suite's flags (tests/conftest.py); `network_log`
    records the DevTools network events, read with `driver.get_log("performance")`."""
    from selenium import webdriver

    from tests.conftest import pytest_setup_options

    options = pytest_setup_options()
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(options=options)
