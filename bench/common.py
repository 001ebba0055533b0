"""What both benchmarks share: the data folder, the servers as child processes, and the timing loop."""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import requests

from imageservice.server.catalog import load_services
from imageservice.server.sampledata import ensure_sample_data

REPO_ROOT = Path(__file__).resolve().parent.parent
MOSAIC_SERVICE = "SampleMultispectral"
SCENE_SERVICE = "BenchScene"  # one scene of the mosaic as its own single-raster service
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 60.0
CLIENTS = (1, 2)  # sequential, then 2 concurrent clients (the machine's 2 cores)
RUN_SCRIPT = REPO_ROOT / "scripts" / "run.sh"
# TiTiler lives in a virtual environment of its own (README.md, "TiTiler"), not in the project's extras.
TITILER_VENV = REPO_ROOT / ".venv-titiler"

T = TypeVar("T")


def prepare_data(root: Path, size: int) -> Path:
    """Sample data in `root`, plus one mosaic scene copied into its own service folder, so the
    embedded server and TiTiler read the very same GeoTIFF. Returns that GeoTIFF."""
    ensure_sample_data(root, size=size)
    scene = load_services(root)[MOSAIC_SERVICE].items[0].path
    target = root / SCENE_SERVICE / scene.name
    if not target.exists():
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(scene, target)
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def titiler_python() -> str:
    """The Python that runs TiTiler: the bench's own TiTiler environment when it exists."""
    python = TITILER_VENV / "bin" / "python"
    return str(python) if python.exists() else sys.executable


def titiler_version() -> str:
    return subprocess.run([titiler_python(), "-c", "import titiler.core; print(titiler.core.__version__)"],
                          capture_output=True, text=True, check=True).stdout.strip()


@contextmanager
def running(*command: str, probe_path: str) -> Iterator[str]:
    """Start `python -m bench.servers <command> <port>` with titiler_python() and yield its base URL
    once `probe_path` answers."""
    port = free_port()
    with serving([titiler_python(), "-m", "bench.servers", *command, str(port)], port, probe_path) as base:
        yield base


@contextmanager
def readme_server(data_root: Path) -> Iterator[str]:
    """The embedded ImageServer as the README runs it: `scripts/run.sh --port P --data-dir DIR`
    (the dashboard under waitress, the ImageServer at /arcgis). Yields its base URL."""
    port = free_port()
    command = [str(RUN_SCRIPT), "--port", str(port), "--data-dir", str(data_root)]
    with serving(command, port, "/arcgis/rest/services?f=json") as base:
        yield base


def server_pid(base: str) -> int:
    """The pid of the process listening on `base`'s port (for its memory)."""
    import psutil

    port = int(base.rsplit(":", 1)[1])
    return next(c.pid for c in psutil.net_connections("tcp") if c.laddr.port == port and c.status == "LISTEN")


@contextmanager
def serving(command: list[str], port: int, probe_path: str) -> Iterator[str]:
    """Run `command` (a server on `port`) until the block ends; yields its base URL once
    `probe_path` answers."""
    process = subprocess.Popen(command, cwd=REPO_ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server {command[0]} exited with {process.returncode}")
            try:
                requests.get(base + probe_path, timeout=5).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


class HttpGetter:
    """GET with one keep-alive session per client thread; returns the body of a 200 answer."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, url: str) -> bytes:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        response = session.get(url, timeout=REQUEST_TIMEOUT)
        response.raise_for_status()
        return response.content


@dataclass(frozen=True)
class Timing:
    name: str
    clients: int
    requests: int
    wall_seconds: float
    latencies: tuple[float, ...]
    mean_bytes: float | None  # mean answer size when the target returns its byte count
    round_rates: tuple[float, ...] = ()  # requests per second of each timed round, in order

    @property
    def per_second(self) -> float:
        return self.requests / self.wall_seconds

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.latencies)

    @property
    def p95_ms(self) -> float:
        return 1000 * float(np.percentile(self.latencies, 95))


def compare(targets: Mapping[str, Callable[[T], object]], jobs: Sequence[T], *, rounds: int,
            clients: int) -> list[Timing]:
    """Time every target over all jobs `rounds` times with `clients` concurrent callers, after one
    untimed warm-up pass each. Targets take turns round by round, so background load on a shared
    machine falls on all of them alike."""
    for call in targets.values():
        for job in jobs:
            call(job)
    walls: dict[str, list[float]] = {name: [] for name in targets}
    runs: dict[str, list[tuple[float, object]]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, call in targets.items():
            def timed(job: T, call: Callable[[T], object] = call) -> tuple[float, object]:
                start = time.perf_counter()
                result = call(job)
                return time.perf_counter() - start, result

            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=clients) as pool:
                runs[name].extend(pool.map(timed, jobs))
            walls[name].append(time.perf_counter() - start)
    timings = []
    for name, done in runs.items():
        sizes = [result for _, result in done if isinstance(result, int)]
        mean_bytes = statistics.mean(sizes) if len(sizes) == len(done) else None
        timings.append(Timing(name, clients, len(done), sum(walls[name]), tuple(t for t, _ in done), mean_bytes,
                              tuple(len(jobs) / wall for wall in walls[name])))
    return timings


def table(timings: Sequence[Timing]) -> str:
    """A Markdown table of the timings."""
    lines = ["| target | clients | requests | req/s | median ms | p95 ms | mean KiB | req/s of each round |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for t in timings:
        size = "-" if t.mean_bytes is None else f"{t.mean_bytes / 1024:.0f}"
        rounds = ", ".join(f"{rate:.1f}" for rate in t.round_rates)
        lines.append(f"| {t.name} | {t.clients} | {t.requests} | {t.per_second:.1f} | {t.median_ms:.1f} "
                     f"| {t.p95_ms:.1f} | {size} | {rounds} |")
    return "\n".join(lines)


def ratio_lines(timings: Sequence[Timing], ours: str, theirs: str) -> list[str]:
    """`ours / theirs` requests-per-second ratio for each client count measured for both."""
    by_key = {(t.name, t.clients): t for t in timings}
    lines = []
    for clients in sorted({t.clients for t in timings}):
        mine, other = by_key.get((ours, clients)), by_key.get((theirs, clients))
        if mine and other:
            per_round = ", ".join(f"{a / b:.2f}" for a, b in zip(mine.round_rates, other.round_rates))
            lines.append(f"- {clients} client(s): {ours} / {theirs} = **{mine.per_second / other.per_second:.2f}** "
                         f"(round by round: {per_round})")
    return lines


@contextmanager
def checkouts(peer: str | None) -> Iterator[dict[str, Path]]:
    """This checkout, and with `peer` that git commit in a temporary worktree, by label; the
    benchmarks that compare generators or startups run each from its own source folder."""
    sources = {"checkout": REPO_ROOT}
    with tempfile.TemporaryDirectory() as temp:
        if peer:
            sources[peer] = Path(temp) / "peer"
            subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "add", "--detach", str(sources[peer]), peer],
                           check=True, capture_output=True)
        try:
            yield sources
        finally:
            if peer:
                subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "remove", "--force", str(sources[peer])],
                               check=False, capture_output=True)
