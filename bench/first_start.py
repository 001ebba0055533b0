"""A new user's first start: the README's dashboard on an empty data folder, to the first image.

Each round starts `app.py` as `scripts/run.sh` does (same environment; the interpreter of this
checkout's .venv, so a peer commit needs no environment of its own) on a fresh empty data folder,
with a headless Chromium already open, and times from the launch to:
- page: the dashboard's page answering (the sample data generated and loaded);
- image: the first exportImage picture on the page's map (the page loaded in the browser).
With `--peer REF` the dashboard at another git commit runs too, taking turns round by round.

    .venv/bin/python -m bench.first_start --rounds 3
    .venv/bin/python -m bench.first_start --rounds 3 --peer b938642
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from selenium.webdriver.support.ui import WebDriverWait

from .common import checkouts, free_port
from .hosting import chromium

START_SECONDS = 300                      # a loaded machine took 110 s before this work
RUN_ENV = {"MALLOC_ARENA_MAX": "2", "GDAL_CACHEMAX": "256"}     # as scripts/run.sh sets them
# An exportImage picture loaded into the page and not hidden (the layer may sit in a pane of its own).
SHOWN = """return [...document.querySelectorAll('img')].some((img) => img.src.includes('/exportImage')
    && img.complete && img.naturalWidth > 0 && parseFloat(getComputedStyle(img).opacity) > 0);"""


def wait_for_page(base: str, process: subprocess.Popen, deadline: float) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the dashboard exited with {process.returncode}")
        try:
            if requests.get(base + "/", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the dashboard did not answer")
        time.sleep(0.1)


def first_start(source: Path) -> dict:
    """Seconds from launching the dashboard on an empty data folder to its page, and to its first picture."""
    driver = chromium()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as data:
        launched = time.monotonic()
        process = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--data-dir", data], cwd=source,
                                   env={**os.environ, **RUN_ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_page(base, process, launched + START_SECONDS)
            page = time.monotonic() - launched
            driver.get(base + "/")
            WebDriverWait(driver, START_SECONDS, poll_frequency=0.1).until(lambda d: d.execute_script(SHOWN))
            image = time.monotonic() - launched
        finally:
            process.terminate()
            process.wait(timeout=30)
            driver.quit()
    return {"page": page, "image": image, "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peer", help="a git commit whose dashboard runs too, for comparison")
    args = parser.parse_args()
    with checkouts(args.peer) as sources:
        results: dict[str, list[dict]] = {name: [] for name in sources}
        for _ in range(args.rounds):
            for name, source in sources.items():
                results[name].append(first_start(source))
                run = results[name][-1]
                print(f"{name}: page {run['page']:.1f} s, first image {run['image']:.1f} s "
                      f"(load average {run['load']:.1f})", flush=True)
    for name, runs in results.items():
        print(f"{name}: median page {statistics.median(r['page'] for r in runs):.1f} s, "
              f"median first image {statistics.median(r['image'] for r in runs):.1f} s over {len(runs)} runs")


if __name__ == "__main__":
    main()
